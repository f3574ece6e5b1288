//! Client assertions (RFC 7523 §2.2, §3; OIDC Core §9): the JWT a
//! `client_secret_jwt` or `private_key_jwt` client authenticates with. The
//! signature is checked by the caller, which holds the keys; this is what the
//! claims must say, and what makes an assertion single use.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::client_auth::TokenEndpointAuthMethod;
use crate::env::UnixTime;
use crate::error::OAuthError;
use crate::jwt_claims::numeric_date;
use crate::request_object::{CLOCK_SKEW_SECONDS, signing_algorithms};
use crate::secret::SecretHash;

/// RFC 7523 §2.2: the `client_assertion_type` of a JWT assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The longest an assertion may be valid for: its `jti` is remembered that
/// long, and a client needs one only for the request it makes now.
pub const MAX_LIFETIME_SECONDS: i64 = 3600;

/// The assertion's `sub`, the client it claims to be, read without checking
/// anything: only to find the client whose keys then check it.
pub fn subject(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let claims: Map<String, Value> =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims
        .get("sub")?
        .as_str()
        .filter(|sub| !sub.is_empty())
        .map(str::to_owned)
}

/// The algorithms an assertion of a client registered with `method` may be
/// signed with: HS256 under the secret, or those of its registered keys
/// (fewer under the FAPI 2.0 profile, [`signing_algorithms`]).
pub fn algorithms(method: TokenEndpointAuthMethod, fapi2: bool) -> &'static [&'static str] {
    match method {
        TokenEndpointAuthMethod::ClientSecretJwt => &["HS256"],
        TokenEndpointAuthMethod::PrivateKeyJwt => signing_algorithms(fapi2),
        _ => &[],
    }
}

/// draft-ietf-oauth-rfc7523bis: the `typ` a client assertion may carry — its
/// explicit type, or plain `JWT` — so a request object, DPoP proof or logout
/// token the client signed is never taken for one.
pub fn typ_accepted(typ: Option<&str>) -> Result<(), OAuthError> {
    match typ {
        None => Ok(()),
        Some(t)
            if t.eq_ignore_ascii_case("client-authentication+jwt")
                || t.eq_ignore_ascii_case("JWT") =>
        {
            Ok(())
        }
        Some(t) => Err(invalid(&format!(
            "is a JWT of type `{t}`, not a client assertion (`client-authentication+jwt`)"
        ))),
    }
}

/// What an assertion's claims are checked against.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The client it must be from and about.
    pub client_id: &'a str,
    /// This server's issuer identifier, which `aud` may name (as
    /// draft-ietf-oauth-rfc7523bis asks).
    pub issuer: &'a str,
    /// The endpoints `aud` may name instead: the token endpoint (RFC 7523 §3)
    /// and the PAR endpoint (RFC 9126 §2); none under the FAPI 2.0 profile.
    pub endpoints: &'a [&'a str],
    /// FAPI 2.0 §5.3.2.1: `aud` must be the issuer identifier itself, a string.
    pub issuer_only: bool,
    /// Now, by the server's clock.
    pub now: UnixTime,
}

fn invalid(description: &str) -> OAuthError {
    OAuthError::invalid_client(format!("the client assertion {description}"))
}

/// RFC 7523 §3: `iss` and `sub` are the client, `aud` names this server, `exp`
/// is present and ahead (by at most [`MAX_LIFETIME_SECONDS`]), `nbf` and `iat`
/// are not ahead, and `jti` is present (OIDC Core §9). Returns what the store
/// must record to use the `jti` once — its digest, scoped to the client — and
/// until when.
pub fn check(
    claims: &Map<String, Value>,
    expected: &Expected<'_>,
) -> Result<(SecretHash, UnixTime), OAuthError> {
    for name in ["iss", "sub"] {
        if claims.get(name).and_then(Value::as_str) != Some(expected.client_id) {
            return Err(invalid(&format!(
                "must have `{name}` equal to the client_id"
            )));
        }
    }
    let names_us = |aud: &Value| {
        aud.as_str()
            .is_some_and(|a| a == expected.issuer || expected.endpoints.contains(&a))
    };
    let audience_ok = match claims.get("aud") {
        Some(aud) if expected.issuer_only => aud.as_str() == Some(expected.issuer),
        Some(Value::Array(auds)) => auds.iter().any(names_us),
        Some(aud) => names_us(aud),
        None => false,
    };
    if !audience_ok && expected.issuer_only {
        return Err(invalid(
            "must have as `aud` this server's issuer identifier, a string (FAPI 2.0)",
        ));
    }
    if !audience_ok {
        return Err(invalid("must have an `aud` naming this server's issuer"));
    }
    let time = |name: &str| {
        numeric_date(claims, name)
            .map_err(|_| invalid(&format!("has a `{name}` that is not a number")))
    };
    let exp = time("exp")?.ok_or_else(|| invalid("must have an `exp`"))?;
    if exp <= expected.now {
        return Err(invalid("has expired"));
    }
    if exp
        > expected
            .now
            .saturating_add(MAX_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS)
    {
        return Err(invalid("is valid for more than an hour"));
    }
    let ahead = expected.now.saturating_add(CLOCK_SKEW_SECONDS);
    if time("nbf")?.is_some_and(|nbf| nbf > ahead) || time("iat")?.is_some_and(|iat| iat > ahead) {
        return Err(invalid("is not valid yet"));
    }
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty())
        .ok_or_else(|| invalid("must have a `jti`"))?;
    let digest = SecretHash::of(&format!("client assertion\n{}\n{jti}", expected.client_id));
    Ok((digest, exp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    const NOW: UnixTime = 2_000_000;
    const ENDPOINTS: [&str; 2] = ["https://op.example/o/token/", "https://op.example/o/par/"];

    fn expected() -> Expected<'static> {
        Expected {
            client_id: "rp",
            issuer: "https://op.example/o",
            endpoints: &ENDPOINTS,
            issuer_only: false,
            now: NOW,
        }
    }

    fn good(extra: Value) -> Map<String, Value> {
        let mut claims = json!({
            "iss": "rp", "sub": "rp", "aud": "https://op.example/o",
            "exp": NOW + 60, "iat": NOW, "jti": "a-1",
        });
        for (name, value) in extra.as_object().unwrap() {
            claims[name] = value.clone();
        }
        claims.as_object().unwrap().clone()
    }

    #[test]
    fn the_subject_is_read_without_trust() {
        let jwt = |claims: &str| format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(claims));
        assert_eq!(subject(&jwt(r#"{"sub":"rp"}"#)).as_deref(), Some("rp"));
        for bad in [
            jwt(r#"{"sub":""}"#),
            jwt(r#"{"sub":1}"#),
            jwt("[]"),
            "x".into(),
            "a.!.c".into(),
        ] {
            assert_eq!(subject(&bad), None, "{bad}");
        }
    }

    #[test]
    fn a_good_assertion_is_used_once_until_it_expires() {
        let (digest, until) = check(&good(json!({})), &expected()).unwrap();
        assert_eq!(until, NOW + 60);
        let (again, _) = check(&good(json!({"exp": NOW + 30})), &expected()).unwrap();
        assert_eq!(digest, again, "the jti, whatever else differs");
        for aud in [
            json!("https://op.example/o/token/"),
            json!(["x", "https://op.example/o/par/"]),
        ] {
            assert!(check(&good(json!({"aud": aud})), &expected()).is_ok());
        }
        let other = Expected {
            client_id: "rp2",
            ..expected()
        };
        let theirs = good(json!({"iss": "rp2", "sub": "rp2"}));
        assert_ne!(
            check(&theirs, &other).unwrap().0,
            digest,
            "each client's own ids"
        );
    }

    #[test]
    fn claims_that_do_not_hold_are_invalid_client() {
        let mut missing_exp = good(json!({}));
        missing_exp.remove("exp");
        let mut missing_jti = good(json!({}));
        missing_jti.remove("jti");
        let mut missing_aud = good(json!({}));
        missing_aud.remove("aud");
        for (what, claims) in [
            ("iss", good(json!({"iss": "other"}))),
            ("sub", good(json!({"sub": "other"}))),
            ("aud", good(json!({"aud": "https://elsewhere.example"}))),
            (
                "aud list",
                good(json!({"aud": ["https://elsewhere.example"]})),
            ),
            ("no aud", missing_aud),
            ("no exp", missing_exp),
            ("expired", good(json!({"exp": NOW}))),
            (
                "too long",
                good(json!({"exp": NOW + MAX_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS + 1})),
            ),
            ("exp text", good(json!({"exp": "later"}))),
            (
                "nbf ahead",
                good(json!({"nbf": NOW + CLOCK_SKEW_SECONDS + 1})),
            ),
            (
                "iat ahead",
                good(json!({"iat": NOW + CLOCK_SKEW_SECONDS + 1})),
            ),
            ("no jti", missing_jti),
            ("empty jti", good(json!({"jti": ""}))),
        ] {
            let e = check(&claims, &expected()).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidClient, "{what}");
        }
    }

    #[test]
    fn only_a_client_assertions_own_type_is_read() {
        for typ in [
            None,
            Some("client-authentication+jwt"),
            Some("JWT"),
            Some("jwt"),
        ] {
            assert_eq!(typ_accepted(typ), Ok(()), "{typ:?}");
        }
        for typ in ["oauth-authz-req+jwt", "dpop+jwt", "logout+jwt", "at+jwt"] {
            assert_eq!(
                typ_accepted(Some(typ)).unwrap_err().code,
                ErrorCode::InvalidClient,
                "{typ}"
            );
        }
    }

    #[test]
    fn under_fapi2_aud_is_the_issuer_as_a_string() {
        let fapi = Expected {
            issuer_only: true,
            ..expected()
        };
        assert!(check(&good(json!({})), &fapi).is_ok());
        for aud in [
            json!(["https://op.example/o"]),
            json!("https://op.example/o/token/"),
            json!(["https://op.example/o", "https://op.example/o/par/"]),
        ] {
            let e = check(&good(json!({ "aud": aud })), &fapi).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidClient, "{aud}");
        }
    }

    #[test]
    fn each_jwt_method_has_its_algorithms() {
        use crate::request_object::{FAPI2_SIGNING_ALGORITHMS, SIGNING_ALGORITHMS};
        assert_eq!(
            algorithms(TokenEndpointAuthMethod::ClientSecretJwt, false),
            ["HS256"]
        );
        assert_eq!(
            algorithms(TokenEndpointAuthMethod::PrivateKeyJwt, false),
            SIGNING_ALGORITHMS
        );
        assert_eq!(
            algorithms(TokenEndpointAuthMethod::PrivateKeyJwt, true),
            FAPI2_SIGNING_ALGORITHMS
        );
        assert!(algorithms(TokenEndpointAuthMethod::ClientSecretBasic, false).is_empty());
    }
}
