use tollgate_core::SecretHash;
use tollgate_core::env::UnixTime;
use tollgate_core::model::{
    AccessToken, BearerToken, NewAccessToken, NewIdToken, NewRefreshToken, RefreshToken, Spend,
    TokenDetails, TokenKind,
};

use sqlx::AssertSqlSafe;

use crate::batch::TokenWrite;
use crate::rows::{AccessTokenRow, BearerRow, RefreshTokenRow, TokenDetailsRow};
use crate::token_cache::{Found, Lookup};
use crate::{Result, Store, StoreError, on_db};

pub(crate) const ACCESS_CONFLICT: &str = "an access token with this hash";
pub(crate) const REFRESH_CONFLICT: &str = "a refresh token with this hash";

/// The columns an access token is inserted with, in the order of its binds.
macro_rules! access_columns {
    () => {
        "token_hash, application_id, user_id, scope, expires_at, created_at, \
         authorization_code_id, claims, resource, dpop_jkt"
    };
}
pub(crate) use access_columns;

/// The columns a refresh token is inserted with, in the order of its binds.
macro_rules! refresh_columns {
    () => {
        "token_hash, application_id, user_id, access_token_id, family, scope, expires_at, \
         created_at, authorization_code_id, auth_time, claims, resource, dpop_jkt, sid"
    };
}
pub(crate) use refresh_columns;

/// `INSERT` of an access token on any executor, returning its id.
macro_rules! insert_access {
    ($executor:expr, $new:expr, $now:expr) => {
        sqlx::query_scalar::<_, i64>(concat!(
            "INSERT INTO tollgate_access_tokens (",
            $crate::tokens::access_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id"
        ))
        .bind($new.token_hash.as_bytes())
        .bind($new.application_id)
        .bind($new.user_id)
        .bind(&$new.scope)
        .bind($new.expires_at)
        .bind($now)
        .bind($new.authorization_code_id)
        .bind(&$new.claims)
        .bind($new.resource.to_string())
        .bind(&$new.dpop_jkt)
        .fetch_one($executor)
    };
}
pub(crate) use insert_access;

/// `INSERT` of a refresh token carrying `$access_token_id`, returning its id.
macro_rules! insert_refresh {
    ($executor:expr, $new:expr, $access_token_id:expr, $now:expr) => {
        sqlx::query_scalar::<_, i64>(concat!(
            "INSERT INTO tollgate_refresh_tokens (",
            $crate::tokens::refresh_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id"
        ))
        .bind($new.token_hash.as_bytes())
        .bind($new.application_id)
        .bind($new.user_id)
        .bind($access_token_id)
        .bind(&$new.family)
        .bind(&$new.scope)
        .bind($new.expires_at)
        .bind($now)
        .bind($new.authorization_code_id)
        .bind($new.auth_time)
        .bind(&$new.claims)
        .bind($new.resource.to_string())
        .bind(&$new.dpop_jkt)
        .bind(&$new.sid)
        .fetch_one($executor)
    };
}
pub(crate) use insert_refresh;

/// `INSERT` of an ID token's record on any executor, returning its id.
macro_rules! insert_id_token {
    ($executor:expr, $new:expr, $now:expr) => {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO tollgate_id_tokens (jti, application_id, user_id, scope, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&$new.jti)
        .bind($new.application_id)
        .bind($new.user_id)
        .bind(&$new.scope)
        .bind($new.expires_at)
        .bind($now)
        .fetch_one($executor)
    };
}
pub(crate) use insert_id_token;

/// Spends `$spend` on `$conn`, a transaction's connection, locking its row until
/// commit: `true` if this transaction spent it, `false` if another had.
macro_rules! spend {
    ($conn:expr, $spend:expr, $now:expr) => {
        async {
            match $spend {
                Spend::Code(id) => sqlx::query(
                    "UPDATE tollgate_authorization_codes SET redeemed_at = $2 \
                     WHERE id = $1 AND redeemed_at IS NULL",
                )
                .bind(id)
                .bind($now)
                .execute(&mut *$conn)
                .await
                .map(|done| done.rows_affected() == 1),
                Spend::RefreshToken(id) => {
                    let retired = sqlx::query(
                        "UPDATE tollgate_refresh_tokens SET revoked_at = $2, rotated = TRUE \
                         WHERE id = $1 AND revoked_at IS NULL",
                    )
                    .bind(id)
                    .bind($now)
                    .execute(&mut *$conn)
                    .await?
                    .rows_affected()
                        == 1;
                    // After the refresh token's lock, as every revocation does; the
                    // foreign key's ON DELETE SET NULL then unlinks it.
                    if retired {
                        sqlx::query(
                            "DELETE FROM tollgate_access_tokens WHERE id = \
                             (SELECT access_token_id FROM tollgate_refresh_tokens WHERE id = $1)",
                        )
                        .bind(id)
                        .execute(&mut *$conn)
                        .await?;
                    }
                    Ok(retired)
                }
                // Still rotated, not revoked with its family (which clears `rotated`);
                // the row stays locked, so a revocation under way waits for this
                // write and its next pass takes down what it wrote.
                // The refresh token is locked first, as revocations lock it, then
                // the access token it carried, so the two never wait in a circle.
                Spend::Carry(id) => {
                    let live = sqlx::query(
                        "UPDATE tollgate_refresh_tokens SET access_token_id = access_token_id \
                         WHERE id = $1 AND revoked_at IS NULL",
                    )
                    .bind(id)
                    .execute(&mut *$conn)
                    .await?
                    .rows_affected()
                        == 1;
                    if live {
                        sqlx::query(
                            "DELETE FROM tollgate_access_tokens WHERE id = \
                             (SELECT access_token_id FROM tollgate_refresh_tokens WHERE id = $1)",
                        )
                        .bind(id)
                        .execute(&mut *$conn)
                        .await?;
                    }
                    Ok(live)
                }
                Spend::Grace(id) => sqlx::query(
                    "UPDATE tollgate_refresh_tokens SET revoked_at = revoked_at \
                     WHERE id = $1 AND rotated",
                )
                .bind(id)
                .execute(&mut *$conn)
                .await
                .map(|done| done.rows_affected() == 1),
            }
        }
    };
}
pub(crate) use spend;

/// After the access token `$at` is written: a refresh token that carries it
/// without rotation ([`Spend::Carry`]) is pointed at it.
macro_rules! carry {
    ($conn:expr, $spends:expr, $at:expr) => {
        async {
            if let Some(Spend::Carry(id)) = $spends {
                sqlx::query(
                    "UPDATE tollgate_refresh_tokens SET access_token_id = $2 WHERE id = $1",
                )
                .bind(id)
                .bind($at)
                .execute(&mut *$conn)
                .await?;
            }
            Ok::<_, sqlx::Error>(())
        }
    };
}
pub(crate) use carry;

impl Store {
    /// Stores an access token alone (no refresh token, nothing spent); its row id.
    pub async fn insert_access_token(&self, new: &NewAccessToken, now: UnixTime) -> Result<i64> {
        let written = self.issue_tokens(new, None, None, now).await?;
        written.ok_or_else(|| StoreError::Write("a token spending nothing was refused".into()))
    }

    /// One indexed lookup; expiry is the caller's rule to apply.
    pub async fn access_token_by_hash(&self, hash: &SecretHash) -> Result<Option<AccessToken>> {
        let row: Option<AccessTokenRow> = on_db!(read &self.db, p => sqlx::query_as(
            "SELECT id, application_id, user_id, scope, resource, expires_at, created_at, \
             authorization_code_id, claims, dpop_jkt FROM tollgate_access_tokens WHERE token_hash = $1")
            .bind(hash.as_bytes())
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Into::into))
    }

    /// An access token with its client id and user, in one indexed lookup: what
    /// UserInfo and resource servers need. Expiry is the caller's rule to apply.
    pub async fn bearer_token(&self, hash: &SecretHash) -> Result<Option<BearerToken>> {
        if let Some(Found::Bearer(token)) = self.cache.get(hash, Lookup::Bearer) {
            return Ok(Some(*token));
        }
        let ticket = self.cache.ticket();
        let row: Option<BearerRow> = on_db!(read &self.db, p => sqlx::query_as(
            "SELECT t.id, t.application_id, t.user_id, t.scope, t.resource, t.expires_at, t.created_at, \
             t.authorization_code_id, t.claims, t.dpop_jkt, a.client_id, u.username, u.password_hash, \
             u.email, u.email_verified, u.given_name, u.family_name, u.phone_number, \
             u.phone_number_verified, u.address, u.active, u.staff, \
             u.created_at AS user_created_at, u.updated_at AS user_updated_at \
             FROM tollgate_access_tokens t JOIN tollgate_applications a ON a.id = t.application_id \
             LEFT JOIN tollgate_users u ON u.id = t.user_id WHERE t.token_hash = $1")
            .bind(hash.as_bytes())
            .fetch_optional(p)
            .await)?;
        let token: Option<BearerToken> = row.map(Into::into);
        if let Some(token) = &token {
            let found = Found::Bearer(Box::new(token.clone()));
            self.cache.keep(ticket, hash, Lookup::Bearer, found);
        }
        Ok(token)
    }

    /// Stores a refresh token alone, attached to `new.access_token_id`; its row id.
    pub async fn insert_refresh_token(&self, new: &NewRefreshToken, now: UnixTime) -> Result<i64> {
        on_db!(write &self.db, p => insert_refresh!(p, new, new.access_token_id, now).await)
            .map_err(StoreError::conflict_on(REFRESH_CONFLICT))
    }

    /// The refresh token whose value hashes to `hash`, revoked or not.
    pub async fn refresh_token_by_hash(&self, hash: &SecretHash) -> Result<Option<RefreshToken>> {
        let row: Option<RefreshTokenRow> = on_db!(read &self.db, p => sqlx::query_as(
            "SELECT id, application_id, user_id, access_token_id, family, scope, resource, expires_at, \
             created_at, revoked_at, rotated, authorization_code_id, auth_time, claims, dpop_jkt, sid \
             FROM tollgate_refresh_tokens \
             WHERE token_hash = $1")
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
        self.revoke_all_where("authorization_code_id = $1", code_id, now)
            .await
    }

    /// Revokes every token of a user, as logout does with DOT's
    /// `oidc_rp_initiated_logout_delete_tokens`. Returns how many refresh tokens it revoked.
    pub async fn revoke_user_tokens(&self, user_id: i64, now: UnixTime) -> Result<u64> {
        self.revoke_all_where("user_id = $1", user_id, now).await
    }

    /// Revokes the refresh tokens and deletes the access tokens that meet
    /// `condition`, a fixed SQL fragment with one bind, `$1`, valid on both tables.
    async fn revoke_all_where(
        &self,
        condition: &'static str,
        id: i64,
        now: UnixTime,
    ) -> Result<u64> {
        let revoked = self.revoke_refresh_tokens_where(condition, id, now).await?;
        let delete = format!("DELETE FROM tollgate_access_tokens WHERE {condition}");
        on_db!(revoking self, p => sqlx::query(AssertSqlSafe(delete))
            .bind(id)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(revoked)
    }

    /// `condition` is a fixed SQL fragment over `refresh_tokens` with one bind, `$1`.
    /// Refresh tokens are locked before access tokens, as rotation does: no deadlock.
    pub(crate) async fn revoke_refresh_tokens_where<T>(
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
        // Rotated members lose their grace too: a revoked family is unusable whole.
        let revoke = format!(
            "UPDATE tollgate_refresh_tokens SET revoked_at = COALESCE(revoked_at, $2), rotated = FALSE \
             WHERE {condition} AND (revoked_at IS NULL OR rotated)"
        );
        // A no-op on the oldest token first: concurrent revocations of one family queue
        // there instead of locking its tokens in orders that deadlock on PostgreSQL.
        let queue = format!(
            "UPDATE tollgate_refresh_tokens SET revoked_at = revoked_at WHERE id = \
             (SELECT MIN(id) FROM tollgate_refresh_tokens WHERE {condition})"
        );
        // The foreign key's ON DELETE SET NULL unlinks the refresh tokens.
        let delete_access = format!(
            "DELETE FROM tollgate_access_tokens WHERE id IN \
             (SELECT access_token_id FROM tollgate_refresh_tokens WHERE {condition})"
        );
        on_db!(revoking self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(AssertSqlSafe(queue)).bind(value.clone()).execute(&mut *tx).await?;
            let mut revoked = 0;
            // Until a pass finds nothing: a rotation committed during a pass (it held
            // a token this pass waited for) wrote a successor the pass could not see.
            loop {
                let pass = sqlx::query(AssertSqlSafe(revoke.clone()))
                    .bind(value.clone())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if pass == 0 {
                    break;
                }
                revoked += pass;
            }
            sqlx::query(AssertSqlSafe(delete_access)).bind(value).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(revoked)
        })
    }

    /// Records an ID token by its `jti` (the token itself is not kept); its row id.
    pub async fn insert_id_token(&self, new: &NewIdToken, now: UnixTime) -> Result<i64> {
        let id = on_db!(write &self.db, p => insert_id_token!(p, new, now).await)
            .map_err(StoreError::conflict_on("an ID token with this jti"))?;
        Ok(id)
    }
}

impl Store {
    /// Issues an access token and, optionally, the refresh token that carries it,
    /// in one transaction that first spends `spends`. Returns the access token's
    /// id, or `None` when another request had spent it: nothing is written.
    pub async fn issue_tokens(
        &self,
        access: &NewAccessToken,
        refresh: Option<&NewRefreshToken>,
        spends: Option<Spend>,
        now: UnixTime,
    ) -> Result<Option<i64>> {
        let written = self.write_tokens(access, refresh, spends, now).await;
        if let Some(Spend::RefreshToken(_) | Spend::Carry(_)) = spends {
            // The access token the refresh token carried was deleted.
            self.cache.drop_all();
        }
        written
    }

    async fn write_tokens(
        &self,
        access: &NewAccessToken,
        refresh: Option<&NewRefreshToken>,
        spends: Option<Spend>,
        now: UnixTime,
    ) -> Result<Option<i64>> {
        if let Some(batcher) = &self.batcher {
            let write = TokenWrite {
                access: access.clone(),
                refresh: refresh.cloned().map(Box::new),
                spends,
            };
            return batcher.submit(write, now).await;
        }
        if refresh.is_none() && spends.is_none() {
            // One statement needs no transaction.
            let at = on_db!(write &self.db, p => insert_access!(p, access, now).await)
                .map_err(StoreError::conflict_on(ACCESS_CONFLICT))?;
            return Ok(Some(at));
        }
        on_db!(write &self.db, p => {
            let mut tx = p.begin().await?;
            if let Some(spends) = spends
                && !spend!(&mut *tx, spends, now).await?
            {
                return Ok(None);
            }
            let at = insert_access!(&mut *tx, access, now)
                .await
                .map_err(StoreError::conflict_on(ACCESS_CONFLICT))?;
            carry!(&mut *tx, spends, at).await?;
            if let Some(refresh) = refresh {
                insert_refresh!(&mut *tx, refresh, Some(at), now)
                    .await
                    .map_err(StoreError::conflict_on(REFRESH_CONFLICT))?;
            }
            tx.commit().await?;
            Ok(Some(at))
        })
    }

    /// Spends `spends` without issuing anything, as a code redemption that failed
    /// a check does. `false` if another request had spent it.
    pub async fn spend(&self, spends: Spend, now: UnixTime) -> Result<bool> {
        on_db!(revoking self, p => {
            let mut tx = p.begin().await?;
            let spent = spend!(&mut *tx, spends, now).await?;
            tx.commit().await?;
            Ok(spent)
        })
    }

    /// Deletes an access token and revokes the refresh token carrying it (RFC 7009 §2.1).
    pub async fn revoke_access_token(&self, id: i64, now: UnixTime) -> Result<()> {
        on_db!(revoking self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE tollgate_refresh_tokens SET revoked_at = $2, access_token_id = NULL \
                 WHERE access_token_id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM tollgate_access_tokens WHERE id = $1").bind(id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Finds a token by hash, access tokens first, with its client's id and its
    /// user's name: what introspection and revocation need, one query per kind.
    pub async fn token_details(
        &self,
        hash: &SecretHash,
        refresh_first: bool,
    ) -> Result<Option<TokenDetails>> {
        let lookup = Lookup::Details { refresh_first };
        if let Some(Found::Details(details)) = self.cache.get(hash, lookup) {
            return Ok(Some(*details));
        }
        let ticket = self.cache.ticket();
        let order = if refresh_first {
            [TokenKind::Refresh, TokenKind::Access]
        } else {
            [TokenKind::Access, TokenKind::Refresh]
        };
        for kind in order {
            if let Some(found) = self.token_details_of(kind, hash).await? {
                let kept = Found::Details(Box::new(found.clone()));
                self.cache.keep(ticket, hash, lookup, kept);
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    async fn token_details_of(
        &self,
        kind: TokenKind,
        hash: &SecretHash,
    ) -> Result<Option<TokenDetails>> {
        let sql = format!("{} WHERE t.token_hash = $1", TokenDetailsRow::select(kind));
        let row: Option<TokenDetailsRow> = on_db!(read &self.db, p => sqlx::query_as(AssertSqlSafe(sql))
            .bind(hash.as_bytes())
            .fetch_optional(p)
            .await)?;
        Ok(row.map(|r| r.into_details(kind)))
    }
}
