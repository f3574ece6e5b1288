//! Signing keys: generated with aws-lc-rs, stored as PKCS#8 PEM with their
//! public JWK, named by their RFC 7638 thumbprint.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use tollgate_core::SigningAlgorithm;
use tollgate_core::env::Clock;
use tollgate_core::model::{NewSigningKey, SigningKey};
use tollgate_store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed")]
    Generation,
    #[error("{0} keys cannot be generated yet; RS256 can")]
    Unsupported(SigningAlgorithm),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new RSA-2048 key for RS256, ready to store.
pub fn generate_rs256(active: bool) -> Result<NewSigningKey, KeyError> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generation)?;
    let pkcs8 = pair.as_der().map_err(|_| KeyError::Generation)?;
    let public = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
    let (n, e) = (
        URL_SAFE_NO_PAD.encode(&public.n),
        URL_SAFE_NO_PAD.encode(&public.e),
    );
    // RFC 7638 §3.2: the required members, in lexicographic order, no whitespace.
    let thumbprint_input = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(thumbprint_input.as_bytes()));
    let public_jwk = serde_json::json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e,
    })
    .to_string();
    Ok(NewSigningKey {
        kid,
        algorithm: SigningAlgorithm::RS256,
        private_key_pem: pem("PRIVATE KEY", pkcs8.as_ref()),
        public_jwk,
        active,
    })
}

pub fn generate(algorithm: SigningAlgorithm, active: bool) -> Result<NewSigningKey, KeyError> {
    match algorithm {
        SigningAlgorithm::RS256 => generate_rs256(active),
        other => Err(KeyError::Unsupported(other)),
    }
}

/// On first start, makes the key new tokens will be signed with. Returns the
/// active key, new or existing.
pub async fn ensure_signing_key(store: &Store, clock: &dyn Clock) -> Result<SigningKey, KeyError> {
    if let Some(active) = store.signing_keys().await?.into_iter().find(|k| k.active) {
        return Ok(active);
    }
    let new = tokio::task::spawn_blocking(|| generate_rs256(true))
        .await
        .map_err(|_| KeyError::Generation)??;
    let now = clock.now();
    match store.insert_signing_key(&new, now, now).await {
        Ok(key) => Ok(key),
        // Another process sharing the database made one first: use theirs.
        Err(StoreError::Conflict { .. }) => store
            .signing_keys()
            .await?
            .into_iter()
            .find(|k| k.active)
            .ok_or(KeyError::Generation),
        Err(e) => Err(e.into()),
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rs256_key_has_thumbprint_kid_and_no_private_parts_in_jwk() {
        let key = generate_rs256(true).unwrap();
        assert!(
            key.private_key_pem
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
        let jwk: serde_json::Value = serde_json::from_str(&key.public_jwk).unwrap();
        assert_eq!(jwk["kid"], key.kid.as_str());
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["e"], "AQAB");
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), 256, "2048-bit modulus");
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                jwk.get(private).is_none(),
                "{private} must not be published"
            );
        }
        // The kid is the thumbprint recomputed from the published members.
        let input = format!(
            r#"{{"e":"AQAB","kty":"RSA","n":"{}"}}"#,
            jwk["n"].as_str().unwrap()
        );
        assert_eq!(
            key.kid,
            URL_SAFE_NO_PAD.encode(Sha256::digest(input.as_bytes()))
        );
        // And the stored private key parses back.
        let der = STANDARD
            .decode(
                key.private_key_pem
                    .lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect::<String>(),
            )
            .unwrap();
        assert!(KeyPair::from_pkcs8(&der).is_ok());
    }

    #[test]
    fn two_keys_differ() {
        assert_ne!(
            generate_rs256(true).unwrap().kid,
            generate_rs256(true).unwrap().kid
        );
    }
}
