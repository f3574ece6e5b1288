//! The one client for every call Tollgate makes to another server: client ID
//! metadata documents, remote client JWKS and back-channel logout tokens. Its defences against being
//! turned on the operator's own network (SSRF): the name is resolved once and
//! every address checked ([`tollgate_core::outbound`]: public, or inside
//! `outbound_allowed_networks`), the connection pinned to the checked address,
//! plain `http` only inside allowed networks, no redirects, no proxy, one
//! timeout over the whole call, a size cap, JSON only. reqwest has no such
//! policy of its own, hence this module.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use tollgate_core::client_address::IpNet;
use tollgate_core::outbound::{may_connect, plain_http_allowed};
use url::{Host, Url};

use crate::telemetry;

/// For tests only (feature `test-network`): how names resolve and where an
/// `https` call connects instead, so documents that must be `https` can be
/// served on this machine. Which addresses may be reached is still
/// `outbound_allowed_networks`'s to say.
#[derive(Debug, Clone, Default)]
pub struct TestNetwork {
    /// Host name → its addresses, instead of DNS.
    pub hosts: HashMap<String, Vec<IpAddr>>,
    /// Connect to this port over plain HTTP instead of to 443 over TLS.
    pub port: Option<u16>,
}

/// How long a call may take and how much it may bring back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) timeout: Duration,
    pub(crate) max_bytes: u64,
}

/// What a GET brought back.
pub(crate) enum Fetched {
    /// The body and `Cache-Control` of a 200 with a JSON content type.
    Json {
        body: Vec<u8>,
        cache: Option<String>,
    },
    /// 404 or 410: withdrawn.
    Gone(reqwest::StatusCode),
}

/// The outbound client: the networks the operator allowed, and the tests' resolver.
pub(crate) struct Outbound {
    allowed: Vec<IpNet>,
    network: Option<TestNetwork>,
}

impl Outbound {
    pub(crate) fn new(allowed: Vec<IpNet>, network: Option<TestNetwork>) -> Self {
        Outbound { allowed, network }
    }

    /// GETs the JSON document at `url` within `limits`; `kind` labels it in
    /// `tollgate_outbound_fetches_total`. The error says why, for the log.
    pub(crate) async fn get_json(
        &self,
        url: &Url,
        limits: Limits,
        kind: &'static str,
    ) -> Result<Fetched, String> {
        let fetched = tokio::time::timeout(limits.timeout, self.get(url, limits)).await;
        telemetry::outbound_fetch(
            kind,
            match &fetched {
                Err(_) => "timeout",
                Ok(Ok(Fetched::Gone(_))) => "gone",
                Ok(Ok(Fetched::Json { .. })) => "ok",
                Ok(Err(_)) => "failed",
            },
        );
        fetched.unwrap_or_else(|_| Err("the fetch timed out".into()))
    }

    /// POSTs a form to `url` within `limits` (the body it answers is not read);
    /// its status. `kind` labels it in `tollgate_outbound_fetches_total`.
    pub(crate) async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        limits: Limits,
        kind: &'static str,
    ) -> Result<reqwest::StatusCode, String> {
        let posted = tokio::time::timeout(limits.timeout, async {
            let (http, target) = self.pinned(url, limits).await?;
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish();
            http.post(target)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .map(|r| r.status())
                .map_err(|e| format!("post failed: {e}"))
        })
        .await;
        telemetry::outbound_fetch(
            kind,
            match &posted {
                Err(_) => "timeout",
                Ok(Ok(status)) if status.is_success() => "ok",
                Ok(_) => "failed",
            },
        );
        posted.unwrap_or_else(|_| Err("the call timed out".into()))
    }

    async fn get(&self, url: &Url, limits: Limits) -> Result<Fetched, String> {
        let (http, target) = self.pinned(url, limits).await?;
        let mut response = http
            .get(target)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("fetch failed: {e}"))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
            return Ok(Fetched::Gone(status));
        }
        if status != reqwest::StatusCode::OK {
            return Err(format!("the server answered {status}"));
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(format!("its content type is `{content_type}`, not JSON"));
        }
        let limit = limits.max_bytes;
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(format!("it is larger than {limit} bytes"));
        }
        let cache = response
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("read failed: {e}"))?
        {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(format!("it is larger than {limit} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched::Json { body, cache })
    }

    /// A client that connects to `url`'s host at one checked address and no
    /// other, and the URL to ask it for.
    async fn pinned(&self, url: &Url, limits: Limits) -> Result<(reqwest::Client, Url), String> {
        let host = url.host_str().unwrap_or_default();
        if !matches!(url.scheme(), "https" | "http") {
            return Err(format!("`{}` URLs are not fetched", url.scheme()));
        }
        let addresses = self.resolve(url).await?;
        if let Some(bad) = addresses
            .iter()
            .find(|ip| !may_connect(**ip, &self.allowed))
        {
            return Err(format!(
                "{host} resolves to {bad}, which is neither public nor in outbound_allowed_networks"
            ));
        }
        let Some(&address) = addresses.first() else {
            return Err(format!("{host} does not resolve"));
        };
        if url.scheme() == "http" && !plain_http_allowed(&addresses, &self.allowed) {
            return Err(format!(
                "{host} is fetched over https only: plain http is for outbound_allowed_networks"
            ));
        }
        let mut target = url.clone();
        if let Some(port) = self.network.as_ref().and_then(|n| n.port) {
            target.set_scheme("http").map_err(|()| "test URL")?;
            target.set_port(Some(port)).map_err(|()| "test URL")?;
        }
        let http = reqwest::Client::builder()
            // The checked address and no other: DNS is not asked again.
            .resolve(host, SocketAddr::new(address, 0))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(limits.timeout)
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        Ok((http, target))
    }

    async fn resolve(&self, url: &Url) -> Result<Vec<IpAddr>, String> {
        match url.host() {
            Some(Host::Ipv4(ip)) => Ok(vec![ip.into()]),
            Some(Host::Ipv6(ip)) => Ok(vec![ip.into()]),
            Some(Host::Domain(name)) => match &self.network {
                Some(network) => Ok(network.hosts.get(name).cloned().unwrap_or_default()),
                None => {
                    let port = url.port_or_known_default().unwrap_or(443);
                    tokio::net::lookup_host((name, port))
                        .await
                        .map(|found| found.map(|a| a.ip()).collect())
                        .map_err(|e| format!("{name} does not resolve: {e}"))
                }
            },
            None => Err("no host".into()),
        }
    }
}
