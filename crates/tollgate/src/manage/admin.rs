//! `/o/admin/`: for staff only (to anyone else it does not exist). All clients,
//! users (create, deactivate, reset password), tokens found by client or user
//! (revocable; their values are never shown) and the signing keys (rotate).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Deserialize;
use tollgate_core::SigningAlgorithm;
use tollgate_core::model::{Application, NewUser, TokenKind, User};
use tollgate_core::secret::random_id;

use super::applications::{delete_application, delete_context, views};
use super::{Staff, Submission, not_found, page, see_other};
use crate::credentials::hash_password;
use crate::events::Event;
use crate::keys::{KEY_ALGORITHMS, KeyStatus, Takeover, rotate};
use crate::pages::{error_page, unavailable};
use crate::provider::{Inner, Shared};

fn staff_action(inner: &Inner, staff: &User, action: &str, subject: &str) {
    inner.events.emit(&Event::StaffAction {
        staff_user_id: staff.id,
        action,
        subject,
    });
}

pub(crate) async fn index(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    headers: HeaderMap,
) -> Response {
    let counts = async {
        let applications = inner.store.applications(None).await?.len();
        let users = inner.store.users().await?.len();
        let keys = inner.store.signing_keys(inner.clock.now()).await?.len();
        Ok::<_, tollgate_store::StoreError>((applications, users, keys))
    };
    match counts.await {
        Ok((applications, users, keys)) => {
            let context = context! { applications, users, keys };
            page(
                &inner,
                &headers,
                &staff,
                StatusCode::OK,
                "admin.html",
                context,
            )
        }
        Err(e) => unavailable(&inner, "admin page", e),
    }
}

pub(crate) async fn applications(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    headers: HeaderMap,
) -> Response {
    let (apps, users) = match (
        inner.store.applications(None).await,
        inner.store.users().await,
    ) {
        (Ok(apps), Ok(users)) => (apps, users),
        (Err(e), _) | (_, Err(e)) => return unavailable(&inner, "admin applications", e),
    };
    let owners: HashMap<String, String> = users
        .into_iter()
        .map(|u| (u.id.to_string(), u.username))
        .collect();
    let context = context! { applications => Value::from(Serde(views(apps))), owners };
    page(
        &inner,
        &headers,
        &staff,
        StatusCode::OK,
        "admin_applications.html",
        context,
    )
}

async fn application_or_404(inner: &Inner, id: i64) -> Result<Application, Response> {
    match inner.store.application_by_id(id).await {
        Ok(Some(app)) => Ok(app),
        Ok(None) => Err(not_found(inner)),
        Err(e) => Err(unavailable(inner, "admin application", e)),
    }
}

pub(crate) async fn delete_application_form(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    match application_or_404(&inner, id).await {
        Ok(app) => {
            let action = format!("/admin/applications/{}/delete/", app.id);
            let context = delete_context(app, &action, "/admin/applications/");
            page(
                &inner,
                &headers,
                &staff,
                StatusCode::OK,
                "application_delete.html",
                context,
            )
        }
        Err(response) => response,
    }
}

pub(crate) async fn delete_application_route(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    Path(id): Path<i64>,
    Submission(_): Submission,
) -> Response {
    let app = match application_or_404(&inner, id).await {
        Ok(app) => app,
        Err(response) => return response,
    };
    if let Err(response) = delete_application(&inner, &app).await {
        return response;
    }
    staff_action(&inner, &staff, "application deleted", &app.client_id);
    see_other(&inner, "/admin/applications/")
}

/// The users page, with a password to show once when one was just set.
async fn users_page(
    inner: &Inner,
    headers: &HeaderMap,
    staff: &User,
    status: StatusCode,
    extra: Value,
) -> Response {
    let users = match inner.store.users().await {
        Ok(users) => users,
        Err(e) => return unavailable(inner, "admin users", e),
    };
    let users: Vec<Value> = users
        .into_iter()
        .map(|u| {
            context! {
                id => u.id, username => u.username, email => u.email, active => u.active,
                staff => u.staff, created_at => u.created_at,
            }
        })
        .collect();
    let context = context! { users, directory => inner.users.is_some(), ..extra };
    page(inner, headers, staff, status, "admin_users.html", context)
}

pub(crate) async fn users(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    headers: HeaderMap,
) -> Response {
    users_page(&inner, &headers, &staff, StatusCode::OK, Value::UNDEFINED).await
}

/// A password for a new or reset account, shown to the staff member once: 96 random bits.
async fn new_password(inner: &Inner) -> Result<(String, String), Response> {
    let password = random_id(12, inner.entropy.as_ref());
    let plain = password.clone();
    match tokio::task::spawn_blocking(move || hash_password(&plain)).await {
        Ok(Ok(hash)) => Ok((password, hash)),
        _ => Err(error_page(
            inner,
            StatusCode::INTERNAL_SERVER_ERROR,
            "The password could not be set.",
        )),
    }
}

/// Users of an application's own directory are changed there, not here.
fn directory_refusal(inner: &Inner) -> Option<Response> {
    inner.users.as_ref().map(|_| {
        error_page(
            inner,
            StatusCode::CONFLICT,
            "Users come from the application's own directory: change them there.",
        )
    })
}

pub(crate) async fn create_user(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    headers: HeaderMap,
    Submission(params): Submission,
) -> Response {
    if let Some(refusal) = directory_refusal(&inner) {
        return refusal;
    }
    let username = params.get("username").unwrap_or_default().trim().to_owned();
    if username.is_empty() || username.len() > 150 || username.chars().any(char::is_whitespace) {
        let error = context! { error => "A username is 1 to 150 characters, without spaces." };
        return users_page(
            &inner,
            &headers,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            error,
        )
        .await;
    }
    let (password, hash) = match new_password(&inner).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let new = NewUser {
        username: username.clone(),
        password_hash: Some(hash),
        email: params.get("email").unwrap_or_default().trim().to_owned(),
        staff: params.get("staff").is_some(),
        ..NewUser::default()
    };
    match inner.store.create_user(&new, inner.clock.now()).await {
        Ok(_) => {
            staff_action(&inner, &staff, "user created", &username);
            let shown = context! { new_password => context! { username, password } };
            users_page(&inner, &headers, &staff, StatusCode::CREATED, shown).await
        }
        Err(tollgate_store::StoreError::Conflict { .. }) => {
            let error = context! { error => format!("There is already a user named {username}.") };
            users_page(&inner, &headers, &staff, StatusCode::CONFLICT, error).await
        }
        Err(e) => unavailable(&inner, "user creation", e),
    }
}

/// The user `id`, if staff may change them here (not a directory's user).
async fn changeable_user(inner: &Inner, id: i64) -> Result<User, Response> {
    if let Some(refusal) = directory_refusal(inner) {
        return Err(refusal);
    }
    match inner.store.user_by_id(id).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(not_found(inner)),
        Err(e) => Err(unavailable(inner, "admin user", e)),
    }
}

pub(crate) async fn set_active(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    Path(id): Path<i64>,
    Submission(params): Submission,
) -> Response {
    let user = match changeable_user(&inner, id).await {
        Ok(u) => u,
        Err(response) => return response,
    };
    let active = params.get("active") == Some("true");
    if !active && user.id == staff.id {
        return error_page(
            &inner,
            StatusCode::CONFLICT,
            "You cannot deactivate your own account.",
        );
    }
    if let Err(e) = inner
        .store
        .set_user_active(user.id, active, inner.clock.now())
        .await
    {
        return unavailable(&inner, "admin user", e);
    }
    let action = if active {
        "user activated"
    } else {
        "user deactivated"
    };
    staff_action(&inner, &staff, action, &user.username);
    see_other(&inner, "/admin/users/")
}

pub(crate) async fn reset_password(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Submission(_): Submission,
) -> Response {
    let user = match changeable_user(&inner, id).await {
        Ok(u) => u,
        Err(response) => return response,
    };
    let (password, hash) = match new_password(&inner).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    if let Err(e) = inner
        .store
        .set_user_password(user.id, &hash, inner.clock.now())
        .await
    {
        return unavailable(&inner, "password reset", e);
    }
    staff_action(&inner, &staff, "password reset", &user.username);
    let shown = context! { new_password => context! { username => user.username, password } };
    users_page(&inner, &headers, &staff, StatusCode::OK, shown).await
}

#[derive(Deserialize, Default)]
pub(crate) struct TokenSearch {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    username: String,
}

pub(crate) async fn tokens(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    headers: HeaderMap,
    Query(search): Query<TokenSearch>,
) -> Response {
    let client_id = Some(search.client_id.trim()).filter(|s| !s.is_empty());
    let username = Some(search.username.trim()).filter(|s| !s.is_empty());
    let found = if client_id.is_some() || username.is_some() {
        match inner.store.find_tokens(client_id, username).await {
            Ok(found) => Some(found),
            Err(e) => return unavailable(&inner, "token search", e),
        }
    } else {
        None
    };
    let now = inner.clock.now();
    let rows = found.map(|found| {
        found
            .into_iter()
            .map(|t| {
                let status = if t.revoked_at.is_some() {
                    "revoked"
                } else if t.expires_at.is_some_and(|e| e <= now) {
                    "expired"
                } else {
                    "active"
                };
                context! {
                    kind => match t.kind { TokenKind::Access => "access", TokenKind::Refresh => "refresh" },
                    id => t.id, client_id => t.client_id, username => t.username, scope => t.scope,
                    created_at => t.created_at, expires_at => t.expires_at, status,
                }
            })
            .collect::<Vec<_>>()
    });
    let context = context! {
        client_id => client_id.unwrap_or_default(),
        username => username.unwrap_or_default(),
        tokens => rows,
        limit => tollgate_store::TOKEN_SEARCH_LIMIT,
    };
    page(
        &inner,
        &headers,
        &staff,
        StatusCode::OK,
        "admin_tokens.html",
        context,
    )
}

pub(crate) async fn revoke_token(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    Submission(params): Submission,
) -> Response {
    let Some(id) = params.get("id").and_then(|id| id.parse::<i64>().ok()) else {
        return error_page(&inner, StatusCode::BAD_REQUEST, "No token was named.");
    };
    let now = inner.clock.now();
    let revoked = match params.get("kind") {
        Some("access") => inner.store.revoke_access_token(id, now).await,
        Some("refresh") => inner.store.revoke_refresh_token(id, now).await.map(drop),
        _ => return error_page(&inner, StatusCode::BAD_REQUEST, "Unknown token kind."),
    };
    if let Err(e) = revoked {
        return unavailable(&inner, "token revocation", e);
    }
    staff_action(
        &inner,
        &staff,
        "token revoked",
        &format!("{} token {id}", params.get("kind").unwrap_or_default()),
    );
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", params.get("client_id").unwrap_or_default())
        .append_pair("username", params.get("username").unwrap_or_default())
        .finish();
    see_other(&inner, &format!("/admin/tokens/?{query}"))
}

pub(crate) async fn keys(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    headers: HeaderMap,
) -> Response {
    let now = inner.clock.now();
    let keys = match inner.store.signing_keys(now).await {
        Ok(keys) => keys,
        Err(e) => return unavailable(&inner, "signing keys", e),
    };
    let rows: Vec<Value> = keys
        .iter()
        .map(|k| {
            let (status, at) = match KeyStatus::of(k, &keys, now) {
                KeyStatus::Signing => ("signing", None),
                KeyStatus::Published(at) => ("published", Some(at)),
                KeyStatus::Superseded(at) => ("superseded", at),
            };
            context! {
                kid => k.kid.clone(), algorithm => k.algorithm.as_str(), created_at => k.created_at,
                activates_at => k.activates_at, status, at,
            }
        })
        .collect();
    let algorithms: Vec<&str> = KEY_ALGORITHMS.iter().map(|a| a.as_str()).collect();
    let context = context! { keys => rows, algorithms };
    page(
        &inner,
        &headers,
        &staff,
        StatusCode::OK,
        "admin_keys.html",
        context,
    )
}

pub(crate) async fn rotate_key(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    Submission(params): Submission,
) -> Response {
    let Some(algorithm) = params
        .get("algorithm")
        .and_then(|a| a.parse::<SigningAlgorithm>().ok())
        .filter(|a| KEY_ALGORITHMS.contains(a))
    else {
        return error_page(
            &inner,
            StatusCode::BAD_REQUEST,
            "Choose RS256, ES256 or EdDSA.",
        );
    };
    let now = inner.clock.now();
    let existing = match inner.store.signing_keys(now).await {
        Ok(keys) => keys,
        Err(e) => return unavailable(&inner, "signing keys", e),
    };
    let takeover = Takeover::for_new_key(&existing, algorithm, params.get("now").is_some());
    let settings = &inner.settings;
    match rotate(
        &inner.store,
        settings,
        inner.sealer.as_ref(),
        algorithm,
        takeover,
        now,
    )
    .await
    {
        Ok(key) => {
            inner.keys.reload_soon();
            staff_action(&inner, &staff, "signing key rotated", &key.kid);
            see_other(&inner, "/admin/keys/")
        }
        Err(e) => {
            tracing::error!(error = %e, "signing key rotation failed");
            error_page(
                &inner,
                StatusCode::SERVICE_UNAVAILABLE,
                "The key could not be made. Try again shortly.",
            )
        }
    }
}
