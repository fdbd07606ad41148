//! The triage queue: unrouted reports and reports operators gave back, newest first, paged.

use super::{
    Area, Shell, StaffSession, local_time, plain_assets, respond, service_name, status_word,
};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::web::i18n::PageLanguage;
use crate::web::templates::{Assets, Words};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use balagh_app::triage;
use serde::Deserialize;
use uuid::Uuid;

/// Reports per page.
const PAGE: u32 = 25;

#[derive(Debug, Deserialize)]
pub struct TriageParams {
    /// The last report of the previous page.
    after: Option<Uuid>,
}

#[derive(Debug)]
struct Row {
    href: String,
    reference: String,
    service: String,
    status: String,
    status_code: &'static str,
    channel: String,
    created: String,
    excerpt: String,
}

#[derive(Template)]
#[template(path = "staff/triage.html")]
struct TriagePage {
    w: Words,
    assets: Assets,
    shell: Shell,
    rows: Vec<Row>,
    next: Option<String>,
    first: Option<String>,
}

fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(90).collect();
    if text.chars().count() > 90 {
        out.push('…');
    }
    out
}

pub async fn page(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Query(params): Query<TriageParams>,
) -> Response {
    let w = Words::new(language);
    let jurisdiction = &session.jurisdiction;
    // A cursor that is not one of the commune's reports starts from the first page.
    let after = match params.after {
        Some(id) => match triage::cursor(&state, jurisdiction, id).await {
            Ok(after) => after,
            Err(e) => return ApiError::from(e).into_response(),
        },
        None => None,
    };
    let reports = match triage::queue(&state, jurisdiction, Vec::new(), after, PAGE, true).await {
        Ok(reports) => reports,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let catalog = state.catalog();
    let code = language.code();
    let rows = reports
        .iter()
        .map(|r| Row {
            href: format!("/staff/reports/{}?lang={code}", r.id),
            reference: r.reference.as_str().to_owned(),
            service: service_name(&catalog, r, language),
            status: status_word(w, r.status),
            status_code: r.status.as_str(),
            channel: w.t(&format!("staff-channel-{}", r.channel.as_str())),
            created: local_time(&catalog, r, r.created_at),
            excerpt: excerpt(&r.description),
        })
        .collect();
    let next = (reports.len() == PAGE as usize)
        .then(|| {
            reports
                .last()
                .map(|r| format!("/staff/triage?after={}&lang={code}", r.id))
        })
        .flatten();
    let first = params.after.map(|_| format!("/staff/triage?lang={code}"));
    let path = match params.after {
        Some(id) => format!("/staff/triage?after={id}"),
        None => "/staff/triage".to_owned(),
    };
    let page = TriagePage {
        w,
        assets: plain_assets(),
        shell: Shell::new(&session, w, Area::Triage, &path),
        rows,
        next,
        first,
    };
    respond(StatusCode::OK, &page)
}
