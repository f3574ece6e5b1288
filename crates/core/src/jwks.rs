//! A client's registered public keys (RFC 7591 §2 `jwks`, RFC 7517 §5): the
//! keys its request objects are checked with. Only public keys of the types
//! behind the accepted algorithms are kept; a private or symmetric key is refused,
//! because a client that sends one has leaked it.

use serde_json::Value;

/// Key types of RS256/PS256 (`RSA`), ES256 (`EC`) and EdDSA (`OKP`).
const KEY_TYPES: [&str; 3] = ["RSA", "EC", "OKP"];

/// Members of private or symmetric keys (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The first member of `key` that only a private or symmetric key has.
fn private_member(key: &serde_json::Map<String, Value>) -> Option<&'static str> {
    PRIVATE_MEMBERS
        .iter()
        .copied()
        .find(|m| key.contains_key(*m))
}

/// Whether `key` is a public key of a type behind the accepted algorithms.
pub fn is_public_key(key: &serde_json::Map<String, Value>) -> bool {
    let kty = key.get("kty").and_then(Value::as_str).unwrap_or_default();
    KEY_TYPES.contains(&kty) && private_member(key).is_none()
}

/// More keys than a client rotates through is a mistake, or an attack on lookups.
pub const MAX_KEYS: usize = 16;

/// The JWKS as kept: `value` checked to be a set of 1 to [`MAX_KEYS`] public
/// keys, re-serialised compactly. The error says what is wrong.
pub fn public_jwks(value: &Value) -> Result<String, String> {
    let keys = value
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("a JWK Set is an object with a `keys` array")?;
    if keys.is_empty() || keys.len() > MAX_KEYS {
        return Err(format!("a JWK Set must hold 1 to {MAX_KEYS} keys"));
    }
    for (index, key) in keys.iter().enumerate() {
        let key = key
            .as_object()
            .ok_or_else(|| format!("key {index} is not an object"))?;
        let kty = key.get("kty").and_then(Value::as_str).unwrap_or_default();
        if !KEY_TYPES.contains(&kty) {
            return Err(format!(
                "key {index} has kty `{kty}`; only RSA, EC and OKP public keys are accepted"
            ));
        }
        if let Some(member) = private_member(key) {
            return Err(format!(
                "key {index} has the private member `{member}`: register public keys only"
            ));
        }
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn public_keys_are_kept() {
        let set = json!({"keys": [
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "r"},
            {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "OKP", "crv": "Ed25519", "x": "AA"},
        ]});
        let kept = public_jwks(&set).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&kept).unwrap(), set);
    }

    #[test]
    fn private_symmetric_and_malformed_sets_are_refused() {
        let many: Vec<Value> = (0..=MAX_KEYS)
            .map(|_| json!({"kty": "OKP", "x": "AA"}))
            .collect();
        for bad in [
            json!([]),
            json!({"keys": []}),
            json!({"keys": {}}),
            json!({"keys": many}),
            json!({"keys": ["RSA"]}),
            json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}),
            json!({"keys": [{"n": "AQAB", "e": "AQAB"}]}),
            json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQAB"}]}),
            json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "d": "AA"}]}),
        ] {
            assert!(public_jwks(&bad).is_err(), "{bad}");
        }
    }
}
