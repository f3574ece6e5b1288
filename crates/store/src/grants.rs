//! What users have granted, as the pages show it: the clients a user authorized
//! (and taking that back), and tokens found by client or user for the staff.

use std::collections::BTreeMap;

use tollgate_core::env::UnixTime;
use tollgate_core::model::{AuthorizedApplication, TokenDetails, TokenKind};

use crate::rows::TokenDetailsRow;
use crate::{Result, Store, on_db};

/// How many tokens of each kind a staff search shows, newest first.
pub const TOKEN_SEARCH_LIMIT: i64 = 200;

impl Store {
    /// The clients `user_id` has authorized: a remembered consent or a token
    /// that still works, merged per client, by name.
    pub async fn authorized_applications(
        &self,
        user_id: i64,
        now: UnixTime,
    ) -> Result<Vec<AuthorizedApplication>> {
        // (application id, client id, name, scope, first and last time, is a live token)
        type Row = (i64, String, String, String, i64, i64, bool);
        let rows: Vec<Row> = on_db!(read &self.db, p => sqlx::query_as(
            "SELECT a.id, a.client_id, a.name, c.scope, c.created_at, c.updated_at, FALSE \
             FROM tollgate_consents c JOIN tollgate_applications a ON a.id = c.application_id \
             WHERE c.user_id = $1 \
             UNION ALL SELECT a.id, a.client_id, a.name, t.scope, t.created_at, t.created_at, TRUE \
             FROM tollgate_access_tokens t JOIN tollgate_applications a ON a.id = t.application_id \
             WHERE t.user_id = $1 AND t.expires_at > $2 \
             UNION ALL SELECT a.id, a.client_id, a.name, t.scope, t.created_at, t.created_at, TRUE \
             FROM tollgate_refresh_tokens t JOIN tollgate_applications a ON a.id = t.application_id \
             WHERE t.user_id = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)")
            .bind(user_id)
            .bind(now)
            .fetch_all(p)
            .await)?;
        let mut by_client: BTreeMap<i64, (AuthorizedApplication, Vec<String>)> = BTreeMap::new();
        for (application_id, client_id, name, scope, first, last, live) in rows {
            let (entry, scopes) = by_client.entry(application_id).or_insert_with(|| {
                let first = AuthorizedApplication {
                    application_id,
                    client_id,
                    name,
                    scope: String::new(),
                    granted_at: first,
                    last_used_at: last,
                    live_tokens: 0,
                };
                (first, Vec::new())
            });
            entry.granted_at = entry.granted_at.min(first);
            entry.last_used_at = entry.last_used_at.max(last);
            entry.live_tokens += u32::from(live);
            for s in scope.split_whitespace() {
                if !scopes.iter().any(|known| known == s) {
                    scopes.push(s.to_owned());
                }
            }
        }
        let mut list: Vec<AuthorizedApplication> = by_client
            .into_values()
            .map(|(mut entry, scopes)| {
                entry.scope = scopes.join(" ");
                entry
            })
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name).then(a.client_id.cmp(&b.client_id)));
        Ok(list)
    }

    /// Takes back what `user_id` granted a client: its codes and access tokens
    /// are deleted, its refresh tokens revoked, its consent forgotten.
    pub async fn revoke_authorization(
        &self,
        user_id: i64,
        application_id: i64,
        now: UnixTime,
    ) -> Result<()> {
        on_db!(revoking self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE tollgate_refresh_tokens SET revoked_at = COALESCE(revoked_at, $3), \
                 access_token_id = NULL, rotated = FALSE \
                 WHERE user_id = $1 AND application_id = $2 AND (revoked_at IS NULL OR rotated)")
                .bind(user_id)
                .bind(application_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            for table in [
                "tollgate_access_tokens",
                "tollgate_authorization_codes",
                "tollgate_consents",
            ] {
                let delete = format!("DELETE FROM {table} WHERE user_id = $1 AND application_id = $2");
                sqlx::query(sqlx::AssertSqlSafe(delete))
                    .bind(user_id)
                    .bind(application_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Tokens of a client (by client id) and/or a user (by username), newest
    /// first, at most [`TOKEN_SEARCH_LIMIT`] of each kind; never their values.
    pub async fn find_tokens(
        &self,
        client_id: Option<&str>,
        username: Option<&str>,
    ) -> Result<Vec<TokenDetails>> {
        const FILTER: &str = "(CAST($1 AS TEXT) IS NULL OR a.client_id = $1) \
             AND (CAST($2 AS TEXT) IS NULL OR u.username = $2) \
             ORDER BY t.created_at DESC, t.id DESC LIMIT $3";
        let mut found = Vec::new();
        for kind in [TokenKind::Access, TokenKind::Refresh] {
            let sql = format!("{} WHERE {FILTER}", TokenDetailsRow::select(kind));
            let rows: Vec<TokenDetailsRow> = on_db!(read &self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(client_id)
                .bind(username)
                .bind(TOKEN_SEARCH_LIMIT)
                .fetch_all(p)
                .await)?;
            found.extend(rows.into_iter().map(|r| r.into_details(kind)));
        }
        Ok(found)
    }

    /// Revokes a refresh token by id, with its whole rotation family and the
    /// access tokens they carry.
    pub async fn revoke_refresh_token(&self, id: i64, now: UnixTime) -> Result<u64> {
        self.revoke_refresh_tokens_where(
            "family = (SELECT family FROM tollgate_refresh_tokens WHERE id = $1)",
            id,
            now,
        )
        .await
    }
}
