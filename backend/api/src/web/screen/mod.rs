//! Screens in the commune's reception areas (issue 21): the page a kiosk browser opens at
//! `/screens/{token}` and the JSON it polls (`GET /api/v1/screens/{token}/content`, in
//! [`crate::routes::screens`]). The page shows, in turn and in large type, the notices near
//! the screen (an urgent one takes the whole screen), the state of its services from the
//! published figures, how to report (QR code, SMS, counter) and the time of the update; it
//! rotates the screen's languages, says honestly when its data is stale, and reads the same
//! content aloud on demand (`assets/screen.js`).

pub mod content;
mod qr;

use super::templates::{Assets, Words, render};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use balagh_domain::Language;
use balagh_store::Screen;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// `[screens]` of the configuration: what every screen shows besides its own data.
#[derive(Debug, Clone)]
pub struct ScreensConfig {
    /// The number residents send SMS reports to, shown under "how to report".
    pub sms_number: Option<String>,
    /// The counter's opening hours, by language code (the default language's otherwise).
    pub counter_hours: BTreeMap<String, String>,
    /// The web app the QR code leads to; by default this server's `/`.
    pub public_url: Option<String>,
    /// Seconds between two polls of a screen (each screen at its own offset).
    pub poll_seconds: u64,
    /// Seconds without fresh data before a screen says its information may be stale.
    pub stale_after_seconds: u64,
    /// Seconds each panel stays on screen.
    pub rotate_seconds: u64,
    /// Notices within this distance of a screen are shown on it, in metres.
    pub notice_radius_m: f64,
}

impl Default for ScreensConfig {
    fn default() -> Self {
        Self {
            sms_number: None,
            counter_hours: BTreeMap::new(),
            public_url: None,
            poll_seconds: 60,
            stale_after_seconds: 60,
            rotate_seconds: 15,
            notice_radius_m: 2_000.0,
        }
    }
}

/// Token prefix of screen URLs, so that a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "scr_";

/// The web app's address the QR code leads to.
pub fn app_url(state: &AppState, headers: &HeaderMap) -> String {
    match &state.settings().screens.public_url {
        Some(url) => url.clone(),
        None => format!("{}/", crate::params::base_url(state, headers)),
    }
}

/// The unrevoked screen behind a token of its URL, and the token's hash.
pub async fn by_token(
    state: &AppState,
    token: &str,
) -> Result<Option<(Screen, Vec<u8>)>, crate::problem::ApiError> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 100 {
        return Ok(None);
    }
    let hash = crate::auth::secrets::hash(token);
    Ok(state
        .store()
        .screen_by_token_hash(&hash)
        .await?
        .map(|s| (s, hash)))
}

/// Intervals a test (or a technician) may shorten in the page's URL, in seconds.
#[derive(Debug, Default, Deserialize)]
pub struct Overrides {
    poll: Option<u64>,
    stale: Option<u64>,
    rotate: Option<u64>,
}

fn bounded(value: Option<u64>, default: u64) -> u64 {
    value.map_or(default, |v| v.clamp(1, 3_600))
}

/// One notice as the page first shows it.
struct NoticeItem {
    lang: String,
    title: String,
    body: String,
    until: String,
    urgent: bool,
}

/// One service as the page first shows it.
struct ServiceItem {
    name: String,
    district: String,
    lines: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "screen/page.html")]
struct ScreenPage {
    w: Words,
    assets: Assets,
    orientation: String,
    urgent: bool,
    t: BTreeMap<&'static str, String>,
    notices: Vec<NoticeItem>,
    services: Vec<ServiceItem>,
    how: Vec<String>,
    qr: String,
    data: String,
}

fn assets() -> Assets {
    static URLS: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    let (css, js) = URLS.get_or_init(|| {
        (
            super::assets::url("screen.css"),
            super::assets::url("screen.js"),
        )
    });
    static CSS: std::sync::OnceLock<[&'static str; 1]> = std::sync::OnceLock::new();
    static JS: std::sync::OnceLock<[&'static str; 1]> = std::sync::OnceLock::new();
    Assets {
        stylesheets: CSS.get_or_init(|| [css.as_str()]),
        scripts: JS.get_or_init(|| [js.as_str()]),
    }
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn notice_items(list: &Value) -> Vec<NoticeItem> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|n| NoticeItem {
            lang: text(n, "lang"),
            title: text(n, "title"),
            body: text(n, "body"),
            until: text(n, "until"),
            urgent: n["urgent"].as_bool().unwrap_or(false),
        })
        .collect()
}

fn service_items(list: &Value) -> Vec<ServiceItem> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|s| ServiceItem {
            name: text(s, "name"),
            district: text(s, "district"),
            lines: strings(&s["lines"]),
        })
        .collect()
}

/// A page saying the screen is unknown (revoked, or a wrong address).
fn not_found() -> Response {
    use axum::response::IntoResponse;
    (
        StatusCode::NOT_FOUND,
        [("content-type", "text/plain; charset=utf-8")],
        "404",
    )
        .into_response()
}

/// `GET /screens/{token}`: the screen's page, in its first language.
pub async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(overrides): Query<Overrides>,
    headers: HeaderMap,
) -> Response {
    let screen = match by_token(&state, &token).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(),
        Err(e) => return axum::response::IntoResponse::into_response(e),
    };
    let config = &state.settings().screens;
    let url = app_url(&state, &headers);
    let content = match content::build(&state, config, &screen.0, &screen.1, &url).await {
        Ok(c) => c,
        Err(e) => return axum::response::IntoResponse::into_response(e),
    };
    let language = screen
        .0
        .languages
        .first()
        .and_then(|l| Language::parse(l))
        .unwrap_or(Language::Fr);
    let texts = &content["texts"][language.code()];
    let poll = bounded(overrides.poll, config.poll_seconds);
    let data = json!({
        "content": content,
        "options": {
            "poll": poll,
            "offset": content["offset_seconds"].as_u64().unwrap_or(0) % poll,
            "stale": bounded(overrides.stale, config.stale_after_seconds),
            "rotate": bounded(overrides.rotate, config.rotate_seconds),
        },
    });
    let t = [
        "title",
        "notices_heading",
        "urgent_heading",
        "no_notices",
        "services_heading",
        "services_period",
        "how_heading",
        "updated",
        "stale",
        "listen",
    ]
    .into_iter()
    .map(|k| (k, text(texts, k)))
    .collect();
    let page = ScreenPage {
        w: Words::new(language),
        assets: assets(),
        orientation: screen.0.orientation.clone(),
        urgent: content["urgent"].as_bool().unwrap_or(false),
        t,
        notices: notice_items(&texts["notices"]),
        services: service_items(&texts["services"]),
        how: strings(&texts["how"]),
        qr: qr::svg(&url, &text(texts, "qr_label")).unwrap_or_default(),
        data: super::public::data_block(&data).replace(r#"id="page-data""#, r#"id="screen-data""#),
    };
    render(StatusCode::OK, &page)
}
