//! Writing what `tollgate import-dot` brought from another provider, in one
//! transaction: users under their own ids (their `sub`), clients by
//! `client_id`, tokens and codes by hash. Each record is written down in
//! `tollgate_imported` by its source key, and never imported twice: a second
//! run adds only what is new at the source, and cannot bring back what was
//! revoked or deleted here since. A refresh token revoked at the source since
//! is revoked here too.

use tollgate_core::env::UnixTime;
use tollgate_core::model::{
    NewAccessToken, NewApplication, NewAuthorizationCode, NewIdToken, NewRefreshToken,
    NewSigningKey, User,
};

use crate::applications::{columns, insert_application};
use crate::codes::insert_code;
use crate::keys::supersede_and_insert_key;
use crate::tokens::{insert_access, insert_id_token, insert_refresh};
use crate::{Db, Result, Store, StoreError};

/// A client, and when it was registered.
#[derive(Debug, Clone)]
pub struct ImportedApplication {
    /// The client, under its DOT `client_id`.
    pub application: NewApplication,
    /// When DOT registered it (Unix seconds).
    pub created_at: UnixTime,
}

/// An access token of the client `client_id` (the store fills in
/// `token.application_id`); `source_id` links its refresh token.
#[derive(Debug, Clone)]
pub struct ImportedAccessToken {
    /// Its id in DOT's `oauth2_provider_accesstoken`, which refresh tokens name.
    pub source_id: i64,
    /// The client it was issued to.
    pub client_id: String,
    /// The token, kept as its SHA-256.
    pub token: NewAccessToken,
    /// When DOT issued it (Unix seconds).
    pub created_at: UnixTime,
}

/// A refresh token of `client_id`, carrying the access token imported as
/// `access_token` (a `source_id`), possibly retired already.
#[derive(Debug, Clone)]
pub struct ImportedRefreshToken {
    /// The client it was issued to.
    pub client_id: String,
    /// The `source_id` of the access token it carries, if any.
    pub access_token: Option<i64>,
    /// The token, kept as its SHA-256.
    pub token: NewRefreshToken,
    /// When DOT issued it (Unix seconds).
    pub created_at: UnixTime,
    /// When DOT revoked or rotated it (Unix seconds); `None` while it is live.
    pub revoked_at: Option<UnixTime>,
    /// Retired by rotation: a replay of it is a reuse, which revokes its family.
    pub rotated: bool,
}

/// An authorization code of `client_id`, not yet redeemed.
#[derive(Debug, Clone)]
pub struct ImportedCode {
    /// The client it was issued to.
    pub client_id: String,
    /// The code, kept as its SHA-256, with its redirect URI and PKCE challenge.
    pub code: NewAuthorizationCode,
    /// When DOT issued it (Unix seconds).
    pub created_at: UnixTime,
}

/// The record of an ID token of `client_id`.
#[derive(Debug, Clone)]
pub struct ImportedIdToken {
    /// The client it was issued to.
    pub client_id: String,
    /// Its `jti`, subject and expiry.
    pub id_token: NewIdToken,
    /// When DOT issued it (Unix seconds).
    pub created_at: UnixTime,
}

/// A signing key that signs from now on; the keys of its algorithm it
/// supersedes stay published until `retire_superseded_at`.
#[derive(Debug, Clone)]
pub struct ImportedKey {
    /// DOT's RSA key, under its RFC 7638 `kid`.
    pub key: NewSigningKey,
    /// When the keys it supersedes leave the JWKS (Unix seconds): after their last ID token expires.
    pub retire_superseded_at: UnixTime,
}

/// Everything to write, in the order it is written.
#[derive(Debug, Clone, Default)]
pub struct Import {
    /// Django's users, under their own ids (the OIDC `sub` stays the same).
    pub users: Vec<User>,
    /// DOT's clients.
    pub applications: Vec<ImportedApplication>,
    /// Live access tokens.
    pub access_tokens: Vec<ImportedAccessToken>,
    /// Refresh tokens, live or retired (a retired one still detects reuse).
    pub refresh_tokens: Vec<ImportedRefreshToken>,
    /// Authorization codes not yet redeemed nor expired.
    pub codes: Vec<ImportedCode>,
    /// ID token records.
    pub id_tokens: Vec<ImportedIdToken>,
    /// DOT's OIDC RSA key, when it had one.
    pub key: Option<ImportedKey>,
}

/// Of one kind of record: how many were written, and how many were here already.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Written by this import.
    pub added: u64,
    /// Already here from an earlier import, left as they are.
    pub present: u64,
    /// Refresh tokens here that the source has revoked since they were imported.
    pub revoked: u64,
    /// Imported before and deleted here since (or whose client or user was):
    /// left deleted.
    pub gone: u64,
}

/// What an import wrote, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Users.
    pub users: Tally,
    /// Clients.
    pub applications: Tally,
    /// Access tokens.
    pub access_tokens: Tally,
    /// Refresh tokens.
    pub refresh_tokens: Tally,
    /// Authorization codes.
    pub codes: Tally,
    /// ID token records.
    pub id_tokens: Tally,
    /// Signing keys.
    pub keys: Tally,
}

impl ImportCounts {
    /// Whether the import wrote anything.
    pub fn changed(&self) -> bool {
        [
            self.users,
            self.applications,
            self.access_tokens,
            self.refresh_tokens,
            self.codes,
            self.id_tokens,
            self.keys,
        ]
        .iter()
        .any(|t| t.added > 0 || t.revoked > 0)
    }
}

/// Told of the records written so far: the kind, how many, of how many.
pub type Progress<'a> = &'a mut (dyn FnMut(&'static str, usize, usize) + Send);

/// Keys written down per statement: 3 parameters each, far below either
/// database's limit, and few statements for a large import.
const LEDGER_CHUNK: usize = 500;

/// Writes down `$keys` of `$kind` as imported; those written for the first
/// time (the others were imported before). A statement per chunk of keys.
macro_rules! first_imports {
    ($tx:expr, $kind:expr, $keys:expr, $now:expr) => {
        async {
            let keys: Vec<String> = $keys;
            let mut first = std::collections::HashSet::with_capacity(keys.len());
            for chunk in keys.chunks(LEDGER_CHUNK) {
                let rows: Vec<String> = (0..chunk.len())
                    .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
                    .collect();
                let sql = format!(
                    "INSERT INTO tollgate_imported (kind, source_key, imported_at) VALUES {} \
                     ON CONFLICT DO NOTHING RETURNING source_key",
                    rows.join(", ")
                );
                let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
                for key in chunk {
                    query = query.bind($kind).bind(key).bind($now);
                }
                first.extend(query.fetch_all(&mut *$tx).await?);
            }
            Ok::<_, sqlx::Error>(first)
        }
    };
}

/// The work of an import on one transaction, written once for both databases.
macro_rules! import_on {
    ($tx:expr, $import:expr, $now:expr, $progress:expr, $postgres:expr, $dry_run:expr) => {
        async {
            let import: &Import = $import;
            let mut counts = ImportCounts::default();
            let first = first_imports!(
                $tx,
                "user",
                import.users.iter().map(|u| u.id.to_string()).collect(),
                $now
            )
            .await?;
            let names: std::collections::HashMap<i64, String> =
                sqlx::query_as("SELECT id, username FROM tollgate_users")
                    .fetch_all(&mut *$tx)
                    .await?
                    .into_iter()
                    .collect();
            for (i, user) in import.users.iter().enumerate() {
                match names.get(&user.id) {
                    Some(name) if *name == user.username => counts.users.present += 1,
                    Some(name) => {
                        return Err(StoreError::Write(format!(
                            "user id {} is `{name}` here but `{}` in the source: their `sub` would change; import into a database without other users",
                            user.id, user.username
                        )));
                    }
                    None if !first.contains(&user.id.to_string()) => counts.users.gone += 1,
                    None => {
                        sqlx::query(
                            "INSERT INTO tollgate_users (id, username, password_hash, email, \
                             email_verified, given_name, family_name, phone_number, \
                             phone_number_verified, address, active, staff, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                        )
                        .bind(user.id)
                        .bind(&user.username)
                        .bind(&user.password_hash)
                        .bind(&user.email)
                        .bind(user.email_verified)
                        .bind(&user.given_name)
                        .bind(&user.family_name)
                        .bind(&user.phone_number)
                        .bind(user.phone_number_verified)
                        .bind(&user.address)
                        .bind(user.active)
                        .bind(user.staff)
                        .bind(user.created_at)
                        .bind(user.updated_at)
                        .execute(&mut *$tx)
                        .await
                        .map_err(|e| match e.as_database_error() {
                            Some(d) if d.is_unique_violation() => StoreError::Write(format!(
                                "username `{}` is taken here by another user id than its {}: import into a database without other users",
                                user.username, user.id
                            )),
                            _ => StoreError::Database(e),
                        })?;
                        counts.users.added += 1;
                    }
                }
                $progress("users", i + 1, import.users.len());
            }
            if $postgres && !$dry_run && counts.users.added > 0 {
                // Explicit ids leave the identity behind; it must never go back to a deleted user's id.
                sqlx::query(
                    "SELECT setval(s, GREATEST((SELECT MAX(id) FROM tollgate_users), \
                     COALESCE(pg_sequence_last_value(s::regclass), 1))) \
                     FROM (SELECT pg_get_serial_sequence('tollgate_users', 'id') AS s) AS q",
                )
                .execute(&mut *$tx)
                .await?;
            }
            let users_here: std::collections::HashSet<i64> = names
                .into_keys()
                .chain(import.users.iter().map(|u| u.id).filter(|id| first.contains(&id.to_string())))
                .collect();
            let first = first_imports!(
                $tx,
                "application",
                import.applications.iter().map(|a| a.application.client_id.clone()).collect(),
                $now
            )
            .await?;
            let mut client_ids: std::collections::HashMap<String, i64> =
                sqlx::query_as("SELECT client_id, id FROM tollgate_applications")
                    .fetch_all(&mut *$tx)
                    .await?
                    .into_iter()
                    .collect();
            for (i, imported) in import.applications.iter().enumerate() {
                let app = &imported.application;
                if client_ids.contains_key(&app.client_id) {
                    counts.applications.present += 1;
                } else if !first.contains(&app.client_id) {
                    counts.applications.gone += 1;
                } else {
                    let id = insert_application!(&mut *$tx, app, imported.created_at)
                        .await?
                        .id();
                    client_ids.insert(app.client_id.clone(), id);
                    counts.applications.added += 1;
                }
                $progress("applications", i + 1, import.applications.len());
            }
            // A token's client and user, if both are here: either may have been deleted since a first import.
            let owners = |client_id: &str, user_id: Option<i64>| {
                client_ids
                    .get(client_id)
                    .copied()
                    .filter(|_| user_id.is_none_or(|u| users_here.contains(&u)))
            };
            let first = first_imports!(
                $tx,
                "access token",
                import.access_tokens.iter().map(|t| t.token.token_hash.to_hex()).collect(),
                $now
            )
            .await?;
            let mut access_ids: std::collections::HashMap<i64, i64> = Default::default();
            for (i, imported) in import.access_tokens.iter().enumerate() {
                let mut token = imported.token.clone();
                if !first.contains(&token.token_hash.to_hex()) {
                    counts.access_tokens.present += 1;
                } else if let Some(id) = owners(&imported.client_id, token.user_id) {
                    token.application_id = id;
                    let id = insert_access!(&mut *$tx, token, imported.created_at).await?;
                    access_ids.insert(imported.source_id, id);
                    counts.access_tokens.added += 1;
                } else {
                    counts.access_tokens.gone += 1;
                }
                $progress("access tokens", i + 1, import.access_tokens.len());
            }
            let first = first_imports!(
                $tx,
                "refresh token",
                import.refresh_tokens.iter().map(|t| t.token.token_hash.to_hex()).collect(),
                $now
            )
            .await?;
            for (i, imported) in import.refresh_tokens.iter().enumerate() {
                let mut token = imported.token.clone();
                let new = first.contains(&token.token_hash.to_hex());
                if !new {
                    counts.refresh_tokens.present += 1;
                } else if let Some(id) = owners(&imported.client_id, token.user_id) {
                    token.application_id = id;
                    let access = imported.access_token.and_then(|a| access_ids.get(&a).copied());
                    insert_refresh!(&mut *$tx, token, access, imported.created_at).await?;
                    counts.refresh_tokens.added += 1;
                } else {
                    counts.refresh_tokens.gone += 1;
                }
                // Retired at the source: as it was when first imported, or since.
                if let Some(revoked_at) = imported.revoked_at {
                    let revoked = sqlx::query(
                        "UPDATE tollgate_refresh_tokens SET revoked_at = $2, rotated = $3 \
                         WHERE token_hash = $1 AND revoked_at IS NULL",
                    )
                    .bind(token.token_hash.as_bytes())
                    .bind(revoked_at)
                    .bind(imported.rotated)
                    .execute(&mut *$tx)
                    .await?
                    .rows_affected();
                    if !new {
                        counts.refresh_tokens.revoked += revoked;
                    }
                }
                $progress("refresh tokens", i + 1, import.refresh_tokens.len());
            }
            let first = first_imports!(
                $tx,
                "authorization code",
                import.codes.iter().map(|c| c.code.code_hash.to_hex()).collect(),
                $now
            )
            .await?;
            for (i, imported) in import.codes.iter().enumerate() {
                let mut code = imported.code.clone();
                if !first.contains(&code.code_hash.to_hex()) {
                    counts.codes.present += 1;
                } else if let Some(id) = owners(&imported.client_id, Some(code.user_id)) {
                    code.application_id = id;
                    insert_code!(&mut *$tx, code, imported.created_at).await?;
                    counts.codes.added += 1;
                } else {
                    counts.codes.gone += 1;
                }
                $progress("authorization codes", i + 1, import.codes.len());
            }
            let first = first_imports!(
                $tx,
                "ID token",
                import.id_tokens.iter().map(|t| t.id_token.jti.clone()).collect(),
                $now
            )
            .await?;
            for (i, imported) in import.id_tokens.iter().enumerate() {
                let mut id_token = imported.id_token.clone();
                if !first.contains(&id_token.jti) {
                    counts.id_tokens.present += 1;
                } else if let Some(id) = owners(&imported.client_id, id_token.user_id) {
                    id_token.application_id = id;
                    insert_id_token!(&mut *$tx, id_token, imported.created_at).await?;
                    counts.id_tokens.added += 1;
                } else {
                    counts.id_tokens.gone += 1;
                }
                $progress("ID tokens", i + 1, import.id_tokens.len());
            }
            if let Some(imported) = &import.key {
                let first = first_imports!($tx, "signing key", vec![imported.key.kid.clone()], $now)
                    .await?;
                let here: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM tollgate_signing_keys WHERE kid = $1")
                        .bind(&imported.key.kid)
                        .fetch_optional(&mut *$tx)
                        .await?;
                if here.is_some() || first.is_empty() {
                    counts.keys.present += 1;
                } else {
                    supersede_and_insert_key!($tx, imported.key, imported.retire_superseded_at, $now)
                        .await?;
                    counts.keys.added += 1;
                }
            }
            Ok::<_, StoreError>(counts)
        }
    };
}

impl Store {
    /// Writes `import` in one transaction, telling `progress` as it goes; with
    /// `dry_run`, rolls it back at the end, so the counts say what a real run
    /// would write. A user whose id or username is another user's here stops it
    /// all: their `sub` must not change. Tokens and codes are written only for
    /// clients and users that are here.
    pub async fn import(
        &self,
        import: &Import,
        dry_run: bool,
        now: UnixTime,
        progress: Progress<'_>,
    ) -> Result<ImportCounts> {
        match &self.db {
            Db::Sqlite(sqlite) => {
                let mut tx = sqlite.write.begin().await?;
                let counts = import_on!(tx, import, now, progress, false, dry_run).await?;
                finish(tx, dry_run).await?;
                Ok(counts)
            }
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let counts = import_on!(tx, import, now, progress, true, dry_run).await?;
                finish(tx, dry_run).await?;
                Ok(counts)
            }
        }
    }
}

async fn finish<DB: sqlx::Database>(tx: sqlx::Transaction<'_, DB>, dry_run: bool) -> Result<()> {
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(())
}
