//! The pages where a signed-in user manages their own clients and what they
//! have authorized, and where staff administer the server. Every change is a
//! POST from our own page (CSRF-checked); anything a visitor may not see is a 404.

mod admin;
mod applications;
mod authorized;

use axum::Router;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{Value, context};
use tollgate_core::model::User;

use crate::pages;

use crate::pages::csrf;
use crate::provider::Inner;
use crate::provider::Shared;

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/applications/", get(applications::list))
        .route(
            "/applications/register/",
            get(applications::register_form).post(applications::register),
        )
        .route("/applications/{id}/", get(applications::detail))
        .route(
            "/applications/{id}/update/",
            get(applications::update_form).post(applications::update),
        )
        .route(
            "/applications/{id}/delete/",
            get(applications::delete_form).post(applications::delete),
        )
        .route("/applications/{id}/secret/", post(applications::new_secret))
        .route("/authorized_tokens/", get(authorized::list))
        .route("/authorized_tokens/{id}/delete/", post(authorized::revoke))
        .route("/admin/", get(admin::index))
        .route("/admin/applications/", get(admin::applications))
        .route(
            "/admin/applications/{id}/delete/",
            get(admin::delete_application_form).post(admin::delete_application_route),
        )
        .route("/admin/users/", get(admin::users).post(admin::create_user))
        .route("/admin/users/{id}/active/", post(admin::set_active))
        .route("/admin/users/{id}/password/", post(admin::reset_password))
        .route("/admin/tokens/", get(admin::tokens))
        .route("/admin/tokens/revoke/", post(admin::revoke_token))
        .route("/admin/keys/", get(admin::keys))
        .route("/admin/keys/rotate/", post(admin::rotate_key))
}

/// A management page: `context` plus what every such page needs (the
/// visitor, the form token, where the static files and the pages are).
pub(crate) fn page(
    inner: &Inner,
    headers: &HeaderMap,
    visitor: &User,
    status: StatusCode,
    template: &str,
    context: Value,
) -> Response {
    // The management pages are written in English only.
    page_in(inner, headers, visitor, status, template, context, "en")
}

/// As [`page`], in `language`: for the pages end users pass through.
pub(crate) fn page_in(
    inner: &Inner,
    headers: &HeaderMap,
    visitor: &User,
    status: StatusCode,
    template: &str,
    context: Value,
    language: &str,
) -> Response {
    let token = csrf::form_token(inner, headers);
    let full = context! {
        static_base => inner.endpoints.path("/static"),
        prefix => inner.endpoints.public_base(),
        csrf_token => token.token,
        me => context! { username => visitor.username.clone(), staff => visitor.staff },
        logout => inner.settings.oidc_enabled && inner.settings.oidc_rp_initiated_logout_enabled,
        ..context
    };
    let rendered = pages::render(&inner.templates, status, template, language, full);
    let mut response = pages::secure(rendered, pages::CSP_WITH_SCRIPT);
    if let Some(cookie) = token.set_cookie {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// After a change, to the page that shows its result (POST, redirect, GET).
pub(crate) fn see_other(inner: &Inner, path: &str) -> Response {
    let mut response = pages::redirect(&inner.endpoints.path(path));
    if response.status() == StatusCode::FOUND {
        *response.status_mut() = StatusCode::SEE_OTHER;
    }
    response
}
