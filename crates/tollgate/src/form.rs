//! Request bodies as OAuth reads them: form-encoded only, each parameter once.

use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use tollgate_core::{OAuthError, Params};

/// Parses an `application/x-www-form-urlencoded` body (RFC 6749 §3.2); anything
/// else is `invalid_request`.
pub(crate) fn params(headers: &HeaderMap, body: &[u8]) -> Result<Params, OAuthError> {
    if !is_form(headers) {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| OAuthError::invalid_request("the body is not valid UTF-8"))?;
    Params::parse(text)
}

pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}
