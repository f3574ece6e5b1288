//! Tollgate: an OAuth 2.0 and OpenID Connect provider for axum applications.
//!
//! Build a [`Provider`] from typed [`Settings`] and a [`Store`], then mount its
//! [`Provider::router`] in your application. The standalone `tollgate` server is
//! this library plus configuration loading and a command line.

mod authorize;
mod bearer;
pub mod claims;
mod client_auth;
mod client_cache;
mod cookies;
pub mod credentials;
mod csrf;
pub mod events;
mod form;
mod health;
mod id_token;
mod introspect;
pub mod keys;
mod login;
mod logout;
mod metadata;
mod oauth_json;
mod pages;
mod provider;
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

pub use login::local_path;
pub use provider::{BuildError, Provider, ProviderBuilder};
pub use session::SessionCookie;

/// jsonwebtoken signs through a process-wide crypto provider, which must be
/// installed before first use; [`Provider`] calls this, and a second call is harmless.
pub fn install_crypto_provider() {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}
pub use settings::{Settings, SettingsError};
pub use tollgate_core as core;
pub use tollgate_store as store;
pub use tollgate_store::Store;
