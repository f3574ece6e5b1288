//! The provider's metrics, through the [`metrics`] facade: every name, label
//! and label value in this one module. The library installs no recorder; the
//! application's exporter (or `tollgate serve`'s `metrics_bind`) picks them up.
//!
//! Label values come from fixed sets (route templates, grant types, outcomes),
//! never from a request's path, a client id or a username, so no client can
//! grow the number of series.
//!
//! | metric | kind | labels |
//! | --- | --- | --- |
//! | `tollgate_http_requests_total` | counter | `route`, `method`, `status` |
//! | `tollgate_http_request_duration_seconds` | histogram | `route`, `method` |
//! | `tollgate_tokens_issued_total` | counter | `grant_type`, `format` |
//! | `tollgate_refresh_token_reuse_total` | counter | |
//! | `tollgate_sign_ins_total` | counter | `outcome`: `success`, `failure`, `throttled` |
//! | `tollgate_client_authentication_failures_total` | counter | `reason`: `missing`, `malformed`, `invalid`, `throttled` |
//! | `tollgate_introspections_total` | counter | `active`: `true`, `false` |
//! | `tollgate_outbound_fetches_total` | counter | `kind`, `outcome` |
//! | `tollgate_database_unavailable_total` | counter | `reason`: `pool_timeout`, `unreachable` |
//! | `tollgate_token_batch_size` | histogram | (SQLite group commit; recorded by the store) |
//! | `tollgate_db_pool_connections` | gauge | `pool`, `state`: `open`, `in_use`, `max` |
//! | `tollgate_signing_key_age_seconds` | gauge | `alg` |
//! | `tollgate_signing_keys_reload_age_seconds` | gauge | |
//!
//! Gauges are sampled by [`Provider::record_gauges`](crate::Provider::record_gauges),
//! which an exporter calls before it renders.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};

/// The route label of a request no route matched (a 404): one series for all of them.
const UNMATCHED: &str = "unmatched";

/// Describes every metric (help text and unit), for an exporter that shows them.
/// Call once, after installing the recorder.
pub fn describe() {
    describe_counter!(
        "tollgate_http_requests_total",
        "HTTP requests answered, by route template, method and status."
    );
    describe_histogram!(
        "tollgate_http_request_duration_seconds",
        Unit::Seconds,
        "Time from a request's arrival to its response's head, by route template and method."
    );
    describe_counter!(
        "tollgate_tokens_issued_total",
        "Access tokens issued, by grant type and format (opaque or jwt)."
    );
    describe_counter!(
        "tollgate_refresh_token_reuse_total",
        "Rotated refresh tokens presented again (RFC 9700 §4.14.2 reuse detection)."
    );
    describe_counter!(
        "tollgate_sign_ins_total",
        "Password checks on the sign-in page and the password grant, by outcome."
    );
    describe_counter!(
        "tollgate_client_authentication_failures_total",
        "Client authentications refused, by reason."
    );
    describe_counter!(
        "tollgate_introspections_total",
        "Token introspections answered (RFC 7662), by whether the token was active."
    );
    describe_counter!(
        "tollgate_outbound_fetches_total",
        "Fetches of remote documents, by kind and outcome."
    );
    describe_counter!(
        "tollgate_database_unavailable_total",
        "Requests answered 503 because the database was out of reach or no connection came in time."
    );
    describe_histogram!(
        "tollgate_token_batch_size",
        "Token writes committed together by SQLite's group commit."
    );
    describe_gauge!(
        "tollgate_db_pool_connections",
        "Database pool connections: open, in use, and the pool's maximum."
    );
    describe_gauge!(
        "tollgate_signing_key_age_seconds",
        Unit::Seconds,
        "Age of the key that signs now, by algorithm."
    );
    describe_gauge!(
        "tollgate_signing_keys_reload_age_seconds",
        Unit::Seconds,
        "Seconds since this process last loaded the signing keys from the database."
    );
}

/// Counts each request and times it, labelled by the route it matched.
pub(crate) async fn requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED.into(), |p| p.as_str().to_owned());
    let method = method_label(request.method());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    counter!("tollgate_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    histogram!("tollgate_http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A method from the fixed set: hyper accepts any token as a method.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::HEAD => "HEAD",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// An access token issued; `grant_type` as the request named it (or `implicit`).
pub(crate) fn token_issued(grant_type: &str, format: crate::AccessTokenFormat) {
    let format = match format {
        crate::AccessTokenFormat::Opaque => "opaque",
        crate::AccessTokenFormat::Jwt => "jwt",
    };
    counter!("tollgate_tokens_issued_total", "grant_type" => grant_label(grant_type), "format" => format)
        .increment(1);
}

/// The grant from the fixed set of grants Tollgate serves.
fn grant_label(grant_type: &str) -> &'static str {
    const GRANTS: [&str; 6] = [
        "authorization_code",
        "client_credentials",
        "password",
        "refresh_token",
        "implicit",
        tollgate_core::DEVICE_CODE_URN,
    ];
    GRANTS
        .into_iter()
        .find(|g| *g == grant_type)
        .unwrap_or("other")
}

pub(crate) fn refresh_token_reused() {
    counter!("tollgate_refresh_token_reuse_total").increment(1);
}

/// How a password check ended.
#[derive(Clone, Copy)]
pub(crate) enum SignIn {
    Success,
    Failure,
    Throttled,
}

pub(crate) fn sign_in(outcome: SignIn) {
    let outcome = match outcome {
        SignIn::Success => "success",
        SignIn::Failure => "failure",
        SignIn::Throttled => "throttled",
    };
    counter!("tollgate_sign_ins_total", "outcome" => outcome).increment(1);
}

/// Why a client authentication was refused.
#[derive(Clone, Copy)]
pub(crate) enum ClientAuthFailure {
    /// No credentials where they are required.
    Missing,
    /// An `Authorization` header or parameters that do not parse.
    Malformed,
    /// An unknown client, a wrong secret, or a secret where none belongs.
    Invalid,
    /// Refused unheard: too many failures from the address.
    Throttled,
}

pub(crate) fn client_authentication_failed(reason: ClientAuthFailure) {
    let reason = match reason {
        ClientAuthFailure::Missing => "missing",
        ClientAuthFailure::Malformed => "malformed",
        ClientAuthFailure::Invalid => "invalid",
        ClientAuthFailure::Throttled => "throttled",
    };
    counter!("tollgate_client_authentication_failures_total", "reason" => reason).increment(1);
}

pub(crate) fn introspected(active: bool) {
    let active = if active { "true" } else { "false" };
    counter!("tollgate_introspections_total", "active" => active).increment(1);
}

/// An outbound call made, or not: `kind` names what (`client_metadata`,
/// `client_jwks`, `backchannel_logout`), `outcome` how it ended (`ok`, `gone`, `refused`, `failed`, `timeout`).
pub(crate) fn outbound_fetch(kind: &'static str, outcome: &'static str) {
    counter!("tollgate_outbound_fetches_total", "kind" => kind, "outcome" => outcome).increment(1);
}

/// A request answered 503 for the database's sake.
pub(crate) fn database_unavailable(pool_timeout: bool) {
    let reason = if pool_timeout {
        "pool_timeout"
    } else {
        "unreachable"
    };
    counter!("tollgate_database_unavailable_total", "reason" => reason).increment(1);
}

/// The gauges of one moment: the pools and the signing keys.
pub(crate) fn record_gauges(
    pools: &[tollgate_store::PoolStats],
    key_ages: &[(tollgate_core::SigningAlgorithm, i64)],
    keys_reload_age: Option<i64>,
) {
    for pool in pools {
        for (state, value) in [
            ("open", pool.open),
            ("in_use", pool.in_use),
            ("max", pool.max),
        ] {
            gauge!("tollgate_db_pool_connections", "pool" => pool.name, "state" => state)
                .set(f64::from(value));
        }
    }
    for (algorithm, age) in key_ages {
        gauge!("tollgate_signing_key_age_seconds", "alg" => algorithm.as_str()).set(*age as f64);
    }
    if let Some(age) = keys_reload_age {
        gauge!("tollgate_signing_keys_reload_age_seconds").set(age as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_labels_come_from_a_fixed_set() {
        assert_eq!(grant_label("authorization_code"), "authorization_code");
        assert_eq!(grant_label("client_credentials"), "client_credentials");
        assert_eq!(grant_label("refresh_token"), "refresh_token");
        assert_eq!(grant_label("implicit"), "implicit");
        assert_eq!(
            grant_label("urn:ietf:params:oauth:grant-type:device_code"),
            "urn:ietf:params:oauth:grant-type:device_code"
        );
        assert_eq!(grant_label("anything a client sends"), "other");
    }

    #[test]
    fn methods_outside_the_set_share_one_label() {
        assert_eq!(method_label(&Method::POST), "POST");
        let made_up = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&made_up), "other");
    }
}
