//! The routes a provider serves, and the static files its pages use.

use axum::Router;
use axum::routing::{MethodRouter, get, post};

use crate::http::cors;
use crate::http::health;
use crate::oauth2::authorize;
use crate::oauth2::device;
use crate::oauth2::introspect;
use crate::oauth2::metadata;
use crate::oauth2::par;
use crate::oauth2::register;
use crate::oauth2::revoke;
use crate::oauth2::token;
use crate::oidc::logout;
use crate::oidc::userinfo;
use crate::pages;
use crate::pages::i18n;
use crate::pages::login;
use crate::pages::manage;
use crate::telemetry;

use super::{Provider, Shared};

impl Provider {
    /// The provider's routes: the endpoints below the issuer's path (or `/o`
    /// for an issuer without one) and the `/.well-known` documents. Merge it
    /// into the application's router at its root, or nest it under the
    /// settings' `public_path`, which its URLs then carry. Serve it with
    /// `into_make_service_with_connect_info::<SocketAddr>()`: the guessing
    /// throttles count per client address, and without one keep no
    /// per-address count at all.
    pub fn router(&self) -> Router {
        let inner = &self.shared;
        let settings = &inner.settings;
        let mut pages = Router::new()
            .route("/authorize/", get(authorize::get).post(authorize::post))
            .route("/login/", get(login::page).post(login::submit))
            .route(
                "/device/",
                get(pages::device::entry).post(pages::device::submit),
            )
            .route("/device/confirm/", post(pages::device::decide))
            .merge(manage::routes());
        if settings.oidc_enabled && settings.oidc_rp_initiated_logout_enabled {
            pages = pages.route("/logout/", get(logout::get).post(logout::post));
        }
        // Before the client is authenticated (RFC 9449 §8 retries).
        let nonce_first =
            axum::middleware::from_fn_with_state(inner.clone(), crate::oauth2::dpop::nonce_first);
        let mut endpoints = Router::new()
            .merge(
                pages
                    .layer(axum::middleware::from_fn_with_state(
                        inner.clone(),
                        pages::render_errors,
                    ))
                    .layer(axum::middleware::from_fn(i18n::negotiate)),
            )
            .route(
                "/token/",
                for_clients(post(token::token).layer(nonce_first.clone())),
            )
            .route(
                "/device-authorization/",
                for_clients(post(device::authorize)),
            )
            .route(
                "/par/",
                for_clients(post(par::push).layer(nonce_first.clone())),
            )
            .route("/revoke_token/", for_clients(post(revoke::revoke)))
            .route("/introspect/", post(introspect::introspect))
            .route("/static/tollgate.css", get(stylesheet))
            .route("/static/tollgate.js", get(script));
        if settings.oidc_enabled {
            endpoints = endpoints
                .route(
                    "/userinfo/",
                    get(userinfo::get)
                        .post(userinfo::post)
                        .layer(axum::middleware::from_fn(cors::any_origin))
                        .options(cors::any_origin_preflight),
                )
                .route("/.well-known/jwks.json", get(metadata::jwks));
        }
        if settings.dcr_enabled {
            endpoints = endpoints
                .route("/register/", post(register::register))
                .route(
                    "/register/{client_id}/",
                    get(register::read)
                        .put(register::replace)
                        .delete(register::delete),
                );
        }
        let mut documents = inner.endpoints.metadata_paths();
        if settings.oidc_enabled {
            documents.extend(inner.endpoints.discovery_paths());
        }
        let mut root = documents
            .iter()
            .fold(Router::new(), |root, path| {
                root.route(path, get(metadata::serve))
            })
            .nest(inner.endpoints.mount(), endpoints);
        if let Some(resource) = &inner.protected_resource {
            root = root.merge(resource.router());
        }
        root.layer(axum::middleware::from_fn(telemetry::requests))
            .with_state(inner.clone())
    }

    /// For an application that nests [`router`](Self::router) under
    /// `public_path`: the RFC 8414 document at the host's root
    /// (`/.well-known/oauth-authorization-server/<issuer path>`), which the
    /// nested router cannot serve. Merge it at the application's root; without
    /// a `public_path` it is empty, as `router` serves that path itself.
    pub fn well_known_router(&self) -> Router {
        let inner = &self.shared;
        match inner.endpoints.host_metadata_path() {
            Some(path) => Router::new()
                .route(&path, get(metadata::serve))
                .with_state(inner.clone()),
            None => Router::new(),
        }
    }

    /// `/health/live` (200 while the process serves), `/health/ready` (200
    /// when the database answers, migrations are current and the signing keys
    /// are loaded; 503 with the reason otherwise) and `/health` (the database
    /// alone). Apart from [`router`](Self::router), so an application that has
    /// its own keeps it.
    pub fn health_router(&self) -> Router {
        Router::new()
            .route("/health", get(health::health))
            .route("/health/live", get(health::live))
            .route("/health/ready", get(health::ready))
            .with_state(self.shared.clone())
    }
}

/// An endpoint browser clients call with their client credentials: CORS for
/// the origins of the client it authenticated, and its preflight.
fn for_clients(route: MethodRouter<Shared>) -> MethodRouter<Shared> {
    route
        .layer(axum::middleware::from_fn(cors::client_origins))
        .options(cors::client_preflight)
}

async fn stylesheet() -> impl axum::response::IntoResponse {
    static_file("text/css; charset=utf-8", pages::STYLESHEET)
}

async fn script() -> impl axum::response::IntoResponse {
    static_file("text/javascript; charset=utf-8", pages::SCRIPT)
}

fn static_file(
    content_type: &'static str,
    body: &'static str,
) -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
            (axum::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
}
