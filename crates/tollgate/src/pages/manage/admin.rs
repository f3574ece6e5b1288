//! `/o/admin/`: for staff only (to anyone else it does not exist). All clients,
//! users (create, deactivate, reset password), tokens found by client or user
//! (revocable; their values are never shown) and the signing keys (rotate).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Deserialize;
use tollgate_core::SigningAlgorithm;
use tollgate_core::model::{Application, NewUser, TokenKind, User};
use tollgate_core::secret::random_id;

use super::applications::delete_application;

use super::applications::delete_context;

use super::applications::views;
use super::page;
use super::see_other;
use crate::credentials::hash_password;
use crate::events::Event;
use crate::keys::KEY_ALGORITHMS;
use crate::keys::KeyStatus;
use crate::keys::Takeover;
use crate::keys::rotate;
use crate::oidc::backchannel;
use crate::pages::PageError;
use crate::pages::PageResult;
use crate::pages::extract::Staff;
use crate::pages::extract::Submission;
use crate::provider::Inner;
use crate::provider::Shared;

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
) -> PageResult {
    let applications = inner.store.applications(None).await?.len();
    let users = inner.store.users().await?.len();
    let keys = inner.store.signing_keys(inner.clock.now()).await?.len();
    let context = context! { applications, users, keys };
    Ok(page(
        &inner,
        &headers,
        &staff,
        StatusCode::OK,
        "admin.html",
        context,
    ))
}

pub(crate) async fn applications(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    headers: HeaderMap,
) -> PageResult {
    let apps = inner.store.applications(None).await?;
    let users = inner.store.users().await?;
    let owners: HashMap<String, String> = users
        .into_iter()
        .map(|u| (u.id.to_string(), u.username))
        .collect();
    let context = context! { applications => Value::from(Serde(views(apps))), owners };
    Ok(page(
        &inner,
        &headers,
        &staff,
        StatusCode::OK,
        "admin_applications.html",
        context,
    ))
}

async fn application_or_404(inner: &Inner, id: i64) -> PageResult<Application> {
    inner
        .store
        .application_by_id(id)
        .await?
        .ok_or_else(PageError::not_found)
}

pub(crate) async fn delete_application_form(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> PageResult {
    let app = application_or_404(&inner, id).await?;
    let action = format!("/admin/applications/{}/delete/", app.id);
    let context = delete_context(app, &action, "/admin/applications/");
    Ok(page(
        &inner,
        &headers,
        &staff,
        StatusCode::OK,
        "application_delete.html",
        context,
    ))
}

pub(crate) async fn delete_application_route(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    Path(id): Path<i64>,
    Submission(_): Submission,
) -> PageResult {
    let app = application_or_404(&inner, id).await?;
    delete_application(&inner, &app).await?;
    staff_action(&inner, &staff, "application deleted", &app.client_id);
    Ok(see_other(&inner, "/admin/applications/"))
}

/// The users page, with a password to show once when one was just set.
async fn users_page(
    inner: &Inner,
    headers: &HeaderMap,
    staff: &User,
    status: StatusCode,
    extra: Value,
) -> PageResult {
    let users: Vec<Value> = inner
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| {
            context! {
                id => u.id, username => u.username, email => u.email, active => u.active,
                staff => u.staff, created_at => u.created_at,
            }
        })
        .collect();
    let context = context! { users, directory => inner.users.is_some(), ..extra };
    Ok(page(
        inner,
        headers,
        staff,
        status,
        "admin_users.html",
        context,
    ))
}

pub(crate) async fn users(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    headers: HeaderMap,
) -> PageResult {
    users_page(&inner, &headers, &staff, StatusCode::OK, Value::UNDEFINED).await
}

/// A password for a new or reset account, shown to the staff member once: 96 random bits.
async fn new_password(inner: &Inner) -> PageResult<(String, String)> {
    let password = random_id(12, inner.entropy.as_ref());
    let plain = password.clone();
    match tokio::task::spawn_blocking(move || hash_password(&plain)).await {
        Ok(Ok(hash)) => Ok((password, hash)),
        _ => Err(PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The password could not be set.",
        )),
    }
}

/// Users of an application's own directory are changed there, not here.
fn not_in_directory(inner: &Inner) -> PageResult<()> {
    match inner.users {
        Some(_) => Err(PageError::new(
            StatusCode::CONFLICT,
            "Users come from the application's own directory: change them there.",
        )),
        None => Ok(()),
    }
}

pub(crate) async fn create_user(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    headers: HeaderMap,
    Submission(params): Submission,
) -> PageResult {
    not_in_directory(&inner)?;
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
    let (password, hash) = new_password(&inner).await?;
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
        Err(e) => Err(e.into()),
    }
}

/// The user `id`, if staff may change them here (not a directory's user).
async fn changeable_user(inner: &Inner, id: i64) -> PageResult<User> {
    not_in_directory(inner)?;
    inner
        .store
        .user_by_id(id)
        .await?
        .ok_or_else(PageError::not_found)
}

pub(crate) async fn set_active(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    Path(id): Path<i64>,
    Submission(params): Submission,
) -> PageResult {
    let user = changeable_user(&inner, id).await?;
    let active = params.get("active") == Some("true");
    if !active && user.id == staff.id {
        return Err(PageError::new(
            StatusCode::CONFLICT,
            "You cannot deactivate your own account.",
        ));
    }
    let now = inner.clock.now();
    let sessions = inner.store.user_session_clients(user.id, None, now).await?;
    inner.store.set_user_active(user.id, active, now).await?;
    if !active {
        // Its sessions stop working; the clients they signed in to are told.
        backchannel::sessions_ended(&inner, sessions).await;
    }
    let action = if active {
        "user activated"
    } else {
        "user deactivated"
    };
    staff_action(&inner, &staff, action, &user.username);
    Ok(see_other(&inner, "/admin/users/"))
}

pub(crate) async fn reset_password(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Submission(_): Submission,
) -> PageResult {
    let user = changeable_user(&inner, id).await?;
    let (password, hash) = new_password(&inner).await?;
    let now = inner.clock.now();
    let sessions = inner.store.user_session_clients(user.id, None, now).await?;
    inner.store.set_user_password(user.id, &hash, now).await?;
    backchannel::sessions_ended(&inner, sessions).await;
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
) -> PageResult {
    let client_id = Some(search.client_id.trim()).filter(|s| !s.is_empty());
    let username = Some(search.username.trim()).filter(|s| !s.is_empty());
    let found = if client_id.is_some() || username.is_some() {
        Some(inner.store.find_tokens(client_id, username).await?)
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
    Ok(page(
        &inner,
        &headers,
        &staff,
        StatusCode::OK,
        "admin_tokens.html",
        context,
    ))
}

pub(crate) async fn revoke_token(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    Submission(params): Submission,
) -> PageResult {
    let bad_request = |message| Err(PageError::new(StatusCode::BAD_REQUEST, message));
    let Some(id) = params.get("id").and_then(|id| id.parse::<i64>().ok()) else {
        return bad_request("No token was named.");
    };
    let now = inner.clock.now();
    match params.get("kind") {
        Some("access") => inner.store.revoke_access_token(id, now).await?,
        Some("refresh") => drop(inner.store.revoke_refresh_token(id, now).await?),
        _ => return bad_request("Unknown token kind."),
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
    Ok(see_other(&inner, &format!("/admin/tokens/?{query}")))
}

pub(crate) async fn keys(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    headers: HeaderMap,
) -> PageResult {
    let now = inner.clock.now();
    let keys = inner.store.signing_keys(now).await?;
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
    Ok(page(
        &inner,
        &headers,
        &staff,
        StatusCode::OK,
        "admin_keys.html",
        context,
    ))
}

pub(crate) async fn rotate_key(
    State(inner): State<Shared>,
    Staff(staff): Staff,
    Submission(params): Submission,
) -> PageResult {
    let Some(algorithm) = params
        .get("algorithm")
        .and_then(|a| a.parse::<SigningAlgorithm>().ok())
        .filter(|a| KEY_ALGORITHMS.contains(a))
    else {
        return Err(PageError::new(
            StatusCode::BAD_REQUEST,
            "Choose RS256, ES256 or EdDSA.",
        ));
    };
    let now = inner.clock.now();
    let existing = inner.store.signing_keys(now).await?;
    let takeover = Takeover::for_new_key(&existing, algorithm, params.get("now").is_some());
    let settings = &inner.settings;
    let rotated = rotate(
        &inner.store,
        settings,
        inner.sealer.as_ref(),
        algorithm,
        takeover,
        now,
    )
    .await;
    let key = rotated.map_err(|e| {
        tracing::error!(error = %e, "signing key rotation failed");
        PageError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "The key could not be made. Try again shortly.",
        )
    })?;
    inner.keys.reload_soon();
    staff_action(&inner, &staff, "signing key rotated", &key.kid);
    Ok(see_other(&inner, "/admin/keys/"))
}
