//! Validated tokens kept for a short while, keyed by the token's SHA-256, so a
//! token presented again costs no round trip. Only active tokens are kept: a
//! flood of made-up tokens cannot fill it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tollgate_core::SecretHash;

use super::TokenDetails;

/// Entries at most; when full, the expired go, and if that is not enough, all.
const CAPACITY: usize = 10_000;

pub(super) struct TokenCache {
    ttl: i64,
    entries: Mutex<HashMap<SecretHash, (Arc<TokenDetails>, i64)>>,
}

impl TokenCache {
    pub(super) fn new(ttl: Duration) -> Self {
        TokenCache {
            ttl: i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn ttl(&self) -> Duration {
        Duration::from_secs(self.ttl.unsigned_abs())
    }

    pub(super) fn get(&self, key: &SecretHash, now: i64) -> Option<Arc<TokenDetails>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(_, until)| *until > now)
            .map(|(details, _)| details.clone())
    }

    /// Keeps `details` until the cache lifetime ends or the token expires, whichever is first.
    pub(super) fn put(&self, key: SecretHash, details: Arc<TokenDetails>, now: i64) {
        if self.ttl == 0 {
            return;
        }
        let until = now.saturating_add(self.ttl).min(details.expires_at);
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY {
            entries.retain(|_, (_, until)| *until > now);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (details, until));
    }
}

/// DPoP proofs seen by a resource server that validates remotely and so has
/// no store to remember them in: kept by this process until they expire.
#[derive(Default)]
pub(super) struct SeenProofs {
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    proofs: HashMap<SecretHash, i64>,
    /// When expired proofs were last swept out: at most once a second, so a
    /// full set does not cost a sweep per request.
    swept_at: i64,
}

/// Proofs remembered at most (about 64 MiB): a proof is kept for its window of
/// six minutes, so this serves some 2,700 DPoP requests a second, sustained.
/// Past it, new proofs are refused until old ones expire (fail closed: forgetting
/// one would let it be replayed); only holders of a valid token and its key get this far.
const PROOF_CAPACITY: usize = 1_000_000;

impl SeenProofs {
    /// Records the proof `digest` until `until`: `true` the first time.
    pub(super) fn first_use(&self, digest: SecretHash, until: i64, now: i64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.proofs.get(&digest).is_some_and(|expiry| *expiry > now) {
            return false;
        }
        if seen.proofs.len() >= PROOF_CAPACITY {
            if seen.swept_at >= now {
                return false;
            }
            seen.swept_at = now;
            seen.proofs.retain(|_, expiry| *expiry > now);
            if seen.proofs.len() >= PROOF_CAPACITY {
                return false;
            }
        }
        seen.proofs.insert(digest, until);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_core::scope::Scopes;

    fn details(expires_at: i64) -> Arc<TokenDetails> {
        Arc::new(TokenDetails {
            client_id: "c".into(),
            subject: None,
            username: None,
            user: None,
            scopes: Scopes::default(),
            audience: Default::default(),
            expires_at,
            dpop_jkt: None,
        })
    }

    #[test]
    fn entries_last_the_lifetime_or_until_the_token_expires() {
        let cache = TokenCache::new(Duration::from_secs(60));
        let (a, b) = (SecretHash::of("a"), SecretHash::of("b"));
        cache.put(a, details(1_000), 100);
        cache.put(b, details(130), 100);
        assert!(cache.get(&a, 159).is_some());
        assert!(cache.get(&a, 160).is_none(), "the cache lifetime ended");
        assert!(cache.get(&b, 129).is_some());
        assert!(cache.get(&b, 130).is_none(), "the token expired");
    }

    #[test]
    fn a_zero_lifetime_keeps_nothing() {
        let cache = TokenCache::new(Duration::ZERO);
        cache.put(SecretHash::of("a"), details(1_000), 100);
        assert!(cache.get(&SecretHash::of("a"), 100).is_none());
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = TokenCache::new(Duration::from_secs(60));
        for i in 0..CAPACITY {
            cache.put(SecretHash::of(&i.to_string()), details(1_000), 100);
        }
        cache.put(SecretHash::of("new"), details(1_000), 100);
        assert!(cache.get(&SecretHash::of("new"), 100).is_some());
        assert!(cache.entries.lock().unwrap().len() <= CAPACITY);
    }

    #[test]
    fn a_proof_is_seen_once_until_it_expires() {
        let proofs = SeenProofs::default();
        let digest = SecretHash::of("proof");
        assert!(proofs.first_use(digest, 160, 100));
        assert!(!proofs.first_use(digest, 160, 159), "a replay");
        assert!(
            proofs.first_use(digest, 300, 160),
            "expired, its proof is refused by iat anyway"
        );
    }
}
