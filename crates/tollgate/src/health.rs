use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::provider::Shared;

/// 200 while the database answers, 503 when it does not: fit for a load
/// balancer's readiness check.
pub(crate) async fn health(State(shared): State<Shared>) -> (StatusCode, Json<Value>) {
    match shared.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ok" }))),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable" })),
            )
        }
    }
}
