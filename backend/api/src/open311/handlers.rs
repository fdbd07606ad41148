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
use balagh_app::Catalog;
use balagh_domain::{FieldError, Jurisdiction, Language, ServiceCode};
use balagh_store::{Open311Query, Open311UpdatesQuery, StoredReport, Ts};
use std::collections::{HashMap, HashSet};
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

/// Reads what the views of these reports need (addresses, public history, approved
/// photos) in three queries.
async fn context<'a>(
    state: &AppState,
    catalog: &'a Catalog,
    jurisdiction: &'a Jurisdiction,
    language: Language,
    headers: &HeaderMap,
    reports: &[StoredReport],
    extensions: bool,
) -> Result<Context<'a>> {
    let ids: Vec<Uuid> = reports.iter().map(|r| r.id).collect();
    let store = state.store();
    let addresses = store.open311_addresses(&ids).await?.into_iter().collect();
    let mut history: HashMap<Uuid, Vec<_>> = HashMap::new();
    for event in store.open311_notes(&ids).await? {
        history.entry(event.report_id).or_default().push(event);
    }
    let mut photos: HashMap<Uuid, Vec<_>> = HashMap::new();
    for photo in store.approved_photos(&ids).await? {
        if let Some(report) = photo.report_id {
            photos.entry(report).or_default().push(photo);
        }
    }
    Ok(Context {
        catalog,
        jurisdiction,
        zone: mapping::time_zone(jurisdiction),
        language,
        base_url: crate::params::base_url(state, headers),
        addresses,
        history,
        photos,
        extensions,
        // The commune's grid where it has its own (issue 22).
        records: jurisdiction
            .statistics
            .records(state.settings().stats.records),
    })
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
    let now = Ts::now();
    let mut query = Open311Query {
        jurisdiction: jurisdiction.id.clone(),
        references: Vec::new(),
        ids: Vec::new(),
        service_codes: Vec::new(),
        statuses: Vec::new(),
        created_from: now,
        created_until: now,
        offset: 0,
        limit: MAX_RESULTS,
    };
    if !wanted.is_empty() {
        // Named requests: every other filter is ignored, as the spec says.
        if wanted.len() > MAX_RESULTS as usize {
            return Err(FieldError::new(
                "service_request_id",
                format!("at most {MAX_RESULTS} ids"),
            )
            .into());
        }
        for id in wanted {
            match Uuid::parse_str(id) {
                Ok(uuid) => query.ids.push(uuid),
                Err(_) => query.references.push(id.to_ascii_uppercase()),
            }
        }
    } else {
        for code in comma_list(params.one("service_code")?) {
            let code = ServiceCode::parse(code)?;
            query.service_codes.push(code.as_str().to_owned());
        }
        // Only services whose records are public are ever listed (the gate's rule): the
        // filter goes to the query so that pages stay full.
        let gate =
            balagh_app::publish::records::Records::new(&catalog, state.settings().stats.records);
        let listed: Vec<String> = catalog
            .services(&jurisdiction.id)
            .iter()
            .filter(|s| gate.lists(&jurisdiction.id, &s.code))
            .map(|s| s.code.as_str().to_owned())
            .collect();
        if query.service_codes.is_empty() {
            query.service_codes = listed;
        } else {
            query.service_codes.retain(|c| listed.contains(c));
            if query.service_codes.is_empty() {
                query.service_codes.push(String::new());
            }
        }
        for status in comma_list(params.one("status")?) {
            let statuses = mapping::statuses_for(status).ok_or_else(|| {
                FieldError::new("status", format!("'{status}' is neither open nor closed"))
            })?;
            query.statuses.extend(statuses);
        }
        let (from, until) = window(params)?;
        query.created_from = from;
        query.created_until = until;
        let page_size = number(
            params,
            "page_size",
            1,
            MAX_RESULTS.into(),
            MAX_RESULTS.into(),
        )?;
        let page = number(params, "page", 1, 1_000_000, 1)?;
        query.limit = u32::try_from(page_size).unwrap_or(MAX_RESULTS);
        query.offset = (page - 1) * page_size;
    }
    let gate = balagh_app::publish::records::Records::new(&catalog, state.settings().stats.records);
    // A list tolerates the read replicas' staleness; one request asked for by id (perhaps
    // just created by this client) is read from the primary.
    let store = if one.is_some() {
        state.store()
    } else {
        state.stale_reads()
    };
    let mut reports = store.open311_requests(&query).await?;
    reports.retain(|r| gate.lists_report(r));
    if one.is_some() && reports.is_empty() {
        return Err(Open311Error::not_found(
            "service_request_id: no such request",
        ));
    }
    let language = language(jurisdiction, accept);
    let ctx = context(
        state,
        &catalog,
        jurisdiction,
        language,
        headers,
        &reports,
        extensions,
    )
    .await?;
    Ok((
        "service_requests",
        Out::List(
            "request",
            reports.iter().map(|r| ctx.request_out(r)).collect(),
        ),
    ))
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
        let report = state
            .store()
            .report(id)
            .await?
            .filter(|r| r.jurisdiction == jurisdiction.id)
            .ok_or_else(missing)?;
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
    // Updates, their reports and histories from one store that tolerates staleness.
    let store = state.stale_reads();
    let events = store
        .open311_updates(&Open311UpdatesQuery {
            jurisdiction: jurisdiction.id.clone(),
            from,
            until,
            limit: MAX_RESULTS,
        })
        .await?;
    let ids: Vec<Uuid> = events
        .iter()
        .map(|e| e.report_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let gate = balagh_app::publish::records::Records::new(&catalog, state.settings().stats.records);
    let reports: HashMap<Uuid, StoredReport> = store
        .reports_by_ids(&ids)
        .await?
        .into_iter()
        .filter(|r| gate.lists_report(r))
        .map(|r| (r.id, r))
        .collect();
    // Each update is stamped with the status of its own time, from the report's public
    // history (one query for all of them).
    let listed: Vec<Uuid> = reports.keys().copied().collect();
    let mut history: HashMap<Uuid, Vec<_>> = HashMap::new();
    for event in store.open311_notes(&listed).await? {
        history.entry(event.report_id).or_default().push(event);
    }
    let ctx = Context {
        catalog: &catalog,
        jurisdiction,
        zone: mapping::time_zone(jurisdiction),
        language: jurisdiction.default_language,
        base_url: crate::params::base_url(state, headers),
        addresses: HashMap::new(),
        history,
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
            events
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
        let photo = state
            .store()
            .photo(id)
            .await?
            .filter(|p| p.approved)
            .ok_or_else(missing)?;
        let report = match photo.report_id {
            Some(report) => state.store().report(report).await?,
            None => None,
        }
        .ok_or_else(missing)?;
        let catalog = state.catalog();
        if catalog
            .service(&report.jurisdiction, &report.service_code)
            .is_none_or(|s| s.sensitive)
        {
            return Err(missing());
        }
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
