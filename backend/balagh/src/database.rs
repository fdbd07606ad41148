//! Opens the store named by a database URL: the scheme picks the backend.

use crate::config::DatabaseUrl;
use balagh_store::{Backend, Store, StoreError};
use balagh_store_postgres::{PoolSettings, PostgresStore};
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
