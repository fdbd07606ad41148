//! An outsider who downloads every public output of a Balagh server and tries to recover
//! what it withholds (issue 16). Shared by the integration test
//! (`backend/balagh/tests/integration/disclosure.rs`, which fails when the attacker wins)
//! and the benchmark that prints its figures (`balagh-disclosure-bench`).
//!
//! What it downloads: the statistics summary for weeks and months, `services`,
//! `operators` and `indicators` for every contiguous range of weeks and of months, every
//! open-data file for both period kinds, the cell map, the transparency page, every
//! Open311 request and update, and a grid sweep of "nearby" for every service.
//!
//! What it tries:
//! - **Linear attack on withheld counts** (nested and overlapping ranges, week/month
//!   differences, row and column totals, linked district and operator tables, structural
//!   zeros): every published figure involving a protected service is an equation over
//!   unknown counts per (district, stretch of days between any two published period
//!   boundaries); a published 0 fixes every unknown it sums to 0 (non-negativity); a
//!   withheld entry is recovered when its sum lies in the span of the published equations
//!   (exact elimination modulo a large prime).
//! - The same on the monthly channel table, with each month's total known from the
//!   record file.
//! - **Records**: any record (Open311, updates, nearby, record file, map) of a protected
//!   service; any point not on the record grid; any time finer than the hour; any seeded
//!   personal datum anywhere in any downloaded byte; record file rows against the tables.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod records;
use records::{check_record_file, nearby, open311};

/// What the attacker knows besides the downloads (public knowledge).
#[derive(Debug, Clone)]
pub struct Knowledge {
    pub base: String,
    /// A device token (anyone can register one).
    pub device: String,
    /// Services never listed (sensitive), and every service code.
    pub protected: Vec<String>,
    pub services: Vec<String>,
    /// Protected service → operator → its districts (from the contracts).
    pub operator_districts: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    /// Texts seeded into descriptions that must never come out.
    pub secrets: Vec<String>,
    /// A box around the commune for the nearby sweep: (south, west, north, east).
    pub bbox: (f64, f64, f64, f64),
    pub sweep: usize,
    pub grid_m: f64,
}

/// What the attack found.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub requests: usize,
    pub bytes: usize,
    /// Protected entries withheld, and published (district, operator, total entries of
    /// every monthly table).
    pub withheld: usize,
    pub published: usize,
    /// Withheld entries whose value the equations determine.
    pub recovered: Vec<String>,
    pub channel_rows_withheld: usize,
    pub channel_recovered: Vec<String>,
    /// Leaks of records: protected records, unsnapped points, precise times, secrets.
    pub leaks: Vec<String>,
    /// Record-file rows that disagree with the tables.
    pub inconsistencies: Vec<String>,
    pub open311_records: usize,
    pub nearby_records: usize,
}

struct Client {
    http: reqwest::Client,
    base: String,
    device: String,
    requests: usize,
    texts: Vec<String>,
}

impl Client {
    async fn text(&mut self, path: &str) -> Option<String> {
        self.requests += 1;
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.device)
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let text = response.text().await.ok()?;
        self.texts.push(text.clone());
        Some(text)
    }

    async fn json(&mut self, path: &str) -> Value {
        self.text(path)
            .await
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null)
    }
}

/// One equation: the sum of some unknowns (indices) equals a value.
#[derive(Debug, Clone)]
struct Fact {
    vars: Vec<usize>,
    value: u64,
}

/// Unknowns of one (protected service, measure): district × atom of days.
#[derive(Debug, Default)]
struct System {
    index: HashMap<(String, usize), usize>,
    facts: Vec<Fact>,
    targets: Vec<(String, Vec<usize>)>,
}

impl System {
    fn var(&mut self, district: &str, atom: usize) -> usize {
        let n = self.index.len();
        *self.index.entry((district.to_owned(), atom)).or_insert(n)
    }

    fn entry(&mut self, districts: &[String], atoms: &[usize]) -> Vec<usize> {
        let mut vars = Vec::new();
        for d in districts {
            for a in atoms {
                vars.push(self.var(d, *a));
            }
        }
        vars.sort_unstable();
        vars.dedup();
        vars
    }

    /// Withheld targets whose sums the published facts determine, with their values;
    /// those determined to be 0 only because published zeros cover them are left out (a
    /// published 0 says as much of every part of it).
    fn recovered(&self) -> Vec<String> {
        const P: i128 = 2_305_843_009_213_693_951; // 2^61 - 1
        let n = self.index.len();
        // Non-negativity: a published 0 makes every unknown in it 0.
        let mut zero = vec![false; n];
        for f in &self.facts {
            if f.value == 0 {
                for v in &f.vars {
                    zero[*v] = true;
                }
            }
        }
        type Row = (BTreeMap<usize, i128>, i128);
        let row = |vars: &[usize], value: u64| -> Row {
            (
                vars.iter()
                    .filter(|v| !zero[**v])
                    .map(|v| (*v, 1))
                    .collect(),
                i128::from(value),
            )
        };
        let pow = |mut b: i128, mut e: i128| {
            let mut r = 1i128;
            b %= P;
            while e > 0 {
                if e & 1 == 1 {
                    r = r * b % P;
                }
                b = b * b % P;
                e >>= 1;
            }
            r
        };
        // Subtracts c × (basis row) from r, right-hand sides included.
        let axpy = |r: &mut Row, c: i128, b: &Row| {
            for (k, v) in &b.0 {
                let e = r.0.entry(*k).or_insert(0);
                *e = ((*e - c * v) % P + P) % P;
            }
            r.0.retain(|_, v| *v != 0);
            r.1 = ((r.1 - c * b.1) % P + P) % P;
        };
        let reduce = |mut r: Row, basis: &BTreeMap<usize, Row>| {
            while let Some((pivot, c)) =
                r.0.iter()
                    .find(|(k, _)| basis.contains_key(k))
                    .map(|(k, c)| (*k, *c))
            {
                axpy(&mut r, c, &basis[&pivot]);
            }
            r
        };
        // Echelon basis, fully reduced: pivot → row.
        let mut basis: BTreeMap<usize, Row> = BTreeMap::new();
        for f in &self.facts {
            let r = reduce(row(&f.vars, f.value), &basis);
            let Some((&pivot, &c)) = r.0.iter().next() else {
                continue;
            };
            let inv = pow(c, P - 2);
            let normal: Row = (
                r.0.into_iter().map(|(k, v)| (k, v * inv % P)).collect(),
                r.1 * inv % P,
            );
            for other in basis.values_mut() {
                if let Some(&c) = other.0.get(&pivot) {
                    axpy(other, c, &normal);
                }
            }
            basis.insert(pivot, normal);
        }
        self.targets
            .iter()
            .filter(|(_, vars)| !vars.is_empty())
            .filter_map(|(name, vars)| {
                // t = Σ c·b gives value(t) = Σ c·rhs: reduce −t, whose rhs then holds it.
                let mut t: Row = row(vars, 0);
                if t.0.is_empty() {
                    return None; // covered by published zeros
                }
                for v in t.0.values_mut() {
                    *v = P - *v;
                }
                let reduced = reduce(t, &basis);
                (reduced.0.is_empty() && reduced.1 != 0).then(|| format!("{name} = {}", reduced.1))
            })
            .collect()
    }
}

fn date(raw: &str) -> Option<time::Date> {
    time::Date::parse(
        raw,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// The atoms (stretches of days between published period boundaries) a period covers.
fn atoms_of(bounds: &[time::Date], from: time::Date, to: time::Date) -> Vec<usize> {
    let next = to + time::Duration::days(1);
    (0..bounds.len().saturating_sub(1))
        .filter(|&i| bounds[i] >= from && bounds[i + 1] <= next)
        .collect()
}

/// Every answer with a `periods` list or a single range, as (from, to, body) tables.
struct Table {
    from: time::Date,
    to: time::Date,
    body: Value,
    /// `summary` period or `services` range: counts tables; `operators`: operator table.
    operators: bool,
}

pub async fn attack(k: &Knowledge) -> Outcome {
    let mut c = Client {
        http: reqwest::Client::new(),
        base: k.base.clone(),
        device: k.device.clone(),
        requests: 0,
        texts: Vec::new(),
    };
    let mut out = Outcome::default();
    let far = "from=2000-01-01&to=2100-12-31";
    let mut tables: Vec<Table> = Vec::new();
    let mut month_labels = Vec::new();
    for kind in ["week", "month"] {
        let summary = c
            .json(&format!("/api/v1/stats/summary?period={kind}&{far}"))
            .await;
        let periods: Vec<Value> = summary["periods"].as_array().cloned().unwrap_or_default();
        let spans: Vec<(String, String)> = periods
            .iter()
            .map(|p| {
                (
                    p["from"].as_str().unwrap_or_default().to_owned(),
                    p["to"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        for p in &periods {
            if let (Some(f), Some(t)) = (
                date(p["from"].as_str().unwrap_or("")),
                date(p["to"].as_str().unwrap_or("")),
            ) {
                tables.push(Table {
                    from: f,
                    to: t,
                    body: p.clone(),
                    operators: false,
                });
                if kind == "month" {
                    month_labels.push((p["period"].as_str().unwrap_or_default().to_owned(), f, t));
                }
            }
        }
        // Every contiguous range: nested and overlapping.
        for i in 0..spans.len() {
            for j in i..spans.len() {
                let q = format!("period={kind}&from={}&to={}", spans[i].0, spans[j].1);
                let (Some(f), Some(t)) = (date(&spans[i].0), date(&spans[j].1)) else {
                    continue;
                };
                let services = c.json(&format!("/api/v1/stats/services?{q}")).await;
                tables.push(Table {
                    from: f,
                    to: t,
                    body: services,
                    operators: false,
                });
                let operators = c.json(&format!("/api/v1/stats/operators?{q}")).await;
                tables.push(Table {
                    from: f,
                    to: t,
                    body: operators,
                    operators: true,
                });
                let indicators = c.json(&format!("/api/v1/stats/indicators?{q}")).await;
                tables.push(Table {
                    from: f,
                    to: t,
                    body: indicators,
                    operators: false,
                });
            }
        }
        for file in [
            "counts.csv",
            "counts.json",
            "operators.csv",
            "operators.json",
            "cells.csv",
            "cells.json",
            "cells.geojson",
            "reports.csv",
        ] {
            c.text(&format!("/api/v1/open-data/{file}?period={kind}&{far}"))
                .await;
        }
    }
    let records = c
        .json(&format!(
            "/api/v1/open-data/reports.json?period=month&{far}"
        ))
        .await;
    let week_records = c
        .json(&format!("/api/v1/open-data/reports.json?period=week&{far}"))
        .await;
    c.text("/api/v1/open-data/catalog.jsonld").await;
    c.text("/transparency").await;
    c.text("/transparency/monthly.csv").await;

    attack_counts(k, &tables, &mut out);
    attack_channels(&tables, &records, &month_labels, &mut out);
    check_record_file(k, &tables, &records, &mut out);
    check_record_file(k, &tables, &week_records, &mut out);
    let open_points = open311(k, &mut c, &mut out).await;
    nearby(k, &mut c, &mut out, &open_points).await;

    // Every byte downloaded: no seeded secret.
    for text in &c.texts {
        out.bytes += text.len();
        for secret in &k.secrets {
            if text.contains(secret.as_str()) {
                out.leaks.push(format!("secret {secret:?} published"));
            }
        }
    }
    out.requests = c.requests;
    out.leaks.sort();
    out.leaks.dedup();
    out
}

/// Published (from, to, district set, value) of one protected service and measure, and the
/// withheld entries, from every counts and operator table downloaded.
fn attack_counts(k: &Knowledge, tables: &[Table], out: &mut Outcome) {
    let mut bounds: BTreeSet<time::Date> = BTreeSet::new();
    for t in tables {
        bounds.insert(t.from);
        bounds.insert(t.to + time::Duration::days(1));
    }
    let bounds: Vec<time::Date> = bounds.into_iter().collect();
    for service in &k.protected {
        let operators = k
            .operator_districts
            .get(service)
            .cloned()
            .unwrap_or_default();
        for measure in ["new", "resolved"] {
            let mut system = System::default();
            let mut seen_targets = BTreeSet::new();
            for t in tables {
                let atoms = atoms_of(&bounds, t.from, t.to);
                let label = format!("{service} {measure} {}..{}", t.from, t.to);
                if t.operators {
                    if measure != "resolved" {
                        continue;
                    }
                    for o in t.body["operators"].as_array().into_iter().flatten() {
                        let name = o["operator"].as_str().unwrap_or_default();
                        let Some(ds) = operators.get(name) else {
                            continue;
                        };
                        let ds: Vec<String> = ds.iter().cloned().collect();
                        let vars = system.entry(&ds, &atoms);
                        match o["resolved_by_service"][service].as_u64() {
                            Some(v) => system.facts.push(Fact { vars, value: v }),
                            None if o["resolved_by_service"].get(service).is_some()
                                && seen_targets.insert(format!("{label} operator {name}")) =>
                            {
                                system
                                    .targets
                                    .push((format!("{label} operator {name}"), vars));
                            }
                            None => {}
                        }
                    }
                    continue;
                }
                let table = &t.body[measure];
                if table.is_null() {
                    continue;
                }
                let mut all: Vec<String> = Vec::new();
                for row in table["rows"].as_array().into_iter().flatten() {
                    let d = row["district"].as_str().unwrap_or_default().to_owned();
                    all.push(d.clone());
                    let vars = system.entry(std::slice::from_ref(&d), &atoms);
                    let cell = &row["services"][service];
                    match cell.as_u64() {
                        Some(v) => system.facts.push(Fact {
                            vars: vars.clone(),
                            value: v,
                        }),
                        None => {
                            if seen_targets.insert(format!("{label} district {d}")) {
                                system
                                    .targets
                                    .push((format!("{label} district {d}"), vars.clone()));
                            }
                        }
                    }
                    // A row total adds the listed services (known) to this one. (With several
                    // protected services it is published only when every cell is, so it
                    // says nothing more.)
                    if let Some(total) = row["total"].as_u64() {
                        let known: u64 = row["services"]
                            .as_object()
                            .into_iter()
                            .flatten()
                            .filter(|(s, _)| !k.protected.contains(s))
                            .filter_map(|(_, v)| v.as_u64())
                            .sum();
                        if k.protected.len() == 1 {
                            system.facts.push(Fact {
                                vars,
                                value: total.saturating_sub(known),
                            });
                        }
                    }
                }
                let vars = system.entry(&all, &atoms);
                match table["service_totals"][service].as_u64() {
                    Some(v) => system.facts.push(Fact { vars, value: v }),
                    None => {
                        if seen_targets.insert(format!("{label} total")) {
                            system.targets.push((format!("{label} total"), vars));
                        }
                    }
                }
            }
            out.recovered.extend(system.recovered());
        }
    }
    // Withheld and published entries of the monthly tables (the releases themselves).
    for t in tables
        .iter()
        .filter(|t| !t.operators && t.body.get("period").is_some())
    {
        for measure in ["new", "resolved"] {
            let table = &t.body[measure];
            for service in &k.protected {
                if table["protected_levels"][service] == "monthly_only" {
                    continue;
                }
                for row in table["rows"].as_array().into_iter().flatten() {
                    if row["services"][service].is_null() {
                        out.withheld += 1;
                    } else {
                        out.published += 1;
                    }
                }
                if table["service_totals"][service].is_null() {
                    out.withheld += 1;
                } else {
                    out.published += 1;
                }
            }
        }
    }
}

/// Monthly channel rows: withheld rows against ranges and the record file's totals.
fn attack_channels(
    tables: &[Table],
    records: &Value,
    months: &[(String, time::Date, time::Date)],
    out: &mut Outcome,
) {
    let channels = ["app", "web", "open311", "phone", "counter", "sms"];
    let mut month_totals: HashMap<String, u64> = HashMap::new();
    for r in records["records"].as_array().into_iter().flatten() {
        *month_totals
            .entry(r["period"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    let bounds: Vec<time::Date> = {
        let mut b: BTreeSet<time::Date> = BTreeSet::new();
        for t in tables {
            b.insert(t.from);
            b.insert(t.to + time::Duration::days(1));
        }
        b.into_iter().collect()
    };
    let is_month =
        |f: time::Date, t: time::Date| months.iter().any(|(_, mf, mt)| *mf == f && *mt == t);
    let mut system = System::default();
    for (label, f, t) in months {
        let atoms = atoms_of(&bounds, *f, *t);
        let vars: Vec<usize> = channels
            .iter()
            .flat_map(|c| system.entry(&[c.to_string()], &atoms))
            .collect();
        if let Some(total) = month_totals.get(label) {
            system.facts.push(Fact {
                vars,
                value: *total,
            });
        }
    }
    for t in tables.iter().filter(|t| t.body.get("indicators").is_some()) {
        let atoms = atoms_of(&bounds, t.from, t.to);
        let row = &t.body["indicators"]["reports_by_channel"];
        for c in channels {
            let vars = system.entry(&[c.to_string()], &atoms);
            match row[c].as_u64() {
                Some(v) => system.facts.push(Fact { vars, value: v }),
                None => {
                    if is_month(t.from, t.to) {
                        out.channel_rows_withheld += 1;
                    }
                    system
                        .targets
                        .push((format!("channel {c} {}..{}", t.from, t.to), vars));
                }
            }
        }
    }
    let mut recovered = system.recovered();
    recovered.sort();
    recovered.dedup();
    out.channel_recovered = recovered;
    out.channel_rows_withheld /= channels.len();
}

#[cfg(test)]
mod the_attacker_wins_where_it_should {
    use super::*;

    fn system(facts: &[(&[usize], u64)], target: &[usize]) -> Vec<String> {
        let mut s = System::default();
        for name in ["a", "b", "c"] {
            s.var(name, 0);
        }
        s.facts = facts
            .iter()
            .map(|(vars, value)| Fact {
                vars: vars.to_vec(),
                value: *value,
            })
            .collect();
        s.targets = vec![("target".into(), target.to_vec())];
        s.recovered()
    }

    #[test]
    fn differences_totals_and_zeros_give_values_away() {
        // a + b published and b published: a follows.
        assert_eq!(system(&[(&[0, 1], 5), (&[1], 3)], &[0]), vec!["target = 2"]);
        // a + b + c and c, with b a published 0: a follows.
        assert_eq!(
            system(&[(&[0, 1, 2], 9), (&[2], 4), (&[1], 0)], &[0]),
            vec!["target = 5"]
        );
        // A structural zero inside a published sum: a + b + c = 7, c = 4 and b + d = 0 (a
        // published zero) give a = 3.
        assert_eq!(
            system(&[(&[0, 1, 2], 7), (&[2], 4), (&[1], 0)], &[0]),
            vec!["target = 3"]
        );
        // What a published 0 covers is 0: said by the publication itself, not recovered.
        assert!(system(&[(&[0, 1], 0)], &[0]).is_empty());
        // Overlapping sums: (a + b) and (b + c) and (a + b + c) give all three.
        assert_eq!(
            system(&[(&[0, 1], 5), (&[1, 2], 6), (&[0, 1, 2], 8)], &[1]),
            vec!["target = 3"]
        );
    }

    #[test]
    fn a_single_sum_of_two_unknowns_gives_neither() {
        assert!(system(&[(&[0, 1], 5)], &[0]).is_empty());
        assert!(system(&[(&[0, 1], 5), (&[0, 1, 2], 9)], &[0]).is_empty());
        // ... but their sum is known.
        assert_eq!(system(&[(&[0, 1], 5)], &[0, 1]), vec!["target = 5"]);
    }
}
