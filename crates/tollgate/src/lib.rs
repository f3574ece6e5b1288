//! Tollgate: an OAuth 2.0 and OpenID Connect provider for axum applications.
//!
//! Build a [`Provider`] from typed [`Settings`] and a [`Store`], then mount its
//! [`Provider::router`] in your application. The standalone `tollgate` server is
//! this library plus configuration loading and a command line.

pub mod credentials;
mod health;
pub mod keys;
mod provider;
pub mod settings;
pub mod system;

pub use provider::Provider;
pub use settings::{Settings, SettingsError};
pub use tollgate_core as core;
pub use tollgate_store as store;
pub use tollgate_store::Store;
