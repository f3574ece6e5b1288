//! Slows down guessing of passwords, client secrets and device codes by the
//! rules of [`tollgate_core::throttle`], over failures kept in the store, so
//! every node of a cluster counts the same ones.
//!
//! Sign-ins and device codes ask the store before every attempt. Client
//! authentication is a hot path, so a node asks only after a failure and
//! remembers the lock it learns; another node learns it at its own first
//! failure for that client and address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use tollgate_core::SecretHash;
use tollgate_core::env::UnixTime;
use tollgate_core::throttle::{Policy, WINDOW};
use tollgate_store::{FailureKey, StoreError};

use crate::provider::Inner;

/// What is being guessed: each has its own counts and rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// A username's password, on the sign-in page or at the password grant.
    SignIn,
    ClientSecret,
    /// A signed-in user's typed device codes.
    DeviceCode,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::SignIn => "sign-in",
            Kind::ClientSecret => "client-secret",
            Kind::DeviceCode => "device-code",
        }
    }

    fn policy(self) -> Policy {
        match self {
            Kind::SignIn => Policy::SIGN_IN,
            Kind::ClientSecret => Policy::CLIENT_SECRET,
            Kind::DeviceCode => Policy::DEVICE_CODE,
        }
    }
}

/// One subject guessed at from one address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    kind: Kind,
    subject: String,
    address: String,
}

impl Key {
    /// Usernames are counted case-insensitively; the subject is kept hashed.
    pub fn new(kind: Kind, subject: &str, address: Option<IpAddr>) -> Key {
        let subject = match kind {
            Kind::SignIn => subject.to_lowercase(),
            _ => subject.to_owned(),
        };
        Key {
            kind,
            subject: SecretHash::of(&subject).to_hex(),
            address: address.map(|a| a.to_string()).unwrap_or_default(),
        }
    }

    fn stored(&self) -> FailureKey<'_> {
        FailureKey {
            kind: self.kind.name(),
            subject: &self.subject,
            address: &self.address,
        }
    }
}

/// Counts an attempt as failed before its secret is checked, so parallel
/// guesses cannot outrun the limit: `Err(seconds)` (and the count taken back)
/// when it must wait. [`succeeded`] forgives it. A key already locked is
/// refused by a read alone, so a flood of attempts writes nothing.
pub(crate) async fn admit(inner: &Inner, key: &Key) -> Result<Result<(), i64>, StoreError> {
    let now = inner.clock.now();
    let policy = key.kind.policy();
    let before = inner.store.failures(key.stored(), now - WINDOW, -1).await?;
    if let Err(wait) = policy.check(&before, now) {
        return Ok(Err(wait));
    }
    let id = inner.store.record_failure(key.stored(), now).await?;
    let failures = inner.store.failures(key.stored(), now - WINDOW, id).await?;
    match policy.check(&failures, now) {
        Ok(()) => Ok(Ok(())),
        Err(wait) => {
            inner.store.forget_failure(id).await?;
            Ok(Err(wait))
        }
    }
}

/// The attempt was right: its subject's failures from its address are forgiven.
pub(crate) async fn succeeded(inner: &Inner, key: &Key) -> Result<(), StoreError> {
    inner
        .store
        .forgive_failures(key.stored(), inner.clock.now())
        .await
}

/// Above this many entries, expired client locks are swept out.
const SWEEP_AT: usize = 10_000;

/// The client-secret locks this node has learnt, and where it saw failures,
/// by client id and address: the common case, no failure anywhere, costs one
/// look at an empty map and nothing hashed.
#[derive(Debug, Default)]
pub(crate) struct ClientLocks {
    /// Locked until, or `0`: failed here, not locked.
    until: Mutex<HashMap<(String, Option<IpAddr>), UnixTime>>,
}

impl ClientLocks {
    /// `Some(seconds)` while this node knows the client locked at the address.
    pub fn wait(&self, client_id: &str, address: Option<IpAddr>, now: UnixTime) -> Option<i64> {
        let until = self.until.lock().unwrap_or_else(|e| e.into_inner());
        if until.is_empty() {
            return None;
        }
        until
            .get(&(client_id.to_owned(), address))
            .map(|u| u - now)
            .filter(|w| *w > 0)
    }

    /// A wrong secret: counted in the store, and a lock it brings remembered here.
    pub async fn failed(
        &self,
        inner: &Inner,
        client_id: &str,
        address: Option<IpAddr>,
    ) -> Result<(), StoreError> {
        let key = Key::new(Kind::ClientSecret, client_id, address);
        let now = inner.clock.now();
        inner.store.record_failure(key.stored(), now).await?;
        let failures = inner.store.failures(key.stored(), now - WINDOW, -1).await?;
        let until = match key.kind.policy().check(&failures, now) {
            Err(wait) => now + wait,
            Ok(()) => 0,
        };
        let mut map = self.until.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > SWEEP_AT {
            map.retain(|_, u| *u > now);
        }
        map.insert((client_id.to_owned(), address), until);
        Ok(())
    }

    /// A right secret: forgives its failures if this node saw any.
    pub async fn succeeded(
        &self,
        inner: &Inner,
        client_id: &str,
        address: Option<IpAddr>,
    ) -> Result<(), StoreError> {
        let failed_here = {
            let mut map = self.until.lock().unwrap_or_else(|e| e.into_inner());
            !map.is_empty() && map.remove(&(client_id.to_owned(), address)).is_some()
        };
        if failed_here {
            succeeded(inner, &Key::new(Kind::ClientSecret, client_id, address)).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_never_share_keys() {
        let address = Some("192.0.2.1".parse().unwrap());
        let sign_in = Key::new(Kind::SignIn, "42", address);
        let device = Key::new(Kind::DeviceCode, "42", address);
        assert_eq!(sign_in.subject, device.subject);
        assert_ne!(sign_in.stored().kind, device.stored().kind);
        assert_eq!(
            Key::new(Kind::SignIn, "Alice", None),
            Key::new(Kind::SignIn, "alice", None),
            "usernames case-insensitively"
        );
        assert_ne!(
            Key::new(Kind::ClientSecret, "Alice", None),
            Key::new(Kind::ClientSecret, "alice", None),
            "client ids exactly"
        );
        assert_eq!(sign_in.subject.len(), 64, "hashed");
    }
}
