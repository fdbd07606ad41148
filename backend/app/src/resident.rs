//! A resident's actions on reports, whatever the channel: "is it already reported?",
//! "me too", and, on their own report, confirming the fix, reopening it, rating it.

use crate::lifecycle::{self, Extras};
use crate::publish::records::Records;
use crate::{App, AppError, AppResult};
use balagh_domain::event::Actor;
use balagh_domain::event_data::{EventData, Rated};
use balagh_domain::lifecycle::Action;
use balagh_domain::report::free_text;
use balagh_domain::{
    FieldError, GeoPoint, JurisdictionId, NearbySearch, ReportStatus, ServiceCode,
};
use balagh_store::{NearbyQuery, NewSupport, ReportChange, StoredReport, SupportOutcome, Ts};
use balagh_wire::{NearbyList, NearbyReport, SupportResult};
use uuid::Uuid;

/// Most nearby reports ever returned, whatever the page.
const NEARBY_MAX: usize = 50;

/// A page of a nearby look-up, as the client sent it (checked by [`nearby`]).
#[derive(Debug, Clone)]
pub struct NearbyRequest<'a> {
    pub lat: f64,
    pub lon: f64,
    pub service_code: &'a str,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

/// One page of the open reports of a service near a point ([`nearby_open`]), with the
/// radius and window they were looked for in.
pub async fn nearby(app: &App, request: NearbyRequest<'_>) -> AppResult<NearbyList> {
    let point = GeoPoint::parse(request.lat, request.lon)?;
    let code = ServiceCode::parse(request.service_code)?;
    let catalog = app.catalog();
    let Some(jurisdiction) = catalog.router().jurisdiction_at(&point) else {
        return Err(AppError::OutsideJurisdiction);
    };
    if catalog.service(jurisdiction, &code).is_none() {
        return Err(FieldError::new("service_code", format!("no service '{code}' here")).into());
    }
    let page_size = request.page_size.unwrap_or(20);
    if !(1..=50).contains(&page_size) {
        return Err(FieldError::new("page_size", "must be from 1 to 50").into());
    }
    let page = request.page.unwrap_or(1);
    if page == 0 {
        return Err(FieldError::new("page", "must be at least 1").into());
    }
    let reports = nearby_open(app, jurisdiction, point, code).await?;
    let settings = app.settings();
    Ok(NearbyList {
        radius_m: settings.nearby_radius_m,
        window_days: settings.nearby_window_days,
        reports: reports
            .into_iter()
            .skip(((page - 1) * page_size) as usize)
            .take(page_size as usize)
            .collect(),
    })
}

/// Open reports of a service near a point (within the configured radius and window),
/// nearest first, at most 50, as the publication gate lets them out: "is it already
/// reported?", for the app and Open311 alike. Nothing for a service whose reports are not
/// listed publicly.
pub async fn nearby_open(
    app: &App,
    jurisdiction: &JurisdictionId,
    point: GeoPoint,
    code: ServiceCode,
) -> AppResult<Vec<NearbyReport>> {
    let settings = app.settings();
    let catalog = app.catalog();
    let gate = Records::new(&catalog, settings.stats.records);
    if !gate.lists(jurisdiction, &code) {
        return Ok(Vec::new());
    }
    let search = NearbySearch::new(point, settings.nearby_radius_m)?;
    let since = Ts::new(
        time::OffsetDateTime::now_utc() - time::Duration::days(settings.nearby_window_days.into()),
    );
    let candidates = app
        .store()
        .nearby_candidates(&NearbyQuery {
            jurisdiction: jurisdiction.clone(),
            service_code: code,
            cells: search.cells.clone(),
            bounds: search.bounds,
            since,
        })
        .await?;
    let mut reports: Vec<NearbyReport> = candidates
        .into_iter()
        .filter_map(|r| {
            search.distance_if_within(&r.point)?;
            let snapped = gate.point(&r);
            Some(NearbyReport {
                id: r.id,
                reference: r.reference.as_str().to_owned(),
                service_code: r.service_code.to_string(),
                status: r.status.as_str().to_owned(),
                lat: snapped.lat(),
                lon: snapped.lon(),
                distance_m: f64::from(gate.distance_m(&point, &r)),
                description: gate.description(&r).unwrap_or_default().to_owned(),
                supporters: r.supporters,
                created_at: gate.time(r.created_at).get(),
            })
        })
        .collect();
    // Nearest first by the published distance (ties: newest first), never by the exact one.
    reports.sort_by(|a, b| {
        a.distance_m
            .total_cmp(&b.distance_m)
            .then(b.created_at.cmp(&a.created_at))
    });
    reports.truncate(NEARBY_MAX);
    Ok(reports)
}

/// The report `device` may say "me too" to: any existing report but its own.
pub async fn supportable(app: &App, device: Uuid, id: Uuid) -> AppResult<StoredReport> {
    let report = app.store().report(id).await?.ok_or(AppError::NotFound)?;
    if report.device == Some(device) {
        return Err(AppError::Conflict("you reported this yourself"));
    }
    Ok(report)
}

/// Records `device`'s "me too" on a report, once per device: asking again changes nothing
/// (`already_supported`). Call [`supportable`] first; limits per address are the caller's.
pub async fn add_support(app: &App, device: Uuid, id: Uuid) -> AppResult<SupportResult> {
    let outcome = app
        .store()
        .support_report(&NewSupport {
            report_id: id,
            device,
            at: Ts::now(),
        })
        .await?;
    match outcome {
        SupportOutcome::Added { supporters } => Ok(SupportResult {
            supporters,
            already_supported: false,
        }),
        SupportOutcome::AlreadySupported { supporters } => Ok(SupportResult {
            supporters,
            already_supported: true,
        }),
        SupportOutcome::NotFound => Err(AppError::NotFound),
    }
}

/// The device's own report; anyone else's does not exist for it (its existence does not
/// leak).
pub async fn own_report(app: &App, device: Uuid, id: Uuid) -> AppResult<StoredReport> {
    app.store()
        .report(id)
        .await?
        .filter(|r| r.device == Some(device))
        .ok_or(AppError::NotFound)
}

/// The reporter confirms the fix: the report closes.
pub async fn confirm(app: &App, device: Uuid, id: Uuid) -> AppResult<StoredReport> {
    let report = own_report(app, device, id).await?;
    lifecycle::apply(
        app,
        &report,
        report.version,
        Actor::Device(device),
        Action::Confirm,
        Extras::default(),
    )
    .await
}

/// The reporter says it is not fixed: within the reopen window after the resolution, the
/// report reopens for the operator, with the comment; later, a new report is needed.
pub async fn reopen(app: &App, device: Uuid, id: Uuid, comment: &str) -> AppResult<StoredReport> {
    let report = own_report(app, device, id).await?;
    let comment = free_text("comment", Some(comment), true)?;
    let window = time::Duration::days(app.settings().reopen_window_days.into());
    if report
        .resolved_at
        .is_some_and(|at| Ts::now().get() - at.get() > window)
    {
        return Err(AppError::Conflict(
            "the reopen window has passed: please submit a new report",
        ));
    }
    let extras = Extras {
        note: comment,
        ..Extras::default()
    };
    let actor = Actor::Device(device);
    lifecycle::apply(app, &report, report.version, actor, Action::Reopen, extras).await
}

/// The reporter rates the resolution, 1–5, once it is resolved (a new rating replaces the
/// previous one). The rating stays between the resident and the commune.
pub async fn rate(
    app: &App,
    device: Uuid,
    id: Uuid,
    stars: u8,
    comment: Option<&str>,
) -> AppResult<StoredReport> {
    let report = own_report(app, device, id).await?;
    if !(1..=5).contains(&stars) {
        return Err(FieldError::new("stars", "must be 1 to 5").into());
    }
    let comment = free_text("comment", comment, false)?;
    if !matches!(report.status, ReportStatus::Resolved | ReportStatus::Closed) {
        return Err(AppError::Conflict(
            "a report can be rated once it is resolved",
        ));
    }
    let mut change = ReportChange::new(&report, Ts::now());
    change.rating = Some(stars);
    let event = EventData::Rated(Rated { stars, comment }).event(Actor::Device(device), false);
    let data = event.data.clone();
    change.events.push(event);
    lifecycle::commit(app, &report, change, "ticket.updated", &data).await
}
