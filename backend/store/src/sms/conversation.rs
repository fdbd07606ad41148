//! One inbound message's way through the store: the log with its limits, the claim of the
//! number's conversation, and the conversation saved with its answers.

use super::{ConversationClaim, InboundOutcome, InboundSms, StoredConversation};
use crate::{NewOutboxMessage, Result, SharedWrites, Sql, SqlDb, StoreError, Ts};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, FromRow, Type};
use uuid::Uuid;

impl<S: SharedWrites> Sql<'_, S>
where
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
    for<'q> &'q str: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> &'q [u8]: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> bool: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Uuid: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Ts: Encode<'q, S::Db> + Type<S::Db>,
    for<'q> Json<&'q Value>: Encode<'q, S::Db> + Type<S::Db>,
    for<'r> (i32, i32): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (i64, i64): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Option<Ts>,): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Json<Value>, bool): FromRow<'r, <S::Db as Database>::Row>,
    for<'r> (Uuid,): FromRow<'r, <S::Db as Database>::Row>,
{
    /// Logs an inbound message unless its key was seen, counting it against the number's
    /// and the gateway's limits over the hour before it.
    pub async fn record_inbound_sms(&self, m: &InboundSms) -> Result<InboundOutcome> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let limits: Option<(i32, i32)> = sqlx::query_as(
            "SELECT per_number_per_hour, per_gateway_per_hour FROM sms_gateways WHERE id = $1",
        )
        .bind(m.gateway_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(S::error)?;
        let Some((per_number, per_gateway)) = limits else {
            return Err(StoreError::MissingReference);
        };
        let inserted = sqlx::query(
            "INSERT INTO sms_messages (id, gateway_id, dedupe_key, phone, \
             received_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (gateway_id, dedupe_key) DO NOTHING",
        )
        .bind(m.id)
        .bind(m.gateway_id)
        .bind(m.dedupe_key.as_slice())
        .bind(m.phone.as_str())
        .bind(m.received_at)
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        if S::Db::rows_affected(&inserted) == 0 {
            // Seen: a repeat, unless its handling never finished.
            let handled = Self::handled_at(&mut *tx, m.gateway_id, &m.dedupe_key).await?;
            return Ok(match handled {
                Some(None) => InboundOutcome::Accepted,
                _ => InboundOutcome::Duplicate,
            });
        }
        // Counted after the insert, in its transaction: this message included.
        let since = Ts::new(m.received_at.get() - time::Duration::hours(1));
        let (number, gateway): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN phone = $2 THEN 1 ELSE 0 END), 0), \
             COUNT(*) FROM sms_messages WHERE gateway_id = $1 AND received_at > $3",
        )
        .bind(m.gateway_id)
        .bind(m.phone.as_str())
        .bind(since)
        .fetch_one(&mut *tx)
        .await
        .map_err(S::error)?;
        let outcome = if number > i64::from(per_number) {
            InboundOutcome::NumberLimited
        } else if gateway > i64::from(per_gateway) {
            InboundOutcome::GatewayLimited
        } else {
            InboundOutcome::Accepted
        };
        if outcome != InboundOutcome::Accepted {
            // Logged, not acted on: done with (its retries are repeats).
            sqlx::query("UPDATE sms_messages SET handled_at = $2 WHERE id = $1")
                .bind(m.id)
                .bind(m.received_at)
                .execute(&mut *tx)
                .await
                .map_err(S::error)?;
        }
        tx.commit().await.map_err(S::error)?;
        Ok(outcome)
    }

    /// The logged message's `handled_at`: `None` when it is not logged, `Some(None)` when
    /// it is not handled yet.
    async fn handled_at(
        conn: &mut <S::Db as Database>::Connection,
        gateway: Uuid,
        dedupe_key: &[u8],
    ) -> Result<Option<Option<Ts>>> {
        sqlx::query_scalar(
            "SELECT handled_at FROM sms_messages \
             WHERE gateway_id = $1 AND dedupe_key = $2",
        )
        .bind(gateway)
        .bind(dedupe_key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(S::error)
    }

    /// Claims the conversation of (gateway, phone) to act on the message `dedupe_key`.
    pub async fn claim_sms_conversation(
        &self,
        gateway: Uuid,
        phone: &str,
        dedupe_key: &[u8],
        at: Ts,
        until: Ts,
    ) -> Result<ConversationClaim> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        sqlx::query(
            "INSERT INTO sms_conversations (gateway_id, phone, state, stopped, \
             updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (gateway_id, phone) DO NOTHING",
        )
        .bind(gateway)
        .bind(phone)
        .bind(Json(&Value::Null))
        .bind(false)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        // The row lock (PostgreSQL) or the single writer (SQLite) makes this a test-and-set.
        let claimed = sqlx::query(
            "UPDATE sms_conversations SET claimed_until = $4 \
             WHERE gateway_id = $1 AND phone = $2 \
             AND (claimed_until IS NULL OR claimed_until <= $3)",
        )
        .bind(gateway)
        .bind(phone)
        .bind(at)
        .bind(until)
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        if S::Db::rows_affected(&claimed) == 0 {
            return Ok(ConversationClaim::Busy);
        }
        let handled = Self::handled_at(&mut *tx, gateway, dedupe_key).await?;
        if matches!(handled, Some(Some(_))) {
            // Rolled back: the claim is not taken.
            return Ok(ConversationClaim::Handled);
        }
        let (state, stopped): (Json<Value>, bool) = sqlx::query_as(
            "SELECT state, stopped FROM sms_conversations \
             WHERE gateway_id = $1 AND phone = $2",
        )
        .bind(gateway)
        .bind(phone)
        .fetch_one(&mut *tx)
        .await
        .map_err(S::error)?;
        tx.commit().await.map_err(S::error)?;
        Ok(ConversationClaim::Claimed(StoredConversation {
            state: state.0,
            stopped,
        }))
    }

    /// Ends a claim without saving (the handling failed).
    pub async fn release_sms_conversation(&self, gateway: Uuid, phone: &str) -> Result<()> {
        sqlx::query(
            "UPDATE sms_conversations SET claimed_until = NULL \
             WHERE gateway_id = $1 AND phone = $2",
        )
        .bind(gateway)
        .bind(phone)
        .execute(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(())
    }

    /// The conversation of (gateway, phone), read on the writer.
    pub async fn sms_conversation(
        &self,
        gateway: Uuid,
        phone: &str,
    ) -> Result<Option<StoredConversation>> {
        let row: Option<(Json<Value>, bool)> = sqlx::query_as(
            "SELECT state, stopped FROM sms_conversations \
             WHERE gateway_id = $1 AND phone = $2",
        )
        .bind(gateway)
        .bind(phone)
        .fetch_optional(self.0.writer())
        .await
        .map_err(S::error)?;
        Ok(row.map(|(state, stopped)| StoredConversation {
            state: state.0,
            stopped,
        }))
    }

    /// Saves a conversation, marks the message handled, queues the answers and ends the
    /// claim, in one transaction; false (nothing saved) when the message was handled already.
    pub async fn save_sms_conversation(
        &self,
        gateway: Uuid,
        phone: &str,
        dedupe_key: &[u8],
        c: &StoredConversation,
        at: Ts,
        outbox: &[NewOutboxMessage],
    ) -> Result<bool> {
        let mut tx = self.0.writer().begin().await.map_err(S::error)?;
        let marked = sqlx::query(
            "UPDATE sms_messages SET handled_at = $3 \
             WHERE gateway_id = $1 AND dedupe_key = $2 AND handled_at IS NULL",
        )
        .bind(gateway)
        .bind(dedupe_key)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        if S::Db::rows_affected(&marked) == 0 {
            // Handled meanwhile: only the claim ends.
            sqlx::query(
                "UPDATE sms_conversations SET claimed_until = NULL \
                 WHERE gateway_id = $1 AND phone = $2",
            )
            .bind(gateway)
            .bind(phone)
            .execute(&mut *tx)
            .await
            .map_err(S::error)?;
            tx.commit().await.map_err(S::error)?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO sms_conversations (gateway_id, phone, state, stopped, \
             updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (gateway_id, phone) DO UPDATE SET state = excluded.state, \
             stopped = excluded.stopped, updated_at = excluded.updated_at, \
             claimed_until = NULL",
        )
        .bind(gateway)
        .bind(phone)
        .bind(Json(&c.state))
        .bind(c.stopped)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(S::error)?;
        S::insert_outbox(&mut *tx, outbox).await?;
        tx.commit().await.map_err(S::error)?;
        Ok(true)
    }

    /// The report with this public reference.
    pub async fn report_id_by_reference(&self, reference: &str) -> Result<Option<Uuid>> {
        sqlx::query_scalar("SELECT id FROM reports WHERE reference = $1")
            .bind(reference)
            .fetch_optional(self.0.reader())
            .await
            .map_err(S::error)
    }
}
