//! What a resident's device sees of the reports it cares about: its own, as a list, and the
//! reports it follows without having written them.

use super::cursor;
use super::reports::report_view;
use crate::extract::DeviceAuth;
use crate::extract::{ApiJson, ApiQuery};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use balagh_app::publish::records::Records;
use balagh_domain::event::Actor;
use balagh_domain::lifecycle::{Action, PauseReason};
use balagh_domain::{EventData, EventKind, FieldError, ReportStatus};
use balagh_store::{ReportDetails, StoredEvent};
use balagh_wire::{EventView, MyReportsPage, ReplyRequest, ReportView};
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyReportsParams {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<u32>,
}

/// The reports this device wrote, newest first, with cursor paging: "my reports" of an app
/// that was reinstalled or of a second browser tab, without keeping references itself.
#[utoipa::path(
    get, path = "/api/v1/me/reports", tag = "reports",
    params(MyReportsParams),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "A page of the device's reports", body = MyReportsPage),
        (status = 400, description = "Malformed cursor or limit", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_reports(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiQuery(params): ApiQuery<MyReportsParams>,
) -> ApiResult<Json<MyReportsPage>> {
    let limit = params.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "limit",
            "must be from 1 to 100",
        )));
    }
    let before = params.cursor.as_deref().map(cursor::decode).transpose()?;
    let reports = state.store().device_reports(device, before, limit).await?;
    let next_cursor = (reports.len() == limit as usize)
        .then(|| reports.last().map(|r| cursor::encode(r.created_at, r.id)))
        .flatten();
    let catalog = state.catalog();
    Ok(Json(MyReportsPage {
        reports: reports.iter().map(|r| report_view(r, &catalog)).collect(),
        next_cursor,
    }))
}

/// A followed report as the public may know it, or 404 when the device does not follow it.
pub async fn follower_view(
    state: &AppState,
    device: Uuid,
    details: ReportDetails,
) -> ApiResult<Json<ReportView>> {
    let report = details.report;
    if !state.store().followers(report.id).await?.contains(&device) {
        return Err(ApiError::NotFound);
    }
    let catalog = state.catalog();
    let gate = Records::new(&catalog, state.settings().stats.records);
    let mut view = report_view(&report, &catalog);
    let point = gate.point(&report);
    view.lat = point.lat();
    view.lon = point.lon();
    view.accuracy_m = None;
    view.description = if gate.lists_report(&report) {
        gate.description(&report).unwrap_or_default().to_owned()
    } else {
        String::new()
    };
    view.attributes = Value::Object(Map::new());
    view.history = Some(
        details
            .events
            .iter()
            .filter(|e| e.public && e.kind == EventKind::StatusChanged)
            .map(|e| EventView {
                kind: e.kind.as_str().to_owned(),
                at: e.at.get(),
                data: status_only(&e.data),
            })
            .collect(),
    );
    view.viewer = Some("follower".to_owned());
    Ok(Json(view))
}

/// A status change's `from` and `to`, without notes or reasons written by people.
fn status_only(data: &Value) -> Value {
    let mut kept = Map::new();
    for key in ["from", "to"] {
        if let Some(v) = data.get(key) {
            kept.insert(key.to_owned(), v.clone());
        }
    }
    Value::Object(kept)
}

/// The reporter answers the operator's question: while the ticket is paused waiting for the
/// resident, the answer is added to its history and the ticket resumes (its SLA clocks run
/// again); the operator's webhook carries the answer.
#[utoipa::path(
    post, path = "/api/v1/reports/{id}/reply", tag = "reports",
    request_body = ReplyRequest,
    params(("id" = Uuid, Path, description = "Report id")),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Answered: the ticket is back in progress", body = ReportView),
        (status = 404, description = "No such report for this device", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 409, description = "No question is waiting for the resident's answer", body = balagh_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long answer", body = balagh_wire::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reply_to_operator(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplyRequest>,
) -> ApiResult<Json<ReportView>> {
    let report = super::reports::own_report(&state, device, &id).await?;
    let text = crate::params::text("text", Some(&body.text), true)?;
    let events = state.store().report_events(report.id).await?;
    if report.status != ReportStatus::Paused
        || pause_reason(&events) != Some(PauseReason::AwaitingResident)
    {
        return Err(ApiError::Conflict(
            "no question from the operator is waiting for your answer",
        ));
    }
    let updated = balagh_app::lifecycle::apply(
        &state,
        &report,
        report.version,
        Actor::Device(device),
        Action::Resume,
        balagh_app::lifecycle::Extras {
            note: text,
            ..Default::default()
        },
    )
    .await?;
    Ok(Json(report_view(&updated, &state.catalog())))
}

/// Why the report was last paused (the `reason` of its latest pause).
fn pause_reason(events: &[StoredEvent]) -> Option<PauseReason> {
    events
        .iter()
        .rev()
        .filter(|e| e.kind == EventKind::StatusChanged)
        .filter_map(|e| match EventData::from_stored(e.kind, &e.data) {
            Ok(EventData::StatusChanged(c)) if c.action == Action::Pause => Some(c.reason),
            _ => None,
        })
        .next()
        .flatten()
        .as_deref()
        .and_then(PauseReason::parse)
}
