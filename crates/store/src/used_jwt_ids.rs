//! JWT ids that may be used once, by the digest of what names them, kept
//! until the JWT they came in expires.

use tollgate_core::SecretHash;
use tollgate_core::env::UnixTime;

use crate::{Result, Store, on_db};

impl Store {
    /// Records the use of the JWT id `digest` until `expires_at`: `true` for the
    /// one caller that used it first, `false` while an earlier use is remembered;
    /// one round trip.
    pub async fn use_jwt_id(
        &self,
        digest: &SecretHash,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool> {
        let recorded = on_db!(write &self.db, p => sqlx::query(
            "INSERT INTO tollgate_used_jwt_ids (digest, expires_at) VALUES ($1, $2) \
             ON CONFLICT (digest) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE tollgate_used_jwt_ids.expires_at <= $3")
            .bind(digest.as_bytes())
            .bind(expires_at)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(recorded == 1)
    }
}
