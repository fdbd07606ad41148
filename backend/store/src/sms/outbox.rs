//! Messages waiting for gateways that poll (SMSSync), and the erasure of phone numbers
//! from the log, the conversations and the messages.

use super::{PendingSms, SMS_TOPIC};
use crate::{Result, Sql, SqlBackend, SqlDb, Ts};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, Type};
use uuid::Uuid;

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<Value>: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> PendingSms: FromRow<'r, <S::Db as Database>::Row>,
{
    /// Queues a message for a gateway that polls (SMSSync).
    pub async fn queue_pending_sms(
        &self,
        gateway: Uuid,
        id: Uuid,
        phone: &str,
        body: &str,
        at: Ts,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sms_pending (id, gateway_id, phone, body, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(gateway)
        .bind(phone)
        .bind(body)
        .bind(at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(())
    }

    /// Hands out up to `limit` queued messages of a polling gateway, oldest first, once.
    pub async fn take_pending_sms(
        &self,
        gateway: Uuid,
        at: Ts,
        limit: u32,
    ) -> Result<Vec<PendingSms>> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let sql = format!(
            "SELECT id, phone, body FROM sms_pending WHERE gateway_id = $1 \
             AND taken_at IS NULL ORDER BY created_at, id LIMIT $2{}",
            S::FOR_UPDATE
        );
        let taken: Vec<PendingSms> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(gateway)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(S::error)?;
        for m in &taken {
            sqlx::query("UPDATE sms_pending SET taken_at = $2 WHERE id = $1")
                .bind(m.id)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(S::error)?;
        }
        tx.commit().await.map_err(S::error)?;
        Ok(taken)
    }

    /// Erases phone numbers older than `before`; how many log rows, conversations and
    /// queued messages were touched.
    pub async fn erase_sms_contacts(&self, before: Ts) -> Result<u64> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let mut touched = 0;
        for sql in [
            "UPDATE sms_messages SET phone = NULL \
             WHERE phone IS NOT NULL AND received_at < $1",
            "DELETE FROM sms_conversations WHERE updated_at < $1",
            "DELETE FROM sms_pending WHERE created_at < $1",
        ] {
            let done = sqlx::query(sql)
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(S::error)?;
            touched += S::Db::rows_affected(&done);
        }
        // Sent or dead SMS keep their number only until then.
        sqlx::query(
            "UPDATE outbox SET payload = $2 WHERE topic = $3 \
             AND state <> 'pending' AND created_at < $1",
        )
        .bind(before)
        .bind(Json(serde_json::json!({ "erased": true })))
        .bind(SMS_TOPIC)
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        tx.commit().await.map_err(S::error)?;
        Ok(touched)
    }
}
