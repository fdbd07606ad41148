//! What goes into the store and what comes out, in domain terms.

use crate::Ts;
use balagh_domain::event::Actor;
use balagh_domain::{
    Accuracy, AttributeValues, Channel, ContractId, Description, EventKind, GeoPoint,
    IdempotencyKey, JurisdictionId, NewEvent, Operator, OperatorId, Priority, PublicReference,
    ReportStatus, ServiceCode,
};
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct NewDevice {
    pub id: Uuid,
    /// SHA-256 of the bearer token; the token itself is never stored.
    pub token_hash: Vec<u8>,
    pub created_at: Ts,
}

/// The idempotency key of a submission and a fingerprint of what was submitted with it.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: IdempotencyKey,
    pub request_hash: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct NewReport {
    pub id: Uuid,
    pub reference: PublicReference,
    pub jurisdiction: JurisdictionId,
    pub service_code: ServiceCode,
    pub point: GeoPoint,
    pub accuracy: Option<Accuracy>,
    pub description: Description,
    pub attributes: AttributeValues,
    pub channel: Channel,
    pub status: ReportStatus,
    pub priority: Priority,
    pub operator: Option<OperatorId>,
    pub contract: Option<ContractId>,
    /// The reporting device (private: never shown to anyone but its owner and staff).
    pub device: Option<Uuid>,
    /// The staff member who entered it for a resident (counter, phone).
    pub created_by: Option<Uuid>,
    pub idempotency: Option<Idempotency>,
    pub created_at: Ts,
    pub due_at: Option<Ts>,
    /// Name and phone given at the counter or by phone: private.
    pub contact: Option<Value>,
    /// Written in the same transaction as the report, in order.
    pub events: Vec<NewEvent>,
    /// Side effects (the operator's `ticket.created` webhook), same transaction.
    pub outbox: Vec<crate::NewOutboxMessage>,
    /// Its SLA clocks as they start, same transaction.
    pub clocks: Vec<crate::ClockRecord>,
    /// Draft photos of the reporting device attached to it, same transaction: a draft that
    /// is gone or attached elsewhere meanwhile fails the whole report
    /// ([`crate::StoreError::PhotoNotAttachable`]). Their `photo_added` events go in `events`.
    pub photos: Vec<DraftAttachment>,
    /// What happened after creation, with when: only [`crate::Store::bulk_insert_reports`]
    /// writes these (synthetic histories for benchmarks and demos).
    pub later_events: Vec<(Ts, NewEvent)>,
}

/// A draft photo to attach to a new report (it must still be an unattached draft of the
/// report's device), with how far from the pin it was taken.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftAttachment {
    pub photo_id: Uuid,
    pub gps_distance_m: Option<f64>,
    pub gps_far: bool,
}

/// A report as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReport {
    pub id: Uuid,
    pub reference: PublicReference,
    pub jurisdiction: JurisdictionId,
    pub service_code: ServiceCode,
    pub point: GeoPoint,
    pub accuracy_m: Option<f64>,
    pub description: String,
    pub attributes: Value,
    pub channel: Channel,
    pub status: ReportStatus,
    pub priority: Priority,
    pub operator: Option<OperatorId>,
    pub contract: Option<ContractId>,
    pub device: Option<Uuid>,
    pub request_hash: Option<Vec<u8>>,
    pub supporters: i64,
    pub version: i64,
    pub created_at: Ts,
    pub updated_at: Ts,
    /// The operator agent working it.
    pub assignee: Option<Uuid>,
    pub duplicate_of: Option<Uuid>,
    /// Moderated: the description is hidden from everyone but staff (the original stays).
    pub description_hidden: bool,
    /// Staff approved the description for the public (it is shown even if the automatic
    /// screen flags it).
    pub description_approved: bool,
    /// When the operator must have resolved it.
    pub due_at: Option<Ts>,
    pub resolved_at: Option<Ts>,
    /// The resident's rating of the resolution, 1–5.
    pub rating: Option<u8>,
    /// Name and phone given at the counter or by phone: private.
    pub contact: Option<Value>,
    pub created_by: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    Created(StoredReport),
    /// The device had already used this idempotency key: nothing was written.
    Existing(StoredReport),
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: Uuid,
    pub report_id: Uuid,
    pub kind: EventKind,
    pub actor: Actor,
    pub public: bool,
    pub data: Value,
    pub at: Ts,
}

#[derive(Debug, Clone)]
pub struct NearbyQuery {
    pub jurisdiction: JurisdictionId,
    pub service_code: ServiceCode,
    pub cells: Vec<i64>,
    /// Only reports inside this box (the search's bounding box) are candidates.
    pub bounds: balagh_domain::LatLonBox,
    pub since: Ts,
}

#[derive(Debug, Clone)]
pub struct NewSupport {
    pub report_id: Uuid,
    pub device: Uuid,
    pub at: Ts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupportOutcome {
    /// Counted now; the new total.
    Added {
        supporters: i64,
    },
    /// This device had already said "me too"; the total is unchanged.
    AlreadySupported {
        supporters: i64,
    },
    NotFound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ZoneImportSummary {
    pub operators: usize,
    pub contracts: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRecord {
    pub jurisdiction: JurisdictionId,
    pub operator: Operator,
}

impl StoredReport {
    /// The report as it will be stored (for messages written in the same transaction).
    pub fn from_new(r: &NewReport) -> Self {
        Self {
            id: r.id,
            reference: r.reference.clone(),
            jurisdiction: r.jurisdiction.clone(),
            service_code: r.service_code.clone(),
            point: r.point,
            accuracy_m: r.accuracy.map(|a| a.metres()),
            description: r.description.as_str().to_owned(),
            attributes: r.attributes.clone().into_value(),
            channel: r.channel,
            status: r.status,
            priority: r.priority,
            operator: r.operator,
            contract: r.contract,
            device: r.device,
            request_hash: r.idempotency.as_ref().map(|i| i.request_hash.clone()),
            supporters: 0,
            version: 1,
            created_at: r.created_at,
            updated_at: r.created_at,
            assignee: None,
            duplicate_of: None,
            description_hidden: false,
            description_approved: false,
            due_at: r.due_at,
            resolved_at: None,
            rating: None,
            contact: r.contact.clone(),
            created_by: r.created_by,
        }
    }
}
