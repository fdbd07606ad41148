//! Request parameters shared by the endpoints: versions (`If-Match`, ETags), free text,
//! status filters, the address clients reached this server at (for the URLs it signs).

use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use axum::http::{HeaderMap, header};
use balagh_domain::ReportStatus;

/// The ETag of a report version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version named by `If-Match`: required on every change (428 without it).
pub fn if_match(headers: &HeaderMap) -> ApiResult<i64> {
    let raw = headers
        .get(header::IF_MATCH)
        .ok_or(ApiError::PreconditionRequired)?
        .to_str()
        .unwrap_or("");
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map_err(|_| ApiError::PreconditionFailed {
            current_etag: String::new(),
        })
}

/// Checks a free-text field (note, reason, comment): the domain's [`free_text`] rule.
///
/// [`free_text`]: balagh_domain::report::free_text
pub fn text(field: &str, value: Option<&str>, required: bool) -> ApiResult<Option<String>> {
    Ok(balagh_domain::report::free_text(field, value, required)?)
}

/// A comma-separated `status` parameter (empty: no filter).
pub fn parse_statuses(raw: Option<&str>) -> ApiResult<Vec<ReportStatus>> {
    raw.filter(|s| !s.is_empty())
        .map(|list| {
            list.split(',')
                .map(|s| {
                    ReportStatus::parse(s.trim()).ok_or_else(|| {
                        ApiError::InvalidParameter(balagh_domain::FieldError::new(
                            "status",
                            format!("unknown status '{s}'"),
                        ))
                    })
                })
                .collect()
        })
        .unwrap_or_else(|| Ok(Vec::new()))
}

/// `scheme://host` of this server as the client reached it, for the URLs it signs.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(base) = &state.settings().photos.public_base_url {
        return base.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}
