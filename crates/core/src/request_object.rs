//! Request objects (RFC 9101; OIDC Core §6.1): which signatures are accepted,
//! what the claims about the object itself must say, and which authorization
//! parameters it stands for. The signature is checked by the caller, which
//! holds the client's keys.

use serde_json::{Map, Value};

use crate::env::UnixTime;
use crate::error::{ErrorCode, OAuthError};
use crate::jwt_claims::numeric_date;
use crate::secret::SecretHash;

/// The algorithms a request object may be signed with, as advertised in
/// `request_object_signing_alg_values_supported`.
pub const SIGNING_ALGORITHMS: [&str; 4] = ["RS256", "PS256", "ES256", "EdDSA"];

/// FAPI 2.0 Security Profile §5.4.1: the algorithms its signatures may use (no RS256).
pub const FAPI2_SIGNING_ALGORITHMS: [&str; 3] = ["PS256", "ES256", "EdDSA"];

/// The algorithms a client's own keys may sign its request objects and client
/// assertions with: [`SIGNING_ALGORITHMS`], or under the FAPI 2.0 profile
/// [`FAPI2_SIGNING_ALGORITHMS`].
pub fn signing_algorithms(fapi2: bool) -> &'static [&'static str] {
    match fapi2 {
        true => &FAPI2_SIGNING_ALGORITHMS,
        false => &SIGNING_ALGORITHMS,
    }
}

/// RFC 7519 §4.1.4–5: how far apart the client's clock and ours may be.
pub const CLOCK_SKEW_SECONDS: i64 = 60;

/// How long a request object's `jti` is remembered when it has no `exp`.
pub const REPLAY_WINDOW_SECONDS: i64 = 3600;

/// Claims about the object itself (RFC 7519 §4.1), not authorization parameters.
const OBJECT_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "nbf", "iat", "jti"];

/// `invalid_request_object` (OIDC Core §3.1.2.6, RFC 9101 §6.3).
pub fn invalid(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRequestObject, description.into())
}

/// Whether an object signed with `alg` may be read: one of `algorithms`
/// ([`signing_algorithms`]), or `none` where the server allows unsigned objects.
pub fn algorithm_accepted(
    alg: &str,
    algorithms: &[&str],
    unsigned_allowed: bool,
) -> Result<(), OAuthError> {
    match alg {
        "none" if unsigned_allowed => Ok(()),
        "none" => Err(invalid(
            "unsigned request objects (alg none) are not accepted; sign it with a registered key",
        )),
        alg if algorithms.contains(&alg) => Ok(()),
        alg => Err(invalid(format!(
            "request objects signed with {alg} are not accepted"
        ))),
    }
}

/// What a request object's own claims are checked against.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The client the request names outside the object.
    pub client_id: &'a str,
    /// This server's issuer identifier, the audience the object must name if it names one.
    pub issuer: &'a str,
    /// Now, by the server's clock.
    pub now: UnixTime,
    /// Signed, rather than unsecured (`alg` `none`, which proves nothing and
    /// which only a setting lets in): it must say when it ends.
    pub signed: bool,
    /// Under the FAPI 2.0 profile `aud`, `exp` and `nbf` are required, and
    /// `exp` at most an hour after `nbf` (as FAPI 2.0 Message Signing asks).
    pub fapi2: bool,
}

/// RFC 9101 §10.8: the `typ` a request object may carry — its own explicit
/// type, or plain `JWT` — so a JWT made for something else is never read as one.
pub fn typ_accepted(typ: Option<&str>) -> Result<(), OAuthError> {
    match typ {
        None => Ok(()),
        Some(t)
            if t.eq_ignore_ascii_case("oauth-authz-req+jwt") || t.eq_ignore_ascii_case("JWT") =>
        {
            Ok(())
        }
        Some(t) => Err(invalid(format!(
            "a JWT of type `{t}` is not a request object (`oauth-authz-req+jwt`)"
        ))),
    }
}

/// The longest a request object may be valid under the FAPI 2.0 profile, `nbf` to `exp`.
pub const FAPI2_MAX_LIFETIME_SECONDS: i64 = 3600;

/// Checks the claims about the object: `iss` and `client_id` name the client
/// (RFC 9101 §5), `aud` names this server (RFC 9101 §4), it has not expired and
/// is already valid, and it carries no request object of its own. Absent
/// `iss`, `aud`, `nbf` are accepted, as OIDC Core §6.1 only recommends them; a
/// signed object without `exp` lasts [`REPLAY_WINDOW_SECONDS`] from its `iat`,
/// which it must then have, so no signed object is good for ever.
pub fn check(claims: &Map<String, Value>, expected: &Expected<'_>) -> Result<(), OAuthError> {
    for name in ["iss", "client_id"] {
        match claims.get(name) {
            None => {}
            Some(Value::String(value)) if value == expected.client_id => {}
            Some(_) => {
                return Err(invalid(format!(
                    "the request object's `{name}` is not the client_id of the request"
                )));
            }
        }
    }
    let audience_ok = match claims.get("aud") {
        None => true,
        Some(Value::String(aud)) => aud == expected.issuer,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expected.issuer)),
        Some(_) => false,
    };
    if !audience_ok {
        return Err(invalid(
            "the request object's `aud` does not name this server's issuer",
        ));
    }
    match (time_claim(claims, "exp")?, time_claim(claims, "iat")?) {
        (Some(exp), _) if exp <= expected.now => {
            return Err(invalid("the request object has expired"));
        }
        (Some(_), _) => {}
        (None, _) if !expected.signed => {}
        (None, Some(iat)) if iat.saturating_add(REPLAY_WINDOW_SECONDS) <= expected.now => {
            return Err(invalid(
                "the request object has no `exp` and was made (`iat`) over an hour ago",
            ));
        }
        (None, Some(_)) => {}
        (None, None) => {
            return Err(invalid(
                "a signed request object must say when it ends: `exp`",
            ));
        }
    }
    if let Some(nbf) = time_claim(claims, "nbf")?
        && nbf > expected.now.saturating_add(CLOCK_SKEW_SECONDS)
    {
        return Err(invalid("the request object is not valid yet (`nbf`)"));
    }
    if claims.contains_key("request") || claims.contains_key("request_uri") {
        return Err(invalid(
            "a request object may not carry `request` or `request_uri` (RFC 9101 §4)",
        ));
    }
    if expected.fapi2 {
        fapi2_lifetime(claims)?;
    }
    Ok(())
}

/// FAPI 2.0: `aud`, `exp` and `nbf` present, and `exp` within the hour after `nbf`.
fn fapi2_lifetime(claims: &Map<String, Value>) -> Result<(), OAuthError> {
    if !claims.contains_key("aud") {
        return Err(invalid(
            "the request object must name this server in `aud` (FAPI 2.0)",
        ));
    }
    let (Some(exp), Some(nbf)) = (time_claim(claims, "exp")?, time_claim(claims, "nbf")?) else {
        return Err(invalid(
            "the request object must have `exp` and `nbf` (FAPI 2.0)",
        ));
    };
    if exp.saturating_sub(nbf) > FAPI2_MAX_LIFETIME_SECONDS {
        return Err(invalid(
            "the request object may be valid for at most an hour after its `nbf` (FAPI 2.0)",
        ));
    }
    Ok(())
}

/// A NumericDate claim (RFC 7519 §2), if present.
fn time_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<UnixTime>, OAuthError> {
    numeric_date(claims, name)
        .map_err(|_| invalid(format!("the request object's `{name}` is not a number")))
}

/// What the store remembers of the object's `jti`, if it has one (its digest,
/// scoped to the client, since each client picks its own ids), and until when
/// it must not be seen again: its `exp`, or [`REPLAY_WINDOW_SECONDS`] from its
/// `iat` (or, for an unsecured object with neither, from now).
pub fn replay_key(
    claims: &Map<String, Value>,
    client_id: &str,
    now: UnixTime,
) -> Result<Option<(SecretHash, UnixTime)>, OAuthError> {
    let Some(jti) = claims.get("jti") else {
        return Ok(None);
    };
    let jti = jti
        .as_str()
        .filter(|j| !j.is_empty())
        .ok_or_else(|| invalid("the request object's `jti` is not a string"))?;
    let until = match (time_claim(claims, "exp")?, time_claim(claims, "iat")?) {
        (Some(exp), _) => exp,
        (None, Some(iat)) => iat.saturating_add(REPLAY_WINDOW_SECONDS),
        (None, None) => now.saturating_add(REPLAY_WINDOW_SECONDS),
    };
    let digest = SecretHash::of(&format!("request object\n{client_id}\n{jti}"));
    Ok(Some((digest, until)))
}

/// The authorization parameters the object stands for, with the request's
/// `client_id`. Only these are acted on; the parameters sent beside the object
/// are ignored (RFC 9101 §6.3: the object's win, and OAuth ones outside it are
/// not used). Strings are taken as they are, numbers and booleans as their
/// text, `resource` arrays as repeated values, and other JSON (the `claims`
/// request) as its JSON text.
pub fn parameters(claims: &Map<String, Value>, client_id: &str) -> Vec<(String, String)> {
    let mut pairs = vec![("client_id".to_owned(), client_id.to_owned())];
    for (name, value) in claims {
        if OBJECT_CLAIMS.contains(&name.as_str()) || name == "client_id" {
            continue;
        }
        match value {
            Value::Null => {}
            Value::String(text) => pairs.push((name.clone(), text.clone())),
            Value::Array(items) if name == "resource" => {
                pairs.extend(items.iter().map(|item| (name.clone(), json_text(item))))
            }
            other => pairs.push((name.clone(), json_text(other))),
        }
    }
    pairs
}

fn json_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: UnixTime = 1_000_000;

    fn expected() -> Expected<'static> {
        Expected {
            client_id: "rp",
            issuer: "https://op.example/o",
            now: NOW,
            signed: false,
            fapi2: false,
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().expect("an object").clone()
    }

    fn code_of(result: Result<(), OAuthError>) -> Option<ErrorCode> {
        result.err().map(|e| e.code)
    }

    #[test]
    fn only_the_advertised_algorithms_and_none_when_allowed_are_accepted() {
        let algorithms = signing_algorithms(false);
        for alg in SIGNING_ALGORITHMS {
            assert_eq!(algorithm_accepted(alg, algorithms, false), Ok(()), "{alg}");
        }
        for alg in ["HS256", "RS512", "none", "", "NONE"] {
            assert_eq!(
                code_of(algorithm_accepted(alg, algorithms, false)),
                Some(ErrorCode::InvalidRequestObject),
                "{alg}"
            );
        }
        assert_eq!(algorithm_accepted("none", algorithms, true), Ok(()));
        assert!(
            algorithm_accepted("NONE", algorithms, true).is_err(),
            "alg is case-sensitive"
        );
        // FAPI 2.0 §5.4.1: PS256, ES256 and EdDSA only.
        let fapi = signing_algorithms(true);
        assert!(algorithm_accepted("RS256", fapi, false).is_err());
        for alg in ["PS256", "ES256", "EdDSA"] {
            assert_eq!(algorithm_accepted(alg, fapi, false), Ok(()), "{alg}");
        }
    }

    #[test]
    fn a_well_formed_object_passes_with_or_without_its_optional_claims() {
        assert_eq!(
            check(&claims(json!({"scope": "openid"})), &expected()),
            Ok(())
        );
        let full = json!({
            "iss": "rp", "client_id": "rp", "aud": ["other", "https://op.example/o"],
            "exp": NOW + 60, "nbf": NOW - 5, "iat": NOW - 5, "jti": "j1",
        });
        assert_eq!(check(&claims(full), &expected()), Ok(()));
        let fractional = json!({"aud": "https://op.example/o", "exp": (NOW as f64) + 0.5 + 30.0});
        assert_eq!(check(&claims(fractional), &expected()), Ok(()));
    }

    #[test]
    fn the_objects_own_claims_are_checked() {
        for bad in [
            json!({"iss": "another"}),
            json!({"iss": 7}),
            json!({"client_id": "another"}),
            json!({"aud": "https://op.example"}),
            json!({"aud": ["https://elsewhere.example"]}),
            json!({"aud": 1}),
            json!({"exp": NOW}),
            json!({"exp": NOW - 1}),
            json!({"exp": "soon"}),
            json!({"nbf": NOW + CLOCK_SKEW_SECONDS + 1}),
            json!({"request": "eyJ"}),
            json!({"request_uri": "https://rp.example/r"}),
        ] {
            assert_eq!(
                code_of(check(&claims(bad.clone()), &expected())),
                Some(ErrorCode::InvalidRequestObject),
                "{bad}"
            );
        }
        let skewed = json!({"nbf": NOW + CLOCK_SKEW_SECONDS});
        assert_eq!(check(&claims(skewed), &expected()), Ok(()));
    }

    #[test]
    fn under_fapi2_the_object_names_us_and_lasts_an_hour_at_most() {
        let fapi = Expected {
            fapi2: true,
            ..expected()
        };
        let good = json!({"aud": "https://op.example/o", "nbf": NOW - 10, "exp": NOW + 60});
        assert_eq!(check(&claims(good.clone()), &fapi), Ok(()));
        assert_eq!(
            check(&claims(json!({})), &expected()),
            Ok(()),
            "without the profile"
        );
        for name in ["aud", "nbf", "exp"] {
            let mut missing = claims(good.clone());
            missing.remove(name);
            assert_eq!(
                code_of(check(&missing, &fapi)),
                Some(ErrorCode::InvalidRequestObject),
                "{name}"
            );
        }
        let long = json!({"aud": "https://op.example/o", "nbf": NOW - 10, "exp": NOW - 10 + 3601});
        assert!(check(&claims(long), &fapi).is_err());
    }

    #[test]
    fn a_signed_object_ends_by_its_exp_or_an_hour_after_its_iat() {
        let signed = Expected {
            signed: true,
            ..expected()
        };
        assert_eq!(check(&claims(json!({"exp": NOW + 60})), &signed), Ok(()));
        assert_eq!(check(&claims(json!({"iat": NOW - 3599})), &signed), Ok(()));
        for bad in [json!({}), json!({"iat": NOW - 3600}), json!({"jti": "j"})] {
            assert_eq!(
                code_of(check(&claims(bad.clone()), &signed)),
                Some(ErrorCode::InvalidRequestObject),
                "{bad}"
            );
        }
        // Its jti is remembered for as long as it lasts.
        let (_, until) = replay_key(&claims(json!({"jti": "j", "iat": NOW - 10})), "rp", NOW)
            .unwrap()
            .unwrap();
        assert_eq!(until, NOW - 10 + REPLAY_WINDOW_SECONDS);
    }

    #[test]
    fn only_a_request_objects_own_type_is_read() {
        for typ in [None, Some("oauth-authz-req+jwt"), Some("JWT"), Some("jwt")] {
            assert_eq!(typ_accepted(typ), Ok(()), "{typ:?}");
        }
        for typ in [
            "dpop+jwt",
            "logout+jwt",
            "at+jwt",
            "client-authentication+jwt",
            "",
        ] {
            assert!(typ_accepted(Some(typ)).is_err(), "{typ}");
        }
    }

    #[test]
    fn a_jti_is_remembered_until_the_object_expires() {
        let with_exp = claims(json!({"jti": "a", "exp": NOW + 30}));
        let (digest, until) = replay_key(&with_exp, "rp", NOW).unwrap().unwrap();
        assert_eq!(until, NOW + 30);
        let (again, _) = replay_key(&with_exp, "rp", NOW + 5).unwrap().unwrap();
        assert_eq!(digest, again, "the same jti of the same client");
        let (other_client, _) = replay_key(&with_exp, "rp2", NOW).unwrap().unwrap();
        assert_ne!(
            digest, other_client,
            "clients choose their ids independently"
        );
        let without = claims(json!({"jti": "b"}));
        let (_, until) = replay_key(&without, "rp", NOW).unwrap().unwrap();
        assert_eq!(until, NOW + REPLAY_WINDOW_SECONDS);
        assert_eq!(replay_key(&claims(json!({})), "rp", NOW), Ok(None));
        for bad in [json!({"jti": ""}), json!({"jti": 5})] {
            assert!(replay_key(&claims(bad), "rp", NOW).is_err());
        }
    }

    #[test]
    fn the_object_becomes_the_requests_parameters() {
        let object = claims(json!({
            "iss": "rp", "aud": "https://op.example/o", "exp": NOW + 60, "jti": "j",
            "client_id": "rp", "response_type": "code", "max_age": 300,
            "claims": {"userinfo": {"email": null}}, "resource": ["https://a", "https://b"],
            "nonce": null,
        }));
        let mut pairs = parameters(&object, "rp");
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("claims", r#"{"userinfo":{"email":null}}"#),
                ("client_id", "rp"),
                ("max_age", "300"),
                ("resource", "https://a"),
                ("resource", "https://b"),
                ("response_type", "code"),
            ]
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
    }
}
