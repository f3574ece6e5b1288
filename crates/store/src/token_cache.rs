//! A per-process cache of the token lookups that every protected request makes
//! (introspection, UserInfo, a resource server's bearer check), so a hot token
//! costs a map lookup instead of a query on SQLite's thread and back.
//!
//! What it serves is never more permissive than the database, within these bounds:
//! - Only found tokens are kept; expiry is the caller's rule, applied at every read.
//! - A write through any clone of this [`Store`](crate::Store) that revokes or
//!   deletes tokens, or changes a user or a client, drops the whole cache once
//!   it has committed, before the write returns: revoked here, inactive at once.
//! - On PostgreSQL, triggers `NOTIFY tollgate_tokens` on such writes from any
//!   process (migration 0012) and a listener drops the cache when one arrives;
//!   while the listener is not connected the cache serves nothing.
//! - An entry is served for at most its time to live: the bound for another
//!   process writing the same SQLite file (a CLI command).
//!
//! A lookup that raced a drop is not kept: [`TokenCache::keep`] stores only if
//! no drop happened since the lookup began.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock, Weak};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::time::Instant;
use tollgate_core::SecretHash;
use tollgate_core::model::{BearerToken, TokenDetails};

/// The channel migration 0012's triggers notify.
const CHANNEL: &str = "tollgate_tokens";

/// How long the listener waits before connecting again.
const RETRY: Duration = Duration::from_secs(1);

/// Past this many entries the cache starts over, so many distinct tokens cannot grow it without bound.
const MAX_ENTRIES: usize = 20_000;

/// What a lookup found, by the token's hash and the lookup that found it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Lookup {
    /// [`Store::bearer_token`](crate::Store::bearer_token).
    Bearer,
    /// [`Store::token_details`](crate::Store::token_details), access tokens first or refresh tokens first.
    Details { refresh_first: bool },
}

#[derive(Clone)]
pub(crate) enum Found {
    Bearer(Box<BearerToken>),
    Details(Box<TokenDetails>),
}

#[derive(Default)]
struct Entries {
    /// Counts the drops; a lookup keeps its answer only if none happened meanwhile.
    generation: u64,
    map: HashMap<(SecretHash, Lookup), (Found, Instant)>,
}

/// See the module documentation.
#[derive(Default)]
pub(crate) struct TokenCache {
    /// Zero: the cache is off.
    ttl_millis: AtomicU64,
    /// False while the PostgreSQL listener is not connected.
    suspended: AtomicBool,
    entries: RwLock<Entries>,
    /// The PostgreSQL listener, stopped with the store.
    listener: Mutex<Listener>,
}

#[derive(Default)]
struct Listener {
    started: bool,
    task: Option<tokio::task::AbortHandle>,
}

/// Where a lookup began: pass it back to [`TokenCache::keep`].
pub(crate) struct Ticket(Option<u64>);

impl TokenCache {
    fn ttl(&self) -> Option<Duration> {
        match self.ttl_millis.load(Ordering::Acquire) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }

    fn serving(&self) -> Option<Duration> {
        self.ttl()
            .filter(|_| !self.suspended.load(Ordering::Acquire))
    }

    pub fn set_ttl(&self, ttl: Duration) {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        self.ttl_millis.store(ms, Ordering::Release);
        self.drop_all();
    }

    pub fn is_on(&self) -> bool {
        self.ttl().is_some()
    }

    pub fn is_serving(&self) -> bool {
        self.serving().is_some()
    }

    /// A kept answer younger than the time to live, if the cache serves.
    pub fn get(&self, hash: &SecretHash, lookup: Lookup) -> Option<Found> {
        let ttl = self.serving()?;
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let (found, at) = entries.map.get(&(*hash, lookup))?;
        (at.elapsed() < ttl).then(|| found.clone())
    }

    /// Taken before the database is asked.
    pub fn ticket(&self) -> Ticket {
        if self.serving().is_none() {
            return Ticket(None);
        }
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        Ticket(Some(entries.generation))
    }

    /// Keeps what the database answered, unless a drop happened since `ticket`.
    pub fn keep(&self, ticket: Ticket, hash: &SecretHash, lookup: Lookup, found: Found) {
        let Ticket(Some(generation)) = ticket else {
            return;
        };
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.generation != generation || self.serving().is_none() {
            return;
        }
        if entries.map.len() >= MAX_ENTRIES {
            entries.map.clear();
        }
        entries.map.insert((*hash, lookup), (found, Instant::now()));
    }

    /// Forgets everything: a token may have been revoked, a user or client changed.
    pub fn drop_all(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.generation += 1;
        entries.map.clear();
    }

    /// Serves nothing until [`TokenCache::resume`]: changes may go unseen.
    pub fn suspend(&self) {
        self.suspended.store(true, Ordering::Release);
        self.drop_all();
    }

    /// Serves again, starting empty: what changed while suspended is not known.
    pub fn resume(&self) {
        self.drop_all();
        self.suspended.store(false, Ordering::Release);
    }

    /// Starts the listener once, suspended until it listens, and keeps its task
    /// so that closing the store stops it (`None`: no runtime to run it on).
    pub fn start_listener(&self, start: impl FnOnce() -> Option<tokio::task::AbortHandle>) {
        let mut listener = self.listener.lock().unwrap_or_else(|e| e.into_inner());
        if !listener.started {
            self.suspend();
            listener.started = true;
            listener.task = start();
        }
    }

    pub fn stop_listener(&self) {
        let mut listener = self.listener.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = listener.task.take() {
            task.abort();
        }
    }
}

impl Drop for TokenCache {
    fn drop(&mut self) {
        self.stop_listener();
    }
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("ttl", &self.ttl())
            .field("suspended", &self.suspended.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Follows `NOTIFY tollgate_tokens` for as long as the cache lives, dropping it
/// on each; suspends it whenever the connection is lost, until listening again.
pub(crate) async fn listen(pool: PgPool, cache: Weak<TokenCache>) {
    loop {
        let outcome = follow(&pool, &cache).await;
        let Some(live) = cache.upgrade() else {
            return;
        };
        live.suspend();
        drop(live);
        if let Err(e) = outcome {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(error = %e, "token cache: not listening for revocations; serving no cached token until it is again");
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// Until the connection is lost (`Ok`) or fails, or the cache is gone (`Ok`).
async fn follow(pool: &PgPool, cache: &Weak<TokenCache>) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    let Some(live) = cache.upgrade() else {
        return Ok(());
    };
    live.resume();
    drop(live);
    while listener.try_recv().await?.is_some() {
        let Some(live) = cache.upgrade() else {
            return Ok(());
        };
        live.drop_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_core::model::TokenKind;

    fn details() -> Found {
        Found::Details(Box::new(TokenDetails {
            dpop_jkt: None,
            kind: TokenKind::Access,
            id: 1,
            application_id: 1,
            client_id: "c".into(),
            user_id: None,
            username: None,
            user_active: None,
            scope: "read".into(),
            resource: Default::default(),
            expires_at: Some(2),
            created_at: 1,
            revoked_at: None,
            family: None,
        }))
    }

    const LOOKUP: Lookup = Lookup::Details {
        refresh_first: false,
    };

    fn cache(ttl_seconds: u64) -> TokenCache {
        let cache = TokenCache::default();
        cache.set_ttl(Duration::from_secs(ttl_seconds));
        cache
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_is_served_for_its_time_to_live_only() {
        let (cache, hash) = (cache(5), SecretHash::of("t"));
        cache.keep(cache.ticket(), &hash, LOOKUP, details());
        tokio::time::advance(Duration::from_millis(4_999)).await;
        assert!(cache.get(&hash, LOOKUP).is_some());
        assert!(cache.get(&SecretHash::of("other"), LOOKUP).is_none());
        assert!(
            cache.get(&hash, Lookup::Bearer).is_none(),
            "another lookup's answer"
        );
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(cache.get(&hash, LOOKUP).is_none());
    }

    #[test]
    fn an_answer_looked_up_before_a_drop_is_not_kept() {
        let (cache, hash) = (cache(60), SecretHash::of("t"));
        let ticket = cache.ticket();
        cache.drop_all();
        cache.keep(ticket, &hash, LOOKUP, details());
        assert!(cache.get(&hash, LOOKUP).is_none());
    }

    #[test]
    fn off_or_suspended_it_serves_and_keeps_nothing() {
        let hash = SecretHash::of("t");
        let off = cache(0);
        off.keep(off.ticket(), &hash, LOOKUP, details());
        assert!(off.get(&hash, LOOKUP).is_none());

        let cache = cache(60);
        cache.keep(cache.ticket(), &hash, LOOKUP, details());
        cache.suspend();
        assert!(cache.get(&hash, LOOKUP).is_none());
        cache.keep(cache.ticket(), &hash, LOOKUP, details());
        cache.resume();
        assert!(cache.get(&hash, LOOKUP).is_none(), "kept while suspended");
        cache.keep(cache.ticket(), &hash, LOOKUP, details());
        assert!(cache.get(&hash, LOOKUP).is_some());
    }
}
