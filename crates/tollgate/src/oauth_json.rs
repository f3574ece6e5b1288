//! JSON answers of the token, revocation and introspection endpoints: never
//! cached (RFC 6749 §5.1), errors in RFC 6749 §5.2 form.

use axum::Json;
use axum::http::header::{CACHE_CONTROL, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use tollgate_core::{ErrorCode, OAuthError};
use tollgate_store::StoreError;

/// How a 401 should challenge the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Challenge {
    None,
    Basic,
    Bearer,
}

pub(crate) fn ok(body: &impl Serialize) -> Response {
    no_store((StatusCode::OK, Json(body)).into_response())
}

pub(crate) fn error(err: &OAuthError, challenge: Challenge) -> Response {
    let status = StatusCode::from_u16(err.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({ "error": err.code.as_str(), "error_description": err.description });
    let mut response = no_store((status, Json(body)).into_response());
    let value = match challenge {
        Challenge::Basic if status == StatusCode::UNAUTHORIZED => {
            Some(r#"Basic realm="tollgate", charset="UTF-8""#.to_owned())
        }
        // RFC 6750 §3: the challenge names the error.
        Challenge::Bearer if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
            Some(format!(
                r#"Bearer realm="tollgate", error="{}""#,
                err.code.as_str()
            ))
        }
        _ => None,
    };
    if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    response
}

/// A failure of ours: the database out of reach, or anything else.
pub(crate) struct Fault {
    detail: String,
    outage: bool,
}

impl From<StoreError> for Fault {
    fn from(e: StoreError) -> Self {
        Fault {
            outage: e.is_unavailable(),
            detail: e.to_string(),
        }
    }
}

impl From<String> for Fault {
    fn from(detail: String) -> Self {
        Fault {
            detail,
            outage: false,
        }
    }
}

/// A failure of ours, reported without detail (the log has it): a database
/// outage as 503 `temporarily_unavailable` with `Retry-After`, anything else as
/// 500 `server_error`.
pub(crate) fn server_error(context: &str, fault: impl Into<Fault>) -> Response {
    let Fault { detail, outage } = fault.into();
    if outage {
        tracing::warn!(error = %detail, "{context}: the database is unavailable");
        return crate::outage::retry_later(error(
            &OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "the service is temporarily unavailable; try again shortly",
            ),
            Challenge::None,
        ));
    }
    tracing::error!(error = %detail, "{context}");
    error(
        &OAuthError::new(
            ErrorCode::ServerError,
            "the server could not complete the request",
        ),
        Challenge::None,
    )
}

/// 429 with `Retry-After` (RFC 6585): the error still in RFC 6749 §5.2 form.
pub(crate) fn throttled(err: &OAuthError, wait: i64) -> Response {
    let body = json!({ "error": err.code.as_str(), "error_description": err.description });
    let mut response = no_store((StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response());
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(wait.max(1)));
    response
}

pub(crate) fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
