//! `/metrics` for Prometheus, on a listener of its own (`metrics_bind`) and
//! never on the public port: what it shows (route volumes, failure counts) is
//! for operators. The library records through the `metrics` facade; this
//! installs the process's recorder and renders it.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tollgate::Provider;

use crate::commands::{Failure, fail};
use crate::http::{self, Limits};

/// Request latencies, in seconds: from a cached introspection (tens of µs) to a
/// request held by a slow database (seconds).
const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];
/// Group-commit batch sizes, up to the writer's largest batch.
const BATCH_BUCKETS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
/// How often recorded histogram samples are folded in between scrapes, so memory stays flat.
const UPKEEP: Duration = Duration::from_secs(5);
/// Prometheus's text exposition format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A scraper needs few connections; the rest wait in the listen queue.
const LIMITS: Limits = Limits {
    header_read_timeout: Duration::from_secs(10),
    max_connections: 16,
    shutdown_timeout: Duration::from_secs(1),
};

/// Binds `address`, installs the recorder and serves `/metrics` until the
/// returned task is aborted.
pub async fn start(
    address: SocketAddr,
    provider: Provider,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), Failure> {
    let listener = TcpListener::bind(address).await.map_err(|e| {
        fail(format!(
            "cannot listen on {address} (configuration key `metrics_bind`): {e}"
        ))
    })?;
    let bound = listener.local_addr()?;
    let handle = install()?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let app = Router::new()
        .route("/metrics", get(render))
        .with_state((handle, provider));
    let task = tokio::spawn(async move {
        if let Err(e) = http::serve(listener, app, LIMITS, std::future::pending()).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok((bound, task))
}

fn install() -> Result<PrometheusHandle, Failure> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("tollgate_http_request_duration_seconds".into()),
            &LATENCY_BUCKETS,
        )?
        .set_buckets_for_metric(
            Matcher::Full("tollgate_token_batch_size".into()),
            &BATCH_BUCKETS,
        )?
        .install_recorder()?;
    tollgate::telemetry::describe();
    Ok(handle)
}

async fn render(
    State((handle, provider)): State<(PrometheusHandle, Provider)>,
) -> impl IntoResponse {
    provider.record_gauges();
    ([(CONTENT_TYPE, TEXT_FORMAT)], handle.render())
}
