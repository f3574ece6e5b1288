//! The real clock and the operating system's randomness, behind the core's traits.

use std::time::{SystemTime, UNIX_EPOCH};

use tollgate_core::env::{Clock, Entropy, UnixTime};

/// The system's clock, in Unix seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
    }
}

/// The operating system's randomness.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, dest: &mut [u8]) {
        // Without OS randomness no secret can be issued safely: stopping is the only option.
        getrandom::fill(dest).expect("the operating system's random number generator failed");
    }
}
