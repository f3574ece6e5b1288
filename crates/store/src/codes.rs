use tollgate_core::SecretHash;
use tollgate_core::env::UnixTime;
use tollgate_core::model::{CodeRedemption, NewAuthorizationCode};

use crate::rows::CodeRow;
use crate::{Result, Store, StoreError, on_db};

/// `INSERT` of an authorization code on any executor, returning its id.
macro_rules! insert_code {
    ($executor:expr, $new:expr, $now:expr) => {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO tollgate_authorization_codes (code_hash, application_id, user_id, redirect_uri, \
             redirect_uri_given, scope, code_challenge, code_challenge_method, nonce, claims, \
             auth_time, expires_at, created_at, resource, dpop_jkt, sid) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
        )
        .bind($new.code_hash.as_bytes())
        .bind($new.application_id)
        .bind($new.user_id)
        .bind(&$new.redirect_uri)
        .bind($new.redirect_uri_given)
        .bind(&$new.scope)
        .bind(&$new.code_challenge)
        .bind(&$new.code_challenge_method)
        .bind(&$new.nonce)
        .bind(&$new.claims)
        .bind($new.auth_time)
        .bind($new.expires_at)
        .bind($now)
        .bind($new.resource.to_string())
        .bind(&$new.dpop_jkt)
        .bind(&$new.sid)
        .fetch_one($executor)
    };
}
pub(crate) use insert_code;

impl Store {
    /// Stores a new authorization code; its row id. A code hash already taken is [`StoreError::Conflict`].
    pub async fn insert_authorization_code(
        &self,
        new: &NewAuthorizationCode,
        now: UnixTime,
    ) -> Result<i64> {
        let id = on_db!(write &self.db, p => insert_code!(p, new, now).await).map_err(
            StoreError::conflict_on("an authorization code with this hash"),
        )?;
        Ok(id)
    }

    /// What presenting a code finds. Only the client it was issued to can redeem
    /// it (or replay it): to any other, it is unknown. Expiry is the caller's rule
    /// to apply; redeeming it is [`crate::Spend::Code`], with its tokens.
    pub async fn authorization_code(
        &self,
        code_hash: &SecretHash,
        application_id: i64,
    ) -> Result<CodeRedemption> {
        let row: Option<CodeRow> = on_db!(read &self.db, p => sqlx::query_as(
            "SELECT id, application_id, user_id, redirect_uri, redirect_uri_given, scope, code_challenge, \
             code_challenge_method, nonce, claims, auth_time, expires_at, created_at, resource, redeemed_at, dpop_jkt, sid \
             FROM tollgate_authorization_codes WHERE code_hash = $1 AND application_id = $2")
            .bind(code_hash.as_bytes())
            .bind(application_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map_or(CodeRedemption::Unknown, Into::into))
    }
}
