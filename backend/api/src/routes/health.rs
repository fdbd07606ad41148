//! Liveness, readiness and metrics for orchestrators and monitoring.

use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive")))]
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// How long readiness waits for the database.
const READINESS_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The process can serve: its database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready"),
        (status = 503, description = "Database unavailable", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    // Answer within orchestrators' probe timeouts (3 s in deploy/): while the database is
    // down, the pool would otherwise wait its whole acquire timeout before saying so.
    tokio::time::timeout(READINESS_LIMIT, state.store().ping())
        .await
        .map_err(|_| ApiError::Unavailable("the database did not answer in time".into()))?
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(json!({
        "status": "ready",
        "database": state.store().backend().as_str(),
        "catalog_revision": state.catalog().revision(),
    })))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus metrics", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let body = state.metrics().map(|m| m.render()).unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}
