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
use crate::manage::{Submission, Visitor, page_in};
use crate::pages::unavailable;
use crate::provider::{Inner, Shared};
use crate::{i18n, throttle};

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

/// The pending device authorization a typed code names, or the page saying
/// why there is none (throttling wrong guesses per user and address).
async fn pending(
    inner: &Inner,
    headers: &HeaderMap,
    extensions: &Extensions,
    user: &User,
    params: &Params,
) -> Result<(DeviceCode, String), Response> {
    let typed = params.get("user_code").unwrap_or_default();
    let again = |status, refusal| entry_page(inner, headers, user, status, typed, Some(refusal));
    // Its own kind of key: a user's id is no username anyone can type.
    let key = throttle::Key::new(
        throttle::Kind::DeviceCode,
        &user.id.to_string(),
        inner.client_address(headers, extensions),
    );
    match throttle::admit(inner, &key).await {
        Ok(Ok(())) => {}
        Ok(Err(wait)) => {
            return Err(again(
                StatusCode::TOO_MANY_REQUESTS,
                Refusal::Throttled(wait),
            ));
        }
        Err(e) => return Err(unavailable(inner, "device page", e)),
    }
    let now = inner.clock.now();
    let found = match normalize_user_code(typed) {
        Some(code) => match inner
            .store
            .device_code_by_user_code(&SecretHash::of(&code))
            .await
        {
            Ok(found) => found.map(|d| (d, code)),
            Err(e) => return Err(unavailable(inner, "device page", e)),
        },
        None => None,
    };
    let Some((device, code)) = found else {
        return Err(again(StatusCode::UNPROCESSABLE_ENTITY, Refusal::Wrong));
    };
    if let Err(e) = throttle::succeeded(inner, &key).await {
        return Err(unavailable(inner, "device page", e));
    }
    if device.status != DeviceStatus::Pending {
        return Err(again(StatusCode::CONFLICT, Refusal::Used));
    }
    if now >= device.expires_at {
        return Err(again(StatusCode::GONE, Refusal::Expired));
    }
    Ok((device, code))
}

pub(crate) async fn submit(
    State(inner): State<Shared>,
    Visitor(user): Visitor,
    headers: HeaderMap,
    extensions: Extensions,
    Submission(params): Submission,
) -> Response {
    let (device, code) = match pending(&inner, &headers, &extensions, &user, &params).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let client = match inner.store.application_by_id(device.application_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return crate::manage::not_found(&inner),
        Err(e) => return unavailable(&inner, "device page", e),
    };
    let scopes: Vec<Value> = device
        .scope
        .split_whitespace()
        .map(|name| context! { name, description => inner.settings.scope_description(name) })
        .collect();
    let application = if client.name.is_empty() {
        client.client_id
    } else {
        client.name
    };
    let resources: Vec<String> = device.resource.iter().map(str::to_owned).collect();
    let context =
        context! { application, scopes, resources, user_code => display_user_code(&code) };
    device_page(
        &inner,
        &headers,
        &user,
        StatusCode::OK,
        "device_confirm.html",
        context,
    )
}

pub(crate) async fn decide(
    State(inner): State<Shared>,
    Visitor(user): Visitor,
    headers: HeaderMap,
    extensions: Extensions,
    Submission(params): Submission,
) -> Response {
    let (device, _) = match pending(&inner, &headers, &extensions, &user, &params).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let approved = params.get("allow").is_some();
    let now = inner.clock.now();
    match inner
        .store
        .decide_device_code(device.id, user.id, approved, now, now)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            let used = Some(Refusal::Used);
            return entry_page(&inner, &headers, &user, StatusCode::CONFLICT, "", used);
        }
        Err(e) => return unavailable(&inner, "device page", e),
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
    device_page(
        &inner,
        &headers,
        &user,
        StatusCode::OK,
        "device_done.html",
        context,
    )
}
