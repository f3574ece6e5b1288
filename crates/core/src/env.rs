//! The two things from the outside world the protocol needs: time and randomness.

/// Seconds since the Unix epoch. Every expiry in Tollgate is one of these.
pub type UnixTime = i64;

/// The current time, read through a trait so tests can fix it ([`FixedClock`]).
pub trait Clock: Send + Sync {
    /// Now, in Unix seconds.
    fn now(&self) -> UnixTime;
}

/// A cryptographically secure source of random bytes (the OS, in production).
pub trait Entropy: Send + Sync {
    /// Fills all of `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]);
}

/// A clock that stands still, for tests and for replaying a decision.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub UnixTime);

impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        self.0
    }
}
