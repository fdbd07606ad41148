//! gzip for responses (issue 20: the resident app's first load on a slow phone network).
//!
//! Every response whose body is complete in memory (JSON, pages, problem documents) and of a
//! textual type is gzipped when the client accepts it; streamed bodies (exports, event
//! streams) pass untouched. The static assets are compressed once and kept (see
//! [`crate::web::assets`]). flate2 is already in the build (images, zip): no new crate.

use axum::body::Body;
use axum::body::HttpBody as _;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use std::io::Write;

/// Smaller bodies gain nothing worth a header and a CPU slice.
const MIN_BYTES: u64 = 1024;
/// Larger ones are not held in memory a second time here.
const MAX_BYTES: u64 = 8 * 1024 * 1024;

/// Whether `Accept-Encoding` allows gzip (a `q=0` refuses it).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            matches!(coding.as_str(), "gzip" | "x-gzip" | "*") && !refused
        })
}

/// Types worth compressing: text, JSON, JavaScript, SVG, manifests.
pub fn compressible(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "text/event-stream" {
        return false;
    }
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("/json")
        || essence.ends_with("+xml")
        || essence.ends_with("/xml")
        || essence == "text/javascript"
        || essence == "application/javascript"
}

/// gzip of `bytes` (level 6, as nginx and tower-http default to).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::default(),
    );
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// Adds `Accept-Encoding` to `Vary` (once).
pub fn vary_on_encoding(headers: &mut HeaderMap) {
    let present = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case("accept-encoding") || v.trim() == "*");
    if !present {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

fn worth_compressing(response: &Response) -> bool {
    let status = response.status();
    if status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || status == StatusCode::PARTIAL_CONTENT
        || status.is_informational()
    {
        return false;
    }
    let headers = response.headers();
    if headers.contains_key(header::CONTENT_ENCODING) || headers.contains_key(header::CONTENT_RANGE)
    {
        return false;
    }
    let no_transform = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("no-transform"));
    let typed = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(compressible);
    let sized = response
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| (MIN_BYTES..=MAX_BYTES).contains(&n));
    typed && sized && !no_transform
}

/// The middleware: gzips complete textual bodies for clients that accept it.
pub async fn compress(request: Request, next: Next) -> Response {
    let gzip_ok = accepts_gzip(request.headers());
    let response = next.run(request).await;
    if !worth_compressing(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    vary_on_encoding(&mut parts.headers);
    if !gzip_ok {
        return Response::from_parts(parts, body);
    }
    // The size is known and bounded (checked above), so this reads memory only.
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BYTES as usize).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let packed = gzip(&bytes);
    if packed.len() >= bytes.len() {
        return Response::from_parts(parts, Body::from(bytes));
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    Response::from_parts(parts, Body::from(packed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_offered_unless_refused() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            accepts_gzip(&h)
        };
        assert!(with("gzip, deflate, br, zstd"));
        assert!(with("br;q=1.0, gzip;q=0.8"));
        assert!(with("*"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn only_textual_types_are_compressed() {
        for t in [
            "application/json",
            "application/problem+json",
            "text/html; charset=utf-8",
            "text/javascript; charset=utf-8",
            "image/svg+xml",
            "application/manifest+json",
            "text/csv",
        ] {
            assert!(compressible(t), "{t}");
        }
        for t in ["image/jpeg", "application/zip", "text/event-stream"] {
            assert!(!compressible(t), "{t}");
        }
    }

    #[test]
    fn gzip_round_trips() {
        let text = "Balagh ".repeat(500);
        let packed = gzip(text.as_bytes());
        assert!(packed.len() < text.len() / 10);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&packed[..]), &mut out)
            .unwrap();
        assert_eq!(out, text);
    }
}
