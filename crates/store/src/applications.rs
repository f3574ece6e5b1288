use tollgate_core::env::UnixTime;
use tollgate_core::model::{Application, ApplicationChanges, NewApplication};
use tollgate_core::{GrantType, SecretHash};

use crate::rows::ApplicationRow;
use crate::{Result, Store, StoreError, on_db};

/// An application's columns, in [`ApplicationRow`]'s order.
macro_rules! columns {
    () => {
        "id, client_id, client_secret_hash, client_secret_sealed, client_type, grant_types, redirect_uris, \
         post_logout_redirect_uris, allowed_origins, algorithm, userinfo_signed, \
         skip_authorization, name, owner_id, created_at, updated_at, \
         require_pushed_authorization_requests, jwks, token_endpoint_auth_method, jwks_uri, \
         dpop_bound_access_tokens, backchannel_logout_uri, backchannel_logout_session_required"
    };
}
pub(crate) use columns;

pub(crate) const APPLICATION_CONFLICT: &str = "an application with this client_id";

/// `INSERT` of a client on any executor, returning its row.
macro_rules! insert_application {
    ($executor:expr, $new:expr, $now:expr) => {
        sqlx::query_as::<_, crate::rows::ApplicationRow>(concat!(
            "INSERT INTO tollgate_applications (client_id, client_secret_hash, client_secret_sealed, \
             client_type, grant_types, redirect_uris, post_logout_redirect_uris, allowed_origins, \
             algorithm, userinfo_signed, skip_authorization, name, owner_id, created_at, \
             updated_at, require_pushed_authorization_requests, jwks, token_endpoint_auth_method, \
             jwks_uri, dpop_bound_access_tokens, backchannel_logout_uri, \
             backchannel_logout_session_required) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16, $17, \
             $18, $19, $20, $21) \
             RETURNING ",
            columns!()
        ))
        .bind(&$new.client_id)
        .bind(&$new.client_secret_hash)
        .bind(&$new.client_secret_sealed)
        .bind($new.client_type.as_str())
        .bind(tollgate_core::GrantType::format_list(&$new.grant_types))
        .bind($new.redirect_uris.join(" "))
        .bind($new.post_logout_redirect_uris.join(" "))
        .bind($new.allowed_origins.join(" "))
        .bind($new.algorithm.as_str())
        .bind($new.userinfo_signed)
        .bind($new.skip_authorization)
        .bind(&$new.name)
        .bind($new.owner_id)
        .bind($now)
        .bind($new.security.require_pushed_authorization_requests)
        .bind(&$new.security.jwks)
        .bind($new.security.token_endpoint_auth_method.map(|m| m.as_str()))
        .bind(&$new.security.jwks_uri)
        .bind($new.security.dpop_bound_access_tokens)
        .bind(&$new.security.backchannel_logout_uri)
        .bind($new.security.backchannel_logout_session_required)
        .fetch_one($executor)
    };
}
pub(crate) use insert_application;

impl Store {
    /// Stores a new client; a taken `client_id` is a [`StoreError::Conflict`].
    pub async fn create_application(
        &self,
        new: &NewApplication,
        now: UnixTime,
    ) -> Result<Application> {
        let row: ApplicationRow =
            on_db!(write &self.db, p => insert_application!(p, new, now).await)
                .map_err(StoreError::conflict_on(APPLICATION_CONFLICT))?;
        row.try_into()
    }

    /// The client registered under `client_id`, if any.
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

    /// The client with this row id, if any.
    pub async fn application_by_id(&self, id: i64) -> Result<Option<Application>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM tollgate_applications WHERE id = $1"
        );
        let row: Option<ApplicationRow> =
            on_db!(read &self.db, p => sqlx::query_as(sql).bind(id).fetch_optional(p).await)?;
        row.map(TryInto::try_into).transpose()
    }

    /// The clients `owner` registered, or every client when `owner` is `None`, by name.
    pub async fn applications(&self, owner: Option<i64>) -> Result<Vec<Application>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM tollgate_applications WHERE (CAST($1 AS BIGINT) IS NULL OR owner_id = $1) \
             ORDER BY lower(name), name, client_id"
        );
        let rows: Vec<ApplicationRow> =
            on_db!(read &self.db, p => sqlx::query_as(sql).bind(owner).fetch_all(p).await)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Replaces what an owner may change of a client.
    pub async fn update_application(
        &self,
        id: i64,
        changes: &ApplicationChanges,
        now: UnixTime,
    ) -> Result<Application> {
        let sql = concat!(
            "UPDATE tollgate_applications SET name = $2, grant_types = $3, redirect_uris = $4, \
             post_logout_redirect_uris = $5, allowed_origins = $6, updated_at = $7, \
             require_pushed_authorization_requests = $8, jwks = $9, \
             token_endpoint_auth_method = $10, jwks_uri = $11, dpop_bound_access_tokens = $12, \
             backchannel_logout_uri = $13, backchannel_logout_session_required = $14 \
             WHERE id = $1 RETURNING ",
            columns!()
        );
        let row: Option<ApplicationRow> = on_db!(revoking self, p => sqlx::query_as(sql)
            .bind(id)
            .bind(&changes.name)
            .bind(GrantType::format_list(&changes.grant_types))
            .bind(changes.redirect_uris.join(" "))
            .bind(changes.post_logout_redirect_uris.join(" "))
            .bind(changes.allowed_origins.join(" "))
            .bind(now)
            .bind(changes.security.require_pushed_authorization_requests)
            .bind(&changes.security.jwks)
            .bind(changes.security.token_endpoint_auth_method.map(|m| m.as_str()))
            .bind(&changes.security.jwks_uri)
            .bind(changes.security.dpop_bound_access_tokens)
            .bind(&changes.security.backchannel_logout_uri)
            .bind(changes.security.backchannel_logout_session_required)
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::NotFound("application"))?.try_into()
    }

    /// Gives a confidential client a new secret (its hash, and for HS256 the
    /// sealed secret); the old one stops working at once.
    pub async fn set_client_secret(
        &self,
        id: i64,
        hash: &str,
        sealed: Option<&str>,
        now: UnixTime,
    ) -> Result<()> {
        let changed = on_db!(write &self.db, p => sqlx::query(
            "UPDATE tollgate_applications SET client_secret_hash = $2, client_secret_sealed = $3, \
             updated_at = $4 WHERE id = $1")
            .bind(id)
            .bind(hash)
            .bind(sealed)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StoreError::NotFound("application"));
        }
        Ok(())
    }

    /// Replaces a client secret hash Tollgate would not make now (DOT's) by
    /// Tollgate's, once the secret verified against it; only if it is still `old`.
    pub async fn upgrade_client_secret_hash(
        &self,
        id: i64,
        old: &str,
        new: &str,
        now: UnixTime,
    ) -> Result<()> {
        self.replace_hash(
            "tollgate_applications",
            "client_secret_hash",
            id,
            old,
            new,
            now,
        )
        .await
    }

    /// Deletes a client with its codes, tokens and consents (foreign keys cascade).
    pub async fn delete_application(&self, id: i64) -> Result<()> {
        let deleted = on_db!(revoking self, p => sqlx::query(
            "DELETE FROM tollgate_applications WHERE id = $1")
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        if deleted == 0 {
            return Err(StoreError::NotFound("application"));
        }
        Ok(())
    }

    /// Gives a dynamically registered client its registration access token
    /// (its hash), replacing the one it had.
    pub async fn set_registration_token(
        &self,
        application_id: i64,
        hash: &SecretHash,
        now: UnixTime,
    ) -> Result<()> {
        on_db!(write &self.db, p => sqlx::query(
            "INSERT INTO tollgate_client_registrations (application_id, token_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $3) ON CONFLICT (application_id) \
             DO UPDATE SET token_hash = excluded.token_hash, updated_at = excluded.updated_at")
            .bind(application_id)
            .bind(hash.as_bytes())
            .bind(now)
            .execute(p)
            .await
            .map(drop))?;
        Ok(())
    }

    /// The client `client_id`, if `hash` is its registration access token's.
    pub async fn registered_application(
        &self,
        client_id: &str,
        hash: &SecretHash,
    ) -> Result<Option<Application>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM tollgate_applications WHERE client_id = $1 AND id IN \
             (SELECT application_id FROM tollgate_client_registrations WHERE token_hash = $2)"
        );
        let row: Option<ApplicationRow> = on_db!(read &self.db, p => sqlx::query_as(sql)
            .bind(client_id)
            .bind(hash.as_bytes())
            .fetch_optional(p)
            .await)?;
        row.map(TryInto::try_into).transpose()
    }
}
