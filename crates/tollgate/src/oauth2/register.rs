//! Dynamic client registration (RFC 7591) at `/o/register/`, and management of
//! a registered client with its registration access token (RFC 7592) at
//! `/o/register/{client_id}/`: read, replace (the token rotates), delete.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use tollgate_core::client::secret_read_back;
use tollgate_core::model::{Application, ApplicationChanges, NewApplication};
use tollgate_core::registration::ClientMetadata;
use tollgate_core::secret::random_id;
use tollgate_core::{
    ApplicationSpec, ErrorCode, NewSecret, OAuthError, SecretHash, SecretKind, SigningAlgorithm,
};

use crate::credentials::generate_client_secret;
use crate::http::json;
use crate::http::json::JsonError;
use crate::http::json::JsonResult;
use crate::oauth2::bearer;
use crate::pages::csrf;
use crate::pages::session;
use crate::provider::Inner;
use crate::provider::Shared;
use crate::settings::RegistrationAccess;

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
        client_secret_expires_at: app.client_secret_hash.is_some().then_some(0),
        client_secret: secret,
        client_id_issued_at: app.created_at,
        registration_access_token: token,
        registration_client_uri: inner
            .endpoints
            .url(&format!("/register/{}/", app.client_id)),
        metadata: ClientMetadata::of(app),
    };
    json::no_store((status, Json(body)).into_response())
}

/// Registration answers its errors with a bearer challenge (RFC 7591 §3.2.2, RFC 6750).
fn refuse(e: OAuthError) -> JsonError {
    JsonError::bearer(e)
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
async fn registrant(inner: &Inner, headers: &HeaderMap) -> JsonResult<Option<i64>> {
    let settings = &inner.settings;
    if settings.dcr_registration_access == RegistrationAccess::Open {
        return Ok(None);
    }
    let unauthorized = |d: &str| refuse(OAuthError::new(ErrorCode::InvalidToken, d));
    if let Some(token) = bearer::from_header(headers) {
        let Some(found) = bearer::live_bearer(inner, token).await? else {
            return Err(unauthorized("the access token is invalid or expired"));
        };
        if found.token.dpop_jkt.is_some() {
            return Err(refuse(bearer::bound_as_bearer()));
        }
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
        return match (settings.dcr_registration_access, found.user) {
            (RegistrationAccess::Token, user) => Ok(user.map(|u| u.id)),
            (_, Some(user)) => Ok(Some(user.id)),
            _ => Err(unauthorized("registering needs a signed-in user's token")),
        };
    }
    if settings.dcr_registration_access == RegistrationAccess::Authenticated
        && csrf::same_origin(inner, headers)
        && let Some(signed_in) = session::current(inner, headers).await?
    {
        return Ok(Some(signed_in.user.id));
    }
    Err(unauthorized("registering needs authentication"))
}

pub(crate) async fn register(
    State(inner): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> JsonResult {
    let owner = registrant(&inner, &headers).await?;
    let (spec, name) = requested(&inner, &body).map_err(refuse)?;
    let sealer = match (
        secret_read_back(spec.algorithm, &spec.security),
        inner.sealer.as_ref(),
    ) {
        (true, None) => {
            let field = match spec.algorithm {
                SigningAlgorithm::HS256 => "id_token_signed_response_alg: HS256",
                _ => "token_endpoint_auth_method: client_secret_jwt",
            };
            return Err(refuse(OAuthError::new(
                ErrorCode::InvalidClientMetadata,
                format!("{field} is not available on this server"),
            )));
        }
        (true, sealer) => sealer,
        (false, _) => None,
    };
    let client_id = random_id(20, inner.entropy.as_ref());
    let secret = spec
        .has_secret()
        .then(|| generate_client_secret(inner.entropy.as_ref(), sealer, &client_id));
    let new = NewApplication {
        client_secret_hash: secret.as_ref().map(|s| s.hash.clone()),
        client_secret_sealed: secret.as_ref().and_then(|s| s.sealed.clone()),
        owner_id: owner,
        ..spec.into_application(client_id, name)
    };
    let app = inner
        .store
        .create_application(&new, inner.clock.now())
        .await?;
    let token = registration_token(&inner, &app).await?;
    Ok(answer(
        &inner,
        StatusCode::CREATED,
        &app,
        secret.map(|s| s.plaintext),
        Some(token),
    ))
}

/// A new registration access token for `app` (RFC 7592 §3), replacing any it had.
async fn registration_token(inner: &Inner, app: &Application) -> JsonResult<String> {
    let token = NewSecret::generate(SecretKind::RegistrationToken, inner.entropy.as_ref());
    inner
        .store
        .set_registration_token(app.id, &token.hash, inner.clock.now())
        .await?;
    Ok(token.plaintext)
}

/// The client at the URI, if the request's bearer token is its registration
/// access token; RFC 7592 §2: otherwise a 401, never a hint that it exists.
async fn managed(inner: &Inner, headers: &HeaderMap, client_id: &str) -> JsonResult<Application> {
    let invalid = || {
        refuse(OAuthError::new(
            ErrorCode::InvalidToken,
            "the registration access token is invalid",
        ))
    };
    let Some(token) = bearer::from_header(headers) else {
        return Err(invalid());
    };
    inner
        .store
        .registered_application(client_id, &SecretHash::of(token))
        .await?
        .ok_or_else(invalid)
}

pub(crate) async fn read(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
) -> JsonResult {
    let app = managed(&inner, &headers, &client_id).await?;
    Ok(answer(&inner, StatusCode::OK, &app, None, None))
}

/// RFC 7592 §2.2: the metadata sent replaces the client's whole; its type and
/// algorithm stay what its secret was made for.
pub(crate) async fn replace(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    body: Bytes,
) -> JsonResult {
    let app = managed(&inner, &headers, &client_id).await?;
    let (spec, name) = requested(&inner, &body).map_err(refuse)?;
    if spec.client_type != app.client_type || spec.algorithm != app.algorithm {
        return Err(refuse(OAuthError::new(
            ErrorCode::InvalidClientMetadata,
            "token_endpoint_auth_method and id_token_signed_response_alg cannot change: register a new client",
        )));
    }
    let changes = ApplicationChanges {
        name,
        grant_types: spec.grant_types,
        redirect_uris: spec.redirect_uris,
        post_logout_redirect_uris: spec.post_logout_redirect_uris,
        allowed_origins: app.allowed_origins.clone(),
        security: spec.security,
    };
    let now = inner.clock.now();
    let updated = inner
        .store
        .update_application(app.id, &changes, now)
        .await?;
    inner.clients.forget(&app.client_id);
    let token = match inner.settings.dcr_rotate_registration_token_on_update {
        true => Some(registration_token(&inner, &app).await?),
        false => None,
    };
    Ok(answer(&inner, StatusCode::OK, &updated, None, token))
}

pub(crate) async fn delete(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
) -> JsonResult {
    let app = managed(&inner, &headers, &client_id).await?;
    inner.store.delete_application(app.id).await?;
    inner.clients.forget(&app.client_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}
