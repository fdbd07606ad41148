//! The operator agent's console: log in, the queue (filters, cursor paging), a ticket
//! (photos, map, history with people's names) and every action the API allows an agent,
//! in French, Arabic and English. Works without JavaScript except the map.

pub(crate) mod page;
mod people;
mod queue;
mod ticket;
mod work;

pub use queue::queue;
pub use ticket::ticket;
pub use work::{resolve, ticket_action};

use super::form::WebForm;
use super::i18n::PageLanguage;
use super::session::OperatorSession;
use super::templates::{Assets, Words};
use crate::problem::ApiError;
use crate::routes::accounts::{ClientAddress, start_session};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use page::{Chrome, page_assets, respond};
use serde::Deserialize;

/// `?lang=xx` when the request chose a language (else the next page negotiates it again
/// from `Accept-Language`).
fn chosen_language(uri: &Uri) -> String {
    super::i18n::query_language(uri.query())
        .map(|l| format!("?lang={}", l.code()))
        .unwrap_or_default()
}

pub async fn home(uri: Uri) -> Redirect {
    Redirect::to(&format!("/operator/queue{}", chosen_language(&uri)))
}

#[derive(Template)]
#[template(path = "operator/login.html")]
struct LoginPage {
    w: Words,
    assets: Assets,
    chrome: Chrome,
    error: Option<String>,
}

fn login_page_with(uri: &Uri, w: Words, status: StatusCode, error: Option<String>) -> Response {
    let page = LoginPage {
        w,
        assets: page_assets(false),
        chrome: Chrome::new(uri, w.language, None),
        error,
    };
    respond(status, &page, &[])
}

pub async fn login_page(PageLanguage(language): PageLanguage, uri: Uri) -> Response {
    login_page_with(&uri, Words::new(language), StatusCode::OK, None)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    uri: Uri,
    ClientAddress(address): ClientAddress,
    WebForm(form): WebForm<LoginForm>,
) -> Response {
    let w = Words::new(language);
    match start_session(&state, &address, &form.email, &form.password).await {
        Ok(session) => match session.cookie(&state) {
            Ok(cookie) => {
                let to = format!("/operator/queue{}", chosen_language(&uri));
                let mut response = Redirect::to(&to).into_response();
                response.headers_mut().insert(header::SET_COOKIE, cookie);
                response
            }
            Err(e) => e.into_response(),
        },
        Err(ApiError::BadCredentials) => {
            login_page_with(&uri, w, StatusCode::UNAUTHORIZED, Some(w.t("op-login-bad")))
        }
        Err(ApiError::TooManyRequests {
            retry_after_seconds,
        }) => super::with_retry_after(
            login_page_with(
                &uri,
                w,
                StatusCode::TOO_MANY_REQUESTS,
                Some(w.t1(
                    "op-login-throttled",
                    "minutes",
                    retry_after_seconds.div_ceil(60),
                )),
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

/// Ends the session (with its CSRF token, like every form that changes something).
pub async fn logout(
    State(state): State<AppState>,
    session: OperatorSession,
    parts: Parts,
    WebForm(form): WebForm<LogoutForm>,
) -> Response {
    let to = format!("/operator/login{}", chosen_language(&parts.uri));
    let (form_token, session_token) = (&form.csrf_token, &session.csrf_token);
    super::session::end_session(&state, &parts, form_token, session_token, &to).await
}
