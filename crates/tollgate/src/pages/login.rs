//! The sign-in page: username and password, CSRF-protected, throttled, and on
//! success back to where the user was going (a local path only).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::LazyLock;

use axum::extract::{Query, State};
use axum::http::header::{LOCATION, RETRY_AFTER, SET_COOKIE};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Serialize;

use crate::credentials::hash_password;

use crate::credentials::needs_rehash;

use crate::credentials::verify_password;
use crate::events::Event;
use crate::pages;
use crate::pages::PageError;
use crate::pages::PageResult;
use crate::pages::csrf;
use crate::pages::extract::Submission;
use crate::pages::i18n;
use crate::pages::session;
use crate::provider::Inner;
use crate::provider::Shared;
use crate::telemetry;
use crate::throttle;
use tollgate_core::model::User;

/// Verified when the username is unknown, so timing does not tell which names exist.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("not a real password").expect("argon2 works"));

#[derive(Serialize)]
struct LoginPage<'a> {
    static_base: String,
    action: String,
    csrf_token: &'a str,
    next: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    signed_in_as: Option<&'a str>,
}

/// `next` when it is a path on this server, never `//host`, `/\host` or a URL:
/// what an application's own sign-in page checks before redirecting back after
/// [`Provider::sign_in`](crate::Provider::sign_in).
pub fn local_path(next: &str) -> Option<&str> {
    Some(safe_next(Some(next))).filter(|n| !n.is_empty())
}

/// A `next` that stays on this server: a path, never `//host` or `/\host`.
pub(crate) fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(|c| c.is_control()) =>
        {
            n
        }
        _ => "",
    }
}

fn login_page(
    inner: &Inner,
    headers: &HeaderMap,
    status: StatusCode,
    fields: LoginPageFields,
) -> Response {
    let token = csrf::form_token(inner, headers);
    // The authorization request being signed in for may name its `ui_locales`.
    let ui_locales = fields.next.split_once('?').and_then(|(_, query)| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "ui_locales")
            .map(|(_, value)| value.into_owned())
    });
    let mut response = pages::render(
        &inner.templates,
        status,
        "login.html",
        i18n::language(ui_locales.as_deref(), headers),
        LoginPage {
            static_base: inner.endpoints.path("/static"),
            action: inner.endpoints.path("/login/"),
            csrf_token: &token.token,
            next: &fields.next,
            username: &fields.username,
            error: fields.error.as_deref(),
            signed_in_as: fields.signed_in_as.as_deref(),
        },
    );
    if let Some(cookie) = token.set_cookie {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

#[derive(Default)]
struct LoginPageFields {
    next: String,
    username: String,
    error: Option<String>,
    signed_in_as: Option<String>,
}

pub(crate) async fn page(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let signed_in = session::current(&inner, &headers)
        .await?
        .map(|s| s.user.username);
    let next = safe_next(query.get("next").map(String::as_str)).to_owned();
    let fields = LoginPageFields {
        next,
        // OIDC `login_hint`, passed on by the authorization endpoint.
        username: query.get("login_hint").cloned().unwrap_or_default(),
        signed_in_as: signed_in,
        ..LoginPageFields::default()
    };
    Ok(login_page(&inner, &headers, StatusCode::OK, fields))
}

pub(crate) async fn submit(
    State(inner): State<Shared>,
    headers: HeaderMap,
    extensions: Extensions,
    Submission(params): Submission,
) -> PageResult {
    let next = safe_next(params.get("next")).to_owned();
    let username = params.get("username").unwrap_or_default().to_owned();
    let password = params.get("password").unwrap_or_default().to_owned();
    let again = |status: StatusCode, error: &str| {
        let fields = LoginPageFields {
            next: next.clone(),
            username: username.clone(),
            error: Some(error.to_owned()),
            signed_in_as: None,
        };
        login_page(&inner, &headers, status, fields)
    };
    if username.is_empty() || password.is_empty() {
        return Ok(again(StatusCode::OK, "Enter your username and password."));
    }
    let address = inner.client_address(&headers, &extensions);
    let user = match verify_user(&inner, &username, password, address).await? {
        SignIn::Verified(user) => user,
        SignIn::Refused => {
            return Ok(again(
                StatusCode::OK,
                "The username or password is not correct.",
            ));
        }
        SignIn::Throttled(wait) => {
            let mut response = again(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too many failed sign-in attempts. Try again in {wait} seconds."),
            );
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(wait));
            return Ok(response);
        }
        SignIn::Unavailable => {
            return Err(PageError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is unavailable. Try again shortly.",
            ));
        }
    };
    let cookie = session::sign_in(&inner, &user).await?;
    let mut response = if next.is_empty() {
        let fields = LoginPageFields {
            signed_in_as: Some(user.username.clone()),
            ..Default::default()
        };
        login_page(&inner, &headers, StatusCode::OK, fields)
    } else {
        let mut r = Response::new(axum::body::Body::empty());
        *r.status_mut() = StatusCode::SEE_OTHER;
        r.headers_mut().insert(
            LOCATION,
            HeaderValue::from_str(&next).unwrap_or(HeaderValue::from_static("/")),
        );
        r
    };
    response.headers_mut().append(SET_COOKIE, cookie);
    Ok(response)
}

pub(crate) enum SignIn {
    Verified(User),
    Refused,
    /// Locked for this many more seconds.
    Throttled(i64),
    /// The application's user directory could not answer.
    Unavailable,
}

/// The one password check of the sign-in page and the password grant:
/// throttled, counted before the slow hash, the same cost for unknown users.
pub(crate) async fn verify_user(
    inner: &Inner,
    username: &str,
    password: String,
    address: Option<IpAddr>,
) -> Result<SignIn, tollgate_store::StoreError> {
    let now = inner.clock.now();
    let key = throttle::Key::new(throttle::Kind::SignIn, username, address);
    if let Err(wait) = throttle::admit(inner, &key).await? {
        telemetry::sign_in(telemetry::SignIn::Throttled);
        return Ok(SignIn::Throttled(wait));
    }
    let user = match &inner.users {
        None => {
            let user = inner.store.user_by_username(username).await?;
            let stored = user.as_ref().and_then(|u| u.password_hash.clone());
            let (matches, rehashed) = password_matches(inner, stored, password).await;
            if let (Some(user), Some((old, new))) = (&user, rehashed)
                && let Err(e) = inner
                    .store
                    .upgrade_password_hash(user.id, &old, &new, now)
                    .await
            {
                tracing::warn!(error = %e, "could not replace a password hash from Django");
            }
            user.filter(|_| matches)
        }
        Some(directory) => match directory.authenticate(username, &password).await {
            Ok(Some(user)) if user.active => Some(inner.store.mirror_user(&user, now).await?),
            Ok(_) => None,
            Err(e) => {
                tracing::error!(error = %e, "sign-in: the user directory failed");
                return Ok(SignIn::Unavailable);
            }
        },
    };
    match user {
        Some(user) if user.active => {
            throttle::succeeded(inner, &key).await?;
            telemetry::sign_in(telemetry::SignIn::Success);
            Ok(SignIn::Verified(user))
        }
        _ => {
            let address = address.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
            tracing::info!(%address, "password check failed");
            telemetry::sign_in(telemetry::SignIn::Failure);
            inner.events.emit(&Event::LoginFailed {
                username,
                address: &address,
            });
            Ok(SignIn::Refused)
        }
    }
}

/// argon2 is slow on purpose: verified off the async executor, a few at a
/// time (each takes ~19 MiB), the rest waiting their turn. A Django hash that
/// verifies comes back with its argon2id replacement (old, new), as Django
/// re-hashes on login.
async fn password_matches(
    inner: &Inner,
    stored: Option<String>,
    password: String,
) -> (bool, Option<(String, String)>) {
    let Ok(_permit) = inner.password_checks.acquire().await else {
        return (false, None);
    };
    tokio::task::spawn_blocking(move || match stored {
        Some(hash) if verify_password(&password, &hash) => {
            let rehashed = needs_rehash(&hash)
                .then(|| hash_password(&password).ok())
                .flatten()
                .map(|new| (hash, new));
            (true, rehashed)
        }
        Some(_) => (false, None),
        None => {
            let _ = verify_password(&password, &DUMMY_HASH);
            (false, None)
        }
    })
    .await
    .unwrap_or((false, None))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_local() {
        assert_eq!(safe_next(Some("/o/authorize/?a=1")), "/o/authorize/?a=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/a\nb",
            "evil",
        ] {
            assert_eq!(safe_next(Some(bad)), "", "{bad}");
        }
        assert_eq!(safe_next(None), "");
    }
}
