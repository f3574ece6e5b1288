//! Dynamic client registration (RFC 7591) at `/o/register/`, and management of
//! a registered client with its registration access token (RFC 7592) at
//! `/o/register/{client_id}/`: read, replace (the token rotates), delete.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use tollgate_core::model::{Application, ApplicationChanges, NewApplication};
use tollgate_core::registration::ClientMetadata;
use tollgate_core::secret::random_id;
use tollgate_core::{
    ApplicationSpec, ClientType, ErrorCode, NewSecret, OAuthError, SecretHash, SecretKind,
    SigningAlgorithm,
};

use crate::credentials::generate_client_secret;
use crate::oauth_json::{self, Challenge};
use crate::provider::{Inner, Shared};
use crate::{bearer, csrf, session};

/// RFC 7591 §3.2.1: the client's credentials and metadata.
#[derive(Serialize)]
struct Registered {
    client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    client_id_issued_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret_expires_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registration_access_token: Option<String>,
    registration_client_uri: String,
    #[serde(flatten)]
    metadata: ClientMetadata,
}

fn answer(
    inner: &Inner,
    status: StatusCode,
    app: &Application,
    secret: Option<String>,
    token: Option<String>,
) -> Response {
    let body = Registered {
        client_id: app.client_id.clone(),
        client_secret_expires_at: (app.client_type == ClientType::Confidential).then_some(0),
        client_secret: secret,
        client_id_issued_at: app.created_at,
        registration_access_token: token,
        registration_client_uri: inner
            .endpoints
            .url(&format!("/register/{}/", app.client_id)),
        metadata: ClientMetadata::of(app),
    };
    oauth_json::no_store((status, Json(body)).into_response())
}

fn refuse(e: OAuthError) -> Response {
    oauth_json::error(&e, Challenge::Bearer)
}

/// The registration a request body asks for, checked like every other, and the client's name.
fn requested(inner: &Inner, body: &[u8]) -> Result<(ApplicationSpec, String), OAuthError> {
    let sent: ClientMetadata = serde_json::from_slice(body).map_err(|e| {
        OAuthError::new(
            ErrorCode::InvalidClientMetadata,
            format!("the body is not client metadata JSON: {e}"),
        )
    })?;
    sent.to_spec(&inner.settings.allowed_redirect_uri_schemes)
}

/// Who may register (`dcr_registration_access`): the owner to record, or the refusal.
async fn registrant(inner: &Inner, headers: &HeaderMap) -> Result<Option<i64>, Response> {
    let settings = &inner.settings;
    if settings.dcr_registration_access == "open" {
        return Ok(None);
    }
    let unauthorized = |d: &str| refuse(OAuthError::new(ErrorCode::InvalidToken, d));
    if let Some(token) = bearer::from_header(headers) {
        let found = bearer::live_bearer(inner, token)
            .await
            .map_err(|e| oauth_json::server_error("registration", e))?;
        let Some(found) = found else {
            return Err(unauthorized("the access token is invalid or expired"));
        };
        // RFC 8707: a token meant for another resource is not for this server.
        if !found
            .token
            .resource
            .admit(&inner.endpoints.url("/register/"))
        {
            return Err(unauthorized("the access token is for another resource"));
        }
        let scoped = found
            .token
            .scope
            .split_whitespace()
            .any(|s| s == settings.dcr_registration_scope);
        if !scoped {
            return Err(refuse(OAuthError::new(
                ErrorCode::InsufficientScope,
                format!(
                    "registering needs the scope `{}`",
                    settings.dcr_registration_scope
                ),
            )));
        }
        return match (settings.dcr_registration_access.as_str(), found.user) {
            ("token", user) => Ok(user.map(|u| u.id)),
            (_, Some(user)) => Ok(Some(user.id)),
            _ => Err(unauthorized("registering needs a signed-in user's token")),
        };
    }
    if settings.dcr_registration_access == "authenticated" && csrf::same_origin(inner, headers) {
        match session::current(inner, headers).await {
            Ok(Some(signed_in)) => return Ok(Some(signed_in.user.id)),
            Ok(None) => {}
            Err(e) => return Err(oauth_json::server_error("registration", e)),
        }
    }
    Err(unauthorized("registering needs authentication"))
}

pub(crate) async fn register(
    State(inner): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let owner = match registrant(&inner, &headers).await {
        Ok(owner) => owner,
        Err(response) => return response,
    };
    let (spec, name) = match requested(&inner, &body) {
        Ok(s) => s,
        Err(e) => return refuse(e),
    };
    let sealer = match (spec.algorithm, inner.sealer.as_ref()) {
        (SigningAlgorithm::HS256, None) => {
            return refuse(OAuthError::new(
                ErrorCode::InvalidClientMetadata,
                "id_token_signed_response_alg: HS256 is not available on this server",
            ));
        }
        (SigningAlgorithm::HS256, sealer) => sealer,
        _ => None,
    };
    let client_id = random_id(20, inner.entropy.as_ref());
    let secret = (spec.client_type == ClientType::Confidential)
        .then(|| generate_client_secret(inner.entropy.as_ref(), sealer, &client_id));
    let new = NewApplication {
        client_secret_hash: secret.as_ref().map(|s| s.hash.clone()),
        client_secret_sealed: secret.as_ref().and_then(|s| s.sealed.clone()),
        owner_id: owner,
        ..spec.into_application(client_id, name)
    };
    let now = inner.clock.now();
    let token = NewSecret::generate(SecretKind::RegistrationToken, inner.entropy.as_ref());
    let stored = async {
        let app = inner.store.create_application(&new, now).await?;
        inner
            .store
            .set_registration_token(app.id, &token.hash, now)
            .await?;
        Ok::<_, tollgate_store::StoreError>(app)
    };
    match stored.await {
        Ok(app) => answer(
            &inner,
            StatusCode::CREATED,
            &app,
            secret.map(|s| s.plaintext),
            Some(token.plaintext),
        ),
        Err(e) => oauth_json::server_error("registration", e),
    }
}

/// The client at the URI, if the request's bearer token is its registration
/// access token; RFC 7592 §2: otherwise a 401, never a hint that it exists.
async fn managed(
    inner: &Inner,
    headers: &HeaderMap,
    client_id: &str,
) -> Result<Application, Response> {
    let invalid = || {
        refuse(OAuthError::new(
            ErrorCode::InvalidToken,
            "the registration access token is invalid",
        ))
    };
    let Some(token) = bearer::from_header(headers) else {
        return Err(invalid());
    };
    match inner
        .store
        .registered_application(client_id, &SecretHash::of(token))
        .await
    {
        Ok(Some(app)) => Ok(app),
        Ok(None) => Err(invalid()),
        Err(e) => Err(oauth_json::server_error("client configuration", e)),
    }
}

pub(crate) async fn read(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
) -> Response {
    match managed(&inner, &headers, &client_id).await {
        Ok(app) => answer(&inner, StatusCode::OK, &app, None, None),
        Err(response) => response,
    }
}

/// RFC 7592 §2.2: the metadata sent replaces the client's whole; its type and
/// algorithm stay what its secret was made for.
pub(crate) async fn replace(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    body: Bytes,
) -> Response {
    let app = match managed(&inner, &headers, &client_id).await {
        Ok(app) => app,
        Err(response) => return response,
    };
    let (spec, name) = match requested(&inner, &body) {
        Ok(s) => s,
        Err(e) => return refuse(e),
    };
    if spec.client_type != app.client_type || spec.algorithm != app.algorithm {
        return refuse(OAuthError::new(
            ErrorCode::InvalidClientMetadata,
            "token_endpoint_auth_method and id_token_signed_response_alg cannot change: register a new client",
        ));
    }
    let changes = ApplicationChanges {
        name,
        grant_types: spec.grant_types,
        redirect_uris: spec.redirect_uris,
        post_logout_redirect_uris: spec.post_logout_redirect_uris,
        allowed_origins: app.allowed_origins.clone(),
    };
    let now = inner.clock.now();
    let updated = match inner.store.update_application(app.id, &changes, now).await {
        Ok(updated) => updated,
        Err(e) => return oauth_json::server_error("client configuration", e),
    };
    inner.clients.forget(&app.client_id);
    let token = inner
        .settings
        .dcr_rotate_registration_token_on_update
        .then(|| NewSecret::generate(SecretKind::RegistrationToken, inner.entropy.as_ref()));
    if let Some(token) = &token
        && let Err(e) = inner
            .store
            .set_registration_token(app.id, &token.hash, now)
            .await
    {
        return oauth_json::server_error("client configuration", e);
    }
    answer(
        &inner,
        StatusCode::OK,
        &updated,
        None,
        token.map(|t| t.plaintext),
    )
}

pub(crate) async fn delete(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
) -> Response {
    let app = match managed(&inner, &headers, &client_id).await {
        Ok(app) => app,
        Err(response) => return response,
    };
    match inner.store.delete_application(app.id).await {
        Ok(()) => {
            inner.clients.forget(&app.client_id);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => oauth_json::server_error("client configuration", e),
    }
}
