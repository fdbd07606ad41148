//! Reads of the roll-up rows: the published figures, the maps, the first day counted.

use super::{CellNewCount, ROLLUP_COLUMNS, RollupRow, StatsRow};
use crate::{Result, Sql, SqlBackend};
use sqlx::{Database, Encode, Executor, FromRow, Type};

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> RollupRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (String, Option<String>, i64, i64): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Option<i32>,): FromRow<'r, <S::Db as Database>::Row>,
{
    /// Rows of a jurisdiction for local days `from..=to`, all-cells or per-cell.
    pub async fn stats_rows(
        &self,
        jurisdiction: &str,
        from: i32,
        to: i32,
        per_cell: bool,
    ) -> Result<Vec<StatsRow>> {
        // The literal conditions match the partial indexes.
        let cells = if per_cell { "cell <> 0" } else { "cell = 0" };
        let sql = format!(
            "SELECT {ROLLUP_COLUMNS} FROM stats_rollups WHERE {cells} \
             AND jurisdiction_id = $1 AND day >= $2 AND day <= $3"
        );
        let rows: Vec<RollupRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(jurisdiction)
            .bind(from)
            .bind(to)
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?;
        rows.into_iter().map(RollupRow::into_domain).collect()
    }

    /// `new` summed per cell, service and district over `from..=to`.
    pub async fn stats_cell_counts(
        &self,
        jurisdiction: &str,
        from: i32,
        to: i32,
    ) -> Result<Vec<CellNewCount>> {
        let rows: Vec<(String, Option<String>, i64, i64)> = sqlx::query_as(
            "SELECT service_code, district, cell, CAST(SUM(new) AS BIGINT) \
             FROM stats_rollups WHERE cell <> 0 AND jurisdiction_id = $1 \
             AND day >= $2 AND day <= $3 AND new > 0 \
             GROUP BY service_code, district, cell",
        )
        .bind(jurisdiction)
        .bind(from)
        .bind(to)
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)?;
        Ok(rows
            .into_iter()
            .map(|(service, district, cell, new)| CellNewCount {
                service,
                district,
                cell,
                new,
            })
            .collect())
    }

    /// The first local day (Julian day number) with roll-up rows in a jurisdiction.
    pub async fn stats_first_day(&self, jurisdiction: &str) -> Result<Option<i32>> {
        sqlx::query_scalar(
            "SELECT MIN(day) FROM stats_rollups WHERE cell = 0 AND jurisdiction_id = $1",
        )
        .bind(jurisdiction)
        .fetch_one(self.0.reader())
        .await
        .map_err(S::error)
    }
}
