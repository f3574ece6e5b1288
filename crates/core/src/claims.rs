//! Which user claims a client gets: by scope (OIDC Core §5.4, DOT's mapping)
//! and by the `claims` request parameter (§5.5).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::OAuthError;
use crate::scope::Scopes;

/// OIDC Core §5.4: the claims each standard scope asks for.
pub const SCOPE_CLAIMS: [(&str, &[&str]); 4] = [
    (
        "profile",
        &[
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "updated_at",
        ],
    ),
    ("email", &["email", "email_verified"]),
    ("address", &["address"]),
    ("phone", &["phone_number", "phone_number_verified"]),
];

/// Claims about the authentication itself, which the user record does not hold.
pub const PROTOCOL_CLAIMS: [&str; 13] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "azp",
    "at_hash",
    "c_hash",
    "jti",
    "sid",
];

/// Every user claim Tollgate can produce, for discovery's `claims_supported`.
pub fn user_claim_names() -> impl Iterator<Item = &'static str> {
    SCOPE_CLAIMS
        .iter()
        .flat_map(|(_, names)| names.iter().copied())
}

/// One member of a `claims` request: null, or `essential`, `value`, `values`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimSpec {
    /// `essential`: the client says it needs the claim (OIDC Core §5.5.1).
    pub essential: bool,
    /// `value` and `values` together: what the client would accept; empty: any.
    pub values: Vec<Value>,
}

/// The `claims` parameter: what the client wants in UserInfo and in the ID token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimsRequest {
    /// Claims asked for in UserInfo answers, by name.
    pub userinfo: BTreeMap<String, ClaimSpec>,
    /// Claims asked for in the ID token, by name.
    pub id_token: BTreeMap<String, ClaimSpec>,
}

/// Where claims are going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The UserInfo answer: the request's `userinfo` member.
    UserInfo,
    /// The ID token: the request's `id_token` member.
    IdToken,
}

impl ClaimsRequest {
    /// Parses the JSON text of the parameter; other top-level members are ignored (§5.5).
    pub fn parse(text: &str) -> Result<Self, OAuthError> {
        let bad = |why: &str| OAuthError::invalid_request(format!("the claims parameter {why}"));
        let value: Value = serde_json::from_str(text).map_err(|_| bad("is not JSON"))?;
        let Value::Object(top) = value else {
            return Err(bad("must be a JSON object"));
        };
        let member = |name: &str| -> Result<BTreeMap<String, ClaimSpec>, OAuthError> {
            match top.get(name) {
                None | Some(Value::Null) => Ok(BTreeMap::new()),
                Some(Value::Object(claims)) => claims
                    .iter()
                    .map(|(claim, spec)| {
                        Ok((
                            claim.clone(),
                            ClaimSpec::parse(spec).ok_or_else(|| {
                                bad(&format!("has a malformed request for `{claim}`"))
                            })?,
                        ))
                    })
                    .collect(),
                Some(_) => Err(bad(&format!("member `{name}` must be an object"))),
            }
        };
        Ok(ClaimsRequest {
            userinfo: member("userinfo")?,
            id_token: member("id_token")?,
        })
    }

    /// Adds `acr_values` as a voluntary request for `acr` in the ID token (§3.1.2.1).
    pub fn with_acr_values(mut self, acr_values: &[String]) -> Self {
        if !acr_values.is_empty() {
            let spec = self.id_token.entry("acr".into()).or_default();
            spec.values
                .extend(acr_values.iter().map(|v| Value::String(v.clone())));
        }
        self
    }

    /// §5.5.1: the subjects a request for `sub` with a value allows, if it names any.
    pub fn required_subjects(&self) -> Option<Vec<&str>> {
        let values: Vec<&str> = [&self.id_token, &self.userinfo]
            .into_iter()
            .filter_map(|member| member.get("sub"))
            .flat_map(|spec| spec.values.iter().filter_map(Value::as_str))
            .collect();
        (!values.is_empty()).then_some(values)
    }

    /// §5.5.1.1: an essential `acr` whose values do not include `performed`
    /// cannot be met, which counts as a failed authentication.
    pub fn essential_acr_unmet(&self, performed: &str) -> bool {
        self.id_token.get("acr").is_some_and(|spec| {
            spec.essential
                && !spec.values.is_empty()
                && !spec.values.iter().any(|v| v.as_str() == Some(performed))
        })
    }

    /// The claims asked for `target`.
    pub fn member(&self, target: Target) -> &BTreeMap<String, ClaimSpec> {
        match target {
            Target::UserInfo => &self.userinfo,
            Target::IdToken => &self.id_token,
        }
    }

    /// True when neither member asks for any claim.
    pub fn is_empty(&self) -> bool {
        self.userinfo.is_empty() && self.id_token.is_empty()
    }

    /// The standard scopes whose claims it asks for (OIDC Core §5.4): what the
    /// user must consent to for them, as if the client had asked by scope.
    pub fn scopes(&self) -> Scopes {
        SCOPE_CLAIMS
            .iter()
            .filter(|(_, names)| {
                names
                    .iter()
                    .any(|n| self.userinfo.contains_key(*n) || self.id_token.contains_key(*n))
            })
            .map(|(scope, _)| (*scope).to_owned())
            .collect()
    }

    /// Drops the claims of standard scopes the client may not have, so no
    /// claim reaches a client that could not get it by scope.
    pub fn retain_available(&mut self, available: &[&str]) {
        let allowed = |claim: &str| {
            SCOPE_CLAIMS
                .iter()
                .find(|(_, names)| names.contains(&claim))
                .is_none_or(|(scope, _)| available.contains(scope))
        };
        self.userinfo.retain(|name, _| allowed(name));
        self.id_token.retain(|name, _| allowed(name));
    }

    /// The canonical JSON text, as stored with codes and tokens.
    pub fn to_json(&self) -> String {
        let member = |claims: &BTreeMap<String, ClaimSpec>| {
            Value::Object(
                claims
                    .iter()
                    .map(|(name, spec)| (name.clone(), spec.to_json()))
                    .collect(),
            )
        };
        let mut top = Map::new();
        if !self.userinfo.is_empty() {
            top.insert("userinfo".into(), member(&self.userinfo));
        }
        if !self.id_token.is_empty() {
            top.insert("id_token".into(), member(&self.id_token));
        }
        Value::Object(top).to_string()
    }
}

impl ClaimSpec {
    fn parse(value: &Value) -> Option<Self> {
        match value {
            Value::Null => Some(ClaimSpec::default()),
            Value::Object(spec) => {
                let essential = match spec.get("essential") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return None,
                };
                let mut values: Vec<Value> = spec.get("value").cloned().into_iter().collect();
                match spec.get("values") {
                    None => {}
                    Some(Value::Array(many)) => values.extend(many.iter().cloned()),
                    Some(_) => return None,
                }
                Some(ClaimSpec { essential, values })
            }
            _ => None,
        }
    }

    fn to_json(&self) -> Value {
        if *self == ClaimSpec::default() {
            return Value::Null;
        }
        let mut spec = Map::new();
        if self.essential {
            spec.insert("essential".into(), true.into());
        }
        if !self.values.is_empty() {
            spec.insert("values".into(), Value::Array(self.values.clone()));
        }
        Value::Object(spec)
    }
}

/// The user claims a response may carry: those the granted scopes cover (when
/// `by_scope`), plus those the `claims` request names for this target, which
/// need the `openid` scope only.
pub fn select(
    available: &Map<String, Value>,
    scope: &Scopes,
    by_scope: bool,
    request: Option<&ClaimsRequest>,
    target: Target,
) -> Map<String, Value> {
    let mut wanted: Vec<&str> = Vec::new();
    if by_scope {
        for (name, claims) in SCOPE_CLAIMS {
            if scope.contains(name) {
                wanted.extend(claims.iter().copied());
            }
        }
    }
    if let Some(request) = request {
        wanted.extend(request.member(target).keys().map(String::as_str));
    }
    wanted
        .into_iter()
        .filter(|name| !PROTOCOL_CLAIMS.contains(name))
        .filter_map(|name| Some((name.to_owned(), available.get(name)?.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Map<String, Value> {
        json!({
            "name": "Alice Liddell", "given_name": "Alice", "family_name": "Liddell",
            "preferred_username": "alice", "email": "alice@example.com", "email_verified": true,
            "phone_number": "+44 1865 000000", "phone_number_verified": false,
            "address": {"formatted": "Christ Church, Oxford"},
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn scopes(text: &str) -> Scopes {
        Scopes::parse(text).unwrap()
    }

    #[test]
    fn scope_selects_dots_mapping() {
        let got = select(
            &user(),
            &scopes("openid email"),
            true,
            None,
            Target::UserInfo,
        );
        assert_eq!(got.keys().collect::<Vec<_>>(), ["email", "email_verified"]);
        let got = select(
            &user(),
            &scopes("openid profile phone address"),
            true,
            None,
            Target::UserInfo,
        );
        assert!(got.contains_key("given_name") && got.contains_key("phone_number"));
        assert_eq!(
            got["address"],
            json!({"formatted": "Christ Church, Oxford"})
        );
        assert!(!got.contains_key("email"));
        let none = select(
            &user(),
            &scopes("openid profile"),
            false,
            None,
            Target::IdToken,
        );
        assert!(none.is_empty(), "no scope claims where they are not due");
    }

    #[test]
    fn claims_request_adds_individual_claims_per_target() {
        let request = ClaimsRequest::parse(
            r#"{"userinfo":{"email":{"essential":true}},"id_token":{"given_name":null,"sub":{"value":"x"}}}"#,
        )
        .unwrap();
        assert!(request.userinfo["email"].essential);
        let ui = select(
            &user(),
            &scopes("openid"),
            true,
            Some(&request),
            Target::UserInfo,
        );
        assert_eq!(ui.keys().collect::<Vec<_>>(), ["email"]);
        let id = select(
            &user(),
            &scopes("openid"),
            false,
            Some(&request),
            Target::IdToken,
        );
        assert_eq!(
            id.keys().collect::<Vec<_>>(),
            ["given_name"],
            "protocol claims are never overridden"
        );
        let unknown = ClaimsRequest::parse(r#"{"userinfo":{"shoe_size":null}}"#).unwrap();
        assert!(
            select(
                &user(),
                &scopes("openid"),
                true,
                Some(&unknown),
                Target::UserInfo
            )
            .is_empty()
        );
    }

    #[test]
    fn requested_claims_need_their_scopes() {
        let mut request = ClaimsRequest::parse(
            r#"{"userinfo":{"email":null,"phone_number":null,"nickname":null},"id_token":{"address":null,"acr":null}}"#,
        )
        .unwrap();
        assert_eq!(request.scopes().to_string(), "address email phone");
        request.retain_available(&["openid", "email", "profile"]);
        assert_eq!(
            request.userinfo.keys().collect::<Vec<_>>(),
            ["email", "nickname"],
            "a refused scope's claims go, others stay"
        );
        assert_eq!(request.id_token.keys().collect::<Vec<_>>(), ["acr"]);
        assert_eq!(request.scopes().to_string(), "email");
    }

    #[test]
    fn sub_values_and_essential_acr_are_requirements() {
        let request = ClaimsRequest::parse(
            r#"{"id_token":{"sub":{"value":"42"},"acr":{"essential":true,"values":["urn:a","urn:b"]}}}"#,
        )
        .unwrap();
        assert_eq!(request.required_subjects(), Some(vec!["42"]));
        assert!(request.essential_acr_unmet("urn:c"));
        assert!(!request.essential_acr_unmet("urn:b"));
        let voluntary = ClaimsRequest::default().with_acr_values(&["urn:a".into()]);
        assert!(
            !voluntary.essential_acr_unmet("urn:c"),
            "acr_values are voluntary"
        );
        assert_eq!(voluntary.required_subjects(), None);
    }

    #[test]
    fn malformed_claims_requests_are_invalid_requests() {
        for bad in [
            "not json",
            "[]",
            r#"{"userinfo":[]}"#,
            r#"{"id_token":{"email":5}}"#,
            r#"{"id_token":{"email":{"essential":"yes"}}}"#,
            r#"{"id_token":{"acr":{"values":"x"}}}"#,
        ] {
            let e = ClaimsRequest::parse(bad).unwrap_err();
            assert_eq!(e.code, crate::ErrorCode::InvalidRequest, "{bad}");
        }
    }

    #[test]
    fn round_trips_through_canonical_json_with_acr_values() {
        let request = ClaimsRequest::parse(
            r#"{"userinfo":{"email":{"essential":true,"value":"a@b"}},"other":1}"#,
        )
        .unwrap()
        .with_acr_values(&["urn:x".into()]);
        let again = ClaimsRequest::parse(&request.to_json()).unwrap();
        assert_eq!(again, request);
        assert_eq!(again.id_token["acr"].values, vec![json!("urn:x")]);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC*") {
            let _ = ClaimsRequest::parse(&text);
        }
    }
}
