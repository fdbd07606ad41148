//! The outbox: side effects recorded with the change that causes them, delivered later.

use crate::Ts;
use balagh_domain::OperatorId;
use serde_json::Value;
use uuid::Uuid;

/// Outbox topic of operator webhooks.
pub const WEBHOOK_TOPIC: &str = "webhook";

#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxMessage {
    pub id: Uuid,
    pub topic: &'static str,
    pub operator: Option<OperatorId>,
    pub event_type: String,
    pub payload: Value,
    pub created_at: Ts,
    /// The commune whose staff alone see the message in the delivery queues (pushes name
    /// it; webhooks are already scoped by their operator).
    pub jurisdiction: Option<balagh_domain::JurisdictionId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    Pending,
    Delivered,
    /// Gave up after the retry period: visible to operators and staff, can be replayed.
    Dead,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Delivered => "delivered",
            OutboxState::Dead => "dead",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Dead]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

pub const OUTBOX_COLUMNS: &str = "id, topic, operator_id, event_type, payload, state, attempts, \
    next_attempt_at, first_attempt_at, last_error, delivered_at, created_at, jurisdiction_id";

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub topic: String,
    pub operator_id: Option<Uuid>,
    pub event_type: String,
    pub payload: sqlx::types::Json<Value>,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: Ts,
    pub first_attempt_at: Option<Ts>,
    pub last_error: Option<String>,
    pub delivered_at: Option<Ts>,
    pub created_at: Ts,
    pub jurisdiction_id: Option<String>,
}

/// What happened to a delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryResult {
    Delivered {
        at: Ts,
    },
    /// Try again at `next_attempt_at`.
    Retry {
        error: String,
        next_attempt_at: Ts,
    },
    /// Give up: dead-letter.
    Dead {
        error: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookEndpoint {
    pub operator_id: Uuid,
    pub url: String,
    pub secret: String,
    pub active: bool,
}
