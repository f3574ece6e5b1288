use std::sync::Arc;

use axum::Router;
use axum::routing::{MethodRouter, get, post};
use minijinja::Environment;
use tollgate_core::{Clock, Endpoints, Entropy};

use crate::Store;
use crate::cimd::{Documents, TestNetwork};
use crate::claims::{ClaimsSource, StandardClaims};
use crate::client_cache::ClientCache;
use crate::cookies::CookieNames;
use crate::events::{Events, LogEvents};
use crate::resource::{ProtectedResource, ResourceServer};
use crate::scope_policy::{AllScopes, ScopePolicy};
use crate::sealing::Sealer;
use crate::session::SessionCookie;
use crate::settings::Settings;
use crate::signing::Keys;
use crate::system::{OsEntropy, SystemClock};
use crate::throttle::ClientLocks;
use crate::users::{User, UserDirectory};
use crate::{
    authorize, cors, device, health, i18n, introspect, login, logout, manage, metadata, pages,
    register, revoke, session, token, userinfo,
};
use tollgate_core::OAuthError;
use tollgate_core::model::Application;
use tollgate_core::scope::Scopes;
use tollgate_store::StoreError;

/// argon2 verifications at a time (~19 MiB each).
const PASSWORD_CHECKS: usize = 4;
/// Slow client-secret checks at a time (a chosen secret's argon2, DOT's PBKDF2):
/// apart from sign-ins, so guessing a client's secret cannot hold them up.
const CLIENT_SECRET_CHECKS: usize = 2;

/// What every handler shares: cheap to clone, immutable after start-up except
/// for the client-secret locks and the client cache.
pub(crate) type Shared = Arc<Inner>;

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) settings: Settings,
    /// Where the issuer's endpoints are, for the router and for the URLs it gives out.
    pub(crate) endpoints: Endpoints,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) entropy: Arc<dyn Entropy>,
    pub(crate) templates: Environment<'static>,
    pub(crate) cookies: CookieNames,
    /// Client-secret locks this node has learnt.
    pub(crate) client_locks: ClientLocks,
    /// `trusted_proxies`, parsed.
    trusted_proxies: Vec<tollgate_core::client_address::IpNet>,
    pub(crate) clients: ClientCache,
    /// argon2 checks running at once, to bound their memory.
    pub(crate) password_checks: tokio::sync::Semaphore,
    /// Slow client-secret checks running at once.
    pub(crate) client_secret_checks: tokio::sync::Semaphore,
    /// The RFC 8414 / OIDC Discovery document, serialised once.
    pub(crate) metadata: bytes::Bytes,
    /// Signing keys, reloaded from the store now and then.
    pub(crate) keys: Keys,
    /// Opens sealed HS256 client secrets and signing keys.
    pub(crate) sealer: Option<Sealer>,
    pub(crate) claims: Arc<dyn ClaimsSource>,
    /// The application's user directory; `None`: Tollgate's users table.
    pub(crate) users: Option<Arc<dyn UserDirectory>>,
    scopes: Arc<dyn ScopePolicy>,
    pub(crate) events: Arc<dyn Events>,
    /// The application's own sign-in page, if it has one.
    pub(crate) login_url: Option<String>,
    protected_resource: Option<ProtectedResource>,
    /// Clients described by client ID metadata documents.
    documents: Documents,
}

impl Inner {
    /// A client by id, from the cache when it is fresh enough.
    pub(crate) async fn client(
        &self,
        client_id: &str,
    ) -> Result<Option<std::sync::Arc<tollgate_core::model::Application>>, tollgate_store::StoreError>
    {
        if tollgate_core::cimd::is_document_url(client_id) {
            return self.documents.client(self, client_id).await;
        }
        let ttl = self.settings.client_cache_seconds;
        self.clients
            .get(&self.store, client_id, self.clock.now(), ttl)
            .await
    }

    /// The request's client address, through the trusted proxies.
    pub(crate) fn client_address(
        &self,
        headers: &axum::http::HeaderMap,
        extensions: &axum::http::Extensions,
    ) -> Option<std::net::IpAddr> {
        crate::address::client(&self.trusted_proxies, headers, extensions)
    }

    /// The scopes `client` may ask for, and those it gets when it names none.
    pub(crate) fn scope_rules(&self, client: Option<&Application>) -> (Vec<String>, Vec<String>) {
        let known: Vec<String> = self
            .settings
            .scope_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let defaults: Vec<String> = self
            .settings
            .default_scope_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let Some(client) = client else {
            return (known, defaults);
        };
        let available = self.scopes.available(client, known);
        let defaults = self
            .scopes
            .default_scopes(client, defaults)
            .into_iter()
            .filter(|s| available.contains(s))
            .collect();
        (available, defaults)
    }

    /// The scope of a new grant for `client` (client credentials, password):
    /// what it asked for, or its defaults.
    pub(crate) fn new_grant_scope(
        &self,
        client: &Application,
        requested: Option<&str>,
    ) -> Result<Scopes, OAuthError> {
        let (known, defaults) = self.scope_rules(Some(client));
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        let defaults: Vec<&str> = defaults.iter().map(String::as_str).collect();
        tollgate_core::token::new_grant_scope(requested, &known, &defaults)
    }
}

/// An OAuth 2.0 / OpenID Connect provider, ready to serve: made by
/// [`Provider::builder`], cheap to clone.
#[derive(Clone)]
pub struct Provider {
    shared: Shared,
}

/// Why a [`ProviderBuilder`] could not build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A setting that cannot work.
    #[error(transparent)]
    Settings(#[from] crate::SettingsError),
    /// A replacement template that does not parse, or a templates directory that cannot be read.
    #[error("template `{name}`: {problem}")]
    Template {
        /// The template's file name, such as `login.html`.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// Configures a [`Provider`]: the settings and store it was made with, and the
/// extension points, each with a default that needs no code.
pub struct ProviderBuilder {
    settings: Settings,
    store: Store,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    users: Option<Arc<dyn UserDirectory>>,
    claims: Arc<dyn ClaimsSource>,
    scopes: Arc<dyn ScopePolicy>,
    events: Arc<dyn Events>,
    login_url: Option<String>,
    templates: Vec<(String, String)>,
    protected_resource: Option<ProtectedResource>,
    network: Option<TestNetwork>,
}

impl ProviderBuilder {
    /// Users come from the application's directory instead of Tollgate's users table.
    pub fn users(mut self, directory: impl UserDirectory) -> Self {
        self.users = Some(Arc::new(directory));
        self
    }

    /// Adds or changes the claims of ID tokens and UserInfo.
    pub fn claims(mut self, source: impl ClaimsSource) -> Self {
        self.claims = Arc::new(source);
        self
    }

    /// Decides which scopes each client may ask for.
    pub fn scopes(mut self, policy: impl ScopePolicy) -> Self {
        self.scopes = Arc::new(policy);
        self
    }

    /// Receives tokens issued and revoked, consents and failed sign-ins.
    pub fn events(mut self, sink: impl Events) -> Self {
        self.events = Arc::new(sink);
        self
    }

    /// Sends users who must sign in to the application's own sign-in page
    /// instead of Tollgate's: `url?next=<path>` (and `&login_hint=…` when the
    /// client sent one). The application checks the user, calls
    /// [`Provider::sign_in`], sets the cookie it returns and redirects to `next`
    /// (after checking that it is a local path).
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = Some(url.into());
        self
    }

    /// Replaces one of the page templates (`base.html`, `login.html`,
    /// `consent.html` (and `grant.html`, the scopes and resources it and the
    /// device confirmation list), `error.html`, `logout.html`, `signed_out.html`,
    /// `form_post.html`, the management pages `manage.html`, `applications.html`,
    /// `application.html`, `application_form.html`, `application_delete.html`,
    /// `authorized_tokens.html`, the device pages `device*.html`, and the staff
    /// pages `admin*.html`) with `source`, a minijinja template given the same
    /// context as the default (see the defaults under `templates/`).
    pub fn template(mut self, name: impl Into<String>, source: impl Into<String>) -> Self {
        self.templates.push((name.into(), source.into()));
        self
    }

    /// Serves RFC 9728 protected-resource metadata for the application's API
    /// and names it in the `WWW-Authenticate` challenges of
    /// [`Provider::resource_server`]. Its authorization server is this provider.
    pub fn protected_resource(mut self, resource: ProtectedResource) -> Self {
        self.protected_resource = Some(resource);
        self
    }

    /// For tests only (feature `test-network`): how client ID metadata
    /// documents are resolved and fetched.
    #[cfg(feature = "test-network")]
    pub fn cimd_test_network(mut self, network: TestNetwork) -> Self {
        self.network = Some(network);
        self
    }

    /// Replaces the clock and the source of randomness (for tests).
    pub fn environment(mut self, clock: Arc<dyn Clock>, entropy: Arc<dyn Entropy>) -> Self {
        self.clock = clock;
        self.entropy = entropy;
        self
    }

    /// Checks the settings, compiles the templates (the defaults, then the
    /// settings' `templates_dir`, then [`template`](Self::template)s) and builds.
    pub fn build(self) -> Result<Provider, BuildError> {
        crate::install_crypto_provider();
        let settings = self.settings;
        settings.validate()?;
        let templates = pages::templates(settings.templates_dir.as_deref(), self.templates)?;
        let endpoints = settings.endpoints();
        let trusted_proxies = settings.proxies()?;
        let metadata = metadata::document(&settings, &endpoints);
        let sealer = settings.sealer();
        let documents = Documents::new(&settings, self.network);
        let protected_resource = self
            .protected_resource
            .map(|r| r.with_authorization_server(&settings.issuer));
        Ok(Provider {
            shared: Arc::new(Inner {
                store: self.store,
                cookies: CookieNames::for_issuer(&settings.issuer),
                endpoints,
                settings,
                clock: self.clock,
                entropy: self.entropy,
                templates,
                client_locks: ClientLocks::default(),
                trusted_proxies,
                clients: ClientCache::default(),
                password_checks: tokio::sync::Semaphore::new(PASSWORD_CHECKS),
                client_secret_checks: tokio::sync::Semaphore::new(CLIENT_SECRET_CHECKS),
                metadata,
                keys: Keys::new(sealer.clone()),
                sealer,
                claims: self.claims,
                users: self.users,
                scopes: self.scopes,
                events: self.events,
                login_url: self.login_url,
                protected_resource,
                documents,
            }),
        })
    }
}

impl Provider {
    /// Starts configuring a provider. `store` must be migrated
    /// ([`Store::migrate`]); it may be the application's own database.
    pub fn builder(settings: Settings, store: Store) -> ProviderBuilder {
        ProviderBuilder {
            settings,
            store,
            clock: Arc::new(SystemClock),
            entropy: Arc::new(OsEntropy),
            users: None,
            claims: Arc::new(StandardClaims),
            scopes: Arc::new(AllScopes),
            events: Arc::new(LogEvents),
            login_url: None,
            templates: Vec::new(),
            protected_resource: None,
            network: None,
        }
    }

    /// Signs `user` in, after the application's own sign-in page checked them
    /// (see [`ProviderBuilder::login_url`]): keeps a copy of the user when a
    /// [`UserDirectory`] is in use, starts a login session and returns its
    /// cookie, to be set on the response.
    pub async fn sign_in(&self, user: &User) -> Result<SessionCookie, StoreError> {
        let inner = &self.shared;
        let user = match inner.users {
            Some(_) => inner.store.mirror_user(user, inner.clock.now()).await?,
            None => user.clone(),
        };
        session::sign_in(inner, &user).await.map(SessionCookie)
    }

    /// Updates Tollgate's copy of a user of the application's [`UserDirectory`]
    /// now (a deactivated user's tokens stop working at once) rather than at
    /// their next sign-in.
    pub async fn sync_user(&self, user: &User) -> Result<(), StoreError> {
        let inner = &self.shared;
        inner
            .store
            .mirror_user(user, inner.clock.now())
            .await
            .map(drop)
    }

    /// Validates this provider's access tokens for the application's own routes,
    /// in process against the store: add it as a layer, then use
    /// [`RequireScopes`](crate::resource::RequireScopes) and the
    /// [`AccessToken`](crate::resource::AccessToken) extractor.
    pub fn resource_server(&self) -> ResourceServer {
        let local = ResourceServer::local(self.shared.clone());
        match &self.shared.protected_resource {
            Some(resource) => local
                .resource_metadata(resource.metadata_url())
                .audience(resource.identifier()),
            None => local,
        }
    }

    /// Makes a signing key for each algorithm that has none (on first start),
    /// then loads and parses them all, so a key that cannot be read (sealed
    /// under another `secret_key`) stops start-up rather than a later request.
    /// Keys made afterwards by any process are picked up as they come.
    pub async fn prepare_keys(&self) -> Result<(), crate::keys::KeyError> {
        let inner = &self.shared;
        let now = inner.clock.now();
        crate::keys::ensure_signing_keys(&inner.store, inner.sealer.as_ref(), now).await?;
        inner
            .keys
            .ring(&inner.store, now)
            .await
            .map(drop)
            .map_err(|e| crate::keys::KeyError::Unloadable(e.to_string()))
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    /// The address a request came from, as the throttles and audit events see
    /// it: the TCP peer (from `ConnectInfo<SocketAddr>`), or the client a peer
    /// listed in `trusted_proxies` names. For the application's own request logs.
    pub fn client_address(
        &self,
        headers: &axum::http::HeaderMap,
        extensions: &axum::http::Extensions,
    ) -> Option<std::net::IpAddr> {
        self.shared.client_address(headers, extensions)
    }

    /// The store it serves from.
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

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
                get(device::pages::entry).post(device::pages::submit),
            )
            .route("/device/confirm/", post(device::pages::decide))
            .merge(manage::routes());
        if settings.oidc_enabled && settings.oidc_rp_initiated_logout_enabled {
            pages = pages.route("/logout/", get(logout::get).post(logout::post));
        }
        let mut endpoints = Router::new()
            .merge(
                pages
                    .layer(axum::middleware::from_fn_with_state(
                        inner.clone(),
                        pages::render_errors,
                    ))
                    .layer(axum::middleware::from_fn(i18n::negotiate)),
            )
            .route("/token/", for_clients(post(token::token)))
            .route(
                "/device-authorization/",
                for_clients(post(device::authorize)),
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
        root.with_state(inner.clone())
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

    /// `/health`: 200 while the database answers, 503 when it does not, for a
    /// load balancer. Apart from [`router`](Self::router), so an application
    /// that has its own keeps it.
    pub fn health_router(&self) -> Router {
        Router::new()
            .route("/health", get(health::health))
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
