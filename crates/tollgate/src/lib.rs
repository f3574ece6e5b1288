//! Tollgate: an OAuth 2.0 and OpenID Connect provider for axum applications.
//!
//! Build a [`Provider`] from typed [`Settings`] and a [`Store`] (a database URL,
//! or the application's own `SqlitePool` / `PgPool`), mount its
//! [`Provider::router`], and protect the application's own routes with its
//! [`resource_server`](Provider::resource_server) and [`resource::RequireScopes`].
//! The standalone `tollgate` server is this library plus configuration loading
//! and a command line.
//!
//! ```
//! use axum::{Router, routing::get};
//! use tollgate::resource::{AccessToken, RequireScopes};
//! use tollgate::{Provider, Settings, Store};
//!
//! async fn me(token: AccessToken) -> String {
//!     format!("hello {}", token.subject().unwrap_or("client"))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Store::connect("sqlite::memory:").await?;
//! store.migrate().await?;
//! let settings = Settings { issuer: "https://app.example".into(), ..Settings::default() };
//! let provider = Provider::builder(settings, store).build()?;
//! provider.prepare_keys().await?;
//! let app: Router = Router::new()
//!     .route("/api/me", get(me))
//!     .route_layer(RequireScopes::all(["read"]))
//!     .layer(provider.resource_server())
//!     .merge(provider.router()); // /o/… and the /.well-known documents
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! The extension points, each with a default that needs no code:
//! [`users::UserDirectory`] (sign in the application's own users),
//! [`claims::ClaimsSource`] (ID token and UserInfo claims),
//! [`ProviderBuilder::login_url`] with [`Provider::sign_in`] (the application's
//! own sign-in page), [`scope_policy::ScopePolicy`] (which scopes a client may
//! ask for), [`events::Events`] (audit) and [`ProviderBuilder::template`] (pages).

#![warn(missing_docs)]

// Folders named for what a newcomer looks for (docs/ARCHITECTURE.md), then the
// public pieces an application builds on.
mod http;
pub mod keys;
mod oauth2;
mod oidc;
mod outbound;
mod pages;
mod provider;
// Public as `resource`, the name an API imports; the folder says whose side it is.
#[path = "resource_server/mod.rs"]
pub mod resource;
mod throttle;

pub mod credentials;
pub mod django_password;
pub mod dot_import;
pub mod events;
pub mod scope_policy;
pub mod settings;
pub mod system;
pub mod telemetry;
pub mod users;

pub use keys::sealing;
pub use oidc::claims;
#[cfg(feature = "test-network")]
pub use outbound::TestNetwork;
pub use pages::login::local_path;
pub use pages::session::SessionCookie;
pub use provider::{BuildError, Provider, ProviderBuilder};

/// jsonwebtoken signs through a process-wide crypto provider, which must be
/// installed before first use; [`Provider`] calls this, and a second call is harmless.
pub fn install_crypto_provider() {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}
pub use settings::{AccessTokenFormat, RegistrationAccess, Settings, SettingsError};
pub use tollgate_core as core;
pub use tollgate_store as store;
pub use tollgate_store::Store;
