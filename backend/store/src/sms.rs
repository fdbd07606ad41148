//! The SMS channel (issue 21): gateways configured by staff, one conversation per
//! (gateway, phone number), the log of inbound messages with our own dedupe key, and the
//! messages waiting for gateways that poll (SMSSync). [`SmsStore`] is a supertrait of
//! [`Store`](crate::Store); both backends share its SQL through
//! [`impl_sms_store!`](crate::impl_sms_store).
//!
//! Phone numbers are residents' private contact details: they are never part of an operator
//! view, and [`SmsStore::erase_sms_contacts`] removes them with the reports' other contacts.

use crate::{NewOutboxMessage, Result, Ts};
use serde_json::Value;
use uuid::Uuid;

/// Outbox topic of SMS to send (replies and status changes of reports made by SMS).
pub const SMS_TOPIC: &str = "sms";

/// A gateway as stored (its secrets included: only the server reads them).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SmsGateway {
    pub id: Uuid,
    pub jurisdiction_id: String,
    /// `android_sms_gateway`, `rapidpro_external` or `smssync`.
    pub kind: String,
    pub name: String,
    /// HMAC key, URL secret or shared secret, by kind.
    pub secret: String,
    /// The last segment of the gateway's inbound URL.
    pub inbound_token: String,
    pub send_url: Option<String>,
    pub send_username: Option<String>,
    pub send_password: Option<String>,
    /// The commune's number residents write to (shown on screens and answers).
    pub public_number: Option<String>,
    pub per_number_per_hour: i32,
    pub per_gateway_per_hour: i32,
    pub created_by: Option<Uuid>,
    pub created_at: Ts,
    pub disabled_at: Option<Ts>,
}

/// An inbound message to log before acting on it.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundSms {
    pub id: Uuid,
    pub gateway_id: Uuid,
    /// Our own key of the message (see the HTTP adapters for what goes in it).
    pub dedupe_key: Vec<u8>,
    pub phone: String,
    pub received_at: Ts,
}

/// What logging an inbound message found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundOutcome {
    /// New: act on it.
    Accepted,
    /// Seen before (a gateway's retry): nothing to do.
    Duplicate,
    /// Over the number's hourly limit (logged, not acted on).
    NumberLimited,
    /// Over the gateway's hourly limit (logged, not acted on).
    GatewayLimited,
}

/// A conversation's saved state.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredConversation {
    /// `null` for a conversation claimed for its first message.
    pub state: Value,
    /// The resident sent STOP: no status SMS until they write again.
    pub stopped: bool,
}

/// What claiming a conversation for one inbound message found.
#[derive(Debug, Clone, PartialEq)]
pub enum ConversationClaim {
    /// Claimed until saved (or until the lease ends): act on the message.
    Claimed(StoredConversation),
    /// Another message of the number is being handled: try again shortly.
    Busy,
    /// The message was handled meanwhile (a concurrent retry of it): nothing to do.
    Handled,
}

/// A message waiting for a polling gateway.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PendingSms {
    pub id: Uuid,
    pub phone: String,
    pub body: String,
}

#[async_trait::async_trait]
pub trait SmsStore: Send + Sync {
    async fn create_sms_gateway(&self, gateway: &SmsGateway) -> Result<()>;
    /// Gateways of a jurisdiction, disabled ones included, oldest first.
    async fn sms_gateways(&self, jurisdiction: &str) -> Result<Vec<SmsGateway>>;
    /// One gateway, disabled or not.
    async fn sms_gateway(&self, id: Uuid) -> Result<Option<SmsGateway>>;
    /// The enabled gateway of this kind whose inbound URL ends with `token`.
    async fn sms_gateway_by_token(&self, kind: &str, token: &str) -> Result<Option<SmsGateway>>;
    /// Disables a gateway: its inbound URL answers 404, nothing more is sent through it.
    async fn disable_sms_gateway(&self, jurisdiction: &str, id: Uuid, at: Ts) -> Result<bool>;
    /// Logs an inbound message unless its key was seen, counting it against the number's
    /// and the gateway's limits over the hour before it. A message logged before but not
    /// handled yet (its handling failed) is `Accepted` again, not counted twice.
    async fn record_inbound_sms(&self, message: &InboundSms) -> Result<InboundOutcome>;
    /// Claims the conversation of (gateway, phone) to act on the message `dedupe_key`, so
    /// that one number's messages are handled one at a time across replicas; the claim
    /// ends with [`save_sms_conversation`](Self::save_sms_conversation),
    /// [`release_sms_conversation`](Self::release_sms_conversation) or at `until`.
    async fn claim_sms_conversation(
        &self,
        gateway: Uuid,
        phone: &str,
        dedupe_key: &[u8],
        at: Ts,
        until: Ts,
    ) -> Result<ConversationClaim>;
    /// Ends a claim without saving (the handling failed).
    async fn release_sms_conversation(&self, gateway: Uuid, phone: &str) -> Result<()>;
    async fn sms_conversation(
        &self,
        gateway: Uuid,
        phone: &str,
    ) -> Result<Option<StoredConversation>>;
    /// Saves a conversation, marks the message `dedupe_key` handled, queues the outgoing
    /// messages and ends the claim, in one transaction. False (nothing saved) when the
    /// message was handled already.
    async fn save_sms_conversation(
        &self,
        gateway: Uuid,
        phone: &str,
        dedupe_key: &[u8],
        conversation: &StoredConversation,
        at: Ts,
        outbox: &[NewOutboxMessage],
    ) -> Result<bool>;
    /// Queues a message for a gateway that polls (SMSSync).
    async fn queue_pending_sms(
        &self,
        gateway: Uuid,
        id: Uuid,
        phone: &str,
        body: &str,
        at: Ts,
    ) -> Result<()>;
    /// Hands out up to `limit` queued messages of a polling gateway, oldest first, once.
    async fn take_pending_sms(&self, gateway: Uuid, at: Ts, limit: u32) -> Result<Vec<PendingSms>>;
    /// The report with this public reference.
    async fn report_id_by_reference(&self, reference: &str) -> Result<Option<Uuid>>;
    /// Erases phone numbers older than `before`: inbound log, idle conversations, queued
    /// and sent messages. Returns how many log rows, conversations and queued messages were
    /// touched.
    async fn erase_sms_contacts(&self, before: Ts) -> Result<u64>;
}

#[doc(hidden)]
pub const SMS_GATEWAY_COLUMNS: &str = "id, jurisdiction_id, kind, name, secret, inbound_token, \
    send_url, send_username, send_password, public_number, per_number_per_hour, \
    per_gateway_per_hour, created_by, created_at, disabled_at";

/// `impl SmsStore for $store` over `sqlx::Pool<$db>`, using its
/// [`SqlBackend`](crate::SqlBackend) items (`reader`, `writer`, `error`).
#[macro_export]
macro_rules! impl_sms_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::sqlx::{self, types::Json};
            use $crate::*;
            use uuid::Uuid;

            #[$crate::async_trait]
            impl SmsStore for $store {
                async fn create_sms_gateway(&self, g: &SmsGateway) -> Result<()> {
                    let sql = format!(
                        "INSERT INTO sms_gateways ({SMS_GATEWAY_COLUMNS}) VALUES ($1, $2, $3, \
                         $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
                    );
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(g.id)
                        .bind(g.jurisdiction_id.clone())
                        .bind(g.kind.clone())
                        .bind(g.name.clone())
                        .bind(g.secret.clone())
                        .bind(g.inbound_token.clone())
                        .bind(g.send_url.clone())
                        .bind(g.send_username.clone())
                        .bind(g.send_password.clone())
                        .bind(g.public_number.clone())
                        .bind(g.per_number_per_hour)
                        .bind(g.per_gateway_per_hour)
                        .bind(g.created_by)
                        .bind(g.created_at)
                        .bind(g.disabled_at)
                        .execute(self.writer())
                        .await
                        .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn sms_gateways(&self, jurisdiction: &str) -> Result<Vec<SmsGateway>> {
                    let sql = format!(
                        "SELECT {SMS_GATEWAY_COLUMNS} FROM sms_gateways \
                         WHERE jurisdiction_id = $1 ORDER BY created_at, id"
                    );
                    sqlx::query_as::<_, SmsGateway>(sqlx::AssertSqlSafe(sql))
                        .bind(jurisdiction.to_owned())
                        .fetch_all(self.reader())
                        .await
                        .map_err(<$store>::error)
                }

                async fn sms_gateway(&self, id: Uuid) -> Result<Option<SmsGateway>> {
                    let sql =
                        format!("SELECT {SMS_GATEWAY_COLUMNS} FROM sms_gateways WHERE id = $1");
                    sqlx::query_as::<_, SmsGateway>(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_optional(self.writer())
                        .await
                        .map_err(<$store>::error)
                }

                async fn sms_gateway_by_token(
                    &self,
                    kind: &str,
                    token: &str,
                ) -> Result<Option<SmsGateway>> {
                    // The writer: a gateway disabled a moment ago must not take messages.
                    let sql = format!(
                        "SELECT {SMS_GATEWAY_COLUMNS} FROM sms_gateways WHERE kind = $1 \
                         AND inbound_token = $2 AND disabled_at IS NULL"
                    );
                    sqlx::query_as::<_, SmsGateway>(sqlx::AssertSqlSafe(sql))
                        .bind(kind.to_owned())
                        .bind(token.to_owned())
                        .fetch_optional(self.writer())
                        .await
                        .map_err(<$store>::error)
                }

                async fn disable_sms_gateway(
                    &self,
                    jurisdiction: &str,
                    id: Uuid,
                    at: Ts,
                ) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE sms_gateways SET disabled_at = $3 WHERE jurisdiction_id = $1 \
                         AND id = $2 AND disabled_at IS NULL",
                    )
                    .bind(jurisdiction.to_owned())
                    .bind(id)
                    .bind(at)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn record_inbound_sms(&self, m: &InboundSms) -> Result<InboundOutcome> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    let limits: Option<(i32, i32)> = sqlx::query_as(
                        "SELECT per_number_per_hour, per_gateway_per_hour FROM sms_gateways \
                         WHERE id = $1",
                    )
                    .bind(m.gateway_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
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
                    .bind(m.dedupe_key.clone())
                    .bind(m.phone.clone())
                    .bind(m.received_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    if inserted.rows_affected() == 0 {
                        // Seen: a repeat, unless its handling never finished.
                        let handled: Option<Option<Ts>> = sqlx::query_scalar(
                            "SELECT handled_at FROM sms_messages \
                             WHERE gateway_id = $1 AND dedupe_key = $2",
                        )
                        .bind(m.gateway_id)
                        .bind(m.dedupe_key.clone())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
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
                    .bind(m.phone.clone())
                    .bind(since)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
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
                            .map_err(<$store>::error)?;
                    }
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(outcome)
                }

                async fn claim_sms_conversation(
                    &self,
                    gateway: Uuid,
                    phone: &str,
                    dedupe_key: &[u8],
                    at: Ts,
                    until: Ts,
                ) -> Result<ConversationClaim> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    sqlx::query(
                        "INSERT INTO sms_conversations (gateway_id, phone, state, stopped, \
                         updated_at) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (gateway_id, phone) DO NOTHING",
                    )
                    .bind(gateway)
                    .bind(phone.to_owned())
                    .bind(Json(serde_json::Value::Null))
                    .bind(false)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    // The row lock (PostgreSQL) or the single writer (SQLite) makes this a
                    // test-and-set.
                    let claimed = sqlx::query(
                        "UPDATE sms_conversations SET claimed_until = $4 \
                         WHERE gateway_id = $1 AND phone = $2 \
                         AND (claimed_until IS NULL OR claimed_until <= $3)",
                    )
                    .bind(gateway)
                    .bind(phone.to_owned())
                    .bind(at)
                    .bind(until)
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    if claimed.rows_affected() == 0 {
                        return Ok(ConversationClaim::Busy);
                    }
                    let handled: Option<Option<Ts>> = sqlx::query_scalar(
                        "SELECT handled_at FROM sms_messages \
                         WHERE gateway_id = $1 AND dedupe_key = $2",
                    )
                    .bind(gateway)
                    .bind(dedupe_key.to_vec())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    if matches!(handled, Some(Some(_))) {
                        // Rolled back: the claim is not taken.
                        return Ok(ConversationClaim::Handled);
                    }
                    let (state, stopped): (Json<serde_json::Value>, bool) = sqlx::query_as(
                        "SELECT state, stopped FROM sms_conversations \
                         WHERE gateway_id = $1 AND phone = $2",
                    )
                    .bind(gateway)
                    .bind(phone.to_owned())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(ConversationClaim::Claimed(StoredConversation {
                        state: state.0,
                        stopped,
                    }))
                }

                async fn release_sms_conversation(&self, gateway: Uuid, phone: &str) -> Result<()> {
                    sqlx::query(
                        "UPDATE sms_conversations SET claimed_until = NULL \
                         WHERE gateway_id = $1 AND phone = $2",
                    )
                    .bind(gateway)
                    .bind(phone.to_owned())
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn sms_conversation(
                    &self,
                    gateway: Uuid,
                    phone: &str,
                ) -> Result<Option<StoredConversation>> {
                    let row: Option<(Json<serde_json::Value>, bool)> = sqlx::query_as(
                        "SELECT state, stopped FROM sms_conversations \
                         WHERE gateway_id = $1 AND phone = $2",
                    )
                    .bind(gateway)
                    .bind(phone.to_owned())
                    .fetch_optional(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(row.map(|(state, stopped)| StoredConversation {
                        state: state.0,
                        stopped,
                    }))
                }

                async fn save_sms_conversation(
                    &self,
                    gateway: Uuid,
                    phone: &str,
                    dedupe_key: &[u8],
                    c: &StoredConversation,
                    at: Ts,
                    outbox: &[NewOutboxMessage],
                ) -> Result<bool> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    let marked = sqlx::query(
                        "UPDATE sms_messages SET handled_at = $3 \
                         WHERE gateway_id = $1 AND dedupe_key = $2 AND handled_at IS NULL",
                    )
                    .bind(gateway)
                    .bind(dedupe_key.to_vec())
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    if marked.rows_affected() == 0 {
                        // Handled meanwhile: only the claim ends.
                        sqlx::query(
                            "UPDATE sms_conversations SET claimed_until = NULL \
                             WHERE gateway_id = $1 AND phone = $2",
                        )
                        .bind(gateway)
                        .bind(phone.to_owned())
                        .execute(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                        tx.commit().await.map_err(<$store>::error)?;
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
                    .bind(phone.to_owned())
                    .bind(Json(c.state.clone()))
                    .bind(c.stopped)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store>::error)?;
                    $crate::sla::insert_outbox_sql!(tx, $store, $db, outbox);
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(true)
                }

                async fn queue_pending_sms(
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
                    .bind(phone.to_owned())
                    .bind(body.to_owned())
                    .bind(at)
                    .execute(self.writer())
                    .await
                    .map_err(<$store>::error)?;
                    Ok(())
                }

                async fn take_pending_sms(
                    &self,
                    gateway: Uuid,
                    at: Ts,
                    limit: u32,
                ) -> Result<Vec<PendingSms>> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    let sql = format!(
                        "SELECT id, phone, body FROM sms_pending WHERE gateway_id = $1 \
                         AND taken_at IS NULL ORDER BY created_at, id LIMIT $2{}",
                        <$store>::FOR_UPDATE
                    );
                    let taken: Vec<PendingSms> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(gateway)
                        .bind(i64::from(limit))
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(<$store>::error)?;
                    for m in &taken {
                        sqlx::query("UPDATE sms_pending SET taken_at = $2 WHERE id = $1")
                            .bind(m.id)
                            .bind(at)
                            .execute(&mut *tx)
                            .await
                            .map_err(<$store>::error)?;
                    }
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(taken)
                }

                async fn report_id_by_reference(&self, reference: &str) -> Result<Option<Uuid>> {
                    sqlx::query_scalar("SELECT id FROM reports WHERE reference = $1")
                        .bind(reference.to_owned())
                        .fetch_optional(self.reader())
                        .await
                        .map_err(<$store>::error)
                }

                async fn erase_sms_contacts(&self, before: Ts) -> Result<u64> {
                    let mut tx = self.writer().begin().await.map_err(<$store>::error)?;
                    let mut touched = 0;
                    for sql in [
                        "UPDATE sms_messages SET phone = NULL \
                         WHERE phone IS NOT NULL AND received_at < $1",
                        "DELETE FROM sms_conversations WHERE updated_at < $1",
                        "DELETE FROM sms_pending WHERE created_at < $1",
                    ] {
                        touched += sqlx::query(sql)
                            .bind(before)
                            .execute(&mut *tx)
                            .await
                            .map_err(<$store>::error)?
                            .rows_affected();
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
                    .map_err(<$store>::error)?;
                    tx.commit().await.map_err(<$store>::error)?;
                    Ok(touched)
                }
            }
        };
    };
}
