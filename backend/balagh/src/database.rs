//! Opens the store named by a database URL: the scheme picks the backend.

use crate::config::DatabaseUrl;
use balagh_store::{Backend, Store, StoreError};
use balagh_store_postgres::{PoolSettings, PostgresStore, ReplicaSet};
use balagh_store_sqlite::SqliteStore;
use std::sync::Arc;

/// SQLite readers beside its single writer.
const SQLITE_READERS: u32 = 4;

pub async fn open(url: &DatabaseUrl, max_connections: u32) -> Result<Arc<dyn Store>, StoreError> {
    match Backend::from_url(url.expose()) {
        Some(Backend::Postgres) => Ok(Arc::new(PostgresStore::connect_lazy(
            url.expose(),
            &PoolSettings {
                max_connections,
                ..PoolSettings::default()
            },
        )?)),
        Some(Backend::Sqlite) => Ok(Arc::new(
            SqliteStore::open(url.expose(), SQLITE_READERS).await?,
        )),
        None => Err(StoreError::Unavailable(format!(
            "unsupported database URL {url}"
        ))),
    }
}

/// Opens and migrates.
pub async fn open_migrated(
    url: &DatabaseUrl,
    max_connections: u32,
) -> Result<Arc<dyn Store>, StoreError> {
    let store = open(url, max_connections).await?;
    store.migrate().await?;
    Ok(store)
}

/// The primary store, and the store for reads that tolerate the replicas' bounded
/// staleness (the primary itself when no replica is configured).
#[derive(Debug)]
pub struct Stores {
    pub primary: Arc<dyn Store>,
    pub stale_reads: Arc<dyn Store>,
}

/// Opens and migrates the primary; with replicas (PostgreSQL only), starts measuring their
/// lag and routes the stale-tolerant reads to whichever is fresh.
pub async fn open_for_serve(
    url: &DatabaseUrl,
    max_connections: u32,
    replicas: Option<&crate::replicas_config::ReplicaConfig>,
) -> Result<Stores, StoreError> {
    let Some(replicas) = replicas else {
        let primary = open_migrated(url, max_connections).await?;
        return Ok(Stores {
            stale_reads: primary.clone(),
            primary,
        });
    };
    let primary = PostgresStore::connect_lazy(
        url.expose(),
        &PoolSettings {
            max_connections,
            ..PoolSettings::default()
        },
    )?;
    primary.migrate().await?;
    let set = ReplicaSet::connect_lazy(&replicas.store_settings(max_connections))?;
    // Measured once before serving, so a fresh replica serves from the first request.
    set.check().await;
    set.spawn_monitor(replicas.check_interval);
    tracing::info!(
        replicas = replicas.urls.len(),
        fresh = set.fresh_count(),
        max_lag_seconds = replicas.max_lag.as_secs_f64(),
        "read replicas"
    );
    let stale_reads = primary.with_stale_reads(set);
    Ok(Stores {
        primary: Arc::new(primary),
        stale_reads: Arc::new(stale_reads),
    })
}
