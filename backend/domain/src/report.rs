//! A resident's report and the values it is made of.

use crate::FieldError;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The free-text rule of every field a person types (a description, note, reason, comment):
/// trimmed, at most [`MAX_TEXT_CHARS`] characters, no control characters other than line
/// breaks and tabs. `None` when the trimmed text is empty; an error names `field`.
pub fn free_text(
    field: &str,
    raw: Option<&str>,
    required: bool,
) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None if required => Err(FieldError::new(field, "is required")),
        None => Ok(None),
        Some(text) => match text_fault(text) {
            Some(fault) => Err(FieldError::new(field, fault)),
            None => Ok(Some(text.to_owned())),
        },
    }
}

/// The longest free text, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;

/// What is wrong with a trimmed, non-empty free text, if anything.
fn text_fault(text: &str) -> Option<&'static str> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return Some("must be at most 4000 characters");
    }
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .then_some("must not contain control characters")
}

/// A short single-line text (a contact, a device id, an address): at most `max` characters
/// and no control characters at all, line breaks included.
pub fn is_short_line(text: &str, max: usize) -> bool {
    text.chars().count() <= max && !text.chars().any(char::is_control)
}

/// The resident's own words: the [`free_text`] rule, and required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = MAX_TEXT_CHARS;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(FieldError::new("description", "must not be empty"));
        }
        match text_fault(text) {
            Some(fault) => Err(FieldError::new("description", fault)),
            None => Ok(Self(text.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a report reached the commune.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    App,
    Web,
    Open311,
    Phone,
    Counter,
    /// A conversation with an SMS gateway of the commune.
    Sms,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Channel::App,
        Channel::Web,
        Channel::Open311,
        Channel::Phone,
        Channel::Counter,
        Channel::Sms,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::App => "app",
            Channel::Web => "web",
            Channel::Open311 => "open311",
            Channel::Phone => "phone",
            Channel::Counter => "counter",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

/// Priority used by SLA targets; residents' reports start as their service's default
/// (`normal` unless it says otherwise), raised by answers that mark a hazard. Ordered from
/// `low` to `urgent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }
}

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Routed to an operator, not yet acknowledged.
    New,
    /// Inside the commune but no contract covers it: waits for staff triage.
    Unrouted,
    Acknowledged,
    InProgress,
    Paused,
    Resolved,
    Closed,
    Rejected,
    Duplicate,
    Reopened,
}

impl ReportStatus {
    pub const ALL: [ReportStatus; 10] = [
        ReportStatus::New,
        ReportStatus::Unrouted,
        ReportStatus::Acknowledged,
        ReportStatus::InProgress,
        ReportStatus::Paused,
        ReportStatus::Resolved,
        ReportStatus::Closed,
        ReportStatus::Rejected,
        ReportStatus::Duplicate,
        ReportStatus::Reopened,
    ];

    /// Statuses in which the problem is still there, so a new report nearby is probably the
    /// same problem.
    pub const OPEN: [ReportStatus; 6] = [
        ReportStatus::New,
        ReportStatus::Unrouted,
        ReportStatus::Acknowledged,
        ReportStatus::InProgress,
        ReportStatus::Paused,
        ReportStatus::Reopened,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::New => "new",
            ReportStatus::Unrouted => "unrouted",
            ReportStatus::Acknowledged => "acknowledged",
            ReportStatus::InProgress => "in_progress",
            ReportStatus::Paused => "paused",
            ReportStatus::Resolved => "resolved",
            ReportStatus::Closed => "closed",
            ReportStatus::Rejected => "rejected",
            ReportStatus::Duplicate => "duplicate",
            ReportStatus::Reopened => "reopened",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }
}

/// The short public reference of a report, e.g. `TET-7KQ2M9XD`: the jurisdiction's prefix and
/// eight Crockford base-32 characters (40 random bits), easy to read over the phone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublicReference(String);

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl PublicReference {
    pub fn generate(prefix: &str, rng: &mut impl Rng) -> Self {
        let mut s = String::with_capacity(prefix.len() + 9);
        s.push_str(prefix);
        s.push('-');
        for _ in 0..8 {
            s.push(CROCKFORD[rng.random_range(0..32)] as char);
        }
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
}

/// A client's `Idempotency-Key`: 1–128 visible ASCII characters. The same key from the same
/// device always means the same report.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if !raw.is_empty() && raw.len() <= 128 && raw.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                "Idempotency-Key",
                "must be 1-128 visible ASCII characters (a UUID is a good choice)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_rules() {
        assert_eq!(
            Description::parse("  Poubelle pleine\n").unwrap().as_str(),
            "Poubelle pleine"
        );
        assert!(Description::parse("   ").is_err());
        assert!(Description::parse("a\u{0007}b").is_err());
        assert!(Description::parse("ligne 1\r\nligne 2\tfin").is_ok());
        assert!(Description::parse(&"é".repeat(4000)).is_ok());
        assert!(Description::parse(&"é".repeat(4001)).is_err());
        assert!(Description::parse("حاوية ممتلئة").is_ok());
    }

    #[test]
    fn references_are_readable() {
        let mut rng = rand::rng();
        let r = PublicReference::generate("TET", &mut rng);
        assert_eq!(r.as_str().len(), 12);
        assert!(r.as_str().starts_with("TET-"));
        assert!(!r.as_str()[4..].contains(['I', 'L', 'O', 'U']));
    }

    #[test]
    fn status_round_trip() {
        for s in ReportStatus::ALL {
            assert_eq!(ReportStatus::parse(s.as_str()), Some(s));
        }
        assert!(ReportStatus::Reopened.is_open());
        assert!(!ReportStatus::Closed.is_open());
    }

    #[test]
    fn idempotency_key_rules() {
        assert!(IdempotencyKey::parse("0193a3d2-7c1e-7b9a-9f00-1234567890ab").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(129)).is_err());
    }
}
