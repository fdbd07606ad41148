//! Static files of the pages, compiled into the binary (no CDN, nothing fetched at build
//! time): uPlot and Leaflet (vendored, see `assets/README.md`), and the pages' own script
//! and stylesheet. Served under `/assets/NAME`; pages link `/assets/NAME?v=HASH`, so they
//! can be cached for a year and a new binary's files are fetched anew.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "uPlot.iife.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/uPlot.iife.min.js"),
    },
    Asset {
        name: "uPlot.min.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("assets/uPlot.min.css"),
    },
    Asset {
        name: "leaflet.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/leaflet.js"),
    },
    Asset {
        name: "leaflet.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("assets/leaflet.css"),
    },
    Asset {
        name: "pages.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/pages.js"),
    },
    Asset {
        name: "pages.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("assets/pages.css"),
    },
    Asset {
        name: "screen.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/screen.js"),
    },
    Asset {
        name: "screen.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("assets/screen.css"),
    },
    Asset {
        name: "resident.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/resident.js"),
    },
    Asset {
        name: "resident-follow.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/resident-follow.js"),
    },
    Asset {
        name: "resident.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("assets/resident.css"),
    },
    Asset {
        name: "resident-icon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("assets/resident-icon.svg"),
    },
    Asset {
        name: "operator.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("assets/operator.css"),
    },
    Asset {
        name: "operator.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/operator.js"),
    },
    Asset {
        name: "staff.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/staff.js"),
    },
    Asset {
        name: "staff.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("assets/staff.css"),
    },
];

/// FNV-1a of every asset: changes whenever one does.
fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for asset in ASSETS {
            for b in asset.name.bytes().chain(asset.body.iter().copied()) {
                hash ^= u64::from(b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{:012x}", hash & 0xffff_ffff_ffff)
    })
}

/// The URL a page links an asset with.
pub fn url(name: &str) -> String {
    debug_assert!(ASSETS.iter().any(|a| a.name == name), "no asset {name}");
    format!("/assets/{name}?v={}", version())
}

/// The gzip of each compressible asset, made on first use and kept for the process's life.
fn gzipped(index: usize) -> Option<&'static [u8]> {
    static PACKED: OnceLock<Vec<Option<Vec<u8>>>> = OnceLock::new();
    PACKED
        .get_or_init(|| {
            ASSETS
                .iter()
                .map(|a| {
                    crate::compression::compressible(a.content_type)
                        .then(|| crate::compression::gzip(a.body))
                        .filter(|packed| packed.len() < a.body.len())
                })
                .collect()
        })
        .get(index)?
        .as_deref()
}

pub async fn serve(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(index) = ASSETS.iter().position(|a| a.name == name) else {
        return crate::problem::ApiError::NotFound.into_response();
    };
    let asset = &ASSETS[index];
    let packed = gzipped(index);
    let gzip = packed.filter(|_| crate::compression::accepts_gzip(&headers));
    let mut response = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        gzip.unwrap_or(asset.body),
    )
        .into_response();
    if packed.is_some() {
        crate::compression::vary_on_encoding(response.headers_mut());
    }
    if gzip.is_some() {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_there_and_versioned() {
        for asset in ASSETS {
            assert!(asset.body.len() > 100, "{}", asset.name);
        }
        assert!(url("leaflet.js").starts_with("/assets/leaflet.js?v="));
        // Vendored scripts must not ask the browser for source maps we do not serve.
        for name in ["leaflet.js", "uPlot.iife.min.js"] {
            let body = ASSETS.iter().find(|a| a.name == name).unwrap().body;
            assert!(
                !String::from_utf8_lossy(body).contains("sourceMappingURL"),
                "{name}"
            );
        }
    }
}
