use tollgate_core::SecretHash;
use tollgate_core::device::{DEVICE_POLL_SLOWDOWN, DeviceStatus};
use tollgate_core::env::UnixTime;
use tollgate_core::model::{DeviceCode, NewDeviceCode};
use tollgate_core::resource_indicator::Resources;

use crate::{Result, Store, StoreError, on_db};

const COLUMNS: &str = "id, application_id, scope, status, user_id, auth_time, poll_interval, \
     last_polled_at, expires_at, created_at, resource";

type Row = (
    i64,
    i64,
    String,
    String,
    Option<i64>,
    Option<i64>,
    i64,
    Option<i64>,
    i64,
    i64,
    String,
);

fn device_code(r: Row) -> Result<DeviceCode> {
    Ok(DeviceCode {
        id: r.0,
        application_id: r.1,
        scope: r.2,
        resource: Resources::stored(&r.10),
        status: DeviceStatus::parse(&r.3)
            .ok_or_else(|| StoreError::Corrupt(format!("device code status `{}`", r.3)))?,
        user_id: r.4,
        auth_time: r.5,
        poll_interval: r.6,
        last_polled_at: r.7,
        expires_at: r.8,
        created_at: r.9,
    })
}

impl Store {
    /// Stores a pending device authorization; a user code already in use is a
    /// [`StoreError::Conflict`] (the caller draws another).
    pub async fn insert_device_code(&self, new: &NewDeviceCode, now: UnixTime) -> Result<i64> {
        on_db!(write &self.db, p => sqlx::query_scalar(
            "INSERT INTO tollgate_device_codes (device_code_hash, user_code_hash, application_id, \
             scope, status, poll_interval, expires_at, created_at, resource) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8) RETURNING id")
            .bind(new.device_code_hash.as_bytes())
            .bind(new.user_code_hash.as_bytes())
            .bind(new.application_id)
            .bind(&new.scope)
            .bind(new.poll_interval)
            .bind(new.expires_at)
            .bind(now)
            .bind(new.resource.to_string())
            .fetch_one(p)
            .await)
        .map_err(StoreError::conflict_on("a device code with this user code"))
    }

    async fn device_code_where(
        &self,
        column: &'static str,
        hash: &SecretHash,
    ) -> Result<Option<DeviceCode>> {
        let sql = format!("SELECT {COLUMNS} FROM tollgate_device_codes WHERE {column} = $1");
        let row: Option<Row> = on_db!(read &self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(hash.as_bytes())
            .fetch_optional(p)
            .await)?;
        row.map(device_code).transpose()
    }

    /// The device authorization whose user code (normalised, without its dash) hashes to `hash`.
    pub async fn device_code_by_user_code(&self, hash: &SecretHash) -> Result<Option<DeviceCode>> {
        self.device_code_where("user_code_hash", hash).await
    }

    /// The device authorization whose device code hashes to `hash`.
    pub async fn device_code_by_device_code(
        &self,
        hash: &SecretHash,
    ) -> Result<Option<DeviceCode>> {
        self.device_code_where("device_code_hash", hash).await
    }

    /// Records a user's approval or denial of a pending, unexpired device
    /// authorization; `false` if it was no longer pending.
    pub async fn decide_device_code(
        &self,
        id: i64,
        user_id: i64,
        approved: bool,
        auth_time: UnixTime,
        now: UnixTime,
    ) -> Result<bool> {
        let status = if approved {
            DeviceStatus::Approved
        } else {
            DeviceStatus::Denied
        };
        let changed = on_db!(write &self.db, p => sqlx::query(
            "UPDATE tollgate_device_codes SET status = $2, user_id = $3, auth_time = $4 \
             WHERE id = $1 AND status = 'pending' AND expires_at > $5")
            .bind(id)
            .bind(status.as_str())
            .bind(user_id)
            .bind(auth_time)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// Notes a poll at `now`, and on `slow_down` makes the interval 5 s longer (RFC 8628 §3.5).
    pub async fn record_device_poll(&self, id: i64, slow_down: bool, now: UnixTime) -> Result<()> {
        on_db!(write &self.db, p => sqlx::query(
            "UPDATE tollgate_device_codes SET last_polled_at = $2, \
             poll_interval = poll_interval + $3 WHERE id = $1")
            .bind(id)
            .bind(now)
            .bind(if slow_down { DEVICE_POLL_SLOWDOWN } else { 0 })
            .execute(p)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Marks an approved device authorization used; `true` only for the one
    /// request that does, so its tokens are issued once.
    pub async fn consume_device_code(&self, id: i64) -> Result<bool> {
        let changed = on_db!(write &self.db, p => sqlx::query(
            "UPDATE tollgate_device_codes SET status = 'used' WHERE id = $1 AND status = 'approved'")
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }
}
