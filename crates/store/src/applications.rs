use tollgate_core::GrantType;
use tollgate_core::env::UnixTime;
use tollgate_core::model::{Application, NewApplication};

use crate::rows::ApplicationRow;
use crate::{Result, Store, StoreError, on_db};

macro_rules! columns {
    () => {
        "id, client_id, client_secret_hash, client_secret_sealed, client_type, grant_types, redirect_uris, \
         post_logout_redirect_uris, allowed_origins, algorithm, userinfo_signed, \
         skip_authorization, name, owner_id, created_at, updated_at"
    };
}

impl Store {
    /// Stores a new client; a taken `client_id` is a [`StoreError::Conflict`].
    pub async fn create_application(
        &self,
        new: &NewApplication,
        now: UnixTime,
    ) -> Result<Application> {
        let sql = concat!(
            "INSERT INTO tollgate_applications (client_id, client_secret_hash, client_secret_sealed, \
             client_type, grant_types, redirect_uris, post_logout_redirect_uris, allowed_origins, \
             algorithm, userinfo_signed, skip_authorization, name, owner_id, created_at, \
             updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING ",
            columns!()
        );
        let row: ApplicationRow = on_db!(write &self.db, p => sqlx::query_as(sql)
            .bind(&new.client_id)
            .bind(&new.client_secret_hash)
            .bind(&new.client_secret_sealed)
            .bind(new.client_type.as_str())
            .bind(GrantType::format_list(&new.grant_types))
            .bind(new.redirect_uris.join(" "))
            .bind(new.post_logout_redirect_uris.join(" "))
            .bind(new.allowed_origins.join(" "))
            .bind(new.algorithm.as_str())
            .bind(new.userinfo_signed)
            .bind(new.skip_authorization)
            .bind(&new.name)
            .bind(new.owner_id)
            .bind(now)
            .fetch_one(p)
            .await)
        .map_err(StoreError::conflict_on(
            "an application with this client_id",
        ))?;
        row.try_into()
    }

    pub async fn application_by_client_id(&self, client_id: &str) -> Result<Option<Application>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM tollgate_applications WHERE client_id = $1"
        );
        let row: Option<ApplicationRow> = on_db!(read &self.db, p => sqlx::query_as(sql).bind(client_id).fetch_optional(p).await)?;
        row.map(TryInto::try_into).transpose()
    }

    /// Whether any client lists `origin` among its allowed origins (CORS preflight).
    pub async fn origin_is_registered(&self, origin: &str) -> Result<bool> {
        let found: Option<i64> = on_db!(read &self.db, p => sqlx::query_scalar(
            "SELECT id FROM tollgate_applications \
             WHERE (' ' || allowed_origins || ' ') LIKE ('% ' || $1 || ' %') LIMIT 1")
            .bind(origin)
            .fetch_optional(p)
            .await)?;
        Ok(found.is_some())
    }
}
