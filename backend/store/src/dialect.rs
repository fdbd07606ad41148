//! What a backend gives the shared SQL: its sqlx database, its pools, how its errors read,
//! and the few fragments that differ between PostgreSQL and SQLite.
//!
//! The SQL of an area is written once as ordinary `async fn`s in an `impl<S: SqlBackend>
//! Sql<'_, S>` block. The block's `where` clause lists, once per area, what sqlx must know
//! of the database for those queries (the value types bound, the rows read): Rust does not
//! carry such bounds through a helper trait, but an impl block's bounds hold for all of its
//! functions. Each backend checks them for its concrete database where it delegates its
//! area trait to these functions (a short `impl_*_store!`).

use crate::{Backend, StoreError};

/// A database the shared SQL runs on; the bounds written here (on the database's own
/// associated types) hold wherever `S::Db` is used, unlike those on other types.
pub trait SqlDb: sqlx::Database<Arguments: sqlx::IntoArguments<Self> + Default> {
    /// Rows an `INSERT`, `UPDATE` or `DELETE` wrote.
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

impl SqlDb for sqlx::Postgres {
    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

impl SqlDb for sqlx::Sqlite {
    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

/// A store on one sqlx database.
pub trait SqlBackend: Send + Sync {
    type Db: SqlDb;
    const BACKEND: Backend;
    /// Report intake in one statement (a data-modifying CTE, see `Sql::create_report`).
    const DATA_MODIFYING_CTE: bool;
    /// Appended to selects whose rows the transaction goes on to change, in a fixed order.
    const FOR_UPDATE: &'static str;
    /// Appended to claims: replicas skip rows another replica has locked.
    const SKIP_LOCKED: &'static str;
    /// Statistics refresh after bulk loads.
    const ANALYZE: &'static str;

    /// Where reads go (on PostgreSQL, a fresh replica when the store reads stale).
    fn reader(&self) -> &sqlx::Pool<Self::Db>;
    fn writer(&self) -> &sqlx::Pool<Self::Db>;
    /// Classifies a driver error, naming the violated constraint.
    fn error(error: sqlx::Error) -> StoreError;
}

/// The shared SQL of a store: each area adds its functions in an `impl` block of its own.
#[derive(Debug)]
pub struct Sql<'s, S>(pub &'s S);
