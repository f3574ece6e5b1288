//! Request bodies as OAuth reads them: form-encoded only, each parameter once.

use std::net::IpAddr;

use axum::extract::{FromRequest, Request};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tollgate_core::{OAuthError, Params};

use crate::http::json::JsonError;
use crate::provider::Shared;

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

/// A protocol endpoint's form POST, read once: its parameters, the headers
/// client authentication reads, and the client's address through the trusted proxies.
pub(crate) struct OAuthForm {
    pub(crate) headers: HeaderMap,
    pub(crate) params: Params,
    pub(crate) address: Option<IpAddr>,
}

impl FromRequest<Shared> for OAuthForm {
    type Rejection = Response;

    async fn from_request(request: Request, inner: &Shared) -> Result<Self, Response> {
        let address = inner.client_address(request.headers(), request.extensions());
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, inner)
            .await
            .map_err(IntoResponse::into_response)?;
        let params = params(&headers, &body).map_err(|e| JsonError::from(e).into_response())?;
        Ok(OAuthForm {
            headers,
            params,
            address,
        })
    }
}
