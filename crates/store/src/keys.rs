use tollgate_core::env::UnixTime;
use tollgate_core::model::{NewSigningKey, SigningKey};

use crate::rows::SigningKeyRow;
use crate::{Result, Store, StoreError, on_db};

macro_rules! columns {
    () => {
        "id, kid, algorithm, private_key_pem, public_jwk, created_at, activates_at, retire_at"
    };
}

/// Supersedes the keys of `$new`'s algorithm (they retire at `$retire_at`, or
/// earlier if due) and inserts `$new`, on a transaction; returns its row.
macro_rules! supersede_and_insert_key {
    ($tx:expr, $new:expr, $retire_at:expr, $now:expr) => {
        async {
            sqlx::query(
                "UPDATE tollgate_signing_keys SET retire_at = $1 \
                 WHERE algorithm = $2 AND (retire_at IS NULL OR retire_at > $1)",
            )
            .bind($retire_at)
            .bind($new.algorithm.as_str())
            .execute(&mut *$tx)
            .await?;
            sqlx::query_as::<_, crate::rows::SigningKeyRow>(
                "INSERT INTO tollgate_signing_keys (kid, algorithm, private_key_pem, public_jwk, \
                 created_at, activates_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING \
                 id, kid, algorithm, private_key_pem, public_jwk, created_at, activates_at, retire_at",
            )
            .bind(&$new.kid)
            .bind($new.algorithm.as_str())
            .bind(&$new.private_key_pem)
            .bind(&$new.public_jwk)
            .bind($now)
            .bind($new.activates_at)
            .fetch_one(&mut *$tx)
            .await
        }
    };
}
pub(crate) use supersede_and_insert_key;

impl Store {
    /// Stores a key. The keys of its algorithm (the ones it supersedes) retire at
    /// `retire_superseded_at`, or earlier if they were due to already.
    pub async fn insert_signing_key(
        &self,
        new: &NewSigningKey,
        retire_superseded_at: UnixTime,
        now: UnixTime,
    ) -> Result<SigningKey> {
        let row: SigningKeyRow = on_db!(write &self.db, p => {
            let mut tx = p.begin().await?;
            let row = supersede_and_insert_key!(tx, new, retire_superseded_at, now)
                .await
                .map_err(StoreError::conflict_on("a signing key with this kid"))?;
            tx.commit().await?;
            Ok::<_, StoreError>(row)
        })?;
        row.try_into()
    }

    /// Stores `new` unless its algorithm has a key not retired by `now`, and
    /// returns it if stored: of nodes making their first keys at the same
    /// moment, one key per algorithm is kept and every node signs with it.
    pub async fn insert_first_signing_key(
        &self,
        new: &NewSigningKey,
        now: UnixTime,
    ) -> Result<Option<SigningKey>> {
        let sql = concat!(
            "INSERT INTO tollgate_signing_keys (kid, algorithm, private_key_pem, public_jwk, \
             created_at, activates_at) SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS \
             (SELECT 1 FROM tollgate_signing_keys WHERE algorithm = $2 \
             AND (retire_at IS NULL OR retire_at > $5)) RETURNING ",
            columns!()
        );
        let row: Option<SigningKeyRow> = on_db!(write &self.db, p => {
            let mut tx = p.begin().await?;
            // Under PostgreSQL's READ COMMITTED two nodes would both see no key;
            // the lock queues them. (A SQLite write statement holds the one write lock.)
            if matches!(self.db, crate::Db::Postgres(_)) {
                sqlx::query("LOCK TABLE tollgate_signing_keys IN SHARE ROW EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
            }
            let row = sqlx::query_as(sql)
                .bind(&new.kid)
                .bind(new.algorithm.as_str())
                .bind(&new.private_key_pem)
                .bind(&new.public_jwk)
                .bind(now)
                .bind(new.activates_at)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::conflict_on("a signing key with this kid"))?;
            tx.commit().await?;
            Ok::<_, StoreError>(row)
        })?;
        row.map(TryInto::try_into).transpose()
    }

    /// Every key not retired before `now`, the most recently made first.
    pub async fn signing_keys(&self, now: UnixTime) -> Result<Vec<SigningKey>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM tollgate_signing_keys WHERE retire_at IS NULL OR retire_at > $1 \
             ORDER BY id DESC"
        );
        let rows: Vec<SigningKeyRow> =
            on_db!(read &self.db, p => sqlx::query_as(sql).bind(now).fetch_all(p).await)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
