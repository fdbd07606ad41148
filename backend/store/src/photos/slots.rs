//! Upload slots: created for an upload, claimed while it is processed, and collected when
//! never confirmed.

use super::{SLOT_COLUMNS, SlotRow, UploadSlot};
use crate::{Result, Sql, SqlBackend, Ts};
use sqlx::{Database, Encode, Executor, FromRow, Type};
use uuid::Uuid;

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<Uuid>: Encode<'q, S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> SlotRow: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Uuid,): FromRow<'r, <S::Db as Database>::Row>,
{
    /// Stores a new slot, pending its upload.
    pub async fn create_upload_slot(&self, s: &UploadSlot) -> Result<()> {
        sqlx::query(
            "INSERT INTO upload_slots (id, report_id, uploader_kind, device_id, \
             user_id, operator_id, purpose, state, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9)",
        )
        .bind(s.id)
        .bind(s.report_id)
        .bind(s.uploader.kind())
        .bind(s.uploader.device())
        .bind(s.uploader.user())
        .bind(s.uploader.operator().map(|o| o.0))
        .bind(s.purpose.as_str())
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(())
    }

    /// A slot not being processed nor confirmed.
    pub async fn upload_slot(&self, id: Uuid) -> Result<Option<UploadSlot>> {
        let sql =
            format!("SELECT {SLOT_COLUMNS} FROM upload_slots WHERE id = $1 AND state = 'pending'");
        sqlx::query_as::<_, SlotRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.reader())
            .await
            .map_err(S::error)?
            .map(SlotRow::into_domain)
            .transpose()
    }

    /// Reserves a pending slot for processing; `None` if it is gone or already taken.
    pub async fn claim_upload_slot(&self, id: Uuid) -> Result<Option<UploadSlot>> {
        let sql = format!(
            "UPDATE upload_slots SET state = 'processing' WHERE id = $1 \
             AND state = 'pending' RETURNING {SLOT_COLUMNS}"
        );
        sqlx::query_as::<_, SlotRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.writer())
            .await
            .map_err(S::error)?
            .map(SlotRow::into_domain)
            .transpose()
    }

    /// Puts a claimed slot back (the upload was refused).
    pub async fn release_upload_slot(&self, id: Uuid) -> Result<()> {
        sqlx::query("UPDATE upload_slots SET state = 'pending' WHERE id = $1")
            .bind(id)
            .execute(self.0.writer())
            .await
            .map_err(S::error)?;
        Ok(())
    }

    /// Removes up to `limit` slots created before `before` and returns their ids; each
    /// slot goes to one caller only.
    pub async fn take_stale_upload_slots(&self, before: Ts, limit: u32) -> Result<Vec<Uuid>> {
        let sql = format!(
            "DELETE FROM upload_slots WHERE id IN (SELECT id FROM upload_slots \
             WHERE created_at < $1 ORDER BY created_at LIMIT $2{}) RETURNING id",
            S::SKIP_LOCKED
        );
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(self.0.writer())
            .await
            .map_err(S::error)
    }
}
