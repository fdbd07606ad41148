//! Balagh's storage on PostgreSQL: the production backend. Any number of `balagh serve`
//! replicas share one database.

use balagh_store::{Backend, Constraint, Result, SqlBackend, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

mod history;
mod replicas;
pub use replicas::{ReplicaSet, ReplicaSettings};

/// Tuning for the connection pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 32,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Replicas for this store's reads (see [`PostgresStore::with_stale_reads`]).
    replicas: Option<Arc<ReplicaSet>>,
}

impl PostgresStore {
    /// Connects lazily: the service starts even while PostgreSQL is still coming up, and
    /// `/readyz` says when it can serve.
    pub fn connect_lazy(url: &str, settings: &PoolSettings) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("invalid PostgreSQL URL: {e}")))?
            .application_name("balagh")
            // Balagh's statements are short and planned once per connection: JIT compiling
            // the few that look expensive (statistics over millions of reports) cost more
            // time than it saved (40 ms of 94 on the backlog query at 10 million reports).
            .options([("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_lazy_with(options);
        Ok(Self {
            pool,
            replicas: None,
        })
    }

    /// The same store whose reads go to a fresh replica when there is one (writes, and
    /// reads when no replica is fresh, go to the primary). For the read-only traffic that
    /// tolerates the replicas' bounded staleness; whatever a client must read back at once
    /// uses the store itself.
    pub fn with_stale_reads(&self, replicas: Arc<ReplicaSet>) -> Self {
        Self {
            pool: self.pool.clone(),
            replicas: Some(replicas),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn run_migrations(&self) -> Result<()> {
        sqlx::migrate!("../../migrations/postgres")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Database(e.into()))
    }
}

impl SqlBackend for PostgresStore {
    type Db = sqlx::Postgres;
    const BACKEND: Backend = Backend::Postgres;
    const DATA_MODIFYING_CTE: bool = true;
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    const ANALYZE: &'static str = "VACUUM (ANALYZE) reports, report_events";

    fn reader(&self) -> &PgPool {
        self.replicas
            .as_deref()
            .and_then(ReplicaSet::fresh_pool)
            .unwrap_or(&self.pool)
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    fn error(error: sqlx::Error) -> StoreError {
        StoreError::from_sqlx(error, |db| {
            Constraint::from_postgres(db.constraint().unwrap_or_default())
        })
    }
}

balagh_store::impl_shared_writes!(PostgresStore);
balagh_store::impl_sql_store!(PostgresStore);
balagh_store::impl_sla_store!(PostgresStore);
balagh_store::impl_photo_store!(PostgresStore);
balagh_store::impl_push_store!(PostgresStore);
balagh_store::impl_open311_store!(PostgresStore);
balagh_store::impl_screen_store!(PostgresStore);
balagh_store::impl_sms_store!(PostgresStore);
balagh_store::impl_stats_store!(PostgresStore);
balagh_store::impl_place_store!(PostgresStore);
balagh_store::impl_service_media_store!(PostgresStore);
balagh_store::impl_service_group_store!(PostgresStore);
