//! The append-only history of a report: every change is an event.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// What happened to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The report was received.
    Created,
    /// It was routed to an operator's contract.
    Routed,
    /// No contract covers it; it waits for staff triage.
    Unrouted,
    /// A resident said "me too".
    Supported,
    /// The status changed (data: action, from, to, and the note, reason or operator).
    StatusChanged,
    /// An operator agent was assigned (data: from, to).
    Assigned,
    /// A comment (data: text, public).
    Comment,
    /// Staff hid or showed the description (the original stays in `created`).
    Moderated,
    /// Another report was merged into this one as a duplicate.
    DuplicateMerged,
    /// The resident rated the resolution (data: stars, comment).
    Rated,
    /// An SLA clock passed a warning threshold (data: metric, cycle, percent, due_at).
    SlaWarning,
    /// An SLA clock passed its due time (data: metric, cycle, due_at).
    SlaBreached,
    /// The operator disputed a breach (data: dispute_id, metric, cycle, reason).
    DisputeOpened,
    /// Staff accepted or rejected a dispute (data: dispute_id, decision, note).
    DisputeDecided,
    /// A photo was added (data: photo_id, purpose, uploader).
    PhotoAdded,
    /// Staff approved or hid a photo for the public (data: photo_id, approved).
    PhotoModerated,
    /// Staff changed the report's priority (data: from, to, note).
    PriorityChanged,
}

impl EventKind {
    pub const ALL: [EventKind; 17] = [
        EventKind::Created,
        EventKind::Routed,
        EventKind::Unrouted,
        EventKind::Supported,
        EventKind::StatusChanged,
        EventKind::Assigned,
        EventKind::Comment,
        EventKind::Moderated,
        EventKind::DuplicateMerged,
        EventKind::Rated,
        EventKind::SlaWarning,
        EventKind::SlaBreached,
        EventKind::DisputeOpened,
        EventKind::DisputeDecided,
        EventKind::PhotoAdded,
        EventKind::PhotoModerated,
        EventKind::PriorityChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Routed => "routed",
            EventKind::Unrouted => "unrouted",
            EventKind::Supported => "supported",
            EventKind::StatusChanged => "status_changed",
            EventKind::Assigned => "assigned",
            EventKind::Comment => "comment",
            EventKind::Moderated => "moderated",
            EventKind::DuplicateMerged => "duplicate_merged",
            EventKind::Rated => "rated",
            EventKind::SlaWarning => "sla_warning",
            EventKind::SlaBreached => "sla_breached",
            EventKind::DisputeOpened => "dispute_opened",
            EventKind::DisputeDecided => "dispute_decided",
            EventKind::PhotoAdded => "photo_added",
            EventKind::PhotoModerated => "photo_moderated",
            EventKind::PriorityChanged => "priority_changed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// Who did it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Device(Uuid),
    /// Commune or operator staff.
    User(Uuid),
    System,
}

impl Actor {
    /// Stored as `device:<uuid>` or `system`.
    pub fn to_stored(self) -> String {
        match self {
            Actor::Device(id) => format!("device:{id}"),
            Actor::User(id) => format!("user:{id}"),
            Actor::System => "system".to_owned(),
        }
    }

    pub fn from_stored(raw: &str) -> Option<Self> {
        match raw.split_once(':') {
            Some(("device", id)) => Uuid::parse_str(id).ok().map(Actor::Device),
            Some(("user", id)) => Uuid::parse_str(id).ok().map(Actor::User),
            None if raw == "system" => Some(Actor::System),
            _ => None,
        }
    }
}

/// An event about to be appended to a report's history.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub actor: Actor,
    /// Residents see public events; internal ones are for staff and operators.
    pub public: bool,
    /// What changed (before/after, reasons), as JSON.
    pub data: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_round_trip() {
        let id = Uuid::now_v7();
        for a in [Actor::Device(id), Actor::User(id), Actor::System] {
            assert_eq!(Actor::from_stored(&a.to_stored()), Some(a));
        }
        assert_eq!(Actor::from_stored("device:nope"), None);
    }
}
