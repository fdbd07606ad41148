//! The one-stop counter: staff enter a report for a resident who came to the counter or
//! called, with the resident's contact for the callback, then print a receipt with the
//! reference. Two steps without script: choose the service, then fill in its form (its own
//! questions included).

use super::{
    Area, Shell, StaffSession, check_csrf, local_time, plain_assets, respond, script_assets,
    see_other, service_name, writer,
};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::web::form::WebForm;
use crate::web::i18n::PageLanguage;
use crate::web::templates::{Assets, Words};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use balagh_app::intake::{self, Submitter};
use balagh_domain::{AttributeType, Channel, IdempotencyKey, Language, Service, ServiceCode};
use balagh_wire::NewReportRequest;
use geo::Centroid;
use serde_json::{Map, Value};
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug)]
pub struct Pick {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Debug)]
pub struct Question {
    name: String,
    label: String,
    required: bool,
    number: bool,
    value: String,
    options: Vec<Pick>,
}

#[derive(Template)]
#[template(path = "staff/intake.html")]
struct IntakePage {
    w: Words,
    assets: Assets,
    shell: Shell,
    lang: &'static str,
    error: Option<String>,
    services: Vec<Pick>,
    /// The chosen service's code, once chosen.
    service: Option<String>,
    service_label: String,
    places: Vec<Pick>,
    questions: Vec<Question>,
    key: String,
    values: HashMap<String, String>,
}

impl IntakePage {
    fn value(&self, name: &str) -> String {
        self.values.get(name).cloned().unwrap_or_default()
    }

    fn is_phone(&self) -> bool {
        self.values.get("channel").is_some_and(|c| c == "phone")
    }
}

fn services(
    state: &AppState,
    session: &StaffSession,
    language: Language,
    chosen: Option<&str>,
) -> Vec<Pick> {
    state
        .catalog()
        .services(&session.jurisdiction)
        .iter()
        .map(|s| Pick {
            value: s.code.to_string(),
            label: s.name.get(language).to_owned(),
            selected: chosen == Some(s.code.as_str()),
        })
        .collect()
}

/// The districts a report of this service can be placed in without a map: the zones of
/// its group's contracts, each by its centre.
fn places(state: &AppState, service: &Service, chosen: Option<&str>) -> Vec<Pick> {
    let catalog = state.catalog();
    let mut places: Vec<Pick> = Vec::new();
    for c in catalog.router().contracts() {
        if c.group != service.group || places.iter().any(|p| p.label == c.zone_name) {
            continue;
        }
        if let Some(centre) = c.zone.centroid() {
            let value = format!("{:.6},{:.6}", centre.y(), centre.x());
            places.push(Pick {
                selected: chosen == Some(value.as_str()),
                value,
                label: c.zone_name.clone(),
            });
        }
    }
    places
}

fn questions(
    service: &Service,
    language: Language,
    values: &HashMap<String, String>,
) -> Vec<Question> {
    let mut attributes: Vec<_> = service.attributes.iter().collect();
    attributes.sort_by_key(|a| a.order);
    attributes
        .into_iter()
        .map(|a| {
            let name = format!("attr_{}", a.code);
            let value = values.get(&name).cloned().unwrap_or_default();
            Question {
                label: a.description.get(language).to_owned(),
                required: a.required,
                number: a.datatype == AttributeType::Number,
                options: a
                    .values
                    .iter()
                    .map(|v| Pick {
                        selected: v.key == value,
                        value: v.key.clone(),
                        label: v.name.get(language).to_owned(),
                    })
                    .collect(),
                name,
                value,
            }
        })
        .collect()
}

fn intake_page(
    state: &AppState,
    session: &StaffSession,
    language: Language,
    values: HashMap<String, String>,
    error: Option<String>,
) -> IntakePage {
    let w = Words::new(language);
    let catalog = state.catalog();
    let chosen = values
        .get("service")
        .and_then(|c| ServiceCode::parse(c).ok())
        .and_then(|c| catalog.service(&session.jurisdiction, &c).cloned());
    let key = values
        .get("key")
        .filter(|k| IdempotencyKey::parse(k).is_ok())
        .cloned()
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    IntakePage {
        w,
        assets: plain_assets(),
        shell: Shell::new(session, w, Area::Intake, "/staff/intake"),
        lang: language.code(),
        error,
        services: services(
            state,
            session,
            language,
            values.get("service").map(String::as_str),
        ),
        service: chosen.as_ref().map(|s| s.code.to_string()),
        service_label: chosen
            .as_ref()
            .map(|s| s.name.get(language).to_owned())
            .unwrap_or_default(),
        places: chosen
            .as_ref()
            .map(|s| places(state, s, values.get("place").map(String::as_str)))
            .unwrap_or_default(),
        questions: chosen
            .as_ref()
            .map(|s| questions(s, language, &values))
            .unwrap_or_default(),
        key,
        values,
    }
}

pub async fn form(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Query(values): Query<HashMap<String, String>>,
) -> Response {
    respond(
        StatusCode::OK,
        &intake_page(&state, &session, language, values, None),
    )
}

/// The API request a filled-in form stands for.
fn request(values: &HashMap<String, String>) -> Result<NewReportRequest, &'static str> {
    let field = |k: &str| values.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let (lat, lon) = match (field("lat"), field("lon"), field("place")) {
        (Some(lat), Some(lon), _) => (lat.parse().ok(), lon.parse().ok()),
        (_, _, Some(place)) => match place.split_once(',') {
            Some((lat, lon)) => (lat.parse().ok(), lon.parse().ok()),
            None => (None, None),
        },
        _ => (None, None),
    };
    let (Some(lat), Some(lon)) = (lat, lon) else {
        return Err("staff-intake-error-place");
    };
    let mut attributes = Map::new();
    for (name, value) in values {
        if let (Some(code), false) = (name.strip_prefix("attr_"), value.trim().is_empty()) {
            attributes.insert(code.to_owned(), Value::String(value.trim().to_owned()));
        }
    }
    Ok(NewReportRequest {
        service_code: field("service").unwrap_or_default().to_owned(),
        lat,
        lon,
        description: values.get("description").cloned().unwrap_or_default(),
        attributes: (!attributes.is_empty()).then_some(attributes),
        accuracy_m: None,
        photos: None,
    })
}

pub async fn submit(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    WebForm(values): WebForm<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = check_csrf(&session, values.get("csrf_token").map_or("", |v| v)) {
        return refused.into_response();
    }
    let caller = match writer(&session) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let w = Words::new(language);
    let again = |error: String, values: HashMap<String, String>| {
        let page = intake_page(&state, &session, language, values, Some(error));
        respond(StatusCode::UNPROCESSABLE_ENTITY, &page)
    };
    let body = match request(&values) {
        Ok(body) => body,
        Err(id) => return again(w.t(id), values),
    };
    let channel = if values.get("channel").is_some_and(|c| c == "phone") {
        Channel::Phone
    } else {
        Channel::Counter
    };
    let contact = crate::routes::catalog_admin::assisted_contact(
        values.get("contact_name").map(String::as_str),
        values.get("contact_phone").map(String::as_str),
    );
    let key = values
        .get("key")
        .and_then(|k| IdempotencyKey::parse(k).ok());
    let (contact, key) = match (contact, key) {
        (Ok(contact), Some(key)) => (contact, key),
        (Err(e), _) => return again(explain(w, &e), values),
        (_, None) => return again(w.t("staff-error-other"), values),
    };
    // A phone number gets the receipt and the status changes by SMS when a gateway is set.
    let contact = match crate::sms::assisted_contact(
        &state,
        session.jurisdiction.as_str(),
        contact,
        language,
    )
    .await
    {
        Ok(contact) => contact,
        Err(e) => return e.into_response(),
    };
    let by = Submitter {
        channel,
        device: None,
        staff: Some(caller.user.id),
        contact,
    };
    match intake::submit(&state, &body, key, by)
        .await
        .map_err(ApiError::from)
    {
        Ok((report, _)) => see_other(&format!(
            "/staff/reports/{}/receipt?lang={}",
            report.id,
            language.code()
        )),
        Err(e @ (ApiError::Validation(_) | ApiError::OutsideJurisdiction)) => {
            again(explain(w, &e), values)
        }
        Err(e) => e.into_response(),
    }
}

fn explain(w: Words, error: &ApiError) -> String {
    match error {
        ApiError::Validation(errors) => {
            let fields: Vec<String> = errors.iter().map(ToString::to_string).collect();
            w.t1("staff-error-invalid", "detail", fields.join("; "))
        }
        ApiError::OutsideJurisdiction => w.t("staff-intake-error-outside"),
        _ => w.t("staff-error-other"),
    }
}

#[derive(Template)]
#[template(path = "staff/receipt.html")]
struct ReceiptPage {
    w: Words,
    assets: Assets,
    shell: Shell,
    lang: &'static str,
    id: Uuid,
    reference: String,
    service: String,
    created: String,
    place: String,
    description: String,
    channel: String,
    commune: String,
    staff_name: String,
    /// The number the receipt was sent to by SMS, if it was.
    sms_to: Option<String>,
}

/// The receipt handed or read to the resident: the reference to quote, what was recorded.
pub async fn receipt(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return ApiError::NotFound.into_response();
    };
    let report = match state.store().report(id).await {
        Ok(Some(r)) if r.jurisdiction == session.jurisdiction => r,
        Ok(_) => return ApiError::NotFound.into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let w = Words::new(language);
    let catalog = state.catalog();
    let page = ReceiptPage {
        w,
        assets: script_assets(),
        shell: Shell::new(
            &session,
            w,
            Area::Intake,
            &format!("/staff/reports/{id}/receipt"),
        ),
        lang: language.code(),
        id,
        reference: report.reference.as_str().to_owned(),
        service: service_name(&catalog, &report, language),
        created: local_time(&catalog, &report, report.created_at),
        place: format!("{:.5}, {:.5}", report.point.lat(), report.point.lon()),
        description: report.description.clone(),
        channel: w.t(&format!("staff-channel-{}", report.channel.as_str())),
        commune: catalog
            .jurisdiction(&report.jurisdiction)
            .map(|j| j.name.clone())
            .unwrap_or_default(),
        staff_name: session.user.display_name.clone(),
        sms_to: balagh_app::sms::told_by_sms(report.contact.as_ref())
            .then(|| {
                report.contact.as_ref()?["sms_phone"]
                    .as_str()
                    .map(str::to_owned)
            })
            .flatten(),
    };
    respond(StatusCode::OK, &page)
}
