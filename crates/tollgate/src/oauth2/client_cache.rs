//! A short-lived, per-process cache of client registrations, so a busy client
//! costs the token and introspection endpoints no database round trip to look
//! itself up. A change to a client (a new secret, a deletion) reaches every
//! process within `client_cache_seconds`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tollgate_core::env::UnixTime;
use tollgate_core::model::Application;
use tollgate_store::{Store, StoreError};

/// Past this many entries the cache starts over, so a flood of client ids
/// cannot grow it without bound. Unknown ids are never cached.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct ClientCache {
    entries: RwLock<HashMap<String, (Arc<Application>, UnixTime)>>,
}

impl ClientCache {
    pub async fn get(
        &self,
        store: &Store,
        client_id: &str,
        now: UnixTime,
        ttl_seconds: u64,
    ) -> Result<Option<Arc<Application>>, StoreError> {
        let ttl = i64::try_from(ttl_seconds).unwrap_or(i64::MAX);
        if ttl > 0 {
            let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
            if let Some((client, fetched)) = entries.get(client_id)
                && now - fetched < ttl
            {
                return Ok(Some(client.clone()));
            }
        }
        let Some(client) = store.application_by_client_id(client_id).await? else {
            return Ok(None);
        };
        let client = Arc::new(client);
        if ttl > 0 {
            let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(client_id.to_owned(), (client.clone(), now));
        }
        Ok(Some(client))
    }

    /// Drops a client changed or deleted by this process, so the change is seen at once here.
    pub fn forget(&self, client_id: &str) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.remove(client_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_core::model::NewApplication;
    use tollgate_core::{ClientType, GrantType, SigningAlgorithm};

    fn new_app(client_id: &str) -> NewApplication {
        NewApplication {
            client_id: client_id.into(),
            client_secret_hash: None,
            client_secret_sealed: None,
            client_type: ClientType::Public,
            grant_types: vec![GrantType::Password],
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            allowed_origins: vec![],
            algorithm: SigningAlgorithm::RS256,
            userinfo_signed: false,
            skip_authorization: false,
            name: String::new(),
            owner_id: None,
            security: Default::default(),
        }
    }

    #[tokio::test]
    async fn serves_from_memory_until_the_ttl_and_never_caches_misses() {
        let db = tollgate_testkit::sqlite();
        let store = Store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        let cache = ClientCache::default();

        assert!(cache.get(&store, "late", 100, 5).await.unwrap().is_none());
        store
            .create_application(&new_app("late"), 100)
            .await
            .unwrap();
        assert!(
            cache.get(&store, "late", 100, 5).await.unwrap().is_some(),
            "a miss is not remembered"
        );

        store.close().await;
        // Fresh: answered from memory although the database is gone.
        assert!(cache.get(&store, "late", 104, 5).await.unwrap().is_some());
        // Stale: back to the database, which now fails.
        assert!(cache.get(&store, "late", 105, 5).await.is_err());
        // A TTL of 0 never serves from memory.
        assert!(cache.get(&store, "late", 100, 0).await.is_err());
    }
}
