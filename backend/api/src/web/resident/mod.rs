//! The resident web app at `/` (issue 20): report a problem from any phone, with or without
//! a store app, online or not. The first screen is rendered here (services grouped by
//! service group, in the page's language); one script of ours (`resident.js`) does the rest
//! through the public `/api/v1` only, as a registered device: position, gazetteer or bus
//! stop, photo shrunk in the browser, "already reported nearby?", and an offline queue in
//! IndexedDB. A manifest and a service worker make it installable and let it open offline.

mod worker;

use super::assets;
use super::i18n::{PageLanguage, own_name};
use super::templates::{Assets, Words, render};
use crate::routes::service_media::{decorate, video_origins};
use crate::routes::services::service_view;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use balagh_domain::Language;
use balagh_domain::service_group::display_rank;
use balagh_store::ServiceMedia;
use balagh_wire::ServiceView;
use serde::Serialize;
use std::collections::BTreeMap;

/// One group of services on the first screen.
struct Group {
    code: String,
    name: String,
    icon: &'static str,
    services: Vec<ServiceView>,
}

struct LanguageLink {
    code: &'static str,
    name: &'static str,
    current: bool,
}

#[derive(Template)]
#[template(path = "resident/app.html")]
struct AppPage {
    w: Words,
    assets: Assets,
    groups: Vec<Group>,
    languages: Vec<LanguageLink>,
    /// JSON for the script (services' attributes, words, settings), in a data attribute.
    config: String,
    manifest: String,
    map: bool,
}

/// What the script needs that the markup does not carry.
#[derive(Serialize)]
struct Config<'a> {
    lang: &'static str,
    services: &'a [ServiceView],
    tile_url: Option<&'a str>,
    leaflet_js: String,
    leaflet_css: String,
    sw: &'static str,
    words: std::collections::BTreeMap<&'static str, String>,
}

/// Words the script shows; `{n}`-style placeholders are filled in by the script.
const SCRIPT_WORDS: &[&str] = &[
    "res-position-waiting",
    "res-position-denied",
    "res-search-none",
    "res-nearby-none",
    "res-nearby-title",
    "res-me-too",
    "res-me-too-done",
    "res-sending",
    "res-queued",
    "res-error-service",
    "res-error-place",
    "res-offline",
    "res-choose",
    "res-map-hint",
    "res-optional",
    "res-status-new",
    "res-status-acknowledged",
    "res-status-in-progress",
    "res-status-resolved",
    "res-status-closed",
    "res-status-paused",
    "res-status-rejected",
    "res-status-duplicate",
    "res-status-reopened",
    "res-confirm",
    "res-reopen",
    "res-reopen-why",
    "res-reopen-send",
    "res-reply-label",
    "res-reply-send",
    "res-rate-legend",
    "res-rate-send",
    "res-rate-thanks",
    "res-map-label",
    "res-quiet-invalid",
    "res-push-unsupported",
    "res-push-denied",
    "res-push-waiting",
    "res-push-off-server",
    "res-push-on",
    "res-push-save",
    "res-push-is-on",
    "res-push-stopped",
    "res-notices-unavailable",
    "res-notices-here-place",
    "res-notices-denied",
    "res-follow",
    "res-unfollow",
    "res-follow-offline",
];

/// Words with placeholders: (id, its variables), filled in by the script.
const SCRIPT_PATTERNS: &[(&str, &[&str])] = &[
    ("res-position-accuracy", &["m"]),
    ("res-place-chosen", &["name"]),
    ("res-photo-ready", &["kb"]),
    ("res-sent", &["reference"]),
    ("res-waiting", &["count"]),
    ("res-error-send", &["detail"]),
    ("res-distance", &["m"]),
    ("res-answer", &["text"]),
    ("res-question", &["text"]),
    ("res-rate-star", &["n"]),
    ("res-supporters", &["count"]),
    ("res-map-pin", &["lat", "lon"]),
    ("res-push-failed", &["detail"]),
    ("res-push-on-quiet", &["start", "end"]),
    ("res-notices-count", &["count", "place"]),
    ("res-notices-none", &["place"]),
    ("res-notices-until", &["date"]),
    ("res-info-title", &["service"]),
    ("res-video", &["language"]),
    ("res-follow-started", &["reference"]),
    ("res-follow-stopped", &["reference"]),
    ("res-follow-failed", &["detail"]),
];

fn script_words(w: &Words) -> std::collections::BTreeMap<&'static str, String> {
    let mut words: std::collections::BTreeMap<_, _> =
        SCRIPT_WORDS.iter().map(|id| (*id, w.t(id))).collect();
    for (id, vars) in SCRIPT_PATTERNS {
        let text = match vars {
            [a] => w.t1(id, a, format!("{{{a}}}")),
            [a, b] => w.t2(
                id,
                (a, format!("{{{a}}}").into()),
                (b, format!("{{{b}}}").into()),
            ),
            _ => w.t(id),
        };
        words.insert(*id, text);
    }
    words
}

/// Inline SVG drawings (no emoji font needed), decorative: the words say everything.
const ICON_WASTE: &str = r#"<svg viewBox="0 0 24 24" width="32" height="32" aria-hidden="true" focusable="false"><path fill="currentColor" d="M9 3h6l1 2h4v2H4V5h4zM6 8h12l-1 13H7zm3 2v9h2v-9zm4 0v9h2v-9z"/></svg>"#;
const ICON_LIGHTING: &str = r#"<svg viewBox="0 0 24 24" width="32" height="32" aria-hidden="true" focusable="false"><path fill="currentColor" d="M12 2a7 7 0 0 0-4 12.7V17h8v-2.3A7 7 0 0 0 12 2zM9 18h6v2H9zm1 3h4v1h-4z"/></svg>"#;
const ICON_TRANSPORT: &str = r#"<svg viewBox="0 0 24 24" width="32" height="32" aria-hidden="true" focusable="false"><path fill="currentColor" d="M6 2h12a3 3 0 0 1 3 3v12a2 2 0 0 1-1 1.7V21h-3v-2H7v2H4v-2.3A2 2 0 0 1 3 17V5a3 3 0 0 1 3-3zm0 3v6h12V5zm1 9a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm10 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"/></svg>"#;
const ICON_OTHER: &str = r#"<svg viewBox="0 0 24 24" width="32" height="32" aria-hidden="true" focusable="false"><path fill="currentColor" d="M12 2a7 7 0 0 0-7 7c0 5 7 13 7 13s7-8 7-13a7 7 0 0 0-7-7zm0 9.5a2.5 2.5 0 1 1 0-5 2.5 2.5 0 0 1 0 5z"/></svg>"#;

/// The drawing for a group's icon key; a generic pin for groups without a known one.
fn group_icon(icon: Option<&str>) -> &'static str {
    match icon {
        Some("waste") => ICON_WASTE,
        Some("lighting") => ICON_LIGHTING,
        Some("transport") => ICON_TRANSPORT,
        _ => ICON_OTHER,
    }
}

/// The services of the default jurisdiction in `language`, grouped in the commune's group
/// order, with their videos and easy-to-read text.
fn groups(
    state: &AppState,
    language: Language,
    media: &BTreeMap<String, ServiceMedia>,
) -> Vec<Group> {
    let catalog = state.catalog();
    let Some(jurisdiction) = catalog.jurisdiction_or_default(None) else {
        return Vec::new();
    };
    let mut groups: Vec<Group> = Vec::new();
    for service in catalog.services(&jurisdiction.id) {
        let mut view = service_view(service, &catalog, &jurisdiction.id, language);
        decorate(&mut view, media, language);
        match groups.iter_mut().find(|g| g.code == view.group) {
            Some(group) => group.services.push(view),
            None => {
                let definition = catalog.group(&jurisdiction.id, &view.group);
                groups.push(Group {
                    name: view.group_name.clone(),
                    icon: group_icon(definition.and_then(|d| d.icon.as_deref())),
                    code: view.group.clone(),
                    services: vec![view],
                });
            }
        }
    }
    let definitions = catalog.groups(&jurisdiction.id);
    groups.sort_by_key(|g| display_rank(definitions, &g.code));
    groups
}

/// The app's CSP: everything from this server, map tiles from the tile server's origin
/// (`https`, or `http` on a loopback address for tests), and `<video>` from the origins of
/// the services' stored videos (`https` only) and nowhere else.
fn csp(tile_url: Option<&str>, video_origins: &[String]) -> String {
    let tiles = tile_url
        .and_then(super::operator::page::origin)
        .filter(|o| o.starts_with("https://") || o.starts_with("http://127.0.0.1:"))
        .map(|o| format!(" {o}"))
        .unwrap_or_default();
    let media = if video_origins.is_empty() {
        "'none'".to_owned()
    } else {
        video_origins.join(" ")
    };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:{tiles}; \
         media-src {media}; connect-src 'self'; manifest-src 'self'; worker-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

async fn app(State(state): State<AppState>, PageLanguage(language): PageLanguage) -> Response {
    let w = Words::new(language);
    let catalog = state.catalog();
    let media = match catalog.jurisdiction_or_default(None) {
        Some(j) => catalog.media(&j.id).clone(),
        None => BTreeMap::new(),
    };
    let groups = groups(&state, language, &media);
    let services: Vec<ServiceView> = groups
        .iter()
        .flat_map(|g| g.services.iter().cloned())
        .collect();
    let tile_url = state.settings().resident_map_tile_url.as_deref();
    let config = Config {
        lang: language.code(),
        services: &services,
        tile_url,
        leaflet_js: assets::url("leaflet.js"),
        leaflet_css: assets::url("leaflet.css"),
        sw: "/sw.js",
        words: script_words(&w),
    };
    let page = AppPage {
        languages: Language::ALL
            .iter()
            .map(|l| LanguageLink {
                code: l.code(),
                name: own_name(*l),
                current: *l == language,
            })
            .collect(),
        config: serde_json::to_string(&config).unwrap_or_default(),
        manifest: format!("/manifest.webmanifest?lang={}", language.code()),
        map: tile_url.is_some(),
        assets: page_assets(),
        groups,
        w,
    };
    let mut response = render(StatusCode::OK, &page);
    if let Ok(value) = HeaderValue::from_str(&csp(tile_url, &video_origins(&media))) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("accept-language"));
    // The app asks for the position and may open the camera (nothing else may).
    headers.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(
            "camera=(self), microphone=(), geolocation=(self), payment=(), usb=(), interest-cohort=()",
        ),
    );
    response
}

/// The app's stylesheet and script, with their versioned URLs (built once).
fn page_assets() -> Assets {
    static URLS: std::sync::OnceLock<(Vec<&'static str>, Vec<&'static str>)> =
        std::sync::OnceLock::new();
    let (css, js) = URLS.get_or_init(|| {
        let leak = |name: &str| -> &'static str { Box::leak(assets::url(name).into_boxed_str()) };
        (
            vec![leak("resident.css")],
            vec![leak("resident.js"), leak("resident-follow.js")],
        )
    });
    Assets {
        stylesheets: css.as_slice(),
        scripts: js.as_slice(),
    }
}

async fn manifest(PageLanguage(language): PageLanguage) -> Response {
    let w = Words::new(language);
    let body = serde_json::json!({
        "name": w.t("res-app-name"),
        "short_name": "Balagh",
        "lang": language.code(),
        "dir": w.dir(),
        "start_url": format!("/?lang={}", language.code()),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5d3b",
        "icons": [{"src": "/assets/resident-icon.svg", "sizes": "any", "type": "image/svg+xml"}],
    });
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/manifest+json"),
        )],
        body.to_string(),
    )
        .into_response()
}

/// The app's routes: `/`, its manifest and its service worker.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(app))
        .route("/manifest.webmanifest", get(manifest))
        .route("/sw.js", get(worker::service_worker))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csp_allows_only_the_tile_and_video_servers_besides_this_one() {
        assert!(!csp(None, &[]).contains("https:"));
        assert!(csp(None, &[]).contains("media-src 'none';"));
        let with_tiles = csp(Some("https://{s}.tile.example.org/{z}/{x}/{y}.png"), &[]);
        assert!(with_tiles.contains("img-src 'self' data: blob: https://*.tile.example.org;"));
        // A tile URL that is not plain https is not allowed in (but a local stand-in is).
        assert!(!csp(Some("http://tiles.example.org/{z}/{x}/{y}.png"), &[]).contains("example"));
        assert!(!csp(Some("https://a.org; script-src *"), &[]).contains("script-src *"));
        let local = csp(Some("http://127.0.0.1:9000/t/{z}/{x}/{y}.png"), &[]);
        assert!(local.contains("blob: http://127.0.0.1:9000;"), "{local}");
        let videos = [
            "https://v.example.org".to_owned(),
            "https://w.example".to_owned(),
        ];
        let with_videos = csp(None, &videos);
        assert!(with_videos.contains("media-src https://v.example.org https://w.example;"));
    }

    #[test]
    fn every_script_word_exists_in_every_language() {
        for language in Language::ALL {
            let w = Words::new(language);
            for (id, text) in script_words(&w) {
                assert_ne!(text, id, "{id} in {}", language.code());
            }
        }
    }
}
