//! Bearer tokens as RFC 6750 §2 lets a client send them: the `Authorization`
//! header, or the form body of a POST; never the query string (RFC 9700 §4.3.2).

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use tollgate_core::model::BearerToken;
use tollgate_core::{OAuthError, Params, SecretHash};
use tollgate_store::StoreError;

use crate::provider::Inner;

/// An RFC 6750 §3 `WWW-Authenticate: Bearer` challenge (with RFC 9728 §5.1's
/// `resource_metadata`): the one place its syntax is written.
#[derive(Debug, Default)]
pub(crate) struct Challenge<'a> {
    pub(crate) realm: &'a str,
    pub(crate) error: Option<&'a str>,
    /// Sent only beside an error code.
    pub(crate) description: Option<&'a str>,
    pub(crate) scope: Option<&'a str>,
    pub(crate) resource_metadata: Option<&'a str>,
}

impl Challenge<'_> {
    pub(crate) fn text(&self) -> String {
        let mut parts = vec![format!("realm=\"{}\"", quoted(self.realm))];
        if let Some(error) = self.error {
            parts.push(format!("error=\"{}\"", quoted(error)));
            if let Some(description) = self.description {
                parts.push(format!("error_description=\"{}\"", quoted(description)));
            }
        }
        if let Some(scope) = self.scope.filter(|s| !s.is_empty()) {
            parts.push(format!("scope=\"{}\"", quoted(scope)));
        }
        if let Some(url) = self.resource_metadata {
            parts.push(format!("resource_metadata=\"{}\"", quoted(url)));
        }
        format!("Bearer {}", parts.join(", "))
    }
}

/// A quoted-string's content: `"` and `\` escaped, control characters dropped.
fn quoted(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

/// The token of an `Authorization: Bearer` header (scheme case-insensitive).
pub(crate) fn from_header(headers: &HeaderMap) -> Option<&str> {
    with_scheme(headers, "bearer")
}

/// The token of an `Authorization: DPoP` header (RFC 9449 §7.1).
pub(crate) fn dpop_from_header(headers: &HeaderMap) -> Option<&str> {
    with_scheme(headers, "dpop")
}

fn with_scheme<'a>(headers: &'a HeaderMap, wanted: &str) -> Option<&'a str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case(wanted))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
}

/// The token from the header or, when `body` is given, the `access_token` form
/// field; both at once is `invalid_request` (RFC 6750 §2).
pub(crate) fn presented<'a>(
    headers: &'a HeaderMap,
    body: Option<&'a Params>,
) -> Result<Option<&'a str>, OAuthError> {
    let in_body = body.and_then(|p| p.get("access_token"));
    match (from_header(headers), in_body) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "the access token was sent in more than one way",
        )),
        (header, body) => Ok(header.or(body)),
    }
}

/// RFC 9449 §7.1: a DPoP-bound token presented as a bearer token, at an
/// endpoint that takes bearer tokens only: refused, as if unknown.
pub(crate) fn bound_as_bearer() -> OAuthError {
    OAuthError::new(
        tollgate_core::ErrorCode::InvalidToken,
        "the access token is DPoP-bound and is not accepted as a bearer token here",
    )
}

/// The access token a bearer string names, with its client id and user, if it
/// exists and has not expired: one indexed lookup.
pub(crate) async fn live_bearer(
    inner: &Inner,
    token: &str,
) -> Result<Option<BearerToken>, StoreError> {
    let now = inner.clock.now();
    Ok(inner
        .store
        .bearer_token(&SecretHash::of(token))
        .await?
        // A deactivated user's tokens stop working with the user.
        .filter(|b| b.token.expires_at > now && b.user.as_ref().is_none_or(|u| u.active)))
}
