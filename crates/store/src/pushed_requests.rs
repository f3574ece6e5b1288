//! RFC 9126 pushed authorization requests, by the hash of their `request_uri`.

use tollgate_core::SecretHash;
use tollgate_core::env::UnixTime;
use tollgate_core::model::{NewPushedRequest, PushedRequest};
use tollgate_core::par;

use crate::{Result, Store, on_db};

impl Store {
    /// Keeps a pushed authorization request until `expires_at`.
    pub async fn push_request(&self, new: &NewPushedRequest, now: UnixTime) -> Result<()> {
        on_db!(write &self.db, p => sqlx::query(
            "INSERT INTO tollgate_pushed_requests (request_uri_hash, application_id, parameters, \
             expires_at, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(new.request_uri_hash.as_bytes())
            .bind(new.application_id)
            .bind(par::encode(&new.parameters))
            .bind(new.expires_at)
            .bind(now)
            .execute(p)
            .await
            .map(drop))?;
        Ok(())
    }

    /// The pushed request `hash` names, if the client `application_id` pushed
    /// it and it has neither expired nor been answered. The first opening
    /// records when, and from then on it lasts `interaction` seconds; one round trip.
    pub async fn open_pushed_request(
        &self,
        hash: &SecretHash,
        application_id: i64,
        now: UnixTime,
        interaction: i64,
    ) -> Result<Option<PushedRequest>> {
        let row: Option<(String, i64)> = on_db!(write &self.db, p => sqlx::query_as(
            "UPDATE tollgate_pushed_requests \
             SET opened_at = COALESCE(opened_at, $2), \
                 expires_at = CASE WHEN opened_at IS NULL THEN $3 ELSE expires_at END \
             WHERE request_uri_hash = $1 AND application_id = $4 AND expires_at > $2 \
             RETURNING parameters, opened_at")
            .bind(hash.as_bytes())
            .bind(now)
            .bind(now.saturating_add(interaction))
            .bind(application_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(|(parameters, opened_at)| PushedRequest {
            parameters: par::decode(&parameters),
            opened_at,
        }))
    }

    /// Deletes the pushed request once it is answered: `true` for the one
    /// caller that did, `false` if it was answered, or expired, before.
    pub async fn answer_pushed_request(&self, hash: &SecretHash, now: UnixTime) -> Result<bool> {
        let deleted = on_db!(write &self.db, p => sqlx::query(
            "DELETE FROM tollgate_pushed_requests WHERE request_uri_hash = $1 AND expires_at > $2")
            .bind(hash.as_bytes())
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(deleted == 1)
    }
}
