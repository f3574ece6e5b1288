//! What the pages take from a request: the signed-in visitor, a staff member,
//! a form our own page sent.

use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tollgate_core::Params;
use tollgate_core::model::User;

use crate::pages;

use crate::pages::PageError;

use crate::http::form;
use crate::pages::PageResult;
use crate::pages::csrf;
use crate::pages::session;
use crate::provider::Inner;
use crate::provider::Shared;

/// The signed-in user of a page that needs one. Someone not signed in is sent to
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

/// The fields of a form that came from our own page (CSRF-checked).
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
