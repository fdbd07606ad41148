//! `balagh-disclosure-bench`: the figures of the publication gate (issue 16). For each
//! density it fills a fresh SQLite database with `generate-reports` (120 days), starts the
//! real `balagh serve` (which releases the statistics), lets the outsider of
//! `tests/disclosure/attack.rs` download every public output and attack it, and prints:
//! protected entries withheld and published (the utility kept), entries recovered (must be
//! 0), leaks, and — once more with differential privacy on — the mean absolute error of
//! the noisy monthly counts against the truth.

#[path = "../../../../tests/disclosure/attack.rs"]
mod attack;

use balagh::config::DatabaseUrl;
use balagh::demo::DemoData;
use balagh_bench::{Server, balagh_bin};
use clap::Parser;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(about = "What an outsider recovers from every public output of balagh serve")]
struct Args {
    /// Reports of each density.
    #[arg(long, value_delimiter = ',', default_value = "1500,30000")]
    sizes: Vec<usize>,
    /// History the reports are spread over, in days.
    #[arg(long, default_value_t = 120)]
    days: u32,
    /// Services also treated as sensitive (besides the demo's), as the integration test
    /// does: one spread over four districts and two operators.
    #[arg(long, value_delimiter = ',', default_value = "waste_illegal_dumping")]
    also_sensitive: Vec<String>,
    /// Nearby sweep: points per side of the commune's box.
    #[arg(long, default_value_t = 5)]
    sweep: usize,
    /// The balagh binary (default: next to this one).
    #[arg(long)]
    balagh_bin: Option<PathBuf>,
}

struct Filled {
    _dir: tempdir::Dir,
    url: DatabaseUrl,
    store: std::sync::Arc<dyn balagh_store::Store>,
}

mod tempdir {
    /// A directory removed when dropped.
    #[derive(Debug)]
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

async fn fill(size: usize, days: u32, also_sensitive: &[String]) -> Filled {
    let dir = std::env::temp_dir().join(format!("balagh-disclosure-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("scratch");
    let url: DatabaseUrl = format!("sqlite://{}/db.sqlite3", dir.display())
        .parse()
        .expect("url");
    let store = balagh::database::open_migrated(&url, 4)
        .await
        .expect("database");
    DemoData::load()
        .expect("demo")
        .seed(store.as_ref())
        .await
        .expect("seed");
    for (jurisdiction, mut service) in store.services().await.expect("services") {
        if also_sensitive.iter().any(|c| c == service.code.as_str()) {
            service.sensitive = true;
            store
                .upsert_services(&jurisdiction, &[service])
                .await
                .expect("service");
        }
    }
    balagh::generate::generate(&store, size, days)
        .await
        .expect("generate");
    Filled {
        _dir: tempdir::Dir(dir),
        url,
        store,
    }
}

async fn serve(bin: &std::path::Path, url: &DatabaseUrl, extra: &str) -> Server {
    let toml = format!(
        "[http.rate_limits]\nper_ip_per_second = 0\nper_ip_burst = 0\ndevice_lookups_per_second = 0\n\
         device_lookups_burst = 0\n[stats]\nrollup_interval_seconds = 1\n{extra}"
    );
    balagh_bench::serve_released(bin, "balagh-disclosure-bench", url.expose(), &toml).await
}

/// Public knowledge of the demo commune, from its catalogue.
async fn knowledge(store: &dyn balagh_store::Store, base: &str) -> attack::Knowledge {
    let catalog = balagh_app::Catalog::load(store).await.expect("catalog");
    let jurisdiction = catalog.jurisdictions()[0].clone();
    let services = catalog.services(&jurisdiction.id).to_vec();
    let mut operator_districts: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> =
        BTreeMap::new();
    for s in services.iter().filter(|s| s.sensitive) {
        let per = operator_districts
            .entry(s.code.as_str().to_owned())
            .or_default();
        for c in catalog
            .router()
            .contracts()
            .iter()
            .filter(|c| c.group == s.group)
        {
            let operator = catalog
                .operator(c.operator)
                .map(|o| o.operator.slug.as_str().to_owned())
                .unwrap_or_default();
            if let Some(d) = balagh_app::stats::district_slug(&c.zone_name) {
                per.entry(operator)
                    .or_default()
                    .insert(d.as_str().to_owned());
            }
        }
        per.entry("unrouted".into())
            .or_default()
            .insert("outside-zones".into());
    }
    let device: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/devices"))
        .send()
        .await
        .expect("device")
        .json()
        .await
        .expect("device json");
    let bbox = geo_box(&jurisdiction.boundary);
    attack::Knowledge {
        base: base.to_owned(),
        device: device["token"].as_str().unwrap_or_default().to_owned(),
        protected: services
            .iter()
            .filter(|s| s.sensitive)
            .map(|s| s.code.as_str().to_owned())
            .collect(),
        services: services
            .iter()
            .map(|s| s.code.as_str().to_owned())
            .collect(),
        operator_districts,
        secrets: balagh::generate::PERSONAL_DESCRIPTIONS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        bbox,
        sweep: 5,
        grid_m: 100.0,
    }
}

fn geo_box(boundary: &geo::MultiPolygon<f64>) -> (f64, f64, f64, f64) {
    use geo::BoundingRect;
    let b = boundary.bounding_rect().expect("box");
    (b.min().y, b.min().x, b.max().y, b.max().x)
}

/// Mean absolute error of the noisy monthly district counts of protected services against
/// the roll-ups.
async fn noise_error(
    store: &dyn balagh_store::Store,
    base: &str,
    protected: &[String],
) -> (f64, usize) {
    let summary: Value = reqwest::get(format!(
        "{base}/api/v1/stats/summary?period=month&from=2000-01-01&to=2100-12-31"
    ))
    .await
    .expect("summary")
    .json()
    .await
    .expect("json");
    let jurisdiction = summary["jurisdiction"]
        .as_str()
        .unwrap_or("tetouan")
        .to_owned();
    let (mut error, mut n) = (0.0, 0usize);
    for p in summary["periods"].as_array().into_iter().flatten() {
        let day = |k: &str| {
            time::Date::parse(
                p[k].as_str().unwrap_or_default(),
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .expect("date")
            .to_julian_day()
        };
        let rows = store
            .stats_rows(&jurisdiction, day("from"), day("to"), false)
            .await
            .expect("rows");
        for row in p["new"]["rows"].as_array().into_iter().flatten() {
            let district = row["district"].as_str().unwrap_or_default();
            for service in protected {
                let Some(published) = row["services"][service].as_u64() else {
                    continue;
                };
                let truth: u64 = rows
                    .iter()
                    .filter(|r| r.key.service.as_str() == service)
                    .filter(|r| {
                        r.key
                            .district
                            .as_ref()
                            .map_or("outside-zones", |d| d.as_str())
                            == district
                    })
                    .map(|r| r.value.new)
                    .sum();
                error += (published as f64 - truth as f64).abs();
                n += 1;
            }
        }
    }
    (error / n.max(1) as f64, n)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let bin = balagh_bin(args.balagh_bin.clone());
    println!(
        "balagh-disclosure-bench: {} days of generated reports per density, SQLite, nearby sweep {}×{} points × every service",
        args.days, args.sweep, args.sweep
    );
    println!(
        "| reports | mode | requests | MB downloaded | protected entries published | withheld | published share | recovered | channel rows withheld / recovered | Open311 records | nearby records | leaks | MAE (noise) | attack s |"
    );
    println!(
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for &size in &args.sizes {
        for (mode, extra) in [
            ("suppression", ""),
            (
                "noise ε=1/month",
                "dp_epsilon_per_release = \"1\"\ndp_budget = \"1\"\n",
            ),
        ] {
            // Releases are immutable: each mode gets a database of its own.
            let filled = fill(size, args.days, &args.also_sensitive).await;
            let server = serve(&bin, &filled.url, extra).await;
            let mut k = knowledge(filled.store.as_ref(), &server.base).await;
            k.sweep = args.sweep;
            let started = Instant::now();
            let o = attack::attack(&k).await;
            let seconds = started.elapsed().as_secs_f64();
            // With noise, what the equations determine are sums of noisy figures, not the
            // truth: the error column says how far they are.
            let recovered = if extra.is_empty() {
                o.recovered.len().to_string()
            } else {
                "– (noisy)".to_owned()
            };
            let mae = if extra.is_empty() {
                "–".to_owned()
            } else {
                let (mae, n) = noise_error(filled.store.as_ref(), &server.base, &k.protected).await;
                format!("{mae:.2} over {n} entries")
            };
            println!(
                "| {size} | {mode} | {} | {:.1} | {} | {} | {:.1} % | {recovered} | {} / {} | {} | {} | {} | {mae} | {seconds:.1} |",
                o.requests,
                o.bytes as f64 / 1e6,
                o.published,
                o.withheld,
                100.0 * o.published as f64 / (o.published + o.withheld).max(1) as f64,
                o.channel_rows_withheld,
                o.channel_recovered.len(),
                o.open311_records,
                o.nearby_records,
                o.leaks.len() + o.inconsistencies.len(),
            );
            let recovered = if extra.is_empty() {
                &o.recovered[..]
            } else {
                &[]
            };
            for leak in o.leaks.iter().chain(recovered).take(10) {
                eprintln!("  FOUND: {leak}");
            }
            drop(server);
        }
    }
}
