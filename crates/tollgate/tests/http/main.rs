//! The library's HTTP tests: a provider on a loopback port, driven as browsers and clients do.
//! One binary rather than one per file: each test binary links the whole stack, so this is
//! one link instead of N (kanidm's testkit gathers its tests the same way).

mod support;

mod authorize;
mod backchannel_logout;
mod cimd;
mod client_assertions;
mod client_jwks;
mod device;
mod dpop;
mod embedding;
mod fapi;
mod hardening;
mod health;
mod issuer_paths;
mod jwt_access_tokens;
mod language;
mod malformed;
mod manage;
mod oidc;
mod par;
mod register;
mod replay_races;
mod request_objects;
mod resource;
mod resource_indicators;
mod revocation_and_introspection;
mod rfc9700;
mod token;
