//! The commune staff's dashboard (login; roles `staff_admin`, `staff_agent`,
//! `staff_analyst`): SLA compliance by operator and week, resolution percentiles, backlog
//! ageing, reopen rate, a map of open reports and hot spots, filters and CSV downloads.
//! Figures come from the statistics module's staff dashboard (unsuppressed: the commune's
//! own data); the period's new reports, the backlog, open late reports and the map's open
//! reports are read live from the store, the other figures say how far the roll-ups got.
//! Here: the session and login; `data.rs` reads, `page.rs` renders, `csv.rs` downloads.

use super::assets;
use super::form::WebForm;
use super::html::{Frame, esc, frame};
use super::i18n::{self, PageLanguage};
use super::public::site_header;
use crate::auth::principal::session_cookie;
use crate::auth::secrets;
use crate::problem::ApiError;
use crate::routes::accounts::{ClientAddress, start_session};
use crate::state::AppState;
use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use balagh_domain::account::{Role, Scope, User};
use balagh_domain::{JurisdictionId, Language};
use balagh_store::Ts;
use serde::Deserialize;

mod csv;
mod data;
mod page;

pub use csv::dashboard_csv;
pub use page::dashboard;

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
    let (form_token, session_token) = (&form.csrf_token, &session.csrf_token);
    super::session::end_session(&state, &parts, form_token, session_token, "/staff/login").await
}

pub async fn home() -> Redirect {
    Redirect::to("/staff/dashboard")
}
