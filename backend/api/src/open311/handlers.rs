//! The Open311 endpoints. Each answers in the format of its path's extension, errors
//! included; an unknown extension is a 404 in JSON.

use super::form::{AttributeInput, Params};
use super::format::{self, Format, Out};
use super::mapping::{self, Context};
use super::{BASE_PATH, Open311Error};
use crate::auth::secrets;
use crate::catalog::Catalog;
use crate::extract::AcceptLanguage;
use crate::routes::reports::{Submitter, nearby_open, submit_stored};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use balagh_domain::{
    AttributeType, Channel, FieldError, GeoPoint, IdempotencyKey, Jurisdiction, Language, Service,
    ServiceCode,
};
use balagh_store::{
    Open311Key, Open311Query, Open311Submission, Open311UpdatesQuery, StoredReport, Ts,
};
use balagh_wire::NewReportRequest;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

type Result<T> = std::result::Result<T, Open311Error>;

/// Most requests (and updates) in one answer, as the spec suggests.
const MAX_RESULTS: u32 = 1000;
/// Longest `start_date`–`end_date` range, and the default window.
const MAX_RANGE_DAYS: i64 = 90;
/// External `media_url`s kept per request.
const MAX_MEDIA_URLS: usize = 10;
const MAX_MEDIA_URL_CHARS: usize = 2048;
/// Contact fields, `device_id`, `address_string`.
const MAX_FIELD_CHARS: usize = 200;
/// The date this implementation of the spec last changed (discovery's `changeset`).
const CHANGESET: &str = "2026-11-22T00:00:00Z";

fn unknown_format() -> Response {
    Open311Error::not_found("unknown format: use .json or .xml").respond(Format::Json)
}

fn params(query: Option<String>) -> Params {
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

fn ok(format: Format, root: &str, body: &Out) -> Response {
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
    let base = crate::photos::base_url(state, headers);
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
        base_url: crate::photos::base_url(state, headers),
        addresses,
        history,
        photos,
        extensions,
        records: state.settings().stats.records,
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
        let gate = crate::publish::records::Records::new(&catalog, state.settings().stats.records);
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
    let gate = crate::publish::records::Records::new(&catalog, state.settings().stats.records);
    let mut reports = state.store().open311_requests(&query).await?;
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
    let events = state
        .store()
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
    let gate = crate::publish::records::Records::new(&catalog, state.settings().stats.records);
    let reports: HashMap<Uuid, StoredReport> = state
        .store()
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
    for event in state.store().open311_notes(&listed).await? {
        history.entry(event.report_id).or_default().push(event);
    }
    let ctx = Context {
        catalog: &catalog,
        jurisdiction,
        zone: mapping::time_zone(jurisdiction),
        language: jurisdiction.default_language,
        base_url: crate::photos::base_url(state, headers),
        addresses: HashMap::new(),
        history,
        photos: HashMap::new(),
        extensions: false,
        records: state.settings().stats.records,
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
        let views = crate::photos::photo_views(&state, &headers, &[photo], false).await?;
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

/// `POST requests.{fmt}`.
pub async fn post_file(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let Some((name, format)) = Format::split(&file) else {
        return unknown_format();
    };
    if name != "requests" {
        return Open311Error::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{name} does not take POST; requests does"),
        )
        .respond(format);
    }
    match create_request(&state, params(query), request).await {
        Ok(body) => ok(format, "service_requests", &body),
        Err(e) => e.respond(format),
    }
}

fn is_form(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The client's key, from the body (as FixMyStreet sends it) or the query string: 403
/// when missing, unknown or revoked.
async fn authenticate(state: &AppState, body: &Params, query: &Params) -> Result<Open311Key> {
    let key = match body.one("api_key")? {
        Some(key) => Some(key),
        None => query.one("api_key")?,
    }
    .ok_or_else(|| Open311Error::forbidden("api_key is required to submit a request"))?;
    if key.len() > 256 {
        return Err(Open311Error::forbidden("invalid api_key"));
    }
    state
        .store()
        .open311_key_by_hash(&secrets::hash(key))
        .await?
        .ok_or_else(|| Open311Error::forbidden("invalid api_key"))
}

/// A short free-text field (contact, device id, address): trimmed, at most 200 characters,
/// no control characters.
fn short_text<'a>(
    params: &'a Params,
    names: &[&str],
    errors: &mut Vec<FieldError>,
) -> Result<Option<&'a str>> {
    let value = params.one_of(names)?;
    if let Some(v) = value
        && (v.chars().count() > MAX_FIELD_CHARS || v.chars().any(char::is_control))
    {
        errors.push(FieldError::new(
            names[0],
            format!("must be at most {MAX_FIELD_CHARS} characters, no control characters"),
        ));
        return Ok(None);
    }
    Ok(value)
}

fn coordinate(params: &Params, name: &str, errors: &mut Vec<FieldError>) -> Result<Option<f64>> {
    let Some(raw) = params.one(name)? else {
        return Ok(None);
    };
    match raw.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(Some(value)),
        _ => {
            errors.push(FieldError::new(name, "must be a number (WGS84 degrees)"));
            Ok(None)
        }
    }
}

/// The attributes as the pipeline takes them: lists for `multivaluelist`, one value for
/// the others. Codes the service does not define are left out and named in the answer's
/// `service_notice` (clients such as FixMyStreet add their own).
fn attributes(
    service: Option<&Service>,
    given: std::collections::BTreeMap<String, AttributeInput>,
) -> (Map<String, Value>, Vec<String>) {
    let mut values = Map::new();
    let mut ignored = Vec::new();
    for (code, input) in given {
        let datatype = match service {
            Some(service) => match service.attributes.iter().find(|d| d.code == code) {
                Some(definition) => Some(definition.datatype),
                None => {
                    ignored.push(code);
                    continue;
                }
            },
            // The pipeline reports the unknown service; keep what was sent.
            None => None,
        };
        let list =
            |items: Vec<String>| Value::Array(items.into_iter().map(Value::String).collect());
        let value = match (datatype, input) {
            (Some(AttributeType::Multivaluelist), AttributeInput::One(v)) => list(vec![v]),
            (_, AttributeInput::One(v)) => Value::String(v),
            (Some(AttributeType::Multivaluelist), AttributeInput::Many(vs)) => list(vs),
            (_, AttributeInput::Many(mut vs)) if vs.len() == 1 => Value::String(vs.remove(0)),
            (_, AttributeInput::Many(vs)) => list(vs),
        };
        values.insert(code, value);
    }
    (values, ignored)
}

/// Checks the form, then hands the report to the app's intake pipeline.
async fn create_request(state: &AppState, query: Params, request: Request) -> Result<Out> {
    if !is_form(&request) {
        return Err(Open311Error::bad_request(
            "send the request as application/x-www-form-urlencoded",
        ));
    }
    let limit = state.settings().max_body_bytes;
    let bytes = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| {
            Open311Error::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is larger than {limit} bytes"),
            )
        })?;
    let body = Params::parse(&bytes);
    let key = authenticate(state, &body, &query).await?;
    let catalog = state.catalog();
    let jurisdiction = catalog
        .jurisdiction(&key.jurisdiction)
        .ok_or_else(|| Open311Error::forbidden("this api_key's jurisdiction is not served here"))?;
    let jurisdiction_param = match body.one("jurisdiction_id")? {
        Some(j) => Some(j),
        None => query.one("jurisdiction_id")?,
    };
    if let Some(j) = jurisdiction_param {
        if catalog.jurisdiction_or_default(Some(j)).is_none() {
            return Err(Open311Error::not_found(format!(
                "jurisdiction_id: '{j}' is not served here"
            )));
        }
        if j != jurisdiction.id.as_str() {
            return Err(Open311Error::forbidden(format!(
                "this api_key is not valid for jurisdiction_id '{j}'"
            )));
        }
    }

    let mut errors = Vec::new();
    let service_code = body.one("service_code")?;
    if service_code.is_none() {
        errors.push(FieldError::new("service_code", "is required"));
    }
    let lat = coordinate(&body, "lat", &mut errors)?;
    let long = coordinate(&body, "long", &mut errors)?;
    let address = short_text(&body, &["address_string"], &mut errors)?;
    match (body.one("lat")?, body.one("long")?) {
        (Some(_), Some(_)) => {}
        (None, None) if address.is_some() => errors.push(FieldError::new(
            "lat",
            "lat and long are required: this server does not geocode address_string",
        )),
        (None, None) => errors.push(FieldError::new("lat", "lat and long are required")),
        (Some(_), None) => errors.push(FieldError::new("long", "is required with lat")),
        (None, Some(_)) => errors.push(FieldError::new("lat", "is required with long")),
    }
    let mut contact = Map::new();
    for field in ["email", "first_name", "last_name", "phone"] {
        if let Some(value) = short_text(&body, &[field], &mut errors)? {
            contact.insert(field.to_owned(), Value::String(value.to_owned()));
        }
    }
    let device_id = short_text(&body, &["device_id", "deviceid"], &mut errors)?;
    let media_urls: Vec<String> = body
        .many("media_url")
        .into_iter()
        .map(str::to_owned)
        .collect();
    if media_urls.len() > MAX_MEDIA_URLS {
        errors.push(FieldError::new(
            "media_url",
            format!("at most {MAX_MEDIA_URLS} are accepted"),
        ));
    }
    if media_urls.iter().any(|u| {
        u.chars().count() > MAX_MEDIA_URL_CHARS
            || !(u.starts_with("http://") || u.starts_with("https://"))
            || u.chars().any(|c| c.is_control() || c.is_whitespace())
    }) {
        errors.push(FieldError::new(
            "media_url",
            format!("must be http(s) URLs of at most {MAX_MEDIA_URL_CHARS} characters"),
        ));
    }
    let code = service_code.and_then(|c| ServiceCode::parse(c).ok());
    let service = code
        .as_ref()
        .and_then(|c| catalog.service(&jurisdiction.id, c));
    let (attributes, ignored) = attributes(service, body.attributes()?);
    let point = lat
        .zip(long)
        .and_then(|(lat, lon)| GeoPoint::parse(lat, lon).ok());
    if let Some(point) = &point
        && let Some(at) = catalog.router().jurisdiction_at(point)
        && at != &jurisdiction.id
    {
        errors.push(FieldError::new(
            "lat",
            "the point is outside the jurisdiction of this api_key",
        ));
    }
    if !errors.is_empty() {
        return Err(Open311Error::from(crate::problem::ApiError::Validation(
            errors,
        )));
    }
    let (Some(lat), Some(lon)) = (lat, long) else {
        return Err(Open311Error::bad_request("lat and long are required"));
    };
    let report = NewReportRequest {
        service_code: service_code.unwrap_or_default().to_owned(),
        lat,
        lon,
        // Empty: the pipeline says it is required.
        description: body.one("description")?.unwrap_or_default().to_owned(),
        attributes: (!attributes.is_empty()).then_some(attributes),
        accuracy_m: None,
        photos: None,
    };

    // "Already reported?", as the app asks before submitting.
    let nearby = match (point, code.clone(), service) {
        (Some(point), Some(code), Some(_)) => nearby_open(state, &jurisdiction.id, point, code)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "open311: nearby look-up failed");
                Vec::new()
            }),
        _ => Vec::new(),
    };
    // Open311 has no idempotency key: every POST is a new submission.
    let idempotency = IdempotencyKey::parse(&format!("open311-{}", Uuid::now_v7()))
        .map_err(|e| Open311Error::from(crate::problem::ApiError::Internal(e.to_string())))?;
    let (stored, _) = submit_stored(
        state,
        &report,
        idempotency,
        Submitter {
            channel: Channel::Open311,
            device: None,
            staff: None,
            contact: (!contact.is_empty()).then_some(Value::Object(contact)),
        },
    )
    .await?;
    let submission = Open311Submission {
        report_id: stored.id,
        key_id: key.id,
        address: address.map(str::to_owned),
        device_id: device_id.map(str::to_owned),
        jurisdiction_param: jurisdiction_param.map(str::to_owned),
        media_urls,
        received_at: stored.created_at,
    };
    // The report is stored: a failure here loses the client's attribution and media links,
    // not the report, and must not make the client send it again.
    if let Err(error) = state.store().record_open311_submission(&submission).await {
        tracing::error!(report = %stored.id, %error, "open311: submission details not stored");
    }
    let notice = service_notice(&catalog, jurisdiction, &stored, &nearby, &ignored);
    Ok(Out::List(
        "request",
        vec![Out::Obj(vec![
            ("service_request_id", Out::str(stored.reference.as_str())),
            ("token", Out::Str(stored.id.to_string())),
            ("service_notice", Out::Str(notice)),
            ("account_id", Out::Null),
        ])],
    ))
}

fn service_notice(
    catalog: &Catalog,
    jurisdiction: &Jurisdiction,
    report: &StoredReport,
    nearby: &[balagh_wire::NearbyReport],
    ignored: &[String],
) -> String {
    let mut notice = format!("Received as {}.", report.reference.as_str());
    match report
        .operator
        .and_then(|o| catalog.operator(o))
        .map(|r| r.operator.name.as_str())
    {
        Some(operator) => {
            notice.push_str(&format!(" Sent to {operator}"));
            if let Some(due) = report.due_at {
                notice.push_str(&format!(
                    ", to be resolved by {}",
                    mapping::local_time(due, &mapping::time_zone(jurisdiction))
                ));
            }
            notice.push('.');
        }
        None => notice.push_str(" The commune will assign it to an operator."),
    }
    if !nearby.is_empty() {
        let references: Vec<&str> = nearby
            .iter()
            .take(5)
            .map(|r| r.reference.as_str())
            .collect();
        notice.push_str(&format!(
            " Open reports of this service nearby: {}.",
            references.join(", ")
        ));
    }
    if !ignored.is_empty() {
        notice.push_str(&ignored_notice(ignored));
    }
    notice
}

/// Names the ignored attribute codes that look like codes (letters, digits, `_`, `-`, `.`,
/// up to 64); the others (markup, control characters, anything a client's user typed) are
/// only counted, never echoed back.
fn ignored_notice(ignored: &[String]) -> String {
    let printable = |code: &&String| {
        !code.is_empty()
            && code.len() <= 64
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    let named: Vec<&str> = ignored
        .iter()
        .filter(printable)
        .map(String::as_str)
        .collect();
    let unnamed = ignored.len() - named.len();
    let mut text = String::from(" Attributes this service does not define were ignored:");
    if !named.is_empty() {
        text.push(' ');
        text.push_str(&named.join(", "));
    }
    if unnamed > 0 {
        text.push_str(&format!(
            "{}{unnamed} with a code that is not letters, digits, '_', '-' or '.'",
            if named.is_empty() { " " } else { " and " }
        ));
    }
    text.push('.');
    text
}
