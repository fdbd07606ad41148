//! What every operator page shares: the header (language switch, who is logged in, log
//! out), the stylesheets and scripts, the language kept in every link and form, and a
//! Content-Security-Policy naming the hosts its images come from (map tiles, photos).

use super::super::assets;
use super::super::session::OperatorSession;
use super::super::templates::{Assets, render};
use crate::state::AppState;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use balagh_domain::Language;
use std::sync::OnceLock;

/// One entry of the language switch.
#[derive(Debug, Clone)]
pub struct LanguageLink {
    pub href: String,
    pub code: &'static str,
    pub name: &'static str,
    pub current: bool,
}

/// The header of an operator page.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// `fr`, `ar` or `en`: carried by every link and form (`?lang=`).
    pub lang: &'static str,
    pub languages: Vec<LanguageLink>,
    /// The logged-in agent's name (empty on the login page).
    pub name: String,
    pub csrf_token: String,
}

/// `uri` with `lang` set to `language` (other parameters kept, e.g. the queue's filters).
pub fn with_language(uri: &Uri, language: Language) -> String {
    let mut pairs: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("lang="))
        .collect();
    let lang = format!("lang={}", language.code());
    pairs.push(&lang);
    format!("{}?{}", uri.path(), pairs.join("&"))
}

impl Chrome {
    pub fn new(uri: &Uri, language: Language, session: Option<&OperatorSession>) -> Self {
        Self {
            lang: language.code(),
            languages: Language::ALL
                .into_iter()
                .map(|l| LanguageLink {
                    href: with_language(uri, l),
                    code: l.code(),
                    name: super::super::i18n::own_name(l),
                    current: l == language,
                })
                .collect(),
            name: session
                .map(|s| super::people::clean(&s.user.display_name))
                .unwrap_or_default(),
            csrf_token: session.map(|s| s.csrf_token.clone()).unwrap_or_default(),
        }
    }
}

/// Stylesheets and scripts: the console's own, plus Leaflet and the map script on a
/// ticket's page.
pub fn page_assets(map: bool) -> Assets {
    static PLAIN: OnceLock<[&'static str; 1]> = OnceLock::new();
    static MAP_CSS: OnceLock<[&'static str; 2]> = OnceLock::new();
    static MAP_JS: OnceLock<[&'static str; 2]> = OnceLock::new();
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let plain = PLAIN.get_or_init(|| [leak(assets::url("operator.css"))]);
    if !map {
        return Assets {
            stylesheets: plain,
            scripts: &[],
        };
    }
    Assets {
        stylesheets: MAP_CSS.get_or_init(|| [leak(assets::url("leaflet.css")), plain[0]]),
        scripts: MAP_JS.get_or_init(|| {
            [
                leak(assets::url("leaflet.js")),
                leak(assets::url("operator.js")),
            ]
        }),
    }
}

/// `scheme://host[:port]` of a URL, for the CSP (a `{s}` sub-domain placeholder becomes
/// `*`); `None` for anything else.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?.replace("{s}", "*");
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:[]*".contains(c));
    valid.then(|| format!("{scheme}://{host}"))
}

/// The console's CSP: only this server's scripts and styles; images from this server,
/// the given origins (tiles, photo storage) and `data:`.
pub fn csp(image_origins: &[String]) -> HeaderValue {
    let mut images = vec!["'self'".to_owned(), "data:".to_owned()];
    for o in image_origins {
        if !images.contains(o) {
            images.push(o.clone());
        }
    }
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src {}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        images.join(" ")
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static(super::super::OPERATOR_CSP))
}

/// Renders a page with the console's CSP.
pub fn respond(status: StatusCode, page: &impl Template, image_origins: &[String]) -> Response {
    let mut response = render(status, page);
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, csp(image_origins));
    response
}

/// The map tiles' origin.
pub fn tile_origin(state: &AppState) -> Vec<String> {
    origin(&state.settings().map_tile_url).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_tile_and_photo_urls() {
        assert_eq!(
            origin("https://tile.openstreetmap.org/{z}/{x}/{y}.png").as_deref(),
            Some("https://tile.openstreetmap.org")
        );
        assert_eq!(
            origin("https://{s}.tiles.example/{z}/{x}/{y}.png").as_deref(),
            Some("https://*.tiles.example")
        );
        assert_eq!(
            origin("http://127.0.0.1:9000/t/{z}/{x}/{y}.png").as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(origin("javascript:alert(1)"), None);
        assert_eq!(origin("https://a b/"), None);
    }

    #[test]
    fn the_language_replaces_the_old_one_and_keeps_filters() {
        let uri: Uri = "/operator/queue?status=paused&lang=fr".parse().unwrap();
        assert_eq!(
            with_language(&uri, Language::Ar),
            "/operator/queue?status=paused&lang=ar"
        );
    }
}
