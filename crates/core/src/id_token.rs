//! The claims of an ID token (OIDC Core §2, §3.2.2.10, §3.3.2.11); signing is
//! the caller's, with the key of the client's algorithm.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha512};

use crate::claims::PROTOCOL_CLAIMS;
use crate::client::SigningAlgorithm;
use crate::env::UnixTime;

/// The one authentication context Tollgate performs: a password sign-in.
pub const ACR_PASSWORD: &str = "urn:tollgate:acr:password";

/// `at_hash` / `c_hash`: the left half of the hash the signing algorithm uses
/// (SHA-512 for EdDSA with Ed25519, SHA-256 for the others), base64url.
pub fn half_hash(algorithm: SigningAlgorithm, value: &str) -> String {
    let digest = match algorithm {
        SigningAlgorithm::EdDSA => Sha512::digest(value.as_bytes()).to_vec(),
        _ => Sha256::digest(value.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// Everything an ID token says, before signing.
#[derive(Debug, Clone)]
pub struct IdTokenClaims<'a> {
    /// `iss`: this server's issuer URL.
    pub issuer: &'a str,
    /// `sub`: who the token is about (Tollgate uses the user's id, as text).
    pub subject: &'a str,
    /// `aud` and `azp`: the client it is for.
    pub client_id: &'a str,
    /// The client's algorithm, which picks the hash for `at_hash` and `c_hash`.
    pub algorithm: SigningAlgorithm,
    /// `iat` (Unix seconds).
    pub issued_at: UnixTime,
    /// `exp` (Unix seconds).
    pub expires_at: UnixTime,
    /// `auth_time`: when the user signed in (Unix seconds).
    pub auth_time: UnixTime,
    /// `jti`: a random identifier for this token.
    pub jti: &'a str,
    /// `nonce`, from the authorization request; `None` leaves it out, as at refresh.
    pub nonce: Option<&'a str>,
    /// The access token issued beside it, if any.
    pub access_token: Option<&'a str>,
    /// The authorization code issued beside it (hybrid flow), if any.
    pub code: Option<&'a str>,
    /// `sid` (Back-Channel Logout 1.0 §2.1): the session it was issued in, if known.
    pub sid: Option<&'a str>,
    /// Whether the client asked for `acr` (by `acr_values` or the `claims` parameter).
    pub acr_requested: bool,
    /// User claims, already selected for this token.
    pub user_claims: Map<String, Value>,
}

impl IdTokenClaims<'_> {
    /// The JWT claims set, ready to sign; user claims never replace protocol claims.
    pub fn to_json(&self) -> Map<String, Value> {
        // Protocol claims come from the protocol only, whatever the user claims hold.
        let mut out: Map<String, Value> = self
            .user_claims
            .iter()
            .filter(|(name, _)| !PROTOCOL_CLAIMS.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        let mut set = |name: &str, value: Value| {
            out.insert(name.to_owned(), value);
        };
        set("iss", self.issuer.into());
        set("sub", self.subject.into());
        set("aud", self.client_id.into());
        // One audience, so `azp` equals it; sent because §2 allows it and some RPs look for it.
        set("azp", self.client_id.into());
        set("iat", self.issued_at.into());
        set("exp", self.expires_at.into());
        set("auth_time", self.auth_time.into());
        set("jti", self.jti.into());
        if let Some(nonce) = self.nonce {
            set("nonce", nonce.into());
        }
        if let Some(sid) = self.sid {
            set("sid", sid.into());
        }
        if let Some(token) = self.access_token {
            set("at_hash", half_hash(self.algorithm, token).into());
        }
        if let Some(code) = self.code {
            set("c_hash", half_hash(self.algorithm, code).into());
        }
        if self.acr_requested {
            set("acr", ACR_PASSWORD.into());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_hash_matches_oidc_core_example() {
        // OIDC Core §A.3: at_hash of this access token under RS256.
        assert_eq!(
            half_hash(
                SigningAlgorithm::RS256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(half_hash(SigningAlgorithm::ES256, "x").len(), 22);
        assert_eq!(
            half_hash(SigningAlgorithm::EdDSA, "x").len(),
            43,
            "32 bytes of SHA-512"
        );
    }

    #[test]
    fn claims_carry_hashes_nonce_and_acr_only_when_due() {
        let mut user = Map::new();
        user.insert("email".into(), "a@example.com".into());
        user.insert("sub".into(), "forged".into());
        user.insert("nonce".into(), "forged".into());
        let base = IdTokenClaims {
            issuer: "https://idp.example",
            subject: "42",
            client_id: "web",
            algorithm: SigningAlgorithm::RS256,
            issued_at: 100,
            expires_at: 200,
            auth_time: 90,
            jti: "j1",
            nonce: None,
            access_token: None,
            code: None,
            sid: None,
            acr_requested: false,
            user_claims: user,
        };
        let plain = base.to_json();
        assert_eq!(plain["sub"], "42", "the user record cannot override sub");
        assert_eq!(plain["aud"], "web");
        assert_eq!(plain["email"], "a@example.com");
        for absent in ["nonce", "at_hash", "c_hash", "acr", "sid"] {
            // Not even the forged nonce of the user claims.
            assert!(!plain.contains_key(absent), "{absent}");
        }
        let full = IdTokenClaims {
            nonce: Some("n"),
            access_token: Some("at"),
            code: Some("c"),
            sid: Some("s1"),
            acr_requested: true,
            ..base
        }
        .to_json();
        assert_eq!(full["nonce"], "n");
        assert_eq!(full["at_hash"], half_hash(SigningAlgorithm::RS256, "at"));
        assert_eq!(full["c_hash"], half_hash(SigningAlgorithm::RS256, "c"));
        assert_eq!(full["acr"], ACR_PASSWORD);
        assert_eq!(full["sid"], "s1");
    }
}
