//! JWTs a client signed with one of its registered public keys (RFC 7591
//! `jwks`) or its secret: the request objects of RFC 9101 and the client
//! assertions of RFC 7523. The algorithm is the header's, but
//! only from the caller's list, and the key must be of a type that algorithm
//! uses: a key never verifies under an algorithm it was not made for.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

/// Why a client's JWT was not accepted; the text is shown to the client.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ClientJwtError {
    /// Not a compact JWS with a JSON header and payload.
    #[error("it is not a compact JWS with a JSON header and claims")]
    Malformed,
    /// The client has registered no keys.
    #[error("the client has registered no keys (jwks) to check it with")]
    NoKeys,
    /// No registered key matches the header's `kid` and algorithm.
    #[error("none of the client's registered keys matches its kid and alg")]
    UnknownKey,
    /// A matching key did not verify the signature.
    #[error("its signature does not verify with the client's registered key")]
    BadSignature,
}

/// The `alg` and `typ` of a compact JWS's protected header, read without
/// trusting it: `none` included, which a JWS library refuses to name.
pub(crate) fn header_alg_typ(token: &str) -> Result<(String, Option<String>), ClientJwtError> {
    let header = token.split('.').next().ok_or(ClientJwtError::Malformed)?;
    let header: Map<String, Value> = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(ClientJwtError::Malformed)?;
    let text = |name| header.get(name).and_then(Value::as_str).map(str::to_owned);
    let alg = text("alg").ok_or(ClientJwtError::Malformed)?;
    Ok((alg, text("typ")))
}

/// The claims of an unsecured JWT (RFC 7519 §6: `alg` `none`, an empty signature).
pub(crate) fn unsecured_claims(token: &str) -> Result<Map<String, Value>, ClientJwtError> {
    match token.split('.').collect::<Vec<_>>()[..] {
        [_, payload, ""] => URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(ClientJwtError::Malformed),
        _ => Err(ClientJwtError::Malformed),
    }
}

/// The claims of `token` if a key of `jwks` (the client's registered JWK Set)
/// verifies it under its header's algorithm, which must be in `accepted`. Time
/// and audience claims are the caller's to judge.
pub(crate) fn verify(
    token: &str,
    jwks: Option<&str>,
    accepted: &[&str],
) -> Result<Map<String, Value>, ClientJwtError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| ClientJwtError::Malformed)?;
    let alg = format!("{:?}", header.alg);
    if !accepted.contains(&alg.as_str()) {
        return Err(ClientJwtError::UnknownKey);
    }
    let keys = registered_keys(jwks).ok_or(ClientJwtError::NoKeys)?;
    let validation = lenient(header.alg);
    let mut candidates = keys
        .iter()
        .filter(|key| header.kid.is_none() || key.common.key_id == header.kid)
        .filter(|key| fits(key, &alg, header.alg))
        .peekable();
    if candidates.peek().is_none() {
        return Err(ClientJwtError::UnknownKey);
    }
    for key in candidates {
        let Ok(decoding) = DecodingKey::from_jwk(key) else {
            continue;
        };
        if let Ok(data) = jsonwebtoken::decode::<Map<String, Value>>(token, &decoding, &validation)
        {
            return Ok(data.claims);
        }
    }
    Err(ClientJwtError::BadSignature)
}

/// The keys of a registered JWK Set that this library can read; a key of
/// another kind (an `alg` it does not know) is passed over, not fatal to the rest.
fn registered_keys(jwks: Option<&str>) -> Option<Vec<Jwk>> {
    let set: Value = serde_json::from_str(jwks?).ok()?;
    let keys = set.get("keys")?.as_array()?;
    Some(
        keys.iter()
            .filter_map(|key| serde_json::from_value(key.clone()).ok())
            .collect(),
    )
}

/// The claims of `token` if it is HS256 under `secret` (a `client_secret_jwt`
/// assertion); time and audience claims are the caller's to judge.
pub(crate) fn verify_with_secret(
    token: &str,
    secret: &str,
) -> Result<Map<String, Value>, ClientJwtError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| ClientJwtError::Malformed)?;
    if header.alg != Algorithm::HS256 {
        return Err(ClientJwtError::UnknownKey);
    }
    jsonwebtoken::decode::<Map<String, Value>>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &lenient(Algorithm::HS256),
    )
    .map(|data| data.claims)
    .map_err(|_| ClientJwtError::BadSignature)
}

/// Checks the signature under `alg` only: the caller judges every claim.
fn lenient(alg: Algorithm) -> Validation {
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation
}

/// Whether `key` may verify under `alg`: its type is the algorithm's, it is
/// not marked for encryption only, and an `alg` it names is this one.
fn fits(key: &Jwk, alg_name: &str, alg: Algorithm) -> bool {
    use jsonwebtoken::jwk::AlgorithmParameters::{EllipticCurve, OctetKeyPair, RSA};
    let type_fits = matches!(
        (&key.algorithm, alg),
        (RSA(_), Algorithm::RS256 | Algorithm::PS256)
            | (EllipticCurve(_), Algorithm::ES256)
            | (OctetKeyPair(_), Algorithm::EdDSA)
    );
    let use_fits = !matches!(
        key.common.public_key_use,
        Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
    );
    let alg_fits = key
        .common
        .key_algorithm
        .is_none_or(|named| format!("{named:?}") == alg_name);
    type_fits && use_fits && alg_fits
}
