//! RFC 8414 authorization server metadata: what this server really does, built
//! once at start-up and served as precomputed bytes.

use axum::extract::State;
use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use bytes::Bytes;
use serde_json::json;

use crate::provider::{PREFIX, Shared};
use crate::settings::Settings;

pub(crate) fn document(settings: &Settings) -> Bytes {
    let endpoint = |path: &str| format!("{}{PREFIX}{path}", settings.issuer);
    let mut grant_types = vec![
        "authorization_code",
        "implicit",
        "client_credentials",
        "refresh_token",
    ];
    if settings.password_grant_enabled {
        grant_types.push("password");
    }
    let mut pkce = vec!["S256"];
    if settings.pkce_plain_allowed {
        pkce.push("plain");
    }
    let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
    let doc = json!({
        "issuer": settings.issuer,
        "authorization_endpoint": endpoint("/authorize/"),
        "token_endpoint": endpoint("/token/"),
        "revocation_endpoint": endpoint("/revoke_token/"),
        "introspection_endpoint": endpoint("/introspect/"),
        "response_types_supported": ["code", "token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": grant_types,
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": pkce,
        "scopes_supported": settings.scope_names(),
        "authorization_response_iss_parameter_supported": true,
    });
    Bytes::from(serde_json::to_vec(&doc).expect("metadata serialises"))
}

pub(crate) async fn serve(State(inner): State<Shared>) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "application/json"),
            (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        inner.metadata.clone(),
    )
}
