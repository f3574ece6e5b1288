//! A client's own signing keys, made outside Tollgate (Python's
//! `cryptography`), and JWTs signed with them by `jsonwebtoken`: what a
//! relying party that signs request objects holds.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;

/// The public JWK Set of [`Key::Rsa`], [`Key::Ec`] and [`Key::Ed25519`].
pub const JWKS: &str = include_str!("client_keys/jwks.json");

/// A private key of the client's, or [`Key::Stranger`]'s, which it never registered.
#[derive(Debug, Clone, Copy)]
pub enum Key {
    /// RSA-2048, kid `rsa-1`: RS256 and PS256.
    Rsa,
    /// P-256, kid `ec-1`: ES256.
    Ec,
    /// Ed25519, kid `ed-1`: EdDSA.
    Ed25519,
    /// Another RSA-2048 key, not in [`JWKS`].
    Stranger,
}

impl Key {
    fn encoding(self) -> EncodingKey {
        let pem: &[u8] = match self {
            Key::Rsa => include_bytes!("client_keys/rsa.pem"),
            Key::Ec => include_bytes!("client_keys/ec.pem"),
            Key::Ed25519 => include_bytes!("client_keys/ed25519.pem"),
            Key::Stranger => include_bytes!("client_keys/other_rsa.pem"),
        };
        match self {
            Key::Rsa | Key::Stranger => EncodingKey::from_rsa_pem(pem),
            Key::Ec => EncodingKey::from_ec_pem(pem),
            Key::Ed25519 => EncodingKey::from_ed_pem(pem),
        }
        .expect("a fixture key")
    }
}

/// `claims` signed with `key` under `alg`, the header naming `kid`.
pub fn sign(key: Key, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    sign_typed(key, alg, kid, "JWT", claims)
}

/// As [`sign`], with `typ` in the header.
pub fn sign_typed(
    key: Key,
    alg: Algorithm,
    kid: Option<&str>,
    typ: &str,
    claims: &Value,
) -> String {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    header.typ = Some(typ.to_owned());
    jsonwebtoken::encode(&header, claims, &key.encoding()).expect("signs")
}

/// `claims` as an unsecured JWT (RFC 7519 §6): `alg` `none`, no signature.
pub fn unsigned(claims: &Value) -> String {
    use base64::Engine;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none"})),
        b64(claims)
    )
}

/// The public JWK of `key` (none for [`Key::Stranger`], which is never registered).
pub fn public_jwk(key: Key) -> Option<jsonwebtoken::jwk::Jwk> {
    let kid = match key {
        Key::Rsa => "rsa-1",
        Key::Ec => "ec-1",
        Key::Ed25519 => "ed-1",
        Key::Stranger => return None,
    };
    let set: Value = serde_json::from_str(JWKS).expect("the fixture set");
    let mut jwk = set["keys"]
        .as_array()?
        .iter()
        .find(|k| k["kid"] == kid)?
        .clone();
    jwk.as_object_mut()?.remove("kid");
    serde_json::from_value(jwk).ok()
}

/// An RFC 9449 DPoP proof: `claims` signed with `signer` under `alg`, the
/// header (`typ` `dpop+jwt`) naming the public key of `named`.
pub fn dpop_proof(signer: Key, named: Key, alg: Algorithm, claims: &Value) -> String {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    let mut header = Header::new(alg);
    header.typ = Some("dpop+jwt".into());
    header.jwk = public_jwk(named);
    jsonwebtoken::encode(&header, claims, &signer.encoding()).expect("signs")
}

/// The RFC 7638 SHA-256 thumbprint of `key`'s public JWK, by `jsonwebtoken`.
pub fn thumbprint(key: Key) -> String {
    public_jwk(key)
        .expect("a registered key")
        .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
        .expect("a thumbprint")
}
