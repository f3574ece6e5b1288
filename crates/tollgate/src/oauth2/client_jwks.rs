//! A client's public keys, whichever way it registered them: by value
//! (`jwks`), or at a `jwks_uri` fetched through the outbound client. A fetched
//! set is kept by this process for its `Cache-Control` max-age within
//! [`FRESH_FLOOR`]..[`FRESH_CEILING`], and fetched again early when a JWT names
//! a key it lacks (a rotation), at most once per [`REFETCH_SECONDS`], which is
//! also how long a failed fetch rests; each process keeps its own copy.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Map, Value};
use tollgate_core::cimd::freshness;
use tollgate_core::env::UnixTime;
use tollgate_core::jwks::public_jwks;
use tollgate_core::model::Application;

use crate::keys::client_keys::{self, ClientJwtError};
use crate::outbound::{Fetched, Limits};
use crate::provider::Inner;

/// Kept at least this long (seconds), whatever the server says.
pub(crate) const FRESH_FLOOR: u64 = 300;
/// Kept at most this long, so a rotation reaches us within the hour.
pub(crate) const FRESH_CEILING: u64 = 3600;
/// An unknown key fetches the set again at most this often, so forged `kid`s cannot drive fetches.
pub(crate) const REFETCH_SECONDS: i64 = 60;
/// How long a fetch may take and how large a JWK Set may be.
const LIMITS: Limits = Limits {
    timeout: Duration::from_secs(5),
    max_bytes: 64 * 1024,
};
/// Past this many kept sets the cache starts over (bounded memory).
const MAX_KEPT: usize = 10_000;

/// Fetched JWK Sets by `jwks_uri`.
#[derive(Default)]
pub(crate) struct RemoteJwks {
    kept: Mutex<HashMap<String, Kept>>,
}

#[derive(Clone)]
struct Kept {
    jwks: String,
    fetched_at: UnixTime,
    fresh_until: UnixTime,
}

/// The claims of `jwt` if one of `client`'s keys verifies it under one of
/// `algorithms`; with a `jwks_uri`, a key not found sends for the set again.
pub(crate) async fn verify(
    inner: &Inner,
    client: &Application,
    jwt: &str,
    algorithms: &[&str],
) -> Result<Map<String, Value>, ClientJwtError> {
    let Some(uri) = client.security.jwks_uri.as_deref() else {
        return client_keys::verify(jwt, client.security.jwks.as_deref(), algorithms);
    };
    let remote = &inner.remote_jwks;
    let kept = remote.get(inner, uri, false).await;
    match client_keys::verify(jwt, kept.as_deref(), algorithms) {
        Err(ClientJwtError::UnknownKey | ClientJwtError::NoKeys) => {
            let again = remote.get(inner, uri, true).await;
            client_keys::verify(jwt, again.as_deref(), algorithms)
        }
        verified => verified,
    }
}

impl RemoteJwks {
    /// The set at `uri`: the kept copy while fresh, else fetched; `stale_key`
    /// (a key was not found) fetches again unless the copy is under a minute old.
    async fn get(&self, inner: &Inner, uri: &str, stale_key: bool) -> Option<String> {
        let now = inner.clock.now();
        let kept = self.lock().get(uri).cloned();
        if let Some(kept) = &kept {
            let fresh = now < kept.fresh_until;
            let recent = now < kept.fetched_at.saturating_add(REFETCH_SECONDS);
            if (fresh && !stale_key) || recent {
                return Some(kept.jwks.clone());
            }
        }
        match fetch(inner, uri).await {
            Ok((jwks, cache)) => {
                let fresh = freshness(cache.as_deref(), FRESH_FLOOR, FRESH_CEILING);
                let entry = Kept {
                    jwks: jwks.clone(),
                    fetched_at: now,
                    fresh_until: now.saturating_add(i64::try_from(fresh).unwrap_or(i64::MAX)),
                };
                let mut kept = self.lock();
                if kept.len() >= MAX_KEPT {
                    kept.clear();
                }
                kept.insert(uri.to_owned(), entry);
                Some(jwks)
            }
            Err(failure) => {
                tracing::warn!(jwks_uri = %uri, error = %failure.why, "a client's JWK Set could not be fetched");
                // A copy past its freshness beats none while its server is away (not
                // once it says the set is gone), and either way it is asked again in
                // a minute, not at every request.
                let jwks = match failure.gone {
                    true => String::new(),
                    false => kept.map(|k| k.jwks).unwrap_or_default(),
                };
                self.lock().insert(
                    uri.to_owned(),
                    Kept {
                        jwks: jwks.clone(),
                        fetched_at: now,
                        fresh_until: now.saturating_add(REFETCH_SECONDS),
                    },
                );
                (!jwks.is_empty()).then_some(jwks)
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Kept>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why a set could not be had: `gone` when its server said it was withdrawn (404, 410).
struct Failure {
    why: String,
    gone: bool,
}

impl From<String> for Failure {
    fn from(why: String) -> Self {
        Failure { why, gone: false }
    }
}

/// The public JWK Set at `uri` and its `Cache-Control`.
async fn fetch(inner: &Inner, uri: &str) -> Result<(String, Option<String>), Failure> {
    let url = url::Url::parse(uri).map_err(|e| e.to_string())?;
    match inner.outbound.get_json(&url, LIMITS, "client_jwks").await? {
        Fetched::Gone(status) => Err(Failure {
            why: format!("the server answered {status}"),
            gone: true,
        }),
        Fetched::Json { body, cache } => {
            let value: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            Ok((public_jwks(&value)?, cache))
        }
    }
}
