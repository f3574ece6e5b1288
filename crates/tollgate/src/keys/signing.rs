//! The keys in memory: parsed once each, reloaded from the store every few
//! seconds so a rotation made by any process sharing the database is seen by all.

use std::sync::{Arc, RwLock};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use tollgate_core::SigningAlgorithm;
use tollgate_core::env::UnixTime;
use tollgate_core::model::SigningKey;
use tollgate_store::Store;

use crate::keys::sealing::Purpose;

use crate::keys::sealing::Sealer;

use crate::keys::sealing::open_stored;

/// How often a process looks for keys made elsewhere. A scheduled key waits at
/// least this long before it signs, so every process has it by then.
pub const RELOAD_SECONDS: i64 = 10;

fn jwt_algorithm(algorithm: SigningAlgorithm) -> Algorithm {
    match algorithm {
        SigningAlgorithm::RS256 => Algorithm::RS256,
        SigningAlgorithm::ES256 => Algorithm::ES256,
        SigningAlgorithm::EdDSA => Algorithm::EdDSA,
        SigningAlgorithm::HS256 => Algorithm::HS256,
    }
}

/// A private key parsed once. (jsonwebtoken parses, and for RSA validates, its
/// key again on every signature: some 2 ms of CPU per RS256 ID token.)
enum PrivateKey {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl PrivateKey {
    fn from_pem(algorithm: SigningAlgorithm, pem: &str) -> Result<Self, String> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD.decode(body).map_err(|e| format!("not PEM: {e}"))?;
        let bad = |e: aws_lc_rs::error::KeyRejected| format!("not a PKCS#8 {algorithm} key: {e}");
        Ok(match algorithm {
            SigningAlgorithm::RS256 => PrivateKey::Rsa(RsaKeyPair::from_pkcs8(&der).map_err(bad)?),
            SigningAlgorithm::ES256 => PrivateKey::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der).map_err(bad)?,
            ),
            SigningAlgorithm::EdDSA => {
                PrivateKey::Ed(Ed25519KeyPair::from_pkcs8(&der).map_err(bad)?)
            }
            SigningAlgorithm::HS256 => return Err("HS256 has no server key".into()),
        })
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        let failed = |_| SigningError::Failed;
        match self {
            PrivateKey::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(failed)?;
                Ok(signature)
            }
            // FIXED signing gives r || s, the JWS form (RFC 7518 §3.4).
            PrivateKey::Ec(pair) => Ok(pair
                .sign(&SystemRandom::new(), message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            PrivateKey::Ed(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

pub(crate) struct LoadedKey {
    kid: String,
    algorithm: SigningAlgorithm,
    created_at: UnixTime,
    activates_at: UnixTime,
    private: PrivateKey,
    decoding: DecodingKey,
}

/// The keys of one moment: newest first, with the JWKS document they publish.
pub(crate) struct KeyRing {
    keys: Vec<Arc<LoadedKey>>,
    pub(crate) jwks: Bytes,
}

impl KeyRing {
    fn empty() -> Self {
        KeyRing {
            keys: Vec::new(),
            jwks: Bytes::from_static(br#"{"keys":[]}"#),
        }
    }

    /// The key that signs for `algorithm` now: of those whose time has come, the
    /// one made last (the ring is in that order).
    fn signer(&self, algorithm: SigningAlgorithm, now: UnixTime) -> Option<&LoadedKey> {
        self.keys
            .iter()
            .map(AsRef::as_ref)
            .find(|k| k.algorithm == algorithm && k.activates_at <= now)
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum SigningError {
    #[error("no {0} signing key is active")]
    NoKey(SigningAlgorithm),
    #[error("signing failed")]
    Failed,
    #[error("signing keys could not be loaded: {0}")]
    Load(String),
}

/// What a key of the ring, or a client secret, says about a token.
pub(crate) enum Verifier<'a> {
    Ring(&'a KeyRing),
    Secret(&'a str),
}

pub(crate) struct Keys {
    current: RwLock<(Arc<KeyRing>, Option<UnixTime>)>,
    reloading: tokio::sync::Mutex<()>,
    sealer: Option<Sealer>,
}

impl Keys {
    pub(crate) fn new(sealer: Option<Sealer>) -> Self {
        Keys {
            current: RwLock::new((Arc::new(KeyRing::empty()), None)),
            reloading: tokio::sync::Mutex::new(()),
            sealer,
        }
    }

    /// The ring, reloaded first when it is older than [`RELOAD_SECONDS`]. One
    /// request reloads; the others go on with the keys they have.
    pub(crate) async fn ring(
        &self,
        store: &Store,
        now: UnixTime,
    ) -> Result<Arc<KeyRing>, SigningError> {
        let (ring, loaded_at) = self.snapshot();
        if loaded_at.is_some_and(|t| now - t < RELOAD_SECONDS && t <= now) {
            return Ok(ring);
        }
        let Ok(_reloading) = self.reloading.try_lock() else {
            if loaded_at.is_some() {
                return Ok(ring);
            }
            // The first load is under way: wait for it.
            let _ = self.reloading.lock().await;
            return Ok(self.snapshot().0);
        };
        let loaded = match store.signing_keys(now).await {
            Ok(rows) => self.load(&ring, rows, loaded_at.is_none()),
            Err(e) => Err(SigningError::Load(e.to_string())),
        };
        match loaded {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                *self.current.write().expect("key lock") = (fresh.clone(), Some(now));
                Ok(fresh)
            }
            // Keep signing with the keys in memory; try again after the interval.
            Err(e) if loaded_at.is_some() => {
                tracing::warn!(error = %e, "signing keys could not be reloaded; using those in memory");
                *self.current.write().expect("key lock") = (ring.clone(), Some(now));
                Ok(ring)
            }
            Err(e) => Err(e),
        }
    }

    /// The keys in memory, without reloading: when they were loaded (`None`:
    /// never yet), and the age of the key that signs now for each algorithm that has one.
    pub(crate) fn state(&self, now: UnixTime) -> (Option<UnixTime>, Vec<(SigningAlgorithm, i64)>) {
        let (ring, loaded_at) = self.snapshot();
        let ages = crate::keys::KEY_ALGORITHMS
            .into_iter()
            .filter_map(|algorithm| {
                let key = ring.signer(algorithm, now)?;
                Some((algorithm, now.saturating_sub(key.created_at)))
            })
            .collect();
        (loaded_at.filter(|t| *t > 0), ages)
    }

    /// Has the next use reload the keys: after this process changed them.
    pub(crate) fn reload_soon(&self) {
        self.current.write().expect("key lock").1 = Some(0);
    }

    fn snapshot(&self) -> (Arc<KeyRing>, Option<UnixTime>) {
        let guard = self.current.read().expect("key lock");
        (guard.0.clone(), guard.1)
    }

    /// Builds a ring from stored keys, parsing only those not already in `previous`.
    /// `strict` (the first load, at start-up): a key that cannot be read is an
    /// error. Later a new unreadable key (made with another `secret_key`, say) is
    /// left out with a warning, so it cannot stop every later rotation.
    fn load(
        &self,
        previous: &KeyRing,
        rows: Vec<SigningKey>,
        strict: bool,
    ) -> Result<KeyRing, SigningError> {
        let mut keys = Vec::with_capacity(rows.len());
        let mut published = Vec::with_capacity(rows.len());
        for row in rows {
            let loaded = match previous.keys.iter().find(|k| k.kid == row.kid) {
                Some(known) => Ok(known.clone()),
                None => self.parse(&row).map(Arc::new),
            };
            let jwk = serde_json::from_str::<Value>(&row.public_jwk).map_err(|e| e.to_string());
            match (loaded, jwk) {
                (Ok(key), Ok(jwk)) => {
                    keys.push(key);
                    published.push(jwk);
                }
                (Err(e), _) | (_, Err(e)) if strict => {
                    return Err(SigningError::Load(format!("key {}: {e}", row.kid)));
                }
                (Err(e), _) | (_, Err(e)) => {
                    tracing::error!(kid = %row.kid, error = %e, "a signing key cannot be read; it is left out");
                }
            }
        }
        let jwks = serde_json::to_vec(&serde_json::json!({ "keys": published }))
            .expect("a JWKS serialises");
        Ok(KeyRing {
            keys,
            jwks: Bytes::from(jwks),
        })
    }

    fn parse(&self, row: &SigningKey) -> Result<LoadedKey, String> {
        let pem = open_stored(
            self.sealer.as_ref(),
            &row.private_key_pem,
            Purpose::SigningKey(&row.kid),
        )
        .map_err(|e| e.to_string())?;
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_str(&row.public_jwk).map_err(|e| e.to_string())?;
        Ok(LoadedKey {
            kid: row.kid.clone(),
            algorithm: row.algorithm,
            created_at: row.created_at,
            activates_at: row.activates_at,
            private: PrivateKey::from_pem(row.algorithm, &pem)?,
            decoding: DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?,
        })
    }
}

/// Signs `claims` as a compact JWS (RFC 7515 §7.1) of type `typ`: with the
/// ring's current key for `algorithm`, or with the client secret for HS256.
pub(crate) fn sign(
    ring: &KeyRing,
    algorithm: SigningAlgorithm,
    client_secret: Option<&str>,
    claims: &Map<String, Value>,
    now: UnixTime,
    typ: &str,
) -> Result<String, SigningError> {
    enum With<'a> {
        Key(&'a LoadedKey),
        Secret(&'a str),
    }
    let with = match (algorithm, client_secret) {
        (SigningAlgorithm::HS256, Some(secret)) => With::Secret(secret),
        (SigningAlgorithm::HS256, None) => return Err(SigningError::NoKey(algorithm)),
        _ => With::Key(
            ring.signer(algorithm, now)
                .ok_or(SigningError::NoKey(algorithm))?,
        ),
    };
    let mut header = serde_json::json!({ "alg": algorithm.as_str(), "typ": typ });
    if let With::Key(key) = with {
        header["kid"] = key.kid.clone().into();
    }
    let payload = serde_json::to_vec(claims).map_err(|_| SigningError::Failed)?;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = match with {
        With::Key(key) => key.private.sign(input.as_bytes())?,
        With::Secret(secret) => {
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
            aws_lc_rs::hmac::sign(&key, input.as_bytes())
                .as_ref()
                .to_vec()
        }
    };
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// The algorithm a JWS header names, if it is one Tollgate signs with.
pub(crate) fn header_algorithm(token: &str) -> Option<SigningAlgorithm> {
    match jsonwebtoken::decode_header(token).ok()?.alg {
        Algorithm::RS256 => Some(SigningAlgorithm::RS256),
        Algorithm::ES256 => Some(SigningAlgorithm::ES256),
        Algorithm::EdDSA => Some(SigningAlgorithm::EdDSA),
        Algorithm::HS256 => Some(SigningAlgorithm::HS256),
        _ => None,
    }
}

/// The claims of a token this server signed for `issuer`, if its signature holds
/// and it names its issuer, subject, audience and expiry. Expiry and audience are
/// the caller's to judge, with its own clock.
pub(crate) fn verify(
    token: &str,
    verifier: Verifier<'_>,
    issuer: &str,
) -> Option<Map<String, Value>> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    let (algorithm, key) = match verifier {
        Verifier::Secret(secret) => (
            Algorithm::HS256,
            DecodingKey::from_secret(secret.as_bytes()),
        ),
        Verifier::Ring(ring) => {
            let kid = header.kid.as_deref()?;
            let key = ring.keys.iter().find(|k| k.kid == kid)?;
            (jwt_algorithm(key.algorithm), key.decoding.clone())
        }
    };
    // The key decides the algorithm; a header claiming another is refused (no `none`, no confusion).
    if header.alg != algorithm {
        return None;
    }
    let mut validation = Validation::new(algorithm);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    validation.set_issuer(&[issuer]);
    jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
        .ok()
        .map(|data| data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::generate;
    use tollgate_core::model::NewSigningKey;

    fn stored(new: NewSigningKey, id: i64) -> SigningKey {
        SigningKey {
            id,
            kid: new.kid,
            algorithm: new.algorithm,
            private_key_pem: new.private_key_pem,
            public_jwk: new.public_jwk,
            created_at: 0,
            activates_at: new.activates_at,
            retire_at: None,
        }
    }

    fn ring() -> KeyRing {
        crate::install_crypto_provider();
        let keys = Keys::new(None);
        let rows = vec![
            stored(generate(SigningAlgorithm::RS256, 100, None).unwrap(), 3),
            stored(generate(SigningAlgorithm::ES256, 0, None).unwrap(), 2),
            stored(generate(SigningAlgorithm::RS256, 0, None).unwrap(), 1),
        ];
        keys.load(&KeyRing::empty(), rows, true).unwrap()
    }

    fn claims() -> Map<String, Value> {
        serde_json::json!({"iss": "https://idp.example", "sub": "1", "aud": "c", "exp": 1})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn signs_with_the_newest_active_key_and_verifies_by_kid() {
        let ring = ring();
        let kid_of = |token: &str| jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let before = sign(&ring, SigningAlgorithm::RS256, None, &claims(), 50, "JWT").unwrap();
        let after = sign(&ring, SigningAlgorithm::RS256, None, &claims(), 100, "JWT").unwrap();
        assert_eq!(
            kid_of(&before),
            ring.keys[2].kid,
            "the scheduled key does not sign early"
        );
        assert_eq!(kid_of(&after), ring.keys[0].kid);
        for token in [&before, &after] {
            assert_eq!(
                verify(token, Verifier::Ring(&ring), "https://idp.example"),
                Some(claims())
            );
            assert_eq!(
                verify(token, Verifier::Ring(&ring), "https://other.example"),
                None
            );
        }
        let ec = sign(&ring, SigningAlgorithm::ES256, None, &claims(), 0, "JWT").unwrap();
        assert_eq!(header_algorithm(&ec), Some(SigningAlgorithm::ES256));
        assert!(verify(&ec, Verifier::Ring(&ring), "https://idp.example").is_some());
        assert!(matches!(
            sign(&ring, SigningAlgorithm::EdDSA, None, &claims(), 0, "JWT"),
            Err(SigningError::NoKey(_))
        ));
        let jwks: Value = serde_json::from_slice(&ring.jwks).unwrap();
        assert_eq!(
            jwks["keys"].as_array().unwrap().len(),
            3,
            "scheduled keys are published"
        );
    }

    #[test]
    fn the_key_made_last_signs_once_active_even_over_a_scheduled_one() {
        crate::install_crypto_provider();
        // A scheduled at 3600 (id 2), then an emergency key at 60 (id 3).
        let rows = vec![
            stored(generate(SigningAlgorithm::ES256, 60, None).unwrap(), 3),
            stored(generate(SigningAlgorithm::ES256, 3600, None).unwrap(), 2),
            stored(generate(SigningAlgorithm::ES256, 0, None).unwrap(), 1),
        ];
        let ring = Keys::new(None).load(&KeyRing::empty(), rows, true).unwrap();
        let kid_at = |now| {
            let token = sign(&ring, SigningAlgorithm::ES256, None, &claims(), now, "JWT").unwrap();
            jsonwebtoken::decode_header(&token).unwrap().kid.unwrap()
        };
        assert_eq!(kid_at(30), ring.keys[2].kid);
        assert_eq!(kid_at(60), ring.keys[0].kid);
        assert_eq!(
            kid_at(4000),
            ring.keys[0].kid,
            "the scheduled key never takes over"
        );
    }

    #[test]
    fn an_unreadable_key_fails_the_first_load_and_is_skipped_later() {
        crate::install_crypto_provider();
        let good = stored(generate(SigningAlgorithm::RS256, 0, None).unwrap(), 1);
        let mut bad = stored(generate(SigningAlgorithm::RS256, 0, None).unwrap(), 2);
        bad.private_key_pem = "sealed-v1:AAAA".into();
        let keys = Keys::new(None);
        assert!(
            keys.load(&KeyRing::empty(), vec![bad.clone(), good.clone()], true)
                .is_err()
        );
        let ring = keys
            .load(&KeyRing::empty(), vec![bad, good.clone()], false)
            .unwrap();
        assert_eq!(ring.keys.len(), 1);
        assert_eq!(ring.keys[0].kid, good.kid);
    }

    #[test]
    fn refuses_tampered_unsigned_and_foreign_tokens() {
        let ring = ring();
        let token = sign(&ring, SigningAlgorithm::RS256, None, &claims(), 0, "JWT").unwrap();
        let (head, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let forged_body = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"iss":"https://idp.example","sub":"2"}"#,
        );
        assert_eq!(
            verify(
                &format!("{head}.{forged_body}.{signature}"),
                Verifier::Ring(&ring),
                "https://idp.example"
            ),
            None
        );
        let none_head = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"alg":"none"}"#,
        );
        assert_eq!(
            verify(
                &format!("{none_head}.{forged_body}."),
                Verifier::Ring(&ring),
                "https://idp.example"
            ),
            None
        );
        let elsewhere = self::ring();
        assert_eq!(
            verify(&token, Verifier::Ring(&elsewhere), "https://idp.example"),
            None,
            "another server's key"
        );
        let hs = sign(
            &ring,
            SigningAlgorithm::HS256,
            Some("secret one"),
            &claims(),
            0,
            "JWT",
        )
        .unwrap();
        assert!(verify(&hs, Verifier::Secret("secret one"), "https://idp.example").is_some());
        assert_eq!(
            verify(&hs, Verifier::Secret("secret two"), "https://idp.example"),
            None
        );
        assert_eq!(
            verify(
                &token,
                Verifier::Secret("secret one"),
                "https://idp.example"
            ),
            None,
            "no algorithm confusion"
        );
    }
}
