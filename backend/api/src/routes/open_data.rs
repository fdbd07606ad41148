//! Open data (`/api/v1/open-data/…`): the DCAT-AP catalogue, the data dictionary and the
//! CSV / JSON / GeoJSON files, all read from the stored releases of the publication gate.

use super::stats::{
    Published, StatsParams, cached, cells_geojson, context, geojson_response, header_of, kind_of,
    selected_releases,
};
use crate::extract::ApiQuery;
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use balagh_app::publish::{Release, view};
use balagh_app::stats::{self as st, Context, Period, PeriodKind, csv_line};
use serde_json::{Value, json};

/// The open datasets: name, title, description, formats.
pub const DATASETS: [(&str, &str, &str, &[&str]); 4] = [
    (
        "counts",
        "Reports by district and service",
        "New and resolved reports per period, district (contract zone) and service. Services whose reports are listed publicly: exact. Sensitive services: monthly, at the finest level (district, operator, service) where every figure is 0 or at least k; empty when withheld.",
        &["csv", "json"],
    ),
    (
        "cells",
        "Reports by H3 cell",
        "New reports per period, service and H3 cell (resolution 8), for services whose reports are listed publicly (sensitive services are never mapped).",
        &["geojson", "csv", "json"],
    ),
    (
        "operators",
        "Resolution by operator",
        "Resolved reports per period and operator, share resolved within the SLA targets, median and p90 time to resolve.",
        &["csv", "json"],
    ),
    (
        "reports",
        "Reports (one row per report)",
        "One row per report of a service whose reports are listed publicly: service, district, H3 cell (resolution 8), local date, status, minutes to acknowledge and to resolve, operator. No identifier, description, photo, coordinate, time of day or reporter data; sensitive services are never listed.",
        &["csv", "json"],
    ),
];

/// Columns of each file: (dataset, column, type, description).
pub const DICTIONARY: &[(&str, &str, &str, &str)] = &[
    (
        "counts",
        "period",
        "string",
        "ISO week (2026-W14) or month (2026-04), local time of the commune",
    ),
    (
        "counts",
        "district",
        "string",
        "Contract zone (slug); outside-zones: no zone covers the report",
    ),
    (
        "counts",
        "service",
        "string",
        "Service code (Open311 service_code)",
    ),
    (
        "counts",
        "new",
        "integer",
        "Reports made in the period; empty when withheld (sensitive services only)",
    ),
    (
        "counts",
        "resolved",
        "integer",
        "Reports whose last resolution fell in the period; empty when withheld",
    ),
    ("cells", "period", "string", "ISO week, month or year"),
    ("cells", "service", "string", "Service code"),
    (
        "cells",
        "h3_cell",
        "string",
        "H3 cell index (resolution 8, hexadecimal)",
    ),
    (
        "cells",
        "new",
        "integer",
        "Reports made in the period in that cell",
    ),
    ("operators", "period", "string", "ISO week, month or year"),
    (
        "operators",
        "operator",
        "string",
        "Operator slug; unrouted: no operator",
    ),
    (
        "operators",
        "resolved",
        "integer",
        "Reports resolved in the period; empty when a sensitive service's entry is withheld",
    ),
    (
        "operators",
        "within_sla",
        "number",
        "Share of resolved reports of listed services that met every SLA target (0-1)",
    ),
    (
        "operators",
        "median_minutes_to_resolve",
        "integer",
        "Upper bound of the median's histogram bucket, in minutes (listed services)",
    ),
    (
        "operators",
        "p90_minutes_to_resolve",
        "integer",
        "Upper bound of the 90th percentile's bucket, in minutes (listed services)",
    ),
    ("reports", "service", "string", "Service code"),
    ("reports", "district", "string", "Contract zone (slug)"),
    (
        "reports",
        "h3_cell",
        "string",
        "H3 cell (resolution 8) of the report's point",
    ),
    (
        "reports",
        "date",
        "date",
        "Local date the report was made (no time of day)",
    ),
    (
        "reports",
        "status",
        "string",
        "Current status (new, acknowledged, in_progress, paused, resolved, closed, rejected, duplicate, reopened, unrouted)",
    ),
    (
        "reports",
        "minutes_to_acknowledge",
        "integer",
        "Minutes from the report to the operator's first reaction",
    ),
    (
        "reports",
        "minutes_to_resolve",
        "integer",
        "Minutes from the report to its last resolution, while resolved or closed",
    ),
    ("reports", "operator", "string", "Operator slug"),
];

/// The data dictionary.
#[utoipa::path(get, path = "/api/v1/open-data/dictionary.json", tag = "open-data",
    responses((status = 200, description = "Columns of every file", body = Object)))]
pub async fn dictionary_json() -> Json<Value> {
    let datasets: Vec<Value> = DATASETS
        .iter()
        .map(|(name, title, description, formats)| {
            let columns: Vec<Value> = DICTIONARY
                .iter()
                .filter(|(d, ..)| d == name)
                .map(|(_, c, t, desc)| json!({"name": c, "type": t, "description": desc}))
                .collect();
            json!({"dataset": name, "title": title, "description": description, "formats": formats, "columns": columns})
        })
        .collect();
    Json(json!({"datasets": datasets}))
}

/// The data dictionary as CSV (dataset, column, type, description).
#[utoipa::path(get, path = "/api/v1/open-data/dictionary.csv", tag = "open-data",
    responses((status = 200, description = "CSV", body = String, content_type = "text/csv")))]
pub async fn dictionary_csv() -> Response {
    let mut body = csv_line(&[
        "dataset".into(),
        "column".into(),
        "type".into(),
        "description".into(),
    ]);
    for (d, c, t, desc) in DICTIONARY {
        body.push_str(&csv_line(&[
            d.to_string(),
            c.to_string(),
            t.to_string(),
            desc.to_string(),
        ]));
    }
    csv_response(body, "dictionary.csv")
}

fn csv_response(body: String, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// Where the server is reached, for the catalogue's URLs.
fn base_url(headers: &axum::http::HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The DCAT-AP catalogue (JSON-LD): one `dcat:Dataset` per dataset with its licence,
/// spatial and temporal coverage and resolution, update frequency, and a distribution per
/// format and period kind.
#[utoipa::path(get, path = "/api/v1/open-data/catalog.jsonld", tag = "open-data",
    params(("jurisdiction" = Option<String>, Query, description = "Jurisdiction id")),
    responses((status = 200, description = "DCAT-AP catalogue", body = Object, content_type = "application/ld+json")))]
pub async fn catalog(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Response {
    let Ok(ctx) = context(&state, &p) else {
        return ApiError::NotFound.into_response();
    };
    let settings = &state.settings().stats;
    let j = &ctx.jurisdiction;
    let common = CatalogCommon {
        base: base_url(&headers),
        spatial: spatial_coverage(&ctx),
        publisher: settings.publisher.clone().unwrap_or_else(|| j.name.clone()),
        licence: json!({"@id": settings.licence_url, "dct:identifier": settings.licence}),
        last: ctx.last_publishable_day(),
        keywords: keywords(&ctx),
    };
    let datasets: Vec<Value> = DATASETS
        .iter()
        .map(|dataset| dataset_json(&ctx, &common, dataset))
        .collect();
    let body = catalog_json(&ctx, &common, datasets);
    (
        [(header::CONTENT_TYPE, "application/ld+json")],
        serde_json::to_vec(&body).unwrap_or_default(),
    )
        .into_response()
}

/// What every dataset of the catalogue shares.
struct CatalogCommon {
    /// Where the server is reached.
    base: String,
    /// The commune's bounding box (none for an empty boundary).
    spatial: Option<Value>,
    publisher: String,
    licence: Value,
    /// The last day any release covers.
    last: time::Date,
    keywords: Vec<String>,
}

/// The commune's bounding box as a `dct:Location`.
fn spatial_coverage(ctx: &Context) -> Option<Value> {
    let j = &ctx.jurisdiction;
    let bbox = geo::BoundingRect::bounding_rect(&j.boundary);
    bbox.map(|b| {
        json!({
            "@type": "dct:Location",
            "dcat:bbox": {
                "@type": "gsp:wktLiteral",
                "@value": format!(
                    "POLYGON(({0:.3} {1:.3}, {2:.3} {1:.3}, {2:.3} {3:.3}, {0:.3} {3:.3}, {0:.3} {1:.3}))",
                    b.min().x, b.min().y, b.max().x, b.max().y
                ),
            },
            "skos:prefLabel": j.name,
        })
    })
}

/// The commune's service groups, as it names them in English (French when it does not).
fn keywords(ctx: &Context) -> Vec<String> {
    std::iter::once("service requests".to_owned())
        .chain(
            ctx.catalog
                .groups(&ctx.jurisdiction.id)
                .iter()
                .map(|g| g.name_in(balagh_domain::Language::En).to_lowercase()),
        )
        .chain(std::iter::once("SLA".to_owned()))
        .collect()
}

/// One dataset's `dcat:Dataset`.
fn dataset_json(
    ctx: &Context,
    common: &CatalogCommon,
    (name, title, description, formats): &(&str, &str, &str, &[&str]),
) -> Value {
    let j = &ctx.jurisdiction;
    let base = &common.base;
    let spatial_resolution = match *name {
        "cells" | "reports" => json!(461.4), // H3 resolution 8: average edge, metres
        _ => Value::Null,
    };
    json!({
        "@id": format!("{base}/api/v1/open-data/catalog.jsonld#{name}"),
        "@type": "dcat:Dataset",
        "dct:identifier": format!("{}-{name}", j.id.as_str()),
        "dct:title": title,
        "dct:description": description,
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": common.publisher},
        "dct:license": common.licence,
        "dct:accessRights": {"@id": "http://publications.europa.eu/resource/authority/access-right/PUBLIC"},
        "dct:spatial": common.spatial,
        "dct:temporal": {
            "@type": "dct:PeriodOfTime",
            "dcat:endDate": {"@value": common.last.to_string(), "@type": "xsd:date"},
        },
        "dcat:spatialResolutionInMeters": spatial_resolution,
        "dcat:temporalResolution": {"@value": if *name == "reports" { "P1D" } else { "P7D" }, "@type": "xsd:duration"},
        "dct:accrualPeriodicity": {"@id": "http://publications.europa.eu/resource/authority/frequency/DAILY"},
        "dcat:keyword": common.keywords,
        "dcat:theme": {"@id": "http://publications.europa.eu/resource/authority/data-theme/GOVE"},
        "dct:conformsTo": {"@id": format!("{base}/api/v1/open-data/dictionary.json")},
        "rdfs:comment": format!(
            "Immutable releases of each complete week, month and year, published {} hours after its last day. Services whose reports are listed publicly: exact. Sensitive services: never listed; monthly counts at the finest level where each is 0 or at least {} (years and ranges: sums of published monthly entries). No free text, photo, coordinate or reporter data.",
            ctx.policy.lag().whole_hours(), ctx.policy.k_sensitive()
        ),
        "dcat:distribution": distributions(ctx, common, name, title, formats),
    })
}

/// A dataset's `dcat:Distribution`s: one per period kind and format.
fn distributions(
    ctx: &Context,
    common: &CatalogCommon,
    name: &str,
    title: &str,
    formats: &[&str],
) -> Vec<Value> {
    let base = &common.base;
    let mut distributions = Vec::new();
    for period in ["week", "month", "year"] {
        for format in formats {
            let media = match *format {
                "csv" => "text/csv",
                "geojson" => "application/geo+json",
                _ => "application/json",
            };
            let url = format!(
                "{base}/api/v1/open-data/{name}.{format}?jurisdiction={}&period={period}",
                ctx.jurisdiction.id.as_str()
            );
            distributions.push(json!({
                "@type": "dcat:Distribution",
                "dct:title": format!("{title} ({period}ly, {})", format.to_uppercase()).replace("dayly", "daily"),
                "dcat:accessURL": {"@id": url},
                "dcat:downloadURL": {"@id": url},
                "dcat:mediaType": format!("https://www.iana.org/assignments/media-types/{media}"),
                "dct:format": format.to_uppercase(),
                "dct:license": common.licence,
                "dcat:temporalResolution": {"@value": match period { "week" => "P7D", "month" => "P1M", _ => "P1Y" }, "@type": "xsd:duration"},
            }));
        }
    }
    distributions
}

/// The `dcat:Catalog` around the datasets.
fn catalog_json(ctx: &Context, common: &CatalogCommon, datasets: Vec<Value>) -> Value {
    let base = &common.base;
    json!({
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "gsp": "http://www.opengis.net/ont/geosparql#",
            "skos": "http://www.w3.org/2004/02/skos/core#",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
        },
        "@id": format!("{base}/api/v1/open-data/catalog.jsonld"),
        "@type": "dcat:Catalog",
        "dct:title": format!("{} — service reports (Balagh)", ctx.jurisdiction.name),
        "dct:description": "Anonymised statistics of residents' reports about waste collection, street lighting and urban transport, and of the operators' resolution times against their contracts.",
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": common.publisher},
        "dct:license": common.licence,
        "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/FRA"},
        "foaf:homepage": {"@id": format!("{base}/api/docs")},
        "dcat:dataset": datasets,
    })
}

/// An open-data file: `counts`, `cells`, `operators` or `reports`, as `.csv`, `.json` or
/// (`cells`) `.geojson`, for `period=week|month|year` (and `from`, `to` as elsewhere), from
/// the stored releases.
#[utoipa::path(get, path = "/api/v1/open-data/{file}", tag = "open-data",
    params(("file" = String, Path, description = "counts.csv, counts.json, cells.geojson, cells.csv, cells.json, operators.csv, operators.json, reports.csv, reports.json"), StatsParams),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/csv"),
            (Object = "application/json"),
            (Object = "application/geo+json"),
        )),
        (status = 404, description = "No such file", body = balagh_wire::Problem, content_type = "application/problem+json"),
    ))]
pub async fn open_data_file(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    Path(file): Path<String>,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Response {
    let run = async {
        let (name, format) = file
            .rsplit_once('.')
            .filter(|(n, f)| {
                DATASETS
                    .iter()
                    .any(|(d, _, _, fs)| d == n && fs.contains(f))
            })
            .ok_or_else(|| ApiError::NotFound.into_response())?;
        let (ctx, releases) = selected_releases(&state, &p).await?;
        let filename = format!(
            "{}-{name}-{}.{format}",
            ctx.jurisdiction.id.as_str(),
            kind_of(&p).as_str()
        );
        if (name, format) == ("cells", "geojson") {
            let mut body = cells_geojson(&releases, p.service.as_deref());
            body["metadata"] = header_of(&ctx, &releases);
            return Ok(geojson_response(&body));
        }
        let records = if name == "reports" && kind_of(&p) == PeriodKind::Year {
            year_records(&state, &ctx, &releases).await?
        } else {
            Vec::new()
        };
        let (columns, rows) = dataset_rows(name, &releases, &records);
        if format == "csv" {
            let mut body = csv_line(&columns);
            for row in rows {
                body.push_str(&csv_line(
                    &row.iter()
                        .map(|v| match v {
                            Value::Null => String::new(),
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>(),
                ));
            }
            Ok(csv_response(body, &filename))
        } else {
            let records: Vec<Value> = rows
                .into_iter()
                .map(|row| Value::Object(columns.iter().cloned().zip(row).collect()))
                .collect();
            let mut out = header_of(&ctx, &releases);
            out["dataset"] = json!(name);
            out["columns"] = json!(columns);
            out["records"] = Value::Array(records);
            Ok(Json(out).into_response())
        }
    };
    cached(&state, &uri, run).await
}

/// A year's record rows are its months' (labelled with the year).
async fn year_records(
    state: &AppState,
    ctx: &Context,
    years: &[Release],
) -> Published<Vec<(String, balagh_app::publish::RecordRow)>> {
    let mut ids = Vec::new();
    for year in years {
        let Ok(first) = st::parse_date("from", &year.from) else {
            continue;
        };
        let mut month = Period::containing(PeriodKind::Month, first);
        while month.first.year() == first.year() {
            ids.push(Release::id_of(ctx, &month));
            month = month.next();
        }
    }
    let months = balagh_app::publish::job::read(state, &ids)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    Ok(months
        .into_iter()
        .flat_map(|m| {
            let year = m.label[..4].to_owned();
            m.records.into_iter().map(move |r| (year.clone(), r))
        })
        .collect())
}

/// Columns and rows of a tabular dataset over releases.
fn dataset_rows(
    name: &str,
    releases: &[Release],
    year_records: &[(String, balagh_app::publish::RecordRow)],
) -> (Vec<String>, Vec<Vec<Value>>) {
    let columns: Vec<String> = DICTIONARY
        .iter()
        .filter(|(d, ..)| *d == name)
        .map(|(_, c, ..)| (*c).to_owned())
        .collect();
    let columns: Vec<String> = if name == "reports" {
        std::iter::once("period".to_owned())
            .chain(columns)
            .collect()
    } else {
        columns
    };
    let mut rows = Vec::new();
    for release in releases {
        let label = json!(release.label);
        match name {
            "counts" => {
                let new = view::table_json(release, "new");
                let resolved = view::table_json(release, "resolved");
                for (r, district) in release.districts.iter().enumerate() {
                    let services = new["rows"][r]["services"]
                        .as_object()
                        .cloned()
                        .unwrap_or_default();
                    for (service, value) in services {
                        rows.push(vec![
                            label.clone(),
                            json!(district),
                            json!(service),
                            value,
                            resolved["rows"][r]["services"][&service].clone(),
                        ]);
                    }
                }
            }
            "cells" => {
                for (service, cell, n) in &release.cells {
                    rows.push(vec![label.clone(), json!(service), json!(cell), json!(n)]);
                }
            }
            "operators" => {
                let figures = view::operators_json(release);
                for o in figures["operators"].as_array().into_iter().flatten() {
                    rows.push(vec![
                        label.clone(),
                        o["operator"].clone(),
                        o["resolved"].clone(),
                        o["within_sla"].clone(),
                        o["median_minutes_to_resolve"].clone(),
                        o["p90_minutes_to_resolve"].clone(),
                    ]);
                }
            }
            _ => {
                for r in &release.records {
                    rows.push(record_values(&label, r));
                }
            }
        }
    }
    for (year, r) in year_records {
        rows.push(record_values(&json!(year), r));
    }
    (columns, rows)
}

fn record_values(label: &Value, r: &balagh_app::publish::RecordRow) -> Vec<Value> {
    vec![
        label.clone(),
        json!(r.service),
        json!(r.district),
        json!(r.h3_cell),
        json!(r.date),
        json!(r.status),
        json!(r.minutes_to_acknowledge),
        json!(r.minutes_to_resolve),
        json!(r.operator),
    ]
}
