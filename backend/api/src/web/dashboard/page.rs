//! The staff dashboard's page: each section rendered from the data (`data.rs`).

use super::data::{self, AGES, DashboardQuery, Filters, Live, weekly, within};
use super::{StaffSession, staff_page};
use crate::state::AppState;
use crate::web::html::esc;
use crate::web::i18n::{self, PageLanguage, Tr};
use crate::web::public::{data_block, multipolygon_json, service_name, site_header};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use balagh_app::stats::Context;
use balagh_domain::Language;
use serde_json::{Value, json};
use std::fmt::Write;

fn h(language: Language, t: Tr) -> String {
    esc(t.get(language))
}

fn operator_name(ctx: &Context, slug: &str) -> String {
    ctx.catalog
        .operators_of(&ctx.jurisdiction.id)
        .find(|o| o.operator.slug.as_str() == slug)
        .map(|o| o.operator.name.clone())
        .unwrap_or_else(|| slug.to_owned())
}

fn minutes(language: Language, v: &Value) -> String {
    v.as_u64()
        .map(|m| i18n::duration(language, m))
        .unwrap_or_else(|| "–".into())
}

fn share(v: &Value) -> String {
    v.as_f64().map(i18n::percent).unwrap_or_else(|| "–".into())
}

pub async fn dashboard(
    State(state): State<AppState>,
    PageLanguage(language): PageLanguage,
    session: StaffSession,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let l = language;
    let logout = logout_form(l, &session);
    let (ctx, filters, data) = match data::load(&state, &session, &q).await {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(message)) => return bad_filter(l, &logout, &message),
        Err(e) => return e.into_response(),
    };
    let query = filters.query();
    let header = site_header(
        l,
        &format!("/staff/dashboard?lang={}", l.code()),
        "/staff/dashboard",
        &query,
        &logout,
    );

    let live = match data::live(&state, &ctx, &filters).await {
        Ok(live) => live,
        Err(e) => return e.into_response(),
    };
    let (cells, points) = match data::map_layers(&state, &ctx, &filters).await {
        Ok(layers) => layers,
        Err(e) => return e.into_response(),
    };
    let filters_html = filters_section(l, &ctx, &filters);
    let overview = overview_section(l, &ctx, &filters, &data, &live);
    let csv = |table: &str| format!("/staff/dashboard.csv?table={table}&amp;{}", esc(&query));
    let (sla_html, sla_chart) = sla_section(l, &ctx, &data, &csv("compliance"));
    let (resolution_html, resolution_chart) =
        resolution_section(l, &ctx, &data, &csv("resolution"));
    let (backlog_html, backlog_chart) = backlog_section(l, &data, &csv("backlog"));
    let map_html = map_section(l, cells.len(), points.len());
    let page_data = page_data(
        l,
        &ctx,
        [sla_chart, resolution_chart, backlog_chart],
        cells,
        points,
    );
    let body = format!(
        r#"<h1>{title}</h1>
{filters_html}{overview}{sla_html}<div class="columns">{resolution_html}{backlog_html}</div>{map_html}
{data}"#,
        title = h(l, i18n::DASHBOARD),
        data = data_block(&page_data),
    );
    staff_page(
        StatusCode::OK,
        l,
        i18n::DASHBOARD.get(l),
        &header,
        &body,
        true,
    )
}

fn logout_form(l: Language, session: &StaffSession) -> String {
    format!(
        r#"<span class="who">{}</span><form method="post" action="/staff/logout"><input type="hidden" name="csrf_token" value="{}"><button type="submit">{}</button></form>"#,
        esc(&session.user.display_name),
        esc(&session.csrf_token),
        h(l, i18n::LOG_OUT),
    )
}

fn bad_filter(l: Language, logout: &str, message: &str) -> Response {
    let header = site_header(l, "/staff/dashboard", "/staff/dashboard", "", logout);
    let body = format!(
        r#"<h1>{}</h1><p class="error" role="alert">{} — {}</p><p><a href="/staff/dashboard?lang={}">{}</a></p>"#,
        h(l, i18n::DASHBOARD),
        h(l, i18n::BAD_FILTER),
        esc(message),
        l.code(),
        h(l, i18n::DASHBOARD),
    );
    staff_page(
        StatusCode::BAD_REQUEST,
        l,
        i18n::DASHBOARD.get(l),
        &header,
        &body,
        false,
    )
}

/// The charts' and the map's data for pages.js.
fn page_data(
    l: Language,
    ctx: &Context,
    [sla, resolution, backlog]: [Value; 3],
    cells: Vec<Value>,
    points: Vec<Value>,
) -> Value {
    json!({
        "charts": {"sla": sla, "resolution": resolution, "backlog": backlog},
        "maps": {
            "staff-map": {
                "boundary": multipolygon_json(&ctx.jurisdiction.boundary),
                "cells": cells,
                "points": points,
                "counter": "map-cells",
                "legend": "map-legend",
                "words": {"points": i18n::OPEN.get(l)},
            },
        },
    })
}

fn filters_section(l: Language, ctx: &Context, filters: &Filters) -> String {
    let mut service_options = format!(r#"<option value="">{}</option>"#, h(l, i18n::ALL_SERVICES));
    for s in &ctx.services {
        let code = s.code.as_str();
        let selected = if filters.service.as_deref() == Some(code) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            service_options,
            r#"<option value="{}"{selected}>{}</option>"#,
            esc(code),
            esc(s.name.get(l))
        );
    }
    let mut operators: Vec<(String, String)> = ctx
        .catalog
        .operators_of(&ctx.jurisdiction.id)
        .map(|o| (o.operator.slug.as_str().to_owned(), o.operator.name.clone()))
        .collect();
    operators.sort();
    let mut operator_options =
        format!(r#"<option value="">{}</option>"#, h(l, i18n::ALL_OPERATORS));
    for (slug, name) in &operators {
        let selected = if filters.operator.as_ref().map(|(s, _)| s.as_str()) == Some(slug.as_str())
        {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            operator_options,
            r#"<option value="{}"{selected}>{}</option>"#,
            esc(slug),
            esc(name)
        );
    }
    format!(
        r#"<section class="card" aria-labelledby="filters-title"><h2 id="filters-title">{filters_title}</h2>
<form class="filters" id="filters" method="get" action="/staff/dashboard">
<input type="hidden" name="lang" value="{code}">
<div><label for="from">{from_label}</label><input id="from" name="from" type="date" value="{from}" required></div>
<div><label for="to">{to_label}</label><input id="to" name="to" type="date" value="{to}" required></div>
<div><label for="service">{service_label}</label><select id="service" name="service">{service_options}</select></div>
<div><label for="operator">{operator_label}</label><select id="operator" name="operator">{operator_options}</select></div>
<div><button type="submit">{apply}</button></div>
</form></section>"#,
        filters_title = h(l, i18n::FILTERS),
        code = l.code(),
        from_label = h(l, i18n::FROM),
        to_label = h(l, i18n::TO),
        from = filters.from,
        to = filters.to,
        service_label = h(l, i18n::SERVICE),
        operator_label = h(l, i18n::OPERATOR),
        apply = h(l, i18n::APPLY),
    )
}

/// The period's key figures, saying which are exact now and how far the others have got.
fn overview_section(
    l: Language,
    ctx: &Context,
    filters: &Filters,
    data: &Value,
    live: &Live,
) -> String {
    let overall = &data["overall"];
    let kpi = |id: &str, label: Tr, value: String| {
        format!(
            r#"<div><dt>{}</dt><dd id="{id}"><span dir="ltr">{}</span></dd></div>"#,
            h(l, label),
            esc(&value)
        )
    };
    let as_of = match live.rolled_up_to {
        Some(at) => format!(
            "{} <bdi dir=\"ltr\">{}</bdi>",
            h(l, i18n::FIGURES_AS_OF),
            esc(&ctx.jurisdiction.local_time(at.get()))
        ),
        None => h(l, i18n::FIGURES_NOT_YET),
    };
    format!(
        r#"<section class="card" aria-labelledby="overview-title"><h2 id="overview-title">{} <small>({} – {})</small></h2><dl class="kpis">{}{}{}{}{}{}</dl><p class="note" id="figures-as-of">{} {as_of}</p></section>"#,
        h(l, i18n::OVERALL),
        filters.from,
        filters.to,
        kpi(
            "kpi-new",
            i18n::NEW,
            // Live: a report filed a moment ago counts at once.
            live.new.to_string()
        ),
        kpi(
            "kpi-resolved",
            i18n::RESOLVED,
            overall["resolved"].as_u64().unwrap_or(0).to_string()
        ),
        kpi(
            "kpi-within-sla",
            i18n::WITHIN_SLA,
            share(&overall["within_sla"])
        ),
        kpi(
            "kpi-reopen-rate",
            i18n::REOPEN_RATE,
            share(&overall["reopen_rate"])
        ),
        kpi(
            "kpi-p50",
            i18n::P50,
            minutes(l, &overall["resolve"]["p50_minutes"])
        ),
        kpi(
            "kpi-p90",
            i18n::P90,
            minutes(l, &overall["resolve"]["p90_minutes"])
        ),
        h(l, i18n::FIGURES_LIVE),
    )
}

/// SLA compliance by week and operator: the chart's data and the table.
fn sla_section(l: Language, ctx: &Context, data: &Value, csv: &str) -> (String, Value) {
    let weeks = weekly(data);
    let week_labels: Vec<String> = weeks.keys().cloned().collect();
    let mut week_operators: Vec<String> = weeks
        .values()
        .flat_map(|m| m.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    week_operators.sort();
    let sla_series: Vec<Value> = week_operators
        .iter()
        .map(|o| {
            json!({
                "label": operator_name(ctx, o),
                "values": week_labels.iter().map(|w| {
                    weeks[w].get(o).and_then(|(_, r, b)| within(*r, *b)).map(|s| (s * 1000.0).round() / 10.0)
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut week_rows = String::new();
    for (week, per) in &weeks {
        for (op, (new, resolved, breached)) in per {
            let _ = write!(
                week_rows,
                r#"<tr><th scope="row"><bdi dir="ltr">{}</bdi></th><td>{}</td><td class="num">{new}</td><td class="num">{resolved}</td><td class="num">{breached}</td><td class="num"><span dir="ltr">{}</span></td></tr>"#,
                esc(week),
                esc(&operator_name(ctx, op)),
                within(*resolved, *breached)
                    .map(i18n::percent)
                    .unwrap_or_else(|| "–".into()),
            );
        }
    }
    if week_rows.is_empty() {
        let _ = write!(
            week_rows,
            r#"<tr><td colspan="6">{}</td></tr>"#,
            h(l, i18n::NO_DATA)
        );
    }
    let html = format!(
        r#"<section class="card" aria-labelledby="sla-title"><h2 id="sla-title">{title}</h2>
<div class="chart" id="chart-sla" data-chart="sla" role="img" aria-label="{chart}"></div>
<details class="table-view" open><summary>{as_table}</summary>
<table id="sla-table"><thead><tr><th scope="col">{week}</th><th scope="col">{operator}</th><th scope="col" class="num">{new}</th><th scope="col" class="num">{resolved}</th><th scope="col" class="num">{breached}</th><th scope="col" class="num">{within}</th></tr></thead><tbody>{week_rows}</tbody></table></details>
<ul class="downloads"><li><a id="csv-compliance" href="{csv}" download>{download}</a></li></ul></section>"#,
        title = h(l, i18n::SLA_BY_WEEK),
        chart = h(l, i18n::SLA_CHART),
        as_table = h(l, i18n::DATA_AS_TABLE),
        week = h(l, i18n::WEEK),
        operator = h(l, i18n::OPERATOR),
        new = h(l, i18n::NEW),
        resolved = h(l, i18n::RESOLVED),
        breached = h(l, i18n::BREACHED),
        within = h(l, i18n::WITHIN_SLA),
        csv = csv,
        download = h(l, i18n::DOWNLOAD_CSV),
    );
    let chart = json!({"kind": "lines", "unit": " %", "x_label": i18n::WEEK.get(l), "labels": week_labels, "series": sla_series});
    (html, chart)
}

/// Resolution times by service.
fn resolution_section(l: Language, ctx: &Context, data: &Value, csv: &str) -> (String, Value) {
    let resolution = data["resolution_by_service"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut resolution_rows = String::new();
    for r in &resolution {
        let code = r["service"].as_str().unwrap_or_default();
        let _ = write!(
            resolution_rows,
            r#"<tr><th scope="row">{}</th><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            esc(&service_name(ctx, code, l)),
            r["resolve"]["count"].as_u64().unwrap_or(0),
            esc(&minutes(l, &r["resolve"]["p50_minutes"])),
            esc(&minutes(l, &r["resolve"]["p90_minutes"])),
        );
    }
    if resolution_rows.is_empty() {
        let _ = write!(
            resolution_rows,
            r#"<tr><td colspan="4">{}</td></tr>"#,
            h(l, i18n::NO_DATA)
        );
    }
    let hours = |v: &Value| v.as_u64().map(|m| (m as f64 / 6.0).round() / 10.0);
    let resolution_chart = json!({
        "kind": "bars",
        "x_label": i18n::SERVICE.get(l),
        "unit": format!(" {}", i18n::HOURS.get(l)),
        "labels": resolution.iter().map(|r| service_name(ctx, r["service"].as_str().unwrap_or_default(), l)).collect::<Vec<_>>(),
        "series": [
            {"label": i18n::P50.get(l), "values": resolution.iter().map(|r| hours(&r["resolve"]["p50_minutes"])).collect::<Vec<_>>()},
            {"label": i18n::P90.get(l), "values": resolution.iter().map(|r| hours(&r["resolve"]["p90_minutes"])).collect::<Vec<_>>()},
        ],
    });
    let html = format!(
        r#"<section class="card" aria-labelledby="resolution-title"><h2 id="resolution-title">{title}</h2>
<div class="chart" id="chart-resolution" data-chart="resolution" role="img" aria-label="{title} (p50, p90)"></div>
<table id="resolution-table"><thead><tr><th scope="col">{service}</th><th scope="col" class="num">{resolved}</th><th scope="col" class="num">{p50}</th><th scope="col" class="num">{p90}</th></tr></thead><tbody>{resolution_rows}</tbody></table>
<ul class="downloads"><li><a id="csv-resolution" href="{csv}" download>{download}</a></li></ul></section>"#,
        title = h(l, i18n::RESOLUTION),
        service = h(l, i18n::SERVICE),
        resolved = h(l, i18n::RESOLVED),
        p50 = h(l, i18n::P50),
        p90 = h(l, i18n::P90),
        csv = csv,
        download = h(l, i18n::DOWNLOAD_CSV),
    );
    (html, resolution_chart)
}

/// Backlog ageing (live: the reports open now).
fn backlog_section(l: Language, data: &Value, csv: &str) -> (String, Value) {
    let aging = &data["backlog_aging"];
    let mut backlog_rows = String::new();
    for (key, label) in AGES {
        let _ = write!(
            backlog_rows,
            r#"<tr><th scope="row">{label}</th><td class="num" data-age="{key}">{}</td></tr>"#,
            aging[key].as_i64().unwrap_or(0)
        );
    }
    let backlog_chart = json!({
        "kind": "bars", "unit": "", "x_label": i18n::AGE.get(l),
        "labels": AGES.iter().map(|(_, label)| *label).collect::<Vec<_>>(),
        "series": [{"label": i18n::COUNT.get(l), "values": AGES.iter().map(|(key, _)| aging[*key].as_i64().unwrap_or(0)).collect::<Vec<_>>()}],
    });
    let html = format!(
        r#"<section class="card" aria-labelledby="backlog-title"><h2 id="backlog-title">{title}</h2>
<div class="chart" id="chart-backlog" data-chart="backlog" role="img" aria-label="{chart}"></div>
<table id="backlog-table"><thead><tr><th scope="col">{age}</th><th scope="col" class="num">{count}</th></tr></thead><tbody>{backlog_rows}</tbody></table>
<ul class="downloads"><li><a id="csv-backlog" href="{csv}" download>{download}</a></li></ul></section>"#,
        title = h(l, i18n::BACKLOG),
        chart = h(l, i18n::BACKLOG_CHART),
        age = h(l, i18n::AGE),
        count = h(l, i18n::COUNT),
        csv = csv,
        download = h(l, i18n::DOWNLOAD_CSV),
    );
    (html, backlog_chart)
}

/// Map: hot spots (new reports per H3 cell in the period) and open reports.
fn map_section(l: Language, n_cells: usize, n_points: usize) -> String {
    format!(
        r#"<section class="card" aria-labelledby="map-title"><h2 id="map-title">{title}</h2><p class="note">{note}</p>
<p class="note">{cells_label} : <span id="map-cells">{n_cells}</span> · {open} : <span id="map-points">{n_points}</span></p>
<div class="map" id="staff-map" data-map="staff-map" role="region" aria-label="{aria}"></div>
<ul class="legend" id="map-legend" aria-label="{legend}"></ul></section>"#,
        title = h(l, i18n::STAFF_MAP),
        note = h(l, i18n::STAFF_MAP_NOTE),
        cells_label = h(l, i18n::CELLS_SHOWN),
        n_cells = n_cells,
        n_points = n_points,
        open = h(l, i18n::OPEN),
        aria = h(l, i18n::STAFF_MAP_LABEL),
        legend = h(l, i18n::LEGEND),
    )
}
