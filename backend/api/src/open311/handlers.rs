//! The Open311 endpoints. Each answers in the format of its path's extension, errors
//! included; an unknown extension is a 404 in JSON.

use super::form::Params;
use super::format::{self, Format, Out};
use super::mapping::{self, Context};
use super::{BASE_PATH, Open311Error};
use crate::extract::AcceptLanguage;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use balagh_app::public_requests::{self, RequestFilter};
use balagh_app::{AppError, Catalog};
use balagh_domain::{FieldError, Jurisdiction, Language, ServiceCode};
use balagh_store::Ts;
use std::collections::HashMap;
use uuid::Uuid;

type Result<T> = std::result::Result<T, Open311Error>;

/// Most requests (and updates) in one answer, as the spec suggests.
const MAX_RESULTS: u32 = 1000;
/// Longest `start_date`–`end_date` range, and the default window.
const MAX_RANGE_DAYS: i64 = 90;
/// The date this implementation of the spec last changed (discovery's `changeset`).
const CHANGESET: &str = "2026-11-22T00:00:00Z";

pub(super) fn unknown_format() -> Response {
    Open311Error::not_found("unknown format: use .json or .xml").respond(Format::Json)
}

pub(super) fn params(query: Option<String>) -> Params {
    Params::parse(query.unwrap_or_default().as_bytes())
}

/// The jurisdiction named by `jurisdiction_id` (empty or absent: the one served).
fn jurisdiction<'a>(catalog: &'a Catalog, params: &Params) -> Result<&'a Jurisdiction> {
    let id = params.one("jurisdiction_id")?;
    catalog.jurisdiction_or_default(id).ok_or_else(|| {
        Open311Error::not_found(match id {
            Some(id) => format!("jurisdiction_id: '{id}' is not served here"),
            None => "no jurisdiction is served here".to_owned(),
        })
    })
}

fn language(jurisdiction: &Jurisdiction, accept: Option<&str>) -> Language {
    Language::negotiate(
        accept,
        &jurisdiction.languages,
        jurisdiction.default_language,
    )
}

pub(super) fn ok(format: Format, root: &str, body: &Out) -> Response {
    format::respond(format, StatusCode::OK, root, body)
}

/// `GET discovery`, `services`, `requests`, `servicerequestupdates`.
pub async fn get_file(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    AcceptLanguage(accept): AcceptLanguage,
    headers: HeaderMap,
) -> Response {
    let Some((name, format)) = Format::split(&file) else {
        return unknown_format();
    };
    let params = params(query);
    let result = match name {
        "discovery" => Ok(discovery(&state, &headers)),
        "services" => services(&state, &params, accept.as_deref()),
        "requests" => list_requests(&state, &params, accept.as_deref(), &headers, None).await,
        "servicerequestupdates" => updates(&state, &params, &headers).await,
        _ => Err(Open311Error::not_found(format!("no endpoint '{name}'"))),
    };
    match result {
        Ok((root, body)) => ok(format, root, &body),
        Err(e) => e.respond(format),
    }
}

fn discovery(state: &AppState, headers: &HeaderMap) -> (&'static str, Out) {
    let base = crate::params::base_url(state, headers);
    let endpoint = Out::Obj(vec![
        (
            "specification",
            Out::str("http://wiki.open311.org/GeoReport_v2"),
        ),
        ("url", Out::Str(format!("{base}{BASE_PATH}"))),
        ("changeset", Out::str(CHANGESET)),
        ("type", Out::str("production")),
        (
            "formats",
            Out::List(
                "format",
                vec![Out::str(Format::Xml.mime()), Out::str(Format::Json.mime())],
            ),
        ),
    ]);
    (
        "discovery",
        Out::Obj(vec![
            ("changeset", Out::str(CHANGESET)),
            (
                "contact",
                Out::str("The commune's service desk (Balagh Open311 endpoint)"),
            ),
            (
                "key_service",
                Out::str("API keys for POST requests are issued by the commune's staff"),
            ),
            ("endpoints", Out::List("endpoint", vec![endpoint])),
        ]),
    )
}

fn services(
    state: &AppState,
    params: &Params,
    accept: Option<&str>,
) -> Result<(&'static str, Out)> {
    let catalog = state.catalog();
    let jurisdiction = jurisdiction(&catalog, params)?;
    let language = language(jurisdiction, accept);
    Ok((
        "services",
        Out::List(
            "service",
            catalog
                .services(&jurisdiction.id)
                .iter()
                .map(|s| mapping::service_out(s, language))
                .collect(),
        ),
    ))
}

/// `GET services/{code}.{fmt}`: the service definition.
pub async fn service_definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    AcceptLanguage(accept): AcceptLanguage,
) -> Response {
    let Some((code, format)) = Format::split(&file) else {
        return unknown_format();
    };
    let result = (|| -> Result<Out> {
        let catalog = state.catalog();
        let jurisdiction = jurisdiction(&catalog, &params(query))?;
        let service = ServiceCode::parse(code)
            .ok()
            .and_then(|c| catalog.service(&jurisdiction.id, &c))
            .ok_or_else(|| {
                Open311Error::not_found(format!("service_code: '{code}' is not a service here"))
            })?;
        Ok(mapping::definition_out(
            service,
            language(jurisdiction, accept.as_deref()),
        ))
    })();
    match result {
        Ok(body) => ok(format, "service_definition", &body),
        Err(e) => e.respond(format),
    }
}

/// `error`, with the endpoint's own words when it is "not found".
fn not_found_as(error: AppError, missing: impl Fn() -> Open311Error) -> Open311Error {
    match error {
        AppError::NotFound => missing(),
        other => other.into(),
    }
}

/// `true`/`false` (also `1`/`0`); absent: false.
fn flag(params: &Params, name: &str) -> Result<bool> {
    match params.one(name)?.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(_) => Err(FieldError::new(name, "must be true or false").into()),
    }
}

fn number(params: &Params, name: &str, min: u64, max: u64, default: u64) -> Result<u64> {
    match params.one(name)? {
        None => Ok(default),
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| FieldError::new(name, format!("must be a number {min}-{max}")).into()),
    }
}

/// An ISO 8601 date-time with its offset. A `+` that was not percent-encoded arrives as a
/// space: it is taken back.
fn date(params: &Params, name: &str) -> Result<Option<Ts>> {
    let Some(raw) = params.one(name)? else {
        return Ok(None);
    };
    let parse = |s: &str| s.parse::<jiff::Timestamp>().ok();
    let parsed = parse(raw).or_else(|| {
        raw.rfind(' ').and_then(|at| {
            let mut fixed = raw.to_owned();
            fixed.replace_range(at..=at, "+");
            parse(&fixed)
        })
    });
    let wrong = || {
        Open311Error::from(FieldError::new(
            name,
            "must be an ISO 8601 date-time with an offset, e.g. 2026-11-01T00:00:00+01:00",
        ))
    };
    let at = parsed.ok_or_else(wrong)?;
    time::OffsetDateTime::from_unix_timestamp_nanos(at.as_nanosecond())
        .map(|t| Some(Ts::new(t)))
        .map_err(|_| wrong())
}

/// `[from, until)` from `start_date` and `end_date` (inclusive): at most 90 days; by default
/// the last 90 days; one bound alone spans 90 days from it.
fn window(params: &Params) -> Result<(Ts, Ts)> {
    let range = time::Duration::days(MAX_RANGE_DAYS);
    let tick = time::Duration::microseconds(1);
    let shift = |at: Ts, by: time::Duration| {
        at.get()
            .checked_add(by)
            .map(Ts::new)
            .ok_or_else(|| Open311Error::bad_request("start_date/end_date: out of range"))
    };
    let start = date(params, "start_date")?;
    let end = date(params, "end_date")?;
    match (start, end) {
        (None, None) => {
            let now = Ts::now();
            Ok((shift(now, -range)?, shift(now, tick)?))
        }
        (Some(start), None) => Ok((start, shift(start, range + tick)?)),
        (None, Some(end)) => Ok((shift(end, -range)?, shift(end, tick)?)),
        (Some(start), Some(end)) => {
            if end < start {
                return Err(FieldError::new("end_date", "must not be before start_date").into());
            }
            if end.get() - start.get() > range {
                return Err(FieldError::new(
                    "end_date",
                    format!("the range from start_date must be at most {MAX_RANGE_DAYS} days"),
                )
                .into());
            }
            Ok((start, shift(end, tick)?))
        }
    }
}

fn comma_list(raw: Option<&str>) -> Vec<&str> {
    raw.map(|list| {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

/// `GET requests` (`one`: `GET requests/{id}`, a one-element list or a 404).
async fn list_requests(
    state: &AppState,
    params: &Params,
    accept: Option<&str>,
    headers: &HeaderMap,
    one: Option<&str>,
) -> Result<(&'static str, Out)> {
    let catalog = state.catalog();
    let jurisdiction = jurisdiction(&catalog, params)?;
    let extensions = flag(params, "extensions")?;
    let wanted: Vec<&str> = match one {
        Some(id) => vec![id],
        None => comma_list(params.one("service_request_id")?),
    };
    let filter = if wanted.is_empty() {
        search_filter(params)?
    } else {
        RequestFilter::Named {
            wanted: wanted.into_iter().map(str::to_owned).collect(),
            fresh: one.is_some(),
        }
    };
    let found = public_requests::requests(state, &jurisdiction.id, filter, MAX_RESULTS).await?;
    if one.is_some() && found.reports.is_empty() {
        return Err(Open311Error::not_found(
            "service_request_id: no such request",
        ));
    }
    let ctx = Context {
        catalog: &catalog,
        jurisdiction,
        zone: mapping::time_zone(jurisdiction),
        language: language(jurisdiction, accept),
        base_url: crate::params::base_url(state, headers),
        addresses: found.addresses,
        history: found.history,
        photos: found.photos,
        extensions,
        // The commune's grid where it has its own (issue 22).
        records: jurisdiction
            .statistics
            .records(state.settings().stats.records),
    };
    Ok((
        "service_requests",
        Out::List(
            "request",
            found.reports.iter().map(|r| ctx.request_out(r)).collect(),
        ),
    ))
}

/// The filters of a `GET requests` that names no request: services, `open`/`closed`, the
/// date window and the page.
fn search_filter(params: &Params) -> Result<RequestFilter> {
    let mut service_codes = Vec::new();
    for code in comma_list(params.one("service_code")?) {
        service_codes.push(ServiceCode::parse(code)?);
    }
    let mut statuses = Vec::new();
    for status in comma_list(params.one("status")?) {
        let matching = mapping::statuses_for(status).ok_or_else(|| {
            FieldError::new("status", format!("'{status}' is neither open nor closed"))
        })?;
        statuses.extend(matching);
    }
    let (from, until) = window(params)?;
    let page_size = number(
        params,
        "page_size",
        1,
        MAX_RESULTS.into(),
        MAX_RESULTS.into(),
    )?;
    let page = number(params, "page", 1, 1_000_000, 1)?;
    Ok(RequestFilter::Search {
        service_codes,
        statuses,
        from,
        until,
        page,
        page_size: u32::try_from(page_size).unwrap_or(MAX_RESULTS),
    })
}

/// `GET requests/{id}.{fmt}`: the request as a one-element list.
pub async fn one_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    AcceptLanguage(accept): AcceptLanguage,
    headers: HeaderMap,
) -> Response {
    let Some((id, format)) = Format::split(&file) else {
        return unknown_format();
    };
    match list_requests(
        &state,
        &params(query),
        accept.as_deref(),
        &headers,
        Some(id),
    )
    .await
    {
        Ok((root, body)) => ok(format, root, &body),
        Err(e) => e.respond(format),
    }
}

/// `GET tokens/{token}.{fmt}`: the `service_request_id` behind the `token` a `POST` answered.
pub async fn token(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some((token, format)) = Format::split(&file) else {
        return unknown_format();
    };
    let result = async {
        let catalog = state.catalog();
        let jurisdiction = jurisdiction(&catalog, &params(query))?;
        let missing = || Open311Error::not_found("token: no such token");
        let id = Uuid::parse_str(token).map_err(|_| missing())?;
        let report = public_requests::by_token(&state, &jurisdiction.id, id)
            .await
            .map_err(|e| not_found_as(e, missing))?;
        Ok::<_, Open311Error>(Out::List(
            "request",
            vec![Out::Obj(vec![
                ("service_request_id", Out::str(report.reference.as_str())),
                ("token", Out::Str(report.id.to_string())),
            ])],
        ))
    }
    .await;
    match result {
        Ok(body) => ok(format, "service_requests", &body),
        Err(e) => e.respond(format),
    }
}

/// `GET servicerequestupdates`: public status changes and the operator's and commune's
/// public comments, oldest first, in the `start_date`–`end_date` window.
async fn updates(
    state: &AppState,
    params: &Params,
    headers: &HeaderMap,
) -> Result<(&'static str, Out)> {
    let catalog = state.catalog();
    let jurisdiction = jurisdiction(&catalog, params)?;
    let (from, until) = window(params)?;
    let found = public_requests::updates(state, &jurisdiction.id, from, until, MAX_RESULTS).await?;
    let reports = found.reports;
    let ctx = Context {
        catalog: &catalog,
        jurisdiction,
        zone: mapping::time_zone(jurisdiction),
        language: jurisdiction.default_language,
        base_url: crate::params::base_url(state, headers),
        addresses: HashMap::new(),
        history: found.history,
        photos: HashMap::new(),
        extensions: false,
        // The commune's grid where it has its own (issue 22).
        records: jurisdiction
            .statistics
            .records(state.settings().stats.records),
    };
    Ok((
        "service_requests_updates",
        Out::List(
            "request_update",
            found
                .events
                .iter()
                .filter_map(|e| {
                    let report = reports.get(&e.report_id)?;
                    let history = ctx.history.get(&e.report_id).map_or(&[][..], Vec::as_slice);
                    Some(ctx.update_out(e, report, history))
                })
                .collect(),
        ),
    ))
}

/// `GET media/{photo}.jpg`: a photo staff approved (of a service that is not sensitive),
/// by a redirect to a short-lived signed URL of its large rendition.
pub async fn media(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let missing = || Open311Error::not_found("no such photo");
        let id = file
            .strip_suffix(".jpg")
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or_else(missing)?;
        let photo = public_requests::public_photo(&state, id)
            .await
            .map_err(|e| not_found_as(e, missing))?;
        let views = balagh_app::photos::photo_views(
            &state,
            &crate::params::base_url(&state, &headers),
            &[photo],
            false,
        )
        .await?;
        let url = views.into_iter().next().ok_or_else(missing)?.large.url;
        Ok::<_, Open311Error>(url)
    }
    .await;
    match result {
        Ok(url) => {
            let mut response = Redirect::temporary(&url).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, "no-store".parse().expect("valid"));
            response
        }
        Err(e) => e.respond(Format::Json),
    }
}
