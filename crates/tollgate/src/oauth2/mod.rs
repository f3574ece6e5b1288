//! OAuth 2.0: the authorization endpoint (RFC 6749 §4.1–4.2), the token
//! endpoint and its grants (§4–6, RFC 8628), revocation (RFC 7009),
//! introspection (RFC 7662), device authorization (RFC 8628 §3.1), pushed
//! authorization requests (RFC 9126), dynamic
//! registration (RFC 7591, 7592), the metadata documents (RFC 8414, OIDC
//! Discovery), and what they share: client authentication (RFC 6749 §2.3),
//! bearer tokens (RFC 6750), client ID metadata documents.

pub(crate) mod authorize;
pub(crate) mod bearer;
pub(crate) mod cimd;
pub(crate) mod client_auth;
pub(crate) mod client_cache;
pub(crate) mod client_jwks;
pub(crate) mod device;
pub(crate) mod dpop;
pub(crate) mod introspect;
pub(crate) mod metadata;
pub(crate) mod par;
pub(crate) mod register;
pub(crate) mod request_object;
pub(crate) mod revoke;
pub(crate) mod token;
