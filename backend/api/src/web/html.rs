//! Just enough HTML: escaping and the page frame.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
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

/// A whole page (French, the commune's working language).
/// The logged-in user shown in the header, and the session's CSRF token for its logout form.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub name: &'a str,
    pub csrf_token: &'a str,
}

pub fn page(status: StatusCode, title: &str, user: Option<Viewer<'_>>, body: &str) -> Response {
    let header = match user {
        Some(viewer) => format!(
            r#"<header><a class="brand" href="/operator/queue">Balagh</a><span class="who">{}</span><form method="post" action="/operator/logout"><input type="hidden" name="csrf_token" value="{}"><button type="submit">Se déconnecter</button></form></header>"#,
            esc(viewer.name),
            esc(viewer.csrf_token)
        ),
        None => r#"<header><span class="brand">Balagh</span></header>"#.to_owned(),
    };
    let html = format!(
        r#"<!doctype html>
<html lang="fr" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Balagh</title>
<link rel="stylesheet" href="/operator/static/app.css">
<link rel="icon" href="data:,">
</head>
<body>
{header}
<main>
{body}
</main>
</body>
</html>
"#,
        title = esc(title),
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
}
