//! The client's address as the throttles, logs and audit events see it: the
//! TCP peer, or the client a trusted proxy names (`trusted_proxies`).

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::header::FORWARDED;
use axum::http::{Extensions, HeaderMap};
use tollgate_core::client_address::{IpNet, resolve};

/// `None` when the server was not started with `ConnectInfo<SocketAddr>`
/// (see [`Provider::router`](crate::Provider::router)): then no limit is kept
/// per address, rather than one for everybody.
pub(crate) fn client(
    trusted: &[IpNet],
    headers: &HeaderMap,
    extensions: &Extensions,
) -> Option<IpAddr> {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    let values = |name| -> Vec<&str> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    };
    Some(resolve(
        peer,
        &values(FORWARDED.as_str()),
        &values("x-forwarded-for"),
        trusted,
    ))
}
