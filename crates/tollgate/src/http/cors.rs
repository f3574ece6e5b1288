//! CORS (the Fetch standard) for the endpoints a browser client calls: the
//! token, revocation and device authorization endpoints answer an origin their
//! authenticated client registered; UserInfo answers any origin, as a bearer
//! token, not a cookie, is what it trusts.

use std::sync::{Arc, OnceLock};

use axum::extract::{Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ORIGIN, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tollgate_core::model::Application;

use crate::http::json::Fault;
use crate::provider::Shared;

/// Where the client authentication of a request leaves the client it
/// authenticated, for [`client_origins`] to read once the answer is made.
#[derive(Clone, Default)]
pub(crate) struct Caller(Arc<OnceLock<Arc<Application>>>);

impl Caller {
    pub(crate) fn authenticated(&self, client: &Arc<Application>) {
        // Set once: a request authenticates one client.
        let _ = self.0.set(client.clone());
    }
}

/// The layer of the client-authenticated endpoints: once a client is
/// authenticated, its answer — an error too — may be read from an origin the
/// client registered, and says that it varies by `Origin`.
pub(crate) async fn client_origins(mut request: Request, next: Next) -> Response {
    let caller = Caller::default();
    request.extensions_mut().insert(caller.clone());
    let origin = request.headers().get(ORIGIN).cloned();
    let mut response = next.run(request).await;
    let Some(client) = caller.0.get() else {
        return response;
    };
    let allowed = origin.filter(|o| {
        o.to_str()
            .is_ok_and(|o| client.allowed_origins.iter().any(|a| a == o))
    });
    let headers = response.headers_mut();
    if let Some(origin) = allowed {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    headers.append(VARY, HeaderValue::from_static("Origin"));
    response
}

/// Preflight of the client-authenticated endpoints: answered for an origin
/// some client registered (the real request is then checked against its client).
pub(crate) async fn client_preflight(
    State(inner): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, Fault> {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(VARY, HeaderValue::from_static("Origin"));
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(response);
    };
    if inner.store.origin_is_registered(origin).await?
        && let Ok(value) = HeaderValue::from_str(origin)
    {
        allow(h, value, "POST");
    }
    Ok(response)
}

/// A preflight's answer: `origin` may send `methods` with a bearer token or
/// client credentials and a form, and need not ask again for ten minutes.
fn allow(h: &mut HeaderMap, origin: HeaderValue, methods: &'static str) {
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(methods),
    );
    h.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type"),
    );
    h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
}

/// The layer of UserInfo: any origin may read its answers, and why a token was refused.
pub(crate) async fn any_origin(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(
        ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("www-authenticate"),
    );
    response
}

/// Preflight of UserInfo: any origin, with a bearer token.
pub(crate) async fn any_origin_preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let any = HeaderValue::from_static("*");
    allow(response.headers_mut(), any, "GET, POST");
    response
}
