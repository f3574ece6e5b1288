//! Client ID metadata documents: a client whose id is an https URL is
//! fetched from it, safely, and kept as a public client until its copy goes
//! stale. The rules are `core::cimd`; this is the fetching and the keeping.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use tokio::sync::Semaphore;
use tollgate_core::cimd::{document_url, freshness, host_allowed, is_public, read_document};
use tollgate_core::env::UnixTime;
use tollgate_core::model::Application;
use tollgate_store::StoreError;
use url::{Host, Url};

use crate::provider::Inner;
use crate::settings::Settings;
use crate::telemetry;

/// The `kind` label of these fetches in `tollgate_outbound_fetches_total`.
const FETCH_KIND: &str = "client_metadata";

/// For tests only (feature `test-network`): how names resolve and how a fetch
/// connects, so the address rules can be tried, and documents served, on this machine.
#[derive(Debug, Clone, Default)]
pub struct TestNetwork {
    /// Host name → its addresses, instead of DNS.
    pub hosts: HashMap<String, Vec<IpAddr>>,
    /// Take loopback addresses for public ones.
    pub loopback_is_public: bool,
    /// Connect to this port over plain HTTP instead of to 443 over TLS.
    pub port: Option<u16>,
}

/// What the provider keeps between document fetches.
pub(crate) struct Documents {
    /// Document URL → until when it is not fetched again, after a failure.
    failures: Mutex<HashMap<String, UnixTime>>,
    fetches: Semaphore,
    network: Option<TestNetwork>,
}

/// Past this many remembered failures the list starts over (bounded memory).
const MAX_FAILURES: usize = 10_000;

impl Documents {
    pub(crate) fn new(settings: &Settings, network: Option<TestNetwork>) -> Self {
        let permits = usize::try_from(settings.cimd_max_concurrent_fetches).unwrap_or(1);
        Documents {
            failures: Mutex::default(),
            fetches: Semaphore::new(permits),
            network,
        }
    }

    /// The client an `https://` `client_id` names: one registered here under
    /// that id, else (with `cimd_enabled`) the one its document describes,
    /// fetched when the kept copy is stale. A document that cannot be had or
    /// breaks a rule leaves the client unknown, or as its last good copy said
    /// for at most `cimd_metadata_max_age_seconds` more; one that is gone
    /// (404, 410) ends it. With documents off, their clients are unknown.
    pub(crate) async fn client(
        &self,
        inner: &Inner,
        client_id: &str,
    ) -> Result<Option<Arc<Application>>, StoreError> {
        let now = inner.clock.now();
        let settings = &inner.settings;
        let stale = match inner.store.application_and_document(client_id).await? {
            Some((client, None)) => return Ok(Some(Arc::new(client))),
            _ if !settings.cimd_enabled => return Ok(None),
            Some((client, Some(fresh_until))) if now < fresh_until => {
                return Ok(Some(Arc::new(client)));
            }
            Some((client, Some(fresh_until))) => {
                let grace = i64::try_from(settings.cimd_metadata_max_age_seconds).unwrap_or(0);
                (now < fresh_until.saturating_add(grace)).then_some(client)
            }
            None => None,
        };
        match self.refresh(inner, client_id, now).await {
            Ok(client) => Ok(Some(Arc::new(client))),
            Err(Failure::Store(e)) => Err(e),
            Err(Failure::Refused(why)) => {
                tracing::warn!(%client_id, %why, "client ID metadata document not used");
                Ok(stale.map(Arc::new))
            }
            Err(Failure::Gone(why)) => {
                tracing::warn!(%client_id, %why, "client ID metadata document withdrawn");
                Ok(None)
            }
        }
    }

    async fn refresh(
        &self,
        inner: &Inner,
        client_id: &str,
        now: UnixTime,
    ) -> Result<Application, Failure> {
        let settings = &inner.settings;
        if self.backing_off(client_id, now) {
            return Err(Failure::Refused("it failed moments ago".into()));
        }
        let url = document_url(client_id).map_err(|why| Failure::Refused(why.into()))?;
        if !host_allowed(
            url.host_str().unwrap_or_default(),
            &settings.cimd_allowed_hosts,
        ) {
            telemetry::outbound_fetch(FETCH_KIND, "refused");
            return Err(Failure::Refused("its host is not allowed".into()));
        }
        let Ok(_permit) = self.fetches.try_acquire() else {
            telemetry::outbound_fetch(FETCH_KIND, "refused");
            return Err(Failure::Refused(
                "too many documents are being fetched".into(),
            ));
        };
        let timeout = Duration::from_secs(settings.cimd_fetch_timeout_seconds);
        // The whole of it, name resolution included.
        let fetched = tokio::time::timeout(timeout, self.fetch(&url, settings)).await;
        telemetry::outbound_fetch(
            FETCH_KIND,
            match &fetched {
                Err(_) => "timeout",
                Ok(Ok(Fetched::Gone(_))) => "gone",
                Ok(Ok(Fetched::Document { .. })) => "ok",
                Ok(Err(_)) => "failed",
            },
        );
        let fetched = fetched.unwrap_or_else(|_| Err("the fetch timed out".into()));
        let fetched = match fetched {
            Ok(Fetched::Gone(status)) => {
                self.failed(client_id, now, settings.cimd_failure_backoff_seconds);
                return Err(Failure::Gone(format!("the server answered {status}")));
            }
            Ok(Fetched::Document { body, cache }) => Ok((body, cache)),
            Err(why) => Err(why),
        };
        let described = fetched.and_then(|(body, cache)| {
            let (spec, name) =
                read_document(client_id, &body, &settings.allowed_redirect_uri_schemes)?;
            let fresh = freshness(
                cache.as_deref(),
                settings.cimd_metadata_min_age_seconds,
                settings.cimd_metadata_max_age_seconds,
            );
            Ok((spec, name, fresh))
        });
        let (spec, name, fresh) = match described {
            Ok(d) => d,
            Err(why) => {
                self.failed(client_id, now, settings.cimd_failure_backoff_seconds);
                return Err(Failure::Refused(why));
            }
        };
        // A stranger's client: no secret, no owner, and the user is always asked.
        let new = spec.into_application(client_id.to_owned(), name);
        let until = now.saturating_add(i64::try_from(fresh).unwrap_or(i64::MAX));
        match inner.store.save_document_client(&new, until, now).await {
            Ok(client) => Ok(client),
            // Another request saved it first, or a client registered here has the id.
            Err(StoreError::Conflict { .. }) => {
                match inner.store.application_and_document(client_id).await {
                    Ok(Some((client, Some(_)))) => Ok(client),
                    Ok(_) => Err(Failure::Refused(
                        "a client registered here has this id".into(),
                    )),
                    Err(e) => Err(Failure::Store(e)),
                }
            }
            Err(e) => Err(Failure::Store(e)),
        }
    }

    /// The document's bytes and `Cache-Control`, fetched from a public address
    /// that the connection is pinned to: no redirects, a timeout, a size cap,
    /// JSON only.
    async fn fetch(&self, url: &Url, settings: &Settings) -> Result<Fetched, String> {
        let host = url.host_str().unwrap_or_default();
        let addresses = self.resolve(url).await?;
        let loopback_ok = self.network.as_ref().is_some_and(|n| n.loopback_is_public);
        if let Some(bad) = addresses
            .iter()
            .find(|ip| !(is_public(**ip) || (loopback_ok && ip.is_loopback())))
        {
            return Err(format!(
                "{host} resolves to {bad}, which is not a public address"
            ));
        }
        let Some(&address) = addresses.first() else {
            return Err(format!("{host} does not resolve"));
        };
        let mut target = url.clone();
        if let Some(port) = self.network.as_ref().and_then(|n| n.port) {
            target.set_scheme("http").map_err(|()| "test URL")?;
            target.set_port(Some(port)).map_err(|()| "test URL")?;
        }
        let http = reqwest::Client::builder()
            // The checked address and no other: DNS is not asked again.
            .resolve(host, SocketAddr::new(address, 0))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(settings.cimd_fetch_timeout_seconds))
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
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
        let limit = usize::try_from(settings.cimd_max_document_size).unwrap_or(usize::MAX);
        if response
            .content_length()
            .is_some_and(|n| n > settings.cimd_max_document_size)
        {
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
            if body.len() + chunk.len() > limit {
                return Err(format!("it is larger than {limit} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched::Document { body, cache })
    }

    async fn resolve(&self, url: &Url) -> Result<Vec<IpAddr>, String> {
        match url.host() {
            Some(Host::Ipv4(ip)) => Ok(vec![ip.into()]),
            Some(Host::Ipv6(ip)) => Ok(vec![ip.into()]),
            Some(Host::Domain(name)) => match &self.network {
                Some(network) => Ok(network.hosts.get(name).cloned().unwrap_or_default()),
                None => tokio::net::lookup_host((name, 443))
                    .await
                    .map(|found| found.map(|a| a.ip()).collect())
                    .map_err(|e| format!("{name} does not resolve: {e}")),
            },
            None => Err("no host".into()),
        }
    }

    fn backing_off(&self, client_id: &str, now: UnixTime) -> bool {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.get(client_id).is_some_and(|until| now < *until)
    }

    fn failed(&self, client_id: &str, now: UnixTime, backoff: u64) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_FAILURES {
            failures.retain(|_, until| now < *until);
            if failures.len() >= MAX_FAILURES {
                failures.clear();
            }
        }
        let until = now.saturating_add(i64::try_from(backoff).unwrap_or(i64::MAX));
        failures.insert(client_id.to_owned(), until);
    }
}

enum Failure {
    Store(StoreError),
    /// Not this time: a last good copy may still serve.
    Refused(String),
    /// The document is no more: its client ends.
    Gone(String),
}

enum Fetched {
    /// The bytes and the `Cache-Control` of a 200.
    Document {
        body: Vec<u8>,
        cache: Option<String>,
    },
    /// 404 or 410: withdrawn.
    Gone(reqwest::StatusCode),
}
