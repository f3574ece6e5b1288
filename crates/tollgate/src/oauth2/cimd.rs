//! Client ID metadata documents: a client whose id is an https URL is
//! fetched from it, safely, and kept as a public client until its copy goes
//! stale. The rules are `core::cimd`; this is the fetching and the keeping.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tollgate_core::cimd::{document_url, freshness, host_allowed, read_document};
use tollgate_core::env::UnixTime;
use tollgate_core::model::Application;
use tollgate_store::StoreError;

use crate::outbound::{Fetched, Limits};
use crate::provider::Inner;
use crate::settings::Settings;
use crate::telemetry;

/// The `kind` label of these fetches in `tollgate_outbound_fetches_total`.
const FETCH_KIND: &str = "client_metadata";

/// What the provider keeps between document fetches.
pub(crate) struct Documents {
    /// Document URL → until when it is not fetched again, after a failure.
    failures: Mutex<HashMap<String, UnixTime>>,
    fetches: Semaphore,
}

/// Past this many remembered failures the list starts over (bounded memory).
const MAX_FAILURES: usize = 10_000;

impl Documents {
    pub(crate) fn new(settings: &Settings) -> Self {
        let permits = usize::try_from(settings.cimd_max_concurrent_fetches).unwrap_or(1);
        Documents {
            failures: Mutex::default(),
            fetches: Semaphore::new(permits),
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
        let limits = Limits {
            timeout: Duration::from_secs(settings.cimd_fetch_timeout_seconds),
            max_bytes: settings.cimd_max_document_size,
        };
        let fetched = match inner.outbound.get_json(&url, limits, FETCH_KIND).await {
            Ok(Fetched::Gone(status)) => {
                self.failed(client_id, now, settings.cimd_failure_backoff_seconds);
                return Err(Failure::Gone(format!("the server answered {status}")));
            }
            Ok(Fetched::Json { body, cache }) => Ok((body, cache)),
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
