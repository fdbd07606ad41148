//! Askama pages: what every page template receives besides its own data.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub use balagh_i18n::Words;

/// The stylesheets and scripts a page loads (paths on this server).
#[derive(Debug, Clone, Copy)]
pub struct Assets {
    pub stylesheets: &'static [&'static str],
    pub scripts: &'static [&'static str],
}

/// Renders a template into a response; a template that fails to render (it cannot for
/// want of data: askama checks them at compile time) answers 500 without leaking why.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "page template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use balagh_domain::Language;

    #[derive(Template)]
    #[template(
        source = r#"{% extends "layout.html" %}{% block title %}{{ name }}{% endblock %}{% block content %}<p>{{ name }}</p>{% endblock %}"#,
        ext = "html"
    )]
    struct Example<'a> {
        w: Words,
        assets: Assets,
        name: &'a str,
    }

    #[test]
    fn pages_escape_and_follow_the_language_direction() {
        let page = Example {
            w: Words::new(Language::Ar),
            assets: Assets {
                stylesheets: &["/static/app.css"],
                scripts: &[],
            },
            name: "<script>alert(1)</script>",
        };
        let html = page.render().unwrap();
        assert!(html.contains(r#"<html lang="ar" dir="rtl">"#), "{html}");
        assert!(
            html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("الانتقال إلى المحتوى"));
    }
}
