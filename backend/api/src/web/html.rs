//! Just enough HTML: escaping and the page frame.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use balagh_domain::Language;

/// Escapes text for HTML content and attribute values, and drops the bidirectional
/// embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069): a resident's
/// U+202E would otherwise reverse the page text that follows it. Text in either direction
/// still displays right; user text is also wrapped in `<bdi>` where it is shown.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {}
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The logged-in user shown in the header, and the session's CSRF token for its logout form.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub name: &'a str,
    pub csrf_token: &'a str,
}

/// A whole operator page (French, the commune's working language).
pub fn page(status: StatusCode, title: &str, user: Option<Viewer<'_>>, body: &str) -> Response {
    let header = match user {
        Some(viewer) => format!(
            r#"<header><a class="brand" href="/operator/queue">Balagh</a><span class="who">{}</span><form method="post" action="/operator/logout"><input type="hidden" name="csrf_token" value="{}"><button type="submit">Se déconnecter</button></form></header>"#,
            esc(viewer.name),
            esc(viewer.csrf_token)
        ),
        None => r#"<header><span class="brand">Balagh</span></header>"#.to_owned(),
    };
    frame(
        status,
        &Frame {
            language: Language::Fr,
            title,
            header: &header,
            body,
            stylesheets: &[&super::assets::url("operator.css")],
            scripts: &[],
            skip_link: None,
        },
    )
}

/// What a page is made of: its language (and so its direction), header, body, and the
/// stylesheets and scripts it loads (all from this server: no inline script or style).
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub language: Language,
    pub title: &'a str,
    /// Trusted HTML.
    pub header: &'a str,
    /// Trusted HTML, inside `<main id="main">`.
    pub body: &'a str,
    pub stylesheets: &'a [&'a str],
    /// Loaded with `defer`, in order.
    pub scripts: &'a [&'a str],
    /// Text of a "skip to content" link, first in the page.
    pub skip_link: Option<&'a str>,
}

/// Right-to-left languages.
pub fn direction(language: Language) -> &'static str {
    match language {
        Language::Ar => "rtl",
        Language::Fr | Language::En => "ltr",
    }
}

pub fn frame(status: StatusCode, f: &Frame<'_>) -> Response {
    let mut head = String::new();
    for href in f.stylesheets {
        head.push_str(&format!(r#"<link rel="stylesheet" href="{}">"#, esc(href)));
        head.push('\n');
    }
    for src in f.scripts {
        head.push_str(&format!(r#"<script defer src="{}"></script>"#, esc(src)));
        head.push('\n');
    }
    let skip = f
        .skip_link
        .map(|text| format!(r##"<a class="skip" href="#main">{}</a>"##, esc(text)))
        .unwrap_or_default();
    let html = format!(
        r#"<!doctype html>
<html lang="{lang}" dir="{dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Balagh</title>
{head}<link rel="icon" href="data:,">
</head>
<body>
{skip}{header}
<main id="main" tabindex="-1">
{body}
</main>
</body>
</html>
"#,
        lang = f.language.code(),
        dir = direction(f.language),
        title = esc(f.title),
        header = f.header,
        body = f.body,
    );
    (status, Html(html)).into_response()
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc(r#"<b a="x">'&'</b>"#),
            "&lt;b a=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;"
        );
        assert_eq!(esc("حاوية ممتلئة"), "حاوية ممتلئة");
    }

    #[test]
    fn drops_bidirectional_overrides() {
        assert_eq!(esc("abc\u{202E}fed\u{2066}x\u{2069}"), "abcfedx");
        assert_eq!(esc("\u{200F}rtl mark stays"), "\u{200F}rtl mark stays");
    }
}
