//! Changes to reports made by operators, staff, residents and the system.

use crate::{StoredReport, Ts};
use balagh_domain::{ContractId, NewEvent, OperatorId, Priority, ReportStatus, ServiceCode};
use serde_json::Value;
use uuid::Uuid;

/// A change to one report, applied only if the report is still at `expected_version`
/// (optimistic concurrency: two agents never silently overwrite each other).
#[derive(Debug, Clone)]
pub struct ReportChange {
    pub report_id: Uuid,
    pub expected_version: i64,
    pub at: Ts,
    pub status: Option<ReportStatus>,
    /// `Some(None)` clears a field, `None` leaves it.
    pub operator: Option<Option<(OperatorId, ContractId)>>,
    pub assignee: Option<Option<Uuid>>,
    pub duplicate_of: Option<Option<Uuid>>,
    pub description_hidden: Option<bool>,
    pub description_approved: Option<bool>,
    pub due_at: Option<Option<Ts>>,
    pub resolved_at: Option<Option<Ts>>,
    pub rating: Option<u8>,
    pub priority: Option<Priority>,
    /// Appended to the history in the same transaction.
    pub events: Vec<NewEvent>,
    /// Side effects (webhooks…) written in the same transaction.
    pub outbox: Vec<crate::NewOutboxMessage>,
    /// The report's SLA clocks recomputed with this change: `Some` replaces them all.
    pub clocks: Option<Vec<crate::ClockRecord>>,
}

impl ReportChange {
    pub fn new(report: &StoredReport, at: Ts) -> Self {
        Self {
            report_id: report.id,
            expected_version: report.version,
            at,
            status: None,
            operator: None,
            assignee: None,
            duplicate_of: None,
            description_hidden: None,
            description_approved: None,
            due_at: None,
            resolved_at: None,
            rating: None,
            priority: None,
            events: Vec::new(),
            outbox: Vec::new(),
            clocks: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChangeOutcome {
    Applied(StoredReport),
    /// Someone changed it first: here is how it is now.
    VersionMismatch(StoredReport),
    NotFound,
}

/// Where a queue page starts: after this (due time, id).
#[derive(Debug, Clone, PartialEq)]
pub struct QueueCursor {
    pub due_at: Ts,
    pub id: Uuid,
}

/// An operator's ticket queue, ordered by due time then id.
#[derive(Debug, Clone)]
pub struct QueueQuery {
    pub operator: OperatorId,
    /// Empty means every open status.
    pub statuses: Vec<ReportStatus>,
    pub service_codes: Vec<ServiceCode>,
    pub contract: Option<ContractId>,
    pub assignee: Option<Uuid>,
    pub due_before: Option<Ts>,
    pub after: Option<QueueCursor>,
    pub limit: u32,
}

/// Staff triage: reports of a jurisdiction in the given statuses, oldest first.
#[derive(Debug, Clone)]
pub struct TriageQuery {
    pub jurisdiction: balagh_domain::JurisdictionId,
    pub statuses: Vec<ReportStatus>,
    pub after: Option<(Ts, Uuid)>,
    pub limit: u32,
    /// Newest first (the staff pages); oldest first otherwise (the API).
    pub newest_first: bool,
}

/// Private contact details of an assisted report, kept as JSON.
pub type Contact = Value;
