//! Bearer tokens as RFC 6750 §2 lets a client send them: the `Authorization`
//! header, or the form body of a POST; never the query string (RFC 9700 §4.3.2).

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use tollgate_core::model::BearerToken;
use tollgate_core::{OAuthError, Params, SecretHash};
use tollgate_store::StoreError;

use crate::provider::Inner;

/// The token of an `Authorization: Bearer` header (scheme case-insensitive).
pub(crate) fn from_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
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
