//! Slows down password guessing: failures are counted per username and per
//! client address; past a threshold, attempts are refused for a time that
//! doubles with each further failure. Per process; a cluster multiplies the budget.

use std::collections::HashMap;
use std::sync::Mutex;

use tollgate_core::env::UnixTime;

/// Failures remembered this long after the last one.
const WINDOW: i64 = 15 * 60;
const FREE_USER_FAILURES: u32 = 5;
const FREE_ADDRESS_FAILURES: u32 = 20;
const MAX_LOCK: i64 = 15 * 60;
/// Above this many entries, forgotten ones are swept out.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, UnixTime)>>,
}

impl LoginThrottle {
    /// `Err(seconds)` while either key is locked.
    pub fn check(&self, username: &str, address: &str, now: UnixTime) -> Result<(), i64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let wait = |key: String, free: u32| match map.get(&key) {
            Some(&(count, last)) if count >= free && now - last < WINDOW => {
                let lock = (30i64 << (count - free).min(10)).min(MAX_LOCK);
                (last + lock - now).max(0)
            }
            _ => 0,
        };
        let seconds = wait(user_key(username), FREE_USER_FAILURES)
            .max(wait(address_key(address), FREE_ADDRESS_FAILURES));
        if seconds > 0 { Err(seconds) } else { Ok(()) }
    }

    /// Counts an attempt before its password is checked, so parallel guesses
    /// cannot outrun the limit; [`LoginThrottle::succeeded`] takes it back.
    pub fn attempt(&self, username: &str, address: &str, now: UnixTime) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > SWEEP_AT {
            map.retain(|_, (_, last)| now - *last < WINDOW);
        }
        for key in [user_key(username), address_key(address)] {
            let entry = map.entry(key).or_insert((0, now));
            if now - entry.1 >= WINDOW {
                entry.0 = 0;
            }
            *entry = (entry.0 + 1, now);
        }
    }

    /// A success clears the username's count and takes back its one attempt
    /// from the address (not more: one right password must not reset a spray
    /// across many accounts).
    pub fn succeeded(&self, username: &str, address: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&user_key(username));
        if let Some(entry) = map.get_mut(&address_key(address)) {
            entry.0 = entry.0.saturating_sub(1);
        }
    }
}

fn user_key(username: &str) -> String {
    format!("u:{}", username.to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("a:{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_a_username_after_five_failures_and_doubles() {
        let t = LoginThrottle::default();
        for _ in 0..5 {
            assert_eq!(t.check("alice", "1.1.1.1", 100), Ok(()));
            t.attempt("alice", "1.1.1.1", 100);
        }
        assert_eq!(
            t.check("Alice", "2.2.2.2", 100),
            Err(30),
            "per username, case-insensitive"
        );
        assert_eq!(
            t.check("bob", "1.1.1.1", 100),
            Ok(()),
            "the address has budget left"
        );
        assert_eq!(t.check("alice", "1.1.1.1", 131), Ok(()));
        t.attempt("alice", "1.1.1.1", 131);
        assert_eq!(t.check("alice", "1.1.1.1", 131), Err(60));
        t.succeeded("alice", "1.1.1.1");
        assert_eq!(t.check("alice", "1.1.1.1", 131), Ok(()));
    }

    #[test]
    fn a_success_gives_back_only_its_own_attempt() {
        let t = LoginThrottle::default();
        for i in 0..19 {
            t.attempt(&format!("user{i}"), "6.6.6.6", 100);
        }
        t.attempt("me", "6.6.6.6", 100);
        t.succeeded("me", "6.6.6.6");
        assert_eq!(
            t.check("other", "6.6.6.6", 100),
            Ok(()),
            "19 failures: still under 20"
        );
        t.attempt("x", "6.6.6.6", 100);
        assert!(t.check("other", "6.6.6.6", 100).is_err());
    }

    #[test]
    fn locks_an_address_spraying_many_usernames() {
        let t = LoginThrottle::default();
        for i in 0..20 {
            t.attempt(&format!("user{i}"), "6.6.6.6", 100);
        }
        assert!(t.check("someone-new", "6.6.6.6", 100).is_err());
        assert_eq!(t.check("someone-new", "7.7.7.7", 100), Ok(()));
    }

    #[test]
    fn failures_are_forgotten_after_the_window() {
        let t = LoginThrottle::default();
        for _ in 0..9 {
            t.attempt("carol", "1.1.1.1", 100);
        }
        assert!(t.check("carol", "1.1.1.1", 100).is_err());
        assert_eq!(t.check("carol", "1.1.1.1", 100 + WINDOW), Ok(()));
    }
}
