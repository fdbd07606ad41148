//! Operators' disputes of SLA breaches: staff accept (the penalty is waived) or reject
//! them, with a note. Open ones first, with the report, the operator's name and its reason.

use super::{Area, Shell, StaffSession, check_csrf, plain_assets, respond, see_other, writer};
use crate::problem::ApiError;
use crate::routes::sla::DisputeView;
use crate::state::AppState;
use crate::web::form::WebForm;
use crate::web::i18n::PageLanguage;
use crate::web::templates::{Assets, Words};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use balagh_app::contracts::disputes;
use balagh_domain::OperatorId;
use balagh_store::DisputeScope;
use serde::Deserialize;

#[derive(Debug)]
pub struct Row {
    id: String,
    report: String,
    report_href: String,
    operator: String,
    metric: String,
    reason: String,
    opened: String,
    state: String,
    open: bool,
}

#[derive(Template)]
#[template(path = "staff/disputes.html")]
struct DisputesPage {
    w: Words,
    assets: Assets,
    shell: Shell,
    lang: &'static str,
    can_write: bool,
    rows: Vec<Row>,
}

pub async fn page(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
) -> Response {
    let w = Words::new(language);
    let scope = DisputeScope::Jurisdiction(session.jurisdiction.clone());
    let mut listed: Vec<DisputeView> = match disputes::list(&state, &scope, None).await {
        Ok(list) => list.into_iter().map(DisputeView::from).collect(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    listed.sort_by_key(|d| d.state != "open");
    let catalog = state.catalog();
    let local = |at: time::OffsetDateTime| {
        catalog
            .jurisdiction(&session.jurisdiction)
            .map_or_else(|| at.to_string(), |j| j.local_time(at))
    };
    let mut rows = Vec::new();
    for d in listed {
        let report = match state.store().report(d.report_id).await {
            Ok(r) => r
                .map(|r| r.reference.as_str().to_owned())
                .unwrap_or_default(),
            Err(e) => return ApiError::from(e).into_response(),
        };
        rows.push(Row {
            id: d.id.to_string(),
            report,
            report_href: format!("/staff/reports/{}?lang={}", d.report_id, language.code()),
            operator: catalog
                .operator(OperatorId(d.operator_id))
                .map(|o| o.operator.name.clone())
                .unwrap_or_default(),
            metric: w.t(&format!(
                "staff-dispute-metric-{}",
                d.metric.replace('_', "-")
            )),
            reason: d.reason,
            opened: local(d.opened_at),
            state: w.t(&format!("staff-dispute-state-{}", d.state)),
            open: d.state == "open",
        });
    }
    let page = DisputesPage {
        w,
        assets: plain_assets(),
        shell: Shell::new(&session, w, Area::Disputes, "/staff/disputes"),
        lang: language.code(),
        can_write: writer(&session).is_ok(),
        rows,
    };
    respond(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    csrf_token: String,
    #[serde(default)]
    note: Option<String>,
}

pub async fn decide(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Path((id, decision)): Path<(String, String)>,
    WebForm(form): WebForm<DecisionForm>,
) -> Response {
    if let Err(refused) = check_csrf(&session, &form.csrf_token) {
        return refused.into_response();
    }
    let caller = match writer(&session) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return ApiError::NotFound.into_response();
    };
    let note = form.note.filter(|n| !n.trim().is_empty());
    let by = disputes::Decider {
        jurisdiction: &caller.jurisdiction,
        user: caller.user.id,
    };
    match disputes::decide(&state, by, id, &decision, note.as_deref()).await {
        Ok(_) => see_other(&format!("/staff/disputes?lang={}", language.code())),
        Err(e) => ApiError::from(e).into_response(),
    }
}
