//! The commune staff's back office (issue 19): the triage queue, a report's page (route,
//! duplicate, dismiss, priority, moderation, comments, history with names), the counter and
//! phone intake with its printable receipt, and service notices drawn on a map. Askama
//! templates under `templates/staff/`, words in `staff.ftl` (fr, ar, en), forms carrying
//! the session's CSRF token; the one script (`staff.js`) only draws the notice map and
//! prints receipts, every action works without it.

mod disputes;
mod intake;
mod keys;
mod notices;
mod place;
mod report;
mod sla;
mod sla_form;
mod statement;
mod triage;
mod users;
mod webhooks;

use super::assets;
use super::dashboard::StaffSession;
use super::templates::{Assets, Words};
use crate::auth::principal::{StaffCaller, constant_time_eq};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use balagh_app::Catalog;
use balagh_domain::account::Role;
use balagh_domain::{Language, ReportStatus};
use balagh_store::{StoredReport, Ts};
use std::sync::OnceLock;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/triage", get(triage::page))
        .route("/staff/reports/{id}", get(report::page))
        .route("/staff/reports/{id}/receipt", get(intake::receipt))
        .route("/staff/reports/{id}/{action}", post(report::act))
        .route("/staff/intake", get(intake::form).post(intake::submit))
        .route("/staff/notices", get(notices::page).post(notices::publish))
        .route("/staff/notices/{id}/end", post(notices::end))
        .route("/staff/disputes", get(disputes::page))
        .route("/staff/disputes/{id}/{decision}", post(disputes::decide))
        .route("/staff/statement", get(statement::page))
        .route("/staff/sla", get(sla::page))
        .route("/staff/sla/calendar", post(sla::save_calendar))
        .route("/staff/sla/contracts/{id}/policies", post(sla::add_policy))
        .route("/staff/open311-keys", get(keys::page).post(keys::create))
        .route("/staff/open311-keys/{id}/revoke", post(keys::revoke))
        .route("/staff/users", get(users::page).post(users::create))
        .route("/staff/users/{id}/active", post(users::set_active))
        .route("/staff/webhooks", get(webhooks::page))
        .route(
            "/staff/webhooks/{operator}/{id}/retry",
            post(webhooks::retry),
        )
}

/// Which page of the back office is shown (its navigation link is marked current).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Triage,
    Intake,
    Notices,
    Disputes,
    Statement,
    Sla,
    Keys,
    Users,
    Webhooks,
    /// The dashboard (its own page, not drawn with this shell).
    Dashboard,
    Other,
}

#[derive(Debug, Clone)]
pub struct Link {
    pub href: String,
    pub label: String,
    pub current: bool,
}

#[derive(Debug, Clone)]
pub struct LanguageLink {
    pub href: String,
    pub code: &'static str,
    pub name: &'static str,
    pub current: bool,
}

/// What every back-office page shows around its content: navigation, who is logged in,
/// the log-out form and the language links.
#[derive(Debug, Clone)]
pub struct Shell {
    pub user: String,
    pub csrf: String,
    pub nav: Vec<Link>,
    pub languages: Vec<LanguageLink>,
}

impl Shell {
    /// `path` is the page's own path with its query (without `lang`), for the language links.
    pub fn new(session: &StaffSession, w: Words, area: Area, path: &str) -> Self {
        let code = w.language.code();
        let link = |href: &str, id: &str, this: Area| Link {
            href: format!("{href}?lang={code}"),
            label: w.t(id),
            current: this == area,
        };
        let mut nav = vec![
            link("/staff/triage", "staff-nav-triage", Area::Triage),
            link("/staff/intake", "staff-nav-intake", Area::Intake),
            link("/staff/notices", "staff-nav-notices", Area::Notices),
            link("/staff/disputes", "staff-nav-disputes", Area::Disputes),
            link("/staff/statement", "staff-nav-statement", Area::Statement),
            link("/staff/sla", "staff-nav-sla", Area::Sla),
        ];
        if session.user.grant.role() == Role::StaffAdmin {
            nav.push(link("/staff/open311-keys", "staff-nav-keys", Area::Keys));
            nav.push(link("/staff/users", "staff-nav-users", Area::Users));
        }
        if writer(session).is_ok() {
            nav.push(link(
                "/staff/webhooks",
                "staff-nav-webhooks",
                Area::Webhooks,
            ));
        }
        nav.push(link(
            "/staff/dashboard",
            "staff-nav-dashboard",
            Area::Dashboard,
        ));
        let sep = if path.contains('?') { '&' } else { '?' };
        let languages = Language::ALL
            .into_iter()
            .map(|l| LanguageLink {
                href: format!("{path}{sep}lang={}", l.code()),
                code: l.code(),
                name: own_name(l),
                current: l == w.language,
            })
            .collect();
        Self {
            user: session.user.display_name.clone(),
            csrf: session.csrf_token.clone(),
            nav,
            languages,
        }
    }
}

fn own_name(language: Language) -> &'static str {
    match language {
        Language::Fr => "Français",
        Language::Ar => "العربية",
        Language::En => "English",
    }
}

fn leak(url: String) -> &'static str {
    Box::leak(url.into_boxed_str())
}

/// Stylesheets of every back-office page.
pub fn plain_assets() -> Assets {
    static STYLES: OnceLock<[&'static str; 2]> = OnceLock::new();
    let styles = STYLES.get_or_init(|| {
        [
            leak(assets::url("pages.css")),
            leak(assets::url("staff.css")),
        ]
    });
    Assets {
        stylesheets: styles,
        scripts: &[],
    }
}

/// Stylesheets and scripts of pages with a map or a print button.
pub fn script_assets() -> Assets {
    static STYLES: OnceLock<[&'static str; 3]> = OnceLock::new();
    static SCRIPTS: OnceLock<[&'static str; 2]> = OnceLock::new();
    let styles = STYLES.get_or_init(|| {
        [
            leak(assets::url("leaflet.css")),
            leak(assets::url("pages.css")),
            leak(assets::url("staff.css")),
        ]
    });
    let scripts = SCRIPTS.get_or_init(|| {
        [
            leak(assets::url("leaflet.js")),
            leak(assets::url("staff.js")),
        ]
    });
    Assets {
        stylesheets: styles,
        scripts,
    }
}

/// A rendered page, varying with the language the browser asks for.
pub fn respond(status: StatusCode, page: &impl askama::Template) -> Response {
    let mut response = super::templates::render(status, page);
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    response
}

/// Staff who may change reports (analysts only read).
pub fn writer(session: &StaffSession) -> Result<StaffCaller, ApiError> {
    if matches!(
        session.user.grant.role(),
        Role::StaffAdmin | Role::StaffAgent
    ) {
        Ok(StaffCaller {
            user: session.user.clone(),
            jurisdiction: session.jurisdiction.clone(),
        })
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Staff administrators only (keys, users, the SLA calendar and policies).
pub fn admin(session: &StaffSession) -> Result<StaffCaller, ApiError> {
    if session.user.grant.role() == Role::StaffAdmin {
        Ok(StaffCaller {
            user: session.user.clone(),
            jurisdiction: session.jurisdiction.clone(),
        })
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The message shown above a form the API refused.
pub fn refusal(w: Words, error: &ApiError) -> String {
    match error {
        ApiError::Validation(errors) => {
            let fields: Vec<String> = errors.iter().map(ToString::to_string).collect();
            w.t1("staff-error-invalid", "detail", fields.join("; "))
        }
        ApiError::InvalidParameter(error) => {
            w.t1("staff-error-invalid", "detail", error.to_string())
        }
        ApiError::Conflict(detail) => w.t1("staff-error-invalid", "detail", (*detail).to_owned()),
        _ => w.t("staff-error-other"),
    }
}

/// A form's CSRF token must be the session's.
pub fn check_csrf(session: &StaffSession, token: &str) -> Result<(), ApiError> {
    if constant_time_eq(token.as_bytes(), session.csrf_token.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::CsrfMismatch)
    }
}

/// After a change: back to a page (303, so reloading does not post again).
pub fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

pub fn service_name(catalog: &Catalog, report: &StoredReport, language: Language) -> String {
    catalog
        .service(&report.jurisdiction, &report.service_code)
        .map(|s| s.name.get(language).to_owned())
        .unwrap_or_else(|| report.service_code.to_string())
}

pub fn local_time(catalog: &Catalog, report: &StoredReport, at: Ts) -> String {
    catalog
        .jurisdiction(&report.jurisdiction)
        .map(|j| j.local_time(at.get()))
        .unwrap_or_else(|| at.get().to_string())
}

pub fn status_word(w: Words, status: ReportStatus) -> String {
    w.t(&format!(
        "staff-status-{}",
        status.as_str().replace('_', "-")
    ))
}
