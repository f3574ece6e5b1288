//! Tollgate's storage: one [`Store`] over SQLite (the embedded default) or
//! PostgreSQL. Both run the same SQL text where the dialects agree; only the
//! migrations differ, one folder per database.

#![warn(missing_docs)]

mod applications;
mod batch;
mod cleanup;
mod codes;
mod consents;
mod device_codes;
mod documents;
pub mod dot;
mod failures;
mod grants;
mod import;
mod keys;
mod pushed_requests;
mod rows;
mod sessions;
mod token_cache;
mod tokens;
mod used_jwt_ids;
mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};

pub use failures::FailureKey;
pub use grants::TOKEN_SEARCH_LIMIT;
pub use import::{
    Import, ImportCounts, ImportedAccessToken, ImportedApplication, ImportedCode, ImportedIdToken,
    ImportedKey, ImportedRefreshToken, Progress, Tally,
};
use tollgate_core::env::UnixTime;
pub use tollgate_core::model::*;

/// Runs `$body` with `$pool` bound to whichever native pool the store holds:
/// on SQLite, the reading pool or the one writing connection. The body is
/// written once and compiled for each database.
macro_rules! on_db {
    (read $db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite(sqlite) => {
                let $pool = &sqlite.read;
                $body
            }
            $crate::Db::Postgres($pool) => $body,
        }
    };
    (write $db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite(sqlite) => {
                let $pool = &sqlite.write;
                $body
            }
            $crate::Db::Postgres($pool) => $body,
        }
    };
    // A write that may revoke a token or change what a token lookup answers
    // (its user, its client): the token cache is dropped once it is done.
    (revoking $store:expr, $pool:ident => $body:expr) => {{
        let done = $crate::on_db!(write &$store.db, $pool => $body);
        $store.cache.drop_all();
        done
    }};
}
pub(crate) use on_db;

/// The native pools behind a store. Not sqlx's `Any` driver, which mishandles
/// booleans and cannot take an embedding application's own pool.
#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite: a pool for writes beside one for reads.
    Sqlite(SqliteDb),
    /// PostgreSQL: one pool.
    Postgres(PgPool),
}

/// SQLite allows one writer at a time. Writes go through a pool of one
/// connection, so they queue in-process instead of in SQLite's busy handler
/// (which sleeps in steps of milliseconds); reads share a pool of read-only
/// connections that WAL lets run beside the writer.
#[derive(Clone, Debug)]
pub struct SqliteDb {
    /// Read-only connections, as many as the pool allows.
    pub read: SqlitePool,
    /// The one connection that writes.
    pub write: SqlitePool,
}

impl SqliteDb {
    /// One pool for both, as an embedding application may hand over.
    pub fn single(pool: SqlitePool) -> Self {
        SqliteDb {
            read: pool.clone(),
            write: pool,
        }
    }
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value is taken (a username, a client id, a token hash): the request's fault, not worth retrying.
    #[error("{what} already exists")]
    Conflict {
        /// What was taken, as the message names it.
        what: &'static str,
    },
    /// The row to change does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A stored value does not parse (a status, a JSON column): the data, not the request, is wrong.
    #[error("the database holds a value Tollgate cannot read: {0}")]
    Corrupt(String),
    /// The URL names neither SQLite nor PostgreSQL.
    #[error("unsupported database URL `{0}`: expected sqlite:… or postgres://…")]
    UnsupportedUrl(String),
    /// The first connection failed; the cause is sqlx's.
    #[error("cannot connect to the database: {0}")]
    Connect(sqlx::Error),
    /// A migration failed to run.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed; [`StoreError::is_unavailable`] says whether the database was out of reach.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The SQLite token writer failed or stopped: the write is not committed.
    #[error("writing failed: {0}")]
    Write(String),
}

impl StoreError {
    /// The database is out of reach (down, restarting, refusing connections, or
    /// no connection came within the timeout): worth trying again shortly,
    /// unlike an error in what was asked of it.
    pub fn is_unavailable(&self) -> bool {
        let sqlx_error = match self {
            StoreError::Connect(e) | StoreError::Database(e) => e,
            StoreError::Migrate(sqlx::migrate::MigrateError::Execute(e)) => e,
            _ => return false,
        };
        match sqlx_error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            // PostgreSQL's connection exceptions (08…), shutting down or starting
            // (57P01–57P03), too many connections (53300).
            sqlx::Error::Database(d) => d.code().is_some_and(|code| {
                code.starts_with("08") || ["57P01", "57P02", "57P03", "53300"].contains(&&*code)
            }),
            _ => false,
        }
    }

    /// No pool connection came within the timeout: every connection busy, or
    /// none could be opened in time.
    pub fn is_pool_timeout(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::PoolTimedOut))
    }

    /// Maps a unique-constraint violation to [`StoreError::Conflict`].
    pub(crate) fn conflict_on(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |e| match e.as_database_error() {
            Some(d) if d.is_unique_violation() => StoreError::Conflict { what },
            _ => StoreError::Database(e),
        }
    }
}

/// A store result: [`StoreError`] unless said otherwise.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How SQLite makes a commit durable (`PRAGMA synchronous`, in WAL mode).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SqliteSynchronous {
    /// A commit survives the process crashing; on power loss or an OS crash the
    /// last commits before the WAL was synced may be lost (SQLite's `NORMAL`).
    #[default]
    Normal,
    /// Each commit is synced to disk before it returns: it survives power loss
    /// too, at the cost of an `fsync` per group commit (SQLite's `FULL`).
    Full,
}

/// How [`Store::connect_with`] opens the database.
#[derive(Clone, Copy, Debug)]
pub struct ConnectOptions {
    /// How long a query waits for a PostgreSQL connection before the store says
    /// the database is unavailable.
    pub timeout: Duration,
    /// SQLite only: how commits are made durable.
    pub sqlite_synchronous: SqliteSynchronous,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            timeout: DEFAULT_DATABASE_TIMEOUT,
            sqlite_synchronous: SqliteSynchronous::default(),
        }
    }
}

/// One pool's connections at a moment, for the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// `read` and `write` on SQLite, `postgres` on PostgreSQL.
    pub name: &'static str,
    /// Connections open.
    pub open: u32,
    /// Connections handed out to a query now.
    pub in_use: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// Everything Tollgate keeps, on one database.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    /// SQLite only: the group-commit writer of tokens.
    batcher: Option<batch::TokenBatcher>,
    /// Off until [`Store::cache_tokens`]; shared by every clone, so a revocation
    /// through any of them is seen by all.
    cache: Arc<token_cache::TokenCache>,
}

/// A SQLite pool that hands out connections without pinging them first: a
/// ping is a round trip to the connection's thread, as dear as a lookup, and a
/// file does not drop connections as a server does.
fn sqlite_pool() -> SqlitePoolOptions {
    SqlitePoolOptions::new().test_before_acquire(false)
}

/// Opens and closes one connection, so a bad URL or an unreachable server is
/// reported with its real cause (a pool would only say that it timed out).
async fn probe<C: sqlx::Connection>(options: &C::Options) -> Result<()> {
    let connection = C::connect_with(options)
        .await
        .map_err(StoreError::Connect)?;
    connection.close().await.map_err(StoreError::Connect)
}

/// Zero set-up on PostgreSQL as on SQLite: a database that does not exist yet
/// is created (the server must be reachable and the role allowed to create it).
async fn create_missing_postgres_database(url: &str) -> Result<()> {
    use sqlx::migrate::MigrateDatabase;
    if sqlx::Postgres::database_exists(url)
        .await
        .map_err(StoreError::Connect)?
    {
        return Ok(());
    }
    match sqlx::Postgres::create_database(url).await {
        Ok(()) => tracing::info!("created the PostgreSQL database"),
        // Another node starting at the same moment created it first: 42P04
        // duplicate_database, or 23505 on pg_database's name index mid-creation.
        Err(e)
            if e.as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|code| code == "42P04" || code == "23505") => {}
        Err(e) => return Err(StoreError::Connect(e)),
    }
    Ok(())
}

/// The application's own SQLite pool (one pool for reads and writes; give its
/// connections a busy timeout, as writers then wait on each other in SQLite).
impl From<SqlitePool> for Store {
    fn from(pool: SqlitePool) -> Self {
        Store::from_db(Db::Sqlite(SqliteDb::single(pool)))
    }
}

/// The application's own PostgreSQL pool.
impl From<PgPool> for Store {
    fn from(pool: PgPool) -> Self {
        Store::from_db(Db::Postgres(pool))
    }
}

/// Where the applied migrations are recorded (not sqlx's `_sqlx_migrations`,
/// which an embedding application's own migrations use).
const MIGRATIONS_TABLE: &str = "tollgate_migrations";

/// How long a query waits for a PostgreSQL connection before the store says
/// the database is unavailable, unless [`Store::connect_with_timeout`] says otherwise.
pub const DEFAULT_DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

impl Store {
    /// Connects to `sqlite:path` (WAL, foreign keys on) or `postgres://…`,
    /// creating the database if missing. Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Self> {
        Store::connect_with_timeout(url, DEFAULT_DATABASE_TIMEOUT).await
    }

    /// [`Store::connect`], with queries waiting at most `timeout` for a
    /// PostgreSQL connection: while the server is out of reach, requests are
    /// refused that soon rather than held.
    pub async fn connect_with_timeout(url: &str, timeout: Duration) -> Result<Self> {
        let options = ConnectOptions {
            timeout,
            ..ConnectOptions::default()
        };
        Store::connect_with(url, options).await
    }

    /// [`Store::connect`], with its options spelled out.
    pub async fn connect_with(url: &str, options: ConnectOptions) -> Result<Self> {
        let ConnectOptions {
            timeout,
            sqlite_synchronous,
        } = options;
        let db = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(StoreError::Connect)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(match sqlite_synchronous {
                    SqliteSynchronous::Normal => sqlx::sqlite::SqliteSynchronous::Normal,
                    SqliteSynchronous::Full => sqlx::sqlite::SqliteSynchronous::Full,
                })
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            probe::<sqlx::SqliteConnection>(&options).await?;
            if url.contains(":memory:") || url.contains("mode=memory") {
                // Each connection to memory is a database of its own: one, kept open.
                let pool = sqlite_pool()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_lazy_with(options);
                return Ok(Store::from(pool));
            }
            let write = sqlite_pool()
                .max_connections(1)
                .connect_lazy_with(options.clone());
            let read = sqlite_pool()
                .max_connections(8)
                .connect_lazy_with(options.create_if_missing(false).read_only(true));
            Db::Sqlite(SqliteDb { read, write })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(StoreError::Connect)?;
            create_missing_postgres_database(url).await?;
            probe::<sqlx::PgConnection>(&options).await?;
            Db::Postgres(
                PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(timeout)
                    .connect_lazy_with(options),
            )
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        Ok(Store::from_db(db))
    }

    /// Wraps pools the embedding application already owns. On SQLite this
    /// starts the token writer, so it must be called inside a Tokio runtime.
    pub fn from_db(db: Db) -> Self {
        let batcher = match &db {
            Db::Sqlite(sqlite) => Some(batch::TokenBatcher::spawn(sqlite.write.clone())),
            Db::Postgres(_) => None,
        };
        Store {
            db,
            batcher,
            cache: Arc::default(),
        }
    }

    /// Keeps found tokens in memory for up to `ttl` (zero: off), for
    /// [`Store::bearer_token`] and [`Store::token_details`]. A revocation or a
    /// change of a user or client through this store (any clone) is seen at
    /// once; on PostgreSQL, one by any process within a notification's delay
    /// (a listener follows the `tollgate_tokens` channel; while it is not
    /// connected nothing is served from memory); on SQLite, one by another
    /// process within `ttl`. Expiry is always checked by the caller. On
    /// PostgreSQL this starts the listener on the current Tokio runtime; outside
    /// one, nothing is served from memory.
    pub fn cache_tokens(&self, ttl: Duration) {
        self.cache.set_ttl(ttl);
        if let (Db::Postgres(pool), true) = (&self.db, self.cache.is_on()) {
            let (pool, cache) = (pool.clone(), Arc::downgrade(&self.cache));
            self.cache.start_listener(|| {
                let runtime = tokio::runtime::Handle::try_current().ok()?;
                Some(
                    runtime
                        .spawn(token_cache::listen(pool, cache))
                        .abort_handle(),
                )
            });
        }
    }

    /// Whether token lookups are served from memory now: on, and on
    /// PostgreSQL, listening for revocations.
    pub fn token_cache_serving(&self) -> bool {
        self.cache.is_serving()
    }

    /// The pools, for an application that runs its own queries beside Tollgate's.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Applies the embedded migrations that have not run yet. Tollgate's tables,
    /// indexes and migration history are all named `tollgate_…`, so they can live
    /// in an application's own database beside its tables and its own sqlx migrations.
    pub async fn migrate(&self) -> Result<()> {
        let migrator = self.migrator();
        match &self.db {
            Db::Sqlite(sqlite) => migrator.run(&sqlite.write).await?,
            Db::Postgres(p) => migrator.run(p).await?,
        }
        Ok(())
    }

    /// This build's migrations for the store's database, recorded in [`MIGRATIONS_TABLE`].
    fn migrator(&self) -> sqlx::migrate::Migrator {
        let mut migrator = match &self.db {
            Db::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
            Db::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
        };
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        // A newer version's migrations (a node upgraded first) are left alone, so
        // a node of the previous version still starts in a rolling upgrade:
        // since 0003 Tollgate's migrations only add (or rebuild) tables, columns,
        // indexes and triggers; 0002 dropped a column.
        migrator.set_ignore_missing(true);
        migrator
    }

    /// Sets `table.column` of row `id` to `new` if it still holds `old`: a hash
    /// replaced after it verified, which a concurrent change must win over.
    async fn replace_hash(
        &self,
        table: &'static str,
        column: &'static str,
        id: i64,
        old: &str,
        new: &str,
        now: UnixTime,
    ) -> Result<()> {
        let sql = format!(
            "UPDATE {table} SET {column} = $3, updated_at = $4 WHERE id = $1 AND {column} = $2"
        );
        on_db!(write &self.db, p => sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(old)
            .bind(new)
            .bind(now)
            .execute(p)
            .await
            .map(drop))?;
        Ok(())
    }

    /// One trivial round trip: is the database answering?
    pub async fn ping(&self) -> Result<()> {
        on_db!(read &self.db, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// How many of this build's migrations the database has not recorded as
    /// applied: 0 once it is current (a newer build's extra migrations do not count).
    pub async fn migrations_pending(&self) -> Result<usize> {
        let sql = format!("SELECT version FROM {MIGRATIONS_TABLE} WHERE success = TRUE");
        let applied: Vec<i64> = on_db!(read &self.db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(p)
            .await)?;
        let migrator = self.migrator();
        Ok(migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
            .count())
    }

    /// Each pool's connections now: open, in use, and its maximum.
    pub fn pool_stats(&self) -> Vec<PoolStats> {
        fn stats<DB: sqlx::Database>(name: &'static str, pool: &sqlx::Pool<DB>) -> PoolStats {
            let open = pool.size();
            PoolStats {
                name,
                open,
                in_use: open.saturating_sub(u32::try_from(pool.num_idle()).unwrap_or(u32::MAX)),
                max: pool.options().get_max_connections(),
            }
        }
        match &self.db {
            Db::Sqlite(sqlite) => vec![stats("read", &sqlite.read), stats("write", &sqlite.write)],
            Db::Postgres(p) => vec![stats("postgres", p)],
        }
    }

    /// Closes the pools, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.cache.stop_listener();
        match &self.db {
            Db::Sqlite(sqlite) => {
                sqlite.read.close().await;
                sqlite.write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}
