//! Commune staff's work on their commune's reports: the triage queue, routing, duplicates,
//! dismissal, moderation and priority (comments: [`lifecycle::comment`]). Staff see only their own commune's reports.

use crate::clocks::recompute_for_change;
use crate::lifecycle::{self, Extras};
use crate::{App, AppError, AppResult};
use balagh_domain::event::Actor;
use balagh_domain::event_data::{
    DuplicateMerged, EventData, Moderated, PriorityChanged, StatusChanged,
};
use balagh_domain::lifecycle::{Action, transition};
use balagh_domain::report::free_text;
use balagh_domain::{
    ContractId, FieldError, JurisdictionId, NearbySearch, OperatorId, Priority, ReportStatus,
    RouteOutcome,
};
use balagh_store::{ChangeOutcome, NearbyQuery, ReportChange, StoredReport, TriageQuery, Ts};
use balagh_wire::TicketActionRequest;
use uuid::Uuid;

/// The staff member acting, and the commune they work for.
#[derive(Debug, Clone)]
pub struct StaffMember {
    pub user: Uuid,
    pub jurisdiction: JurisdictionId,
}

impl StaffMember {
    fn actor(&self) -> Actor {
        Actor::User(self.user)
    }
}

/// Where a page of the queue starts: after this report (its creation time and id).
pub type Cursor = (Ts, Uuid);

/// A report of the commune; another commune's does not exist for its staff.
pub async fn commune_report(
    app: &App,
    jurisdiction: &JurisdictionId,
    id: Uuid,
) -> AppResult<StoredReport> {
    app.store()
        .report(id)
        .await?
        .filter(|r| &r.jurisdiction == jurisdiction)
        .ok_or(AppError::NotFound)
}

/// The cursor after report `id`, if it is one of the commune's.
pub async fn cursor(
    app: &App,
    jurisdiction: &JurisdictionId,
    id: Uuid,
) -> AppResult<Option<Cursor>> {
    match commune_report(app, jurisdiction, id).await {
        Ok(report) => Ok(Some((report.created_at, report.id))),
        Err(AppError::NotFound) => Ok(None),
        Err(other) => Err(other),
    }
}

/// A page of the triage queue: reports of `statuses` (by default the ones no contract
/// covered and the ones operators gave back), oldest first unless `newest_first`, at most
/// `limit` (the caller bounds it).
pub async fn queue(
    app: &App,
    jurisdiction: &JurisdictionId,
    statuses: Vec<ReportStatus>,
    after: Option<Cursor>,
    limit: u32,
    newest_first: bool,
) -> AppResult<Vec<StoredReport>> {
    let statuses = if statuses.is_empty() {
        vec![ReportStatus::Unrouted, ReportStatus::Rejected]
    } else {
        statuses
    };
    Ok(app
        .store()
        .triage_queue(&TriageQuery {
            jurisdiction: jurisdiction.clone(),
            statuses,
            after,
            limit,
            newest_first,
        })
        .await?)
}

/// A triage action (`route`, `dismiss`, `mark_duplicate`) on a report read at `version`;
/// any other action does not exist.
pub async fn act(
    app: &App,
    staff: &StaffMember,
    report: &StoredReport,
    version: i64,
    action: &str,
    body: TicketActionRequest,
) -> AppResult<StoredReport> {
    let actor = staff.actor();
    let note = free_text("note", body.note.as_deref(), false)?;
    match action {
        "route" => {
            let contract = route_target(app, staff, report, body.contract_id)?;
            let extras = Extras {
                note,
                routing: Some(contract),
                ..Extras::default()
            };
            lifecycle::apply(app, report, version, actor, Action::Route, extras).await
        }
        "dismiss" => {
            let reason = free_text("reason", body.reason.as_deref(), true)?;
            let extras = Extras {
                note,
                reason,
                ..Extras::default()
            };
            lifecycle::apply(app, report, version, actor, Action::Dismiss, extras).await
        }
        "mark_duplicate" => mark_duplicate(app, staff, report, version, body.duplicate_of).await,
        _ => Err(AppError::NotFound),
    }
}

/// Where `route` sends a report: the named contract, which must be of the staff's commune
/// and cover the report's service group, or the contract covering the point now.
pub fn route_target(
    app: &App,
    staff: &StaffMember,
    report: &StoredReport,
    contract_id: Option<Uuid>,
) -> AppResult<(OperatorId, ContractId)> {
    let catalog = app.catalog();
    let group = catalog
        .service(&report.jurisdiction, &report.service_code)
        .map(|s| s.group.clone())
        .ok_or(AppError::Conflict("the report's service no longer exists"))?;
    let Some(id) = contract_id else {
        return match catalog.router().route(
            &report.jurisdiction,
            &group,
            &report.point,
            Ts::now().get(),
        ) {
            RouteOutcome::Routed { operator, contract } => Ok((operator, contract)),
            RouteOutcome::Unrouted => Err(FieldError::new(
                "contract_id",
                "no contract covers this point now: name one",
            )
            .into()),
        };
    };
    let chosen = catalog
        .router()
        .contracts()
        .iter()
        .find(|c| c.id == ContractId(id) && c.jurisdiction == staff.jurisdiction)
        .ok_or_else(|| FieldError::new("contract_id", "no such contract in your commune"))?;
    // A lighting report never goes to a waste company: the contract must cover the
    // report's service group (another zone of it is allowed).
    if chosen.group != group {
        return Err(FieldError::new(
            "contract_id",
            format!(
                "contract {} covers the {} service group, but service {} belongs to {}: choose a {} contract",
                chosen.reference,
                chosen.group.as_str(),
                report.service_code,
                group.as_str(),
                group.as_str(),
            ),
        )
        .into());
    }
    Ok((chosen.operator, chosen.id))
}

/// Marks `report` a duplicate of `original` (another report of the commune that is not
/// itself a duplicate): its supporters and followers move to the original.
pub async fn mark_duplicate(
    app: &App,
    staff: &StaffMember,
    report: &StoredReport,
    version: i64,
    original: Option<Uuid>,
) -> AppResult<StoredReport> {
    let original_id = original.ok_or_else(|| FieldError::new("duplicate_of", "is required"))?;
    let original = commune_report(app, &staff.jurisdiction, original_id)
        .await
        .map_err(|_| FieldError::new("duplicate_of", "no such report in your commune"))?;
    if original.id == report.id || original.duplicate_of.is_some() {
        return Err(FieldError::new(
            "duplicate_of",
            "must be another report that is not itself a duplicate",
        )
        .into());
    }
    let to = transition(report.status, Action::MarkDuplicate).map_err(|e| {
        AppError::IllegalTransition {
            message: e.to_string(),
            allowed: e.allowed.iter().map(|a| a.as_str().to_owned()).collect(),
        }
    })?;
    let now = Ts::now();
    let mut change = ReportChange::new(report, now);
    change.expected_version = version;
    change.status = Some(to);
    change.duplicate_of = Some(Some(original.id));
    let mut marked = StatusChanged::new(Action::MarkDuplicate, report.status, to);
    marked.duplicate_of = Some(original.id);
    marked.original_reference = Some(original.reference.as_str().to_owned());
    let event = EventData::StatusChanged(marked).event(staff.actor(), true);
    let data = event.data.clone();
    change.events.push(event);
    if let Some(message) = crate::tickets::webhook(report, "ticket.updated", &data, now) {
        change.outbox.push(message);
    }
    // Its followers (and its resident, by SMS) learn where to look now (they follow the
    // original from here on).
    let mut as_duplicate = report.clone();
    as_duplicate.status = ReportStatus::Duplicate;
    change
        .outbox
        .extend(lifecycle::status_messages(&as_duplicate, now));
    // A duplicate leaves its operator: clocks still running end here.
    recompute_for_change(app, report, &mut change).await?;
    let merged = EventData::DuplicateMerged(DuplicateMerged {
        duplicate: report.id,
        duplicate_reference: report.reference.as_str().to_owned(),
    })
    .event(staff.actor(), true);
    match app
        .store()
        .merge_duplicate(&change, original.id, &merged)
        .await?
    {
        ChangeOutcome::Applied(updated) => Ok(updated),
        ChangeOutcome::VersionMismatch(current) => Err(AppError::VersionMismatch {
            current: current.version,
        }),
        ChangeOutcome::NotFound => Err(AppError::NotFound),
    }
}

/// Hides or shows a report's description, with the reason on record. The text is never
/// deleted: it stays in the report's history for audit.
pub async fn moderate_description(
    app: &App,
    staff: &StaffMember,
    report: &StoredReport,
    version: i64,
    hide: bool,
    reason: &str,
) -> AppResult<StoredReport> {
    let reason = free_text("reason", Some(reason), true)?;
    let mut change = ReportChange::new(report, Ts::now());
    change.expected_version = version;
    change.description_hidden = Some(hide);
    // Showing it again is staff's approval for the public, whatever the automatic screen
    // says of it.
    change.description_approved = Some(!hide);
    let moderated = Moderated {
        hidden: hide,
        reason,
    };
    let event = EventData::Moderated(moderated).event(staff.actor(), false);
    let data = event.data.clone();
    change.events.push(event);
    lifecycle::commit(app, report, change, "ticket.updated", &data).await
}

/// Parses a priority as staff name it.
pub fn parse_priority(raw: &str) -> AppResult<Priority> {
    Priority::parse(raw).ok_or_else(|| {
        FieldError::new("priority", "must be one of: low, normal, high, urgent").into()
    })
}

/// Stores a new priority with its event; the SLA clocks are recomputed with the new
/// priority's targets.
pub async fn change_priority(
    app: &App,
    report: &StoredReport,
    version: i64,
    by: Uuid,
    priority: Priority,
    note: Option<String>,
) -> AppResult<StoredReport> {
    let mut change = ReportChange::new(report, Ts::now());
    change.expected_version = version;
    change.priority = Some(priority);
    let changed = PriorityChanged {
        from: report.priority,
        to: priority,
        note,
    };
    let event = EventData::PriorityChanged(changed).event(Actor::User(by), false);
    let data = event.data.clone();
    change.events.push(event);
    // `commit` recomputes the clocks with the new priority's targets.
    lifecycle::commit(app, report, change, "ticket.updated", &data).await
}

/// How far back duplicate candidates go.
const CANDIDATE_WINDOW_DAYS: i64 = 60;
/// Duplicate candidates offered at most.
const CANDIDATES_MAX: usize = 20;

/// Reports of the same service near this one that it may duplicate (not itself, not a
/// duplicate, not closed), nearest first with their exact distance in metres: staff see
/// everything of their commune, so no publication gate applies.
pub async fn duplicate_candidates(
    app: &App,
    report: &StoredReport,
) -> AppResult<Vec<(f64, StoredReport)>> {
    // Never narrower than 300 m: staff look wider than residents do.
    let radius = app.settings().nearby_radius_m.max(300.0);
    let search = NearbySearch::new(report.point, radius)?;
    let since =
        Ts::new(time::OffsetDateTime::now_utc() - time::Duration::days(CANDIDATE_WINDOW_DAYS));
    let found = app
        .store()
        .nearby_candidates(&NearbyQuery {
            jurisdiction: report.jurisdiction.clone(),
            service_code: report.service_code.clone(),
            cells: search.cells.clone(),
            bounds: search.bounds,
            since,
        })
        .await?;
    let mut near: Vec<(f64, StoredReport)> = found
        .into_iter()
        .filter(|r| r.id != report.id && r.duplicate_of.is_none())
        .filter(|r| !matches!(r.status, ReportStatus::Duplicate | ReportStatus::Closed))
        .filter_map(|r| Some((search.distance_if_within(&r.point)?, r)))
        .collect();
    near.sort_by(|a, b| a.0.total_cmp(&b.0));
    near.truncate(CANDIDATES_MAX);
    Ok(near)
}
