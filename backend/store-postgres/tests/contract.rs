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

/// The partition of the month (UTC) of `at`.
fn month_partition(at: time::OffsetDateTime) -> String {
    format!("report_events_{:04}_{:02}", at.year(), u8::from(at.month()))
}

async fn scalar_i64(url: &str, sql: &str) -> i64 {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

/// The history is kept by month: the coming months are ready, an event dated before its
/// month existed is moved into it, and retention drops whole months, never one holding an
/// open report's history, and never the reports themselves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_kept_and_dropped_by_month() {
    use balagh_store::{CreateOutcome, Ts, contract::fixture::Catalogue};
    let fresh = fresh().await;
    let store = fresh.store();
    let catalogue = Catalogue::load();
    catalogue.seed(store).await;
    let now = time::OffsetDateTime::now_utc();
    let old = now - time::Duration::days(915);
    let ahead = now + time::Duration::days(75);
    let regclass = |name: String| {
        format!("SELECT COUNT(*) FROM pg_class WHERE relname = '{name}' AND relispartition")
    };
    assert_eq!(
        scalar_i64(&fresh.url, &regclass(month_partition(ahead))).await,
        1
    );
    assert_eq!(
        scalar_i64(&fresh.url, &regclass(month_partition(old))).await,
        0
    );

    let mut ids = Vec::new();
    for at in [old, old, now] {
        let report = catalogue.report(None, None, Ts::new(at));
        let CreateOutcome::Created(stored) = store.create_report(&report).await.unwrap() else {
            panic!("a new report");
        };
        ids.push(stored.id);
    }
    let (closed, open, recent) = (ids[0], ids[1], ids[2]);
    // No month for the old events yet: they wait in the default partition…
    let in_default = "SELECT COUNT(*) FROM report_events_default";
    assert!(scalar_i64(&fresh.url, in_default).await >= 2);
    // …which preparing the current months leaves alone…
    let now_ts = Ts::new(now);
    assert_eq!(store.prepare_history(now_ts, now_ts).await.unwrap(), 0);
    assert!(scalar_i64(&fresh.url, in_default).await >= 2);
    // …until their own month is prepared.
    assert!(store.prepare_history(Ts::new(old), now_ts).await.unwrap() >= 1);
    assert_eq!(scalar_i64(&fresh.url, in_default).await, 0);
    let old_month = month_partition(old);
    assert_eq!(
        scalar_i64(&fresh.url, &regclass(old_month.clone())).await,
        1
    );
    let old_events = store.report_events(closed).await.unwrap().len();
    assert!(old_events >= 1);
    assert_eq!(
        store.prepare_history(Ts::new(old), now_ts).await.unwrap(),
        0
    );

    let close = |id: uuid::Uuid| format!("UPDATE reports SET status = 'closed' WHERE id = '{id}'");
    let mut conn = sqlx::PgConnection::connect(&fresh.url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(close(closed)))
        .execute(&mut conn)
        .await
        .unwrap();
    let a_year_ago = Ts::new(now - time::Duration::days(365));
    let label = format!("{:04}-{:02}", old.year(), u8::from(old.month()));
    // The month also holds a report still open: kept whole.
    let round = store
        .drop_history_before(a_year_ago)
        .await
        .unwrap()
        .unwrap();
    // (The empty months prepared between then and a year ago go.)
    assert_eq!(round.kept_open, vec![label.clone()]);
    assert!(!round.dropped.contains(&label), "{round:?}");
    assert_eq!(store.report_events(closed).await.unwrap().len(), old_events);

    sqlx::query(sqlx::AssertSqlSafe(close(open)))
        .execute(&mut conn)
        .await
        .unwrap();
    let round = store
        .drop_history_before(a_year_ago)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((round.dropped, round.kept_open), (vec![label], vec![]));
    assert_eq!(scalar_i64(&fresh.url, &regclass(old_month)).await, 0);
    assert!(store.report_events(closed).await.unwrap().is_empty());
    assert!(
        store.report(closed).await.unwrap().is_some(),
        "the report stays"
    );
    assert!(!store.report_events(recent).await.unwrap().is_empty());

    // Each month is as append-only as the whole.
    let this_month = month_partition(now);
    for statement in [
        format!("DELETE FROM {this_month}"),
        format!("UPDATE {this_month} SET kind = 'x'"),
        "DELETE FROM report_events_default".to_owned(),
    ] {
        let message = sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
            .execute(&mut conn)
            .await
            .map(|r| format!("{} rows", r.rows_affected()))
            .unwrap_or_else(|e| e.to_string());
        assert!(
            message.contains("append-only") || message == "0 rows",
            "{statement}: {message}"
        );
    }
}
