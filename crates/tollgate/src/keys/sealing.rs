//! Secrets the server must read back (HS256 client secrets, signing keys),
//! sealed with AES-256-GCM under a key derived from the `secret_key` setting.
//! A copy of the database without the configuration reveals neither.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Marks sealed text, with the scheme version, so plain PEM from before stays readable.
const PREFIX: &str = "sealed-v1:";

/// Why a sealed value did not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// The value is sealed and no `secret_key` is configured.
    #[error("the value is sealed, and no secret_key is configured to open it")]
    NoKey,
    /// Not sealed under this key, for this purpose, or damaged.
    #[error("the sealed value does not open with the configured secret_key")]
    Corrupt,
}

/// What a sealed value is, bound into its seal (AES-GCM associated data): a
/// sealed value copied to another row or put to another use does not open.
#[derive(Debug, Clone, Copy)]
pub enum Purpose<'a> {
    /// The private part of the signing key with this kid.
    SigningKey(&'a str),
    /// The secret of the client with this client_id.
    ClientSecret(&'a str),
}

impl Purpose<'_> {
    fn associated_data(self) -> String {
        match self {
            Purpose::SigningKey(kid) => format!("signing key {kid}"),
            Purpose::ClientSecret(client_id) => format!("client secret {client_id}"),
        }
    }
}

/// The server's sealing key. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct Sealer {
    key: [u8; 32],
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// Derives the AES key from the configured secret (at least 32 characters,
    /// checked by the settings), with a label so the secret serves nothing else by accident.
    pub fn new(secret_key: &str) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"tollgate sealing key v1\0");
        hash.update(secret_key.as_bytes());
        Sealer {
            key: hash.finalize().into(),
        }
    }

    /// `plaintext` sealed for `purpose`: `sealed-v1:` and base64 of nonce and ciphertext.
    pub fn seal(&self, plaintext: &str, purpose: Purpose<'_>) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the operating system provides randomness");
        let mut data = plaintext.as_bytes().to_vec();
        self.cipher()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(purpose.associated_data().as_bytes()),
                &mut data,
            )
            .expect("AES-GCM sealing does not fail for in-memory data");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    fn open(&self, sealed: &str, purpose: Purpose<'_>) -> Result<String, SealError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| SealError::Corrupt)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Corrupt);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Corrupt)?;
        let mut data = ciphertext.to_vec();
        let plain = self
            .cipher()
            .open_in_place(
                nonce,
                Aad::from(purpose.associated_data().as_bytes()),
                &mut data,
            )
            .map_err(|_| SealError::Corrupt)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError::Corrupt)
    }

    fn cipher(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.key).expect("a 256-bit key"))
    }
}

/// Seals when a key is configured; otherwise stores as it is.
pub fn seal_if_configured(
    sealer: Option<&Sealer>,
    plaintext: &str,
    purpose: Purpose<'_>,
) -> String {
    sealer.map_or_else(|| plaintext.to_owned(), |s| s.seal(plaintext, purpose))
}

/// Opens sealed text, or returns unsealed text (stored before a key was configured) as it is.
pub fn open_stored(
    sealer: Option<&Sealer>,
    stored: &str,
    purpose: Purpose<'_>,
) -> Result<String, SealError> {
    match stored.strip_prefix(PREFIX) {
        None => Ok(stored.to_owned()),
        Some(sealed) => sealer.ok_or(SealError::NoKey)?.open(sealed, purpose),
    }
}

/// The secret of `client`, opened from its sealed copy; `None` when none is
/// kept (only clients that need it read back have one).
pub(crate) fn opened_client_secret(
    sealer: Option<&Sealer>,
    client: &tollgate_core::model::Application,
) -> Option<Result<String, SealError>> {
    let sealed = client.client_secret_sealed.as_deref()?;
    Some(open_stored(
        sealer,
        sealed,
        Purpose::ClientSecret(&client.client_id),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_with_the_same_key_and_purpose() {
        let sealer = Sealer::new("a secret key of at least thirty-two characters");
        let web = Purpose::ClientSecret("web");
        let sealed = sealer.seal("tgs_client_secret", web);
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("tgs_client_secret"));
        assert_ne!(
            sealed,
            sealer.seal("tgs_client_secret", web),
            "a fresh nonce each time"
        );
        assert_eq!(
            open_stored(Some(&sealer), &sealed, web).unwrap(),
            "tgs_client_secret"
        );
        // Another row's or another use's seal does not open here.
        for other in [Purpose::ClientSecret("spa"), Purpose::SigningKey("web")] {
            assert_eq!(
                open_stored(Some(&sealer), &sealed, other),
                Err(SealError::Corrupt)
            );
        }
        let other = Sealer::new("another secret key of thirty-two characters");
        assert_eq!(
            open_stored(Some(&other), &sealed, web),
            Err(SealError::Corrupt)
        );
        assert_eq!(open_stored(None, &sealed, web), Err(SealError::NoKey));
        let mut tampered = sealed.clone().into_bytes();
        let middle = tampered.len() / 2;
        tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(
            open_stored(Some(&sealer), &tampered, web),
            Err(SealError::Corrupt)
        );
        assert_eq!(open_stored(None, "plain", web).unwrap(), "plain");
        assert_eq!(format!("{sealer:?}"), "Sealer(..)");
    }
}
