//! The SLA calendar and each contract's policy versions: every staff member reads them,
//! staff administrators replace the calendar and add a policy version, through the same
//! use cases as `PUT /api/v1/staff/sla/calendar` and `POST …/contracts/{id}/sla-policies`
//! ([`balagh_app::contracts::policies`]).

use super::see_other;
use super::sla_form::{self, Fields, PAUSE_REASONS, WEEKDAYS};
use super::{Area, Shell, StaffSession, admin, check_csrf, plain_assets, refusal, respond};
use crate::problem::ApiError;
use crate::routes::sla::{PolicyRequest, staff_contract};
use crate::state::AppState;
use crate::web::form::WebForm;
use crate::web::i18n::PageLanguage;
use crate::web::templates::{Assets, Words};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use balagh_app::contracts::policies;
use balagh_domain::sla::{CalendarSpec, SlaPolicy};
use balagh_domain::{FieldError, Jurisdiction};
use serde::Deserialize;

#[derive(Debug)]
struct Day {
    name: &'static str,
    label: String,
    hours: String,
}

#[derive(Debug)]
struct Version {
    number: u32,
    /// `None`: in force from the beginning (no start date).
    from: Option<String>,
    clock: String,
    targets: Vec<String>,
    penalty: String,
}

#[derive(Debug)]
struct ContractPolicies {
    id: String,
    title: String,
    versions: Vec<Version>,
    /// The new-version form's fields (the last version's values, or what was typed).
    form: Fields,
    error: Option<String>,
}

impl ContractPolicies {
    fn value(&self, name: &str) -> &str {
        self.form.get(name).map_or("", String::as_str)
    }
    fn checked(&self, name: &str) -> bool {
        self.form.contains_key(name)
    }
}

#[derive(Template)]
#[template(path = "staff/sla.html")]
struct SlaPage {
    w: Words,
    assets: Assets,
    shell: Shell,
    lang: &'static str,
    can_edit: bool,
    days: Vec<Day>,
    calendar: Fields,
    calendar_error: Option<String>,
    contracts: Vec<ContractPolicies>,
    reasons: [&'static str; 3],
    done: Option<String>,
    /// The commune's currency code, in the penalty fields' labels.
    currency: String,
}

impl SlaPage {
    fn value(&self, name: &str) -> &str {
        self.calendar.get(name).map_or("", String::as_str)
    }
}

/// What was typed into a refused form, to show it again with the error.
enum Typed {
    Nothing,
    Calendar(Fields, String),
    Policy(String, Fields, String),
}

fn version(w: Words, j: &Jurisdiction, p: &SlaPolicy) -> Version {
    let metric = |m: &str| w.t(&format!("staff-dispute-metric-{}", m.replace('_', "-")));
    let value = serde_json::to_value(p).unwrap_or_default();
    let targets = value["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let mut line = format!(
                "{} : {}",
                metric(t["metric"].as_str().unwrap_or_default()),
                sla_form::friendly(t["duration"].as_str().unwrap_or_default())
            );
            if let Some(priority) = t["priority"].as_str() {
                line.push_str(&format!(
                    " — {}",
                    w.t(&format!("staff-priority-{priority}"))
                ));
            }
            if let Some(service) = t["service_code"].as_str() {
                line.push_str(&format!(" — {service}"));
            }
            line
        })
        .collect();
    // A version without a start date is stored from the epoch: "since the beginning".
    let from = (p.effective_from.as_second() > 0).then(|| {
        time::OffsetDateTime::from_unix_timestamp(p.effective_from.as_second())
            .map_or_else(|_| p.effective_from.to_string(), |at| j.local_time(at))
    });
    let mad = |minor: i64| super::statement::money(w, &j.currency, minor);
    let penalty = match p.penalty.cap_per_period_minor {
        // The amount and the currency as placeables of their own: a formatted amount nested
        // in the sentence would be isolated as a whole and read backwards in Arabic.
        Some(cap) => w.t2(
            "staff-sla-penalty-capped",
            ("amount", j.currency.format_minor(cap).into()),
            ("currency", j.currency.code().to_owned().into()),
        ),
        None => w.t("staff-sla-penalty-uncapped"),
    };
    Version {
        number: p.version,
        from,
        clock: w.t(&format!(
            "staff-sla-clock-{}",
            p.clock.as_str().replace('_', "-")
        )),
        targets,
        penalty: format!(
            "{} {} · {} {} · {penalty}",
            mad(p.penalty.per_breach_minor),
            w.t("staff-sla-per-breach"),
            mad(p.penalty.per_started_hour_late_minor),
            w.t("staff-sla-per-hour"),
        ),
    }
}

fn render(
    state: &AppState,
    session: &StaffSession,
    w: Words,
    typed: Typed,
    done: Option<String>,
) -> Result<SlaPage, ApiError> {
    let catalog = state.catalog();
    let j = catalog
        .jurisdiction(&session.jurisdiction)
        .ok_or(ApiError::NotFound)?;
    let spec = catalog
        .sla_calendar_spec(&session.jurisdiction)
        .cloned()
        .unwrap_or_else(CalendarSpec::moroccan_administration);
    let stored = sla_form::calendar_fields(&spec);
    let days = WEEKDAYS
        .into_iter()
        .map(|name| Day {
            name,
            label: w.t(&format!("staff-sla-day-{name}")),
            hours: Some(stored[&format!("hours_{name}")].clone())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| w.t("staff-sla-closed")),
        })
        .collect();
    let (calendar, calendar_error) = match &typed {
        Typed::Calendar(fields, error) => (fields.clone(), Some(error.clone())),
        _ => (stored, None),
    };
    let mut contracts: Vec<ContractPolicies> = catalog
        .router()
        .contracts()
        .iter()
        .filter(|c| c.jurisdiction == session.jurisdiction)
        .map(|c| {
            let versions = catalog.sla_policy_versions(c.id);
            let id = c.id.0.to_string();
            let (form, error) = match &typed {
                Typed::Policy(contract, fields, error) if *contract == id => {
                    (fields.clone(), Some(error.clone()))
                }
                _ => (
                    sla_form::policy_fields(versions.last().map(|v| &v.policy), &j.currency),
                    None,
                ),
            };
            let operator = catalog
                .operator(c.operator)
                .map(|o| o.operator.name.clone())
                .unwrap_or_default();
            ContractPolicies {
                title: format!("{operator} — {} ({})", c.reference, c.zone_name),
                versions: versions
                    .iter()
                    .rev()
                    .map(|v| version(w, j, &v.policy))
                    .collect(),
                id,
                form,
                error,
            }
        })
        .collect();
    contracts.sort_by(|a, b| a.title.cmp(&b.title));
    Ok(SlaPage {
        w,
        assets: plain_assets(),
        shell: Shell::new(session, w, Area::Sla, "/staff/sla"),
        lang: w.language.code(),
        can_edit: admin(session).is_ok(),
        days,
        calendar,
        calendar_error,
        contracts,
        reasons: PAUSE_REASONS,
        done,
        currency: j.currency.code().to_owned(),
    })
}

#[derive(Debug, Deserialize)]
pub struct SlaParams {
    done: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Query(params): Query<SlaParams>,
) -> Response {
    let w = Words::new(language);
    let done = params
        .done
        .filter(|d| d == "calendar" || d == "policy")
        .map(|d| w.t(&format!("staff-sla-done-{d}")));
    match render(&state, &session, w, Typed::Nothing, done) {
        Ok(page) => respond(StatusCode::OK, &page),
        Err(e) => e.into_response(),
    }
}

fn refused(state: &AppState, session: &StaffSession, w: Words, typed: Typed) -> Response {
    match render(state, session, w, typed, None) {
        Ok(page) => respond(StatusCode::UNPROCESSABLE_ENTITY, &page),
        Err(e) => e.into_response(),
    }
}

pub async fn save_calendar(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    WebForm(fields): WebForm<Fields>,
) -> Response {
    if let Err(refused) = check_csrf(&session, fields.get("csrf_token").map_or("", |v| v)) {
        return refused.into_response();
    }
    let staff = match admin(&session) {
        Ok(s) => s,
        Err(refused) => return refused.into_response(),
    };
    let w = Words::new(language);
    let result = match sla_form::calendar_request(&fields) {
        Ok(spec) => policies::put_calendar(&state, &staff.jurisdiction, &spec, staff.user.id)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => see_other(&format!(
            "/staff/sla?lang={}&done=calendar",
            language.code()
        )),
        Err(e) => {
            let message = refusal(w, &e);
            refused(&state, &session, w, Typed::Calendar(fields, message))
        }
    }
}

/// `2026-12-08T00:00` (a `datetime-local` field) in the commune's time zone, as RFC 3339.
fn local_instant(j: &Jurisdiction, raw: &str) -> Result<Option<String>, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = || {
        FieldError::new(
            "effective_from",
            "must be a date and time, 2026-12-08T00:00",
        )
    };
    let civil: jiff::civil::DateTime = raw.parse().map_err(|_| bad())?;
    let tz = jiff::tz::TimeZone::get(&j.time_zone).map_err(|_| bad())?;
    let zoned = civil.to_zoned(tz).map_err(|_| bad())?;
    Ok(Some(zoned.timestamp().to_string()))
}

fn policy_body(j: &Jurisdiction, fields: &Fields) -> Result<PolicyRequest, FieldError> {
    let from = local_instant(j, fields.get("effective_from").map_or("", String::as_str))?;
    let value = sla_form::policy_request(fields, from, &j.currency)?;
    serde_json::from_value(value).map_err(|e| FieldError::new("policy", e.to_string()))
}

pub async fn add_policy(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Path(id): Path<String>,
    WebForm(fields): WebForm<Fields>,
) -> Response {
    if let Err(refused) = check_csrf(&session, fields.get("csrf_token").map_or("", |v| v)) {
        return refused.into_response();
    }
    let staff = match admin(&session) {
        Ok(s) => s,
        Err(refused) => return refused.into_response(),
    };
    let w = Words::new(language);
    let Some(j) = state.catalog().jurisdiction(&session.jurisdiction).cloned() else {
        return ApiError::NotFound.into_response();
    };
    let result = match policy_body(&j, &fields) {
        Ok(body) => match staff_contract(&state, &staff.jurisdiction, &id) {
            Ok(contract) => {
                policies::add_policy(&state, contract, body.into_draft(), staff.user.id)
                    .await
                    .map(|_| ())
                    .map_err(ApiError::from)
            }
            Err(e) => Err(e),
        },
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => see_other(&format!("/staff/sla?lang={}&done=policy", language.code())),
        Err(ApiError::NotFound) => ApiError::NotFound.into_response(),
        Err(e) => {
            let message = refusal(w, &e);
            refused(&state, &session, w, Typed::Policy(id, fields, message))
        }
    }
}
