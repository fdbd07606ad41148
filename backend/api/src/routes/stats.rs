//! Public statistics (`/api/v1/stats/…`, no login) and the staff dashboard's data; the
//! open-data files and catalogue are in [`super::open_data`]. Everything public is lagged, suppressed and coarsened by the domain
//! (see [`balagh_app::stats`]).

use crate::auth::principal::{AnyStaff, Staff};
use crate::extract::ApiQuery;
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use balagh_app::publish::{Release, view};
use balagh_app::stats::{self as st, Context, Period, PeriodKind};
use balagh_domain::{FieldError, OperatorId};
use serde::Deserialize;
use serde_json::{Value, json};
use time::Date;

/// Which periods and which jurisdiction.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// Jurisdiction id (default: the first one served here).
    pub jurisdiction: Option<String>,
    /// `week` (ISO, Monday–Sunday) or `month` [default: month].
    #[param(value_type = Option<String>)]
    pub period: Option<PeriodKind>,
    /// First local date (`YYYY-MM-DD`): periods overlapping `[from, to]`
    /// [default: the last complete publishable period].
    pub from: Option<String>,
    /// Last local date [default: the last publishable day].
    pub to: Option<String>,
    /// One service code (maps).
    pub service: Option<String>,
}

/// A result whose error is the ready response (built once per failed request, so its size
/// does not matter).
#[allow(clippy::result_large_err)]
pub(super) type Published<T> = Result<T, Response>;

#[allow(clippy::result_large_err)]
pub(super) fn context(state: &AppState, p: &StatsParams) -> Published<Context> {
    Context::new(state, p.jurisdiction.as_deref()).ok_or_else(|| ApiError::NotFound.into_response())
}

pub(super) fn kind_of(p: &StatsParams) -> PeriodKind {
    p.period.unwrap_or(PeriodKind::Month)
}

/// Complete periods overlapping `[from, to]`, from the jurisdiction's first day of data at
/// the earliest (nothing is released before it).
#[allow(clippy::result_large_err)]
fn selected_periods(
    ctx: &Context,
    p: &StatsParams,
    first_day: Option<Date>,
) -> Published<Vec<Period>> {
    let date = |field: &str, raw: &Option<String>| -> Result<Option<Date>, FieldError> {
        raw.as_deref().map(|r| st::parse_date(field, r)).transpose()
    };
    let run = || -> Result<Vec<Period>, FieldError> {
        let from = date("from", &p.from)?;
        let to = date("to", &p.to)?;
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(FieldError::new("from", "must not be after to"));
        }
        let from = match (from, first_day) {
            (Some(f), Some(first)) => Some(f.max(first)),
            (f, _) => f,
        };
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Ok(Vec::new());
        }
        st::periods(kind_of(p), from, to, ctx.last_publishable_day())
    };
    run().map_err(|e| ApiError::InvalidParameter(e).into_response())
}

/// The stored releases of the selected periods (periods not released — before the first
/// report, or not yet computed — are left out).
pub(super) async fn selected_releases(
    state: &AppState,
    p: &StatsParams,
) -> Published<(Context, Vec<Release>)> {
    let ctx = context(state, p)?;
    let first_day = state
        .stale_reads()
        .stats_first_day(ctx.jurisdiction.id.as_str())
        .await
        .map_err(|e| ApiError::from(e).into_response())?
        .and_then(|d| Date::from_julian_day(d).ok());
    let periods = selected_periods(&ctx, p, first_day)?;
    let ids: Vec<String> = periods
        .iter()
        .map(|period| Release::id_of(&ctx, period))
        .collect();
    let releases = balagh_app::publish::job::read(state, &ids)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    Ok((ctx, releases))
}

pub(super) fn header_of(ctx: &Context, releases: &[Release]) -> Value {
    json!({
        "jurisdiction": ctx.jurisdiction.id.as_str(),
        "last_publishable_day": ctx.last_publishable_day().to_string(),
        "k": ctx.policy.k_default(),
        "k_sensitive": ctx.policy.k_sensitive(),
        "lag_hours": ctx.policy.lag().whole_hours(),
        "record_grid_metres": ctx.records.grid_m(),
        "differential_privacy": ctx.policy.differential_privacy().map(|dp| json!({
            "epsilon_per_release": dp.epsilon_per_release.to_string(),
            "contribution_cap": dp.contribution_cap,
        })),
        "releases": releases.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        "from": releases.first().map(|r| r.from.as_str()),
        "to": releases.last().map(|r| r.to.as_str()),
    })
}

/// Per released period: new and resolved reports by district × service (`null` =
/// withheld), and per service the median and p90 time to resolve (bucket upper bounds in
/// minutes), the share resolved within SLA and satisfaction. Listed services' figures are
/// exact (their records are public); protected services' are published monthly at the
/// finest safe level (see the README).
#[utoipa::path(get, path = "/api/v1/stats/summary", tag = "statistics",
    params(StatsParams),
    responses((status = 200, description = "Summary", body = Object)))]
pub async fn summary(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Response {
    let run = async {
        let (ctx, releases) = selected_releases(&state, &p).await?;
        let mut out = header_of(&ctx, &releases);
        out["periods"] = Value::Array(
            releases
                .iter()
                .map(|r| view::summary_json(&ctx, r))
                .collect(),
        );
        Ok::<_, Response>(Json(out).into_response())
    };
    cached(&state, &uri, run).await
}

/// The selected releases as one range.
async fn range(
    state: &AppState,
    p: &StatsParams,
) -> Published<(Context, Vec<Release>, Option<Release>)> {
    let (ctx, releases) = selected_releases(state, p).await?;
    let merged = view::merge(&ctx, kind_of(p), &releases);
    Ok((ctx, releases, merged))
}

/// Public answers computed in the last `stats.answer_cache_seconds` (default: the roll-up
/// interval; per server, URI and last publishable day).
#[derive(Default)]
struct AnswerCache {
    entries: std::collections::HashMap<String, Answer>,
}

/// When it was computed, its content headers, its body.
type Answer = (
    std::time::Instant,
    Vec<(header::HeaderName, header::HeaderValue)>,
    bytes::Bytes,
);

const ANSWER_CACHE_MAX: usize = 2_000;
/// Largest answer kept (record-level files can be large).
const ANSWER_CACHE_MAX_BYTES: usize = 4 * 1024 * 1024;

fn answer_cache() -> &'static std::sync::Mutex<AnswerCache> {
    static CACHE: std::sync::OnceLock<std::sync::Mutex<AnswerCache>> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

pub(super) async fn cached(
    state: &AppState,
    uri: &axum::http::Uri,
    compute: impl std::future::Future<Output = Published<Response>>,
) -> Response {
    let ttl = state.settings().stats.answer_cache;
    if ttl.is_zero() {
        return compute.await.unwrap_or_else(|e| e);
    }
    // One server's answers (tests run several in one process), for today's publishable days.
    let day = Context::new(state, None)
        .map(|c| c.last_publishable_day().to_string())
        .unwrap_or_default();
    let key = format!(
        "{:p}|{day}|{uri}",
        state.store() as *const dyn balagh_store::Store as *const ()
    );
    let now = std::time::Instant::now();
    if let Some((at, headers, body)) = answer_cache().lock().expect("cache").entries.get(&key)
        && now.duration_since(*at) < ttl
    {
        let mut response = body.clone().into_response();
        for (name, value) in headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
        return response;
    }
    let response = compute.await.unwrap_or_else(|e| e);
    if !response.status().is_success() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return ApiError::Internal("answer body".into()).into_response();
    };
    if bytes.len() <= ANSWER_CACHE_MAX_BYTES {
        let headers = [header::CONTENT_TYPE, header::CONTENT_DISPOSITION]
            .into_iter()
            .filter_map(|h| parts.headers.get(&h).map(|v| (h, v.clone())))
            .collect();
        let mut cache = answer_cache().lock().expect("cache");
        if cache.entries.len() >= ANSWER_CACHE_MAX {
            cache
                .entries
                .retain(|_, (at, ..)| now.duration_since(*at) < ttl);
            if cache.entries.len() >= ANSWER_CACHE_MAX {
                cache.entries.clear();
            }
        }
        cache.entries.insert(key, (now, headers, bytes.clone()));
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Per service over the selected releases taken together (a sum of whole releases: a
/// protected entry only where every release published it).
#[utoipa::path(get, path = "/api/v1/stats/services", tag = "statistics",
    params(StatsParams),
    responses((status = 200, description = "Per service", body = Object)))]
pub async fn services(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Response {
    let run = async {
        let (ctx, releases, merged) = range(&state, &p).await?;
        let mut out = header_of(&ctx, &releases);
        if let Some(m) = merged {
            out["new"] = view::table_json(&m, "new");
            out["resolved"] = view::table_json(&m, "resolved");
            out["services"] = Value::Array(view::service_figures(&ctx, &m));
        }
        Ok::<_, Response>(Json(out).into_response())
    };
    cached(&state, &uri, run).await
}

/// Per operator over the selected releases: resolved reports by service, share resolved
/// within SLA, median and p90 time to resolve (listed services).
#[utoipa::path(get, path = "/api/v1/stats/operators", tag = "statistics",
    params(StatsParams),
    responses((status = 200, description = "Per operator", body = Object)))]
pub async fn operators(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Response {
    let run = async {
        let (ctx, releases, merged) = range(&state, &p).await?;
        let mut out = header_of(&ctx, &releases);
        if let Some(m) = merged {
            let figures = view::operators_json(&m);
            out["operators"] = figures["operators"].clone();
            out["grand_total"] = figures["grand_total"].clone();
        }
        Ok::<_, Response>(Json(out).into_response())
    };
    cached(&state, &uri, run).await
}

pub(super) fn cells_geojson(releases: &[Release], service: Option<&str>) -> Value {
    let features: Vec<Value> = releases
        .iter()
        .flat_map(|r| view::cell_features(r, service))
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// New reports per H3 cell (resolution 8) of listed services, per released period, as
/// GeoJSON.
#[utoipa::path(get, path = "/api/v1/stats/cells", tag = "statistics",
    params(StatsParams),
    responses((status = 200, description = "GeoJSON FeatureCollection", body = Object, content_type = "application/geo+json")))]
pub async fn cells(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Response {
    let run = async {
        let (ctx, releases) = selected_releases(&state, &p).await?;
        let mut body = cells_geojson(&releases, p.service.as_deref());
        body["metadata"] = header_of(&ctx, &releases);
        Ok::<_, Response>(geojson_response(&body))
    };
    cached(&state, &uri, run).await
}

pub(super) fn geojson_response(body: &Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/geo+json")],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response()
}

/// Engagement-3 indicators over the selected releases: services digitalised, channels in
/// use, reports by channel, median resolution time by service, share within SLA by
/// operator, satisfaction, comments and suggestions received (channels, satisfaction and
/// feedback are monthly figures).
#[utoipa::path(get, path = "/api/v1/stats/indicators", tag = "statistics",
    params(StatsParams),
    responses((status = 200, description = "Indicators", body = Object)))]
pub async fn indicators(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Response {
    let run = async {
        let (ctx, releases, merged) = range(&state, &p).await?;
        let mut out = header_of(&ctx, &releases);
        if let Some(m) = merged {
            out["indicators"] = view::indicators_json(&ctx, &m);
        }
        Ok::<_, Response>(Json(out).into_response())
    };
    cached(&state, &uri, run).await
}

// --- staff ---------------------------------------------------------------------------

/// Dashboard filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DashboardParams {
    /// First local date [default: 90 days ago].
    pub from: Option<String>,
    /// Last local date [default: today].
    pub to: Option<String>,
    pub service: Option<String>,
    pub operator: Option<uuid::Uuid>,
}

/// The staff dashboard's data, unlagged and exact: SLA compliance by week, operator and
/// service; p50 / p90 time to acknowledge and resolve by service; backlog ageing of open
/// reports (0–1, 1–3, 3–7, 7–30, over 30 days); reopen rate.
#[utoipa::path(get, path = "/api/v1/staff/stats/dashboard", tag = "statistics",
    params(DashboardParams),
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Dashboard data", body = Object)))]
pub async fn dashboard(
    State(state): State<AppState>,
    Staff(staff, _): Staff<AnyStaff>,
    ApiQuery(p): ApiQuery<DashboardParams>,
) -> Result<Json<Value>, ApiError> {
    let ctx = Context::new(&state, Some(staff.jurisdiction.as_str())).ok_or(ApiError::NotFound)?;
    let today = balagh_domain::stats::local_day(time::OffsetDateTime::now_utc(), &ctx.tz);
    let to = match &p.to {
        Some(raw) => st::parse_date("to", raw).map_err(ApiError::InvalidParameter)?,
        None => today,
    };
    let from = match &p.from {
        Some(raw) => st::parse_date("from", raw).map_err(ApiError::InvalidParameter)?,
        None => to - time::Duration::days(90),
    };
    if from > to || to - from > time::Duration::days(800) {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "from",
            "must be before to, at most 800 days earlier",
        )));
    }
    Ok(Json(
        st::dashboard(
            &state,
            &ctx,
            from,
            to,
            p.service.as_deref(),
            p.operator.map(OperatorId),
        )
        .await?,
    ))
}

/// The differential-privacy ledger: ε spent per scope (jurisdiction × month of the data).
#[utoipa::path(get, path = "/api/v1/staff/stats/privacy-ledger", tag = "statistics",
    security(("api_token" = []), ("session" = [])),
    responses((status = 200, description = "Ledger lines", body = Object)))]
pub async fn privacy_ledger(
    State(state): State<AppState>,
    Staff(staff, _): Staff<AnyStaff>,
) -> Result<Json<Value>, ApiError> {
    let lines = state.stale_reads().epsilon_ledger(&[]).await?;
    let prefix = format!("{}/", staff.jurisdiction.as_str());
    let lines: Vec<_> = lines
        .into_iter()
        .filter(|l| l.scope.starts_with(&prefix))
        .collect();
    Ok(Json(json!({"lines": lines})))
}
