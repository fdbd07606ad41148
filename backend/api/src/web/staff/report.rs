//! A report's page for staff: its facts, the resident's contact (never shown to
//! operators), the triage forms (route, duplicate, dismiss), priority, moderation, comments
//! and the full history with people's names.

use super::{
    Area, Shell, StaffSession, check_csrf, local_time, respond, see_other, service_name,
    status_word, writer,
};
use crate::auth::principal::StaffCaller;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::web::form::WebForm;
use crate::web::i18n::PageLanguage;
use crate::web::templates::{Assets, Words};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use balagh_app::{lifecycle, triage};
use balagh_domain::event::Actor;
use balagh_domain::lifecycle::{Action, allowed_actions};
use balagh_domain::{Language, Priority, ReportStatus};
use balagh_store::{StoredEvent, StoredReport, Ts};
use balagh_wire::TicketActionRequest;
use geo::Contains;
use serde::Deserialize;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug)]
pub struct Fact {
    label: String,
    value: String,
    id: &'static str,
    /// Dates, numbers and references read left to right in every language.
    ltr: bool,
}

#[derive(Debug)]
pub struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Debug)]
pub struct HistoryItem {
    at: String,
    what: String,
    who: String,
    note: Option<String>,
}

#[derive(Debug)]
pub struct Photo {
    id: String,
    thumbnail: String,
    large: String,
    width: u32,
    height: u32,
    approved: bool,
    by: String,
}

#[derive(Template)]
#[template(path = "staff/report.html")]
struct ReportPage {
    w: Words,
    assets: Assets,
    shell: Shell,
    id: Uuid,
    reference: String,
    lang: &'static str,
    version: i64,
    error: Option<String>,
    done: Option<String>,
    facts: Vec<Fact>,
    description: String,
    hidden: bool,
    contact: Option<(String, String)>,
    can_write: bool,
    can_route: bool,
    can_dismiss: bool,
    covering: Vec<Choice>,
    other_zones: Vec<Choice>,
    candidates: Vec<Choice>,
    priorities: Vec<Choice>,
    photos: Vec<Photo>,
    history: Vec<HistoryItem>,
    map: super::place::MapView,
}

/// The contracts a report may go to: its service group's, those whose zone contains its
/// point first (another zone of the group stays possible on purpose).
fn contract_choices(state: &AppState, report: &StoredReport) -> (Vec<Choice>, Vec<Choice>) {
    let catalog = state.catalog();
    let Some(group) = catalog
        .service(&report.jurisdiction, &report.service_code)
        .map(|s| s.group.clone())
    else {
        return (Vec::new(), Vec::new());
    };
    let now = Ts::now().get();
    let point = geo::Point::new(report.point.lon(), report.point.lat());
    let (mut covering, mut others) = (Vec::new(), Vec::new());
    for c in catalog.router().contracts() {
        if c.jurisdiction != report.jurisdiction || c.group != group || !c.is_valid_at(now) {
            continue;
        }
        let operator = catalog
            .operator(c.operator)
            .map(|o| o.operator.name.clone())
            .unwrap_or_default();
        let choice = Choice {
            value: c.id.0.to_string(),
            label: format!("{operator} — {} ({})", c.zone_name, c.reference),
            selected: report.contract == Some(c.id),
        };
        if c.zone.contains(&point) {
            covering.push(choice);
        } else {
            others.push(choice);
        }
    }
    (covering, others)
}

/// Open reports of the same service near this one, nearest first: duplicate candidates.
async fn candidates(
    state: &AppState,
    report: &StoredReport,
    w: Words,
) -> Result<Vec<Choice>, ApiError> {
    let catalog = state.catalog();
    let near = triage::duplicate_candidates(state, report).await?;
    Ok(near
        .into_iter()
        .map(|(d, r)| {
            let label = w.t2(
                "staff-candidate",
                ("reference", r.reference.as_str().to_owned().into()),
                ("distance", format!("{d:.0}").into()),
            );
            let label = format!(
                "{label} — {} — {}",
                status_word(w, r.status),
                local_time(&catalog, &r, r.created_at)
            );
            Choice {
                value: r.id.to_string(),
                label,
                selected: false,
            }
        })
        .collect())
}

/// Names of the people in a history: staff and operator agents by their name, residents
/// and the system by what they are.
async fn names(state: &AppState, events: &[StoredEvent], w: Words) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for e in events {
        let key = e.actor.to_stored();
        if names.contains_key(&key) {
            continue;
        }
        let name = match e.actor {
            Actor::User(id) => match state.store().user(id).await {
                Ok(Some(user)) => user.display_name,
                _ => w.t("staff-actor-unknown"),
            },
            Actor::Device(_) => w.t("staff-actor-resident"),
            Actor::System => w.t("staff-actor-system"),
        };
        names.insert(key, name);
    }
    names
}

fn history(
    state: &AppState,
    report: &StoredReport,
    events: &[StoredEvent],
    names: &HashMap<String, String>,
    w: Words,
) -> Vec<HistoryItem> {
    let catalog = state.catalog();
    events
        .iter()
        .map(|e| {
            let kind = w.t(&format!(
                "staff-event-{}",
                e.kind.as_str().replace('_', "-")
            ));
            let what = match e.data.get("to").and_then(|v| v.as_str()) {
                Some(to) if e.kind == balagh_domain::EventKind::StatusChanged => {
                    match ReportStatus::parse(to) {
                        Some(status) => format!("{kind} → {}", status_word(w, status)),
                        None => kind,
                    }
                }
                Some(to) if e.kind == balagh_domain::EventKind::PriorityChanged => {
                    format!("{kind} → {}", w.t(&format!("staff-priority-{to}")))
                }
                _ => kind,
            };
            let note = ["note", "reason", "text"]
                .iter()
                .find_map(|k| e.data.get(*k).and_then(|v| v.as_str()))
                .filter(|n| !n.is_empty())
                .map(str::to_owned);
            HistoryItem {
                at: local_time(&catalog, report, e.at),
                what,
                who: names.get(&e.actor.to_stored()).cloned().unwrap_or_default(),
                note,
            }
        })
        .collect()
}

fn facts(state: &AppState, report: &StoredReport, w: Words) -> Vec<Fact> {
    let catalog = state.catalog();
    let language = w.language;
    let fact = |id: &'static str, label: &str, value: String| Fact {
        label: w.t(label),
        value,
        id,
        ltr: matches!(id, "created" | "due" | "place" | "supporters"),
    };
    let operator = report
        .contract
        .and_then(|c| catalog.contract(c))
        .map(|c| {
            let name = catalog
                .operator(c.operator)
                .map(|o| o.operator.name.clone())
                .unwrap_or_default();
            format!("{name} — {} ({})", c.zone_name, c.reference)
        })
        .unwrap_or_else(|| "—".to_owned());
    vec![
        fact("status", "staff-col-status", status_word(w, report.status)),
        fact(
            "priority",
            "staff-col-priority",
            w.t(&format!("staff-priority-{}", report.priority.as_str())),
        ),
        fact(
            "service",
            "staff-col-service",
            service_name(&catalog, report, language),
        ),
        fact(
            "channel",
            "staff-col-channel",
            w.t(&format!("staff-channel-{}", report.channel.as_str())),
        ),
        fact(
            "created",
            "staff-col-created",
            local_time(&catalog, report, report.created_at),
        ),
        fact(
            "due",
            "staff-col-due",
            report
                .due_at
                .map(|d| local_time(&catalog, report, d))
                .unwrap_or_else(|| "—".to_owned()),
        ),
        fact("operator", "staff-col-operator", operator),
        fact(
            "place",
            "staff-col-place",
            format!("{:.5}, {:.5}", report.point.lat(), report.point.lon()),
        ),
        fact(
            "supporters",
            "staff-col-supporters",
            report.supporters.to_string(),
        ),
    ]
}

fn contact(report: &StoredReport) -> Option<(String, String)> {
    let c = report.contact.as_ref()?;
    let field = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or("—").to_owned();
    Some((field("name"), field("phone")))
}

/// The page for `report` as it is now, with an error or a confirmation.
/// The report's photos as staff see them (every one, approved or not).
async fn photos(
    state: &AppState,
    headers: &HeaderMap,
    report: &StoredReport,
    w: Words,
) -> Result<Vec<Photo>, ApiError> {
    let stored = state.store().report_photos(report.id).await?;
    let views = balagh_app::photos::photo_views(
        state,
        &crate::params::base_url(state, headers),
        &stored,
        true,
    )
    .await?;
    Ok(views
        .into_iter()
        .map(|v| Photo {
            id: v.id.to_string(),
            thumbnail: v.thumbnail.url,
            large: v.large.url,
            width: v.thumbnail.width,
            height: v.thumbnail.height,
            approved: v.approved,
            by: w.t(&format!("staff-photo-by-{}", v.uploaded_by)),
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    headers: &HeaderMap,
    session: &StaffSession,
    language: Language,
    report: &StoredReport,
    error: Option<String>,
    done: Option<String>,
) -> Response {
    let w = Words::new(language);
    let events = match state.store().report_events(report.id).await {
        Ok(events) => events,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let candidates = match candidates(state, report, w).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let photos = match photos(state, headers, report, w).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let names = names(state, &events, w).await;
    let allowed = allowed_actions(report.status);
    let (covering, other_zones) = contract_choices(state, report);
    let priorities = Priority::ALL
        .into_iter()
        .map(|p| Choice {
            value: p.as_str().to_owned(),
            label: w.t(&format!("staff-priority-{}", p.as_str())),
            selected: p == report.priority,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let images: Vec<String> = std::iter::once(state.settings().map_tile_url.clone())
        .chain(
            photos
                .iter()
                .flat_map(|p| [p.thumbnail.clone(), p.large.clone()]),
        )
        .collect();
    let page = ReportPage {
        w,
        assets: super::script_assets(),
        shell: Shell::new(
            session,
            w,
            Area::Other,
            &format!("/staff/reports/{}", report.id),
        ),
        id: report.id,
        reference: report.reference.as_str().to_owned(),
        lang: language.code(),
        version: report.version,
        error,
        done,
        facts: facts(state, report, w),
        description: report.description.clone(),
        hidden: report.description_hidden,
        contact: contact(report),
        can_write: writer(session).is_ok(),
        can_route: allowed.contains(&Action::Route),
        can_dismiss: allowed.contains(&Action::Dismiss),
        covering,
        other_zones,
        candidates,
        priorities,
        photos,
        history: history(state, report, &events, &names, w),
        map: super::place::map_view(state, report),
    };
    let csp = super::place::csp_with_images(images.iter().map(String::as_str));
    super::place::with_csp(respond(status, &page), csp)
}

async fn own(state: &AppState, session: &StaffSession, id: &str) -> Result<StoredReport, Response> {
    let id = Uuid::parse_str(id).map_err(|_| ApiError::NotFound.into_response())?;
    match state.store().report(id).await {
        Ok(Some(r)) if r.jurisdiction == session.jurisdiction => Ok(r),
        Ok(_) => Err(ApiError::NotFound.into_response()),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

#[derive(Debug, Deserialize)]
pub struct PageParams {
    done: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::extract::Query(params): axum::extract::Query<PageParams>,
) -> Response {
    let report = match own(&state, &session, &id).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let w = Words::new(language);
    let done = params
        .done
        .filter(|d| DONE.contains(&d.as_str()))
        .map(|d| w.t(&format!("staff-done-{d}")));
    render(&state, &headers, &session, language, &report, None, done).await
}

/// The actions of the report page (each a form posting here).
const DONE: [&str; 7] = [
    "route",
    "duplicate",
    "dismiss",
    "priority",
    "moderate",
    "comment",
    "photo",
];

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    csrf_token: String,
    version: i64,
    #[serde(default)]
    contract_id: Option<String>,
    #[serde(default)]
    duplicate_of: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    hide: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    public: Option<String>,
    #[serde(default)]
    photo_id: Option<String>,
    #[serde(default)]
    approved: Option<String>,
}

fn uuid_field(raw: Option<&str>) -> Option<Uuid> {
    raw.and_then(|s| Uuid::parse_str(s.trim()).ok())
}

/// Route, duplicate or dismiss, through the API's triage action.
async fn triage(
    state: &AppState,
    caller: &StaffCaller,
    report: &StoredReport,
    action: &str,
    form: &ActionForm,
) -> Result<StoredReport, ApiError> {
    let mut body = TicketActionRequest {
        note: form.note.clone().filter(|n| !n.trim().is_empty()),
        ..TicketActionRequest::default()
    };
    let action = match action {
        "route" => {
            body.contract_id = uuid_field(form.contract_id.as_deref());
            "route"
        }
        "duplicate" => {
            body.duplicate_of = uuid_field(form.duplicate_of.as_deref());
            "mark_duplicate"
        }
        _ => {
            body.reason = form.reason.clone();
            "dismiss"
        }
    };
    let staff = crate::routes::staff::member(caller);
    Ok(triage::act(state, &staff, report, form.version, action, body).await?)
}

async fn comment(
    state: &AppState,
    caller: &StaffCaller,
    report: &StoredReport,
    form: &ActionForm,
) -> Result<StoredReport, ApiError> {
    let text = form.text.as_deref().unwrap_or_default();
    let public = form.public.as_deref() == Some("true");
    let actor = Actor::User(caller.user.id);
    Ok(lifecycle::comment(state, report, form.version, actor, text, public).await?)
}

/// Publishes or withdraws one of this report's photos (only this report's).
async fn photo(
    state: &AppState,
    caller: &StaffCaller,
    report: &StoredReport,
    form: &ActionForm,
) -> Result<StoredReport, ApiError> {
    let id = uuid_field(form.photo_id.as_deref()).ok_or(ApiError::NotFound)?;
    let photo = state.store().photo(id).await?.ok_or(ApiError::NotFound)?;
    if photo.report_id != Some(report.id) {
        return Err(ApiError::NotFound);
    }
    let approved = form.approved.as_deref() == Some("true");
    crate::routes::photos::moderate_photo_of(state, caller, id, approved).await?;
    Ok(report.clone())
}

async fn apply(
    state: &AppState,
    session: &StaffSession,
    report: &StoredReport,
    action: &str,
    form: ActionForm,
) -> Result<StoredReport, ApiError> {
    let caller = writer(session)?;
    let note = form.note.clone().filter(|n| !n.trim().is_empty());
    match action {
        "route" | "duplicate" | "dismiss" => triage(state, &caller, report, action, &form).await,
        "priority" => {
            let priority = Priority::parse(form.priority.as_deref().unwrap_or(""))
                .ok_or_else(|| balagh_domain::FieldError::new("priority", "unknown"))?;
            let by = caller.user.id;
            Ok(triage::change_priority(state, report, form.version, by, priority, note).await?)
        }
        "moderate" => {
            let hide = form.hide.as_deref() == Some("true");
            let reason = form.reason.clone().unwrap_or_default();
            let staff = crate::routes::staff::member(&caller);
            Ok(
                triage::moderate_description(state, &staff, report, form.version, hide, &reason)
                    .await?,
            )
        }
        "comment" => comment(state, &caller, report, &form).await,
        "photo" => photo(state, &caller, report, &form).await,
        _ => Err(ApiError::NotFound),
    }
}

/// What went wrong, in the page's language.
fn explain(w: Words, error: &ApiError) -> String {
    match error {
        ApiError::PreconditionFailed { .. } => w.t("staff-error-stale"),
        ApiError::IllegalTransition { .. } => w.t("staff-error-status"),
        ApiError::Validation(errors) => {
            let fields: Vec<String> = errors.iter().map(ToString::to_string).collect();
            w.t1("staff-error-invalid", "detail", fields.join("; "))
        }
        _ => w.t("staff-error-other"),
    }
}

pub async fn act(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    WebForm(form): WebForm<ActionForm>,
) -> Response {
    if let Err(refused) = check_csrf(&session, &form.csrf_token) {
        return refused.into_response();
    }
    if !DONE.contains(&action.as_str()) {
        return ApiError::NotFound.into_response();
    }
    let report = match own(&state, &session, &id).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    match apply(&state, &session, &report, &action, form).await {
        Ok(_) => see_other(&format!(
            "/staff/reports/{}?lang={}&done={action}",
            report.id,
            language.code()
        )),
        Err(ApiError::Forbidden) => ApiError::Forbidden.into_response(),
        Err(ApiError::NotFound) => ApiError::NotFound.into_response(),
        Err(error) => {
            let message = explain(Words::new(language), &error);
            let current = match own(&state, &session, &id).await {
                Ok(r) => r,
                Err(response) => return response,
            };
            let mut page = render(
                &state,
                &headers,
                &session,
                language,
                &current,
                Some(message),
                None,
            )
            .await;
            if !matches!(
                error,
                ApiError::PreconditionFailed { .. } | ApiError::IllegalTransition { .. }
            ) {
                *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            }
            page
        }
    }
}
