//! The service-groups migration rebuilds `services` and `contracts` (SQLite cannot drop a
//! CHECK): rows already there, and the rows that refer to them, must survive it, and the
//! new foreign keys must hold afterwards.

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::str::FromStr;

/// The last migration before service groups became data.
const BEFORE_GROUPS: i64 = 20261209400000;

async fn count(pool: &sqlx::SqlitePool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn the_service_groups_rebuild_keeps_rows_and_references() {
    let options = SqliteConnectOptions::from_str("sqlite::memory:")
        .unwrap()
        .foreign_keys(true);
    // One connection: an in-memory database lives and dies with it.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let migrator = sqlx::migrate!("../../migrations/sqlite");
    migrator.run_to(BEFORE_GROUPS, &pool).await.unwrap();
    for sql in [
        "INSERT INTO jurisdictions VALUES ('tetouan', 'Tétouan', 'Africa/Casablanca', '[\"fr\"]', 'fr', 'TET', '{}')",
        "INSERT INTO services VALUES ('tetouan', 'light_out', 'lighting', '{}', 1)",
        "INSERT INTO service_media (jurisdiction_id, service_code, easy_read) VALUES ('tetouan', 'light_out', '{\"fr\": \"Lampe éteinte\"}')",
        "INSERT INTO operators VALUES (x'01', 'tetouan', 'bia', 'Bia')",
        "INSERT INTO contracts VALUES (x'02', 'tetouan', 'TET-1', x'01', 'waste', 'Centre', '{}', 0, NULL)",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    migrator.run(&pool).await.unwrap();

    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM service_groups WHERE jurisdiction_id = 'tetouan'"
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM services WHERE service_group = 'lighting'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM contracts WHERE service_group = 'waste'"
        )
        .await,
        1
    );
    // Dropping the old `services` did not cascade into its media.
    assert_eq!(count(&pool, "SELECT count(*) FROM service_media").await, 1);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM pragma_foreign_key_check").await,
        0
    );
    assert_eq!(count(&pool, "PRAGMA foreign_keys").await, 1, "keys back on");
    // The constraint names the store maps survived the rebuild.
    let duplicate = sqlx::query(
        "INSERT INTO contracts VALUES (x'03', 'tetouan', 'TET-1', x'01', 'waste', 'Nord', '{}', 0, NULL)",
    )
    .execute(&pool)
    .await
    .unwrap_err();
    assert!(duplicate.to_string().contains("UNIQUE"), "{duplicate}");

    // Any group now, as long as the commune has it.
    let parks = "INSERT INTO services VALUES ('tetouan', 'broken_bench', 'parks', '{}', 1)";
    let refused = sqlx::query(parks).execute(&pool).await.unwrap_err();
    assert!(refused.to_string().contains("FOREIGN KEY"), "{refused}");
    sqlx::query(
        "INSERT INTO service_groups (jurisdiction_id, code, name, position) \
         VALUES ('tetouan', 'parks', '{\"fr\": \"Parcs\"}', 40)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(parks).execute(&pool).await.unwrap();
    assert_eq!(count(&pool, "SELECT count(*) FROM services").await, 2);
}
