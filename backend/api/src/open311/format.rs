//! The two response formats of GeoReport v2: one tree of values, written as JSON or as XML
//! (with an XML declaration, `text/xml; charset=utf-8`, every text escaped).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// The format named by a path's extension (`services.json`, `requests.xml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// Splits `name.ext` into the name and its format; `None` for another extension.
    pub fn split(file: &str) -> Option<(&str, Format)> {
        let (name, ext) = file.rsplit_once('.')?;
        let format = match ext.to_ascii_lowercase().as_str() {
            "json" => Format::Json,
            "xml" => Format::Xml,
            _ => return None,
        };
        Some((name, format))
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Xml => "text/xml",
        }
    }
}

/// A value of a response, before it is written in one format or the other.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// JSON `null`; an empty XML element.
    Null,
    Str(String),
    Bool(bool),
    Int(i64),
    Num(f64),
    /// JSON object; XML child elements in this order.
    Obj(Vec<(&'static str, Out)>),
    /// JSON array; XML one child element per item, named by the tag.
    List(&'static str, Vec<Out>),
}

impl Out {
    pub fn str(value: impl Into<String>) -> Self {
        Out::Str(value.into())
    }

    pub fn opt(value: Option<impl Into<String>>) -> Self {
        value.map_or(Out::Null, |v| Out::Str(v.into()))
    }

    fn to_json(&self) -> Value {
        match self {
            Out::Null => Value::Null,
            Out::Str(s) => Value::String(s.clone()),
            Out::Bool(b) => Value::Bool(*b),
            Out::Int(i) => Value::from(*i),
            Out::Num(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
            Out::Obj(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(name, value)| ((*name).to_owned(), value.to_json()))
                    .collect::<Map<String, Value>>(),
            ),
            Out::List(_, items) => Value::Array(items.iter().map(Out::to_json).collect()),
        }
    }

    fn write_xml(&self, tag: &str, xml: &mut String) {
        xml.push('<');
        xml.push_str(tag);
        xml.push('>');
        match self {
            Out::Null => {}
            Out::Str(s) => escape_into(s, xml),
            Out::Bool(b) => xml.push_str(if *b { "true" } else { "false" }),
            Out::Int(i) => xml.push_str(&i.to_string()),
            Out::Num(n) => xml.push_str(&n.to_string()),
            Out::Obj(fields) => {
                for (name, value) in fields {
                    value.write_xml(name, xml);
                }
            }
            Out::List(item, items) => {
                for value in items {
                    value.write_xml(item, xml);
                }
            }
        }
        xml.push_str("</");
        xml.push_str(tag);
        xml.push('>');
    }
}

/// Escapes text for XML element content; drops the characters XML 1.0 cannot carry.
fn escape_into(text: &str, xml: &mut String) {
    for c in text.chars() {
        match c {
            '&' => xml.push_str("&amp;"),
            '<' => xml.push_str("&lt;"),
            '>' => xml.push_str("&gt;"),
            '"' => xml.push_str("&quot;"),
            '\'' => xml.push_str("&apos;"),
            '\t' | '\n' => xml.push(c),
            '\r' => xml.push_str("&#13;"),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => xml.push(c),
        }
    }
}

/// A whole response body: `root` names the XML document element (JSON has none).
pub fn render(format: Format, root: &str, body: &Out) -> String {
    match format {
        Format::Json => body.to_json().to_string(),
        Format::Xml => {
            let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
            body.write_xml(root, &mut xml);
            xml.push('\n');
            xml
        }
    }
}

/// A response in `format` with this status.
pub fn respond(format: Format, status: StatusCode, root: &str, body: &Out) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        )],
        render(format, root, body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_extensions() {
        assert_eq!(
            Format::split("services.json"),
            Some(("services", Format::Json))
        );
        assert_eq!(Format::split("TET-1.XML"), Some(("TET-1", Format::Xml)));
        assert_eq!(Format::split("services.html"), None);
        assert_eq!(Format::split("services"), None);
    }

    #[test]
    fn xml_is_escaped_and_declared() {
        let body = Out::List(
            "error",
            vec![Out::Obj(vec![
                ("code", Out::Int(400)),
                ("description", Out::str("a < b & \"c\"\u{1}")),
            ])],
        );
        assert_eq!(
            render(Format::Xml, "errors", &body),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<errors><error><code>400</code>\
             <description>a &lt; b &amp; &quot;c&quot;</description></error></errors>\n"
        );
        assert_eq!(
            render(Format::Json, "errors", &body),
            r#"[{"code":400,"description":"a < b & \"c\"\u0001"}]"#
        );
    }
}
