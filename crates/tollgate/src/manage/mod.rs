//! The pages where a signed-in user manages their own clients and what they
//! have authorized, and where staff administer the server. Every change is a
//! POST from our own page (CSRF-checked); anything a visitor may not see is a 404.

mod admin;
mod applications;
mod authorized;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use tollgate_core::Params;
use tollgate_core::model::User;

use crate::pages::{self, PageError, PageResult};
use crate::provider::{Inner, Shared};
use crate::{csrf, form, session};

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

/// The signed-in user of a management page. Someone not signed in is sent to
/// sign in (on a GET) or refused (a POST whose session has ended).
pub(crate) struct Visitor(pub User);

impl FromRequestParts<Shared> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, inner: &Shared) -> Result<Self, Response> {
        match session::current(inner, &parts.headers).await {
            Ok(Some(signed_in)) => Ok(Visitor(signed_in.user)),
            Ok(None) if parts.method == Method::GET => {
                // The URI as requested, not as seen below the `/o` nest.
                let uri = parts
                    .extensions
                    .get::<OriginalUri>()
                    .map_or(&parts.uri, |o| &o.0);
                let next = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
                Err(pages::to_login(inner, next, None))
            }
            Ok(None) => Err(PageError::new(
                StatusCode::FORBIDDEN,
                "Your session has ended. Sign in again and repeat the change.",
            )
            .into_response()),
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}

/// A staff member; to anyone else the staff pages do not exist.
pub(crate) struct Staff(pub User);

impl FromRequestParts<Shared> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, inner: &Shared) -> Result<Self, Response> {
        let Visitor(user) = Visitor::from_request_parts(parts, inner).await?;
        if user.staff {
            Ok(Staff(user))
        } else {
            Err(PageError::not_found().into_response())
        }
    }
}

/// The fields of a management form that came from our own page.
pub(crate) struct Submission(pub Params);

impl FromRequest<Shared> for Submission {
    type Rejection = PageError;

    async fn from_request(request: Request, inner: &Shared) -> Result<Self, PageError> {
        let headers = request.headers().clone();
        let body = axum::body::to_bytes(request.into_body(), 64 * 1024)
            .await
            .map_err(|_| PageError::new(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large."))?;
        let params = form::params(&headers, &body)
            .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, e.description))?;
        from_our_page(inner, &headers, &params)?;
        Ok(Submission(params))
    }
}

/// A form's CSRF token is the one our page gave this browser.
pub(crate) fn from_our_page(inner: &Inner, headers: &HeaderMap, params: &Params) -> PageResult<()> {
    if csrf::verify(inner, headers, params) {
        return Ok(());
    }
    Err(PageError::new(
        StatusCode::FORBIDDEN,
        "The form has expired or did not come from this site. Go back, reload the page and try again.",
    ))
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
