//! What each kind of report event carries, typed.
//!
//! The kind is stored in its own column and the data as JSON beside it; [`EventData`] is
//! adjacently tagged with the kind's name so that `{"kind": …, "data": …}` reads as one of
//! its variants. Each variant serialises to exactly the JSON already in the database (no
//! data migration): optional keys that were left out stay left out, those written as `null`
//! stay `null`. Writers build an [`EventData`] and turn it into a [`NewEvent`]; readers (the
//! SLA milestones) parse the stored JSON with [`EventData::from_stored`], so a misspelt key
//! is a compile error rather than a silently dropped milestone.

use crate::event::{Actor, EventKind, NewEvent};
use crate::lifecycle::Action;
use crate::sla::Metric;
use crate::{Channel, ContractId, OperatorId, Priority, ReportStatus};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// The data of one report event, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum EventData {
    Created(Created),
    Routed(Routed),
    Unrouted(Unrouted),
    Supported(Supported),
    StatusChanged(StatusChanged),
    Assigned(Assigned),
    Comment(Comment),
    Moderated(Moderated),
    DuplicateMerged(DuplicateMerged),
    Rated(Rated),
    SlaWarning(SlaAlarm),
    SlaBreached(SlaAlarm),
    DisputeOpened(DisputeOpened),
    DisputeDecided(DisputeDecided),
    PhotoAdded(PhotoAdded),
    PhotoModerated(PhotoModerated),
    PriorityChanged(PriorityChanged),
}

/// The report was received, through `channel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Created {
    pub channel: Channel,
}

/// Routed to an operator's contract (also the routing part of a staff `route`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routed {
    pub operator_id: OperatorId,
    pub contract_id: ContractId,
}

/// No contract covers the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unrouted {
    pub reason: String,
}

impl Unrouted {
    pub const NO_CONTRACT: &'static str = "no contract covers this point";
}

/// A resident's "me too", with the count after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Supported {
    pub supporters: i64,
}

/// A status change: the action, the statuses before and after, and what came with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChanged {
    pub action: Action,
    pub from: ReportStatus,
    pub to: ReportStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A pause reason (`third_party`, …) or the operator's words for "not ours", a dismissal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_photo: Option<String>,
    /// Where a staff `route` sent the report.
    #[serde(default, flatten, skip_serializing_if = "Option::is_none")]
    pub routing: Option<Routed>,
    /// The original, for `mark_duplicate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_reference: Option<String>,
}

impl StatusChanged {
    /// A bare change from `from` to `to` by `action`.
    pub fn new(action: Action, from: ReportStatus, to: ReportStatus) -> Self {
        Self {
            action,
            from,
            to,
            note: None,
            reason: None,
            evidence_photo: None,
            routing: None,
            duplicate_of: None,
            original_reference: None,
        }
    }
}

/// An operator agent was (un)assigned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assigned {
    pub from: Option<Uuid>,
    pub to: Option<Uuid>,
}

/// A comment, public or internal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub text: String,
    pub public: bool,
}

/// Staff hid or showed the description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moderated {
    pub hidden: bool,
    pub reason: Option<String>,
}

/// Another report was merged into this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateMerged {
    pub duplicate: Uuid,
    pub duplicate_reference: String,
}

/// The resident's rating of the resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rated {
    pub stars: u8,
    pub comment: Option<String>,
}

/// An SLA clock passed a warning threshold or (at 100 percent) its due time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaAlarm {
    pub metric: Metric,
    pub cycle: u32,
    pub percent: u8,
    pub crossed_at: Timestamp,
    pub due_at: Timestamp,
    pub policy_version: u32,
}

/// The operator disputed a breach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisputeOpened {
    pub dispute_id: Uuid,
    pub metric: Metric,
    pub cycle: u32,
    pub reason: String,
}

/// Staff's decision on a dispute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisputeDecided {
    pub dispute_id: Uuid,
    pub decision: DisputeDecision,
    pub note: Option<String>,
    pub metric: Metric,
    pub cycle: i32,
}

/// What staff decided of a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeDecision {
    Accept,
    Reject,
}

impl DisputeDecision {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "accept" => Some(Self::Accept),
            "reject" => Some(Self::Reject),
            _ => None,
        }
    }

    pub fn accepted(self) -> bool {
        self == Self::Accept
    }
}

/// A photo was added to the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoAdded {
    pub photo_id: Uuid,
    /// `report`, `evidence`, … as the photo store names it.
    pub purpose: String,
    /// `resident`, `operator` or `staff`.
    pub uploader: String,
}

/// Staff approved or hid a photo for the public.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoModerated {
    pub photo_id: Uuid,
    pub approved: bool,
}

/// Staff changed the report's priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorityChanged {
    pub from: Priority,
    pub to: Priority,
    pub note: Option<String>,
}

impl EventData {
    /// The kind this data belongs to.
    pub fn kind(&self) -> EventKind {
        match self {
            EventData::Created(_) => EventKind::Created,
            EventData::Routed(_) => EventKind::Routed,
            EventData::Unrouted(_) => EventKind::Unrouted,
            EventData::Supported(_) => EventKind::Supported,
            EventData::StatusChanged(_) => EventKind::StatusChanged,
            EventData::Assigned(_) => EventKind::Assigned,
            EventData::Comment(_) => EventKind::Comment,
            EventData::Moderated(_) => EventKind::Moderated,
            EventData::DuplicateMerged(_) => EventKind::DuplicateMerged,
            EventData::Rated(_) => EventKind::Rated,
            EventData::SlaWarning(_) => EventKind::SlaWarning,
            EventData::SlaBreached(_) => EventKind::SlaBreached,
            EventData::DisputeOpened(_) => EventKind::DisputeOpened,
            EventData::DisputeDecided(_) => EventKind::DisputeDecided,
            EventData::PhotoAdded(_) => EventKind::PhotoAdded,
            EventData::PhotoModerated(_) => EventKind::PhotoModerated,
            EventData::PriorityChanged(_) => EventKind::PriorityChanged,
        }
    }

    /// The JSON stored in the event's `data` column.
    pub fn to_value(&self) -> Value {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut tagged)) => tagged.remove("data").unwrap_or(Value::Null),
            // Every variant is a struct of plain fields: serialising cannot fail.
            _ => Value::Null,
        }
    }

    /// Reads a stored event's data as its kind says.
    pub fn from_stored(kind: EventKind, data: &Value) -> Result<Self, serde_json::Error> {
        let tagged = serde_json::json!({ "kind": kind.as_str(), "data": data });
        serde_json::from_value(tagged)
    }

    /// The event to append: kind and JSON from this data.
    pub fn event(self, actor: Actor, public: bool) -> NewEvent {
        NewEvent {
            kind: self.kind(),
            actor,
            public,
            data: self.to_value(),
        }
    }
}

/// The events of a new report: its creation through `channel`, then its routing to the
/// operator's contract, or (internal) the lack of one.
pub fn creation_events(
    actor: Actor,
    operator: Option<OperatorId>,
    contract: Option<ContractId>,
    channel: Channel,
) -> Vec<NewEvent> {
    let created = EventData::Created(Created { channel }).event(actor, true);
    let routing = match (operator, contract) {
        (Some(operator_id), Some(contract_id)) => EventData::Routed(Routed {
            operator_id,
            contract_id,
        })
        .event(Actor::System, true),
        _ => EventData::Unrouted(Unrouted {
            reason: Unrouted::NO_CONTRACT.to_owned(),
        })
        .event(Actor::System, false),
    };
    vec![created, routing]
}

#[cfg(test)]
#[path = "event_data_tests.rs"]
mod tests;
