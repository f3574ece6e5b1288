use tollgate_core::SecretHash;
use tollgate_core::env::UnixTime;
use tollgate_core::model::{NewSession, Session, SessionClient};

use crate::{Result, Store, StoreError, on_db};

/// The clients with a back-channel logout URI that the sessions `$WHERE`
/// selects (`s`) signed in to; `$1` is the first bind.
macro_rules! session_clients_where {
    ($where:literal) => {
        concat!(
            "SELECT c.application_id, s.user_id, s.sid FROM tollgate_sessions s \
             JOIN tollgate_session_clients c ON c.session_id = s.id \
             JOIN tollgate_applications a ON a.id = c.application_id \
             WHERE a.backchannel_logout_uri IS NOT NULL AND ",
            $where,
            " ORDER BY s.id, c.application_id"
        )
    };
}

type SessionClientRow = (i64, i64, Option<String>);

fn session_clients(rows: Vec<SessionClientRow>) -> Vec<SessionClient> {
    rows.into_iter()
        .map(|(application_id, user_id, sid)| SessionClient {
            application_id,
            user_id,
            sid,
        })
        .collect()
}

impl Store {
    /// Stores a new sign-in session; its row id.
    pub async fn create_session(&self, new: &NewSession, now: UnixTime) -> Result<i64> {
        let id = on_db!(write &self.db, p => sqlx::query_scalar(
            "INSERT INTO tollgate_sessions (session_hash, user_id, auth_time, expires_at, created_at, sid) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(new.session_hash.as_bytes())
            .bind(new.user_id)
            .bind(new.auth_time)
            .bind(new.expires_at)
            .bind(now)
            .bind(&new.sid)
            .fetch_one(p)
            .await)
        .map_err(StoreError::conflict_on("a session with this hash"))?;
        Ok(id)
    }

    /// The live session a cookie names, if any.
    pub async fn session_by_hash(
        &self,
        hash: &SecretHash,
        now: UnixTime,
    ) -> Result<Option<Session>> {
        type Row = (i64, i64, i64, i64, i64, Option<String>);
        let row: Option<Row> = on_db!(read &self.db, p => sqlx::query_as(
            "SELECT id, user_id, auth_time, expires_at, created_at, sid FROM tollgate_sessions \
             WHERE session_hash = $1 AND expires_at > $2")
            .bind(hash.as_bytes())
            .bind(now)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(
            |(id, user_id, auth_time, expires_at, created_at, sid)| Session {
                id,
                user_id,
                auth_time,
                expires_at,
                created_at,
                sid,
            },
        ))
    }

    /// Notes that a session signed in to a client with a back-channel logout
    /// URI, which is told when the session ends; again is no error.
    pub async fn add_session_client(
        &self,
        session_id: i64,
        application_id: i64,
        now: UnixTime,
    ) -> Result<()> {
        on_db!(write &self.db, p => sqlx::query(
            "INSERT INTO tollgate_session_clients (session_id, application_id, created_at) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(session_id)
            .bind(application_id)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Ends the session whose cookie value hashes to `hash` (signing out): the
    /// clients to tell, read in the transaction that deletes it. None is no error.
    pub async fn delete_session(&self, hash: &SecretHash) -> Result<Vec<SessionClient>> {
        let rows = on_db!(write &self.db, p => {
            let mut tx = p.begin().await?;
            let rows: Vec<SessionClientRow> =
                sqlx::query_as(session_clients_where!("s.session_hash = $1"))
                    .bind(hash.as_bytes())
                    .fetch_all(&mut *tx)
                    .await?;
            sqlx::query("DELETE FROM tollgate_sessions WHERE session_hash = $1")
                .bind(hash.as_bytes())
                .execute(&mut *tx)
                .await?;
            tx.commit().await.map(|()| rows)
        })?;
        Ok(session_clients(rows))
    }

    /// The clients a user's live sessions signed in to: all of them, or the
    /// one `application_id` names.
    pub async fn user_session_clients(
        &self,
        user_id: i64,
        application_id: Option<i64>,
        now: UnixTime,
    ) -> Result<Vec<SessionClient>> {
        let rows: Vec<SessionClientRow> = on_db!(read &self.db, p => sqlx::query_as(
            session_clients_where!("s.user_id = $1 AND s.expires_at > $2 \
                 AND ($3 IS NULL OR c.application_id = $3)"))
            .bind(user_id)
            .bind(now)
            .bind(application_id)
            .fetch_all(p)
            .await)?;
        Ok(session_clients(rows))
    }
}
