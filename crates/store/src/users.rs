use tollgate_core::env::UnixTime;
use tollgate_core::model::{NewUser, User};

use crate::rows::UserRow;
use crate::{Db, Result, Store, StoreError, on_db};

macro_rules! columns {
    () => {
        "id, username, password_hash, email, email_verified, given_name, family_name, \
         phone_number, phone_number_verified, address, active, staff, created_at, updated_at"
    };
}

impl Store {
    /// Creates a user; a username already taken is [`StoreError::Conflict`].
    pub async fn create_user(&self, new: &NewUser, now: UnixTime) -> Result<User> {
        macro_rules! insert {
            ($id:literal) => {
                concat!(
                    "INSERT INTO tollgate_users (id, username, password_hash, email, email_verified, \
                     given_name, family_name, phone_number, phone_number_verified, address, active, \
                     staff, created_at, updated_at) \
                     VALUES (",
                    $id,
                    ", $1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, $10, $11, $11) RETURNING ",
                    columns!()
                )
            };
        }
        // The id is the OIDC `sub`: never one a deleted user had (migration 0011 on SQLite).
        let sql = match &self.db {
            Db::Sqlite(_) => insert!(
                "(SELECT max(highest_deleted, coalesce((SELECT max(id) FROM tollgate_users), 0)) + 1 \
                 FROM tollgate_user_id_floor)"
            ),
            Db::Postgres(_) => insert!("DEFAULT"),
        };
        let row: UserRow = on_db!(write &self.db, p => sqlx::query_as(sql)
            .bind(&new.username)
            .bind(&new.password_hash)
            .bind(&new.email)
            .bind(new.email_verified)
            .bind(&new.given_name)
            .bind(&new.family_name)
            .bind(&new.phone_number)
            .bind(new.phone_number_verified)
            .bind(&new.address)
            .bind(new.staff)
            .bind(now)
            .fetch_one(p)
            .await)
        .map_err(StoreError::conflict_on("a user with this username"))?;
        Ok(row.into())
    }

    /// Writes a user of an application's own directory under the application's
    /// id: inserted the first time, its profile replaced after. Tokens and sessions
    /// refer to this row; no password is kept.
    pub async fn mirror_user(&self, user: &User, now: UnixTime) -> Result<User> {
        let sql = concat!(
            "INSERT INTO tollgate_users (id, username, password_hash, email, email_verified, \
             given_name, family_name, phone_number, phone_number_verified, address, active, \
             staff, created_at, updated_at) \
             VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
             ON CONFLICT (id) DO UPDATE SET username = excluded.username, \
             email = excluded.email, email_verified = excluded.email_verified, \
             given_name = excluded.given_name, family_name = excluded.family_name, \
             phone_number = excluded.phone_number, \
             phone_number_verified = excluded.phone_number_verified, \
             address = excluded.address, active = excluded.active, staff = excluded.staff, \
             updated_at = excluded.updated_at RETURNING ",
            columns!()
        );
        let row: UserRow = on_db!(revoking self, p => sqlx::query_as(sql)
            .bind(user.id)
            .bind(&user.username)
            .bind(&user.email)
            .bind(user.email_verified)
            .bind(&user.given_name)
            .bind(&user.family_name)
            .bind(&user.phone_number)
            .bind(user.phone_number_verified)
            .bind(&user.address)
            .bind(user.active)
            .bind(user.staff)
            .bind(now)
            .fetch_one(p)
            .await)
        .map_err(StoreError::conflict_on("another user with this username"))?;
        Ok(row.into())
    }

    /// The user signing in as `username`, if any.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM tollgate_users WHERE username = $1"
        );
        let row: Option<UserRow> =
            on_db!(read &self.db, p => sqlx::query_as(sql).bind(username).fetch_optional(p).await)?;
        Ok(row.map(Into::into))
    }

    /// The user with this id, if any.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        let sql = concat!("SELECT ", columns!(), " FROM tollgate_users WHERE id = $1");
        let row: Option<UserRow> =
            on_db!(read &self.db, p => sqlx::query_as(sql).bind(id).fetch_optional(p).await)?;
        Ok(row.map(Into::into))
    }

    /// Activates or deactivates a user; an inactive user cannot sign in or use
    /// tokens, and deactivating ends their sessions.
    pub async fn set_user_active(&self, id: i64, active: bool, now: UnixTime) -> Result<()> {
        let changed = on_db!(revoking self, p => {
            let mut tx = p.begin().await?;
            let changed = sqlx::query(
                "UPDATE tollgate_users SET active = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(active)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if !active {
                sqlx::query("DELETE FROM tollgate_sessions WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await.map(|()| changed)
        })?;
        if changed == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(())
    }

    /// Deletes a user with everything that is theirs (foreign keys cascade):
    /// tokens, codes, consents, sessions, device codes, and the clients they own.
    pub async fn delete_user(&self, id: i64) -> Result<()> {
        let deleted = on_db!(revoking self, p => sqlx::query(
            "DELETE FROM tollgate_users WHERE id = $1")
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        if deleted == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(())
    }

    /// Every user, by username.
    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM tollgate_users ORDER BY lower(username), username"
        );
        let rows: Vec<UserRow> =
            on_db!(read &self.db, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Replaces a password hash Tollgate would not make now (Django's) by its
    /// argon2id after a sign-in verified it; only if it is still `old`, and the
    /// user's sessions go on.
    pub async fn upgrade_password_hash(
        &self,
        id: i64,
        old: &str,
        new: &str,
        now: UnixTime,
    ) -> Result<()> {
        self.replace_hash("tollgate_users", "password_hash", id, old, new, now)
            .await
    }

    /// Replaces a user's password hash (a PHC string) and ends their sessions.
    pub async fn set_user_password(
        &self,
        id: i64,
        password_hash: &str,
        now: UnixTime,
    ) -> Result<()> {
        on_db!(revoking self, p => {
            let mut tx = p.begin().await?;
            let changed = sqlx::query(
                "UPDATE tollgate_users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(password_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM tollgate_sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            if changed == 0 {
                return Err(StoreError::NotFound("user"));
            }
            Ok(())
        })
    }
}
