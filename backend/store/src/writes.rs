//! The writes several areas share inside their transactions: history events, outbox
//! messages, SLA clock rows, the catalog revision.
//!
//! Each is written once below as a generic function whose `where` clause lists the sqlx
//! bounds it needs. Callers reach them through [`SharedWrites`], a trait each backend
//! implements with [`impl_shared_writes!`](crate::impl_shared_writes) by forwarding to these
//! functions: the bounds are then checked once, on the concrete database, and a generic
//! `impl<S: SharedWrites> Sql<'_, S>` block calls `S::insert_outbox(&mut *tx, ..)` without
//! repeating them (Rust would not carry them through the trait otherwise).
//!
//! The bind types are those of the `insert_*_sql!` macros these functions replace: until
//! every area is converted, those macros are thin wrappers over the `*_on` functions called
//! from generic code whose bounds were written for the macros' bodies.

use crate::{CLOCK_COLUMNS, ClockRecord, NewOutboxMessage, Result, SqlBackend, Ts};
use balagh_domain::NewEvent;
use serde_json::Value;
use sqlx::query_builder::Separated;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, QueryBuilder, Type};
use std::future::Future;
use uuid::Uuid;

/// Bound on rows per multi-row INSERT: 20 columns × 500 rows stays under both databases'
/// parameter limits.
pub const BULK_ROWS: usize = 500;

/// A backend's database connection (what a transaction dereferences to).
pub type Conn<S> = <<S as SqlBackend>::Db as Database>::Connection;

/// The shared writes, callable from generic code with no sqlx bounds of its own; implemented
/// per backend by [`impl_shared_writes!`](crate::impl_shared_writes).
pub trait SharedWrites: SqlBackend {
    /// Appends events to a report's history in one statement.
    fn insert_events<'a>(
        conn: &'a mut Conn<Self>,
        report_id: Uuid,
        at: Ts,
        events: &'a [NewEvent],
    ) -> impl Future<Output = Result<()>> + Send + 'a;

    /// Appends outbox messages in one statement.
    fn insert_outbox<'a>(
        conn: &'a mut Conn<Self>,
        messages: &'a [NewOutboxMessage],
    ) -> impl Future<Output = Result<()>> + Send + 'a;

    /// Inserts clock rows (of any number of reports), in statements of bounded size.
    fn insert_clocks<'a>(
        conn: &'a mut Conn<Self>,
        clocks: &'a [ClockRecord],
    ) -> impl Future<Output = Result<()>> + Send + 'a;

    /// Replaces a report's clock rows.
    fn replace_clocks<'a>(
        conn: &'a mut Conn<Self>,
        report_id: Uuid,
        clocks: &'a [ClockRecord],
    ) -> impl Future<Output = Result<()>> + Send + 'a;

    /// Bumps the catalog revision (clients reload the catalog when it changes).
    fn bump_catalog(conn: &mut Conn<Self>) -> impl Future<Output = Result<()>> + Send + '_;

    /// Binds a clock's columns in [`CLOCK_COLUMNS`] order, for queries that insert clocks
    /// in a statement of their own.
    fn push_clock_values(b: &mut Separated<'_, Self::Db, &'static str>, c: &ClockRecord);
}

/// [`SharedWrites::insert_events`].
pub async fn insert_events_on<S: SqlBackend>(
    conn: &mut Conn<S>,
    report_id: Uuid,
    at: Ts,
    events: &[NewEvent],
) -> Result<()>
where
    for<'c> &'c mut Conn<S>: Executor<'c, Database = S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> String: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> bool: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<Value>: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
{
    if events.is_empty() {
        return Ok(());
    }
    let mut insert = QueryBuilder::<S::Db>::new(
        "INSERT INTO report_events (id, report_id, kind, actor, public, data, at) ",
    );
    insert.push_values(events, |mut b, event| {
        b.push_bind(Uuid::now_v7())
            .push_bind(report_id)
            .push_bind(event.kind.as_str())
            .push_bind(event.actor.to_stored())
            .push_bind(event.public)
            .push_bind(Json(event.data.clone()))
            .push_bind(at);
    });
    insert.build().execute(conn).await.map_err(S::error)?;
    Ok(())
}

/// [`SharedWrites::insert_outbox`].
pub async fn insert_outbox_on<S: SqlBackend>(
    conn: &mut Conn<S>,
    messages: &[NewOutboxMessage],
) -> Result<()>
where
    for<'c> &'c mut Conn<S>: Executor<'c, Database = S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Uuid>: Encode<'q, S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> String: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<String>: Encode<'q, S::Db>,
    for<'q> Json<Value>: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
{
    if messages.is_empty() {
        return Ok(());
    }
    let mut insert = QueryBuilder::<S::Db>::new(
        "INSERT INTO outbox (id, topic, operator_id, event_type, payload, state, \
         attempts, next_attempt_at, created_at, jurisdiction_id) ",
    );
    insert.push_values(messages, |mut b, m| {
        b.push_bind(m.id)
            .push_bind(m.topic)
            .push_bind(m.operator.map(|o| o.0))
            .push_bind(m.event_type.clone())
            .push_bind(Json(m.payload.clone()))
            .push_bind("pending")
            .push_bind(0i32)
            .push_bind(m.created_at)
            .push_bind(m.created_at)
            .push_bind(m.jurisdiction.as_ref().map(|j| j.as_str().to_owned()));
    });
    insert.build().execute(conn).await.map_err(S::error)?;
    Ok(())
}

/// [`SharedWrites::push_clock_values`].
pub fn push_clock_values_on<DB: Database>(b: &mut Separated<'_, DB, &'static str>, c: &ClockRecord)
where
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Ts: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Ts>: Encode<'q, DB>,
{
    b.push_bind(c.report_id)
        .push_bind(c.metric.clone())
        .push_bind(c.cycle)
        .push_bind(c.operator_id)
        .push_bind(c.contract_id)
        .push_bind(c.policy_version)
        .push_bind(c.clock.clone())
        .push_bind(c.state.clone())
        .push_bind(c.started_at)
        .push_bind(c.due_at)
        .push_bind(c.met_at)
        .push_bind(c.breached_at)
        .push_bind(c.withdrawn_at)
        .push_bind(c.target_ms)
        .push_bind(c.elapsed_ms)
        .push_bind(c.overdue_ms)
        .push_bind(c.report_created_at)
        .push_bind(c.computed_at)
        .push_bind(c.next_check_at);
}

/// [`SharedWrites::insert_clocks`].
pub async fn insert_clocks_on<S: SqlBackend>(
    conn: &mut Conn<S>,
    clocks: &[ClockRecord],
) -> Result<()>
where
    for<'c> &'c mut Conn<S>: Executor<'c, Database = S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> String: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Ts>: Encode<'q, S::Db>,
{
    for chunk in clocks.chunks(BULK_ROWS) {
        let mut insert =
            QueryBuilder::<S::Db>::new(format!("INSERT INTO sla_clocks ({CLOCK_COLUMNS}) "));
        insert.push_values(chunk, |mut b, c| push_clock_values_on(&mut b, c));
        insert.build().execute(&mut *conn).await.map_err(S::error)?;
    }
    Ok(())
}

/// [`SharedWrites::replace_clocks`].
pub async fn replace_clocks_on<S: SqlBackend>(
    conn: &mut Conn<S>,
    report_id: Uuid,
    clocks: &[ClockRecord],
) -> Result<()>
where
    for<'c> &'c mut Conn<S>: Executor<'c, Database = S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> String: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Ts>: Encode<'q, S::Db>,
{
    sqlx::query("DELETE FROM sla_clocks WHERE report_id = $1")
        .bind(report_id)
        .execute(&mut *conn)
        .await
        .map_err(S::error)?;
    insert_clocks_on::<S>(conn, clocks).await
}

/// [`SharedWrites::bump_catalog`].
pub async fn bump_catalog_on<S: SqlBackend>(conn: &mut Conn<S>) -> Result<()>
where
    for<'c> &'c mut Conn<S>: Executor<'c, Database = S::Db>,
{
    sqlx::query("UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1")
        .execute(conn)
        .await
        .map_err(S::error)?;
    Ok(())
}

/// `impl SharedWrites for $store`, forwarding to the functions above (which checks their
/// bounds, and that their futures are `Send`, on the backend's own database).
#[macro_export]
macro_rules! impl_shared_writes {
    ($store:ty) => {
        const _: () = {
            use balagh_domain::NewEvent;
            use std::future::Future;
            use uuid::Uuid;
            use $crate::writes::{self, Conn, SharedWrites};
            use $crate::{ClockRecord, NewOutboxMessage, Result, Ts};

            impl SharedWrites for $store {
                fn insert_events<'a>(
                    conn: &'a mut Conn<Self>,
                    report_id: Uuid,
                    at: Ts,
                    events: &'a [NewEvent],
                ) -> impl Future<Output = Result<()>> + Send + 'a {
                    writes::insert_events_on::<Self>(conn, report_id, at, events)
                }

                fn insert_outbox<'a>(
                    conn: &'a mut Conn<Self>,
                    messages: &'a [NewOutboxMessage],
                ) -> impl Future<Output = Result<()>> + Send + 'a {
                    writes::insert_outbox_on::<Self>(conn, messages)
                }

                fn insert_clocks<'a>(
                    conn: &'a mut Conn<Self>,
                    clocks: &'a [ClockRecord],
                ) -> impl Future<Output = Result<()>> + Send + 'a {
                    writes::insert_clocks_on::<Self>(conn, clocks)
                }

                fn replace_clocks<'a>(
                    conn: &'a mut Conn<Self>,
                    report_id: Uuid,
                    clocks: &'a [ClockRecord],
                ) -> impl Future<Output = Result<()>> + Send + 'a {
                    writes::replace_clocks_on::<Self>(conn, report_id, clocks)
                }

                fn bump_catalog(
                    conn: &mut Conn<Self>,
                ) -> impl Future<Output = Result<()>> + Send + '_ {
                    writes::bump_catalog_on::<Self>(conn)
                }

                fn push_clock_values(
                    b: &mut $crate::sqlx::query_builder::Separated<
                        '_,
                        <Self as $crate::SqlBackend>::Db,
                        &'static str,
                    >,
                    c: &ClockRecord,
                ) {
                    writes::push_clock_values_on(b, c)
                }
            }
        };
    };
}
