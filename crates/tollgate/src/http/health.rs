//! Health for load balancers and orchestrators: `/health/live` (the process
//! serves), `/health/ready` (it can serve requests well) and `/health`, the
//! database check it has always been. Each answers within
//! `health_check_timeout_milliseconds`, however long the database takes.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::keys::KEY_ALGORITHMS;
use crate::provider::{Inner, Shared};

/// 200 while the database answers, 503 when it does not (or not in time).
pub(crate) async fn health(State(shared): State<Shared>) -> Response {
    let deadline = deadline(&shared);
    let problem = match tokio::time::timeout(deadline, shared.store.ping()).await {
        Ok(Ok(())) => return ok("ok"),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {} ms", deadline.as_millis()),
    };
    tracing::warn!(error = %problem, "health check: database unavailable");
    unavailable(None)
}

/// 200 whenever the process can answer at all: it touches nothing shared.
pub(crate) async fn live() -> Response {
    ok("ok")
}

/// 200 when the database answers, this build's migrations are applied and the
/// signing keys are loaded; otherwise 503 with the first reason that failed.
/// The reason is generic on this public route; the log has the detail.
pub(crate) async fn ready(State(shared): State<Shared>) -> Response {
    let deadline = deadline(&shared);
    let verdict = tokio::time::timeout(deadline, readiness(&shared))
        .await
        .unwrap_or_else(|_| {
            Err(NotReady {
                reason: "database unavailable",
                detail: format!("no answer within {} ms", deadline.as_millis()),
            })
        });
    match verdict {
        Ok(()) => ok("ready"),
        Err(NotReady { reason, detail }) => {
            tracing::warn!(reason, detail, "readiness check failed");
            unavailable(Some(reason))
        }
    }
}

struct NotReady {
    reason: &'static str,
    detail: String,
}

async fn readiness(inner: &Inner) -> Result<(), NotReady> {
    let database = |e: tollgate_store::StoreError| NotReady {
        reason: "database unavailable",
        detail: e.to_string(),
    };
    inner.store.ping().await.map_err(database)?;
    // Applied migrations stay applied: once current, never asked again.
    if !inner.migrations_current.load(Ordering::Relaxed) {
        match inner.store.migrations_pending().await.map_err(database)? {
            0 => inner.migrations_current.store(true, Ordering::Relaxed),
            pending => {
                return Err(NotReady {
                    reason: "database migrations pending",
                    detail: format!(
                        "{pending} migrations of this version are not applied: run `tollgate migrate`"
                    ),
                });
            }
        }
    }
    if inner.settings.oidc_enabled {
        let now = inner.clock.now();
        let keys_missing = |detail: String| NotReady {
            reason: "signing keys not loaded",
            detail,
        };
        inner
            .keys
            .ring(&inner.store, now)
            .await
            .map_err(|e| keys_missing(e.to_string()))?;
        let (_, signing) = inner.keys.state(now);
        if signing.len() < KEY_ALGORITHMS.len() {
            return Err(keys_missing(format!(
                "{} of {} algorithms have a key that signs now",
                signing.len(),
                KEY_ALGORITHMS.len()
            )));
        }
    }
    Ok(())
}

fn deadline(inner: &Inner) -> Duration {
    Duration::from_millis(inner.settings.health_check_timeout_milliseconds)
}

fn ok(status: &'static str) -> Response {
    (StatusCode::OK, Json(json!({ "status": status }))).into_response()
}

fn unavailable(reason: Option<&'static str>) -> Response {
    let body = match reason {
        Some(reason) => json!({ "status": "unavailable", "reason": reason }),
        None => json!({ "status": "unavailable" }),
    };
    crate::http::outage::retry_later((StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response())
}
