//! Authenticating the client at the token, revocation and introspection endpoints.

use axum::http::header::AUTHORIZATION;
use axum::http::{Extensions, HeaderMap};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tollgate_core::client_auth::credentials;

use tollgate_core::model::Application;
use tollgate_core::{ClientType, OAuthError, Params};

use crate::credentials::{is_slow_hash, upgraded_client_secret_hash, verify_client_secret};
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
    /// Too many wrong secrets for this client from this address: wait this long.
    Throttled(i64),
    Internal(oauth_json::Fault),
}

impl From<tollgate_store::StoreError> for Refusal {
    fn from(e: tollgate_store::StoreError) -> Self {
        Refusal::Internal(e.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Client(e, challenge) => oauth_json::error(&e, challenge),
            Refusal::Throttled(wait) => oauth_json::throttled(
                &OAuthError::invalid_client(format!(
                    "too many failed client authentications; try again in {wait} seconds"
                )),
                wait,
            ),
            Refusal::Internal(e) => oauth_json::server_error("client authentication failed", e),
        }
    }
}

/// The authenticated client, or why not: 401 `invalid_client` with a Basic
/// challenge (RFC 6749 §5.2), one message whether the client is unknown or its
/// secret wrong; 429 once a client's secret has been guessed at too often from
/// the address (RFC 6749 §10.10).
pub(crate) async fn authenticate(
    inner: &Inner,
    headers: &HeaderMap,
    extensions: &Extensions,
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
    let address = inner.client_address(headers, extensions);
    let locks = &inner.client_locks;
    if let Some(wait) = locks.wait(&creds.client_id, address, inner.clock.now()) {
        return Err(Refusal::Throttled(wait));
    }
    let client = inner.client(&creds.client_id).await?;
    let verdict = match (client, creds.secret) {
        (Some(client), Some(secret)) => {
            match (client.client_type, client.client_secret_hash.clone()) {
                (ClientType::Confidential, Some(stored)) => {
                    if secret_matches(inner, &client, secret, stored).await {
                        locks.succeeded(inner, &creds.client_id, address).await?;
                        return Ok(client);
                    }
                    "client authentication failed"
                }
                (ClientType::Public, _) => "a public client has no secret",
                _ => "client authentication failed",
            }
        }
        (Some(client), None) => {
            return match client.client_type {
                ClientType::Public if public == Public::Allowed => Ok(client),
                _ => refuse("client authentication failed"),
            };
        }
        // An unknown client is refused as a wrong secret is, and counted alike.
        (None, _) => "client authentication failed",
    };
    locks.failed(inner, &creds.client_id, address).await?;
    refuse(verdict)
}

/// Tollgate's own generated secrets are checked at once. A slow hash (a chosen
/// secret, or one DOT hashed) is checked off the executor, a few at a time, on
/// permits of their own (sign-ins have theirs); one DOT hashed is then replaced
/// by Tollgate's, so its 0.2 s PBKDF2 is paid once per client, not per request.
async fn secret_matches(
    inner: &Inner,
    client: &Application,
    secret: String,
    stored: String,
) -> bool {
    if !is_slow_hash(&stored) {
        return verify_client_secret(&secret, &stored);
    }
    let Ok(_permit) = inner.client_secret_checks.acquire().await else {
        return false;
    };
    let (ok, upgrade) = tokio::task::spawn_blocking(move || {
        if !verify_client_secret(&secret, &stored) {
            return (false, None);
        }
        let upgrade = upgraded_client_secret_hash(&secret, &stored).map(|new| (stored, new));
        (true, upgrade)
    })
    .await
    .unwrap_or((false, None));
    if let Some((old, new)) = upgrade {
        let now = inner.clock.now();
        match inner
            .store
            .upgrade_client_secret_hash(client.id, &old, &new, now)
            .await
        {
            Ok(()) => inner.clients.forget(&client.client_id),
            Err(e) => tracing::warn!(error = %e, "could not replace a client secret hash from DOT"),
        }
    }
    ok
}
