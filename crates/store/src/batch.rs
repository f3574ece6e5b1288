//! Group commit for SQLite: token inserts from concurrent requests are written
//! by one task in one transaction, so a commit's page writes are paid once per
//! batch instead of once per token. A batch is whatever queued while the
//! previous one was committing: no request ever waits for others to arrive.

use sqlx::{Acquire, Sqlite, SqlitePool, Transaction};
use tokio::sync::{mpsc, oneshot};
use tollgate_core::env::UnixTime;
use tollgate_core::model::{NewAccessToken, NewRefreshToken, Spend};

use crate::tokens::{ACCESS_CONFLICT, REFRESH_CONFLICT, insert_access, insert_refresh, spend};
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
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        let result = match isolation {
            Isolation::Straight => write_one(&mut tx, &job.write, job.now).await,
            Isolation::SavepointPerJob => in_savepoint(&mut tx, job).await,
        };
        if result.is_err() && isolation == Isolation::Straight {
            tx.rollback().await?;
            return Ok(vec![result]);
        }
        results.push(result);
    }
    tx.commit().await?;
    Ok(results)
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
    if let Some(refresh) = &write.refresh {
        insert_refresh!(&mut **tx, refresh, Some(at), now)
            .await
            .map_err(StoreError::conflict_on(REFRESH_CONFLICT))?;
    }
    Ok(Some(at))
}
