//! The queue: the operator's tickets, soonest due first, with filters (status, service,
//! overdue, mine) and cursor paging (a page of 50; "next page" as long as there is more).

use super::page::{Chrome, page_assets, respond};
use super::people::{Names, local_time, service_name, status_label};
use crate::problem::ApiError;
use crate::routes::tickets::{decode_cursor, encode_cursor};
use crate::state::AppState;
use crate::web::i18n::PageLanguage;
use crate::web::session::OperatorSession;
use crate::web::templates::{Assets, Words};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use balagh_domain::{ReportStatus, ServiceCode};
use balagh_store::{QueueQuery, Ts};
use serde::Deserialize;
use uuid::Uuid;

/// Tickets per page.
pub const PAGE_SIZE: u32 = 50;

/// Statuses an agent filters on (the queue holds open tickets).
const FILTER_STATUSES: [ReportStatus; 5] = [
    ReportStatus::New,
    ReportStatus::Acknowledged,
    ReportStatus::InProgress,
    ReportStatus::Paused,
    ReportStatus::Reopened,
];

#[derive(Debug, Default, Deserialize)]
pub struct QueueParams {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    overdue: Option<String>,
    #[serde(default)]
    mine: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

/// An option of a filter's `<select>`.
#[derive(Debug)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

struct Row {
    id: Uuid,
    reference: String,
    service: String,
    status: &'static str,
    status_label: String,
    due: String,
    overdue: bool,
    created: String,
    assignee: String,
}

#[derive(Template)]
#[template(path = "operator/queue.html")]
struct QueuePage {
    w: Words,
    assets: Assets,
    chrome: Chrome,
    rows: Vec<Row>,
    /// Tickets matching the filters, on every page.
    total: i64,
    statuses: Vec<Choice>,
    services: Vec<Choice>,
    overdue: bool,
    mine: bool,
    filtered: bool,
    next: Option<String>,
    first: Option<String>,
}

fn checked(raw: Option<&str>) -> bool {
    matches!(raw, Some("1" | "on" | "true"))
}

/// The URL of another page of the same filtered queue.
fn page_url(params: &QueueParams, lang: &str, cursor: Option<&str>) -> String {
    let mut query = vec![format!("lang={lang}")];
    for (key, value) in [
        ("status", params.status.as_deref()),
        ("service", params.service.as_deref()),
        ("overdue", params.overdue.as_deref()),
        ("mine", params.mine.as_deref()),
        ("cursor", cursor),
    ] {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            query.push(format!("{key}={}", urlencoding(v)));
        }
    }
    format!("/operator/queue?{}", query.join("&"))
}

/// Percent-encodes a query value (cursors are URL-safe base64; statuses and codes ASCII).
fn urlencoding(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn query_of(
    session: &OperatorSession,
    params: &QueueParams,
    status: Option<ReportStatus>,
    service: Option<ServiceCode>,
) -> Result<QueueQuery, ApiError> {
    Ok(QueueQuery {
        operator: session.operator,
        statuses: status.into_iter().collect(),
        service_codes: service.into_iter().collect(),
        contract: None,
        assignee: checked(params.mine.as_deref()).then_some(session.user.id),
        due_before: checked(params.overdue.as_deref()).then(Ts::now),
        after: params
            .cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(decode_cursor)
            .transpose()?,
        limit: PAGE_SIZE,
    })
}

pub async fn queue(
    State(state): State<AppState>,
    session: OperatorSession,
    PageLanguage(language): PageLanguage,
    uri: Uri,
    Query(params): Query<QueueParams>,
) -> Response {
    let w = Words::new(language);
    let status = params.status.as_deref().and_then(ReportStatus::parse);
    let service = params
        .service
        .as_deref()
        .and_then(|s| ServiceCode::parse(s).ok());
    let query = match query_of(&session, &params, status, service.clone()) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let (tickets, total) = match (
        state.store().ticket_queue(&query).await,
        state.store().ticket_queue_count(&query).await,
    ) {
        (Ok(t), Ok(n)) => (t, n),
        (Err(e), _) | (_, Err(e)) => return ApiError::from(e).into_response(),
    };
    let names = match Names::load(&state, session.operator, Vec::new()).await {
        Ok(n) => n,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let catalog = state.catalog();
    let rows = rows(&w, &catalog, &names, &tickets);
    let next = (tickets.len() == PAGE_SIZE as usize)
        .then(|| tickets.last().and_then(encode_cursor))
        .flatten()
        .map(|c| page_url(&params, language.code(), Some(&c)));
    let first = params
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|_| page_url(&params, language.code(), None));
    let statuses = FILTER_STATUSES
        .into_iter()
        .map(|s| Choice {
            value: s.as_str().to_owned(),
            label: status_label(&w, s),
            selected: status == Some(s),
        })
        .collect();
    let services = operator_services(&catalog, &session, language, service.as_ref());
    let page = QueuePage {
        w,
        assets: page_assets(false),
        chrome: Chrome::new(&uri, language, Some(&session)),
        rows,
        total,
        statuses,
        services,
        overdue: checked(params.overdue.as_deref()),
        mine: checked(params.mine.as_deref()),
        filtered: status.is_some()
            || service.is_some()
            || checked(params.overdue.as_deref())
            || checked(params.mine.as_deref()),
        next,
        first,
    };
    respond(StatusCode::OK, &page, &[])
}

fn rows(
    w: &Words,
    catalog: &balagh_app::Catalog,
    names: &Names,
    tickets: &[balagh_store::StoredReport],
) -> Vec<Row> {
    let language = w.language;
    let now = Ts::now();
    tickets
        .iter()
        .map(|t| Row {
            id: t.id,
            reference: t.reference.as_str().to_owned(),
            service: service_name(catalog, t, language),
            status: t.status.as_str(),
            status_label: status_label(w, t.status),
            due: t
                .due_at
                .map(|d| local_time(catalog, t, d))
                .unwrap_or_default(),
            overdue: t.due_at.is_some_and(|due| due < now),
            created: local_time(catalog, t, t.created_at),
            assignee: t
                .assignee
                .and_then(|a| names.get(a))
                .unwrap_or_default()
                .to_owned(),
        })
        .collect()
}

/// The services of the groups the operator holds contracts for.
fn operator_services(
    catalog: &balagh_app::Catalog,
    session: &OperatorSession,
    language: balagh_domain::Language,
    selected: Option<&ServiceCode>,
) -> Vec<Choice> {
    let contracts: Vec<_> = catalog
        .router()
        .contracts()
        .iter()
        .filter(|c| c.operator == session.operator)
        .collect();
    let mut choices = Vec::new();
    for jurisdiction in catalog.jurisdictions() {
        for service in catalog.services(&jurisdiction.id) {
            let held = contracts
                .iter()
                .any(|c| c.jurisdiction == jurisdiction.id && c.group == service.group);
            let code = service.code.to_string();
            if held && !choices.iter().any(|c: &Choice| c.value == code) {
                choices.push(Choice {
                    selected: selected.is_some_and(|s| s == &service.code),
                    label: service.name.get(language).to_owned(),
                    value: code,
                });
            }
        }
    }
    choices
}
