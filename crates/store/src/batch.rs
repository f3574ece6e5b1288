//! Group commit for SQLite: token inserts from concurrent requests are written
//! by one task in one transaction, so a commit's page writes are paid once per
//! batch instead of once per token. A batch is whatever queued while the
//! previous one was committing: no request ever waits for others to arrive.
//!
//! A batch's tokens go in a few multi-row `INSERT`s, not one statement each:
//! sqlx runs each SQLite statement on the connection's own thread, and the
//! hop there and back (two context switches) cost more than the insert.

use std::collections::HashMap;

use sqlx::{Acquire, QueryBuilder, Sqlite, SqlitePool, Transaction};
use tokio::sync::{mpsc, oneshot};
use tollgate_core::env::UnixTime;
use tollgate_core::model::{NewAccessToken, NewRefreshToken, Spend};

use crate::tokens::{
    ACCESS_CONFLICT, REFRESH_CONFLICT, access_columns, carry, insert_access, insert_refresh,
    refresh_columns, spend,
};
use crate::{Result, StoreError};

/// Most writes one transaction takes.
const MAX_BATCH: usize = 256;
/// Requests waiting beyond this many are held back (backpressure).
const QUEUE: usize = 4096;

/// An access token, the refresh token that carries it if any, and what they
/// spend: a spend another request made first leaves the job without tokens.
pub(crate) struct TokenWrite {
    pub access: NewAccessToken,
    pub refresh: Option<Box<NewRefreshToken>>,
    pub spends: Option<Spend>,
}

struct Job {
    write: TokenWrite,
    now: UnixTime,
    reply: oneshot::Sender<Result<Option<i64>>>,
}

#[derive(Clone, Debug)]
pub(crate) struct TokenBatcher {
    jobs: mpsc::Sender<Job>,
}

impl TokenBatcher {
    /// Starts the writer task on the current runtime; it ends when every
    /// handle to the store is gone.
    pub fn spawn(pool: SqlitePool) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, queue));
        TokenBatcher { jobs }
    }

    /// Queues a write and waits for its batch to commit; returns the access
    /// token's id, `None` if what it spends was spent.
    pub async fn submit(&self, write: TokenWrite, now: UnixTime) -> Result<Option<i64>> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Write("the token writer has stopped".into());
        self.jobs
            .send(Job { write, now, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(pool: SqlitePool, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Named in tollgate's telemetry module, beside the other metrics.
        metrics::histogram!("tollgate_token_batch_size").record(batch.len() as f64);
        let results = write(&pool, &batch).await;
        for (job, result) in batch.drain(..).zip(results) {
            let _ = job.reply.send(result);
        }
    }
}

/// One result per job. A failing job leaves none of its writes (a spent code,
/// an access token without its refresh token) while the others commit: the
/// batch is written straight, and only if a job fails is it rolled back and
/// written again with a savepoint per job. Jobs almost never fail (a conflict
/// on a 256-bit hash), so the common batch pays no savepoint statements, two
/// more hops to SQLite's thread per token. A failed commit fails them all.
async fn write(pool: &SqlitePool, jobs: &[Job]) -> Vec<Result<Option<i64>>> {
    match write_batch(pool, jobs, Isolation::Straight).await {
        Ok(results) if results.iter().all(Result::is_ok) => results,
        Ok(_) => match write_batch(pool, jobs, Isolation::SavepointPerJob).await {
            Ok(results) => results,
            Err(e) => fail_all(jobs, &e),
        },
        Err(e) => fail_all(jobs, &e),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Isolation {
    /// In the batch's transaction, to be rolled back whole if a job fails.
    Straight,
    /// Each job in a savepoint of its own.
    SavepointPerJob,
}

/// The batch in one transaction, committed unless written straight with a job failing.
async fn write_batch(
    pool: &SqlitePool,
    jobs: &[Job],
    isolation: Isolation,
) -> Result<Vec<Result<Option<i64>>>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let results = match isolation {
        Isolation::Straight => match write_straight(&mut tx, jobs).await {
            Ok(results) => results,
            Err(e) => {
                tx.rollback().await?;
                return Ok(vec![Err(e)]);
            }
        },
        Isolation::SavepointPerJob => {
            let mut results = Vec::with_capacity(jobs.len());
            for job in jobs {
                results.push(in_savepoint(&mut tx, job).await);
            }
            results
        }
    };
    tx.commit().await?;
    Ok(results)
}

/// Spends first, one statement each (rare: code exchanges and refreshes); then
/// the access tokens of the jobs still standing, then their refresh tokens, a
/// few rows per statement.
async fn write_straight(
    tx: &mut Transaction<'_, Sqlite>,
    jobs: &[Job],
) -> Result<Vec<Result<Option<i64>>>> {
    let mut standing = Vec::with_capacity(jobs.len());
    for job in jobs {
        let spent = match job.write.spends {
            Some(spends) => spend!(&mut **tx, spends, job.now).await?,
            None => true,
        };
        standing.push(spent);
    }
    let writes: Vec<&Job> = jobs
        .iter()
        .zip(&standing)
        .filter_map(|(job, spent)| spent.then_some(job))
        .collect();
    let ids = insert_accesses(tx, &writes).await?;
    let access_id = |job: &Job| ids.get(job.write.access.token_hash.as_bytes()).copied();
    for job in &writes {
        carry!(&mut **tx, job.write.spends, access_id(job)).await?;
    }
    let refreshes: Vec<Carried> = writes
        .iter()
        .filter_map(|job| Some((job.write.refresh.as_deref()?, job)))
        .map(|(refresh, job)| access_id(job).map(|id| (refresh, job.now, id)))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            StoreError::Write("an inserted access token came back without its id".into())
        })?;
    insert_refreshes(tx, &refreshes).await?;
    Ok(jobs
        .iter()
        .zip(standing)
        .map(|(job, spent)| Ok(if spent { access_id(job) } else { None }))
        .collect())
}

/// Rows per statement, largest first: a batch of `n` takes one statement per
/// bit set in `n`, and the connection keeps at most one prepared statement per size.
const CHUNKS: [usize; 9] = [256, 128, 64, 32, 16, 8, 4, 2, 1];

fn chunked<T>(mut items: &[T]) -> Vec<&[T]> {
    let mut chunks = Vec::new();
    for size in CHUNKS {
        if items.len() >= size {
            let (chunk, rest) = items.split_at(size);
            chunks.push(chunk);
            items = rest;
        }
    }
    chunks
}

/// Inserts the jobs' access tokens; their ids by token hash (the order of
/// `RETURNING` rows is not guaranteed).
async fn insert_accesses(
    tx: &mut Transaction<'_, Sqlite>,
    jobs: &[&Job],
) -> Result<HashMap<Vec<u8>, i64>> {
    let mut ids = HashMap::with_capacity(jobs.len());
    for chunk in chunked(jobs) {
        let mut sql = QueryBuilder::<Sqlite>::new(concat!(
            "INSERT INTO tollgate_access_tokens (",
            access_columns!(),
            ") "
        ));
        sql.push_values(chunk, |mut row, job| {
            let new = &job.write.access;
            row.push_bind(new.token_hash.as_bytes().to_vec())
                .push_bind(new.application_id)
                .push_bind(new.user_id)
                .push_bind(new.scope.clone())
                .push_bind(new.expires_at)
                .push_bind(job.now)
                .push_bind(new.authorization_code_id)
                .push_bind(new.claims.clone())
                .push_bind(new.resource.to_string())
                .push_bind(new.dpop_jkt.clone());
        });
        sql.push(" RETURNING token_hash, id");
        let rows: Vec<(Vec<u8>, i64)> = sql
            .build_query_as()
            .fetch_all(&mut **tx)
            .await
            .map_err(StoreError::conflict_on(ACCESS_CONFLICT))?;
        ids.extend(rows);
    }
    Ok(ids)
}

/// A refresh token to insert, when, and the id of the access token it carries.
type Carried<'a> = (&'a NewRefreshToken, UnixTime, i64);

/// Inserts the refresh tokens.
async fn insert_refreshes(
    tx: &mut Transaction<'_, Sqlite>,
    refreshes: &[Carried<'_>],
) -> Result<()> {
    for chunk in chunked(refreshes) {
        let mut sql = QueryBuilder::<Sqlite>::new(concat!(
            "INSERT INTO tollgate_refresh_tokens (",
            refresh_columns!(),
            ") "
        ));
        sql.push_values(chunk, |mut row, &(new, now, access_id)| {
            row.push_bind(new.token_hash.as_bytes().to_vec())
                .push_bind(new.application_id)
                .push_bind(new.user_id)
                .push_bind(access_id)
                .push_bind(new.family.clone())
                .push_bind(new.scope.clone())
                .push_bind(new.expires_at)
                .push_bind(now)
                .push_bind(new.authorization_code_id)
                .push_bind(new.auth_time)
                .push_bind(new.claims.clone())
                .push_bind(new.resource.to_string())
                .push_bind(new.dpop_jkt.clone())
                .push_bind(new.sid.clone());
        });
        sql.build()
            .execute(&mut **tx)
            .await
            .map_err(StoreError::conflict_on(REFRESH_CONFLICT))?;
    }
    Ok(())
}

fn fail_all(jobs: &[Job], e: &sqlx::Error) -> Vec<Result<Option<i64>>> {
    jobs.iter()
        .map(|_| Err(StoreError::Write(e.to_string())))
        .collect()
}

async fn in_savepoint(tx: &mut Transaction<'_, Sqlite>, job: &Job) -> Result<Option<i64>> {
    let mut savepoint = tx.begin().await?;
    match write_one(&mut savepoint, &job.write, job.now).await {
        Ok(written) => {
            savepoint.commit().await?;
            Ok(written)
        }
        Err(e) => {
            savepoint.rollback().await?;
            Err(e)
        }
    }
}

async fn write_one(
    tx: &mut Transaction<'_, Sqlite>,
    write: &TokenWrite,
    now: UnixTime,
) -> Result<Option<i64>> {
    if let Some(spends) = write.spends
        && !spend!(&mut **tx, spends, now).await?
    {
        return Ok(None);
    }
    let at = insert_access!(&mut **tx, &write.access, now)
        .await
        .map_err(StoreError::conflict_on(ACCESS_CONFLICT))?;
    carry!(&mut **tx, write.spends, at).await?;
    if let Some(refresh) = &write.refresh {
        insert_refresh!(&mut **tx, refresh, Some(at), now)
            .await
            .map_err(StoreError::conflict_on(REFRESH_CONFLICT))?;
    }
    Ok(Some(at))
}

#[cfg(test)]
mod tests {
    use super::chunked;

    #[test]
    fn a_batch_takes_one_statement_per_bit_of_its_size() {
        let sizes = |n: usize| -> Vec<usize> {
            let items = vec![0; n];
            chunked(&items).iter().map(|c| c.len()).collect()
        };
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(13), [8, 4, 1]);
        assert_eq!(sizes(16), [16]);
        assert_eq!(sizes(256), [256]);
        assert_eq!(sizes(255), [128, 64, 32, 16, 8, 4, 2, 1]);
    }
}
