//! Service notices drawn on a map: staff publish a planned interruption, a collection
//! delay or a diversion over an area drawn by clicks on the map (vendored Leaflet, GeoJSON
//! layers only) or, with the keyboard alone, chosen as a district; and end them.

use super::{Area, Shell, StaffSession, check_csrf, respond, script_assets, see_other, writer};
use crate::auth::principal::Caller;
use crate::extract::{AcceptLanguage, ApiJson};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::web::form::WebForm;
use crate::web::i18n::PageLanguage;
use crate::web::public::{data_block, multipolygon_json};
use crate::web::templates::{Assets, Words};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use balagh_domain::Language;
use balagh_store::Ts;
use balagh_wire::{NewNoticeRequest, NoticeTextView};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

const KINDS: [&str; 4] = [
    "planned_interruption",
    "collection_delay",
    "diversion",
    "other",
];
const DURATIONS_HOURS: [u32; 6] = [2, 4, 8, 24, 48, 72];

#[derive(Debug)]
pub struct Pick {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Debug)]
pub struct NoticeRow {
    id: String,
    kind: String,
    title: String,
    services: String,
    until: String,
}

#[derive(Template)]
#[template(path = "staff/notices.html")]
struct NoticesPage {
    w: Words,
    assets: Assets,
    shell: Shell,
    lang: &'static str,
    error: Option<String>,
    done: bool,
    can_write: bool,
    kinds: Vec<Pick>,
    services: Vec<Pick>,
    districts: Vec<Pick>,
    durations: Vec<Pick>,
    notices: Vec<NoticeRow>,
    values: HashMap<String, String>,
    data: String,
}

impl NoticesPage {
    fn value(&self, name: &str) -> String {
        self.values.get(name).cloned().unwrap_or_default()
    }
}

/// The districts of the commune (contract zones, once each by name) and their shapes.
fn districts(state: &AppState, session: &StaffSession) -> Vec<(String, Value)> {
    let catalog = state.catalog();
    let mut out: Vec<(String, Value)> = Vec::new();
    for c in catalog.router().contracts() {
        if c.jurisdiction == session.jurisdiction && !out.iter().any(|(n, _)| *n == c.zone_name) {
            out.push((c.zone_name.clone(), multipolygon_json(&c.zone)));
        }
    }
    out
}

fn text_of(texts: &Value, language: Language) -> String {
    texts
        .get(language.code())
        .or_else(|| texts.get("fr"))
        .and_then(|t| t.get("title"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The current notices as the table shows them.
fn notice_rows(
    current: &[balagh_store::StoredNotice],
    services: &[balagh_domain::Service],
    jurisdiction: Option<&balagh_domain::Jurisdiction>,
    w: Words,
) -> Vec<NoticeRow> {
    let language = w.language;
    current
        .iter()
        .map(|n| NoticeRow {
            id: n.id.to_string(),
            kind: w.t(&format!("staff-notice-kind-{}", n.kind.replace('_', "-"))),
            title: text_of(&n.texts, language),
            services: n
                .service_codes
                .iter()
                .map(|code| {
                    services
                        .iter()
                        .find(|s| s.code.as_str() == code)
                        .map_or(code.clone(), |s| s.name.get(language).to_owned())
                })
                .collect::<Vec<_>>()
                .join(", "),
            until: jurisdiction.map_or_else(
                || n.valid_until.get().to_string(),
                |j| j.local_time(n.valid_until.get()),
            ),
        })
        .collect()
}

async fn notices_page(
    state: &AppState,
    session: &StaffSession,
    language: Language,
    values: HashMap<String, String>,
    error: Option<String>,
    done: bool,
) -> Result<NoticesPage, ApiError> {
    let w = Words::new(language);
    let catalog = state.catalog();
    let pick = |value: &str, label: String, field: &str| Pick {
        selected: values.get(field).is_some_and(|v| v == value),
        value: value.to_owned(),
        label,
    };
    let services = catalog.services(&session.jurisdiction);
    let current = state
        .store()
        .current_notices(session.jurisdiction.as_str(), Ts::now(), 100)
        .await?;
    let zone_of = catalog.jurisdiction(&session.jurisdiction);
    let notices = notice_rows(&current, services, zone_of, w);
    let districts = districts(state, session);
    let data = json!({
        "boundary": zone_of.map(|j| multipolygon_json(&j.boundary)),
        "districts": districts.iter().map(|(name, shape)| json!({"name": name, "geometry": shape})).collect::<Vec<_>>(),
        "notices": current.iter().map(|n| json!({"id": n.id, "geometry": n.area, "radius_m": n.radius_m})).collect::<Vec<_>>(),
        "labels": {"clear": w.t("staff-notice-clear"), "points": w.t("staff-notice-points")},
    });
    Ok(NoticesPage {
        w,
        assets: script_assets(),
        shell: Shell::new(session, w, Area::Notices, "/staff/notices"),
        lang: language.code(),
        error,
        done,
        can_write: writer(session).is_ok(),
        kinds: KINDS
            .iter()
            .map(|k| {
                pick(
                    k,
                    w.t(&format!("staff-notice-kind-{}", k.replace('_', "-"))),
                    "kind",
                )
            })
            .collect(),
        services: services
            .iter()
            .map(|s| Pick {
                selected: values.contains_key(&format!("service_{}", s.code)),
                value: s.code.to_string(),
                label: s.name.get(language).to_owned(),
            })
            .collect(),
        districts: districts
            .iter()
            .map(|(name, _)| pick(name, name.clone(), "district"))
            .collect(),
        durations: DURATIONS_HOURS
            .iter()
            .map(|h| {
                pick(
                    &h.to_string(),
                    w.t1("staff-notice-hours", "hours", *h),
                    "hours",
                )
            })
            .collect(),
        notices,
        values,
        data: data_block(&data),
    })
}

#[derive(Debug, Deserialize)]
pub struct PageParams {
    done: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Query(params): Query<PageParams>,
) -> Response {
    let done = params.done.is_some();
    match notices_page(&state, &session, language, HashMap::new(), None, done).await {
        Ok(page) => respond(StatusCode::OK, &page),
        Err(e) => e.into_response(),
    }
}

/// The API request the form stands for; the drawn area wins over the district.
fn request(
    state: &AppState,
    session: &StaffSession,
    values: &HashMap<String, String>,
) -> Result<NewNoticeRequest, &'static str> {
    let field = |k: &str| values.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let area = match (field("area"), field("district")) {
        (Some(drawn), _) => {
            serde_json::from_str::<Value>(drawn).map_err(|_| "staff-notice-error-area")?
        }
        (None, Some(name)) => districts(state, session)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, shape)| shape)
            .ok_or("staff-notice-error-area")?,
        (None, None) => return Err("staff-notice-error-area"),
    };
    let hours: i64 = field("hours").and_then(|h| h.parse().ok()).unwrap_or(24);
    let mut texts = BTreeMap::new();
    for language in Language::ALL {
        let code = language.code();
        if let (Some(title), Some(body)) = (
            field(&format!("title_{code}")),
            field(&format!("body_{code}")),
        ) {
            texts.insert(
                code.to_owned(),
                NoticeTextView {
                    title: title.to_owned(),
                    body: body.to_owned(),
                },
            );
        }
    }
    Ok(NewNoticeRequest {
        kind: field("kind").unwrap_or("other").to_owned(),
        service_codes: values
            .keys()
            .filter_map(|k| k.strip_prefix("service_").map(str::to_owned))
            .collect(),
        area,
        radius_m: None,
        valid_from: None,
        valid_until: time::OffsetDateTime::now_utc()
            + time::Duration::hours(hours.clamp(1, 24 * 30)),
        texts,
        // An urgent notice takes over the reception screens (issue 21); the form's box.
        urgent: field("urgent").is_some(),
    })
}

pub async fn publish(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    WebForm(values): WebForm<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = check_csrf(&session, values.get("csrf_token").map_or("", |v| v)) {
        return refused.into_response();
    }
    let w = Words::new(language);
    let result = match request(&state, &session, &values) {
        Ok(body) => crate::routes::push::publish_notice(
            State(state.clone()),
            Caller::User(session.user.clone()),
            AcceptLanguage(None),
            ApiJson(body),
        )
        .await
        .map(|_| ())
        .map_err(|e| match e {
            ApiError::Validation(errors) => {
                let fields: Vec<String> = errors.iter().map(ToString::to_string).collect();
                Some(w.t1("staff-error-invalid", "detail", fields.join("; ")))
            }
            ApiError::Forbidden => None,
            _ => Some(w.t("staff-error-other")),
        }),
        Err(id) => Err(Some(w.t(id))),
    };
    match result {
        Ok(()) => see_other(&format!(
            "/staff/notices?lang={}&done=published",
            language.code()
        )),
        Err(None) => ApiError::Forbidden.into_response(),
        Err(Some(message)) => {
            match notices_page(&state, &session, language, values, Some(message), false).await {
                Ok(page) => respond(StatusCode::UNPROCESSABLE_ENTITY, &page),
                Err(e) => e.into_response(),
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct EndForm {
    csrf_token: String,
}

pub async fn end(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Path(id): Path<String>,
    WebForm(form): WebForm<EndForm>,
) -> Response {
    if let Err(refused) = check_csrf(&session, &form.csrf_token) {
        return refused.into_response();
    }
    let ended = crate::routes::push::withdraw_notice(
        State(state.clone()),
        Caller::User(session.user.clone()),
        Path(id),
    )
    .await;
    match ended {
        Ok(_) => see_other(&format!("/staff/notices?lang={}", language.code())),
        Err(e) => e.into_response(),
    }
}
