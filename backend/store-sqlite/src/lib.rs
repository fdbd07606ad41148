//! Balagh's storage on SQLite: the embedded default, one file, no server to run.
//!
//! SQLite allows one writer at a time, so writes go through a single-connection pool (no
//! lock contention, no `SQLITE_BUSY`), while reads use a pool of their own in WAL mode.

use balagh_store::{Backend, Constraint, Result, SqlBackend, StoreError};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file named by a `sqlite://PATH` URL.
    pub async fn open(url: &str, readers: u32) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL with NORMAL sync is durable across application crashes; only an OS crash
            // can lose the last transactions.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        if let Some(parent) = std::path::Path::new(options.get_filename()).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(Self::error)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(Self::error)?;
        Ok(Self { writer, reader })
    }

    pub fn writer_pool(&self) -> &SqlitePool {
        &self.writer
    }

    async fn run_migrations(&self) -> Result<()> {
        sqlx::migrate!("../../migrations/sqlite")
            .run(&self.writer)
            .await
            .map_err(|e| StoreError::Database(e.into()))
    }
}

impl SqlBackend for SqliteStore {
    type Db = sqlx::Sqlite;
    const BACKEND: Backend = Backend::Sqlite;
    const DATA_MODIFYING_CTE: bool = false;
    const FOR_UPDATE: &'static str = "";
    // SQLite has one writer: there is nothing locked to skip.
    const SKIP_LOCKED: &'static str = "";
    const ANALYZE: &'static str = "ANALYZE";

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    fn error(error: sqlx::Error) -> StoreError {
        StoreError::from_sqlx(error, |db| Constraint::from_sqlite_message(db.message()))
    }
}

balagh_store::impl_shared_writes!(SqliteStore);
balagh_store::impl_sql_store!(SqliteStore);
balagh_store::impl_sla_store!(SqliteStore);
balagh_store::impl_photo_store!(SqliteStore);
balagh_store::impl_push_store!(SqliteStore);
balagh_store::impl_open311_store!(SqliteStore);
balagh_store::impl_screen_store!(SqliteStore);
balagh_store::impl_sms_store!(SqliteStore);
balagh_store::impl_stats_store!(SqliteStore);
balagh_store::impl_place_store!(SqliteStore);
balagh_store::impl_service_media_store!(SqliteStore);
balagh_store::impl_service_group_store!(SqliteStore);

/// One table, nothing to prepare; retention by month needs PostgreSQL's partitions (and
/// SQLite's history is append-only like PostgreSQL's, so rows are not deleted either).
#[balagh_store::async_trait]
impl balagh_store::HistoryStore for SqliteStore {
    async fn prepare_history(&self, _from: balagh_store::Ts, _to: balagh_store::Ts) -> Result<u32> {
        Ok(0)
    }

    async fn drop_history_before(
        &self,
        _before: balagh_store::Ts,
    ) -> Result<Option<balagh_store::HistoryDrop>> {
        Ok(None)
    }
}
