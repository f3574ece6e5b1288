use tollgate_core::env::UnixTime;
use tollgate_core::model::Consent;
use tollgate_core::resource_indicator::Resources;

use crate::{Result, Store, on_db};

impl Store {
    /// Remembers the scopes a user granted a client, and the resources they
    /// were granted for (empty: any), replacing what was remembered.
    pub async fn remember_consent(
        &self,
        user_id: i64,
        application_id: i64,
        scope: &str,
        resource: &Resources,
        now: UnixTime,
    ) -> Result<()> {
        on_db!(write &self.db, p => sqlx::query(
            "INSERT INTO tollgate_consents (user_id, application_id, scope, resource, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (user_id, application_id) \
             DO UPDATE SET scope = excluded.scope, resource = excluded.resource, \
             updated_at = excluded.updated_at")
            .bind(user_id)
            .bind(application_id)
            .bind(scope)
            .bind(resource.to_string())
            .bind(now)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// What `user_id` has consented to for the client, if they have.
    pub async fn consent(&self, user_id: i64, application_id: i64) -> Result<Option<Consent>> {
        let row: Option<(String, String, i64, i64)> = on_db!(read &self.db, p => sqlx::query_as(
            "SELECT scope, resource, created_at, updated_at FROM tollgate_consents \
             WHERE user_id = $1 AND application_id = $2")
            .bind(user_id)
            .bind(application_id)
            .fetch_optional(p)
            .await)?;
        Ok(
            row.map(|(scope, resource, created_at, updated_at)| Consent {
                user_id,
                application_id,
                scope,
                resource: Resources::stored(&resource),
                created_at,
                updated_at,
            }),
        )
    }
}
