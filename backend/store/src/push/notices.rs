//! Service notices: published with their fan-out message, read by area or by commune, and
//! withdrawn.

use super::{NOTICE_COLUMNS, NoticeRow, StoredNotice};
use crate::{NewOutboxMessage, Result, SharedWrites, Sql, SqlDb, Ts};
use balagh_domain::notify::area::BoundingBox;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, Type};
use uuid::Uuid;

impl<S: SharedWrites> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> f64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<f64>: Encode<'q, S::Db>,
    for<'q> bool: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Uuid>: Encode<'q, S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Ts>: Encode<'q, S::Db>,
    for<'q> Json<&'q [String]>: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<&'q Value>: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> NoticeRow: FromRow<'r, <S::Db as Database>::Row>,
{
    /// Stores a notice with its fan-out message, in one transaction.
    pub async fn create_notice(&self, n: &StoredNotice, fanout: &NewOutboxMessage) -> Result<()> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO service_notices ({NOTICE_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        )))
        .bind(n.id)
        .bind(n.jurisdiction_id.as_str())
        .bind(n.kind.as_str())
        .bind(Json(n.service_codes.as_slice()))
        .bind(Json(&n.area))
        .bind(n.radius_m)
        .bind(n.bbox.min_lat)
        .bind(n.bbox.max_lat)
        .bind(n.bbox.min_lon)
        .bind(n.bbox.max_lon)
        .bind(n.valid_from)
        .bind(n.valid_until)
        .bind(Json(&n.texts))
        .bind(n.operator_id)
        .bind(n.published_by)
        .bind(n.created_at)
        .bind(n.withdrawn_at)
        .bind(n.urgent)
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        S::insert_outbox(&mut *tx, std::slice::from_ref(fanout)).await?;
        tx.commit().await.map_err(S::error)
    }

    /// One notice, running or not.
    pub async fn notice(&self, id: Uuid) -> Result<Option<StoredNotice>> {
        let sql = format!("SELECT {NOTICE_COLUMNS} FROM service_notices WHERE id = $1");
        Ok(sqlx::query_as::<_, NoticeRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.reader())
            .await
            .map_err(S::error)?
            .map(NoticeRow::into_domain))
    }

    /// Notices active at `now` whose box overlaps `bbox`, soonest ending first.
    pub async fn active_notices(
        &self,
        bbox: &BoundingBox,
        now: Ts,
        limit: u32,
    ) -> Result<Vec<StoredNotice>> {
        let sql = format!(
            "SELECT {NOTICE_COLUMNS} FROM service_notices WHERE valid_until > $5 \
             AND valid_from <= $5 AND withdrawn_at IS NULL \
             AND min_lat <= $2 AND max_lat >= $1 AND min_lon <= $4 AND max_lon >= $3 \
             ORDER BY valid_until, id LIMIT $6"
        );
        Ok(sqlx::query_as::<_, NoticeRow>(sqlx::AssertSqlSafe(sql))
            .bind(bbox.min_lat)
            .bind(bbox.max_lat)
            .bind(bbox.min_lon)
            .bind(bbox.max_lon)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?
            .into_iter()
            .map(NoticeRow::into_domain)
            .collect())
    }

    /// Notices of a jurisdiction not yet ended (for staff and operators), newest first.
    pub async fn current_notices(
        &self,
        jurisdiction: &str,
        now: Ts,
        limit: u32,
    ) -> Result<Vec<StoredNotice>> {
        let sql = format!(
            "SELECT {NOTICE_COLUMNS} FROM service_notices WHERE jurisdiction_id = $1 \
             AND valid_until > $2 AND withdrawn_at IS NULL \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        );
        Ok(sqlx::query_as::<_, NoticeRow>(sqlx::AssertSqlSafe(sql))
            .bind(jurisdiction)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?
            .into_iter()
            .map(NoticeRow::into_domain)
            .collect())
    }

    /// Ends a notice now; false if there is no such notice still running.
    pub async fn withdraw_notice(&self, id: Uuid, at: Ts) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE service_notices SET withdrawn_at = $2 WHERE id = $1 \
             AND withdrawn_at IS NULL AND valid_until > $2",
        )
        .bind(id)
        .bind(at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(S::Db::rows_affected(&done) == 1)
    }
}
