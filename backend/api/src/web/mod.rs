//! Server-rendered pages.
//!
//! - Operator agents (`/operator/…`): log in, the queue sorted by due time (filters, cursor
//!   paging), a ticket with its photos, map and history, and every action the API allows an
//!   agent, in French, Arabic and English. Works without JavaScript except the map; forms
//!   carry the session's CSRF token; works on a modest laptop and a tablet.
//! - The public transparency page (`/transparency`) and the staff dashboard
//!   (`/staff/dashboard`): French, Arabic (right to left) and English; charts and maps drawn
//!   by one script of ours and vendored uPlot and Leaflet, all served from `/assets` (no
//!   CDN, no inline script: `script-src 'self'`).
//! - The staff back office (`/staff/triage`, `/staff/reports/{id}`, `/staff/intake`,
//!   `/staff/notices`; see `staff/`): askama templates and Fluent words, same login and CSP
//!   as the dashboard.

mod assets;
mod dashboard;
mod form;
mod html;
mod i18n;
mod operator;
mod public;
mod resident;
pub mod screen;
mod session;
mod staff;
// Used by the pages as they move to templates, one area at a time.
#[allow(dead_code, unused_imports)]
pub mod templates;

use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

/// Operator pages answer with their own CSP (naming the map tiles' and photos' hosts);
/// this one covers the rest (redirects, problem documents).
const OPERATOR_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// Public and staff pages run our own scripts only (no inline script, no eval).
const PAGES_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn operator_routes(photo_body_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/operator", get(operator::home))
        .route(
            "/operator/login",
            get(operator::login_page).post(operator::login),
        )
        .route("/operator/logout", post(operator::logout))
        .route("/operator/queue", get(operator::queue))
        .route("/operator/tickets/{id}", get(operator::ticket))
        .route(
            "/operator/tickets/{id}/{action}",
            post(operator::ticket_action),
        )
        // The resolution carries a photo from the tablet's camera.
        .route(
            "/operator/tickets/{id}/resolve",
            post(operator::resolve).layer(DefaultBodyLimit::max(photo_body_limit)),
        )
        // Pages load nothing from elsewhere and may not be framed.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(OPERATOR_CSP),
        ))
}

fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/transparency", get(public::transparency))
        .route("/transparency/monthly.csv", get(public::monthly_csv))
        .route("/staff", get(dashboard::home))
        .route(
            "/staff/login",
            get(dashboard::login_form).post(dashboard::login),
        )
        .route("/staff/logout", post(dashboard::logout))
        .route("/staff/dashboard", get(dashboard::dashboard))
        .route("/staff/dashboard.csv", get(dashboard::dashboard_csv))
        .route("/screens/{token}", get(screen::page))
        .merge(staff::routes())
        // A page showing photos or map tiles sets its own policy naming their origins.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGES_CSP),
        ))
}

/// The pages; `photo_body_limit` bounds a form carrying a photo.
pub fn routes(photo_body_limit: usize) -> Router<AppState> {
    let pages = operator_routes(photo_body_limit)
        .merge(page_routes())
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    // Static files: cached for a year (their URLs carry a content hash).
    let static_files = Router::new()
        .route("/assets/{name}", get(assets::serve))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ));
    pages.merge(static_files).merge(
        resident::routes()
            .layer(SetResponseHeaderLayer::overriding(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            )),
    )
}

/// `page` with `Retry-After` (a login form refused by the throttle: browsers and scripts
/// alike learn when to come back).
fn with_retry_after(mut page: axum::response::Response, seconds: u64) -> axum::response::Response {
    page.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    page
}
