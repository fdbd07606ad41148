//! What a resident's device sees of the reports it cares about: its own, as a list, and the
//! reports it follows without having written them.

use super::cursor;
use super::reports::report_view;
use crate::extract::ApiQuery;
use crate::extract::DeviceAuth;
use crate::problem::{ApiError, ApiResult};
use crate::publish::records::Records;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use balagh_domain::{EventKind, FieldError};
use balagh_store::ReportDetails;
use balagh_wire::{EventView, MyReportsPage, ReportView};
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
