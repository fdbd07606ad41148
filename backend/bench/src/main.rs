//! `balagh-bench`: figures for report ingest and "already reported nearby?" look-ups.
//!
//! It starts the real `balagh serve` (a separate process) on the given database, submits
//! reports over HTTP from many concurrent clients, then inserts the same kind of rows straight
//! into the same database at the same concurrency, and prints both rates, their ratio and
//! latency percentiles. With `--sizes 0,1000000` it repeats the measurements after filling
//! the table to each size, to show whether costs grow with the table.

use balagh::config::DatabaseUrl;
use balagh::demo::DemoData;
use balagh_bench::{Server, balagh_bin, config_file};
use balagh_domain::{IdempotencyKey, Service};
use balagh_store::{Idempotency, NewDevice, NewReport, Store, Ts};
use balagh_wire::NewReportRequest;
use clap::Parser;
use hdrhistogram::Histogram;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(about = "Ingest and nearby-lookup benchmark against a running balagh serve")]
struct Args {
    /// Database to benchmark (a fresh one is best): postgres://… or sqlite://…
    #[arg(long)]
    database_url: DatabaseUrl,
    /// Reports submitted per measurement (HTTP), and again inserted raw.
    #[arg(long, default_value_t = 20_000)]
    reports: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Nearby look-ups per measurement.
    #[arg(long, default_value_t = 10_000)]
    lookups: usize,
    /// Concurrent clients for nearby look-ups (1 measures the look-up itself, no queueing).
    #[arg(long, default_value_t = 1)]
    lookup_concurrency: usize,
    /// History the table is filled with: reports spread over this many past days.
    #[arg(long, default_value_t = 1095)]
    fill_days: u32,
    /// Table sizes to measure at (reports already stored), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    sizes: Vec<usize>,
    /// The balagh binary to start (default: next to this one).
    #[arg(long)]
    balagh_bin: Option<PathBuf>,
}

struct Figures {
    count: usize,
    elapsed: Duration,
    latency: Histogram<u64>,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }

    fn ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

/// Runs `jobs` over `concurrency` workers, timing each job in microseconds.
async fn run_concurrently<J, F, Fut>(jobs: Vec<J>, concurrency: usize, work: F) -> Figures
where
    J: Send + 'static,
    F: Fn(usize, J) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let count = jobs.len();
    let queue = Arc::new(std::sync::Mutex::new(jobs.into_iter()));
    let work = Arc::new(work);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let queue = queue.clone();
            let work = work.clone();
            tokio::spawn(async move {
                let mut latency = histogram();
                loop {
                    let job = queue.lock().expect("queue").next();
                    let Some(job) = job else { break };
                    let t = Instant::now();
                    work(worker, job).await;
                    latency.saturating_record(t.elapsed().as_micros() as u64);
                }
                latency
            })
        })
        .collect();
    let mut latency = histogram();
    for w in workers {
        latency.add(w.await.expect("worker")).expect("same bounds");
    }
    Figures {
        count,
        elapsed: started.elapsed(),
        latency,
    }
}

struct Catalog {
    demo: DemoData,
    services: Vec<Service>,
    /// Routing index, calendars and SLA policies, as the server has them.
    snapshot: balagh_app::Catalog,
}

fn request_of(report: &NewReport) -> NewReportRequest {
    NewReportRequest {
        service_code: report.service_code.to_string(),
        lat: report.point.lat(),
        lon: report.point.lon(),
        description: report.description.as_str().to_owned(),
        attributes: Some(report.attributes.as_map().clone()),
        accuracy_m: None,
        photos: None,
    }
}

fn synthetic(catalog: &Catalog, n: usize) -> Vec<NewReport> {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| {
            balagh::generate::synthetic_report(
                &catalog.snapshot,
                &catalog.demo.jurisdiction,
                &catalog.services,
                Ts::now(),
                &mut rng,
            )
        })
        .collect()
}

async fn start_server(bin: &Path, url: &DatabaseUrl) -> Server {
    // Many clients on 127.0.0.1 are the point here: no rate limits.
    let config = config_file(
        "balagh-bench",
        "[http.rate_limits]\nper_ip_per_second = 0\ndevice_writes_per_second = 0\n\
         device_lookups_per_second = 0\n[devices]\nnew_per_address_per_hour = 0\nsupports_per_address_per_report = 0\n",
    );
    Server::start(
        bin,
        &[
            "--no-demo",
            "--config",
            config.to_str().expect("UTF-8 path"),
        ],
        &[("BALAGH_DATABASE_URL", url.expose())],
    )
    .await
}

async fn http_ingest(
    server: &Server,
    client: &reqwest::Client,
    reports: &[NewReport],
    concurrency: usize,
) -> Figures {
    let mut tokens = Vec::new();
    for _ in 0..concurrency {
        let body: Value = client
            .post(format!("{}/api/v1/devices", server.base))
            .send()
            .await
            .expect("register")
            .json()
            .await
            .expect("json");
        tokens.push(body["token"].as_str().expect("token").to_owned());
    }
    let tokens = Arc::new(tokens);
    let jobs: Vec<Vec<u8>> = reports
        .iter()
        .map(|r| serde_json::to_vec(&request_of(r)).expect("json"))
        .collect();
    let client = client.clone();
    let url = format!("{}/api/v1/reports", server.base);
    run_concurrently(jobs, concurrency, move |worker, body| {
        let request = client
            .post(&url)
            .bearer_auth(&tokens[worker])
            .header("Idempotency-Key", Uuid::new_v4().to_string())
            .header("content-type", "application/json")
            .body(body);
        async move {
            let response = request.send().await.expect("request");
            assert_eq!(response.status(), 201, "{:?}", response.text().await);
        }
    })
    .await
}

async fn raw_insert(
    store: Arc<dyn Store>,
    mut reports: Vec<NewReport>,
    concurrency: usize,
) -> Figures {
    let mut devices = Vec::new();
    for _ in 0..concurrency {
        let id = Uuid::now_v7();
        store
            .create_device(&NewDevice {
                id,
                token_hash: Uuid::new_v4().as_bytes().to_vec(),
                created_at: Ts::now(),
            })
            .await
            .expect("device");
        devices.push(id);
    }
    // The same rows the API writes: reporter, idempotency key and fingerprint, events, and
    // the operator's `ticket.created` webhook in the outbox.
    for (i, r) in reports.iter_mut().enumerate() {
        r.device = Some(devices[i % concurrency]);
        r.idempotency = Some(Idempotency {
            key: IdempotencyKey::parse(&Uuid::new_v4().to_string()).expect("key"),
            request_hash: vec![0; 32],
        });
        r.outbox = balagh_app::tickets::webhook(
            &balagh_store::StoredReport::from_new(r),
            "ticket.created",
            &serde_json::json!({ "action": "created", "channel": "app" }),
            r.created_at,
        )
        .into_iter()
        .collect();
    }
    run_concurrently(reports, concurrency, move |_, report| {
        let store = store.clone();
        async move {
            store.create_report(&report).await.expect("insert");
        }
    })
    .await
}

async fn nearby(
    server: &Server,
    client: &reqwest::Client,
    catalog: &Catalog,
    n: usize,
    concurrency: usize,
) -> Figures {
    let token: Value = client
        .post(format!("{}/api/v1/devices", server.base))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("json");
    let token = token["token"].as_str().expect("token").to_owned();
    let probes: Vec<String> = synthetic(catalog, n)
        .iter()
        .map(|r| {
            format!(
                "{}/api/v1/reports/nearby?lat={}&lon={}&service_code={}",
                server.base,
                r.point.lat(),
                r.point.lon(),
                r.service_code
            )
        })
        .collect();
    let client = client.clone();
    run_concurrently(probes, concurrency, move |_, url| {
        let request = client.get(url).bearer_auth(&token);
        async move {
            let response = request.send().await.expect("request");
            assert_eq!(response.status(), 200);
            response.bytes().await.expect("body");
        }
    })
    .await
}

/// Starts each phase from a clean slate, as pgbench does: on PostgreSQL, a CHECKPOINT so the
/// previous phase's dirty pages are not written during the next measurement.
async fn settle(url: &DatabaseUrl) {
    use sqlx::Connection;
    if balagh_store::Backend::from_url(url.expose()) == Some(balagh_store::Backend::Postgres) {
        let mut conn = sqlx::PgConnection::connect(url.expose())
            .await
            .expect("connect");
        sqlx::raw_sql("CHECKPOINT")
            .execute(&mut conn)
            .await
            .expect("checkpoint");
        conn.close().await.expect("close");
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let bin = balagh_bin(args.balagh_bin.clone());
    let store = balagh::database::open_migrated(&args.database_url, args.concurrency as u32 + 4)
        .await
        .expect("database");
    let demo = DemoData::load().expect("demo data");
    demo.seed(store.as_ref()).await.expect("seed");
    let services = demo.services.clone();
    let catalog = Catalog {
        demo,
        services,
        snapshot: balagh_app::Catalog::load(store.as_ref())
            .await
            .expect("catalog"),
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .expect("client");

    println!(
        "balagh-bench: {} backend, {} reports per run, {} concurrent clients; {} nearby look-ups by {} client(s)",
        store.backend().as_str(),
        args.reports,
        args.concurrency,
        args.lookups,
        args.lookup_concurrency
    );
    println!(
        "{:>10} | {:>11} {:>8} {:>8} | {:>11} {:>8} | {:>6} | {:>8} {:>8} {:>8}",
        "stored",
        "http rep/s",
        "p50 ms",
        "p99 ms",
        "raw rep/s",
        "p99 ms",
        "ratio",
        "near/s",
        "p50 ms",
        "p99 ms"
    );
    for size in &args.sizes {
        let stored = store.count_reports().await.expect("count") as usize;
        if stored < *size {
            eprintln!("filling to {size} reports…");
            balagh::generate::generate(&store, size - stored, args.fill_days)
                .await
                .expect("fill");
        }
        let stored = store.count_reports().await.expect("count");
        settle(&args.database_url).await;
        let server = start_server(&bin, &args.database_url).await;
        // Warm up connections and caches.
        let _ = nearby(&server, &client, &catalog, 200, args.concurrency).await;
        let http = http_ingest(
            &server,
            &client,
            &synthetic(&catalog, args.reports),
            args.concurrency,
        )
        .await;
        let near = nearby(
            &server,
            &client,
            &catalog,
            args.lookups,
            args.lookup_concurrency,
        )
        .await;
        drop(server);
        settle(&args.database_url).await;
        let raw = raw_insert(
            store.clone(),
            synthetic(&catalog, args.reports),
            args.concurrency,
        )
        .await;
        println!(
            "{:>10} | {:>11.0} {:>8.2} {:>8.2} | {:>11.0} {:>8.2} | {:>5.0}% | {:>8.0} {:>8.2} {:>8.2}",
            stored,
            http.rate(),
            http.ms(0.5),
            http.ms(0.99),
            raw.rate(),
            raw.ms(0.99),
            100.0 * http.rate() / raw.rate(),
            near.rate(),
            near.ms(0.5),
            near.ms(0.99),
        );
    }
    store.close().await;
}
