//! Open311 GeoReport v2 under `/open311/v2`, in JSON and XML (the path's extension picks
//! the format):
//!
//! - `GET discovery.{fmt}`, `GET services.{fmt}`, `GET services/{code}.{fmt}` (the service's
//!   typed attributes);
//! - `POST requests.{fmt}` (`application/x-www-form-urlencoded`, needs an `api_key`): the
//!   same intake pipeline as the app ([`balagh_app::intake::submit`]: checks,
//!   routing, SLA clocks, the operator's webhook), channel `open311`, the key's client as
//!   the reporter; contact fields go to the report's private contact, never out;
//! - `GET requests.{fmt}` (filters, default window the last 90 days, at most 1000, `page` and
//!   `page_size`, `extensions=true`), `GET requests/{id}.{fmt}`, `GET tokens/{token}.{fmt}`,
//!   and FixMyStreet's `GET servicerequestupdates.{fmt}`;
//! - `GET media/{photo}.jpg`: a stable link to a photo staff approved, redirecting to a
//!   short-lived signed URL (what `media_url` points at).
//!
//! Statuses map as [`mapping::open311_status`] says. Open311 has no idempotency: a client
//! that retries a `POST` after a lost answer creates a second report (staff can mark it a
//! duplicate). Errors are the spec's `<errors><error><code/><description/></error></errors>`
//! (or the JSON array) with 400, 403 (missing or bad `api_key`), 404, 413 or 5xx.

mod create;
/// Public for the fuzz targets in `tests/fuzz/cargo-fuzz`.
pub mod form;
mod format;
mod handlers;
pub mod keys;
pub mod mapping;

use crate::problem::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use balagh_domain::FieldError;
use format::{Format, Out};

/// Where the Open311 endpoints live.
pub const BASE_PATH: &str = "/open311/v2";

/// The Open311 routes (outside the OpenAPI document: GeoReport v2 is their contract).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/open311/v2/{file}",
            get(handlers::get_file).post(create::post_file),
        )
        .route(
            "/open311/v2/services/{file}",
            get(handlers::service_definition),
        )
        .route("/open311/v2/requests/{file}", get(handlers::one_request))
        .route("/open311/v2/tokens/{file}", get(handlers::token))
        .route("/open311/v2/media/{file}", get(handlers::media))
}

/// An Open311 error answer: one or more `(code, description)` with an HTTP status.
#[derive(Debug)]
pub struct Open311Error {
    status: StatusCode,
    errors: Vec<String>,
}

impl Open311Error {
    pub fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Self {
            status,
            errors: vec![description.into()],
        }
    }

    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, description)
    }

    pub fn forbidden(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, description)
    }

    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, description)
    }

    fn fields(errors: &[FieldError]) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            errors: errors.iter().map(describe).collect(),
        }
    }

    pub fn respond(&self, format: Format) -> Response {
        let code = i64::from(self.status.as_u16());
        let body = Out::List(
            "error",
            self.errors
                .iter()
                .map(|description| {
                    Out::Obj(vec![
                        ("code", Out::Int(code)),
                        ("description", Out::str(description.clone())),
                    ])
                })
                .collect(),
        );
        format::respond(format, self.status, "errors", &body)
    }
}

/// A field error in Open311's names: `long` for our `lon`, `attribute[CODE]` for
/// `attributes.CODE`.
fn describe(error: &FieldError) -> String {
    let field = match error.field.as_str() {
        "lon" => "long".to_owned(),
        f => match f.strip_prefix("attributes.") {
            Some(code) => format!("attribute[{code}]"),
            None => f.to_owned(),
        },
    };
    format!("{field}: {}", error.message)
}

impl From<FieldError> for Open311Error {
    fn from(error: FieldError) -> Self {
        Self::fields(std::slice::from_ref(&error))
    }
}

impl From<ApiError> for Open311Error {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Validation(errors) => Self::fields(&errors),
            ApiError::InvalidParameter(e) => Self::fields(std::slice::from_ref(&e)),
            ApiError::OutsideJurisdiction => {
                Self::bad_request("lat/long: the point is outside the area served")
            }
            ApiError::NotFound => Self::not_found("not found"),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error (open311)");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
            ApiError::Unavailable(detail) => {
                tracing::warn!(%detail, "unavailable (open311)");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily unavailable, retry later",
                )
            }
            other => {
                let problem = other.problem();
                Self::new(
                    StatusCode::from_u16(problem.status)
                        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    problem.detail.unwrap_or(problem.title),
                )
            }
        }
    }
}

impl From<balagh_app::AppError> for Open311Error {
    fn from(error: balagh_app::AppError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<balagh_store::StoreError> for Open311Error {
    fn from(error: balagh_store::StoreError) -> Self {
        ApiError::from(error).into()
    }
}
