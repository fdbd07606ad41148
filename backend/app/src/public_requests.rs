//! The public reads of reports for outside systems (Open311's `requests`,
//! `servicerequestupdates`, tokens and media): what the publication gate lets out, and
//! what their views need, read in few queries. The wire format is the caller's.

use crate::publish::records::Records;
use crate::{App, AppError, AppResult, Catalog};
use balagh_domain::{FieldError, JurisdictionId, ReportStatus, ServiceCode};
use balagh_store::{
    Open311Query, Open311UpdatesQuery, Store, StoredEvent, StoredPhoto, StoredReport, Ts,
};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Which requests to read.
#[derive(Debug, Clone)]
pub enum RequestFilter {
    /// Exactly these (ids or public references); every other filter is ignored. Read from
    /// the primary when `fresh` (one request asked for by id, perhaps just created by
    /// this client).
    Named { wanted: Vec<String>, fresh: bool },
    /// A page of the requests created in `[from, until)`, of these services (empty: every
    /// listed one) and statuses (empty: every one), from the read replicas.
    Search {
        service_codes: Vec<ServiceCode>,
        statuses: Vec<ReportStatus>,
        from: Ts,
        until: Ts,
        page: u64,
        page_size: u32,
    },
}

/// Requests with what their views need: addresses, public history and approved photos by
/// report.
#[derive(Debug, Default)]
pub struct Requests {
    pub reports: Vec<StoredReport>,
    pub addresses: HashMap<Uuid, String>,
    pub history: HashMap<Uuid, Vec<StoredEvent>>,
    pub photos: HashMap<Uuid, Vec<StoredPhoto>>,
}

/// The requests of `jurisdiction` the filter names, as many as `max` at most, of services
/// whose records are public only.
pub async fn requests(
    app: &App,
    jurisdiction: &JurisdictionId,
    filter: RequestFilter,
    max: u32,
) -> AppResult<Requests> {
    let catalog = app.catalog();
    let gate = Records::new(&catalog, app.settings().stats.records);
    let now = Ts::now();
    let mut query = Open311Query {
        jurisdiction: jurisdiction.clone(),
        references: Vec::new(),
        ids: Vec::new(),
        service_codes: Vec::new(),
        statuses: Vec::new(),
        created_from: now,
        created_until: now,
        offset: 0,
        limit: max,
    };
    // A list tolerates the read replicas' staleness; a request asked for by id is read from
    // the primary.
    let mut store = app.stale_reads();
    match filter {
        RequestFilter::Named { wanted, fresh } => {
            if wanted.len() > max as usize {
                return Err(
                    FieldError::new("service_request_id", format!("at most {max} ids")).into(),
                );
            }
            for id in wanted {
                match Uuid::parse_str(&id) {
                    Ok(uuid) => query.ids.push(uuid),
                    Err(_) => query.references.push(id.to_ascii_uppercase()),
                }
            }
            if fresh {
                store = app.store();
            }
        }
        RequestFilter::Search {
            service_codes,
            statuses,
            from,
            until,
            page,
            page_size,
        } => {
            query.service_codes = listed_services(&catalog, &gate, jurisdiction, service_codes);
            query.statuses = statuses;
            query.created_from = from;
            query.created_until = until;
            query.limit = page_size;
            query.offset = page.saturating_sub(1) * u64::from(page_size);
        }
    }
    let mut reports = store.open311_requests(&query).await?;
    reports.retain(|r| gate.lists_report(r));
    let mut requests = views_of(store, &reports).await?;
    requests.reports = reports;
    Ok(requests)
}

/// The services to search: the wanted ones (empty: all) whose records are public (the
/// gate's rule). The filter goes to the query so that pages stay full.
fn listed_services(
    catalog: &Catalog,
    gate: &Records<'_>,
    jurisdiction: &JurisdictionId,
    wanted: Vec<ServiceCode>,
) -> Vec<String> {
    let listed: Vec<String> = catalog
        .services(jurisdiction)
        .iter()
        .filter(|s| gate.lists(jurisdiction, &s.code))
        .map(|s| s.code.as_str().to_owned())
        .collect();
    if wanted.is_empty() {
        return listed;
    }
    let codes: Vec<String> = wanted
        .iter()
        .map(|c| c.as_str().to_owned())
        .filter(|c| listed.contains(c))
        .collect();
    if codes.is_empty() {
        // None of the wanted services is listed: match nothing, not everything.
        return vec![String::new()];
    }
    codes
}

/// Addresses, public history and approved photos of these reports, in three queries.
async fn views_of(store: &dyn Store, reports: &[StoredReport]) -> AppResult<Requests> {
    let ids: Vec<Uuid> = reports.iter().map(|r| r.id).collect();
    let addresses = store.open311_addresses(&ids).await?.into_iter().collect();
    let history = by_report(store.open311_notes(&ids).await?, |e| Some(e.report_id));
    let photos = by_report(store.approved_photos(&ids).await?, |p| p.report_id);
    Ok(Requests {
        reports: Vec::new(),
        addresses,
        history,
        photos,
    })
}

fn by_report<T>(rows: Vec<T>, report: impl Fn(&T) -> Option<Uuid>) -> HashMap<Uuid, Vec<T>> {
    let mut grouped: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        if let Some(id) = report(&row) {
            grouped.entry(id).or_default().push(row);
        }
    }
    grouped
}

/// Public updates of a jurisdiction's listed reports, with those reports and their public
/// history (each update is stamped with the status of its own time).
#[derive(Debug, Default)]
pub struct Updates {
    /// Oldest first; some may be of reports the gate does not list (not in `reports`).
    pub events: Vec<StoredEvent>,
    pub reports: HashMap<Uuid, StoredReport>,
    pub history: HashMap<Uuid, Vec<StoredEvent>>,
}

/// Public status changes and comments in `[from, until)`, at most `max`, all read from one
/// store that tolerates staleness.
pub async fn updates(
    app: &App,
    jurisdiction: &JurisdictionId,
    from: Ts,
    until: Ts,
    max: u32,
) -> AppResult<Updates> {
    let store = app.stale_reads();
    let events = store
        .open311_updates(&Open311UpdatesQuery {
            jurisdiction: jurisdiction.clone(),
            from,
            until,
            limit: max,
        })
        .await?;
    let ids: Vec<Uuid> = events
        .iter()
        .map(|e| e.report_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let catalog = app.catalog();
    let gate = Records::new(&catalog, app.settings().stats.records);
    let reports: HashMap<Uuid, StoredReport> = store
        .reports_by_ids(&ids)
        .await?
        .into_iter()
        .filter(|r| gate.lists_report(r))
        .map(|r| (r.id, r))
        .collect();
    let listed: Vec<Uuid> = reports.keys().copied().collect();
    let history = by_report(store.open311_notes(&listed).await?, |e| Some(e.report_id));
    Ok(Updates {
        events,
        reports,
        history,
    })
}

/// A photo staff approved, of a report of a service that is not sensitive; else none.
pub async fn public_photo(app: &App, id: Uuid) -> AppResult<StoredPhoto> {
    let photo = app
        .store()
        .photo(id)
        .await?
        .filter(|p| p.approved)
        .ok_or(AppError::NotFound)?;
    let report = match photo.report_id {
        Some(report) => app.store().report(report).await?,
        None => None,
    }
    .ok_or(AppError::NotFound)?;
    if app
        .catalog()
        .service(&report.jurisdiction, &report.service_code)
        .is_none_or(|s| s.sensitive)
    {
        return Err(AppError::NotFound);
    }
    Ok(photo)
}

/// The report behind a token a `POST` answered (the report's id), if it is of
/// `jurisdiction`.
pub async fn by_token(
    app: &App,
    jurisdiction: &JurisdictionId,
    token: Uuid,
) -> AppResult<StoredReport> {
    crate::triage::commune_report(app, jurisdiction, token).await
}
