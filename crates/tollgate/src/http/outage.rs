//! A database out of reach is told to clients as a 503 with `Retry-After`,
//! never as a 500 (a fault of ours) or a 401 (a fault of theirs). Which store
//! errors are outages is `StoreError::is_unavailable`.

use axum::http::HeaderValue;
use axum::http::header::RETRY_AFTER;
use axum::response::Response;

/// Seconds a client is asked to wait: about the time a database restart takes.
const RETRY_AFTER_SECONDS: HeaderValue = HeaderValue::from_static("5");

/// Whether `e` is the database out of reach (a 503), counted in the metrics if so.
pub(crate) fn is_outage(e: &tollgate_store::StoreError) -> bool {
    let outage = e.is_unavailable();
    if outage {
        crate::telemetry::database_unavailable(e.is_pool_timeout());
    }
    outage
}

/// `response` (a 503) with the `Retry-After` a client waits before trying again.
pub(crate) fn retry_later(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(RETRY_AFTER, RETRY_AFTER_SECONDS);
    response
}
