//! The penalty statement of a contract for a calendar month, as a printable page: the
//! measured figures per metric, each breach with its amount in the commune's currency, the contract's
//! total after disputes and cap, and the same statement as CSV for the accountant.

use super::{Area, Shell, StaffSession, respond};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::web::i18n::PageLanguage;
use crate::web::templates::{Assets, Words};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use balagh_app::contracts::statements::build;
use balagh_domain::sla::{Metric, Statement};
use balagh_domain::{ContractId, Currency, FieldError, Jurisdiction};
use balagh_store::StatementScope;
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
pub struct StatementParams {
    contract: Option<String>,
    /// `YYYY-MM`, in the commune's time zone.
    month: Option<String>,
}

#[derive(Debug)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Debug)]
struct Figures {
    metric: String,
    measured: usize,
    met: usize,
    breached: usize,
    pending: usize,
    within: String,
    median: String,
    p90: String,
}

#[derive(Debug)]
struct Line {
    reference: String,
    service: String,
    metric: String,
    due: String,
    done: String,
    hours_late: i64,
    amount: String,
    dispute: String,
    waived: bool,
}

/// A statement as the page shows it.
#[derive(Debug)]
struct Shown {
    operator: String,
    contract: String,
    zone: String,
    period: String,
    as_of: String,
    tickets: usize,
    figures: Vec<Figures>,
    lines: Vec<Line>,
    waived: String,
    uncapped: String,
    cap: String,
    total: String,
    csv_href: String,
}

#[derive(Template)]
#[template(path = "staff/statement.html")]
struct StatementPage {
    w: Words,
    assets: Assets,
    shell: Shell,
    lang: &'static str,
    commune: String,
    contracts: Vec<Choice>,
    month: String,
    shown: Option<Shown>,
    error: Option<String>,
}

/// An amount from minor units in the commune's currency: `1234.50 MAD`, `110.000 TND`
/// (the catalogue words the code, e.g. درهم in Arabic).
pub fn money(w: Words, currency: &Currency, minor: i64) -> String {
    w.t2(
        "staff-statement-amount",
        ("amount", currency.format_minor(minor).into()),
        ("currency", currency.code().to_owned().into()),
    )
}

fn hours(seconds: Option<i64>) -> String {
    seconds.map_or_else(|| "—".to_owned(), |s| format!("{:.1} h", s as f64 / 3600.0))
}

/// The first instants of a month and of the next one, in the commune's time zone.
fn month_bounds(j: &Jurisdiction, month: &str) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let (year, m) = month.split_once('-')?;
    let (year, m): (i16, i8) = (year.parse().ok()?, m.parse().ok()?);
    let tz = jiff::tz::TimeZone::get(&j.time_zone).ok()?;
    let start = jiff::civil::Date::new(year, m, 1).ok()?;
    let end = start.checked_add(jiff::Span::new().months(1)).ok()?;
    let at = |d: jiff::civil::Date| {
        let ts = d.to_zoned(tz.clone()).ok()?.timestamp();
        OffsetDateTime::from_unix_timestamp(ts.as_second()).ok()
    };
    Some((at(start)?, at(end)?))
}

fn this_month(j: Option<&Jurisdiction>) -> String {
    let now = jiff::Timestamp::now();
    let zoned = j
        .and_then(|j| jiff::tz::TimeZone::get(&j.time_zone).ok())
        .map_or_else(
            || now.to_zoned(jiff::tz::TimeZone::UTC),
            |tz| now.to_zoned(tz),
        );
    zoned.strftime("%Y-%m").to_string()
}

fn metric_word(w: Words, m: Metric) -> String {
    w.t(&format!(
        "staff-dispute-metric-{}",
        m.as_str().replace('_', "-")
    ))
}

/// The measured figures per metric.
fn figures(w: Words, s: &Statement) -> Vec<Figures> {
    s.metrics
        .iter()
        .map(|f| Figures {
            metric: metric_word(w, f.metric),
            measured: f.measured,
            met: f.met,
            breached: f.breached,
            pending: f.pending,
            within: f
                .percent_within_sla
                .map_or_else(|| "—".to_owned(), |p| format!("{p:.1} %")),
            median: hours(f.median_seconds),
            p90: hours(f.p90_seconds),
        })
        .collect()
}

fn show(
    state: &AppState,
    w: Words,
    j: &Jurisdiction,
    contract: &balagh_domain::Contract,
    month: &str,
    s: &Statement,
) -> Shown {
    let catalog = state.catalog();
    let local = |ts: jiff::Timestamp| {
        OffsetDateTime::from_unix_timestamp(ts.as_second())
            .map_or_else(|_| ts.to_string(), |at| j.local_time(at))
    };
    let metric = |m: Metric| {
        w.t(&format!(
            "staff-dispute-metric-{}",
            m.as_str().replace('_', "-")
        ))
    };
    let service = |code: &str| {
        catalog
            .services(&j.id)
            .iter()
            .find(|s| s.code.as_str() == code)
            .map_or_else(|| code.to_owned(), |s| s.name.get(w.language).to_owned())
    };
    let total = s.contracts.iter().find(|t| t.contract_id == contract.id.0);
    let cost = |minor: i64| money(w, &j.currency, minor);
    let figures = figures(w, s);
    let lines = s
        .lines
        .iter()
        .map(|l| Line {
            reference: l.reference.clone(),
            service: service(&l.service_code),
            metric: metric(l.metric),
            due: local(l.due_at),
            done: l
                .done_at
                .map_or_else(|| w.t("staff-statement-not-done"), local),
            hours_late: l.hours_late,
            amount: cost(l.amount_minor),
            dispute: l
                .dispute
                .as_deref()
                .map(|d| w.t(&format!("staff-dispute-state-{d}")))
                .unwrap_or_default(),
            waived: l.waived,
        })
        .collect();
    let (from, until) = (s.from.to_string(), s.until.to_string());
    Shown {
        operator: catalog
            .operator(contract.operator)
            .map(|o| o.operator.name.clone())
            .unwrap_or_default(),
        contract: contract.reference.clone(),
        zone: contract.zone_name.clone(),
        period: month.to_owned(),
        as_of: local(s.as_of),
        tickets: s.tickets,
        figures,
        lines,
        waived: cost(total.map_or(0, |t| t.waived_minor)),
        uncapped: cost(total.map_or(0, |t| t.uncapped_minor)),
        cap: total
            .and_then(|t| t.cap_minor)
            .map_or_else(|| w.t("staff-statement-no-cap"), cost),
        total: cost(total.map_or(0, |t| t.total_minor)),
        csv_href: format!(
            "/api/v1/staff/sla/statement?contract={}&from={}&until={}&format=csv",
            contract.id.0,
            encode(&from),
            encode(&until)
        ),
    }
}

/// Percent-encodes the `+` and `:` of an RFC 3339 time for a query string.
fn encode(raw: &str) -> String {
    raw.replace(':', "%3A").replace('+', "%2B")
}

pub async fn page(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Query(params): Query<StatementParams>,
) -> Response {
    let w = Words::new(language);
    let catalog = state.catalog();
    let Some(j) = catalog.jurisdiction(&session.jurisdiction).cloned() else {
        return ApiError::NotFound.into_response();
    };
    let chosen = params
        .contract
        .as_deref()
        .and_then(|c| Uuid::parse_str(c).ok())
        .and_then(|id| catalog.contract(ContractId(id)).cloned())
        .filter(|c| c.jurisdiction == session.jurisdiction);
    let month = params
        .month
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| this_month(Some(&j)));
    let mut contracts: Vec<Choice> = catalog
        .router()
        .contracts()
        .iter()
        .filter(|c| c.jurisdiction == session.jurisdiction)
        .map(|c| Choice {
            value: c.id.0.to_string(),
            label: format!(
                "{} — {} ({})",
                catalog
                    .operator(c.operator)
                    .map(|o| o.operator.name.as_str())
                    .unwrap_or_default(),
                c.reference,
                c.zone_name
            ),
            selected: chosen.as_ref().is_some_and(|k| k.id == c.id),
        })
        .collect();
    contracts.sort_by(|a, b| a.label.cmp(&b.label));
    drop(catalog);
    let (mut shown, mut error, mut status) = (None, None, StatusCode::OK);
    if params.contract.is_some() {
        match (&chosen, month_bounds(&j, &month)) {
            (None, _) => return ApiError::NotFound.into_response(),
            (Some(_), None) => {
                let field = FieldError::new("month", "must be a month, YYYY-MM");
                error = Some(super::refusal(w, &ApiError::InvalidParameter(field)));
                status = StatusCode::UNPROCESSABLE_ENTITY;
            }
            (Some(contract), Some((from, until))) => {
                match build(&state, StatementScope::Contract(contract.id), from, until).await {
                    Ok(s) => shown = Some(show(&state, w, &j, contract, &month, &s)),
                    Err(e) => return ApiError::from(e).into_response(),
                }
            }
        }
    }
    let path = match &chosen {
        Some(c) => format!("/staff/statement?contract={}&month={month}", c.id.0),
        None => "/staff/statement".to_owned(),
    };
    let page = StatementPage {
        w,
        assets: super::script_assets(),
        shell: Shell::new(&session, w, Area::Statement, &path),
        lang: language.code(),
        commune: j.name.clone(),
        contracts,
        month,
        shown,
        error,
    };
    respond(status, &page)
}
