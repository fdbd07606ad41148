//! One ticket: what was reported (photos, map, address), its history with people's names,
//! and the forms of the actions its status allows.

use super::page::{Chrome, origin, page_assets, respond, tile_origin};
use super::people::{Names, answers, clean, local_time, service_name, status_label};
use crate::problem::ApiError;
use crate::pseudonyms::{OperatorActor, actor_for_operator};
use crate::state::AppState;
use crate::web::i18n::PageLanguage;
use crate::web::session::OperatorSession;
use crate::web::templates::{Assets, Words};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use balagh_domain::event::Actor;
use balagh_domain::lifecycle::{Action, PauseReason, allowed_operator_actions};
use balagh_domain::{EventKind, Language, ReportStatus};
use balagh_store::{ReportDetails, StoredEvent};
use uuid::Uuid;

/// The actions the ticket's status allows (each has its form).
#[derive(Debug, Default)]
struct Can {
    acknowledge: bool,
    start: bool,
    pause: bool,
    resume: bool,
    resolve: bool,
    reject: bool,
}

impl Can {
    fn of(status: ReportStatus) -> Self {
        let allowed = allowed_operator_actions(status);
        let has = |a: Action| allowed.contains(&a);
        Self {
            acknowledge: has(Action::Acknowledge),
            start: has(Action::Start),
            pause: has(Action::Pause),
            resume: has(Action::Resume),
            resolve: has(Action::Resolve),
            reject: has(Action::RejectNotOurs),
        }
    }

    fn any(&self) -> bool {
        self.acknowledge || self.start || self.pause || self.resume || self.resolve || self.reject
    }
}

struct Photo {
    thumbnail: String,
    large: String,
    label: String,
    width: u32,
    height: u32,
}

struct MapView {
    lat: String,
    lon: String,
    tiles: String,
    /// Exterior rings of the contract's zone as `[[lat, lon], …]` lists (JSON).
    zone: String,
    geo: String,
    osm: String,
}

struct HistoryItem {
    at: String,
    what: String,
    note: Option<String>,
    who: String,
}

struct Agent {
    id: Uuid,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "operator/ticket.html")]
struct TicketPage {
    w: Words,
    assets: Assets,
    chrome: Chrome,
    error: Option<String>,
    id: Uuid,
    version: i64,
    reference: String,
    status: &'static str,
    status_label: String,
    service: String,
    priority: String,
    description: Option<String>,
    created: String,
    due: String,
    supporters: i64,
    assignee: String,
    address: Option<String>,
    /// The service's extra questions and their answers.
    answers: Vec<(String, String)>,
    photos: Vec<Photo>,
    map: MapView,
    can: Can,
    can_any: bool,
    reasons: Vec<(&'static str, String)>,
    agents: Vec<Agent>,
    history: Vec<HistoryItem>,
}

#[derive(Template)]
#[template(path = "operator/missing.html")]
struct MissingPage {
    w: Words,
    assets: Assets,
    chrome: Chrome,
}

/// The 404 page of a ticket that is not the operator's (or does not exist).
pub fn missing(session: &OperatorSession, language: Language, uri: &Uri) -> Response {
    let page = MissingPage {
        w: Words::new(language),
        assets: page_assets(false),
        chrome: Chrome::new(uri, language, Some(session)),
    };
    respond(StatusCode::NOT_FOUND, &page, &[])
}

pub async fn ticket(
    State(state): State<AppState>,
    session: OperatorSession,
    PageLanguage(language): PageLanguage,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match Uuid::parse_str(&id) {
        Ok(id) => show(&state, &session, language, &headers, id, None).await,
        Err(_) => missing(&session, language, &uri),
    }
}

/// The ticket page as the ticket is now, with an error message and its status if any.
pub async fn show(
    state: &AppState,
    session: &OperatorSession,
    language: Language,
    headers: &HeaderMap,
    id: Uuid,
    error: Option<(StatusCode, String)>,
) -> Response {
    let uri: Uri = format!("/operator/tickets/{id}")
        .parse()
        .unwrap_or_else(|_| Uri::from_static("/operator/queue"));
    let details = match state.store().report_details(id).await {
        Ok(Some(d)) if d.report.operator == Some(session.operator) => d,
        Ok(_) => return missing(session, language, &uri),
        Err(e) => return ApiError::from(e).into_response(),
    };
    match build(state, session, language, headers, &uri, details, error).await {
        Ok((status, page, origins)) => respond(status, &page, &origins),
        Err(e) => e.into_response(),
    }
}

async fn build(
    state: &AppState,
    session: &OperatorSession,
    language: Language,
    headers: &HeaderMap,
    uri: &Uri,
    details: ReportDetails,
    error: Option<(StatusCode, String)>,
) -> Result<(StatusCode, TicketPage, Vec<String>), ApiError> {
    let w = Words::new(language);
    let ReportDetails {
        report,
        events,
        photos,
    } = details;
    let catalog = state.catalog();
    let users: Vec<Uuid> = events
        .iter()
        .filter_map(|e| match e.actor {
            Actor::User(id) => Some(id),
            _ => None,
        })
        .collect();
    let names = Names::load(state, session.operator, users).await?;
    let key = state.resident_label_key().await?;
    let views = balagh_app::photos::photo_views(
        state,
        &crate::params::base_url(state, headers),
        &photos,
        false,
    )
    .await?;
    let mut origins = tile_origin(state);
    let photos = photo_items(&w, &views, &mut origins);
    let address = address_of(state, report.id).await?;
    let history = events
        .iter()
        .map(|e| history_item(&w, &catalog, &report, &names, key, e))
        .collect();
    let can = Can::of(report.status);
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = TicketPage {
        chrome: Chrome::new(uri, language, Some(session)),
        assets: page_assets(true),
        error,
        id: report.id,
        version: report.version,
        reference: report.reference.as_str().to_owned(),
        status: report.status.as_str(),
        status_label: status_label(&w, report.status),
        service: service_name(&catalog, &report, language),
        priority: w.t(&format!("op-priority-{}", report.priority.as_str())),
        description: (!report.description_hidden).then(|| clean(&report.description)),
        created: local_time(&catalog, &report, report.created_at),
        due: report
            .due_at
            .map(|d| local_time(&catalog, &report, d))
            .unwrap_or_else(|| "—".to_owned()),
        supporters: report.supporters,
        assignee: report
            .assignee
            .and_then(|a| names.get(a))
            .map_or_else(|| w.t("op-nobody"), str::to_owned),
        address,
        answers: answers(&catalog, &report, language),
        photos,
        map: map_view(state, &catalog, &report),
        can_any: can.any(),
        can,
        reasons: PauseReason::ALL
            .into_iter()
            .map(|r| (r.as_str(), w.t(&format!("op-reason-{}", r.as_str()))))
            .collect(),
        agents: agent_choices(&names, report.assignee),
        history,
        w,
    };
    Ok((status, page, origins))
}

/// The address an Open311 client gave, if any (this server does not geocode).
async fn address_of(state: &AppState, id: Uuid) -> Result<Option<String>, ApiError> {
    Ok(state
        .store()
        .open311_addresses(&[id])
        .await?
        .into_iter()
        .next()
        .map(|(_, a)| clean(&a)))
}

/// The report's and the evidence photos, noting their hosts for the CSP.
fn photo_items(
    w: &Words,
    views: &[balagh_wire::PhotoView],
    origins: &mut Vec<String>,
) -> Vec<Photo> {
    views
        .iter()
        .enumerate()
        .map(|(i, p)| {
            origins.extend(origin(&p.thumbnail.url));
            origins.extend(origin(&p.large.url));
            let label = if p.purpose == "evidence" {
                "op-photo-evidence"
            } else {
                "op-photo-report"
            };
            Photo {
                thumbnail: p.thumbnail.url.clone(),
                large: p.large.url.clone(),
                label: w.t1(label, "n", i + 1),
                width: p.thumbnail.width,
                height: p.thumbnail.height,
            }
        })
        .collect()
}

fn history_item(
    w: &Words,
    catalog: &balagh_app::Catalog,
    report: &balagh_store::StoredReport,
    names: &Names,
    key: &[u8],
    event: &StoredEvent,
) -> HistoryItem {
    HistoryItem {
        at: local_time(catalog, report, event.at),
        what: event_words(w, event, names),
        note: event_note(w, event),
        who: actor_name(w, names, key, report.id, &event.actor),
    }
}

fn agent_choices(names: &Names, assignee: Option<Uuid>) -> Vec<Agent> {
    names
        .agents()
        .iter()
        .map(|(id, name)| Agent {
            id: *id,
            name: name.clone(),
            selected: assignee == Some(*id),
        })
        .collect()
}

fn map_view(
    state: &AppState,
    catalog: &balagh_app::Catalog,
    report: &balagh_store::StoredReport,
) -> MapView {
    let (lat, lon) = (report.point.lat(), report.point.lon());
    let rings: Vec<Vec<[f64; 2]>> = report
        .contract
        .and_then(|c| catalog.contract(c))
        .map(|c| {
            c.zone
                .0
                .iter()
                .map(|p| p.exterior().coords().map(|c| [c.y, c.x]).collect())
                .collect()
        })
        .unwrap_or_default();
    MapView {
        lat: format!("{lat:.6}"),
        lon: format!("{lon:.6}"),
        tiles: state.settings().map_tile_url.clone(),
        zone: serde_json::to_string(&rings).unwrap_or_else(|_| "[]".to_owned()),
        geo: format!("geo:{lat:.6},{lon:.6}"),
        osm: format!(
            "https://www.openstreetmap.org/?mlat={lat:.6}&mlon={lon:.6}#map=18/{lat:.6}/{lon:.6}"
        ),
    }
}

fn text_of<'a>(event: &'a StoredEvent, key: &str) -> Option<&'a str> {
    event.data.get(key).and_then(|v| v.as_str())
}

fn event_words(w: &Words, event: &StoredEvent, names: &Names) -> String {
    let status = |key: &str| {
        text_of(event, key)
            .and_then(ReportStatus::parse)
            .map(|s| status_label(w, s))
            .unwrap_or_default()
    };
    match event.kind {
        EventKind::StatusChanged => w.t2(
            "op-event-status_changed",
            ("from", status("from").into()),
            ("to", status("to").into()),
        ),
        EventKind::Assigned => match text_of(event, "to").and_then(|t| Uuid::parse_str(t).ok()) {
            Some(id) => w.t1(
                "op-event-assigned",
                "name",
                names
                    .get(id)
                    .map_or_else(|| w.t("op-actor-unknown"), str::to_owned),
            ),
            None => w.t("op-event-unassigned"),
        },
        EventKind::Comment if event.data.get("public") == Some(&serde_json::Value::Bool(false)) => {
            w.t("op-event-comment-internal")
        }
        EventKind::Rated => w.t1(
            "op-event-rated",
            "stars",
            event
                .data
                .get("stars")
                .and_then(|s| s.as_i64())
                .unwrap_or(0),
        ),
        kind => w.t(&format!("op-event-{}", kind.as_str())),
    }
}

/// The words an event carries (note, reason, comment), reasons of a pause translated.
fn event_note(w: &Words, event: &StoredEvent) -> Option<String> {
    let reason = text_of(event, "reason").map(|r| match PauseReason::parse(r) {
        Some(p) => w.t(&format!("op-reason-{}", p.as_str())),
        None => r.to_owned(),
    });
    let texts: Vec<String> = reason
        .into_iter()
        .chain(
            ["note", "text"]
                .iter()
                .filter_map(|k| text_of(event, k))
                .map(str::to_owned),
        )
        .collect();
    (!texts.is_empty()).then(|| clean(&texts.join(" — ")))
}

fn actor_name(w: &Words, names: &Names, key: &[u8], report: Uuid, actor: &Actor) -> String {
    match actor {
        Actor::User(id) => names
            .get(*id)
            .map_or_else(|| w.t("op-actor-unknown"), str::to_owned),
        Actor::System => w.t("op-actor-system"),
        Actor::Device(_) => match actor_for_operator(key, report, actor) {
            // "Résident A3F9": the label is plain ASCII, no isolation needed.
            OperatorActor::Resident(label) => format!("{} {label}", w.t("op-actor-resident")),
            OperatorActor::Other(_) => w.t("op-actor-unknown"),
        },
    }
}
