use tollgate_core::env::UnixTime;
use tollgate_core::model::{NewSigningKey, SigningKey};

use crate::rows::SigningKeyRow;
use crate::{Result, Store, StoreError, on_db};

macro_rules! columns {
    () => {
        "id, kid, algorithm, private_key_pem, public_jwk, active, created_at, retire_at"
    };
}

impl Store {
    /// Stores a key; an active one takes over from the previous active key, which
    /// stays published until `retire_previous_at`.
    pub async fn insert_signing_key(
        &self,
        new: &NewSigningKey,
        retire_previous_at: UnixTime,
        now: UnixTime,
    ) -> Result<SigningKey> {
        let sql = concat!(
            "INSERT INTO signing_keys (kid, algorithm, private_key_pem, public_jwk, active, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
            columns!()
        );
        let row: SigningKeyRow = on_db!(write &self.db, p => {
            let mut tx = p.begin().await?;
            if new.active {
                sqlx::query("UPDATE signing_keys SET active = FALSE, retire_at = $1 WHERE active")
                    .bind(retire_previous_at)
                    .execute(&mut *tx)
                    .await?;
            }
            let row = sqlx::query_as(sql)
                .bind(&new.kid)
                .bind(new.algorithm.as_str())
                .bind(&new.private_key_pem)
                .bind(&new.public_jwk)
                .bind(new.active)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::conflict_on("a signing key with this kid"))?;
            tx.commit().await?;
            Ok::<_, StoreError>(row)
        })?;
        row.try_into()
    }

    /// The active key first, then the others newest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKey>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM signing_keys ORDER BY active DESC, created_at DESC, id DESC"
        );
        let rows: Vec<SigningKeyRow> =
            on_db!(read &self.db, p => sqlx::query_as(sql).fetch_all(p).await)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
