//! Authenticating the client at the token, revocation and introspection endpoints.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tollgate_core::client_auth::credentials;

use tollgate_core::model::Application;
use tollgate_core::{ClientType, OAuthError, Params};

use crate::credentials::{is_slow_hash, verify_client_secret};
use crate::oauth_json::{self, Challenge};
use crate::provider::Inner;

/// Whether a public client may name itself with its `client_id` alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Public {
    Allowed,
    Refused,
}

/// Why a request was refused before any grant was looked at.
pub(crate) enum Refusal {
    Client(OAuthError, Challenge),
    Internal(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Client(e, challenge) => oauth_json::error(&e, challenge),
            Refusal::Internal(e) => oauth_json::server_error("client authentication failed", e),
        }
    }
}

/// The authenticated client, or why not: 401 `invalid_client` with a Basic
/// challenge (RFC 6749 §5.2).
pub(crate) async fn authenticate(
    inner: &Inner,
    headers: &HeaderMap,
    params: &Params,
    public: Public,
) -> Result<Arc<Application>, Refusal> {
    let refuse = |description: &str| {
        Err(Refusal::Client(
            OAuthError::invalid_client(description),
            Challenge::Basic,
        ))
    };
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let creds = match credentials(authorization, params) {
        Ok(Some(c)) => c,
        Ok(None) => return refuse("client authentication is required"),
        Err(e) => {
            let challenge = if e.basic {
                Challenge::Basic
            } else {
                Challenge::None
            };
            return Err(Refusal::Client(e.error, challenge));
        }
    };
    let client = match inner.client(&creds.client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return refuse("unknown client"),
        Err(e) => return Err(Refusal::Internal(e.to_string())),
    };
    match (
        client.client_type,
        creds.secret,
        client.client_secret_hash.clone(),
    ) {
        (ClientType::Confidential, Some(secret), Some(stored)) => {
            let ok = if is_slow_hash(&stored) {
                tokio::task::spawn_blocking(move || verify_client_secret(&secret, &stored))
                    .await
                    .unwrap_or(false)
            } else {
                verify_client_secret(&secret, &stored)
            };
            if ok {
                Ok(client)
            } else {
                refuse("client authentication failed")
            }
        }
        (ClientType::Public, None, _) if public == Public::Allowed => Ok(client),
        (ClientType::Public, Some(_), _) => refuse("a public client has no secret"),
        _ => refuse("client authentication failed"),
    }
}
