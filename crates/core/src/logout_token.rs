//! The claims of a logout token (OpenID Connect Back-Channel Logout 1.0 §2.4);
//! signing is the caller's, as for the client's ID tokens, under [`TYP`].

use serde_json::{Map, Value, json};

use crate::env::UnixTime;

/// The JWT `typ` (§2.4: explicit typing, so a logout token is never taken for an ID token).
pub const TYP: &str = "logout+jwt";

/// The one member of `events` that makes a JWT a logout token (§2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How long a logout token is good for: §2.4 wants a short `exp`, and two
/// minutes covers the retries of one delivery.
pub const LIFETIME_SECONDS: i64 = 120;

/// Everything a logout token says, before signing.
#[derive(Debug, Clone)]
pub struct LogoutTokenClaims<'a> {
    /// `iss`: this server's issuer URL.
    pub issuer: &'a str,
    /// `aud`: the client told.
    pub client_id: &'a str,
    /// `sub`: the user signed out, as in the client's ID tokens.
    pub subject: &'a str,
    /// `sid`: the session ended; `None`: every session of `sub` at the client.
    pub sid: Option<&'a str>,
    /// `iat` (Unix seconds); `exp` is [`LIFETIME_SECONDS`] later.
    pub issued_at: UnixTime,
    /// `jti`: random, for the client's replay check.
    pub jti: &'a str,
}

impl LogoutTokenClaims<'_> {
    /// The JWT claims set, ready to sign. Never a `nonce` (§2.4: its absence
    /// keeps a logout token from passing as an ID token).
    pub fn to_json(&self) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("iss".into(), self.issuer.into());
        out.insert("aud".into(), self.client_id.into());
        out.insert("sub".into(), self.subject.into());
        if let Some(sid) = self.sid {
            out.insert("sid".into(), sid.into());
        }
        out.insert("iat".into(), self.issued_at.into());
        out.insert(
            "exp".into(),
            self.issued_at.saturating_add(LIFETIME_SECONDS).into(),
        );
        out.insert("jti".into(), self.jti.into());
        out.insert("events".into(), json!({ EVENT: {} }));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logout_token_names_the_session_and_the_event_and_no_nonce() {
        let claims = LogoutTokenClaims {
            issuer: "https://idp.example",
            client_id: "web",
            subject: "42",
            sid: Some("s1"),
            issued_at: 1_000,
            jti: "j1",
        };
        let json = Value::Object(claims.to_json());
        assert_eq!(
            json,
            json!({
                "iss": "https://idp.example", "aud": "web", "sub": "42", "sid": "s1",
                "iat": 1_000, "exp": 1_120, "jti": "j1",
                "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
            })
        );
        let every_session = LogoutTokenClaims {
            sid: None,
            ..claims
        }
        .to_json();
        assert!(!every_session.contains_key("sid"));
        assert!(!every_session.contains_key("nonce"));
        assert_eq!(every_session["sub"], "42");
    }
}
