//! The attacker's record checks: the open-data record file against the tables, every
//! Open311 request and update, and the "nearby" look-ups (a child of `attack.rs`, so both
//! the integration test and the benchmark that include that file get it).

use super::{Client, Knowledge, Outcome, Table};
use serde_json::Value;
use std::collections::HashMap;

/// The record file: never a protected service; per period, district and listed service,
/// as many rows as the published `new`.
pub(super) fn check_record_file(
    k: &Knowledge,
    tables: &[Table],
    records: &Value,
    out: &mut Outcome,
) {
    let mut counted: HashMap<(String, String, String), u64> = HashMap::new();
    for r in records["records"].as_array().into_iter().flatten() {
        let service = r["service"].as_str().unwrap_or_default().to_owned();
        if k.protected.contains(&service) {
            out.leaks.push(format!("record file lists {service}"));
        }
        if r.get("reference").is_some() {
            out.leaks.push("record file carries a reference".into());
        }
        *counted
            .entry((
                r["period"].as_str().unwrap_or_default().to_owned(),
                r["district"].as_str().unwrap_or_default().to_owned(),
                service,
            ))
            .or_default() += 1;
    }
    for t in tables.iter().filter(|t| t.body.get("period").is_some()) {
        let label = t.body["period"].as_str().unwrap_or_default();
        for row in t.body["new"]["rows"].as_array().into_iter().flatten() {
            let d = row["district"].as_str().unwrap_or_default();
            for (s, v) in row["services"].as_object().into_iter().flatten() {
                if k.protected.contains(s) {
                    continue;
                }
                let rows = counted
                    .get(&(label.to_owned(), d.to_owned(), s.clone()))
                    .copied()
                    .unwrap_or(0);
                if records["records"].as_array().is_some_and(|a| !a.is_empty())
                    && records["records"][0]["period"]
                        .as_str()
                        .map(|p| p.contains('W'))
                        == Some(label.contains('W'))
                    && v.as_u64() != Some(rows)
                {
                    out.inconsistencies
                        .push(format!("{label} {d} {s}: {rows} rows, table {v}"));
                }
            }
        }
    }
}

fn snapped(grid_m: f64, lat: f64, lon: f64) -> bool {
    let policy = balagh_domain::publish::RecordPolicy::new(grid_m).expect("grid");
    balagh_domain::GeoPoint::parse(lat, lon).is_ok_and(|p| policy.is_snapped(&p))
}

/// Where an open report of a service was listed, and when (RFC 3339).
pub(super) type OpenPoint = (f64, f64, String, String);

/// Open311: every request and update, page by page, over the last 360 days. Returns where
/// open reports were listed, for the nearby look-ups.
pub(super) async fn open311(k: &Knowledge, c: &mut Client, out: &mut Outcome) -> Vec<OpenPoint> {
    let mut open_points = Vec::new();
    let now = time::OffsetDateTime::now_utc();
    let format = time::format_description::well_known::Rfc3339;
    for window in 0..4 {
        let end = now - time::Duration::days(90 * window);
        let start = end - time::Duration::days(89);
        let q = format!(
            "start_date={}&end_date={}",
            start
                .format(&format)
                .unwrap_or_default()
                .replace('+', "%2B"),
            end.format(&format).unwrap_or_default().replace('+', "%2B")
        );
        for page in 1..=40 {
            let list = c
                .json(&format!(
                    "/open311/v2/requests.json?{q}&page={page}&page_size=1000&extensions=true"
                ))
                .await;
            let items = list.as_array().cloned().unwrap_or_default();
            for r in &items {
                out.open311_records += 1;
                check_record(k, r, "open311", out);
                if r["status"] == "open"
                    && let (Some(lat), Some(lon), Some(service), Some(at)) = (
                        r["lat"].as_f64(),
                        r["long"].as_f64(),
                        r["service_code"].as_str(),
                        r["requested_datetime"].as_str(),
                    )
                {
                    open_points.push((lat, lon, service.to_owned(), at.to_owned()));
                }
            }
            if items.len() < 1000 {
                break;
            }
        }
        let updates = c
            .json(&format!("/open311/v2/servicerequestupdates.json?{q}"))
            .await;
        for u in updates.as_array().into_iter().flatten() {
            let time = u["updated_datetime"].as_str().unwrap_or_default();
            if !time.contains(":00:00") {
                out.leaks
                    .push(format!("open311 update time to the second: {time}"));
            }
        }
    }
    open_points
}

fn check_record(k: &Knowledge, r: &Value, source: &str, out: &mut Outcome) {
    let service = r["service_code"].as_str().unwrap_or_default();
    if k.protected.iter().any(|p| p == service) {
        out.leaks.push(format!("{source} lists a {service} report"));
    }
    let (lat, lon) = (
        r["lat"].as_f64().unwrap_or(0.0),
        r["long"]
            .as_f64()
            .or_else(|| r["lon"].as_f64())
            .unwrap_or(0.0),
    );
    if !snapped(k.grid_m, lat, lon) {
        out.leaks
            .push(format!("{source} point not on the grid: {lat}, {lon}"));
    }
    for field in ["requested_datetime", "updated_datetime", "created_at"] {
        if let Some(t) = r[field].as_str()
            && !t.contains(":00:00")
        {
            out.leaks
                .push(format!("{source} {field} to the second: {t}"));
        }
    }
    if let Some(text) = r["description"].as_str()
        && !balagh_domain::publish::is_clean(text)
    {
        out.leaks
            .push(format!("{source} unscreened description: {text}"));
    }
}

/// Most look-ups aimed at where Open311 listed open reports (the newest first).
const AIMED_LOOKUPS: usize = 40;

/// A grid sweep of nearby for every service, then look-ups aimed at the points where
/// Open311 listed open reports (a sparse commune's few open reports can all fall between
/// the sweep's points; the attacker knows where they are).
pub(super) async fn nearby(
    k: &Knowledge,
    c: &mut Client,
    out: &mut Outcome,
    open_points: &[OpenPoint],
) {
    let (s, w, n, e) = k.bbox;
    for i in 0..k.sweep {
        for j in 0..k.sweep {
            let lat = s + (n - s) * (i as f64 + 0.5) / k.sweep as f64;
            let lon = w + (e - w) * (j as f64 + 0.5) / k.sweep as f64;
            for service in &k.services {
                nearby_at(k, c, out, lat, lon, service).await;
            }
        }
    }
    let mut newest: Vec<&OpenPoint> = open_points.iter().collect();
    newest.sort_by(|a, b| b.3.cmp(&a.3));
    for (lat, lon, service, _) in newest.into_iter().take(AIMED_LOOKUPS) {
        nearby_at(k, c, out, *lat, *lon, service).await;
    }
}

async fn nearby_at(
    k: &Knowledge,
    c: &mut Client,
    out: &mut Outcome,
    lat: f64,
    lon: f64,
    service: &str,
) {
    let list = c
        .json(&format!(
            "/api/v1/reports/nearby?lat={lat}&lon={lon}&service_code={service}&page_size=50"
        ))
        .await;
    for r in list["reports"].as_array().into_iter().flatten() {
        out.nearby_records += 1;
        check_record(k, r, "nearby", out);
        if r["distance_m"].as_f64().is_some_and(|d| d % 50.0 != 0.0) {
            out.leaks.push("nearby distance not rounded to 50 m".into());
        }
    }
}
