//! Bearer secrets (tokens, codes, client secrets, session ids): generated from
//! 256 random bits, handed out once, and kept only as a SHA-256 hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::env::Entropy;

/// What a secret is for. The prefix lets secret scanners recognise a leaked one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// An opaque access token (`tga_`).
    AccessToken,
    /// A refresh token (`tgr_`).
    RefreshToken,
    /// An authorization code (`tgc_`).
    AuthorizationCode,
    /// A generated client secret (`tgs_`).
    ClientSecret,
    /// A browser session's cookie value (`tgx_`).
    Session,
    /// An RFC 8628 `device_code` (`tgd_`); the user code is made apart.
    DeviceCode,
    /// An RFC 7592 registration access token (`tgm_`).
    RegistrationToken,
    /// The random part of an RFC 9126 `request_uri` (`tgp_`).
    PushedRequest,
}

impl SecretKind {
    /// The four characters every secret of this kind starts with.
    pub fn prefix(self) -> &'static str {
        match self {
            SecretKind::AccessToken => "tga_",
            SecretKind::RefreshToken => "tgr_",
            SecretKind::AuthorizationCode => "tgc_",
            SecretKind::ClientSecret => "tgs_",
            SecretKind::Session => "tgx_",
            SecretKind::DeviceCode => "tgd_",
            SecretKind::RegistrationToken => "tgm_",
            SecretKind::PushedRequest => "tgp_",
        }
    }
}

/// Number of random bytes in every generated secret (256 bits).
pub const SECRET_BYTES: usize = 32;

/// SHA-256 of a secret's full text: what the database stores and indexes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash(pub [u8; 32]);

impl SecretHash {
    /// The hash of a presented secret, to look it up by.
    pub fn of(plaintext: &str) -> Self {
        SecretHash(Sha256::digest(plaintext.as_bytes()).into())
    }

    /// Compares in constant time, so response timing says nothing about the secret.
    pub fn matches(&self, plaintext: &str) -> bool {
        Self::of(plaintext).0.ct_eq(&self.0).into()
    }

    /// The 32 bytes, as the database stores them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// From stored bytes; `None` unless exactly 32.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(SecretHash)
    }

    /// 64 lowercase hex digits; [`from_hex`](Self::from_hex) reads them back.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// Parses 64 hex digits; anything else is `None`.
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(SecretHash(out))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

/// A freshly generated secret: the text to hand out once, and the hash to store.
pub struct NewSecret {
    /// The secret to hand out once: the kind's prefix, then 43 base64url characters.
    pub plaintext: String,
    /// Its SHA-256, to store.
    pub hash: SecretHash,
}

impl NewSecret {
    /// A new secret of `kind` from [`SECRET_BYTES`] random bytes.
    pub fn generate(kind: SecretKind, entropy: &dyn Entropy) -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        entropy.fill(&mut bytes);
        let plaintext = format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(bytes));
        let hash = SecretHash::of(&plaintext);
        NewSecret { plaintext, hash }
    }
}

impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewSecret(..)")
    }
}

/// A random identifier that is not a secret (client ids, token family ids, jti):
/// `bytes` random bytes as lowercase hex.
pub fn random_id(bytes: usize, entropy: &dyn Entropy) -> String {
    let mut buf = vec![0u8; bytes];
    entropy.fill(&mut buf);
    hex(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(std::sync::atomic::AtomicU8);
    impl Entropy for Counter {
        fn fill(&self, dest: &mut [u8]) {
            let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            dest.fill(n);
        }
    }

    #[test]
    fn generated_secret_has_prefix_and_256_bits() {
        let e = Counter(0.into());
        let s = NewSecret::generate(SecretKind::AccessToken, &e);
        assert!(s.plaintext.starts_with("tga_"));
        let body = &s.plaintext[4..];
        assert_eq!(URL_SAFE_NO_PAD.decode(body).unwrap().len(), 32);
        assert_eq!(s.hash, SecretHash::of(&s.plaintext));
    }

    #[test]
    fn secrets_from_different_entropy_differ() {
        let e = Counter(0.into());
        let a = NewSecret::generate(SecretKind::RefreshToken, &e);
        let b = NewSecret::generate(SecretKind::RefreshToken, &e);
        assert_ne!(a.plaintext, b.plaintext);
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn hash_matches_only_its_secret() {
        let h = SecretHash::of("tgs_abc");
        assert!(h.matches("tgs_abc"));
        assert!(!h.matches("tgs_abd"));
        assert!(!h.matches(""));
    }

    #[test]
    fn debug_never_shows_secret() {
        let e = Counter(7.into());
        let s = NewSecret::generate(SecretKind::ClientSecret, &e);
        assert!(!format!("{s:?}").contains(&s.plaintext[4..]));
    }

    #[test]
    fn hex_round_trip_and_rejects_bad_text() {
        let h = SecretHash::of("x");
        assert_eq!(SecretHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(SecretHash::from_hex("zz"), None);
        assert_eq!(SecretHash::from_hex(&"g".repeat(64)), None);
        assert_eq!(SecretHash::from_hex(&"é".repeat(32)), None);
    }

    #[test]
    fn random_id_is_hex_of_requested_length() {
        let id = random_id(20, &Counter(255.into()));
        assert_eq!(id, "ff".repeat(20));
    }
}
