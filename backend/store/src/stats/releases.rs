//! Stored releases (immutable published bodies) that spend no ε; those that do are written
//! with their ledger lines (see `ledger.rs`).

use crate::{Result, Sql, SqlBackend, Ts};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, QueryBuilder, Type};

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<Value>: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> (Json<Value>,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (String, Json<Value>): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (String,): FromRow<'r, <S::Db as Database>::Row>,
{
    /// A stored release's body.
    pub async fn stats_release(&self, release_id: &str) -> Result<Option<Value>> {
        let body: Option<Json<Value>> =
            sqlx::query_scalar("SELECT body FROM stats_releases WHERE release_id = $1")
                .bind(release_id)
                .fetch_optional(self.0.reader())
                .await
                .map_err(S::error)?;
        Ok(body.map(|b| b.0))
    }

    /// Stored releases by id (those that exist), in no particular order.
    pub async fn stats_releases(&self, ids: &[String]) -> Result<Vec<(String, Value)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<S::Db>::new(
            "SELECT release_id, body FROM stats_releases WHERE release_id IN (",
        );
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(id.as_str());
        }
        q.push(")");
        let rows: Vec<(String, Json<Value>)> = q
            .build_query_as()
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?;
        Ok(rows.into_iter().map(|(id, body)| (id, body.0)).collect())
    }

    /// Ids of the stored releases whose id starts with `prefix`, in order.
    pub async fn stats_release_ids(&self, prefix: &str) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT release_id FROM stats_releases \
             WHERE substr(release_id, 1, length($1)) = $1 ORDER BY release_id",
        )
        .bind(prefix)
        .fetch_all(self.0.reader())
        .await
        .map_err(S::error)
    }

    /// Stores a release that spends no ε unless one with that id exists; the stored body.
    pub async fn put_stats_release(
        &self,
        release_id: &str,
        body: &Value,
        now: Ts,
    ) -> Result<Value> {
        sqlx::query(
            "INSERT INTO stats_releases (release_id, epsilon_micros, body, created_at) \
             VALUES ($1, 0, $2, $3) ON CONFLICT (release_id) DO NOTHING",
        )
        .bind(release_id)
        .bind(Json(body.clone()))
        .bind(now)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        let stored: Json<Value> =
            sqlx::query_scalar("SELECT body FROM stats_releases WHERE release_id = $1")
                .bind(release_id)
                .fetch_one(self.0.writer())
                .await
                .map_err(S::error)?;
        Ok(stored.0)
    }
}
