//! The dashboard's tables as CSV.

use super::StaffSession;
use super::data::{self, AGES, DashboardQuery};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use balagh_app::stats;
use serde_json::Value;

/// The dashboard's tables as CSV, with the same filters.
pub async fn dashboard_csv(
    State(state): State<AppState>,
    session: StaffSession,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let (ctx, filters, data) = match data::load(&state, &session, &q).await {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(message)) => {
            return ApiError::InvalidParameter(balagh_domain::FieldError::new("query", message))
                .into_response();
        }
        Err(e) => return e.into_response(),
    };
    let table = q.table.as_deref().unwrap_or("compliance");
    let out = match table {
        "compliance" => compliance_csv(&data),
        "resolution" => resolution_csv(&data),
        "backlog" => backlog_csv(&data),
        _ => {
            return ApiError::InvalidParameter(balagh_domain::FieldError::new(
                "table",
                "must be compliance, resolution or backlog",
            ))
            .into_response();
        }
    };
    let _ = ctx;
    let filename = format!(
        "attachment; filename=\"balagh-{table}-{}-{}.csv\"",
        filters.from, filters.to
    );
    let disposition =
        HeaderValue::from_str(&filename).unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        out,
    )
        .into_response()
}

/// One CSV line of these fields.
fn line(fields: Vec<String>) -> String {
    stats::csv_line(&fields)
}

/// The weekly SLA compliance table.
fn compliance_csv(data: &Value) -> String {
    let mut out = line(
        [
            "week",
            "operator",
            "service",
            "new",
            "resolved",
            "breached",
            "within_sla",
        ]
        .map(String::from)
        .to_vec(),
    );
    for r in data["sla_compliance_by_week"]
        .as_array()
        .into_iter()
        .flatten()
    {
        out.push_str(&line(vec![
            r["week"].as_str().unwrap_or_default().to_owned(),
            r["operator"].as_str().unwrap_or_default().to_owned(),
            r["service"].as_str().unwrap_or_default().to_owned(),
            r["new"].to_string(),
            r["resolved"].to_string(),
            r["breached"].to_string(),
            r["within_sla"]
                .as_f64()
                .map(|v| v.to_string())
                .unwrap_or_default(),
        ]));
    }
    out
}

/// The resolution and acknowledgement percentiles per service.
fn resolution_csv(data: &Value) -> String {
    let mut out = line(
        [
            "service",
            "resolved",
            "p50_minutes",
            "p90_minutes",
            "acknowledged",
            "ack_p50_minutes",
            "ack_p90_minutes",
        ]
        .map(String::from)
        .to_vec(),
    );
    let n = |v: &Value| v.as_u64().map(|v| v.to_string()).unwrap_or_default();
    for r in data["resolution_by_service"]
        .as_array()
        .into_iter()
        .flatten()
    {
        out.push_str(&line(vec![
            r["service"].as_str().unwrap_or_default().to_owned(),
            n(&r["resolve"]["count"]),
            n(&r["resolve"]["p50_minutes"]),
            n(&r["resolve"]["p90_minutes"]),
            n(&r["acknowledge"]["count"]),
            n(&r["acknowledge"]["p50_minutes"]),
            n(&r["acknowledge"]["p90_minutes"]),
        ]));
    }
    out
}

/// The backlog ageing per service and operator.
fn backlog_csv(data: &Value) -> String {
    let mut head = vec!["service".to_owned(), "operator".to_owned()];
    head.extend(AGES.iter().map(|(k, _)| (*k).to_owned()));
    let mut out = line(head);
    for r in data["backlog_aging"]["by_service_and_operator"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let mut fields = vec![
            r["service"].as_str().unwrap_or_default().to_owned(),
            r["operator"].as_str().unwrap_or_default().to_owned(),
        ];
        fields.extend(AGES.iter().map(|(k, _)| r[*k].to_string()));
        out.push_str(&line(fields));
    }
    out
}
