//! JWT access tokens (RFC 9068): what one says, before it is signed. Tollgate
//! still keeps the token's hash, so revocation and introspection work on it as
//! on an opaque one; the JWT lets a resource server check it without asking.

use serde_json::{Map, Value};

use crate::env::UnixTime;
use crate::resource_indicator::Resources;

/// The JOSE `typ` of a JWT access token (RFC 9068 §2.1).
pub const TYP: &str = "at+jwt";

/// Everything a JWT access token says.
#[derive(Debug, Clone)]
pub struct AccessTokenClaims<'a> {
    /// `iss`: this server's issuer URL, which is also the `aud` when no resource is named.
    pub issuer: &'a str,
    /// The user's subject; the client's id when no user is involved (§2.2).
    pub subject: &'a str,
    /// `client_id` (RFC 9068 §2.2): the client it was issued to.
    pub client_id: &'a str,
    /// The resources it is for; none: this server's own (UserInfo), named by the issuer.
    pub resource: &'a Resources,
    /// `scope`, space-separated; left out when empty.
    pub scope: &'a str,
    /// `iat` (Unix seconds).
    pub issued_at: UnixTime,
    /// `exp` (Unix seconds).
    pub expires_at: UnixTime,
    /// `jti`: a random identifier for this token.
    pub jti: &'a str,
    /// When the user signed in, for tokens issued for a user.
    pub auth_time: Option<UnixTime>,
    /// RFC 9449 §6.1: the thumbprint of the key it is bound to, as `cnf.jkt`.
    pub dpop_jkt: Option<&'a str>,
}

impl AccessTokenClaims<'_> {
    /// The JWT claims set, ready to sign with the `typ` [`TYP`].
    pub fn to_json(&self) -> Map<String, Value> {
        let mut out = Map::new();
        let mut set = |name: &str, value: Value| {
            out.insert(name.to_owned(), value);
        };
        set("iss", self.issuer.into());
        set("sub", self.subject.into());
        // §2.2: `aud` is required; without a resource it is the default resource, this server.
        let audience: Vec<&str> = self.resource.iter().collect();
        set(
            "aud",
            match audience.as_slice() {
                [] => self.issuer.into(),
                [one] => (*one).into(),
                many => many.to_vec().into(),
            },
        );
        set("client_id", self.client_id.into());
        set("iat", self.issued_at.into());
        set("exp", self.expires_at.into());
        set("jti", self.jti.into());
        if !self.scope.is_empty() {
            set("scope", self.scope.into());
        }
        if let Some(auth_time) = self.auth_time {
            set("auth_time", auth_time.into());
        }
        if let Some(jkt) = self.dpop_jkt {
            set("cnf", serde_json::json!({ "jkt": jkt }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(resource: &Resources, auth_time: Option<UnixTime>) -> Map<String, Value> {
        AccessTokenClaims {
            issuer: "https://id.example",
            subject: "42",
            client_id: "web",
            resource,
            scope: "read write",
            issued_at: 100,
            expires_at: 400,
            jti: "j1",
            auth_time,
            dpop_jkt: None,
        }
        .to_json()
    }

    #[test]
    fn the_required_claims_are_there() {
        let c = claims(&Resources::stored("https://api.example/"), Some(90));
        for (name, value) in [
            ("iss", Value::from("https://id.example")),
            ("sub", "42".into()),
            ("aud", "https://api.example/".into()),
            ("client_id", "web".into()),
            ("iat", 100.into()),
            ("exp", 400.into()),
            ("jti", "j1".into()),
            ("scope", "read write".into()),
            ("auth_time", 90.into()),
        ] {
            assert_eq!(c[name], value, "{name}");
        }
    }

    #[test]
    fn the_audience_is_the_resources_or_this_server() {
        let two = Resources::stored("https://a.example/ https://b.example/");
        assert_eq!(
            claims(&two, None)["aud"],
            serde_json::json!(["https://a.example/", "https://b.example/"])
        );
        let none = claims(&Resources::default(), None);
        assert_eq!(none["aud"], "https://id.example");
        assert!(none.get("auth_time").is_none());
    }
}
