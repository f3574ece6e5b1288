//! Tollgate: an OAuth 2.0 and OpenID Connect provider for axum applications.
//!
//! Build a [`Provider`] from typed [`Settings`] and a [`Store`], then mount its
//! [`Provider::router`] in your application. The standalone `tollgate` server is
//! this library plus configuration loading and a command line.

mod authorize;
mod client_auth;
mod client_cache;
mod cookies;
pub mod credentials;
mod csrf;
mod form;
mod health;
mod introspect;
pub mod keys;
mod login;
mod metadata;
mod oauth_json;
mod pages;
mod provider;
mod revoke;
mod session;
pub mod settings;
pub mod system;
mod throttle;
mod token;

pub use provider::Provider;
pub use settings::{Settings, SettingsError};
pub use tollgate_core as core;
pub use tollgate_store as store;
pub use tollgate_store::Store;
