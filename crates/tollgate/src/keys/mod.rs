//! Signing keys: generated with aws-lc-rs (RSA-2048, P-256, Ed25519), stored as
//! PKCS#8 PEM (sealed when a `secret_key` is configured) beside their public JWK,
//! named by their RFC 7638 thumbprint, and rotated publish-first.

pub(crate) mod client_keys;
pub mod sealing;
pub(crate) mod signing;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tollgate_core::SigningAlgorithm;
use tollgate_core::env::UnixTime;
use tollgate_core::model::{NewSigningKey, SigningKey};
use tollgate_store::{Store, StoreError};

use crate::keys::sealing::Purpose;

use crate::keys::sealing::Sealer;

use crate::keys::sealing::seal_if_configured;
use crate::settings::Settings;

/// The algorithms Tollgate holds keys for; HS256 signs with each client's secret.
pub const KEY_ALGORITHMS: [SigningAlgorithm; 3] = [
    SigningAlgorithm::RS256,
    SigningAlgorithm::ES256,
    SigningAlgorithm::EdDSA,
];

/// Why a signing key could not be made or stored.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The cryptographic library could not generate the key.
    #[error("key generation failed")]
    Generation,
    /// HS256 signs with each client's secret, not a server key.
    #[error("{0} signs with the client secret; there is no server key to make")]
    NotAKeyAlgorithm(SigningAlgorithm),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A key to import that cannot be read.
    #[error("the key cannot be read: {0}")]
    Unreadable(&'static str),
    /// The stored keys cannot be loaded for signing (sealed under another
    /// `secret_key`, or unreadable).
    #[error("{0}")]
    Unloadable(String),
}

/// A new key pair: private PKCS#8 DER, and the public JWK members that identify it
/// (RFC 7638 §3.2: exactly the required members).
fn key_pair(algorithm: SigningAlgorithm) -> Result<(Vec<u8>, Value), KeyError> {
    let failed = |_| KeyError::Generation;
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    match algorithm {
        SigningAlgorithm::RS256 => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(failed)?;
            let pkcs8 = pair.as_der().map_err(failed)?;
            let public = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
            let required = json!({"e": b64(&public.e), "kty": "RSA", "n": b64(&public.n)});
            Ok((pkcs8.as_ref().to_vec(), required))
        }
        SigningAlgorithm::ES256 => {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(failed)?;
            let pkcs8 = pair.to_pkcs8v1().map_err(failed)?;
            // Uncompressed point: 0x04, then x and y, 32 bytes each.
            let point = pair.public_key().as_ref();
            let required = json!({"crv": "P-256", "kty": "EC", "x": b64(&point[1..33]), "y": b64(&point[33..65])});
            Ok((pkcs8.as_ref().to_vec(), required))
        }
        SigningAlgorithm::EdDSA => {
            let pair = Ed25519KeyPair::generate().map_err(failed)?;
            // PKCS#8 v1: what jsonwebtoken reads back (v2 carries the public key too).
            let pkcs8 = pair.to_pkcs8v1().map_err(failed)?;
            let required =
                json!({"crv": "Ed25519", "kty": "OKP", "x": b64(pair.public_key().as_ref())});
            Ok((pkcs8.as_ref().to_vec(), required))
        }
        SigningAlgorithm::HS256 => Err(KeyError::NotAKeyAlgorithm(algorithm)),
    }
}

/// RFC 7638: SHA-256 of the required members, sorted, without whitespace
/// (serde_json's map keeps keys sorted and writes no whitespace).
fn thumbprint(required: &Value) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(required.to_string().as_bytes()))
}

/// A new key, ready to store; it signs from `activates_at`.
pub fn generate(
    algorithm: SigningAlgorithm,
    activates_at: UnixTime,
    sealer: Option<&Sealer>,
) -> Result<NewSigningKey, KeyError> {
    let (pkcs8, required) = key_pair(algorithm)?;
    Ok(signing_key(
        algorithm,
        &pkcs8,
        required,
        activates_at,
        sealer,
    ))
}

/// An RS256 key made elsewhere, such as DOT's `OIDC_RSA_PRIVATE_KEY` (PKCS#8
/// `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY` PEM): its `kid` is the same RFC
/// 7638 thumbprint DOT published, so the ID tokens it signed keep verifying.
pub fn import_rsa(
    pem_text: &str,
    activates_at: UnixTime,
    sealer: Option<&Sealer>,
) -> Result<NewSigningKey, KeyError> {
    let (label, der) = pem_body(pem_text).ok_or(KeyError::Unreadable("not a PEM file"))?;
    let pair = match label.as_str() {
        "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
        _ => return Err(KeyError::Unreadable("not an RSA private key PEM")),
    }
    .map_err(|_| KeyError::Unreadable("not a valid RSA private key"))?;
    let pkcs8 = pair
        .as_der()
        .map_err(|_| KeyError::Unreadable("not a valid RSA private key"))?;
    let public = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    let required = json!({"e": b64(&public.e), "kty": "RSA", "n": b64(&public.n)});
    Ok(signing_key(
        SigningAlgorithm::RS256,
        pkcs8.as_ref(),
        required,
        activates_at,
        sealer,
    ))
}

/// The label and DER of a PEM file's first block.
fn pem_body(text: &str) -> Option<(String, Vec<u8>)> {
    let start = text.find("-----BEGIN ")? + "-----BEGIN ".len();
    let (label, rest) = text[start..].split_once("-----")?;
    let end = rest.find(&format!("-----END {label}-----"))?;
    let body: String = rest[..end].split_whitespace().collect();
    STANDARD
        .decode(body)
        .ok()
        .map(|der| (label.to_owned(), der))
}

/// A key from its PKCS#8 DER and the public members that name it.
fn signing_key(
    algorithm: SigningAlgorithm,
    pkcs8: &[u8],
    required: Value,
    activates_at: UnixTime,
    sealer: Option<&Sealer>,
) -> NewSigningKey {
    let kid = thumbprint(&required);
    let mut jwk = required;
    jwk["kid"] = kid.clone().into();
    jwk["use"] = "sig".into();
    jwk["alg"] = algorithm.as_str().into();
    let private_key_pem = seal_if_configured(
        sealer,
        &pem("PRIVATE KEY", pkcs8),
        Purpose::SigningKey(&kid),
    );
    NewSigningKey {
        kid,
        algorithm,
        private_key_pem,
        public_jwk: jwk.to_string(),
        activates_at,
    }
}

/// How a new key takes over from the current one of its algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takeover {
    /// Published now, signing once every relying party's cached JWKS has it; the
    /// superseded key stays published until every token it signed has expired.
    Scheduled,
    /// Signing now, and the superseded keys leave the JWKS now: for a first key,
    /// or to replace a compromised one (tokens it signed stop verifying).
    Immediate,
}

impl Takeover {
    /// The takeover of a new key for `algorithm`: immediate when asked, or when
    /// it is the algorithm's first key (nothing is in circulation to wait for).
    pub fn for_new_key(existing: &[SigningKey], algorithm: SigningAlgorithm, now: bool) -> Self {
        if now || !existing.iter().any(|k| k.algorithm == algorithm) {
            Takeover::Immediate
        } else {
            Takeover::Scheduled
        }
    }
}

/// Where a key is in its life, as `keys list` and the admin page show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// The key its algorithm signs with now.
    Signing,
    /// Published, signing from this time.
    Published(UnixTime),
    /// Replaced; still published until this time, if it has one.
    Superseded(Option<UnixTime>),
}

impl KeyStatus {
    /// The status of `key` among `keys` (newest first, as the store lists them).
    pub fn of(key: &SigningKey, keys: &[SigningKey], now: UnixTime) -> Self {
        let signing = keys
            .iter()
            .find(|k| k.algorithm == key.algorithm && k.activates_at <= now)
            .is_some_and(|k| k.kid == key.kid);
        if signing {
            KeyStatus::Signing
        } else if key.activates_at > now {
            KeyStatus::Published(key.activates_at)
        } else {
            KeyStatus::Superseded(key.retire_at)
        }
    }
}

/// The modulus length of an RSA key from its public JWK; `None` for other keys.
pub fn rsa_modulus_bits(public_jwk: &str) -> Option<u32> {
    let jwk: Value = serde_json::from_str(public_jwk).ok()?;
    let n = URL_SAFE_NO_PAD.decode(jwk.get("n")?.as_str()?).ok()?;
    let n = &n[n.iter().position(|b| *b != 0)?..];
    let top = u32::from(n[0]);
    u32::try_from(n.len() - 1)
        .ok()
        .map(|bytes| bytes * 8 + (32 - top.leading_zeros()))
}

/// Makes a key for `algorithm` that supersedes the current one (and any not yet
/// active: the key made last is the one that signs once its time has come).
pub async fn rotate(
    store: &Store,
    settings: &Settings,
    sealer: Option<&Sealer>,
    algorithm: SigningAlgorithm,
    takeover: Takeover,
    now: UnixTime,
) -> Result<SigningKey, KeyError> {
    let activates_at = match takeover {
        Takeover::Immediate => now,
        Takeover::Scheduled => now.saturating_add(publish_delay(settings)),
    };
    let new = generate_off_thread(algorithm, activates_at, sealer).await?;
    let retire_at = match takeover {
        Takeover::Immediate => now,
        Takeover::Scheduled => {
            activates_at.saturating_add(seconds(settings.id_token_expire_seconds))
        }
    };
    Ok(store.insert_signing_key(&new, retire_at, now).await?)
}

/// [`generate`], off the async executor (an RSA key takes a good part of a second).
async fn generate_off_thread(
    algorithm: SigningAlgorithm,
    activates_at: UnixTime,
    sealer: Option<&Sealer>,
) -> Result<NewSigningKey, KeyError> {
    let sealer = sealer.cloned();
    tokio::task::spawn_blocking(move || generate(algorithm, activates_at, sealer.as_ref()))
        .await
        .map_err(|_| KeyError::Generation)?
}

/// How long a published key waits before it signs: the interval in which every
/// server reloads its keys, then the JWKS cache lifetime of relying parties.
pub fn publish_delay(settings: &Settings) -> i64 {
    seconds(settings.oidc_jwks_max_age_seconds).saturating_add(crate::keys::signing::RELOAD_SECONDS)
}

/// On start-up, makes a key for each algorithm that has none, signing at once.
/// Nodes starting together on one database keep the first key stored and
/// drop their own, so no node signs with a key the others do not publish.
pub async fn ensure_signing_keys(
    store: &Store,
    sealer: Option<&Sealer>,
    now: UnixTime,
) -> Result<(), KeyError> {
    let existing = store.signing_keys(now).await?;
    for algorithm in KEY_ALGORITHMS {
        if existing.iter().any(|k| k.algorithm == algorithm) {
            continue;
        }
        let new = generate_off_thread(algorithm, now, sealer).await?;
        if store.insert_first_signing_key(&new, now).await?.is_none() {
            tracing::info!(%algorithm, "another node made the first signing key");
        }
    }
    Ok(())
}

fn seconds(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX)
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
    fn keys_have_thumbprint_kids_and_no_private_parts_in_their_jwk() {
        for (algorithm, kty, members) in [
            (SigningAlgorithm::RS256, "RSA", &["e", "kty", "n"][..]),
            (SigningAlgorithm::ES256, "EC", &["crv", "kty", "x", "y"][..]),
            (SigningAlgorithm::EdDSA, "OKP", &["crv", "kty", "x"][..]),
        ] {
            let key = generate(algorithm, 7, None).unwrap();
            assert!(
                key.private_key_pem
                    .starts_with("-----BEGIN PRIVATE KEY-----\n")
            );
            assert_eq!(key.activates_at, 7);
            let jwk: Value = serde_json::from_str(&key.public_jwk).unwrap();
            assert_eq!(
                (jwk["kty"].as_str(), jwk["alg"].as_str()),
                (Some(kty), Some(algorithm.as_str()))
            );
            assert_eq!(jwk["kid"], key.kid.as_str());
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(
                    jwk.get(private).is_none(),
                    "{algorithm}: {private} must not be published"
                );
            }
            // The kid is the RFC 7638 thumbprint recomputed from the published members.
            let required: serde_json::Map<String, Value> = members
                .iter()
                .map(|m| (m.to_string(), jwk[*m].clone()))
                .collect();
            assert_eq!(key.kid, thumbprint(&Value::Object(required)), "{algorithm}");
        }
        let rsa = generate(SigningAlgorithm::RS256, 0, None).unwrap();
        let jwk: Value = serde_json::from_str(&rsa.public_jwk).unwrap();
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), 256, "2048-bit modulus");
        assert!(generate(SigningAlgorithm::HS256, 0, None).is_err());
    }

    #[test]
    fn an_imported_rsa_key_keeps_the_kid_dot_published() {
        // DOT 3.4.1 published this kid (jwcrypto's RFC 7638 thumbprint) for the fixture's key.
        let dot_kid = "T4qYNST3JnSLZLsPwL4xZD6x9tAqQ-Ul-mQn0xymrd0";
        for pem_text in [
            include_str!("../../../server/tests/fixtures/dot/oidc_rsa_private_key.pem"),
            include_str!("../../../server/tests/fixtures/dot/oidc_rsa_private_key.pkcs1.pem"),
        ] {
            let key = import_rsa(pem_text, 5, None).unwrap();
            assert_eq!(key.kid, dot_kid);
            assert_eq!(key.algorithm, SigningAlgorithm::RS256);
            assert_eq!(key.activates_at, 5);
            assert!(
                key.private_key_pem
                    .starts_with("-----BEGIN PRIVATE KEY-----\n")
            );
            assert_eq!(
                import_rsa(&key.private_key_pem, 5, None).unwrap().kid,
                dot_kid
            );
        }
        let ec = generate(SigningAlgorithm::ES256, 0, None).unwrap();
        for bad in ["", "not a key", &ec.private_key_pem] {
            assert!(
                matches!(import_rsa(bad, 0, None), Err(KeyError::Unreadable(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn rsa_modulus_length_is_read_from_the_jwk() {
        let rsa = generate(SigningAlgorithm::RS256, 0, None).unwrap();
        assert_eq!(rsa_modulus_bits(&rsa.public_jwk), Some(2048));
        // A 1024-bit modulus: its top byte has its high bit set, after a leading zero.
        let mut n = vec![0u8, 0xc3];
        n.extend([0x5a; 127]);
        let jwk = json!({"kty": "RSA", "e": "AQAB", "n": URL_SAFE_NO_PAD.encode(&n)});
        assert_eq!(rsa_modulus_bits(&jwk.to_string()), Some(1024));
        let ec = generate(SigningAlgorithm::ES256, 0, None).unwrap();
        assert_eq!(rsa_modulus_bits(&ec.public_jwk), None);
    }

    #[test]
    fn thumbprint_matches_rfc_7638_example() {
        // RFC 7638 §3.1.
        let required = json!({
            "e": "AQAB", "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        });
        assert_eq!(
            thumbprint(&required),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn private_keys_are_sealed_when_a_secret_key_is_set() {
        let sealer = Sealer::new("a secret key of at least thirty-two characters");
        let key = generate(SigningAlgorithm::EdDSA, 0, Some(&sealer)).unwrap();
        assert!(!key.private_key_pem.contains("PRIVATE KEY"));
        let opened = crate::keys::sealing::open_stored(
            Some(&sealer),
            &key.private_key_pem,
            Purpose::SigningKey(&key.kid),
        )
        .unwrap();
        assert!(opened.starts_with("-----BEGIN PRIVATE KEY-----"));
    }
}
