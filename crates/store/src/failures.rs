//! The throttle's memory: one row per failed attempt, counted over a window by
//! every node, and the addresses each subject has succeeded from.

use tollgate_core::env::UnixTime;
use tollgate_core::throttle::{Failures, Tally};

use crate::{Result, Store, on_db};

/// Whose attempt: `kind` keeps usernames, clients and device codes apart;
/// `subject` is already hashed; `address` is `""` when unknown.
#[derive(Debug, Clone, Copy)]
pub struct FailureKey<'a> {
    /// What is guessed at: `sign-in`, `client-secret` or `device-code`.
    pub kind: &'static str,
    /// SHA-256 of the username, client id or user id, as hex.
    pub subject: &'a str,
    /// The client's address, or `""` when it is unknown.
    pub address: &'a str,
}

/// How long an address a subject succeeded from stays familiar.
const FAMILIAR_FOR: i64 = 90 * 24 * 3600;

type TallyRow = (i64, Option<i64>, i64, Option<i64>, i64, Option<i64>, bool);

impl Store {
    /// Writes down one attempt as failed, before its secret is checked; the id
    /// lets [`Store::forget_failure`] take it back.
    pub async fn record_failure(&self, key: FailureKey<'_>, now: UnixTime) -> Result<i64> {
        let id: i64 = on_db!(write &self.db, p => sqlx::query_scalar(
            "INSERT INTO tollgate_failures (kind, subject, address, at) \
             VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(key.kind)
            .bind(key.subject)
            .bind(key.address)
            .bind(now)
            .fetch_one(p)
            .await)?;
        Ok(id)
    }

    /// The failures after `since`, other than attempt `except`, in one query.
    pub async fn failures(
        &self,
        key: FailureKey<'_>,
        since: UnixTime,
        except: i64,
    ) -> Result<Failures> {
        let row: TallyRow = on_db!(read &self.db, p => sqlx::query_as(
            "SELECT \
               COALESCE(SUM(CASE WHEN subject = $2 AND address = $3 THEN 1 ELSE 0 END), 0), \
               MAX(CASE WHEN subject = $2 AND address = $3 THEN at END), \
               COALESCE(SUM(CASE WHEN subject = $2 THEN 1 ELSE 0 END), 0), \
               MAX(CASE WHEN subject = $2 THEN at END), \
               COALESCE(SUM(CASE WHEN address = $3 THEN 1 ELSE 0 END), 0), \
               MAX(CASE WHEN address = $3 THEN at END), \
               EXISTS (SELECT 1 FROM tollgate_familiar_addresses \
                   WHERE kind = $1 AND subject = $2 AND address = $3 AND at > $6) \
             FROM tollgate_failures \
             WHERE kind = $1 AND at > $4 AND id <> $5 AND (subject = $2 OR address = $3)")
            .bind(key.kind)
            .bind(key.subject)
            .bind(key.address)
            .bind(since)
            .bind(except)
            .bind(since - FAMILIAR_FOR)
            .fetch_one(p)
            .await)?;
        let tally = |count: i64, last: Option<i64>| Tally {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            last,
        };
        Ok(Failures {
            pair: tally(row.0, row.1),
            subject: tally(row.2, row.3),
            address: (!key.address.is_empty()).then(|| tally(row.4, row.5)),
            familiar: row.6,
        })
    }

    /// Takes back an attempt that was refused before its secret was checked.
    pub async fn forget_failure(&self, id: i64) -> Result<()> {
        on_db!(write &self.db, p => sqlx::query("DELETE FROM tollgate_failures WHERE id = $1")
            .bind(id)
            .execute(p)
            .await
            .map(drop))?;
        Ok(())
    }

    /// A success: the subject's failures from this address were its own
    /// mistakes, forgiven, and the address becomes familiar.
    pub async fn forgive_failures(&self, key: FailureKey<'_>, now: UnixTime) -> Result<()> {
        on_db!(write &self.db, p => {
            let mut tx = p.begin().await?;
            sqlx::query(
                "DELETE FROM tollgate_failures WHERE kind = $1 AND subject = $2 AND address = $3")
                .bind(key.kind)
                .bind(key.subject)
                .bind(key.address)
                .execute(&mut *tx)
                .await?;
            if !key.address.is_empty() {
                sqlx::query(
                    "INSERT INTO tollgate_familiar_addresses (kind, subject, address, at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (kind, subject, address) \
                     DO UPDATE SET at = excluded.at")
                    .bind(key.kind)
                    .bind(key.subject)
                    .bind(key.address)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// Deletes failures older than `before` and familiar addresses long unused.
    pub(crate) async fn forget_old_failures(&self, before: UnixTime) -> Result<()> {
        on_db!(write &self.db, p => {
            sqlx::query("DELETE FROM tollgate_failures WHERE at <= $1")
                .bind(before)
                .execute(p)
                .await?;
            sqlx::query("DELETE FROM tollgate_familiar_addresses WHERE at <= $1")
                .bind(before - FAMILIAR_FOR)
                .execute(p)
                .await
                .map(drop)
        })?;
        Ok(())
    }
}
