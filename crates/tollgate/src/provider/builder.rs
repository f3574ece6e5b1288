//! [`ProviderBuilder`]: the settings, the store and the extension points a provider is made of.

use std::sync::Arc;
use std::time::Duration;

use tollgate_core::{Clock, Entropy};

use crate::Store;
use crate::events::Events;
use crate::events::LogEvents;
use crate::keys::signing::Keys;
use crate::oauth2::cimd::Documents;
use crate::oauth2::client_cache::ClientCache;
use crate::oauth2::metadata;
use crate::oidc::claims::ClaimsSource;
use crate::oidc::claims::StandardClaims;
use crate::outbound::{Outbound, TestNetwork};
use crate::pages;
use crate::pages::cookies::CookieNames;
use crate::resource::ProtectedResource;
use crate::scope_policy::AllScopes;
use crate::scope_policy::ScopePolicy;
use crate::settings::Settings;
use crate::system::OsEntropy;
use crate::system::SystemClock;
use crate::throttle::ClientLocks;
use crate::users::UserDirectory;

use super::Provider;
use super::state::{CLIENT_SECRET_CHECKS, Inner, PASSWORD_CHECKS};

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

    /// For tests only (feature `test-network`): how outbound calls resolve
    /// names, and where an `https` one connects instead.
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
        let documents = Documents::new(&settings);
        let settings_nonces = settings
            .secret_key
            .as_ref()
            .filter(|_| settings.dpop_nonce_required)
            .map(|key| crate::oauth2::dpop::Nonces::new(&key.0));
        let outbound = Outbound::new(settings.outbound_networks()?, self.network);
        self.store
            .cache_tokens(Duration::from_secs(settings.token_cache_seconds));
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
                backchannel_deliveries: Arc::new(tokio::sync::Semaphore::new(
                    crate::oidc::backchannel::MAX_IN_FLIGHT,
                )),
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
                outbound,
                remote_jwks: Default::default(),
                dpop_nonces: settings_nonces,
                migrations_current: std::sync::atomic::AtomicBool::new(false),
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
}
