//! The storage contract (`balagh_store::contract`) on PostgreSQL: each case on a database
//! of its own, created here and dropped afterwards. The server is named by
//! `BALAGH_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).

use balagh_store::Store;
use balagh_store::contract::FreshStore;
use balagh_store_postgres::{PoolSettings, PostgresStore};
use sqlx::Connection;

fn admin_url() -> String {
    std::env::var("BALAGH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

struct Fresh {
    store: PostgresStore,
    url: String,
    name: String,
}

impl FreshStore for Fresh {
    fn store(&self) -> &dyn Store {
        &self.store
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime: a thread with its own drops the database.
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url()).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                            .execute(&mut admin)
                            .await;
                    }
                })
        })
        .join()
        .unwrap();
    }
}

/// A migrated store on a new database.
async fn fresh() -> Fresh {
    let admin_url = admin_url();
    let name = format!("balagh_contract_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("PostgreSQL must be running for the tests (see README)");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let url = format!("{base}/{name}");
    let settings = PoolSettings {
        max_connections: 8,
        ..PoolSettings::default()
    };
    let store = PostgresStore::connect_lazy(&url, &settings).unwrap();
    store.migrate().await.unwrap();
    Fresh { store, url, name }
}

balagh_store::contract_suite!(fresh);

/// The history cannot be rewritten, not even by hand: triggers refuse it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_events_are_append_only() {
    let fresh = fresh().await;
    balagh_store::contract::an_idempotency_key_returns_the_first_report(fresh.store()).await;
    let mut conn = sqlx::PgConnection::connect(&fresh.url).await.unwrap();
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
