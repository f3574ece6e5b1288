//! How a protected route says no (RFC 6750 §3, RFC 9728 §5.1).

use axum::http::header::{CACHE_CONTROL, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::oauth2::bearer::Challenge;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    /// No token at all: a challenge without an error code (RFC 6750 §3.1).
    Missing,
    /// Unknown, expired, revoked.
    Invalid,
    /// Restricted to other resources (RFC 8707).
    OtherAudience,
    /// Valid, but without the scopes the route needs (listed).
    InsufficientScope(String),
    /// A malformed request, such as a token in the query string.
    BadRequest(&'static str),
    /// The store or the introspection endpoint did not answer.
    Unavailable,
    /// The route is protected but no [`ResourceServer`](super::ResourceServer) layer is around it.
    Misconfigured,
    /// RFC 9449 §7.1: a DPoP-bound token sent as a bearer token.
    DpopRequired,
    /// RFC 9449 §7.1: the DPoP proof is missing, wrong, replayed or not by the token's key.
    DpopProof(String),
    /// RFC 9449 §9: the proof must carry this server nonce.
    DpopNonce(String),
}

/// A protected route's refusal: 401 or 403 with a `WWW-Authenticate: Bearer`
/// challenge and a JSON body, 400 for a malformed request, 503 when the token
/// could not be checked. The rejection of the extractors and of [`RequireScopes`](super::RequireScopes).
#[derive(Debug, Clone)]
pub struct Refusal {
    kind: Kind,
    realm: String,
    resource_metadata: Option<String>,
}

impl Refusal {
    pub(super) fn new(kind: Kind, realm: String, resource_metadata: Option<String>) -> Self {
        Refusal {
            kind,
            realm,
            resource_metadata,
        }
    }

    pub(super) fn misconfigured() -> Self {
        tracing::error!("a protected route has no ResourceServer layer around it");
        Refusal::new(Kind::Misconfigured, String::new(), None)
    }

    /// The HTTP status this refusal answers with.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            Kind::Missing
            | Kind::Invalid
            | Kind::OtherAudience
            | Kind::DpopRequired
            | Kind::DpopProof(_)
            | Kind::DpopNonce(_) => StatusCode::UNAUTHORIZED,
            Kind::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Kind::BadRequest(_) => StatusCode::BAD_REQUEST,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Misconfigured => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The RFC 6750 error code, if the refusal has one.
    pub fn error(&self) -> Option<&'static str> {
        match self.kind {
            Kind::Missing | Kind::Unavailable | Kind::Misconfigured => None,
            Kind::Invalid | Kind::OtherAudience | Kind::DpopRequired => Some("invalid_token"),
            Kind::DpopProof(_) => Some("invalid_dpop_proof"),
            Kind::DpopNonce(_) => Some("use_dpop_nonce"),
            Kind::InsufficientScope(_) => Some("insufficient_scope"),
            Kind::BadRequest(_) => Some("invalid_request"),
        }
    }

    fn description(&self) -> Option<&str> {
        match &self.kind {
            Kind::Missing => None,
            Kind::Invalid => Some("the access token is invalid, expired or revoked"),
            Kind::OtherAudience => Some("the access token is for another resource"),
            Kind::InsufficientScope(_) => Some("the access token lacks a scope this request needs"),
            Kind::BadRequest(why) => Some(why),
            Kind::Unavailable => Some("the access token could not be checked; try again shortly"),
            Kind::Misconfigured => Some("the server is misconfigured"),
            Kind::DpopRequired => {
                Some("the access token is DPoP-bound: send it as Authorization: DPoP, with a proof")
            }
            Kind::DpopProof(why) => Some(why),
            Kind::DpopNonce(_) => {
                Some("the DPoP proof must carry the nonce in the DPoP-Nonce header")
            }
        }
    }

    fn challenge(&self) -> String {
        if matches!(
            self.kind,
            Kind::DpopRequired | Kind::DpopProof(_) | Kind::DpopNonce(_)
        ) {
            // RFC 9449 §7.1: the DPoP scheme's own challenge, with the algorithms it takes.
            return format!(
                "DPoP algs=\"{}\", error=\"{}\"",
                tollgate_core::dpop::ALGORITHMS.join(" "),
                self.error().unwrap_or_default()
            );
        }
        let scope = match &self.kind {
            Kind::InsufficientScope(scope) => Some(scope.as_str()),
            _ => None,
        };
        Challenge {
            realm: &self.realm,
            error: self.error(),
            description: self.description(),
            scope,
            resource_metadata: self.resource_metadata.as_deref(),
        }
        .text()
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match (self.error(), self.description()) {
            (Some(error), Some(description)) => {
                json!({ "error": error, "error_description": description })
            }
            (None, Some(description)) => json!({ "error_description": description }),
            _ => json!({}),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
            && let Ok(value) = HeaderValue::from_str(&self.challenge())
        {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Kind::DpopNonce(nonce) = &self.kind
            && let Ok(value) = HeaderValue::from_str(nonce)
        {
            response
                .headers_mut()
                .insert(crate::http::json::DPOP_NONCE, value);
        }
        if self.kind == Kind::Unavailable {
            return crate::http::outage::retry_later(response);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(kind: Kind, metadata: Option<&str>) -> String {
        Refusal::new(kind, "api \"x\"".into(), metadata.map(str::to_owned)).challenge()
    }

    #[test]
    fn a_missing_token_gets_a_challenge_without_an_error() {
        assert_eq!(
            challenge(Kind::Missing, None),
            r#"Bearer realm="api \"x\"""#
        );
    }

    #[test]
    fn challenges_name_the_error_the_scope_and_the_metadata() {
        let c = challenge(
            Kind::InsufficientScope("read write".into()),
            Some("https://api.example/.well-known/oauth-protected-resource"),
        );
        assert!(c.contains(r#"error="insufficient_scope""#), "{c}");
        assert!(c.contains(r#"scope="read write""#), "{c}");
        assert!(
            c.contains(
                r#"resource_metadata="https://api.example/.well-known/oauth-protected-resource""#
            ),
            "{c}"
        );
        assert!(challenge(Kind::Invalid, None).contains(r#"error="invalid_token""#));
    }
}
