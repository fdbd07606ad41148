//! Processed photos: stored in place of their slot, attached, moderated, and collected
//! when a draft is never attached.

use super::{
    NewPhoto, PHOTO_COLUMNS, PhotoAttachment, PhotoModeration, PhotoRow, StoredPhoto,
    stored_dimension,
};
use crate::{Result, SharedWrites, Sql, SqlDb, Ts};
use balagh_domain::NewEvent;
use sqlx::{Database, Encode, Executor, FromRow, Type};
use uuid::Uuid;

impl<S: SharedWrites> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> f64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<f64>: Encode<'q, S::Db>,
    for<'q> bool: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Uuid>: Encode<'q, S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Ts>: Encode<'q, S::Db>,
    for<'r> PhotoRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Uuid,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (i32,): FromRow<'r, <S::Db as Database>::Row>,
{
    /// Appends events to a report's history (no transaction of its own).
    async fn append_events(
        conn: &mut <S::Db as Database>::Connection,
        report_id: Uuid,
        at: Ts,
        events: &[NewEvent],
    ) -> Result<()> {
        S::insert_events(&mut *conn, report_id, at, events).await?;
        Ok(())
    }

    /// Stores the photo, its events, and removes its slot, in one transaction.
    pub async fn insert_photo(&self, new: &NewPhoto) -> Result<()> {
        let p = &new.photo;
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let sql = format!(
            "INSERT INTO photos ({PHOTO_COLUMNS}, attached_at) VALUES ($1, $2, $3, \
             $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20, $21, $22, $23, $24, $25)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(p.id)
            .bind(p.report_id)
            .bind(p.uploader.kind())
            .bind(p.uploader.device())
            .bind(p.uploader.user())
            .bind(p.uploader.operator().map(|o| o.0))
            .bind(p.purpose.as_str())
            .bind(p.detected_type.as_str())
            .bind(stored_dimension(p.width))
            .bind(stored_dimension(p.height))
            .bind(p.large.sha256.as_str())
            .bind(stored_dimension(p.large.width))
            .bind(stored_dimension(p.large.height))
            .bind(p.thumbnail.sha256.as_str())
            .bind(stored_dimension(p.thumbnail.width))
            .bind(stored_dimension(p.thumbnail.height))
            .bind(p.gps_distance_m)
            .bind(p.gps_far)
            .bind(p.draft_gps.map(|(lat, _)| lat))
            .bind(p.draft_gps.map(|(_, lon)| lon))
            .bind(p.approved)
            .bind(p.moderated_by)
            .bind(p.moderated_at)
            .bind(p.created_at)
            .bind(p.report_id.map(|_| p.created_at))
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        sqlx::query("DELETE FROM upload_slots WHERE id = $1")
            .bind(p.id)
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
        if let Some(report_id) = p.report_id {
            Self::append_events(&mut *tx, report_id, p.created_at, &new.events).await?;
        }
        tx.commit().await.map_err(S::error)?;
        Ok(())
    }

    /// One photo, draft or attached.
    pub async fn photo(&self, id: Uuid) -> Result<Option<StoredPhoto>> {
        let sql = format!("SELECT {PHOTO_COLUMNS} FROM photos WHERE id = $1");
        sqlx::query_as::<_, PhotoRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.reader())
            .await
            .map_err(S::error)?
            .map(PhotoRow::into_domain)
            .transpose()
    }

    /// A report's photos, oldest first.
    pub async fn report_photos(&self, report_id: Uuid) -> Result<Vec<StoredPhoto>> {
        let sql = format!(
            "SELECT {PHOTO_COLUMNS} FROM photos WHERE report_id = $1 ORDER BY created_at, id"
        );
        sqlx::query_as::<_, PhotoRow>(sqlx::AssertSqlSafe(sql))
            .bind(report_id)
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)?
            .into_iter()
            .map(PhotoRow::into_domain)
            .collect()
    }

    /// Attaches a draft of this device to a report; false if there is no such draft.
    pub async fn attach_photo(&self, a: &PhotoAttachment) -> Result<bool> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let done = sqlx::query(
            "UPDATE photos SET report_id = $1, gps_distance_m = $2, gps_far = $3, \
             draft_gps_lat = NULL, draft_gps_lon = NULL, attached_at = $4 \
             WHERE id = $5 AND report_id IS NULL AND device_id = $6",
        )
        .bind(a.report_id)
        .bind(a.gps_distance_m)
        .bind(a.gps_far)
        .bind(a.at)
        .bind(a.photo_id)
        .bind(a.device)
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        if S::Db::rows_affected(&done) != 1 {
            return Ok(false);
        }
        Self::append_events(&mut *tx, a.report_id, a.at, &a.events).await?;
        tx.commit().await.map_err(S::error)?;
        Ok(true)
    }

    /// Sets the moderation flag; false if there is no such photo on a report.
    pub async fn moderate_photo(&self, m: &PhotoModeration) -> Result<bool> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let report_id: Option<Uuid> = sqlx::query_scalar(
            "UPDATE photos SET approved = $1, moderated_by = $2, moderated_at = $3 \
             WHERE id = $4 AND report_id IS NOT NULL RETURNING report_id",
        )
        .bind(m.approved)
        .bind(m.by)
        .bind(m.at)
        .bind(m.photo_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(S::error)?;
        let Some(report_id) = report_id else {
            return Ok(false);
        };
        Self::append_events(&mut *tx, report_id, m.at, &m.events).await?;
        tx.commit().await.map_err(S::error)?;
        Ok(true)
    }

    /// Removes up to `limit` draft photos created before `before` that were never attached.
    pub async fn take_stale_drafts(&self, before: Ts, limit: u32) -> Result<Vec<StoredPhoto>> {
        let sql = format!(
            "DELETE FROM photos WHERE id IN (SELECT id FROM photos \
             WHERE report_id IS NULL AND created_at < $1 ORDER BY created_at \
             LIMIT $2{}) RETURNING {PHOTO_COLUMNS}",
            S::SKIP_LOCKED
        );
        sqlx::query_as::<_, PhotoRow>(sqlx::AssertSqlSafe(sql))
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(self.0.writer())
            .await
            .map_err(S::error)?
            .into_iter()
            .map(PhotoRow::into_domain)
            .collect()
    }

    /// Whether any photo still uses a rendition with this content hash.
    pub async fn rendition_in_use(&self, sha256: &str) -> Result<bool> {
        let found: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM photos WHERE large_sha256 = $1 OR thumb_sha256 = $1 LIMIT 1",
        )
        .bind(sha256)
        .fetch_optional(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(found.is_some())
    }
}
