//! `POST requests.{fmt}`: an Open311 client's report, checked field by field, then handed
//! to the same intake pipeline as the app's.

use super::form::{AttributeInput, Params};
use super::format::{Format, Out};
use super::handlers::{ok, params, unknown_format};
use super::{Open311Error, mapping};
use crate::auth::secrets;
use crate::problem::ApiError;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use balagh_app::Catalog;
use balagh_app::intake::{Submitter, submit};
use balagh_app::resident::nearby_open;
use balagh_domain::{
    AttributeType, Channel, FieldError, GeoPoint, IdempotencyKey, Jurisdiction, Service,
    ServiceCode,
};
use balagh_store::{Open311Key, Open311Submission, StoredReport};
use balagh_wire::NewReportRequest;
use serde_json::{Map, Value};
use uuid::Uuid;

type Result<T> = std::result::Result<T, Open311Error>;

/// External `media_url`s kept per request.
const MAX_MEDIA_URLS: usize = 10;
const MAX_MEDIA_URL_CHARS: usize = 2048;
/// Contact fields, `device_id`, `address_string`.
const MAX_FIELD_CHARS: usize = 200;

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
        && !balagh_domain::report::is_short_line(v, MAX_FIELD_CHARS)
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
    let body = read_form(state, request).await?;
    let key = authenticate(state, &body, &query).await?;
    let catalog = state.catalog();
    let (jurisdiction, jurisdiction_param) = key_jurisdiction(&catalog, &key, &body, &query)?;
    let form = check_form(&catalog, jurisdiction, &body)?;
    let (Some(lat), Some(lon)) = (form.lat, form.long) else {
        return Err(Open311Error::bad_request("lat and long are required"));
    };
    let report = NewReportRequest {
        service_code: form.service_code.unwrap_or_default().to_owned(),
        lat,
        lon,
        // Empty: the pipeline says it is required.
        description: body.one("description")?.unwrap_or_default().to_owned(),
        attributes: (!form.attributes.is_empty()).then_some(form.attributes),
        accuracy_m: None,
        photos: None,
    };
    // "Already reported?", as the app asks before submitting.
    let nearby = match (form.point, form.code, form.service) {
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
        .map_err(|e| Open311Error::from(ApiError::Internal(e.to_string())))?;
    let submitter = Submitter {
        channel: Channel::Open311,
        device: None,
        staff: None,
        contact: (!form.contact.is_empty()).then_some(Value::Object(form.contact)),
    };
    let (stored, _) = submit(state, &report, idempotency, submitter).await?;
    let submission = Open311Submission {
        report_id: stored.id,
        key_id: key.id,
        address: form.address.map(str::to_owned),
        device_id: form.device_id.map(str::to_owned),
        jurisdiction_param: jurisdiction_param.map(str::to_owned),
        media_urls: form.media_urls,
        received_at: stored.created_at,
    };
    // The report is stored: a failure here loses the client's attribution and media links,
    // not the report, and must not make the client send it again.
    if let Err(error) = state.store().record_open311_submission(&submission).await {
        tracing::error!(report = %stored.id, %error, "open311: submission details not stored");
    }
    let notice = service_notice(&catalog, jurisdiction, &stored, &nearby, &form.ignored);
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

/// The form body: `application/x-www-form-urlencoded` and at most the configured size.
async fn read_form(state: &AppState, request: Request) -> Result<Params> {
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
    Ok(Params::parse(&bytes))
}

/// The key's jurisdiction, and the `jurisdiction_id` the client named (body or query): 404
/// when it is not served here, 403 when it is not the key's.
fn key_jurisdiction<'a, 'p>(
    catalog: &'a Catalog,
    key: &Open311Key,
    body: &'p Params,
    query: &'p Params,
) -> Result<(&'a Jurisdiction, Option<&'p str>)> {
    let jurisdiction = catalog
        .jurisdiction(&key.jurisdiction)
        .ok_or_else(|| Open311Error::forbidden("this api_key's jurisdiction is not served here"))?;
    let named = match body.one("jurisdiction_id")? {
        Some(j) => Some(j),
        None => query.one("jurisdiction_id")?,
    };
    if let Some(j) = named {
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
    Ok((jurisdiction, named))
}

/// A checked form: every field error found at once, or what the submission needs.
struct Form<'a> {
    service_code: Option<&'a str>,
    code: Option<ServiceCode>,
    service: Option<&'a Service>,
    lat: Option<f64>,
    long: Option<f64>,
    point: Option<GeoPoint>,
    address: Option<&'a str>,
    contact: Map<String, Value>,
    device_id: Option<&'a str>,
    media_urls: Vec<String>,
    attributes: Map<String, Value>,
    ignored: Vec<String>,
}

/// Checks the fields of the form, collecting every error (a 400 naming them all).
fn check_form<'a>(
    catalog: &'a Catalog,
    jurisdiction: &Jurisdiction,
    body: &'a Params,
) -> Result<Form<'a>> {
    let mut errors = Vec::new();
    let service_code = body.one("service_code")?;
    if service_code.is_none() {
        errors.push(FieldError::new("service_code", "is required"));
    }
    let (lat, long, address) = location(body, &mut errors)?;
    let mut contact = Map::new();
    for field in ["email", "first_name", "last_name", "phone"] {
        if let Some(value) = short_text(body, &[field], &mut errors)? {
            contact.insert(field.to_owned(), Value::String(value.to_owned()));
        }
    }
    let device_id = short_text(body, &["device_id", "deviceid"], &mut errors)?;
    let media_urls = media_urls(body, &mut errors);
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
        return Err(Open311Error::from(ApiError::Validation(errors)));
    }
    Ok(Form {
        service_code,
        code,
        service,
        lat,
        long,
        point,
        address,
        contact,
        device_id,
        media_urls,
        attributes,
        ignored,
    })
}

/// `lat`, `long` (both required: no geocoding) and `address_string`.
fn location<'a>(
    body: &'a Params,
    errors: &mut Vec<FieldError>,
) -> Result<(Option<f64>, Option<f64>, Option<&'a str>)> {
    let lat = coordinate(body, "lat", errors)?;
    let long = coordinate(body, "long", errors)?;
    let address = short_text(body, &["address_string"], errors)?;
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
    Ok((lat, long, address))
}

/// The `media_url`s: at most ten http(s) URLs of at most 2048 characters.
fn media_urls(body: &Params, errors: &mut Vec<FieldError>) -> Vec<String> {
    let urls: Vec<String> = body
        .many("media_url")
        .into_iter()
        .map(str::to_owned)
        .collect();
    if urls.len() > MAX_MEDIA_URLS {
        errors.push(FieldError::new(
            "media_url",
            format!("at most {MAX_MEDIA_URLS} are accepted"),
        ));
    }
    if urls.iter().any(|u| {
        u.chars().count() > MAX_MEDIA_URL_CHARS
            || !(u.starts_with("http://") || u.starts_with("https://"))
            || u.chars().any(|c| c.is_control() || c.is_whitespace())
    }) {
        errors.push(FieldError::new(
            "media_url",
            format!("must be http(s) URLs of at most {MAX_MEDIA_URL_CHARS} characters"),
        ));
    }
    urls
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
