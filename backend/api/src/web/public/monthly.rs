//! The transparency page's monthly indicators: charts, tables and the latest month by
//! service.

use super::{CommuneQuery, Month, count_cell, h, service_name};
use crate::web::html::esc;
use crate::web::i18n;
use balagh_app::stats::Context;
use balagh_domain::Language;
use serde_json::{Value, json};
use std::fmt::Write;

/// The monthly indicators table's rows.
fn month_rows_html(l: Language, months: &[Month]) -> String {
    let mut month_rows = String::new();
    for m in months {
        let _ = write!(
            month_rows,
            r#"<tr><th scope="row">{}</th>{}{}<td class="num"><span dir="ltr">{}</span></td></tr>"#,
            esc(&m.label),
            count_cell(l, m.new),
            count_cell(l, m.resolved),
            m.within_sla
                .map(i18n::percent)
                .unwrap_or_else(|| "–".into()),
        );
    }
    month_rows
}

/// The two monthly charts' data (counts, share within SLA).
pub(super) fn monthly_charts(l: Language, months: &[Month]) -> Value {
    let labels: Vec<&str> = months.iter().map(|m| m.label.as_str()).collect();
    json!({
        "monthly-counts": {
            "kind": "lines", "labels": labels, "unit": "", "x_label": i18n::MONTH.get(l),
            "series": [
                {"label": i18n::NEW.get(l), "values": months.iter().map(|m| m.new).collect::<Vec<_>>()},
                {"label": i18n::RESOLVED.get(l), "values": months.iter().map(|m| m.resolved).collect::<Vec<_>>()},
            ],
        },
        "monthly-sla": {
            "kind": "lines", "labels": labels, "unit": " %", "x_label": i18n::MONTH.get(l),
            "series": [
                {"label": i18n::WITHIN_SLA.get(l), "values": months.iter().map(|m| m.within_sla.map(|s| (s * 1000.0).round() / 10.0)).collect::<Vec<_>>()},
            ],
        },
    })
}

/// The latest month's figures by service.
fn service_rows_html(ctx: &Context, l: Language, months: &[Month]) -> String {
    let mut service_rows = String::new();
    if let Some(latest) = months.last() {
        for s in latest.summary["services"].as_array().into_iter().flatten() {
            let code = s["service"].as_str().unwrap_or_default();
            let median = s["median_minutes_to_resolve"]
                .as_u64()
                .map(|m| i18n::duration(l, m))
                .unwrap_or_else(|| "–".into());
            let within = s["within_sla"]
                .as_f64()
                .map(i18n::percent)
                .unwrap_or_else(|| "–".into());
            let _ = write!(
                service_rows,
                r#"<tr><th scope="row">{}</th>{}{}<td class="num">{}</td><td class="num"><span dir="ltr">{}</span></td></tr>"#,
                esc(&service_name(ctx, code, l)),
                count_cell(l, latest.summary["new"]["service_totals"][code].as_u64()),
                count_cell(
                    l,
                    latest.summary["resolved"]["service_totals"][code].as_u64()
                ),
                esc(&median),
                esc(&within),
            );
        }
    }
    service_rows
}

/// The monthly section's content: charts, table, CSV link and the latest month by service
/// (or a note when no month is published).
pub(super) fn monthly_section(ctx: &Context, l: Language, months: &[Month]) -> String {
    if months.is_empty() {
        return format!(r#"<p id="no-months">{}</p>"#, h(l, i18n::NO_MONTHS));
    }
    format!(
        r#"<div class="columns">
<div><h3>{counts_title}</h3><div class="chart" id="chart-monthly-counts" data-chart="monthly-counts" role="img" aria-label="{counts_title}"></div></div>
<div><h3>{sla_title}</h3><div class="chart" id="chart-monthly-sla" data-chart="monthly-sla" role="img" aria-label="{sla_title}"></div></div>
</div>
<table id="monthly-table"><caption>{table_caption}</caption><thead><tr><th scope="col">{month}</th><th scope="col" class="num">{new}</th><th scope="col" class="num">{resolved}</th><th scope="col" class="num">{within}</th></tr></thead><tbody>{month_rows}</tbody></table>
<ul class="downloads"><li><a id="monthly-csv" href="/transparency/monthly.csv?{keep}" download>{csv}</a></li></ul>
<h3>{by_service} ({latest})</h3>
<table id="service-table"><thead><tr><th scope="col">{service}</th><th scope="col" class="num">{new}</th><th scope="col" class="num">{resolved}</th><th scope="col" class="num">{median}</th><th scope="col" class="num">{within}</th></tr></thead><tbody>{service_rows}</tbody></table>"#,
        counts_title = h(l, i18n::CHART_COUNTS),
        sla_title = h(l, i18n::CHART_SLA),
        table_caption = h(l, i18n::DATA_AS_TABLE),
        month = h(l, i18n::MONTH),
        new = h(l, i18n::NEW),
        resolved = h(l, i18n::RESOLVED),
        within = h(l, i18n::WITHIN_SLA),
        month_rows = month_rows_html(l, months),
        csv = h(l, i18n::DOWNLOAD_CSV),
        keep = CommuneQuery::keep(ctx),
        by_service = h(l, i18n::BY_SERVICE_MONTH),
        latest = esc(months.last().map(|m| m.label.as_str()).unwrap_or_default()),
        service = h(l, i18n::SERVICE),
        service_rows = service_rows_html(ctx, l, months),
        median = h(l, i18n::MEDIAN_RESOLVE),
    )
}
