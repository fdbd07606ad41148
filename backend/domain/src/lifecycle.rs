//! The status machine of a report. Every status change is an [`Action`]; an action that the
//! current status does not allow is refused (with the actions it does allow), never ignored.

use crate::ReportStatus;
use serde::{Deserialize, Serialize};

/// Why an operator stops the clock on a ticket (the SLA policy says which reasons count).
pub use crate::sla::PauseReason;

/// A change of status, named for what the person did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Operator: "we have seen it".
    Acknowledge,
    /// Operator: work has started.
    Start,
    /// Operator: the clock stops for a stated reason.
    Pause,
    /// Operator: work continues after a pause.
    Resume,
    /// Operator: fixed (with a note and optional evidence).
    Resolve,
    /// Operator: not our contract; back to staff triage.
    RejectNotOurs,
    /// Staff: send to an operator (first routing or re-routing).
    Route,
    /// Staff: the same problem as another report.
    MarkDuplicate,
    /// Staff: not a real problem (spam, test, out of scope): closed without work.
    Dismiss,
    /// Resident: confirms the fix.
    Confirm,
    /// Resident: not fixed after all.
    Reopen,
    /// System: resolved and unanswered for too long.
    AutoClose,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::Acknowledge,
        Action::Start,
        Action::Pause,
        Action::Resume,
        Action::Resolve,
        Action::RejectNotOurs,
        Action::Route,
        Action::MarkDuplicate,
        Action::Dismiss,
        Action::Confirm,
        Action::Reopen,
        Action::AutoClose,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Acknowledge => "acknowledge",
            Action::Start => "start",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Resolve => "resolve",
            Action::RejectNotOurs => "reject_not_ours",
            Action::Route => "route",
            Action::MarkDuplicate => "mark_duplicate",
            Action::Dismiss => "dismiss",
            Action::Confirm => "confirm",
            Action::Reopen => "reopen",
            Action::AutoClose => "auto_close",
        }
    }

    /// The status an allowed action leads to from `from`; `None` if it is not allowed.
    fn target(self, from: ReportStatus) -> Option<ReportStatus> {
        use Action::*;
        use ReportStatus::*;
        let operator_working = matches!(from, New | Acknowledged | InProgress | Paused | Reopened);
        let staff_can_route = matches!(
            from,
            New | Unrouted | Acknowledged | InProgress | Paused | Rejected | Reopened
        );
        match self {
            Acknowledge if matches!(from, New | Reopened) => Some(Acknowledged),
            Start if matches!(from, New | Acknowledged | Reopened) => Some(InProgress),
            Pause if matches!(from, New | Acknowledged | InProgress | Reopened) => Some(Paused),
            Resume if from == Paused => Some(InProgress),
            Resolve if operator_working => Some(Resolved),
            RejectNotOurs if operator_working => Some(Rejected),
            Route if staff_can_route => Some(New),
            MarkDuplicate if staff_can_route => Some(Duplicate),
            Dismiss if matches!(from, Unrouted | Rejected) => Some(Closed),
            Confirm | AutoClose if from == Resolved => Some(Closed),
            Reopen if from == Resolved => Some(Reopened),
            _ => None,
        }
    }
}

/// An action the current status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a report that is {}", action.as_str(), from.as_str())]
pub struct IllegalTransition {
    pub from: ReportStatus,
    pub action: Action,
    /// What can be done instead, for the error message.
    pub allowed: Vec<Action>,
}

/// Applies a status change.
pub fn transition(from: ReportStatus, action: Action) -> Result<ReportStatus, IllegalTransition> {
    action.target(from).ok_or_else(|| IllegalTransition {
        from,
        action,
        allowed: allowed_actions(from),
    })
}

/// Every action allowed from a status.
/// The actions of `allowed_actions(from)` an operator may perform (the others belong to
/// staff, residents or the system and answer 404 to operators).
pub fn allowed_operator_actions(from: ReportStatus) -> Vec<Action> {
    allowed_actions(from)
        .into_iter()
        .filter(|a| a.is_operators())
        .collect()
}

impl Action {
    /// Whether an operator performs this action (`/api/v1/operator/tickets/{id}/actions/…`).
    pub fn is_operators(self) -> bool {
        matches!(
            self,
            Action::Acknowledge
                | Action::Start
                | Action::Pause
                | Action::Resume
                | Action::Resolve
                | Action::RejectNotOurs
        )
    }
}

pub fn allowed_actions(from: ReportStatus) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| a.target(from).is_some())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use ReportStatus::*;

    #[test]
    fn operators_are_offered_only_their_actions() {
        assert_eq!(
            allowed_operator_actions(Resolved),
            Vec::<Action>::new(),
            "confirm and reopen are the resident's"
        );
        assert_eq!(
            allowed_operator_actions(New),
            [Acknowledge, Start, Pause, Resolve, RejectNotOurs],
            "routing and duplicates are staff's"
        );
        for status in ReportStatus::ALL {
            assert!(
                allowed_operator_actions(status)
                    .iter()
                    .all(|a| a.is_operators())
            );
        }
    }

    #[test]
    fn the_usual_path() {
        let mut s = New;
        for (action, expected) in [
            (Acknowledge, Acknowledged),
            (Start, InProgress),
            (Pause, Paused),
            (Resume, InProgress),
            (Resolve, Resolved),
            (Reopen, Reopened),
            (Resolve, Resolved),
            (Confirm, Closed),
        ] {
            s = transition(s, action).unwrap();
            assert_eq!(s, expected, "{action:?}");
        }
    }

    #[test]
    fn triage_paths() {
        assert_eq!(transition(Unrouted, Route), Ok(New));
        assert_eq!(transition(InProgress, RejectNotOurs), Ok(Rejected));
        assert_eq!(transition(Rejected, Route), Ok(New));
        assert_eq!(transition(Rejected, Dismiss), Ok(Closed));
        assert_eq!(transition(Acknowledged, MarkDuplicate), Ok(Duplicate));
        assert_eq!(transition(Resolved, AutoClose), Ok(Closed));
    }

    #[test]
    fn illegal_transitions_list_what_is_allowed() {
        let e = transition(Closed, Reopen).unwrap_err();
        assert!(e.allowed.is_empty(), "closed is final");
        let e = transition(Resolved, Acknowledge).unwrap_err();
        assert_eq!(e.allowed, vec![Confirm, Reopen, AutoClose]);
        assert_eq!(
            e.to_string(),
            "cannot acknowledge a report that is resolved"
        );
        assert!(transition(Duplicate, Route).is_err());
        assert!(transition(Paused, Pause).is_err());
        assert!(
            transition(New, Dismiss).is_err(),
            "a routed report is not dismissed"
        );
    }

    #[test]
    fn terminal_statuses_allow_nothing_and_open_ones_something() {
        for status in ReportStatus::ALL {
            let allowed = allowed_actions(status);
            match status {
                Closed | Duplicate => assert!(allowed.is_empty(), "{status:?}"),
                _ => assert!(!allowed.is_empty(), "{status:?}"),
            }
        }
    }
}
