//! Runs the reports API on 127.0.0.1:4000 (or `BIND`) against a `tollgate serve`:
//!
//! ```text
//! tollgate createapplication confidential client-credentials --client-id reports-api
//! ISSUER=http://127.0.0.1:8000 CLIENT_SECRET=… cargo run -p tollgate-example-resource-server
//! ```

use tollgate_example_resource_server::{Config, app};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let config = Config {
        issuer: var("ISSUER", "http://127.0.0.1:8000"),
        resource: var("RESOURCE", "http://127.0.0.1:4000"),
        client_id: var("CLIENT_ID", "reports-api"),
        client_secret: std::env::var("CLIENT_SECRET").map_err(|_| "set CLIENT_SECRET")?,
    };
    let listener = tokio::net::TcpListener::bind(var("BIND", "127.0.0.1:4000")).await?;
    axum::serve(listener, app(config)?).await?;
    Ok(())
}
