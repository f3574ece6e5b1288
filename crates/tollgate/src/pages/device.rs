//! `/o/device/`: a signed-in user types the code their device shows, sees
//! which application asks for what, and approves or denies. Wrong, expired
//! and used codes each get their own message; wrong guesses are throttled.

use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::{Value, context};
use serde::Deserialize;
use tollgate_core::device::{DeviceStatus, display_user_code, normalize_user_code};
use tollgate_core::model::{DeviceCode, User};
use tollgate_core::{Params, SecretHash};

use crate::events::Event;
use crate::pages;
use crate::pages::PageError;
use crate::pages::PageResult;
use crate::pages::extract::Submission;
use crate::pages::extract::Visitor;
use crate::pages::i18n;
use crate::pages::manage::page_in;
use crate::provider::Inner;
use crate::provider::Shared;
use crate::throttle;

#[derive(Deserialize)]
pub(crate) struct Prefill {
    #[serde(default)]
    user_code: String,
}

/// Why a typed code leads nowhere; the page words it in the user's language.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    Wrong,
    Used,
    Expired,
    /// Too many wrong codes: wait this many seconds.
    Throttled(i64),
}

/// A device page, in the language negotiated for the request.
fn device_page(
    inner: &Inner,
    headers: &HeaderMap,
    user: &User,
    status: StatusCode,
    template: &str,
    context: Value,
) -> Response {
    page_in(
        inner,
        headers,
        user,
        status,
        template,
        context,
        i18n::current(),
    )
}

fn entry_page(
    inner: &Inner,
    headers: &HeaderMap,
    user: &User,
    status: StatusCode,
    code: &str,
    refusal: Option<Refusal>,
) -> Response {
    let (error, wait) = match refusal {
        None => (None, 0),
        Some(Refusal::Wrong) => (Some("wrong"), 0),
        Some(Refusal::Used) => (Some("used"), 0),
        Some(Refusal::Expired) => (Some("expired"), 0),
        Some(Refusal::Throttled(wait)) => (Some("throttled"), wait),
    };
    let context = context! { user_code => code, error, wait };
    device_page(inner, headers, user, status, "device.html", context)
}

pub(crate) async fn entry(
    State(inner): State<Shared>,
    Visitor(user): Visitor,
    headers: HeaderMap,
    Query(prefill): Query<Prefill>,
) -> Response {
    entry_page(
        &inner,
        &headers,
        &user,
        StatusCode::OK,
        &prefill.user_code,
        None,
    )
}

/// The pending device authorization the typed `user_code` names (and the code
/// normalised), or the entry page again saying why there is none.
async fn pending(
    inner: &Inner,
    headers: &HeaderMap,
    extensions: &Extensions,
    user: &User,
    params: &Params,
) -> PageResult<Result<(DeviceCode, String), Response>> {
    let typed = params.get("user_code").unwrap_or_default();
    let again = |(status, why)| entry_page(inner, headers, user, status, typed, Some(why));
    Ok(find_pending(inner, headers, extensions, user, typed)
        .await?
        .map_err(again))
}

/// What [`pending`] finds, or the status and refusal (throttling wrong guesses
/// per user and address).
async fn find_pending(
    inner: &Inner,
    headers: &HeaderMap,
    extensions: &Extensions,
    user: &User,
    typed: &str,
) -> PageResult<Result<(DeviceCode, String), (StatusCode, Refusal)>> {
    // Its own kind of key: a user's id is no username anyone can type.
    let key = throttle::Key::new(
        throttle::Kind::DeviceCode,
        &user.id.to_string(),
        inner.client_address(headers, extensions),
    );
    if let Err(wait) = throttle::admit(inner, &key).await? {
        let refusal = Refusal::Throttled(wait);
        return Ok(Err((StatusCode::TOO_MANY_REQUESTS, refusal)));
    }
    let now = inner.clock.now();
    let found = match normalize_user_code(typed) {
        Some(code) => inner
            .store
            .device_code_by_user_code(&SecretHash::of(&code))
            .await?
            .map(|d| (d, code)),
        None => None,
    };
    let Some((device, code)) = found else {
        return Ok(Err((StatusCode::UNPROCESSABLE_ENTITY, Refusal::Wrong)));
    };
    throttle::succeeded(inner, &key).await?;
    Ok(if device.status != DeviceStatus::Pending {
        Err((StatusCode::CONFLICT, Refusal::Used))
    } else if now >= device.expires_at {
        Err((StatusCode::GONE, Refusal::Expired))
    } else {
        Ok((device, code))
    })
}

pub(crate) async fn submit(
    State(inner): State<Shared>,
    Visitor(user): Visitor,
    headers: HeaderMap,
    extensions: Extensions,
    Submission(params): Submission,
) -> PageResult {
    let (device, code) = match pending(&inner, &headers, &extensions, &user, &params).await? {
        Ok(found) => found,
        Err(again) => return Ok(again),
    };
    let client = inner
        .store
        .application_by_id(device.application_id)
        .await?
        .ok_or_else(PageError::not_found)?;
    let scopes: Vec<Value> = device
        .scope
        .split_whitespace()
        .map(|name| context! { name, description => inner.settings.scope_description(name) })
        .collect();
    let application = pages::client_name(&client);
    let resources: Vec<String> = device.resource.iter().map(str::to_owned).collect();
    let context =
        context! { application, scopes, resources, user_code => display_user_code(&code) };
    Ok(device_page(
        &inner,
        &headers,
        &user,
        StatusCode::OK,
        "device_confirm.html",
        context,
    ))
}

pub(crate) async fn decide(
    State(inner): State<Shared>,
    Visitor(user): Visitor,
    headers: HeaderMap,
    extensions: Extensions,
    Submission(params): Submission,
) -> PageResult {
    let device = match pending(&inner, &headers, &extensions, &user, &params).await? {
        Ok((device, _)) => device,
        Err(again) => return Ok(again),
    };
    let approved = params.get("allow").is_some();
    let now = inner.clock.now();
    let decided = inner
        .store
        .decide_device_code(device.id, user.id, approved, now, now)
        .await?;
    if !decided {
        let used = Some(Refusal::Used);
        return Ok(entry_page(
            &inner,
            &headers,
            &user,
            StatusCode::CONFLICT,
            "",
            used,
        ));
    }
    if approved && let Ok(Some(client)) = inner.store.application_by_id(device.application_id).await
    {
        inner.events.emit(&Event::ConsentGranted {
            client_id: &client.client_id,
            user_id: user.id,
            scope: &device.scope,
        });
    }
    let context = context! { approved };
    Ok(device_page(
        &inner,
        &headers,
        &user,
        StatusCode::OK,
        "device_done.html",
        context,
    ))
}
