//! The provider an application builds (`builder.rs`), the state every handler
//! shares (`state.rs`) and the routes it serves (`router.rs`).

mod builder;
mod router;
mod state;

pub use builder::{BuildError, ProviderBuilder};
pub(crate) use state::{Inner, Shared};

use crate::Store;
use crate::pages::session;
use crate::pages::session::SessionCookie;
use crate::resource::ResourceServer;
use crate::settings::Settings;
use crate::users::User;
use tollgate_store::StoreError;

/// An OAuth 2.0 / OpenID Connect provider, ready to serve: made by
/// [`Provider::builder`], cheap to clone.
#[derive(Clone)]
pub struct Provider {
    shared: Shared,
}

impl Provider {
    /// Signs `user` in, after the application's own sign-in page checked them
    /// (see [`ProviderBuilder::login_url`]): keeps a copy of the user when a
    /// [`UserDirectory`](crate::users::UserDirectory) is in use, starts a login session and returns its
    /// cookie, to be set on the response.
    pub async fn sign_in(&self, user: &User) -> Result<SessionCookie, StoreError> {
        let inner = &self.shared;
        let user = match inner.users {
            Some(_) => inner.store.mirror_user(user, inner.clock.now()).await?,
            None => user.clone(),
        };
        session::sign_in(inner, &user).await.map(SessionCookie)
    }

    /// Updates Tollgate's copy of a user of the application's [`UserDirectory`](crate::users::UserDirectory)
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

    /// Sets the gauges of [`telemetry`](crate::telemetry) (database pools,
    /// signing-key ages, time since the keys were loaded) to what they are now.
    /// Call it before the exporter renders, or on an interval.
    pub fn record_gauges(&self) {
        let inner = &self.shared;
        let now = inner.clock.now();
        let (loaded_at, key_ages) = inner.keys.state(now);
        crate::telemetry::record_gauges(
            &inner.store.pool_stats(),
            &key_ages,
            loaded_at.map(|t| now.saturating_sub(t)),
        );
    }
}
