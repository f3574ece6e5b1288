//! Tollgate's protocol core: the rules of OAuth 2.0 and OpenID Connect as plain
//! functions over plain data. Nothing here does I/O, reads a clock or draws
//! randomness except through the traits in [`env`].

pub mod client;
pub mod env;
pub mod model;
pub mod redirect_uri;
pub mod scope;
pub mod secret;

pub use client::{ApplicationSpec, ClientType, GrantType, SigningAlgorithm, SpecError};
pub use env::{Clock, Entropy};
pub use secret::{NewSecret, SecretHash, SecretKind};
