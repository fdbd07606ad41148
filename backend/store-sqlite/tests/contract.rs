//! The storage contract (`balagh_store::contract`) on SQLite: each case on a database file
//! of its own, in a directory removed afterwards.

use balagh_store::Store;
use balagh_store::contract::FreshStore;
use balagh_store_sqlite::SqliteStore;
use sqlx::Connection;

struct Fresh {
    store: SqliteStore,
    url: String,
    dir: std::path::PathBuf,
}

impl FreshStore for Fresh {
    fn store(&self) -> &dyn Store {
        &self.store
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A migrated store on a new file.
async fn fresh() -> Fresh {
    let dir = std::env::temp_dir().join(format!("balagh-contract-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("balagh.sqlite3").display());
    let store = SqliteStore::open(&url, 4).await.unwrap();
    store.migrate().await.unwrap();
    Fresh { store, url, dir }
}

balagh_store::contract_suite!(fresh);

/// The history cannot be rewritten, not even by hand: triggers refuse it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_events_are_append_only() {
    let fresh = fresh().await;
    balagh_store::contract::an_idempotency_key_returns_the_first_report(fresh.store()).await;
    let mut conn = sqlx::SqliteConnection::connect(&fresh.url).await.unwrap();
    for statement in [
        "UPDATE report_events SET kind = 'x'",
        "DELETE FROM report_events",
    ] {
        let message = sqlx::query(statement)
            .execute(&mut conn)
            .await
            .unwrap_err()
            .to_string();
        assert!(message.contains("append-only"), "{statement}: {message}");
    }
}
