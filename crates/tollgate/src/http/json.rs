//! JSON answers of the protocol endpoints (token, revocation, introspection,
//! device authorization, registration, UserInfo): never cached (RFC 6749
//! §5.1), and every error turned into a response here, in RFC 6749 §5.2 form.

use axum::Json;
use axum::http::header::{CACHE_CONTROL, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use tollgate_core::{ErrorCode, OAuthError};
use tollgate_store::StoreError;

use crate::keys::signing::SigningError;

/// RFC 9449 §8.1: the header that carries a server nonce.
pub(crate) const DPOP_NONCE: &str = "dpop-nonce";

/// How a 401 should challenge the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Challenge {
    None,
    Basic,
    Bearer,
    /// RFC 9449 §7.1: a protected resource's DPoP challenge.
    Dpop,
}

/// Why a protocol endpoint answered with an error. Handlers return
/// `Result<_, JsonError>` and use `?`; the conversions decide the rest.
#[derive(Debug)]
pub(crate) enum JsonError {
    /// The request's fault, with the challenge a 401 (or RFC 6750 403) carries.
    OAuth(OAuthError, Challenge),
    /// RFC 9449 §8: the request must be made again with this server nonce (`DPoP-Nonce`).
    Nonce(OAuthError, Challenge, String),
    /// Too many failures: 429, to be tried again after this many seconds (RFC 6585).
    Throttled(OAuthError, i64),
    /// Ours: logged, and answered without detail.
    Fault(Fault),
}

pub(crate) type JsonResult<T = Response> = Result<T, JsonError>;

impl JsonError {
    /// `error` with an RFC 6750 bearer challenge.
    pub(crate) fn bearer(error: OAuthError) -> Self {
        JsonError::OAuth(error, Challenge::Bearer)
    }

    /// `error` with a `DPoP` challenge (RFC 9449 §7.1).
    pub(crate) fn dpop(error: OAuthError) -> Self {
        JsonError::OAuth(error, Challenge::Dpop)
    }

    /// `error` with a `Basic` challenge, as client authentication asks.
    pub(crate) fn basic(error: OAuthError) -> Self {
        JsonError::OAuth(error, Challenge::Basic)
    }
}

impl From<OAuthError> for JsonError {
    fn from(e: OAuthError) -> Self {
        JsonError::OAuth(e, Challenge::None)
    }
}

impl From<Fault> for JsonError {
    fn from(fault: Fault) -> Self {
        JsonError::Fault(fault)
    }
}

impl From<StoreError> for JsonError {
    fn from(e: StoreError) -> Self {
        JsonError::Fault(e.into())
    }
}

impl From<SigningError> for JsonError {
    fn from(e: SigningError) -> Self {
        JsonError::Fault(e.into())
    }
}

impl IntoResponse for JsonError {
    fn into_response(self) -> Response {
        match self {
            JsonError::OAuth(e, challenge) => error(&e, challenge),
            JsonError::Nonce(e, challenge, nonce) => {
                let mut response = error(&e, challenge);
                if let Ok(value) = HeaderValue::from_str(&nonce) {
                    response.headers_mut().insert(DPOP_NONCE, value);
                }
                response
            }
            JsonError::Throttled(e, wait) => throttled(&e, wait),
            JsonError::Fault(fault) => fault.into_response(),
        }
    }
}

/// A failure of ours: the database out of reach, or anything else.
#[derive(Debug)]
pub(crate) struct Fault {
    detail: String,
    outage: bool,
}

impl Fault {
    /// A failure described by `detail`, for the log only.
    pub(crate) fn new(detail: impl Into<String>) -> Self {
        Fault {
            detail: detail.into(),
            outage: false,
        }
    }
}

impl From<StoreError> for Fault {
    fn from(e: StoreError) -> Self {
        Fault {
            outage: crate::http::outage::is_outage(&e),
            detail: e.to_string(),
        }
    }
}

impl From<SigningError> for Fault {
    fn from(e: SigningError) -> Self {
        Fault::new(e.to_string())
    }
}

/// Reported without detail (the log has it): a database outage as 503
/// `temporarily_unavailable` with `Retry-After`, anything else as 500 `server_error`.
impl IntoResponse for Fault {
    fn into_response(self) -> Response {
        let Fault { detail, outage } = self;
        if outage {
            tracing::warn!(error = %detail, "the database is unavailable");
            return crate::http::outage::retry_later(error(
                &OAuthError::new(
                    ErrorCode::TemporarilyUnavailable,
                    "the service is temporarily unavailable; try again shortly",
                ),
                Challenge::None,
            ));
        }
        tracing::error!(error = %detail, "the request failed");
        error(
            &OAuthError::new(
                ErrorCode::ServerError,
                "the server could not complete the request",
            ),
            Challenge::None,
        )
    }
}

/// A successful JSON answer, never cached.
pub(crate) fn ok(body: &impl Serialize) -> Response {
    answer(StatusCode::OK, body)
}

/// A JSON answer for what the request made (RFC 9126 §2.2), never cached.
pub(crate) fn created(body: &impl Serialize) -> Response {
    answer(StatusCode::CREATED, body)
}

fn answer(status: StatusCode, body: &impl Serialize) -> Response {
    no_store((status, Json(body)).into_response())
}

fn error(err: &OAuthError, challenge: Challenge) -> Response {
    let status = match (challenge, err.code) {
        // RFC 9449 §7.1: at a resource, a bad proof is a 401 like a bad token.
        (Challenge::Dpop, ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce) => {
            StatusCode::UNAUTHORIZED
        }
        (_, code) => StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
    };
    let mut response = body(status, err);
    let value = match challenge {
        Challenge::Basic if status == StatusCode::UNAUTHORIZED => {
            Some(r#"Basic realm="tollgate", charset="UTF-8""#.to_owned())
        }
        // RFC 6750 §3: the challenge names the error.
        Challenge::Bearer if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
            let challenge = crate::oauth2::bearer::Challenge {
                realm: "tollgate",
                error: Some(err.code.as_str()),
                ..Default::default()
            };
            Some(challenge.text())
        }
        Challenge::Dpop if status == StatusCode::UNAUTHORIZED => Some(format!(
            "DPoP algs=\"{}\", error=\"{}\"",
            tollgate_core::dpop::ALGORITHMS.join(" "),
            err.code.as_str()
        )),
        _ => None,
    };
    if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    response
}

/// 429 with `Retry-After` (RFC 6585): the error still in RFC 6749 §5.2 form.
fn throttled(err: &OAuthError, wait: i64) -> Response {
    let mut response = body(StatusCode::TOO_MANY_REQUESTS, err);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(wait.max(1)));
    response
}

fn body(status: StatusCode, err: &OAuthError) -> Response {
    let body = json!({ "error": err.code.as_str(), "error_description": err.description });
    no_store((status, Json(body)).into_response())
}

pub(crate) fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
