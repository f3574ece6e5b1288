//! The token endpoint `/o/token/` (RFC 6749 §3.2, §4–6): one module per grant.

mod authorization_code;
mod client_credentials;
mod device_code;
pub(crate) mod issue;
mod password;
mod refresh_token;

use axum::extract::State;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, ORIGIN, VARY,
};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tollgate_core::model::Application;
use tollgate_core::resource::Resources;
use tollgate_core::token::{GrantRequest, client_may_use};
use tollgate_core::{ErrorCode, OAuthError};

use crate::client_auth::{self, Public};
use crate::form;
use crate::oauth_json::{self, Challenge};
use crate::provider::Shared;

/// Why a grant produced no tokens.
pub(crate) enum Failure {
    OAuth(OAuthError),
    /// Another request spent what the grant spends first ([`issue::Grant::spends`]).
    Spent,
    Internal(String),
    Store(tollgate_store::StoreError),
}

impl From<OAuthError> for Failure {
    fn from(e: OAuthError) -> Self {
        Failure::OAuth(e)
    }
}

impl From<tollgate_store::StoreError> for Failure {
    fn from(e: tollgate_store::StoreError) -> Self {
        Failure::Store(e)
    }
}

pub(crate) async fn token(
    State(inner): State<Shared>,
    headers: HeaderMap,
    extensions: Extensions,
    body: Bytes,
) -> Response {
    let params = match form::params(&headers, &body) {
        Ok(p) => p,
        Err(e) => return oauth_json::error(&e, Challenge::None),
    };
    let grant = match GrantRequest::parse(&params) {
        Ok(g) => g,
        Err(e) => return oauth_json::error(&e, Challenge::None),
    };
    let client =
        match client_auth::authenticate(&inner, &headers, &extensions, &params, Public::Allowed)
            .await
        {
            Ok(c) => c,
            Err(refusal) => return refusal.into_response(),
        };
    let requested = Resources::requested(params.resources(), &inner.settings.allowed_resources);
    let outcome = match client_may_use(&client, &grant).and(requested) {
        Err(e) => Err(Failure::OAuth(e)),
        Ok(requested) => match grant {
            GrantRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                authorization_code::grant(
                    &inner,
                    &client,
                    &code,
                    redirect_uri.as_deref(),
                    code_verifier.as_deref(),
                    requested,
                )
                .await
            }
            GrantRequest::ClientCredentials { scope } => {
                client_credentials::grant(&inner, &client, scope.as_deref(), requested).await
            }
            GrantRequest::Password {
                username,
                password,
                scope,
            } => {
                password::grant(
                    &inner,
                    &client,
                    inner.client_address(&headers, &extensions),
                    username,
                    password,
                    scope.as_deref(),
                    requested,
                )
                .await
            }
            GrantRequest::RefreshToken {
                refresh_token,
                scope,
            } => {
                refresh_token::grant(&inner, &client, &refresh_token, scope.as_deref(), requested)
                    .await
            }
            GrantRequest::DeviceCode { device_code } => {
                device_code::grant(&inner, &client, &device_code, requested).await
            }
        },
    };
    let response = match outcome {
        Ok(tokens) => oauth_json::ok(&tokens),
        Err(Failure::OAuth(e)) => oauth_json::error(&e, Challenge::None),
        Err(Failure::Spent) => {
            let used = OAuthError::invalid_grant("the grant was used by another request");
            oauth_json::error(&used, Challenge::None)
        }
        Err(Failure::Internal(e)) => oauth_json::server_error("token endpoint failed", e),
        Err(Failure::Store(e)) => oauth_json::server_error("token endpoint failed", e),
    };
    allow_origin(response, &headers, &client)
}

/// A browser client may read the answer only from an origin it registered.
pub(crate) fn allow_origin(
    mut response: Response,
    headers: &HeaderMap,
    client: &Application,
) -> Response {
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    if let Some(origin) = origin.filter(|o| client.allowed_origins.iter().any(|a| a == o))
        && let Ok(value) = HeaderValue::from_str(origin)
    {
        response
            .headers_mut()
            .insert(ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    response
        .headers_mut()
        .append(VARY, HeaderValue::from_static("Origin"));
    response
}

/// CORS preflight for the token and revocation endpoints: answered for an origin
/// some client registered (the real request is then checked against its client).
pub(crate) async fn preflight(State(inner): State<Shared>, headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(VARY, HeaderValue::from_static("Origin"));
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return response;
    };
    match inner.store.origin_is_registered(origin).await {
        Ok(true) => {
            if let Ok(value) = HeaderValue::from_str(origin) {
                h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, value);
                h.insert(
                    ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("POST"),
                );
                h.insert(
                    ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("authorization, content-type"),
                );
                h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
            }
            response
        }
        Ok(false) => response,
        Err(e) => oauth_json::server_error("origin lookup failed", e),
    }
}

fn invalid_grant(description: &str) -> Failure {
    Failure::OAuth(OAuthError::new(ErrorCode::InvalidGrant, description))
}
