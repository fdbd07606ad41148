//! The commune staff's dashboard (login; roles `staff_admin`, `staff_agent`,
//! `staff_analyst`): SLA compliance by operator and week, resolution percentiles, backlog
//! ageing, reopen rate, a map of open reports and hot spots, filters and CSV downloads.
//! Figures come from the statistics module's staff dashboard (unlagged, unsuppressed: the
//! commune's own data), open reports from the store.

use super::assets;
use super::form::WebForm;
use super::html::{Frame, esc, frame};
use super::i18n::{self, PageLanguage, Tr};
use super::public::{data_block, multipolygon_json, round6, service_name, site_header};
use crate::auth::principal::{constant_time_eq, session_cookie};
use crate::auth::secrets;
use crate::problem::ApiError;
use crate::routes::accounts::{ClientAddress, start_session};
use crate::state::AppState;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use balagh_app::stats::{self, Context};
use balagh_domain::account::{Role, Scope, User};
use balagh_domain::{JurisdictionId, Language, OperatorId, ReportStatus};
use balagh_store::{TriageQuery, Ts};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;
use time::Date;

/// Longest period the dashboard covers at once.
const MAX_DAYS: i64 = 366;
/// Default period: the last 90 days.
const DEFAULT_DAYS: i64 = 90;
/// Open reports drawn on the map at most.
const MAX_POINTS: u32 = 1000;

/// A logged-in staff member of a commune.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub user: User,
    pub jurisdiction: JurisdictionId,
    pub csrf_token: String,
}

fn is_staff(role: Role) -> bool {
    matches!(
        role,
        Role::StaffAdmin | Role::StaffAgent | Role::StaffAnalyst
    )
}

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = i18n::query_language(parts.uri.query());
        let to_login = || {
            let target = match lang {
                Some(l) => format!("/staff/login?lang={}", l.code()),
                None => "/staff/login".to_owned(),
            };
            Redirect::to(&target).into_response()
        };
        let cookie = session_cookie(parts).ok_or_else(to_login)?;
        let found = state
            .store()
            .session_user(&secrets::hash(cookie), Ts::now())
            .await
            .map_err(|e| ApiError::from(e).into_response())?;
        let (user, csrf_token) = found.ok_or_else(to_login)?;
        match user.grant.scope() {
            Scope::Jurisdiction(j) if is_staff(user.grant.role()) => Ok(Self {
                jurisdiction: j.clone(),
                user,
                csrf_token,
            }),
            _ => Err(ApiError::Forbidden.into_response()),
        }
    }
}

fn styles() -> Vec<String> {
    vec![
        assets::url("uPlot.min.css"),
        assets::url("leaflet.css"),
        assets::url("pages.css"),
    ]
}

fn scripts() -> Vec<String> {
    vec![
        assets::url("uPlot.iife.min.js"),
        assets::url("leaflet.js"),
        assets::url("pages.js"),
    ]
}

fn staff_page(
    status: StatusCode,
    language: Language,
    title: &str,
    header: &str,
    body: &str,
    with_scripts: bool,
) -> Response {
    let styles = styles();
    let scripts = if with_scripts { scripts() } else { Vec::new() };
    let styles: Vec<&str> = styles.iter().map(String::as_str).collect();
    let scripts: Vec<&str> = scripts.iter().map(String::as_str).collect();
    let mut response = frame(
        status,
        &Frame {
            language,
            title,
            header,
            body,
            stylesheets: &styles,
            scripts: &scripts,
            skip_link: Some(i18n::SKIP.get(language)),
        },
    );
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    response
}

// --- log in and out ----------------------------------------------------------------------

fn login_body(language: Language, error: Option<&str>) -> String {
    let l = language;
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, esc(e)))
        .unwrap_or_default();
    format!(
        r#"<section class="card login"><h1>{title}</h1>{error}
<form method="post" action="/staff/login?lang={code}">
<div class="field"><label for="email">{email}</label><input id="email" name="email" type="email" autocomplete="username" required></div>
<div class="field"><label for="password">{password}</label><input id="password" name="password" type="password" autocomplete="current-password" required></div>
<p><button type="submit">{log_in}</button></p>
</form></section>"#,
        title = esc(i18n::STAFF_LOGIN.get(l)),
        code = l.code(),
        email = esc(i18n::EMAIL.get(l)),
        password = esc(i18n::PASSWORD.get(l)),
        log_in = esc(i18n::LOG_IN.get(l)),
    )
}

fn login_page(status: StatusCode, language: Language, error: Option<&str>) -> Response {
    let header = site_header(language, "/transparency", "/staff/login", "", "");
    staff_page(
        status,
        language,
        i18n::STAFF_LOGIN.get(language),
        &header,
        &login_body(language, error),
        false,
    )
}

pub async fn login_form(PageLanguage(language): PageLanguage) -> Response {
    login_page(StatusCode::OK, language, None)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    ClientAddress(address): ClientAddress,
    WebForm(form): WebForm<LoginForm>,
) -> Response {
    match start_session(&state, &address, &form.email, &form.password).await {
        Ok(session) => {
            let staff = matches!(session.user.grant.scope(), Scope::Jurisdiction(_))
                && is_staff(session.user.grant.role());
            match session.cookie(&state) {
                Ok(cookie) => {
                    let target = if staff {
                        format!("/staff/dashboard?lang={}", language.code())
                    } else {
                        // Operators have their own pages.
                        "/operator/queue".to_owned()
                    };
                    let mut response = Redirect::to(&target).into_response();
                    response.headers_mut().insert(header::SET_COOKIE, cookie);
                    response
                }
                Err(e) => e.into_response(),
            }
        }
        Err(ApiError::BadCredentials) => login_page(
            StatusCode::UNAUTHORIZED,
            language,
            Some(i18n::BAD_LOGIN.get(language)),
        ),
        Err(ApiError::TooManyRequests {
            retry_after_seconds,
        }) => crate::web::with_retry_after(
            login_page(
                StatusCode::TOO_MANY_REQUESTS,
                language,
                Some(i18n::TOO_MANY.get(language)),
            ),
            retry_after_seconds,
        ),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf_token: String,
}

pub async fn logout(
    State(state): State<AppState>,
    session: StaffSession,
    parts: Parts,
    WebForm(form): WebForm<LogoutForm>,
) -> Response {
    if !constant_time_eq(form.csrf_token.as_bytes(), session.csrf_token.as_bytes()) {
        return ApiError::CsrfMismatch.into_response();
    }
    if let Some(cookie) = session_cookie(&parts) {
        let _ = state.store().delete_session(&secrets::hash(cookie)).await;
    }
    let mut response = Redirect::to("/staff/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("balagh_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    response
}

pub async fn home() -> Redirect {
    Redirect::to("/staff/dashboard")
}

// --- filters -----------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    from: Option<String>,
    to: Option<String>,
    service: Option<String>,
    operator: Option<String>,
    /// CSV downloads: `compliance`, `resolution` or `backlog`.
    table: Option<String>,
}

/// Checked filters.
#[derive(Debug, Clone)]
struct Filters {
    from: Date,
    to: Date,
    service: Option<String>,
    operator: Option<(String, OperatorId)>,
}

impl Filters {
    fn parse(ctx: &Context, q: &DashboardQuery) -> Result<Self, String> {
        let nonempty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let today = balagh_domain::stats::local_day(time::OffsetDateTime::now_utc(), &ctx.tz);
        let to = match nonempty(&q.to) {
            Some(raw) => stats::parse_date("to", &raw).map_err(|e| e.to_string())?,
            None => today,
        };
        let from = match nonempty(&q.from) {
            Some(raw) => stats::parse_date("from", &raw).map_err(|e| e.to_string())?,
            None => to - time::Duration::days(DEFAULT_DAYS - 1),
        };
        if from > to {
            return Err("from: must not be after to".into());
        }
        if (to - from).whole_days() >= MAX_DAYS {
            return Err(format!("from: at most {MAX_DAYS} days"));
        }
        let service = match nonempty(&q.service) {
            Some(s) if ctx.services.iter().any(|x| x.code.as_str() == s) => Some(s),
            Some(_) => return Err("service: unknown service".into()),
            None => None,
        };
        let operator = match nonempty(&q.operator) {
            Some(slug) => {
                let found = ctx
                    .catalog
                    .operators_of(&ctx.jurisdiction.id)
                    .find(|o| o.operator.slug.as_str() == slug)
                    .map(|o| o.operator.id)
                    .ok_or_else(|| "operator: unknown operator".to_owned())?;
                Some((slug, found))
            }
            None => None,
        };
        Ok(Self {
            from,
            to,
            service,
            operator,
        })
    }

    /// The query string of these filters (without `lang`).
    fn query(&self) -> String {
        let mut q = format!("from={}&to={}", self.from, self.to);
        if let Some(s) = &self.service {
            let _ = write!(q, "&service={s}");
        }
        if let Some((o, _)) = &self.operator {
            let _ = write!(q, "&operator={o}");
        }
        q
    }
}

fn operator_name(ctx: &Context, slug: &str) -> String {
    ctx.catalog
        .operators_of(&ctx.jurisdiction.id)
        .find(|o| o.operator.slug.as_str() == slug)
        .map(|o| o.operator.name.clone())
        .unwrap_or_else(|| slug.to_owned())
}

fn minutes(language: Language, v: &Value) -> String {
    v.as_u64()
        .map(|m| i18n::duration(language, m))
        .unwrap_or_else(|| "–".into())
}

fn share(v: &Value) -> String {
    v.as_f64().map(i18n::percent).unwrap_or_else(|| "–".into())
}

/// Weekly compliance per operator, summed over services: week → operator → (new,
/// resolved, breached).
fn weekly(data: &Value) -> BTreeMap<String, BTreeMap<String, (u64, u64, u64)>> {
    let mut out: BTreeMap<String, BTreeMap<String, (u64, u64, u64)>> = BTreeMap::new();
    for r in data["sla_compliance_by_week"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let week = r["week"].as_str().unwrap_or_default().to_owned();
        let operator = r["operator"].as_str().unwrap_or_default().to_owned();
        let e = out.entry(week).or_default().entry(operator).or_default();
        e.0 += r["new"].as_u64().unwrap_or(0);
        e.1 += r["resolved"].as_u64().unwrap_or(0);
        e.2 += r["breached"].as_u64().unwrap_or(0);
    }
    out
}

fn within(resolved: u64, breached: u64) -> Option<f64> {
    // Per week: the reports resolved that week (open late ones count in the overview).
    balagh_domain::stats::within_sla_share(resolved, breached, 0)
}

const AGES: [(&str, &str); 5] = [
    ("days_0_1", "0–1"),
    ("days_1_3", "1–3"),
    ("days_3_7", "3–7"),
    ("days_7_30", "7–30"),
    ("days_over_30", "> 30"),
];

async fn load(
    state: &AppState,
    session: &StaffSession,
    q: &DashboardQuery,
) -> Result<Result<(Context, Filters, Value), String>, ApiError> {
    let Some(ctx) = Context::new(state, Some(session.jurisdiction.as_str())) else {
        return Err(ApiError::NotFound);
    };
    let filters = match Filters::parse(&ctx, q) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let data = stats::dashboard(
        state,
        &ctx,
        filters.from,
        filters.to,
        filters.service.as_deref(),
        filters.operator.as_ref().map(|(_, id)| *id),
    )
    .await?;
    Ok(Ok((ctx, filters, data)))
}

fn h(language: Language, t: Tr) -> String {
    esc(t.get(language))
}

pub async fn dashboard(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let l = language;
    let logout = format!(
        r#"<span class="who">{}</span><form method="post" action="/staff/logout"><input type="hidden" name="csrf_token" value="{}"><button type="submit">{}</button></form>"#,
        esc(&session.user.display_name),
        esc(&session.csrf_token),
        h(l, i18n::LOG_OUT),
    );
    let (ctx, filters, data) = match load(&state, &session, &q).await {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(message)) => {
            let header = site_header(l, "/staff/dashboard", "/staff/dashboard", "", &logout);
            let body = format!(
                r#"<h1>{}</h1><p class="error" role="alert">{} — {}</p><p><a href="/staff/dashboard?lang={}">{}</a></p>"#,
                h(l, i18n::DASHBOARD),
                h(l, i18n::BAD_FILTER),
                esc(&message),
                l.code(),
                h(l, i18n::DASHBOARD),
            );
            return staff_page(
                StatusCode::BAD_REQUEST,
                l,
                i18n::DASHBOARD.get(l),
                &header,
                &body,
                false,
            );
        }
        Err(e) => return e.into_response(),
    };
    let query = filters.query();
    let header = site_header(
        l,
        &format!("/staff/dashboard?lang={}", l.code()),
        "/staff/dashboard",
        &query,
        &logout,
    );

    // Filters form.
    let mut service_options = format!(r#"<option value="">{}</option>"#, h(l, i18n::ALL_SERVICES));
    for s in &ctx.services {
        let code = s.code.as_str();
        let selected = if filters.service.as_deref() == Some(code) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            service_options,
            r#"<option value="{}"{selected}>{}</option>"#,
            esc(code),
            esc(s.name.get(l))
        );
    }
    let mut operators: Vec<(String, String)> = ctx
        .catalog
        .operators_of(&ctx.jurisdiction.id)
        .map(|o| (o.operator.slug.as_str().to_owned(), o.operator.name.clone()))
        .collect();
    operators.sort();
    let mut operator_options =
        format!(r#"<option value="">{}</option>"#, h(l, i18n::ALL_OPERATORS));
    for (slug, name) in &operators {
        let selected = if filters.operator.as_ref().map(|(s, _)| s.as_str()) == Some(slug.as_str())
        {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            operator_options,
            r#"<option value="{}"{selected}>{}</option>"#,
            esc(slug),
            esc(name)
        );
    }
    let filters_html = format!(
        r#"<section class="card" aria-labelledby="filters-title"><h2 id="filters-title">{filters_title}</h2>
<form class="filters" id="filters" method="get" action="/staff/dashboard">
<input type="hidden" name="lang" value="{code}">
<div><label for="from">{from_label}</label><input id="from" name="from" type="date" value="{from}" required></div>
<div><label for="to">{to_label}</label><input id="to" name="to" type="date" value="{to}" required></div>
<div><label for="service">{service_label}</label><select id="service" name="service">{service_options}</select></div>
<div><label for="operator">{operator_label}</label><select id="operator" name="operator">{operator_options}</select></div>
<div><button type="submit">{apply}</button></div>
</form></section>"#,
        filters_title = h(l, i18n::FILTERS),
        code = l.code(),
        from_label = h(l, i18n::FROM),
        to_label = h(l, i18n::TO),
        from = filters.from,
        to = filters.to,
        service_label = h(l, i18n::SERVICE),
        operator_label = h(l, i18n::OPERATOR),
        apply = h(l, i18n::APPLY),
    );

    // Overview.
    let overall = &data["overall"];
    let kpi = |id: &str, label: Tr, value: String| {
        format!(
            r#"<div><dt>{}</dt><dd id="{id}"><span dir="ltr">{}</span></dd></div>"#,
            h(l, label),
            esc(&value)
        )
    };
    let overview = format!(
        r#"<section class="card" aria-labelledby="overview-title"><h2 id="overview-title">{} <small>({} – {})</small></h2><dl class="kpis">{}{}{}{}{}{}</dl></section>"#,
        h(l, i18n::OVERALL),
        filters.from,
        filters.to,
        kpi(
            "kpi-new",
            i18n::NEW,
            overall["new"].as_u64().unwrap_or(0).to_string()
        ),
        kpi(
            "kpi-resolved",
            i18n::RESOLVED,
            overall["resolved"].as_u64().unwrap_or(0).to_string()
        ),
        kpi(
            "kpi-within-sla",
            i18n::WITHIN_SLA,
            share(&overall["within_sla"])
        ),
        kpi(
            "kpi-reopen-rate",
            i18n::REOPEN_RATE,
            share(&overall["reopen_rate"])
        ),
        kpi(
            "kpi-p50",
            i18n::P50,
            minutes(l, &overall["resolve"]["p50_minutes"])
        ),
        kpi(
            "kpi-p90",
            i18n::P90,
            minutes(l, &overall["resolve"]["p90_minutes"])
        ),
    );

    // SLA compliance by week and operator.
    let weeks = weekly(&data);
    let week_labels: Vec<String> = weeks.keys().cloned().collect();
    let mut week_operators: Vec<String> = weeks
        .values()
        .flat_map(|m| m.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    week_operators.sort();
    let sla_series: Vec<Value> = week_operators
        .iter()
        .map(|o| {
            json!({
                "label": operator_name(&ctx, o),
                "values": week_labels.iter().map(|w| {
                    weeks[w].get(o).and_then(|(_, r, b)| within(*r, *b)).map(|s| (s * 1000.0).round() / 10.0)
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut week_rows = String::new();
    for (week, per) in &weeks {
        for (op, (new, resolved, breached)) in per {
            let _ = write!(
                week_rows,
                r#"<tr><th scope="row"><bdi dir="ltr">{}</bdi></th><td>{}</td><td class="num">{new}</td><td class="num">{resolved}</td><td class="num">{breached}</td><td class="num"><span dir="ltr">{}</span></td></tr>"#,
                esc(week),
                esc(&operator_name(&ctx, op)),
                within(*resolved, *breached)
                    .map(i18n::percent)
                    .unwrap_or_else(|| "–".into()),
            );
        }
    }
    if week_rows.is_empty() {
        let _ = write!(
            week_rows,
            r#"<tr><td colspan="6">{}</td></tr>"#,
            h(l, i18n::NO_DATA)
        );
    }
    let csv = |table: &str| format!("/staff/dashboard.csv?table={table}&amp;{}", esc(&query));
    let sla_html = format!(
        r#"<section class="card" aria-labelledby="sla-title"><h2 id="sla-title">{title}</h2>
<div class="chart" id="chart-sla" data-chart="sla" role="img" aria-label="{chart}"></div>
<details class="table-view" open><summary>{as_table}</summary>
<table id="sla-table"><thead><tr><th scope="col">{week}</th><th scope="col">{operator}</th><th scope="col" class="num">{new}</th><th scope="col" class="num">{resolved}</th><th scope="col" class="num">{breached}</th><th scope="col" class="num">{within}</th></tr></thead><tbody>{week_rows}</tbody></table></details>
<ul class="downloads"><li><a id="csv-compliance" href="{csv}" download>{download}</a></li></ul></section>"#,
        title = h(l, i18n::SLA_BY_WEEK),
        chart = h(l, i18n::SLA_CHART),
        as_table = h(l, i18n::DATA_AS_TABLE),
        week = h(l, i18n::WEEK),
        operator = h(l, i18n::OPERATOR),
        new = h(l, i18n::NEW),
        resolved = h(l, i18n::RESOLVED),
        breached = h(l, i18n::BREACHED),
        within = h(l, i18n::WITHIN_SLA),
        csv = csv("compliance"),
        download = h(l, i18n::DOWNLOAD_CSV),
    );

    // Resolution times by service.
    let resolution = data["resolution_by_service"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut resolution_rows = String::new();
    for r in &resolution {
        let code = r["service"].as_str().unwrap_or_default();
        let _ = write!(
            resolution_rows,
            r#"<tr><th scope="row">{}</th><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            esc(&service_name(&ctx, code, l)),
            r["resolve"]["count"].as_u64().unwrap_or(0),
            esc(&minutes(l, &r["resolve"]["p50_minutes"])),
            esc(&minutes(l, &r["resolve"]["p90_minutes"])),
        );
    }
    if resolution_rows.is_empty() {
        let _ = write!(
            resolution_rows,
            r#"<tr><td colspan="4">{}</td></tr>"#,
            h(l, i18n::NO_DATA)
        );
    }
    let hours = |v: &Value| v.as_u64().map(|m| (m as f64 / 6.0).round() / 10.0);
    let resolution_chart = json!({
        "kind": "bars",
        "x_label": i18n::SERVICE.get(l),
        "unit": format!(" {}", i18n::HOURS.get(l)),
        "labels": resolution.iter().map(|r| service_name(&ctx, r["service"].as_str().unwrap_or_default(), l)).collect::<Vec<_>>(),
        "series": [
            {"label": i18n::P50.get(l), "values": resolution.iter().map(|r| hours(&r["resolve"]["p50_minutes"])).collect::<Vec<_>>()},
            {"label": i18n::P90.get(l), "values": resolution.iter().map(|r| hours(&r["resolve"]["p90_minutes"])).collect::<Vec<_>>()},
        ],
    });
    let resolution_html = format!(
        r#"<section class="card" aria-labelledby="resolution-title"><h2 id="resolution-title">{title}</h2>
<div class="chart" id="chart-resolution" data-chart="resolution" role="img" aria-label="{title} (p50, p90)"></div>
<table id="resolution-table"><thead><tr><th scope="col">{service}</th><th scope="col" class="num">{resolved}</th><th scope="col" class="num">{p50}</th><th scope="col" class="num">{p90}</th></tr></thead><tbody>{resolution_rows}</tbody></table>
<ul class="downloads"><li><a id="csv-resolution" href="{csv}" download>{download}</a></li></ul></section>"#,
        title = h(l, i18n::RESOLUTION),
        service = h(l, i18n::SERVICE),
        resolved = h(l, i18n::RESOLVED),
        p50 = h(l, i18n::P50),
        p90 = h(l, i18n::P90),
        csv = csv("resolution"),
        download = h(l, i18n::DOWNLOAD_CSV),
    );

    // Backlog ageing.
    let aging = &data["backlog_aging"];
    let mut backlog_rows = String::new();
    for (key, label) in AGES {
        let _ = write!(
            backlog_rows,
            r#"<tr><th scope="row">{label}</th><td class="num" data-age="{key}">{}</td></tr>"#,
            aging[key].as_i64().unwrap_or(0)
        );
    }
    let backlog_chart = json!({
        "kind": "bars", "unit": "", "x_label": i18n::AGE.get(l),
        "labels": AGES.iter().map(|(_, label)| *label).collect::<Vec<_>>(),
        "series": [{"label": i18n::COUNT.get(l), "values": AGES.iter().map(|(key, _)| aging[*key].as_i64().unwrap_or(0)).collect::<Vec<_>>()}],
    });
    let backlog_html = format!(
        r#"<section class="card" aria-labelledby="backlog-title"><h2 id="backlog-title">{title}</h2>
<div class="chart" id="chart-backlog" data-chart="backlog" role="img" aria-label="{chart}"></div>
<table id="backlog-table"><thead><tr><th scope="col">{age}</th><th scope="col" class="num">{count}</th></tr></thead><tbody>{backlog_rows}</tbody></table>
<ul class="downloads"><li><a id="csv-backlog" href="{csv}" download>{download}</a></li></ul></section>"#,
        title = h(l, i18n::BACKLOG),
        chart = h(l, i18n::BACKLOG_CHART),
        age = h(l, i18n::AGE),
        count = h(l, i18n::COUNT),
        csv = csv("backlog"),
        download = h(l, i18n::DOWNLOAD_CSV),
    );

    // Map: hot spots (new reports per H3 cell in the period) and open reports.
    let (cells, points) = match map_layers(&state, &ctx, &filters).await {
        Ok(layers) => layers,
        Err(e) => return e.into_response(),
    };
    let map_html = format!(
        r#"<section class="card" aria-labelledby="map-title"><h2 id="map-title">{title}</h2><p class="note">{note}</p>
<p class="note">{cells_label} : <span id="map-cells">{n_cells}</span> · {open} : <span id="map-points">{n_points}</span></p>
<div class="map" id="staff-map" data-map="staff-map" role="region" aria-label="{aria}"></div>
<ul class="legend" id="map-legend" aria-label="{legend}"></ul></section>"#,
        title = h(l, i18n::STAFF_MAP),
        note = h(l, i18n::STAFF_MAP_NOTE),
        cells_label = h(l, i18n::CELLS_SHOWN),
        n_cells = cells.len(),
        n_points = points.len(),
        open = h(l, i18n::OPEN),
        aria = h(l, i18n::STAFF_MAP_LABEL),
        legend = h(l, i18n::LEGEND),
    );
    let page_data = json!({
        "charts": {
            "sla": {"kind": "lines", "unit": " %", "x_label": i18n::WEEK.get(l), "labels": week_labels, "series": sla_series},
            "resolution": resolution_chart,
            "backlog": backlog_chart,
        },
        "maps": {
            "staff-map": {
                "boundary": multipolygon_json(&ctx.jurisdiction.boundary),
                "cells": cells,
                "points": points,
                "counter": "map-cells",
                "legend": "map-legend",
                "words": {"points": i18n::OPEN.get(l)},
            },
        },
    });
    let body = format!(
        r#"<h1>{title}</h1>
{filters_html}{overview}{sla_html}<div class="columns">{resolution_html}{backlog_html}</div>{map_html}
{data}"#,
        title = h(l, i18n::DASHBOARD),
        data = data_block(&page_data),
    );
    staff_page(
        StatusCode::OK,
        l,
        i18n::DASHBOARD.get(l),
        &header,
        &body,
        true,
    )
}

/// Hot-spot cells (GeoJSON polygons with counts) and open report points `[lat, lon]`.
async fn map_layers(
    state: &AppState,
    ctx: &Context,
    filters: &Filters,
) -> Result<(Vec<Value>, Vec<Value>), ApiError> {
    let counts = state
        .stale_reads()
        .stats_cell_counts(
            ctx.jurisdiction.id.as_str(),
            filters.from.to_julian_day(),
            filters.to.to_julian_day(),
        )
        .await?;
    let mut per_cell: BTreeMap<i64, i64> = BTreeMap::new();
    for c in counts {
        if filters.service.as_deref().is_none_or(|s| s == c.service) {
            *per_cell.entry(c.cell).or_default() += c.new;
        }
    }
    let cells: Vec<Value> = per_cell
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .filter_map(|(cell, n)| {
            let index = h3o::CellIndex::try_from(u64::try_from(cell).ok()?).ok()?;
            let mut ring: Vec<Value> = index
                .boundary()
                .iter()
                .map(|ll| json!([round6(ll.lng()), round6(ll.lat())]))
                .collect();
            ring.push(ring.first()?.clone());
            Some(json!({
                "id": index.to_string(), "service": "", "count": n,
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }))
        })
        .collect();
    let open = state
        .stale_reads()
        .triage_queue(&TriageQuery {
            jurisdiction: ctx.jurisdiction.id.clone(),
            statuses: ReportStatus::OPEN.to_vec(),
            after: None,
            limit: MAX_POINTS,
            newest_first: false,
        })
        .await?;
    let points = open
        .iter()
        .filter(|r| {
            filters
                .service
                .as_deref()
                .is_none_or(|s| s == r.service_code.as_str())
                && filters
                    .operator
                    .as_ref()
                    .is_none_or(|(_, id)| r.operator == Some(*id))
        })
        .map(|r| json!([round5(r.point.lat()), round5(r.point.lon())]))
        .collect();
    Ok((cells, points))
}

fn round5(x: f64) -> f64 {
    (x * 1e5).round() / 1e5
}

/// The dashboard's tables as CSV, with the same filters.
pub async fn dashboard_csv(
    State(state): State<AppState>,
    session: StaffSession,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let (ctx, filters, data) = match load(&state, &session, &q).await {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(message)) => {
            return ApiError::InvalidParameter(balagh_domain::FieldError::new("query", message))
                .into_response();
        }
        Err(e) => return e.into_response(),
    };
    let table = q.table.as_deref().unwrap_or("compliance");
    let line = |fields: Vec<String>| stats::csv_line(&fields);
    let mut out = String::new();
    match table {
        "compliance" => {
            out.push_str(&line(
                [
                    "week",
                    "operator",
                    "service",
                    "new",
                    "resolved",
                    "breached",
                    "within_sla",
                ]
                .map(String::from)
                .to_vec(),
            ));
            for r in data["sla_compliance_by_week"]
                .as_array()
                .into_iter()
                .flatten()
            {
                out.push_str(&line(vec![
                    r["week"].as_str().unwrap_or_default().to_owned(),
                    r["operator"].as_str().unwrap_or_default().to_owned(),
                    r["service"].as_str().unwrap_or_default().to_owned(),
                    r["new"].to_string(),
                    r["resolved"].to_string(),
                    r["breached"].to_string(),
                    r["within_sla"]
                        .as_f64()
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                ]));
            }
        }
        "resolution" => {
            out.push_str(&line(
                [
                    "service",
                    "resolved",
                    "p50_minutes",
                    "p90_minutes",
                    "acknowledged",
                    "ack_p50_minutes",
                    "ack_p90_minutes",
                ]
                .map(String::from)
                .to_vec(),
            ));
            let n = |v: &Value| v.as_u64().map(|v| v.to_string()).unwrap_or_default();
            for r in data["resolution_by_service"]
                .as_array()
                .into_iter()
                .flatten()
            {
                out.push_str(&line(vec![
                    r["service"].as_str().unwrap_or_default().to_owned(),
                    n(&r["resolve"]["count"]),
                    n(&r["resolve"]["p50_minutes"]),
                    n(&r["resolve"]["p90_minutes"]),
                    n(&r["acknowledge"]["count"]),
                    n(&r["acknowledge"]["p50_minutes"]),
                    n(&r["acknowledge"]["p90_minutes"]),
                ]));
            }
        }
        "backlog" => {
            let mut head = vec!["service".to_owned(), "operator".to_owned()];
            head.extend(AGES.iter().map(|(k, _)| (*k).to_owned()));
            out.push_str(&line(head));
            for r in data["backlog_aging"]["by_service_and_operator"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let mut fields = vec![
                    r["service"].as_str().unwrap_or_default().to_owned(),
                    r["operator"].as_str().unwrap_or_default().to_owned(),
                ];
                fields.extend(AGES.iter().map(|(k, _)| r[*k].to_string()));
                out.push_str(&line(fields));
            }
        }
        _ => {
            return ApiError::InvalidParameter(balagh_domain::FieldError::new(
                "table",
                "must be compliance, resolution or backlog",
            ))
            .into_response();
        }
    }
    let _ = ctx;
    let filename = format!(
        "attachment; filename=\"balagh-{table}-{}-{}.csv\"",
        filters.from, filters.to
    );
    let disposition =
        HeaderValue::from_str(&filename).unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        out,
    )
        .into_response()
}
