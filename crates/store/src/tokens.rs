use tollgate_core::SecretHash;
use tollgate_core::env::UnixTime;
use tollgate_core::model::{
    AccessToken, NewAccessToken, NewIdToken, NewRefreshToken, RefreshToken,
};

use sqlx::AssertSqlSafe;

use crate::rows::{AccessTokenRow, RefreshTokenRow};
use crate::{Result, Store, StoreError, on_db};

impl Store {
    pub async fn insert_access_token(&self, new: &NewAccessToken, now: UnixTime) -> Result<i64> {
        let id = on_db!(&self.db, p => sqlx::query_scalar(
            "INSERT INTO access_tokens (token_hash, application_id, user_id, scope, expires_at, \
             created_at, authorization_code_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(new.token_hash.as_bytes())
            .bind(new.application_id)
            .bind(new.user_id)
            .bind(&new.scope)
            .bind(new.expires_at)
            .bind(now)
            .bind(new.authorization_code_id)
            .fetch_one(p)
            .await)
        .map_err(StoreError::conflict_on("an access token with this hash"))?;
        Ok(id)
    }

    /// One indexed lookup; expiry is the caller's rule to apply.
    pub async fn access_token_by_hash(&self, hash: &SecretHash) -> Result<Option<AccessToken>> {
        let row: Option<AccessTokenRow> = on_db!(&self.db, p => sqlx::query_as(
            "SELECT id, application_id, user_id, scope, expires_at, created_at, \
             authorization_code_id FROM access_tokens WHERE token_hash = $1")
            .bind(hash.as_bytes())
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Into::into))
    }

    pub async fn insert_refresh_token(&self, new: &NewRefreshToken, now: UnixTime) -> Result<i64> {
        let id = on_db!(&self.db, p => sqlx::query_scalar(
            "INSERT INTO refresh_tokens (token_hash, application_id, user_id, access_token_id, \
             family, scope, expires_at, created_at, authorization_code_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(new.token_hash.as_bytes())
            .bind(new.application_id)
            .bind(new.user_id)
            .bind(new.access_token_id)
            .bind(&new.family)
            .bind(&new.scope)
            .bind(new.expires_at)
            .bind(now)
            .bind(new.authorization_code_id)
            .fetch_one(p)
            .await)
        .map_err(StoreError::conflict_on("a refresh token with this hash"))?;
        Ok(id)
    }

    pub async fn refresh_token_by_hash(&self, hash: &SecretHash) -> Result<Option<RefreshToken>> {
        let row: Option<RefreshTokenRow> = on_db!(&self.db, p => sqlx::query_as(
            "SELECT id, application_id, user_id, access_token_id, family, scope, expires_at, \
             created_at, revoked_at, authorization_code_id FROM refresh_tokens WHERE token_hash = $1")
            .bind(hash.as_bytes())
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Into::into))
    }

    /// Revokes every refresh token of a rotation family and deletes the access
    /// tokens they carry (RFC 9700 §4.14.2). Returns how many refresh tokens it revoked.
    pub async fn revoke_refresh_token_family(&self, family: &str, now: UnixTime) -> Result<u64> {
        self.revoke_refresh_tokens_where("family = $1", family, now)
            .await
    }

    /// Revokes everything issued from an authorization code, after a replay of it
    /// (RFC 6749 §4.1.2). Returns how many refresh tokens it revoked.
    pub async fn revoke_tokens_of_code(&self, code_id: i64, now: UnixTime) -> Result<u64> {
        let revoked = self
            .revoke_refresh_tokens_where("authorization_code_id = $1", code_id, now)
            .await?;
        on_db!(&self.db, p => sqlx::query("DELETE FROM access_tokens WHERE authorization_code_id = $1")
            .bind(code_id)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(revoked)
    }

    /// `condition` is a fixed SQL fragment over `refresh_tokens` with one bind, `$1`.
    async fn revoke_refresh_tokens_where<T>(
        &self,
        condition: &'static str,
        value: T,
        now: UnixTime,
    ) -> Result<u64>
    where
        T: Clone
            + Send
            + for<'q> sqlx::Encode<'q, sqlx::Sqlite>
            + sqlx::Type<sqlx::Sqlite>
            + for<'q> sqlx::Encode<'q, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>,
    {
        let delete_access = format!(
            "DELETE FROM access_tokens WHERE id IN \
             (SELECT access_token_id FROM refresh_tokens WHERE {condition})"
        );
        let revoke = format!(
            "UPDATE refresh_tokens SET revoked_at = $2, access_token_id = NULL \
             WHERE {condition} AND revoked_at IS NULL"
        );
        on_db!(&self.db, p => {
            let mut tx = p.begin().await?;
            sqlx::query(AssertSqlSafe(delete_access)).bind(value.clone()).execute(&mut *tx).await?;
            let revoked = sqlx::query(AssertSqlSafe(revoke))
                .bind(value)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(revoked)
        })
    }

    pub async fn insert_id_token(&self, new: &NewIdToken, now: UnixTime) -> Result<i64> {
        let id = on_db!(&self.db, p => sqlx::query_scalar(
            "INSERT INTO id_tokens (jti, application_id, user_id, scope, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(&new.jti)
            .bind(new.application_id)
            .bind(new.user_id)
            .bind(&new.scope)
            .bind(new.expires_at)
            .bind(now)
            .fetch_one(p)
            .await)
        .map_err(StoreError::conflict_on("an ID token with this jti"))?;
        Ok(id)
    }
}
