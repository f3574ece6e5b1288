//! A reports API that is not the provider: it checks each bearer token by asking
//! a separate `tollgate serve` (RFC 7662 introspection, authenticated as a
//! confidential client), caches active answers, and publishes RFC 9728 metadata
//! naming that server. `GET /api/reports` needs `read`; `DELETE` needs `write`.
//! A DPoP-bound token is taken with a proof of its key for this API's URL.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tollgate::resource::{
    AccessToken, IntrospectionAuth, ProtectedResource, RemoteIntrospection, RequireScopes,
    ResourceServer, Unavailable,
};

/// Where the provider is and who this API is to it.
pub struct Config {
    /// The provider's issuer, such as `https://idp.example`.
    pub issuer: String,
    /// This API's identifier (RFC 9728), such as `https://reports.example`.
    pub resource: String,
    /// This API's client id and secret at the provider.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
}

/// The API's routes, its metadata included.
pub fn app(config: Config) -> Result<Router, Unavailable> {
    let metadata = ProtectedResource::new(&config.resource)
        .authorization_server(&config.issuer)
        .scopes(["read", "write"])
        .name("Reports");
    let introspection = RemoteIntrospection::new(
        format!("{}/o/introspect/", config.issuer),
        IntrospectionAuth::ClientCredentials {
            client_id: config.client_id,
            client_secret: config.client_secret,
        },
    );
    // Its identifier is its audience (RFC 8707), and the origin DPoP proofs name (RFC 9449 `htu`).
    let tokens = ResourceServer::remote(introspection)?
        .resource_metadata(metadata.metadata_url())
        .audience(&config.resource);
    let api = Router::new()
        .route("/api/reports", get(reports).delete(clear))
        .route_layer(RequireScopes::read_write("read", "write"))
        .layer(tokens);
    Ok(api.merge(metadata.router()))
}

async fn reports(token: AccessToken) -> Json<Value> {
    Json(json!({
        "for": token.username().or(token.subject()).unwrap_or(token.client_id()),
        "reports": ["Q3 revenue", "Q3 costs"],
    }))
}

async fn clear(token: AccessToken) -> Json<Value> {
    Json(json!({ "cleared_by": token.client_id() }))
}
