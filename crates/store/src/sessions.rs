use tollgate_core::SecretHash;
use tollgate_core::env::UnixTime;
use tollgate_core::model::{NewSession, Session};

use crate::{Result, Store, StoreError, on_db};

impl Store {
    /// Stores a new sign-in session; its row id.
    pub async fn create_session(&self, new: &NewSession, now: UnixTime) -> Result<i64> {
        let id = on_db!(write &self.db, p => sqlx::query_scalar(
            "INSERT INTO tollgate_sessions (session_hash, user_id, auth_time, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(new.session_hash.as_bytes())
            .bind(new.user_id)
            .bind(new.auth_time)
            .bind(new.expires_at)
            .bind(now)
            .fetch_one(p)
            .await)
        .map_err(StoreError::conflict_on("a session with this hash"))?;
        Ok(id)
    }

    /// The live session a cookie names, if any.
    pub async fn session_by_hash(
        &self,
        hash: &SecretHash,
        now: UnixTime,
    ) -> Result<Option<Session>> {
        let row: Option<(i64, i64, i64, i64, i64)> = on_db!(read &self.db, p => sqlx::query_as(
            "SELECT id, user_id, auth_time, expires_at, created_at FROM tollgate_sessions \
             WHERE session_hash = $1 AND expires_at > $2")
            .bind(hash.as_bytes())
            .bind(now)
            .fetch_optional(p)
            .await)?;
        Ok(
            row.map(|(id, user_id, auth_time, expires_at, created_at)| Session {
                id,
                user_id,
                auth_time,
                expires_at,
                created_at,
            }),
        )
    }

    /// Ends the session whose cookie value hashes to `hash` (signing out); none is no error.
    pub async fn delete_session(&self, hash: &SecretHash) -> Result<()> {
        on_db!(write &self.db, p => sqlx::query("DELETE FROM tollgate_sessions WHERE session_hash = $1")
            .bind(hash.as_bytes())
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}
