//! The per-device push messages of the outbox: queued by fan-outs, their delivery outcomes,
//! and the staff's view and replay of them.

use super::{NewPush, PUSH_FANOUT_TOPIC, PUSH_TOPIC};
use crate::writes::BULK_ROWS;
use crate::{
    DeliveryResult, OUTBOX_COLUMNS, OutboxMessage, OutboxState, Result, Sql, SqlBackend, SqlDb, Ts,
};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, QueryBuilder, Type};
use uuid::Uuid;

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Option<&'q str>: Encode<'q, S::Db>,
    for<'q> i32: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<&'q Value>: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> OutboxMessage: FromRow<'r, <S::Db as Database>::Row>,
{
    /// Queues pushes, skipping those whose dedupe key is already queued; how many were added.
    pub async fn enqueue_pushes(&self, pushes: &[NewPush]) -> Result<u64> {
        let mut added = 0;
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        for chunk in pushes.chunks(BULK_ROWS) {
            let mut insert = QueryBuilder::<S::Db>::new(
                "INSERT INTO outbox (id, topic, device_id, dedupe_key, event_type, \
                 payload, state, attempts, next_attempt_at, created_at, \
                 jurisdiction_id) ",
            );
            insert.push_values(chunk, |mut b, p| {
                b.push_bind(p.id)
                    .push_bind(PUSH_TOPIC)
                    .push_bind(p.device_id)
                    .push_bind(p.dedupe_key.as_str())
                    .push_bind(p.event_type.as_str())
                    .push_bind(Json(&p.payload))
                    .push_bind("pending")
                    .push_bind(0_i32)
                    .push_bind(p.not_before)
                    .push_bind(p.created_at)
                    .push_bind(p.jurisdiction.as_ref().map(|j| j.as_str()));
            });
            insert.push(" ON CONFLICT (dedupe_key) DO NOTHING");
            let done = insert.build().execute(&mut *tx).await.map_err(S::error)?;
            added += S::Db::rows_affected(&done);
        }
        tx.commit().await.map_err(S::error)?;
        Ok(added)
    }

    /// Records the outcomes of many delivery attempts in one transaction.
    pub async fn record_deliveries(&self, results: &[(Uuid, DeliveryResult)]) -> Result<()> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        // Successes, by far the most common, in one statement per chunk.
        let delivered: Vec<(Uuid, Ts)> = results
            .iter()
            .filter_map(|(id, r)| match r {
                DeliveryResult::Delivered { at } => Some((*id, *at)),
                _ => None,
            })
            .collect();
        for chunk in delivered.chunks(BULK_ROWS) {
            let at = chunk
                .iter()
                .map(|(_, at)| *at)
                .max()
                .unwrap_or_else(Ts::now);
            let mut update = QueryBuilder::<S::Db>::new(
                "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, \
                 locked_until = NULL, last_error = NULL, delivered_at = ",
            );
            update.push_bind(at).push(" WHERE id IN (");
            let mut ids = update.separated(", ");
            for (id, _) in chunk {
                ids.push_bind(*id);
            }
            update.push(")");
            update.build().execute(&mut *tx).await.map_err(S::error)?;
        }
        for (id, result) in results {
            let query = match result {
                DeliveryResult::Delivered { .. } => continue,
                DeliveryResult::Retry {
                    error,
                    next_attempt_at,
                } => sqlx::query(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $2, \
                     next_attempt_at = $3, locked_until = NULL WHERE id = $1",
                )
                .bind(*id)
                .bind(error.as_str())
                .bind(*next_attempt_at),
                DeliveryResult::Dead { error } => sqlx::query(
                    "UPDATE outbox SET state = 'dead', attempts = attempts + 1, \
                     last_error = $2, locked_until = NULL WHERE id = $1",
                )
                .bind(*id)
                .bind(error.as_str()),
            };
            query.execute(&mut *tx).await.map_err(S::error)?;
        }
        tx.commit().await.map_err(S::error)
    }

    /// Push and fan-out messages of a commune in a state, newest first (messages written
    /// before pushes named their commune are everyone's).
    pub async fn push_messages(
        &self,
        jurisdiction: &str,
        state: OutboxState,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE topic IN ($1, $2) AND state = $3 \
             AND (jurisdiction_id = $5 OR jurisdiction_id IS NULL) \
             ORDER BY created_at DESC, id DESC LIMIT $4"
        );
        sqlx::query_as::<_, OutboxMessage>(sqlx::AssertSqlSafe(sql))
            .bind(PUSH_TOPIC)
            .bind(PUSH_FANOUT_TOPIC)
            .bind(state.as_str())
            .bind(i64::from(limit))
            .bind(jurisdiction)
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)
    }

    /// Puts a commune's dead push or fan-out message back in the queue.
    pub async fn replay_push(&self, jurisdiction: &str, id: Uuid, now: Ts) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'pending', attempts = 0, first_attempt_at = NULL, \
             next_attempt_at = $2, locked_until = NULL WHERE id = $1 \
             AND topic IN ($3, $4) AND state = 'dead' \
             AND (jurisdiction_id = $5 OR jurisdiction_id IS NULL)",
        )
        .bind(id)
        .bind(now)
        .bind(PUSH_TOPIC)
        .bind(PUSH_FANOUT_TOPIC)
        .bind(jurisdiction)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(S::Db::rows_affected(&done) == 1)
    }
}
