//! Write helpers the areas' SQL shares (the core [`Store`](crate::Store) SQL itself is in
//! `store_sql/`, behind [`impl_sql_store!`](crate::impl_sql_store)). SQL text uses `$N`
//! placeholders, which both databases accept.

/// Bound on rows per multi-row INSERT: 20 columns × 500 rows stays under both databases'
/// parameter limits.
pub const BULK_ROWS: usize = 500;

/// Appends events to a report's history in one statement (a macro, so that it works with
/// either database's connection type).
#[doc(hidden)]
#[macro_export]
macro_rules! __insert_events_sql {
    ($conn:ident, $store:ty, $db:ty, $report_id:expr, $at:expr, $events:expr) => {
        let events: &[balagh_domain::NewEvent] = $events;
        if !events.is_empty() {
            let mut insert = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO report_events (id, report_id, kind, actor, public, data, at) ",
            );
            insert.push_values(events, |mut b, event| {
                b.push_bind(Uuid::now_v7())
                    .push_bind($report_id)
                    .push_bind(event.kind.as_str())
                    .push_bind(event.actor.to_stored())
                    .push_bind(event.public)
                    .push_bind(Json(event.data.clone()))
                    .push_bind($at);
            });
            insert
                .build()
                .execute(&mut *$conn)
                .await
                .map_err(<$store>::error)?;
        }
    };
}
#[doc(hidden)]
pub use __insert_events_sql as insert_events_sql;
