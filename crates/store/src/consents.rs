use tollgate_core::env::UnixTime;
use tollgate_core::model::Consent;

use crate::{Result, Store, on_db};

impl Store {
    /// Remembers the scopes a user granted a client, replacing what was remembered.
    pub async fn remember_consent(
        &self,
        user_id: i64,
        application_id: i64,
        scope: &str,
        now: UnixTime,
    ) -> Result<()> {
        on_db!(write &self.db, p => sqlx::query(
            "INSERT INTO tollgate_consents (user_id, application_id, scope, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (user_id, application_id) \
             DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at")
            .bind(user_id)
            .bind(application_id)
            .bind(scope)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    pub async fn consent(&self, user_id: i64, application_id: i64) -> Result<Option<Consent>> {
        let row: Option<(String, i64, i64)> = on_db!(read &self.db, p => sqlx::query_as(
            "SELECT scope, created_at, updated_at FROM tollgate_consents \
             WHERE user_id = $1 AND application_id = $2")
            .bind(user_id)
            .bind(application_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(|(scope, created_at, updated_at)| Consent {
            user_id,
            application_id,
            scope,
            created_at,
            updated_at,
        }))
    }
}
