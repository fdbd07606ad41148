//! The SMS channel (issue 21): gateways configured by staff, one conversation per
//! (gateway, phone number), the log of inbound messages with our own dedupe key, and the
//! messages waiting for gateways that poll (SMSSync). [`SmsStore`] is a supertrait of
//! [`Store`](crate::Store); its SQL is the functions of [`Sql`](crate::Sql) in
//! `gateways.rs`, `conversation.rs` and `outbox.rs`, which each backend delegates to with
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

// The SQL of the trait above: functions of [`Sql`](crate::Sql), by concern.
mod conversation;
mod gateways;
mod outbox;

/// `impl SmsStore for $store`, delegating to the functions of [`Sql`](crate::Sql).
#[macro_export]
macro_rules! impl_sms_store {
    ($store:ty) => {
        const _: () = {
            use uuid::Uuid;
            use $crate::{
                ConversationClaim, InboundOutcome, InboundSms, NewOutboxMessage, PendingSms,
                Result, SmsGateway, Sql, StoredConversation, Ts,
            };

            #[$crate::async_trait]
            impl $crate::SmsStore for $store {
                async fn create_sms_gateway(&self, gateway: &SmsGateway) -> Result<()> {
                    Sql(self).create_sms_gateway(gateway).await
                }

                async fn sms_gateways(&self, jurisdiction: &str) -> Result<Vec<SmsGateway>> {
                    Sql(self).sms_gateways(jurisdiction).await
                }

                async fn sms_gateway(&self, id: Uuid) -> Result<Option<SmsGateway>> {
                    Sql(self).sms_gateway(id).await
                }

                async fn sms_gateway_by_token(
                    &self,
                    kind: &str,
                    token: &str,
                ) -> Result<Option<SmsGateway>> {
                    Sql(self).sms_gateway_by_token(kind, token).await
                }

                async fn disable_sms_gateway(
                    &self,
                    jurisdiction: &str,
                    id: Uuid,
                    at: Ts,
                ) -> Result<bool> {
                    Sql(self).disable_sms_gateway(jurisdiction, id, at).await
                }

                async fn record_inbound_sms(&self, message: &InboundSms) -> Result<InboundOutcome> {
                    Sql(self).record_inbound_sms(message).await
                }

                async fn claim_sms_conversation(
                    &self,
                    gateway: Uuid,
                    phone: &str,
                    dedupe_key: &[u8],
                    at: Ts,
                    until: Ts,
                ) -> Result<ConversationClaim> {
                    Sql(self)
                        .claim_sms_conversation(gateway, phone, dedupe_key, at, until)
                        .await
                }

                async fn release_sms_conversation(&self, gateway: Uuid, phone: &str) -> Result<()> {
                    Sql(self).release_sms_conversation(gateway, phone).await
                }

                async fn sms_conversation(
                    &self,
                    gateway: Uuid,
                    phone: &str,
                ) -> Result<Option<StoredConversation>> {
                    Sql(self).sms_conversation(gateway, phone).await
                }

                async fn save_sms_conversation(
                    &self,
                    gateway: Uuid,
                    phone: &str,
                    dedupe_key: &[u8],
                    conversation: &StoredConversation,
                    at: Ts,
                    outbox: &[NewOutboxMessage],
                ) -> Result<bool> {
                    Sql(self)
                        .save_sms_conversation(gateway, phone, dedupe_key, conversation, at, outbox)
                        .await
                }

                async fn queue_pending_sms(
                    &self,
                    gateway: Uuid,
                    id: Uuid,
                    phone: &str,
                    body: &str,
                    at: Ts,
                ) -> Result<()> {
                    Sql(self)
                        .queue_pending_sms(gateway, id, phone, body, at)
                        .await
                }

                async fn take_pending_sms(
                    &self,
                    gateway: Uuid,
                    at: Ts,
                    limit: u32,
                ) -> Result<Vec<PendingSms>> {
                    Sql(self).take_pending_sms(gateway, at, limit).await
                }

                async fn report_id_by_reference(&self, reference: &str) -> Result<Option<Uuid>> {
                    Sql(self).report_id_by_reference(reference).await
                }

                async fn erase_sms_contacts(&self, before: Ts) -> Result<u64> {
                    Sql(self).erase_sms_contacts(before).await
                }
            }
        };
    };
}
