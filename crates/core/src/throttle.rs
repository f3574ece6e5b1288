//! When password and secret guessing is slowed down or refused, from the
//! failures of the last [`WINDOW`] seconds. Three counts, each with its own rule:
//!
//! - the same subject (a username, a client, a user's device codes) from the
//!   same address: a hard lock, doubling, after [`Policy::pair_free`] failures.
//!   It locks out only whoever is failing from there;
//! - the subject from anywhere: growing delays, capped short, after
//!   [`Policy::subject_free`] failures, and only for addresses the subject has not
//!   succeeded from before. A targeted attack slows guessing from everywhere
//!   without locking the user out of their usual places;
//! - the address for every subject: a lock after [`Policy::address_free`]
//!   failures. A success forgives its own subject's failures from its address,
//!   so many users' ordinary mistakes cannot add up to it; a spray of made-up
//!   usernames does.
//!
//! Failures age out one by one: a success, or an attempt, restamps nothing.

use crate::env::UnixTime;

/// How long a failure counts.
pub const WINDOW: i64 = 15 * 60;
/// The longest hard lock.
const MAX_LOCK: i64 = 15 * 60;
/// The first hard lock; each further failure doubles it.
const FIRST_LOCK: i64 = 30;
/// The longest delay a subject's failures impose on an unfamiliar address.
const MAX_DELAY: i64 = 60;

/// Failures that count now, for one kind of key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// How many failures happened within the last [`WINDOW`] seconds.
    pub count: u32,
    /// When the latest of them happened.
    pub last: Option<UnixTime>,
}

/// The failures an attempt is judged by (its own not included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    /// This subject from this address.
    pub pair: Tally,
    /// This subject from any address.
    pub subject: Tally,
    /// Any subject from this address; `None` when the address is unknown, so
    /// that requests without one never share a bucket.
    pub address: Option<Tally>,
    /// The subject has succeeded from this address before.
    pub familiar: bool,
}

/// How many failures each count allows before it slows attempts down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures of one subject from one address before it is locked there.
    pub pair_free: u32,
    /// `None`: no subject-wide delays (clients, whose guessers are machines at one address).
    pub subject_free: Option<u32>,
    /// Failures from one address, over every subject, before the address is locked.
    pub address_free: u32,
}

impl Policy {
    /// Sign-in and the password grant.
    pub const SIGN_IN: Policy = Policy {
        pair_free: 5,
        subject_free: Some(10),
        address_free: 100,
    };
    /// Client secrets at the token, revocation and introspection endpoints.
    pub const CLIENT_SECRET: Policy = Policy {
        pair_free: 10,
        subject_free: None,
        address_free: 100,
    };
    /// A signed-in user's typed device codes.
    pub const DEVICE_CODE: Policy = Policy {
        pair_free: 5,
        subject_free: None,
        address_free: 100,
    };

    /// `Err(seconds)` to wait before the next attempt counts, or `Ok` to try now.
    pub fn check(&self, failures: &Failures, now: UnixTime) -> Result<(), i64> {
        let lock = |tally: &Tally, free: u32| match tally.last {
            Some(last) if tally.count >= free => {
                let lock = (FIRST_LOCK << (tally.count - free).min(10)).min(MAX_LOCK);
                (last + lock - now).max(0)
            }
            _ => 0,
        };
        let delay = match self.subject_free {
            Some(free) if !failures.familiar => match failures.subject.last {
                Some(last) if failures.subject.count >= free => {
                    let delay = (1i64 << (failures.subject.count - free).min(10)).min(MAX_DELAY);
                    (last + delay - now).max(0)
                }
                _ => 0,
            },
            _ => 0,
        };
        let address = failures
            .address
            .as_ref()
            .map_or(0, |tally| lock(tally, self.address_free));
        let wait = lock(&failures.pair, self.pair_free).max(delay).max(address);
        if wait > 0 { Err(wait) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(count: u32, last: UnixTime) -> Tally {
        Tally {
            count,
            last: Some(last),
        }
    }

    #[test]
    fn the_pair_locks_after_its_free_failures_and_doubles() {
        let p = Policy::SIGN_IN;
        let mut f = Failures {
            pair: tally(4, 100),
            subject: tally(4, 100),
            ..Failures::default()
        };
        assert_eq!(p.check(&f, 100), Ok(()));
        f.pair = tally(5, 100);
        assert_eq!(p.check(&f, 100), Err(30));
        assert_eq!(p.check(&f, 130), Ok(()), "the lock runs out");
        f.pair = tally(6, 130);
        assert_eq!(p.check(&f, 130), Err(60));
        f.pair = tally(40, 130);
        assert_eq!(p.check(&f, 130), Err(MAX_LOCK));
    }

    #[test]
    fn the_subject_from_elsewhere_slows_unfamiliar_addresses_only() {
        let p = Policy::SIGN_IN;
        let mut f = Failures {
            subject: tally(12, 100),
            ..Failures::default()
        };
        assert_eq!(p.check(&f, 100), Err(4));
        f.subject = tally(30, 100);
        assert_eq!(
            p.check(&f, 100),
            Err(MAX_DELAY),
            "short, whatever the count"
        );
        f.familiar = true;
        assert_eq!(p.check(&f, 100), Ok(()), "the user's own places stay open");
        assert_eq!(
            Policy::CLIENT_SECRET.check(
                &Failures {
                    subject: tally(30, 100),
                    ..Failures::default()
                },
                100
            ),
            Ok(())
        );
    }

    #[test]
    fn the_address_locks_only_past_its_own_limit() {
        let p = Policy::SIGN_IN;
        let mut f = Failures {
            address: Some(tally(99, 100)),
            ..Failures::default()
        };
        assert_eq!(p.check(&f, 100), Ok(()));
        f.address = Some(tally(100, 100));
        assert_eq!(p.check(&f, 100), Err(30));
        f.address = None;
        assert_eq!(p.check(&f, 100), Ok(()), "no address, no shared bucket");
    }

    #[test]
    fn no_failures_no_wait() {
        for p in [Policy::SIGN_IN, Policy::CLIENT_SECRET, Policy::DEVICE_CODE] {
            assert_eq!(p.check(&Failures::default(), 0), Ok(()));
        }
    }
}
