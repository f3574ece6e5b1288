//! Tollgate's protocol core: the rules of OAuth 2.0 and OpenID Connect as plain
//! functions over plain data. Nothing here does I/O, reads a clock or draws
//! randomness except through the traits in [`env`](mod@env).

#![warn(missing_docs)]

pub mod access_token;
pub mod authorize;
pub mod cimd;
pub mod claims;
pub mod client;
pub mod client_address;
pub mod client_assertion;
pub mod client_auth;
pub mod deploy_check;
pub mod device;
pub mod dpop;
pub mod endpoints;
pub mod env;
pub mod error;
pub mod id_token;
pub mod jwks;
pub mod jwt_claims;
pub mod logout;
pub mod logout_token;
pub mod model;
pub mod outbound;
pub mod par;
pub mod params;
pub mod pkce;
pub mod redirect_uri;
pub mod registration;
pub mod request_object;
pub mod resource_indicator;
pub mod response;
pub mod scope;
pub mod secret;
pub mod throttle;
pub mod token;

pub use client::{
    ApplicationSpec, ClientType, DEVICE_CODE_URN, GrantType, SigningAlgorithm, SpecError,
};
pub use endpoints::Endpoints;
pub use env::{Clock, Entropy};
pub use error::{ErrorCode, OAuthError};
pub use params::Params;
pub use secret::{NewSecret, SecretHash, SecretKind};
