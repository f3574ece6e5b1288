//! Group commit for SQLite: token inserts from concurrent requests are written
//! by one task in one transaction, so a commit's page writes are paid once per
//! batch instead of once per token. A batch is whatever queued while the
//! previous one was committing: no request ever waits for others to arrive.

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};
use tollgate_core::env::UnixTime;
use tollgate_core::model::{NewAccessToken, NewRefreshToken};

use crate::tokens::{ACCESS_CONFLICT, REFRESH_CONFLICT, insert_access, insert_refresh};
use crate::{Result, StoreError};

/// Most writes one transaction takes.
const MAX_BATCH: usize = 256;
/// Requests waiting beyond this many are held back (backpressure).
const QUEUE: usize = 4096;

pub(crate) enum TokenWrite {
    Access(NewAccessToken),
    /// An access token and the refresh token that carries it.
    Pair(NewAccessToken, Box<NewRefreshToken>),
}

struct Job {
    write: TokenWrite,
    now: UnixTime,
    reply: oneshot::Sender<Result<i64>>,
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

    /// Queues a write and waits for its batch to commit; returns the access token's id.
    pub async fn submit(&self, write: TokenWrite, now: UnixTime) -> Result<i64> {
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

/// One result per job. A constraint violation fails its own job only (SQLite
/// rolls back just that statement); a failed commit fails them all.
async fn write(pool: &SqlitePool, jobs: &[Job]) -> Vec<Result<i64>> {
    let fail_all = |e: sqlx::Error| {
        jobs.iter()
            .map(|_| Err(StoreError::Write(e.to_string())))
            .collect()
    };
    let mut tx = match pool.begin().await {
        Ok(tx) => tx,
        Err(e) => return fail_all(e),
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        let result = match &job.write {
            TokenWrite::Access(access) => insert_access!(&mut *tx, access, job.now)
                .await
                .map_err(StoreError::conflict_on(ACCESS_CONFLICT)),
            TokenWrite::Pair(access, refresh) => {
                match insert_access!(&mut *tx, access, job.now).await {
                    Ok(at) => insert_refresh!(&mut *tx, refresh, Some(at), job.now)
                        .await
                        .map(|_| at)
                        .map_err(StoreError::conflict_on(REFRESH_CONFLICT)),
                    Err(e) => Err(StoreError::conflict_on(ACCESS_CONFLICT)(e)),
                }
            }
        };
        results.push(result);
    }
    match tx.commit().await {
        Ok(()) => results,
        Err(e) => fail_all(e),
    }
}
