//! Intake: checking, routing and storing a new report, whichever channel it comes through
//! (the app, the web pages, staff at the counter, Open311, SMS).

use crate::catalogue::Catalog;
use crate::{App, AppError, AppResult};
use balagh_domain::event::Actor;
use balagh_domain::{
    Accuracy, AttributeValues, Channel, Description, FieldError, GeoPoint, IdempotencyKey,
    PublicReference, ReportStatus, RouteOutcome, ServiceCode,
};
use balagh_store::{CreateOutcome, Idempotency, NewReport, StoreError, StoredReport, Ts};
use balagh_wire::NewReportRequest;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Attempts at a fresh public reference when one collides (1 in 2^40 per pair).
const REFERENCE_ATTEMPTS: usize = 4;

/// Who submits a report, through which channel.
#[derive(Debug, Clone)]
pub struct Submitter {
    pub channel: Channel,
    /// The resident's device (app, web).
    pub device: Option<Uuid>,
    /// The staff member entering it for a resident (counter, phone).
    pub staff: Option<Uuid>,
    /// The resident's contact details given to staff (private).
    pub contact: Option<serde_json::Value>,
}

/// A request checked against the catalog, ready to store.
struct CheckedReport {
    point: GeoPoint,
    accuracy: Option<Accuracy>,
    description: Description,
    attributes: AttributeValues,
    service_code: ServiceCode,
}

/// Checks every field, reporting all the wrong ones at once.
fn check_report(
    body: &NewReportRequest,
    catalog: &Catalog,
) -> AppResult<(CheckedReport, balagh_domain::Jurisdiction)> {
    let mut errors: Vec<FieldError> = Vec::new();
    let point = GeoPoint::parse(body.lat, body.lon)
        .map_err(|e| errors.push(e))
        .ok();
    let description = Description::parse(&body.description)
        .map_err(|e| errors.push(e))
        .ok();
    let accuracy = body
        .accuracy_m
        .map(Accuracy::parse)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let code = ServiceCode::parse(&body.service_code)
        .map_err(|e| errors.push(e))
        .ok();
    let Some(point) = point else {
        return Err(AppError::Validation(errors));
    };
    let jurisdiction = catalog
        .router()
        .jurisdiction_at(&point)
        .and_then(|id| catalog.jurisdiction(id))
        .ok_or(AppError::OutsideJurisdiction)?;
    let service = code.as_ref().and_then(|code| {
        let found = catalog.service(&jurisdiction.id, code);
        if found.is_none() {
            errors.push(FieldError::new(
                "service_code",
                format!(
                    "no service '{code}' in {}; see GET /api/v1/services",
                    jurisdiction.id
                ),
            ));
        }
        found
    });
    let attributes = service.and_then(|service| {
        AttributeValues::parse(
            service,
            body.attributes.as_ref().unwrap_or(&Default::default()),
        )
        .map_err(|e| errors.push(e))
        .ok()
    });
    match (description, attributes, code) {
        (Some(description), Some(attributes), Some(service_code)) if errors.is_empty() => Ok((
            CheckedReport {
                point,
                accuracy,
                description,
                attributes,
                service_code,
            },
            jurisdiction.clone(),
        )),
        _ => Err(AppError::Validation(errors)),
    }
}

/// Fingerprint of what was submitted, to tell a retry from a different request that reuses
/// the key. The wire type serializes deterministically (attributes are a sorted map).
fn request_hash(body: &NewReportRequest) -> Vec<u8> {
    Sha256::digest(serde_json::to_vec(body).expect("request serializes")).to_vec()
}

/// The draft photos named in a submission: this device's, and not attached to a report,
/// unless to the first report of this very submission (a repeat).
async fn checked_drafts(
    app: &App,
    device: Uuid,
    body: &NewReportRequest,
) -> AppResult<Vec<balagh_store::StoredPhoto>> {
    let Some(ids) = body.photos.as_deref().filter(|ids| !ids.is_empty()) else {
        return Ok(Vec::new());
    };
    let drafts = crate::photos::check_drafts(app, device, ids, |_| true).await?;
    let hash = request_hash(body);
    for draft in &drafts {
        let Some(report_id) = draft.report_id else {
            continue;
        };
        let same_submission = app.store().report(report_id).await?.is_some_and(|r| {
            r.device == Some(device) && r.request_hash.as_deref() == Some(hash.as_slice())
        });
        if !same_submission {
            return Err(FieldError::new(
                "photos",
                format!("{} is attached to another report", draft.id),
            )
            .into());
        }
    }
    Ok(drafts)
}

/// Checks and routes a request: the report to store, with its creation events and clocks
/// (no outbox yet), and the reference prefix of its jurisdiction.
fn new_report(
    catalog: &Catalog,
    body: &NewReportRequest,
    key: IdempotencyKey,
    by: &Submitter,
) -> AppResult<(NewReport, String)> {
    let (checked, jurisdiction) = check_report(body, catalog)?;
    let (group, priority) = catalog
        .service(&jurisdiction.id, &checked.service_code)
        .map(|s| (s.group.clone(), s.initial_priority(&checked.attributes)))
        .ok_or(AppError::Internal("service vanished from catalog".into()))?;
    let now = Ts::now();
    let (status, operator, contract) =
        match catalog
            .router()
            .route(&jurisdiction.id, &group, &checked.point, now.get())
        {
            RouteOutcome::Routed { contract, operator } => {
                (ReportStatus::New, Some(operator), Some(contract))
            }
            RouteOutcome::Unrouted => (ReportStatus::Unrouted, None, None),
        };
    let actor = match (by.device, by.staff) {
        (Some(device), _) => Actor::Device(device),
        (None, Some(user)) => Actor::User(user),
        (None, None) => Actor::System,
    };
    let mut report = NewReport {
        id: Uuid::now_v7(),
        reference: PublicReference::generate(&jurisdiction.reference_prefix, &mut rand::rng()),
        jurisdiction: jurisdiction.id.clone(),
        service_code: checked.service_code,
        point: checked.point,
        accuracy: checked.accuracy,
        description: checked.description,
        attributes: checked.attributes,
        channel: by.channel,
        status,
        priority,
        operator,
        contract,
        device: by.device,
        idempotency: Some(Idempotency {
            key,
            request_hash: request_hash(body),
        }),
        created_at: now,
        // Set from the SLA clocks below.
        due_at: None,
        contact: by.contact.clone(),
        created_by: by.staff,
        events: balagh_domain::event_data::creation_events(actor, operator, contract, by.channel),
        outbox: Vec::new(),
        clocks: Vec::new(),
        photos: Vec::new(),
        later_events: Vec::new(),
    };
    crate::clocks::start_clocks(catalog, &mut report)?;
    Ok((report, jurisdiction.reference_prefix.clone()))
}

/// Checks, routes and stores a report with its events, its draft photos (named by the
/// app's device) and the operator's webhook, in one transaction: the one intake pipeline
/// behind every channel. Returns the stored report and whether it was a replay of an
/// earlier submission with the same idempotency key.
pub async fn submit(
    app: &App,
    body: &NewReportRequest,
    key: IdempotencyKey,
    by: Submitter,
) -> AppResult<(StoredReport, bool)> {
    let drafts = match by.device {
        Some(device) => checked_drafts(app, device, body).await?,
        None => Vec::new(),
    };
    let (mut report, prefix) = new_report(&app.catalog(), body, key, &by)?;
    let mut created_event =
        serde_json::json!({ "action": "created", "channel": by.channel.as_str() });
    if let Some(device) = by.device {
        let photos = crate::photos::new_report_photos(&drafts, &report.point, device);
        if !photos.attachments.is_empty() {
            report.photos = photos.attachments;
            report.events.extend(photos.events);
            // The operator hears of the photos with the ticket, as later events name them.
            created_event["photos"] = photos.named.into();
        }
    }
    store_new(app, report, &prefix, &created_event).await
}

/// Stores a new report with its outbox messages, trying a fresh public reference when the
/// random one is taken.
async fn store_new(
    app: &App,
    mut report: NewReport,
    reference_prefix: &str,
    created_event: &serde_json::Value,
) -> AppResult<(StoredReport, bool)> {
    let channel = report.channel;
    let routed = if report.operator.is_some() {
        "yes"
    } else {
        "no"
    };
    for attempt in 1..=REFERENCE_ATTEMPTS {
        // The operator's system hears of it through the outbox, in the same transaction.
        report.outbox = crate::tickets::webhook(
            &StoredReport::from_new(&report),
            "ticket.created",
            created_event,
            report.created_at,
        )
        .into_iter()
        .chain(crate::sms::receipt_sms(&report))
        .collect();
        match app.store().create_report(&report).await {
            Ok(CreateOutcome::Created(stored)) => {
                metrics::counter!(
                    "balagh_reports_created_total",
                    "channel" => channel.as_str(),
                    "routed" => routed,
                )
                .increment(1);
                return Ok((stored, false));
            }
            Ok(CreateOutcome::Existing(stored)) => {
                let hash = report
                    .idempotency
                    .as_ref()
                    .map(|i| i.request_hash.as_slice());
                if stored.request_hash.as_deref() != hash {
                    return Err(AppError::IdempotencyKeyReused);
                }
                return Ok((stored, true));
            }
            Err(StoreError::Conflict(balagh_store::Constraint::ReportReference))
                if attempt < REFERENCE_ATTEMPTS =>
            {
                report.reference = PublicReference::generate(reference_prefix, &mut rand::rng());
            }
            Err(StoreError::MissingReference) => {
                // The catalog changed under us (service or contract removed): say so.
                return Err(AppError::Unavailable("catalog changed; retry".into()));
            }
            Err(StoreError::PhotoNotAttachable(photo)) => {
                return Err(crate::photos::attached_elsewhere(photo));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Internal("no free public reference".into()))
}
