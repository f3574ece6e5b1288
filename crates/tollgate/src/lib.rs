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

mod address;
mod authorize;
mod bearer;
mod cimd;
pub mod claims;
mod client_auth;
mod client_cache;
mod cookies;
mod cors;
pub mod credentials;
mod csrf;
mod device;
pub mod django_password;
pub mod dot_import;
pub mod events;
mod form;
mod health;
mod i18n;
mod id_token;
mod introspect;
pub mod keys;
mod login;
mod logout;
mod manage;
mod metadata;
mod oauth_json;
mod outage;
mod pages;
mod provider;
mod register;
pub mod resource;
mod revoke;
pub mod scope_policy;
pub mod sealing;
mod session;
pub mod settings;
mod signing;
pub mod system;
mod throttle;
mod token;
mod userinfo;
pub mod users;

#[cfg(feature = "test-network")]
pub use cimd::TestNetwork;
pub use login::local_path;
pub use provider::{BuildError, Provider, ProviderBuilder};
pub use session::SessionCookie;

/// jsonwebtoken signs through a process-wide crypto provider, which must be
/// installed before first use; [`Provider`] calls this, and a second call is harmless.
pub fn install_crypto_provider() {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}
pub use settings::{AccessTokenFormat, RegistrationAccess, Settings, SettingsError};
pub use tollgate_core as core;
pub use tollgate_store as store;
pub use tollgate_store::Store;
