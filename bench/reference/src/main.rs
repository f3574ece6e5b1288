//! A bare axum server, the reference bench/run.sh measures beside Tollgate: the
//! same HTTP stack (axum, hyper, tokio; the workspace's release profile) with no
//! work behind it, so the bench can say how much of the ceiling each endpoint
//! keeps.
//!
//! ```text
//! tollgate-bench-reference 127.0.0.1:18002
//! ```
//!
//! - `GET /`: a small JSON document, as discovery answers one.
//! - `POST /form`: an `application/x-www-form-urlencoded` body parsed with axum's
//!   `Form` (one `grant_type` field), answered with a small JSON document.

use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct Metadata {
    issuer: &'static str,
    token_endpoint: &'static str,
    grant_types_supported: [&'static str; 2],
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
}

#[derive(Serialize)]
struct TokenAnswer {
    grant_type: String,
    token_type: &'static str,
    expires_in: u32,
}

async fn metadata() -> Json<Metadata> {
    Json(Metadata {
        issuer: "http://127.0.0.1",
        token_endpoint: "http://127.0.0.1/form",
        grant_types_supported: ["client_credentials", "refresh_token"],
    })
}

async fn form(Form(form): Form<TokenForm>) -> Json<TokenAnswer> {
    Json(TokenAnswer {
        grant_type: form.grant_type,
        token_type: "Bearer",
        expires_in: 3600,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind = std::env::args()
        .nth(1)
        .ok_or("usage: tollgate-bench-reference ADDRESS:PORT")?;
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    let app = Router::new()
        .route("/", get(metadata))
        .route("/form", post(form));
    axum::serve(listener, app).await?;
    Ok(())
}
