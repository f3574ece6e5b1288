use std::sync::{Arc, RwLock};

use axum::Router;
use axum::routing::{get, post};
use minijinja::Environment;
use tollgate_core::{Clock, Entropy};

use crate::Store;
use crate::claims::{ClaimsSource, StandardClaims};
use crate::client_cache::ClientCache;
use crate::cookies::CookieNames;
use crate::sealing::Sealer;
use crate::settings::Settings;
use crate::signing::Keys;
use crate::system::{OsEntropy, SystemClock};
use crate::throttle::LoginThrottle;
use crate::{
    authorize, health, introspect, login, logout, metadata, pages, revoke, token, userinfo,
};

/// argon2 verifications at a time (~19 MiB each).
const PASSWORD_CHECKS: usize = 4;

/// Where the provider's routes live below the issuer, as in DOT.
pub(crate) const PREFIX: &str = "/o";

/// What every handler shares: cheap to clone, immutable after start-up except
/// for the login throttle and the client cache.
pub(crate) type Shared = Arc<Inner>;

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) settings: Settings,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) entropy: Arc<dyn Entropy>,
    pub(crate) templates: Environment<'static>,
    pub(crate) cookies: CookieNames,
    pub(crate) throttle: LoginThrottle,
    pub(crate) clients: ClientCache,
    /// argon2 checks running at once, to bound their memory.
    pub(crate) password_checks: tokio::sync::Semaphore,
    /// The RFC 8414 / OIDC Discovery document, serialised once.
    pub(crate) metadata: bytes::Bytes,
    /// Signing keys, reloaded from the store now and then.
    pub(crate) keys: Keys,
    /// Opens sealed HS256 client secrets and signing keys.
    pub(crate) sealer: Option<Sealer>,
    claims: RwLock<Arc<dyn ClaimsSource>>,
}

impl Inner {
    /// A client by id, from the cache when it is fresh enough.
    pub(crate) async fn client(
        &self,
        client_id: &str,
    ) -> Result<Option<std::sync::Arc<tollgate_core::model::Application>>, tollgate_store::StoreError>
    {
        let ttl = self.settings.client_cache_seconds;
        self.clients
            .get(&self.store, client_id, self.clock.now(), ttl)
            .await
    }

    /// The claims hook in force.
    pub(crate) fn claims(&self) -> Arc<dyn ClaimsSource> {
        self.claims.read().expect("claims lock").clone()
    }
}

/// An OAuth 2.0 / OpenID Connect provider, ready to serve.
#[derive(Clone)]
pub struct Provider {
    shared: Shared,
}

impl Provider {
    /// `settings` should have passed [`Settings::validate`].
    pub fn new(settings: Settings, store: Store) -> Self {
        Self::with_environment(settings, store, Arc::new(SystemClock), Arc::new(OsEntropy))
    }

    /// As [`Provider::new`], with the clock and randomness given (for tests).
    pub fn with_environment(
        settings: Settings,
        store: Store,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
    ) -> Self {
        crate::install_crypto_provider();
        let metadata = metadata::document(&settings);
        let sealer = settings.sealer();
        Provider {
            shared: Arc::new(Inner {
                store,
                cookies: CookieNames::for_issuer(&settings.issuer),
                settings,
                clock,
                entropy,
                templates: pages::templates(),
                throttle: LoginThrottle::default(),
                clients: ClientCache::default(),
                password_checks: tokio::sync::Semaphore::new(PASSWORD_CHECKS),
                metadata,
                keys: Keys::new(sealer.clone()),
                sealer,
                claims: RwLock::new(Arc::new(StandardClaims)),
            }),
        }
    }

    /// Lets the application add or change the claims of ID tokens and UserInfo.
    pub fn with_claims(self, source: impl ClaimsSource) -> Self {
        *self.shared.claims.write().expect("claims lock") = Arc::new(source);
        self
    }

    /// Loads and parses the signing keys now, so a key that cannot be read (a
    /// sealed key without the right `secret_key`) stops start-up rather than a
    /// later request. Keys made afterwards by any process are picked up as they come.
    pub async fn load_keys(&self) -> Result<(), String> {
        let inner = &self.shared;
        inner
            .keys
            .ring(&inner.store, inner.clock.now())
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    pub fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// The provider's routes, to serve as they are or to merge into an application.
    pub fn router(&self) -> Router {
        let settings = &self.shared.settings;
        let mut o = Router::new()
            .route("/authorize/", get(authorize::get).post(authorize::post))
            .route("/login/", get(login::page).post(login::submit))
            .route("/token/", post(token::token).options(token::preflight))
            .route(
                "/revoke_token/",
                post(revoke::revoke).options(token::preflight),
            )
            .route("/introspect/", post(introspect::introspect))
            .route("/static/tollgate.css", get(stylesheet));
        let mut root = Router::new()
            .route("/health", get(health::health))
            .route(
                "/.well-known/oauth-authorization-server",
                get(metadata::serve),
            )
            .route(
                "/.well-known/oauth-authorization-server/o",
                get(metadata::serve),
            );
        if settings.oidc_enabled {
            o = o
                .route(
                    "/userinfo/",
                    get(userinfo::get)
                        .post(userinfo::post)
                        .options(userinfo::preflight),
                )
                .route("/.well-known/jwks.json", get(metadata::jwks))
                .route("/.well-known/openid-configuration", get(metadata::serve));
            root = root.route("/.well-known/openid-configuration", get(metadata::serve));
            if settings.oidc_rp_initiated_logout_enabled {
                o = o.route("/logout/", get(logout::get).post(logout::post));
            }
        }
        root.nest(PREFIX, o).with_state(self.shared.clone())
    }
}

async fn stylesheet() -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        pages::STYLESHEET,
    )
}
