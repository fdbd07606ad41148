//! The screen's QR code to the web app, as an SVG drawn with one path (no image crate, no
//! inline style: the page's CSP allows none).

use qrcode::{Color, EcLevel, QrCode};
use std::fmt::Write;

/// Modules of quiet zone around the code (the standard asks for 4).
const QUIET: usize = 4;

/// An SVG of `text` as a QR code (medium error correction), black on white, or `None`
/// when the text is too long for a QR code.
pub fn svg(text: &str, label: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let size = width + 2 * QUIET;
    let mut path = String::new();
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == Color::Dark {
            let (x, y) = (i % width + QUIET, i / width + QUIET);
            let _ = write!(path, "M{x} {y}h1v1h-1z");
        }
    }
    Some(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="qr" role="img" aria-label="{}" viewBox="0 0 {size} {size}" shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/><path fill="#000" d="{path}"/></svg>"##,
        escape(label)
    ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_square_code_with_its_quiet_zone() {
        let svg = svg("https://balagh.example.ma/", "Code \"QR\" <app>").unwrap();
        // Version 2 at level M holds this URL: 25 modules plus 2 × 4 of quiet zone.
        assert!(svg.contains(r#"viewBox="0 0 33 33""#), "{svg}");
        assert!(
            svg.contains("M4 4h1v1h-1z"),
            "the finder pattern's corner: {svg}"
        );
        assert!(svg.contains(r#"aria-label="Code &quot;QR&quot; &lt;app&gt;""#));
        assert!(!svg.contains("style"));
        assert!(super::svg(&"x".repeat(5000), "too long").is_none());
    }
}
