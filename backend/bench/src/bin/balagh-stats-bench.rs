//! `balagh-stats-bench`: latency of the public statistics endpoints and of the staff
//! dashboard over HTTP, against the real `balagh serve`, on a database filled with
//! `generate-reports` (which also builds the roll-ups). `GET /healthz` in the same run is
//! the baseline.

use balagh::config::DatabaseUrl;
use balagh::demo::DemoData;
use balagh_bench::{Server, balagh_bin};
use balagh_domain::account::{Email, Grant, NewPassword, Role, Scope};
use balagh_store::{NewApiToken, NewUser, Ts};
use clap::Parser;
use hdrhistogram::Histogram;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(about = "Public statistics and staff dashboard latency against balagh serve")]
struct Args {
    /// Database to benchmark: postgres://… or sqlite://…
    #[arg(long)]
    database_url: DatabaseUrl,
    /// Reports the table is filled to first (with generate-reports).
    #[arg(long, default_value_t = 1_000_000)]
    size: usize,
    /// History the reports are spread over, in days.
    #[arg(long, default_value_t = 1095)]
    days: u32,
    /// Requests per endpoint.
    #[arg(long, default_value_t = 300)]
    requests: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// The balagh binary (default: next to this one).
    #[arg(long)]
    balagh_bin: Option<PathBuf>,
}

async fn start_server(bin: &Path, url: &DatabaseUrl, answer_cache: bool) -> Server {
    // The benchmark is one address asking far faster than a resident: no per-address limit.
    // Without the answer cache every request computes its figures from the roll-ups.
    // The release job runs every second, so the releases are there soon after start.
    let cache = if answer_cache {
        "[stats]\nrollup_interval_seconds = 1\n"
    } else {
        "[stats]\nrollup_interval_seconds = 1\nanswer_cache_seconds = 0\n"
    };
    let toml = format!("{cache}[http.rate_limits]\nper_ip_per_second = 0\nper_ip_burst = 0\n");
    balagh_bench::serve_released(bin, "balagh-stats-bench", url.expose(), &toml).await
}

struct Figures {
    /// The first request (answers are then cached for a roll-up interval).
    cold: f64,
    p50: f64,
    p99: f64,
    bytes: usize,
}

async fn measure(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    requests: usize,
    concurrency: usize,
) -> Figures {
    let fetch = |client: reqwest::Client| {
        let url = url.to_owned();
        let token = token.map(str::to_owned);
        async move {
            let mut request = client.get(&url);
            if let Some(t) = &token {
                request = request.bearer_auth(t);
            }
            let started = Instant::now();
            let response = request.send().await.expect("request");
            let status = response.status();
            let body = response.bytes().await.expect("body");
            assert!(
                status.is_success(),
                "{url}: {status} {}",
                String::from_utf8_lossy(&body)
            );
            (started.elapsed(), body.len())
        }
    };
    let (cold, _) = fetch(client.clone()).await;
    for _ in 0..2 {
        fetch(client.clone()).await;
    }
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let mut bytes = 0;
    let mut done = 0;
    while done < requests {
        let n = concurrency.min(requests - done);
        let batch = futures_util::future::join_all((0..n).map(|_| fetch(client.clone()))).await;
        for (elapsed, size) in batch {
            histogram
                .record(elapsed.as_micros().max(1) as u64)
                .expect("record");
            bytes = size;
        }
        done += n;
    }
    Figures {
        cold: cold.as_secs_f64() * 1000.0,
        p50: histogram.value_at_quantile(0.5) as f64 / 1000.0,
        p99: histogram.value_at_quantile(0.99) as f64 / 1000.0,
        bytes,
    }
}

/// A staff analyst with an API token, straight through the store.
async fn staff_token(store: &dyn balagh_store::Store) -> String {
    let id = uuid::Uuid::now_v7();
    store
        .create_user(&NewUser {
            id,
            email: Email::parse(&format!("bench-{}@example.ma", id.simple())).expect("email"),
            display_name: "Stats bench".into(),
            password_hash: balagh_api::auth::password::hash(
                &NewPassword::parse("a benchmark passphrase").expect("password"),
            )
            .await
            .expect("hash"),
            grant: Grant::new(
                Role::StaffAnalyst,
                Scope::Jurisdiction(balagh_domain::Slug::parse("id", "tetouan").expect("slug")),
            )
            .expect("grant"),
            created_at: Ts::now(),
        })
        .await
        .expect("user");
    let token = balagh_api::auth::secrets::generate(balagh_api::auth::secrets::API_TOKEN_PREFIX);
    store
        .create_api_token(&NewApiToken {
            id: uuid::Uuid::now_v7(),
            user_id: id,
            name: "bench".into(),
            token_hash: balagh_api::auth::secrets::hash(&token),
            created_at: Ts::now(),
            expires_at: Ts::new(time::OffsetDateTime::now_utc() + time::Duration::days(1)),
        })
        .await
        .expect("token");
    token
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let bin = balagh_bin(args.balagh_bin.clone());
    let store = balagh::database::open_migrated(&args.database_url, 10)
        .await
        .expect("database");
    DemoData::load()
        .expect("demo data")
        .seed(store.as_ref())
        .await
        .expect("seed");
    let stored = store.count_reports().await.expect("count") as usize;
    if stored < args.size {
        eprintln!(
            "filling to {} reports (roll-ups built as they go)…",
            args.size
        );
        let started = Instant::now();
        balagh::generate::generate(&store, args.size - stored, args.days)
            .await
            .expect("fill");
        eprintln!("filled in {:.0} s", started.elapsed().as_secs_f64());
    }
    let stored = store.count_reports().await.expect("count");
    let rollup_rows = {
        let today = time::OffsetDateTime::now_utc().date().to_julian_day();
        let all = store
            .stats_rows("tetouan", today - 40, today, false)
            .await
            .expect("rows");
        all.len()
    };
    let token = staff_token(store.as_ref()).await;
    // Two servers on the same database: one computes every answer, one keeps public answers
    // for a roll-up interval (as deployed).
    let uncached = start_server(&bin, &args.database_url, false).await;
    let cached = start_server(&bin, &args.database_url, true).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency.max(1))
        .build()
        .expect("client");
    let year_ago = time::OffsetDateTime::now_utc().date() - time::Duration::days(365);
    let endpoints: Vec<(&str, String, bool)> = vec![
        ("baseline GET /healthz", "/healthz".into(), false),
        (
            "public summary (last month)",
            "/api/v1/stats/summary?period=month".into(),
            false,
        ),
        (
            "public summary (last week)",
            "/api/v1/stats/summary?period=week".into(),
            false,
        ),
        (
            "public services (12 months)",
            format!("/api/v1/stats/services?period=month&from={year_ago}"),
            false,
        ),
        (
            "public operators (last month)",
            "/api/v1/stats/operators?period=month".into(),
            false,
        ),
        (
            "public indicators (last month)",
            "/api/v1/stats/indicators?period=month".into(),
            false,
        ),
        (
            "public cells GeoJSON (last month)",
            "/api/v1/stats/cells?period=month".into(),
            false,
        ),
        (
            "open data counts.csv (last month)",
            "/api/v1/open-data/counts.csv?period=month".into(),
            false,
        ),
        (
            "staff dashboard (90 days)",
            "/api/v1/staff/stats/dashboard".into(),
            true,
        ),
        (
            "staff dashboard (one operator, 90 days)",
            "/api/v1/staff/stats/dashboard?service=waste_bin_overflow".into(),
            true,
        ),
    ];
    println!(
        "balagh-stats-bench: {} backend, {stored} reports, {rollup_rows} all-cells roll-up rows in the last 40 days, {} requests per endpoint, {} concurrent client(s)",
        store.backend().as_str(),
        args.requests,
        args.concurrency
    );
    println!(
        "{:<42} | {:>9} | {:>9} {:>9} | {:>8} | {:>9} {:>9} | {:>9}",
        "endpoint", "first ms", "p50 ms", "p99 ms", "× base", "cached50", "cached99", "bytes"
    );
    let mut baseline = None;
    for (name, path, staff) in endpoints {
        let token = staff.then_some(token.as_str());
        let f = measure(
            &client,
            &format!("{}{path}", uncached.base),
            token,
            args.requests,
            args.concurrency,
        )
        .await;
        let c = measure(
            &client,
            &format!("{}{path}", cached.base),
            token,
            args.requests,
            args.concurrency,
        )
        .await;
        let base = *baseline.get_or_insert(f.p50);
        println!(
            "{name:<42} | {:>9.2} | {:>9.2} {:>9.2} | {:>8.1} | {:>9.2} {:>9.2} | {:>9}",
            f.cold,
            f.p50,
            f.p99,
            f.p50 / base,
            c.p50,
            c.p99,
            f.bytes
        );
    }
    drop(uncached);
    drop(cached);
}
