//! The history by month (see `balagh_store::history` and the migration
//! `20261211500000_report_events_by_month.sql`).

use crate::PostgresStore;
use balagh_domain::ReportStatus;
use balagh_store::history::month_of_partition;
use balagh_store::{HistoryDrop, HistoryStore, Result, SqlBackend, Ts, async_trait};

/// `(year, month)` as a count of months, to compare and step months.
fn month_index(year: i32, month: u8) -> i64 {
    i64::from(year) * 12 + i64::from(month) - 1
}

#[async_trait]
impl HistoryStore for PostgresStore {
    async fn prepare_history(&self, from: Ts, to: Ts) -> Result<u32> {
        // Only the months asked for: creating a month moves its events out of the default
        // partition, which locks it against writers there, so the hourly round (next months
        // only) never touches what a bulk load of past months is writing.
        let created: Vec<bool> = sqlx::query_scalar(
            "SELECT balagh_event_month(m) FROM generate_series( \
               date_trunc('month', $1::timestamptz, 'UTC'), \
               date_trunc('month', $2::timestamptz, 'UTC'), interval '1 month') AS m ORDER BY m",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.writer())
        .await
        .map_err(Self::error)?;
        Ok(created.into_iter().filter(|c| *c).count() as u32)
    }

    async fn drop_history_before(&self, before: Ts) -> Result<Option<HistoryDrop>> {
        let partitions: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'report_events'::regclass ORDER BY 1",
        )
        .fetch_all(self.writer())
        .await
        .map_err(Self::error)?;
        let before = before.get().to_offset(time::UtcOffset::UTC);
        let first_kept = month_index(before.year(), u8::from(before.month()));
        let open = ReportStatus::OPEN
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut outcome = HistoryDrop::default();
        for name in partitions {
            let Some((year, month)) = month_of_partition(&name) else {
                continue;
            };
            if month_index(year, month) >= first_kept {
                continue;
            }
            let label = format!("{year:04}-{month:02}");
            // The name came from the catalogue and matched `report_events_YYYY_MM`.
            let holds_open = format!(
                "SELECT EXISTS (SELECT 1 FROM {name} e JOIN reports r ON r.id = e.report_id \
                 WHERE r.status IN ({open}))"
            );
            let mut tx = self.writer().begin().await.map_err(Self::error)?;
            let open: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(holds_open))
                .fetch_one(&mut *tx)
                .await
                .map_err(Self::error)?;
            if open {
                outcome.kept_open.push(label);
                continue;
            }
            for statement in [
                format!("ALTER TABLE report_events DETACH PARTITION {name}"),
                format!("DROP TABLE {name}"),
            ] {
                sqlx::query(sqlx::AssertSqlSafe(statement))
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::error)?;
            }
            tx.commit().await.map_err(Self::error)?;
            outcome.dropped.push(label);
        }
        Ok(Some(outcome))
    }
}
