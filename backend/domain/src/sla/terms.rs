//! The words SLA clocks and policies share: what is measured, why work pauses, when to warn.
//! Both `clock` and `policy` read them; neither imports the other for them.

use crate::FieldError;
use serde::{Deserialize, Serialize};

/// What an SLA target measures: the time until the report is acknowledged, resolved, or
/// an agent is on site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Acknowledge,
    Resolve,
    OnSite,
}

impl Metric {
    pub const ALL: [Metric; 3] = [Metric::Acknowledge, Metric::Resolve, Metric::OnSite];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Acknowledge => "acknowledge",
            Metric::Resolve => "resolve",
            Metric::OnSite => "on_site",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == raw)
    }
}

/// Why an operator paused work on a report. Whether the SLA clock stops depends on the
/// policy ([`SlaPolicy::pause_reasons_that_stop_the_clock`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    /// Waiting for the resident (access, details, presence).
    AwaitingResident,
    /// Waiting for another body (utility, police, another operator).
    ThirdParty,
    /// Storm, flood, strike: events outside the operator's control.
    ForceMajeure,
}

impl PauseReason {
    pub const ALL: [PauseReason; 3] = [
        PauseReason::AwaitingResident,
        PauseReason::ThirdParty,
        PauseReason::ForceMajeure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PauseReason::AwaitingResident => "awaiting_resident",
            PauseReason::ThirdParty => "third_party",
            PauseReason::ForceMajeure => "force_majeure",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

/// Percentages of the target at which a warning is raised: 1-99, strictly increasing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<u8>", into = "Vec<u8>")]
pub struct WarningThresholds(Vec<u8>);

impl WarningThresholds {
    pub const DEFAULT: [u8; 3] = [50, 75, 90];

    pub fn parse(percents: &[u8]) -> Result<Self, FieldError> {
        let in_range = percents.iter().all(|p| (1..=99).contains(p));
        let increasing = percents.windows(2).all(|w| w[0] < w[1]);
        if in_range && increasing {
            Ok(Self(percents.to_vec()))
        } else {
            Err(FieldError::new(
                "warning_thresholds",
                "must be percentages between 1 and 99, in increasing order",
            ))
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl Default for WarningThresholds {
    fn default() -> Self {
        Self(Self::DEFAULT.to_vec())
    }
}

impl TryFrom<Vec<u8>> for WarningThresholds {
    type Error = FieldError;

    fn try_from(percents: Vec<u8>) -> Result<Self, FieldError> {
        Self::parse(&percents)
    }
}

impl From<WarningThresholds> for Vec<u8> {
    fn from(thresholds: WarningThresholds) -> Self {
        thresholds.0
    }
}

impl TryFrom<String> for Metric {
    type Error = String;

    /// Reads a stored metric (for the store's rows).
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw).ok_or_else(|| format!("unknown SLA metric '{raw}'"))
    }
}

/// Where a dispute of a breach stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeState {
    Open,
    Accepted,
    Rejected,
}

impl DisputeState {
    pub const ALL: [DisputeState; 3] = [Self::Open, Self::Accepted, Self::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

impl TryFrom<String> for DisputeState {
    type Error = String;

    /// Reads a stored state (for the store's rows).
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw).ok_or_else(|| format!("unknown dispute state '{raw}'"))
    }
}
