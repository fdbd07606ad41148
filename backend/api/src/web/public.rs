//! The public transparency page (no login): current service notices, open reports per
//! service, monthly indicators with charts and tables, and a map of H3 cells. Every figure
//! comes from the statistics module's published (suppressed, coarsened, lagged) tables;
//! cells it withholds are simply not drawn.

use super::assets;
use super::html::{Frame, esc, frame};
use super::i18n::{self, PageLanguage, Tr};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use balagh_app::publish::{Release, view};
use balagh_app::stats::{self, Context, PeriodKind};
use balagh_domain::Language;
use balagh_store::Ts;
use geo::{MultiPolygon, Polygon};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;

mod monthly;
use monthly::{monthly_charts, monthly_section};

/// How many complete months the page shows.
const MONTHS: usize = 12;

/// The site header: brand, optional extra HTML (who is logged in), language switcher whose
/// links keep `query` (without `lang`).
pub(super) fn site_header(
    language: Language,
    home: &str,
    path: &str,
    query: &str,
    extra: &str,
) -> String {
    let mut links = String::new();
    for l in Language::ALL {
        let sep = if query.is_empty() { "" } else { "&" };
        let current = if l == language {
            r#" aria-current="true""#
        } else {
            ""
        };
        let _ = write!(
            links,
            r#"<li><a href="{}?{}{sep}lang={}" lang="{}" hreflang="{}"{current}>{}</a></li>"#,
            esc(path),
            esc(query),
            l.code(),
            l.code(),
            l.code(),
            i18n::own_name(l)
        );
    }
    format!(
        r#"<header class="site"><a class="brand" href="{}">Balagh</a>{extra}<nav class="languages" aria-label="{}"><ul>{links}</ul></nav></header>"#,
        esc(home),
        esc(i18n::LANGUAGES.get(language)),
    )
}

/// JSON for a `<script type="application/json">` block (no `</script>` can close it early).
pub(super) fn data_block(value: &Value) -> String {
    let text = value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    format!(r#"<script type="application/json" id="page-data">{text}</script>"#)
}

/// A geometry as GeoJSON.
pub(super) fn multipolygon_json(shape: &MultiPolygon<f64>) -> Value {
    let ring = |p: &Polygon<f64>| -> Vec<Value> {
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .map(|r| {
                Value::Array(
                    r.coords()
                        .map(|c| json!([round6(c.x), round6(c.y)]))
                        .collect(),
                )
            })
            .collect()
    };
    json!({"type": "MultiPolygon", "coordinates": shape.0.iter().map(ring).collect::<Vec<_>>()})
}

pub(super) fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

pub(super) fn service_name(ctx: &Context, code: &str, language: Language) -> String {
    ctx.services
        .iter()
        .find(|s| s.code.as_str() == code)
        .map(|s| s.name.get(language).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

/// A count, or plain words when it is withheld (too few reports of a sensitive service).
pub(super) fn count_cell(language: Language, v: Option<u64>) -> String {
    match v {
        Some(v) => format!(r#"<td class="num">{v}</td>"#),
        None => format!(
            r#"<td class="num withheld">{}</td>"#,
            esc(i18n::TOO_FEW.get(language))
        ),
    }
}

/// One published month.
#[derive(Debug, Clone)]
pub(super) struct Month {
    pub label: String,
    pub new: Option<u64>,
    pub resolved: Option<u64>,
    /// Share within SLA over the services whose figures are published, weighted by their
    /// published resolved counts.
    pub within_sla: Option<f64>,
    pub summary: Value,
}

/// The last released months (oldest first, from the first with any report), and the newest
/// month's release (for the map).
async fn months(
    state: &AppState,
    ctx: &Context,
) -> Result<(Vec<Month>, Option<Release>), ApiError> {
    let last = ctx.last_publishable_day();
    let from = last - time::Duration::days(31 * MONTHS as i64);
    let periods = match stats::periods(PeriodKind::Month, Some(from), None, last) {
        Ok(p) => p,
        Err(_) => return Ok((Vec::new(), None)),
    };
    let ids: Vec<String> = periods.iter().map(|p| Release::id_of(ctx, p)).collect();
    let releases = balagh_app::publish::job::read(state, &ids).await?;
    let skip = releases.len().saturating_sub(MONTHS);
    let mut out = Vec::new();
    for release in releases.iter().skip(skip) {
        let summary = view::summary_json(ctx, release);
        let total = |measure: &str| summary[measure]["grand_total"].as_u64();
        let mut weight = 0.0;
        let mut sum = 0.0;
        for s in summary["services"].as_array().into_iter().flatten() {
            let code = s["service"].as_str().unwrap_or_default();
            if let (Some(share), Some(resolved)) = (
                s["within_sla"].as_f64(),
                summary["resolved"]["service_totals"][code].as_u64(),
            ) {
                weight += resolved as f64;
                sum += share * resolved as f64;
            }
        }
        out.push(Month {
            label: release.label.clone(),
            new: total("new"),
            resolved: total("resolved"),
            within_sla: (weight > 0.0).then(|| sum / weight),
            summary,
        });
    }
    Ok((out, releases.last().cloned()))
}

/// Open reports now of each service whose reports are listed publicly (the same reports
/// anyone can list through Open311); `None` for the others, published monthly only.
async fn open_counts(
    state: &AppState,
    ctx: &Context,
) -> Result<Vec<(String, String, Option<u64>)>, ApiError> {
    let backlog = state
        .stale_reads()
        .stats_backlog(ctx.jurisdiction.id.as_str(), Ts::now())
        .await?;
    let mut per: BTreeMap<String, i64> = BTreeMap::new();
    for b in backlog {
        *per.entry(b.service).or_default() += b.buckets.iter().sum::<i64>();
    }
    Ok(ctx
        .services
        .iter()
        .map(|s| {
            let code = s.code.as_str();
            let n = per.get(code).copied().unwrap_or(0).max(0) as u64;
            (
                code.to_owned(),
                s.group.as_str().to_owned(),
                ctx.records.lists(s).then_some(n),
            )
        })
        .collect())
}

fn notices_html(ctx: &Context, language: Language, list: &[Value]) -> String {
    if list.is_empty() {
        return format!(
            r#"<p id="no-notices">{}</p>"#,
            i18n::NO_NOTICES.get(language)
        );
    }
    let mut items = String::new();
    for n in list {
        let services: Vec<String> = n["service_codes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|c| service_name(ctx, c, language))
            .collect();
        let until = n["until"].as_str().unwrap_or_default();
        let place = match n["place"].as_str().filter(|p| !p.is_empty()) {
            Some(p) => format!(
                r#"<span class="where">{} <bdi>{}</bdi></span> · "#,
                esc(i18n::WHERE.get(language)),
                esc(p)
            ),
            None => String::new(),
        };
        let _ = write!(
            items,
            r#"<li class="notice"><span class="kind">{}</span><h3 lang="{}">{}</h3><p lang="{}">{}</p><p class="note">{place}{} · {} {}</p></li>"#,
            esc(i18n::notice_kind(n["kind"].as_str().unwrap_or_default()).get(language)),
            esc(n["language"].as_str().unwrap_or("fr")),
            esc(n["title"].as_str().unwrap_or_default()),
            esc(n["language"].as_str().unwrap_or("fr")),
            esc(n["body"].as_str().unwrap_or_default()),
            esc(&services.join(", ")),
            esc(i18n::UNTIL.get(language)),
            esc(until),
        );
    }
    format!(r#"<ul class="notices" id="notices">{items}</ul>"#)
}

async fn current_notices(
    state: &AppState,
    ctx: &Context,
    language: Language,
) -> Result<Vec<Value>, ApiError> {
    let now = Ts::now();
    let notices = state
        .stale_reads()
        .current_notices(ctx.jurisdiction.id.as_str(), now, 50)
        .await?;
    Ok(notices
        .iter()
        .filter(|n| n.valid_from <= now && n.withdrawn_at.is_none())
        .map(|n| {
            let view = balagh_app::notify::notice_view(
                n,
                language,
                ctx.jurisdiction.default_language,
                None,
            );
            json!({
                "kind": view.kind,
                "service_codes": view.service_codes,
                "title": view.title,
                "body": view.body,
                "language": view.language,
                "until": ctx.jurisdiction.local_time(n.valid_until.get()),
                "place": notice_place(state, n),
            })
        })
        .collect())
}

/// Where a notice applies, in words: the districts (contract zones) its area's centre
/// lies in, once each.
fn notice_place(state: &AppState, notice: &balagh_store::StoredNotice) -> String {
    use geo::Contains;
    let b = &notice.bbox;
    let centre = geo::Point::new((b.min_lon + b.max_lon) / 2.0, (b.min_lat + b.max_lat) / 2.0);
    let catalog = state.catalog();
    let mut names: Vec<&str> = catalog
        .router()
        .contracts()
        .iter()
        .filter(|c| c.jurisdiction.as_str() == notice.jurisdiction_id && c.zone.contains(&centre))
        .map(|c| c.zone_name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

/// `?jurisdiction=` names the commune (a deployment may serve several); without it, the
/// first one.
#[derive(Debug, serde::Deserialize)]
pub struct CommuneQuery {
    jurisdiction: Option<String>,
}

impl CommuneQuery {
    /// The query string that keeps naming this commune in the page's own links.
    fn keep(ctx: &Context) -> String {
        format!("jurisdiction={}", ctx.jurisdiction.id.as_str())
    }
}

pub async fn transparency(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    Query(commune): Query<CommuneQuery>,
) -> Response {
    match render(&state, language, commune.jurisdiction.as_deref()).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

fn h(language: Language, t: Tr) -> String {
    esc(t.get(language))
}

async fn render(
    state: &AppState,
    language: Language,
    jurisdiction: Option<&str>,
) -> Result<Response, ApiError> {
    let Some(ctx) = Context::new(state, jurisdiction) else {
        return Err(ApiError::NotFound);
    };
    let l = language;
    let notices = current_notices(state, &ctx, l).await?;
    let mut open = open_counts(state, &ctx).await?;
    // One heading per group, in the commune's group order (services by code within one).
    let groups = ctx.catalog.groups(&ctx.jurisdiction.id);
    open.sort_by_key(|(_, g, _)| balagh_domain::service_group::display_rank(groups, g));
    let (months, newest) = months(state, &ctx).await?;

    let open_rows = open_rows_html(&ctx, l, &open);
    let map = newest_map(newest.as_ref());
    let data = json!({
        "charts": monthly_charts(l, &months),
        "maps": {
            "public-map": {
                "boundary": multipolygon_json(&ctx.jurisdiction.boundary),
                "cells": map.cells,
                "filter": "map-service",
                "counter": "map-cells",
                "legend": "map-legend",
            },
        },
    });
    let body = page_body(
        &ctx,
        l,
        &PageParts {
            notices: &notices,
            open_rows: &open_rows,
            monthly: &monthly_section(&ctx, l, &months),
            map: &map,
            data: &data,
        },
    );
    Ok(page_response(&ctx, l, &body))
}

/// Open reports per service, one heading row per group (`open` is in display order).
fn open_rows_html(ctx: &Context, l: Language, open: &[(String, String, Option<u64>)]) -> String {
    let mut open_rows = String::new();
    let mut group = String::new();
    for (code, g, n) in open {
        if *g != group {
            group = g.clone();
            let _ = write!(
                open_rows,
                r#"<tr class="group"><th colspan="2" scope="rowgroup">{}</th></tr>"#,
                esc(&crate::routes::service_groups::group_name(
                    &ctx.catalog,
                    &ctx.jurisdiction.id,
                    g,
                    l
                ))
            );
        }
        let count = match n {
            Some(n) => format!(r#"<td class="num" data-service="{}">{n}</td>"#, esc(code)),
            None => format!(
                r#"<td class="num" data-service="{}">{}</td>"#,
                esc(code),
                h(l, i18n::MONTHLY_ONLY)
            ),
        };
        let _ = write!(
            open_rows,
            r#"<tr><th scope="row">{}</th>{count}</tr>"#,
            esc(&service_name(ctx, code, l))
        );
    }
    open_rows
}

/// The map of the newest month: its drawable cells, the services they show (sorted) and
/// the month's label.
struct MapCells {
    cells: Vec<Value>,
    services: Vec<String>,
    label: String,
}

/// The newest month's cells with a geometry (none without a release).
fn newest_map(newest: Option<&Release>) -> MapCells {
    let mut cells = Vec::new();
    let mut map_services: Vec<String> = Vec::new();
    let mut map_label = String::new();
    if let Some(release) = newest {
        map_label = release.label.clone();
        for f in view::cell_features(release, None) {
            let p = &f["properties"];
            if f["geometry"].is_null() {
                continue;
            }
            let service = p["service"].as_str().unwrap_or_default().to_owned();
            if !map_services.contains(&service) {
                map_services.push(service.clone());
            }
            cells.push(json!({
                "id": p["h3_cell"], "service": service, "count": p["new"], "geometry": f["geometry"],
            }));
        }
    }
    map_services.sort();
    MapCells {
        cells,
        services: map_services,
        label: map_label,
    }
}

/// The map's service filter: "all services", then one option per service shown.
fn map_options_html(ctx: &Context, l: Language, services: &[String]) -> String {
    let mut options = format!(r#"<option value="">{}</option>"#, h(l, i18n::ALL_SERVICES));
    for s in services {
        let _ = write!(
            options,
            r#"<option value="{}">{}</option>"#,
            esc(s),
            esc(&service_name(ctx, s, l))
        );
    }
    options
}

/// The already rendered pieces of the page's body.
struct PageParts<'a> {
    notices: &'a [Value],
    open_rows: &'a str,
    monthly: &'a str,
    map: &'a MapCells,
    data: &'a Value,
}

/// The page's body: notices, open reports, monthly indicators, map, and the data block.
fn page_body(ctx: &Context, l: Language, parts: &PageParts<'_>) -> String {
    format!(
        r#"<h1>{title}</h1>
<p class="lead">{intro}</p>
<section class="card" aria-labelledby="notices-title"><h2 id="notices-title">{notices_title}</h2>{notices}</section>
<section class="card" aria-labelledby="open-title"><h2 id="open-title">{open_title}</h2><p class="note">{open_note}</p>
<table id="open-table"><thead><tr><th scope="col">{service}</th><th scope="col" class="num">{open_col}</th></tr></thead><tbody>{open_rows}</tbody></table></section>
<section class="card" aria-labelledby="monthly-title"><h2 id="monthly-title">{monthly_title}</h2><p class="note">{monthly_note}</p>{monthly}</section>
<section class="card" aria-labelledby="map-title"><h2 id="map-title">{map_title} {map_label}</h2><p class="note">{map_note}</p>
<div class="field"><label for="map-service">{service}</label><select id="map-service">{options}</select></div>
<p class="note">{cells_shown} : <span id="map-cells">{cell_count}</span></p>
<div class="map" id="public-map" data-map="public-map" role="region" aria-label="{map_aria}"></div>
<ul class="legend" id="map-legend" aria-label="{legend}"></ul></section>
{data}"#,
        title = h(l, i18n::TRANSPARENCY),
        intro = h(l, i18n::TRANSPARENCY_INTRO),
        notices_title = h(l, i18n::NOTICES),
        notices = notices_html(ctx, l, parts.notices),
        open_title = h(l, i18n::OPEN_NOW),
        open_note = h(l, i18n::OPEN_NOW_NOTE),
        service = h(l, i18n::SERVICE),
        open_col = h(l, i18n::OPEN),
        open_rows = parts.open_rows,
        monthly_title = h(l, i18n::MONTHLY),
        monthly_note = h(l, i18n::MONTHLY_NOTE),
        monthly = parts.monthly,
        map_title = h(l, i18n::MAP),
        map_label = esc(&parts.map.label),
        map_note = h(l, i18n::MAP_NOTE),
        options = map_options_html(ctx, l, &parts.map.services),
        cells_shown = h(l, i18n::CELLS_SHOWN),
        cell_count = parts.map.cells.len(),
        map_aria = h(l, i18n::MAP_LABEL),
        legend = h(l, i18n::LEGEND),
        data = data_block(parts.data),
    )
}

/// The page in its frame (header, assets), varying by `Accept-Language`.
fn page_response(ctx: &Context, l: Language, body: &str) -> Response {
    let header = site_header(
        l,
        &format!(
            "/transparency?{}&lang={}",
            CommuneQuery::keep(ctx),
            l.code()
        ),
        "/transparency",
        &CommuneQuery::keep(ctx),
        "",
    );
    let scripts = [
        assets::url("uPlot.iife.min.js"),
        assets::url("leaflet.js"),
        assets::url("pages.js"),
    ];
    let styles = [
        assets::url("uPlot.min.css"),
        assets::url("leaflet.css"),
        assets::url("pages.css"),
    ];
    let scripts: Vec<&str> = scripts.iter().map(String::as_str).collect();
    let styles: Vec<&str> = styles.iter().map(String::as_str).collect();
    let mut response = frame(
        StatusCode::OK,
        &Frame {
            language: l,
            title: i18n::TRANSPARENCY.get(l),
            header: &header,
            body,
            stylesheets: &styles,
            scripts: &scripts,
            skip_link: Some(i18n::SKIP.get(l)),
        },
    );
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    response
}

/// The monthly table as CSV (the same figures as the page's chart and table).
pub async fn monthly_csv(
    State(state): State<AppState>,
    Query(commune): Query<CommuneQuery>,
) -> Response {
    let Some(ctx) = Context::new(&state, commune.jurisdiction.as_deref()) else {
        return ApiError::NotFound.into_response();
    };
    let (months, _) = match months(&state, &ctx).await {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let mut out = stats::csv_line(&[
        "month".into(),
        "new".into(),
        "resolved".into(),
        "within_sla".into(),
    ]);
    for m in &months {
        out.push_str(&stats::csv_line(&[
            m.label.clone(),
            m.new.map(|v| v.to_string()).unwrap_or_default(),
            m.resolved.map(|v| v.to_string()).unwrap_or_default(),
            m.within_sla
                .map(|s| format!("{:.3}", s))
                .unwrap_or_default(),
        ]));
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"balagh-monthly.csv\"",
            ),
        ],
        out,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_withheld_count_says_why_in_plain_words() {
        assert_eq!(
            count_cell(Language::Fr, Some(7)),
            r#"<td class="num">7</td>"#
        );
        let cells = [Language::Fr, Language::Ar, Language::En].map(|l| count_cell(l, None));
        assert!(
            cells[0].contains("trop peu de signalements pour publier"),
            "{}",
            cells[0]
        );
        assert!(cells[1].contains("بلاغات أقل من أن تُنشر"), "{}", cells[1]);
        assert!(
            cells[2].contains("too few reports to publish"),
            "{}",
            cells[2]
        );
        assert!(cells.iter().all(|c| !c.contains('–') && !c.contains("< k")));
    }
}
