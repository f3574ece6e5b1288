//! RFC 8628 device authorization: user codes people can read off one screen
//! and type on another, and what each poll of the token endpoint is told.

use crate::env::{Entropy, UnixTime};

/// RFC 8628 §6.1: consonants only (no vowels, so no words; no lookalikes such
/// as 0/O or 1/I), upper case. 20^8 ≈ 2^34.6 codes.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Characters in a user code, without the dash it is shown with.
pub const USER_CODE_LENGTH: usize = 8;

/// A new user code, 8 characters from the alphabet, uniformly drawn.
pub fn generate_user_code(entropy: &dyn Entropy) -> String {
    let mut code = String::with_capacity(USER_CODE_LENGTH);
    let mut byte = [0u8; 1];
    while code.len() < USER_CODE_LENGTH {
        entropy.fill(&mut byte);
        // 240 is the largest multiple of 20 under 256: rejecting the rest keeps it uniform.
        if byte[0] < 240 {
            code.push(char::from(USER_CODE_ALPHABET[usize::from(byte[0] % 20)]));
        }
    }
    code
}

/// `XXXX-XXXX`, as people are shown it.
pub fn display_user_code(code: &str) -> String {
    let (a, b) = code.split_at(code.len() / 2);
    format!("{a}-{b}")
}

/// A typed code as stored: upper case, without the dash and spaces people add;
/// `None` when it cannot be a user code at all.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LENGTH && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)))
        .then_some(code)
}

/// Where a device authorization stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the user to approve or deny it.
    Pending,
    /// The user approved it; the next poll gets the tokens.
    Approved,
    /// The user denied it; polls get `access_denied`.
    Denied,
    /// Approved, and its tokens issued: a device code yields tokens once.
    Used,
}

impl DeviceStatus {
    /// The name stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Pending => "pending",
            DeviceStatus::Approved => "approved",
            DeviceStatus::Denied => "denied",
            DeviceStatus::Used => "used",
        }
    }

    /// Reads a stored name; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        [
            DeviceStatus::Pending,
            DeviceStatus::Approved,
            DeviceStatus::Denied,
            DeviceStatus::Used,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// Seconds added to a device's polling interval at each `slow_down` (RFC 8628 §3.5).
pub const DEVICE_POLL_SLOWDOWN: i64 = 5;

/// What a poll of the token endpoint gets (RFC 8628 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// `authorization_pending`.
    Pending,
    /// `slow_down`: polled sooner than the interval; the interval grows by 5 s.
    SlowDown,
    /// `access_denied`.
    Denied,
    /// `expired_token`.
    Expired,
    /// The tokens.
    Approved,
    /// `invalid_grant`: its tokens were already issued.
    Used,
}

/// The answer to a poll at `now` of a device code in `status`.
pub fn poll(
    status: DeviceStatus,
    expires_at: UnixTime,
    last_polled_at: Option<UnixTime>,
    interval: i64,
    now: UnixTime,
) -> Poll {
    match status {
        DeviceStatus::Used => Poll::Used,
        _ if now >= expires_at => Poll::Expired,
        DeviceStatus::Denied => Poll::Denied,
        DeviceStatus::Approved => Poll::Approved,
        DeviceStatus::Pending if last_polled_at.is_some_and(|t| now - t < interval) => {
            Poll::SlowDown
        }
        DeviceStatus::Pending => Poll::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use std::sync::atomic::{AtomicU8, Ordering};

    /// 250, 31, 68, …: the first byte (over 239) must be skipped.
    struct Bytes(AtomicU8);

    impl Entropy for Bytes {
        fn fill(&self, buf: &mut [u8]) {
            for b in buf {
                *b = self.0.fetch_add(37, Ordering::Relaxed);
            }
        }
    }

    #[test]
    fn user_codes_use_the_alphabet_and_are_shown_grouped() {
        let code = generate_user_code(&Bytes(AtomicU8::new(250)));
        // 31 % 20 = 11 → 'P', 68 % 20 = 8 → 'L': byte 250 was rejected.
        assert!(code.starts_with("PL"), "{code}");
        assert_eq!(code.len(), 8);
        assert!(
            code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)),
            "{code}"
        );
        assert_eq!(display_user_code("BCDFGHJK"), "BCDF-GHJK");
        assert_eq!(
            normalize_user_code(" bcdf-ghjk ").as_deref(),
            Some("BCDFGHJK")
        );
        for bad in ["BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ0", ""] {
            assert_eq!(normalize_user_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn polls_are_answered_in_rfc_8628_order() {
        use DeviceStatus::*;
        let at = |status, last, now| poll(status, 100, last, 5, now);
        assert_eq!(at(Pending, None, 10), Poll::Pending);
        assert_eq!(at(Pending, Some(8), 10), Poll::SlowDown);
        assert_eq!(at(Pending, Some(5), 10), Poll::Pending);
        assert_eq!(
            at(Approved, Some(9), 10),
            Poll::Approved,
            "approval is not held back"
        );
        assert_eq!(at(Denied, None, 10), Poll::Denied);
        assert_eq!(at(Pending, None, 100), Poll::Expired);
        assert_eq!(at(Approved, None, 100), Poll::Expired);
        assert_eq!(at(Used, None, 10), Poll::Used);
        for s in [Pending, Approved, Denied, Used] {
            assert_eq!(DeviceStatus::parse(s.as_str()), Some(s));
        }
    }

    proptest! {
        #[test]
        fn normalizing_never_panics_and_accepts_what_it_shows(text in "\\PC*") {
            if let Some(code) = normalize_user_code(&text) {
                prop_assert_eq!(normalize_user_code(&display_user_code(&code)), Some(code));
            }
        }
    }
}
