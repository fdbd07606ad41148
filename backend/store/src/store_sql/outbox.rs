//! The outbox's delivery side (claims with a lease, results, the dead letters operators
//! replay, purging what was delivered) and the operators' webhook endpoints.

use crate::{
    DeliveryResult, OUTBOX_COLUMNS, OutboxMessage, OutboxState, Result, Sql, SqlBackend, SqlDb, Ts,
    WebhookEndpoint,
};
use balagh_domain::OperatorId;
use sqlx::{Database, Encode, Executor, FromRow, Type};
use uuid::Uuid;

impl<S: SqlBackend> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> bool: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> i64: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> OutboxMessage: FromRow<'r, <S::Db as Database>::Row>,
    for<'r> WebhookEndpoint: FromRow<'r, <S::Db as Database>::Row>,
{
    /// Creates or replaces an operator's webhook endpoint.
    pub async fn set_webhook_endpoint(&self, e: &WebhookEndpoint, at: Ts) -> Result<()> {
        sqlx::query(
            "INSERT INTO operator_webhooks (operator_id, url, secret, active, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (operator_id) DO UPDATE SET \
             url = excluded.url, secret = excluded.secret, active = excluded.active, \
             updated_at = excluded.updated_at",
        )
        .bind(e.operator_id)
        .bind(e.url.as_str())
        .bind(e.secret.as_str())
        .bind(e.active)
        .bind(at)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(())
    }

    /// An operator's webhook endpoint, if it set one.
    pub async fn webhook_endpoint(&self, operator: OperatorId) -> Result<Option<WebhookEndpoint>> {
        sqlx::query_as::<_, WebhookEndpoint>(
            "SELECT operator_id, url, secret, active FROM operator_webhooks \
             WHERE operator_id = $1",
        )
        .bind(operator.0)
        .fetch_optional(self.0.reader())
        .await
        .map_err(S::error)
    }

    /// Claims up to `limit` due pending messages of a topic for `lease`.
    pub async fn claim_outbox(
        &self,
        topic: &str,
        now: Ts,
        lease: time::Duration,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>> {
        let sql = format!(
            "UPDATE outbox SET locked_until = $3, \
             first_attempt_at = COALESCE(first_attempt_at, $2) \
             WHERE id IN (SELECT id FROM outbox WHERE topic = $1 AND state = 'pending' \
             AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until <= $2) \
             ORDER BY next_attempt_at LIMIT $4{}) RETURNING {OUTBOX_COLUMNS}",
            S::SKIP_LOCKED
        );
        sqlx::query_as::<_, OutboxMessage>(sqlx::AssertSqlSafe(sql))
            .bind(topic)
            .bind(now)
            .bind(Ts::new(now.get() + lease))
            .bind(i64::from(limit))
            .fetch_all(self.0.writer())
            .await
            .map_err(S::error)
    }

    /// Records how a delivery attempt went.
    pub async fn record_delivery(&self, id: Uuid, result: &DeliveryResult) -> Result<()> {
        let query = match result {
            DeliveryResult::Delivered { at } => sqlx::query(
                "UPDATE outbox SET state = 'delivered', delivered_at = $2, \
                 attempts = attempts + 1, locked_until = NULL, last_error = NULL \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(*at),
            DeliveryResult::Retry {
                error,
                next_attempt_at,
            } => sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $2, \
                 next_attempt_at = $3, locked_until = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(error.as_str())
            .bind(*next_attempt_at),
            DeliveryResult::Dead { error } => sqlx::query(
                "UPDATE outbox SET state = 'dead', attempts = attempts + 1, \
                 last_error = $2, locked_until = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(error.as_str()),
        };
        query.execute(self.0.writer()).await.map_err(S::error)?;
        Ok(())
    }

    /// An operator's messages in a state, newest first.
    pub async fn outbox_messages(
        &self,
        operator: OperatorId,
        state: OutboxState,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE operator_id = $1 AND state = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        );
        sqlx::query_as::<_, OutboxMessage>(sqlx::AssertSqlSafe(sql))
            .bind(operator.0)
            .bind(state.as_str())
            .bind(i64::from(limit))
            .fetch_all(self.0.reader())
            .await
            .map_err(S::error)
    }

    /// Puts a dead message back in the queue; false if there is no such dead message.
    pub async fn replay_outbox(&self, operator: OperatorId, id: Uuid, now: Ts) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'pending', attempts = 0, first_attempt_at = NULL, \
             next_attempt_at = $3, locked_until = NULL WHERE id = $1 \
             AND operator_id = $2 AND state = 'dead'",
        )
        .bind(id)
        .bind(operator.0)
        .bind(now)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(S::Db::rows_affected(&done) == 1)
    }

    /// Deletes up to `limit` delivered messages created before `before`; how many.
    pub async fn purge_delivered_outbox(&self, before: Ts, limit: u32) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
             WHERE state = 'delivered' AND created_at < $1 ORDER BY created_at LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(S::Db::rows_affected(&done))
    }
}
