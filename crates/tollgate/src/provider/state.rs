//! What every handler shares: the provider's state, built once at start-up.

use std::sync::Arc;

use minijinja::Environment;
use tollgate_core::{Clock, Endpoints, Entropy};

use crate::Store;
use crate::events::Events;
use crate::keys::sealing::Sealer;
use crate::keys::signing::Keys;
use crate::oauth2::cimd::Documents;
use crate::oauth2::client_cache::ClientCache;
use crate::oidc::claims::ClaimsSource;
use crate::pages::cookies::CookieNames;
use crate::resource::ProtectedResource;
use crate::scope_policy::ScopePolicy;
use crate::settings::Settings;
use crate::throttle::ClientLocks;
use crate::users::UserDirectory;
use tollgate_core::OAuthError;
use tollgate_core::model::Application;
use tollgate_core::scope::Scopes;

/// argon2 verifications at a time (~19 MiB each).
pub(super) const PASSWORD_CHECKS: usize = 4;
/// Slow client-secret checks at a time (a chosen secret's argon2, DOT's PBKDF2):
/// apart from sign-ins, so guessing a client's secret cannot hold them up.
pub(super) const CLIENT_SECRET_CHECKS: usize = 2;

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
    pub(super) trusted_proxies: Vec<tollgate_core::client_address::IpNet>,
    pub(crate) clients: ClientCache,
    /// argon2 checks running at once, to bound their memory.
    pub(crate) password_checks: tokio::sync::Semaphore,
    /// Slow client-secret checks running at once.
    pub(crate) client_secret_checks: tokio::sync::Semaphore,
    /// Back-channel logout deliveries under way, each holding a permit.
    pub(crate) backchannel_deliveries: Arc<tokio::sync::Semaphore>,
    /// The RFC 8414 / OIDC Discovery document, serialised once.
    pub(crate) metadata: bytes::Bytes,
    /// Signing keys, reloaded from the store now and then.
    pub(crate) keys: Keys,
    /// Opens sealed HS256 client secrets and signing keys.
    pub(crate) sealer: Option<Sealer>,
    pub(crate) claims: Arc<dyn ClaimsSource>,
    /// The application's user directory; `None`: Tollgate's users table.
    pub(crate) users: Option<Arc<dyn UserDirectory>>,
    pub(super) scopes: Arc<dyn ScopePolicy>,
    pub(crate) events: Arc<dyn Events>,
    /// The application's own sign-in page, if it has one.
    pub(crate) login_url: Option<String>,
    pub(super) protected_resource: Option<ProtectedResource>,
    /// Clients described by client ID metadata documents.
    pub(super) documents: Documents,
    /// Every call to another server goes through it.
    pub(crate) outbound: crate::outbound::Outbound,
    /// RFC 9449 §8 server nonces, when `dpop_nonce_required`.
    pub(crate) dpop_nonces: Option<crate::oauth2::dpop::Nonces>,
    /// Clients' JWK Sets fetched from their `jwks_uri`.
    pub(crate) remote_jwks: crate::oauth2::client_jwks::RemoteJwks,
    /// This build's migrations were all found applied (readiness asks until then).
    pub(crate) migrations_current: std::sync::atomic::AtomicBool,
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
        crate::http::address::client(&self.trusted_proxies, headers, extensions)
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
