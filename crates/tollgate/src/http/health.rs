use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::provider::Shared;

/// 200 while the database answers, 503 when it does not (or not within
/// `health_check_timeout_milliseconds`): fit for a load balancer's readiness check.
pub(crate) async fn health(State(shared): State<Shared>) -> Response {
    let deadline = Duration::from_millis(shared.settings.health_check_timeout_milliseconds);
    let problem = match tokio::time::timeout(deadline, shared.store.ping()).await {
        Ok(Ok(())) => return (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response(),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {} ms", deadline.as_millis()),
    };
    tracing::warn!(error = %problem, "health check: database unavailable");
    crate::http::outage::retry_later(
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable" })),
        )
            .into_response(),
    )
}
