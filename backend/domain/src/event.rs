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
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [
        EventKind::Created,
        EventKind::Routed,
        EventKind::Unrouted,
        EventKind::Supported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Routed => "routed",
            EventKind::Unrouted => "unrouted",
            EventKind::Supported => "supported",
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
    System,
}

impl Actor {
    /// Stored as `device:<uuid>` or `system`.
    pub fn to_stored(self) -> String {
        match self {
            Actor::Device(id) => format!("device:{id}"),
            Actor::System => "system".to_owned(),
        }
    }

    pub fn from_stored(raw: &str) -> Option<Self> {
        match raw.split_once(':') {
            Some(("device", id)) => Uuid::parse_str(id).ok().map(Actor::Device),
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
        for a in [Actor::Device(id), Actor::System] {
            assert_eq!(Actor::from_stored(&a.to_stored()), Some(a));
        }
        assert_eq!(Actor::from_stored("device:nope"), None);
    }
}
