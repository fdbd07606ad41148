//! The roll-up job's single `stats_state` row: its cursor, lease and revision.

use super::StatsState;
use crate::{Result, Sql, SqlBackend, Ts};
use sqlx::{Database, Encode, Executor, FromRow, Type};
use uuid::Uuid;

/// `stats_state` as read: cursor (at, id), lease (owner, until), revision.
type StateRow = (Ts, Uuid, Option<String>, Option<Ts>, i64);

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> StateRow: FromRow<'r, <S::Db as Database>::Row>,
{
    /// Gives the lease up if this worker holds it.
    pub async fn release_stats_lease(&self, worker: &str) -> Result<()> {
        sqlx::query(
            "UPDATE stats_state SET lease_owner = NULL, lease_until = NULL \
             WHERE id = 1 AND lease_owner = $1",
        )
        .bind(worker)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(())
    }

    /// The roll-up job's state.
    pub async fn stats_state(&self) -> Result<StatsState> {
        let (cursor_at, cursor_id, lease_owner, lease_until, revision): StateRow = sqlx::query_as(
            "SELECT cursor_at, cursor_id, lease_owner, lease_until, revision \
                 FROM stats_state WHERE id = 1",
        )
        .fetch_one(self.0.reader())
        .await
        .map_err(S::error)?;
        Ok(StatsState {
            cursor_at,
            cursor_id,
            lease_owner,
            lease_until,
            revision,
        })
    }

    /// Forgets every roll-up row and fact and rewinds the cursor, in one transaction.
    pub async fn reset_stats(&self) -> Result<()> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        sqlx::query(
            "UPDATE stats_state SET cursor_at = $1, cursor_id = $2, \
             revision = revision + 1 WHERE id = 1",
        )
        .bind(Ts::new(time::OffsetDateTime::UNIX_EPOCH))
        .bind(Uuid::nil())
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        for table in ["stats_rollups", "stats_report_facts"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                .execute(&mut *tx)
                .await
                .map_err(S::error)?;
        }
        tx.commit().await.map_err(S::error)
    }

    /// Moves the cursor to `at` (generators: everything before it is rolled up).
    pub async fn set_stats_cursor(&self, at: Ts) -> Result<()> {
        sqlx::query("UPDATE stats_state SET cursor_at = $1, cursor_id = $2 WHERE id = 1")
            .bind(at)
            .bind(Uuid::nil())
            .execute(self.0.writer())
            .await
            .map_err(S::error)?;
        Ok(())
    }
}
