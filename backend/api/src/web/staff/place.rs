//! Where a report is, on the staff report page: a Leaflet map on the configured tiles
//! (`[map] tile_url`), links to a maps app, and the page's CSP naming the tiles' and the
//! photo storage's origins (photos served from S3 are on another host).

use crate::state::AppState;
use crate::web::operator::page::origin;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use balagh_store::StoredReport;

/// The map of one report.
#[derive(Debug)]
pub struct MapView {
    pub lat: String,
    pub lon: String,
    pub tiles: String,
    pub geo: String,
    pub osm: String,
}

pub fn map_view(state: &AppState, report: &StoredReport) -> MapView {
    let (lat, lon) = (report.point.lat(), report.point.lon());
    MapView {
        lat: format!("{lat:.6}"),
        lon: format!("{lon:.6}"),
        tiles: state.settings().map_tile_url.clone(),
        geo: format!("geo:{lat:.6},{lon:.6}"),
        osm: format!(
            "https://www.openstreetmap.org/?mlat={lat:.6}&mlon={lon:.6}#map=18/{lat:.6}/{lon:.6}"
        ),
    }
}

/// The staff pages' CSP with images also from `urls`' origins (tiles, photo storage).
pub fn csp_with_images<'a>(urls: impl IntoIterator<Item = &'a str>) -> HeaderValue {
    let mut images = vec!["'self'".to_owned(), "data:".to_owned()];
    for o in urls.into_iter().filter_map(origin) {
        if !images.contains(&o) {
            images.push(o);
        }
    }
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src {}; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        images.join(" ")
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static(super::super::PAGES_CSP))
}

/// Sets the CSP of a rendered page.
pub fn with_csp(mut response: Response, csp: HeaderValue) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, csp);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_on_object_storage_and_tiles_are_allowed_images() {
        let csp = csp_with_images([
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "https://photos.s3.eu-west-3.amazonaws.com/p/1.jpg?X-Amz-Signature=abc",
            "/api/v1/photos/1/file?sig=x",
            "javascript:alert(1)",
        ]);
        let csp = csp.to_str().unwrap();
        assert!(
            csp.contains("img-src 'self' data: https://tile.openstreetmap.org https://photos.s3.eu-west-3.amazonaws.com;"),
            "{csp}"
        );
        assert!(csp.contains("script-src 'self';"));
    }
}
