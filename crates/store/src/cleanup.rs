//! DOT's `clear_expired`, in bounded batches so a large backlog never holds a
//! long lock or a huge transaction.

use sqlx::AssertSqlSafe;
use tollgate_core::model::{ClearedCounts, ExpiryPolicy};

use crate::{Result, Store, on_db};

/// A revoked refresh token is kept through the grace period, and with reuse
/// protection until it expires, since replaying it must still be recognised.
const REVOKED_RT: &str = "revoked_at IS NOT NULL AND revoked_at <= $1";
const REVOKED_RT_REUSE: &str =
    "revoked_at IS NOT NULL AND revoked_at <= $1 AND expires_at IS NOT NULL AND expires_at <= $2";
const EXPIRED_RT: &str = "revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at <= $1";
const EXPIRED: &str = "expires_at <= $1";
/// A client described by a metadata document that went stale, with nothing
/// live left (after the passes above): fetched again if it is ever used.
const STALE_DOCUMENT_CLIENT: &str = "id IN (SELECT application_id FROM tollgate_client_documents \
     WHERE expires_at <= $1) \
     AND NOT EXISTS (SELECT 1 FROM tollgate_access_tokens t WHERE t.application_id = tollgate_applications.id) \
     AND NOT EXISTS (SELECT 1 FROM tollgate_refresh_tokens r \
         WHERE r.application_id = tollgate_applications.id AND r.revoked_at IS NULL) \
     AND NOT EXISTS (SELECT 1 FROM tollgate_authorization_codes c \
         WHERE c.application_id = tollgate_applications.id) \
     AND NOT EXISTS (SELECT 1 FROM tollgate_device_codes d \
         WHERE d.application_id = tollgate_applications.id)";

type Counter = fn(&mut ClearedCounts) -> &mut u64;

impl Store {
    /// Deletes what has expired or been revoked past use, `batch_size` rows per
    /// statement; `progress` sees the running totals after every batch.
    pub async fn clear_expired(
        &self,
        policy: &ExpiryPolicy,
        mut progress: impl FnMut(&ClearedCounts),
    ) -> Result<ClearedCounts> {
        let now = policy.now;
        let grace_cutoff = now - policy.refresh_token_grace_period_seconds;
        let revoked: (&str, &[i64]) = if policy.refresh_token_reuse_protection {
            (REVOKED_RT_REUSE, &[grace_cutoff, now])
        } else {
            (REVOKED_RT, &[grace_cutoff])
        };
        let passes: [(&str, &str, &[i64], Counter); 10] = [
            ("refresh_tokens", revoked.0, revoked.1, |c| {
                &mut c.refresh_tokens
            }),
            ("refresh_tokens", EXPIRED_RT, &[now], |c| {
                &mut c.refresh_tokens
            }),
            ("access_tokens", EXPIRED, &[now], |c| &mut c.access_tokens),
            ("id_tokens", EXPIRED, &[now], |c| &mut c.id_tokens),
            ("authorization_codes", EXPIRED, &[now], |c| {
                &mut c.authorization_codes
            }),
            // Device codes are authorization codes of another kind.
            ("device_codes", EXPIRED, &[now], |c| {
                &mut c.authorization_codes
            }),
            // A pushed authorization request is one more that has not been answered.
            ("pushed_requests", EXPIRED, &[now], |c| {
                &mut c.authorization_codes
            }),
            ("sessions", EXPIRED, &[now], |c| &mut c.sessions),
            ("used_jwt_ids", EXPIRED, &[now], |c| &mut c.used_jwt_ids),
            // Last: without it anyone could fill the table with one-off document clients.
            ("applications", STALE_DOCUMENT_CLIENT, &[now], |c| {
                &mut c.document_clients
            }),
        ];
        let batch = policy.batch_size.max(1);
        let mut counts = ClearedCounts::default();
        for (table, condition, binds, counter) in passes {
            let sql = format!(
                "DELETE FROM tollgate_{table} WHERE id IN \
                 (SELECT id FROM tollgate_{table} WHERE {condition} LIMIT {batch})"
            );
            loop {
                let deleted = on_db!(write &self.db, p => {
                    let mut query = sqlx::query(AssertSqlSafe(sql.as_str()));
                    for value in binds {
                        query = query.bind(*value);
                    }
                    query.execute(p).await.map(|r| r.rows_affected())
                })?;
                *counter(&mut counts) += deleted;
                progress(&counts);
                if deleted < u64::from(batch) {
                    break;
                }
            }
        }
        // Nobody waits on these being counted: they only stop mattering.
        self.forget_old_failures(now - tollgate_core::throttle::WINDOW)
            .await?;
        Ok(counts)
    }
}
