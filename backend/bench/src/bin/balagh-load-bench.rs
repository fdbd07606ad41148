//! `balagh-load-bench`: sustained mixed load on several `balagh serve` replicas sharing one
//! PostgreSQL, through many open keep-alive connections.
//!
//! It starts the replicas (separate processes) on the given database, registers devices
//! and seeds reports, opens `--connections` HTTP/1.1 connections spread over the replicas,
//! and drives them flat out: first against `/healthz` (the baseline: HTTP and the
//! processes alone), then with the mixed load — `--write-share` report submissions (with
//! idempotency keys), the rest reads split evenly between the service list, "already
//! reported nearby?" look-ups and reading a report by id. It prints throughput, latency
//! percentiles per kind, error counts and the peak memory (VmHWM) of each replica.
//!
//! One connection is one task sending one request at a time, as a phone does: 1,000
//! connections are 1,000 requests in flight. Raise the file descriptor limit first
//! (`ulimit -n 8192`): every connection is a descriptor here and one in a replica.

use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(about = "Mixed read/write load on balagh serve replicas over many connections")]
struct Args {
    /// PostgreSQL database the replicas share (a fresh one is best): postgres://…
    #[arg(long)]
    database_url: String,
    /// `balagh serve` processes to start.
    #[arg(long, default_value_t = 2)]
    replicas: usize,
    /// Open connections, spread evenly over the replicas.
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// Seconds of mixed load.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Seconds of the `/healthz` baseline.
    #[arg(long, default_value_t = 20)]
    baseline_seconds: u64,
    /// Share of requests that submit a report.
    #[arg(long, default_value_t = 0.10)]
    write_share: f64,
    /// Devices registered (connections share them round-robin).
    #[arg(long, default_value_t = 1000)]
    devices: usize,
    /// Reports submitted before the load, to be read back by id.
    #[arg(long, default_value_t = 2000)]
    seed_reports: usize,
    /// PostgreSQL connections per replica (`database.max_connections`).
    #[arg(long, default_value_t = 10)]
    pool: u32,
    /// The balagh binary to start (default: next to this one).
    #[arg(long)]
    balagh_bin: Option<PathBuf>,
}

struct Replica {
    child: Child,
    address: SocketAddr,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// `VmHWM` (peak resident memory) and `VmRSS` of a process, in MiB.
fn memory_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

async fn start_replica(
    bin: &PathBuf,
    args: &Args,
    scratch: &std::path::Path,
    seed_demo: bool,
) -> Replica {
    let config = scratch.join("balagh.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nmax_connections = {}\n[http.rate_limits]\nper_ip_per_second = 0\n\
             device_writes_per_second = 0\ndevice_lookups_per_second = 0\n[devices]\nnew_per_address_per_hour = 0\nsupports_per_address_per_report = 0\n",
            args.pool
        ),
    )
    .expect("config");
    let port = free_port();
    let mut command = Command::new(bin);
    command
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(&config)
        .current_dir(scratch)
        .env("BALAGH_DATABASE_URL", &args.database_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if !seed_demo {
        command.arg("--no-demo");
    }
    let replica = Replica {
        child: command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display())),
        address: format!("127.0.0.1:{port}").parse().expect("address"),
    };
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = client
            .get(format!("http://{}/readyz", replica.address))
            .send()
            .await
            && r.status().is_success()
        {
            return replica;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("balagh serve did not become ready");
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    address: SocketAddr,
    host: String,
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    async fn open(address: SocketAddr) -> std::io::Result<Self> {
        let stream = tokio::net::TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(std::io::Error::other)?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self {
            address,
            host: address.to_string(),
            sender,
        })
    }

    /// Sends one request and reads the whole answer; reconnects once if the connection is
    /// gone.
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, Bytes), String> {
        if self.sender.ready().await.is_err() {
            *self = Self::open(self.address).await.map_err(|e| e.to_string())?;
        }
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.host);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .header("idempotency-key", Uuid::new_v4().to_string())
                .body(Full::new(Bytes::from(body))),
            None => request.body(Full::new(Bytes::new())),
        }
        .map_err(|e| e.to_string())?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    }
}

const SERVICES: [&str; 4] = [
    "waste_bin_overflow",
    "light_out",
    "waste_missed_collection",
    "bus_stop_damaged",
];

/// A point in the demo commune (every one inside a jurisdiction; most routed).
fn point(rng: &mut impl Rng) -> (f64, f64) {
    (
        rng.random_range(35.56..35.60),
        rng.random_range(-5.41..-5.33),
    )
}

fn report_body(rng: &mut impl Rng) -> Vec<u8> {
    let (lat, lon) = point(rng);
    serde_json::to_vec(&json!({
        "service_code": SERVICES[rng.random_range(0..SERVICES.len())],
        "lat": lat,
        "lon": lon,
        "description": "Problème signalé pendant le test de charge",
    }))
    .expect("json")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Health,
    Services,
    Nearby,
    Report,
    Submit,
}

const KINDS: [Kind; 5] = [
    Kind::Health,
    Kind::Services,
    Kind::Nearby,
    Kind::Report,
    Kind::Submit,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Health => "GET /healthz",
            Kind::Services => "GET /api/v1/services",
            Kind::Nearby => "GET /api/v1/reports/nearby",
            Kind::Report => "GET /api/v1/reports/{id}",
            Kind::Submit => "POST /api/v1/reports",
        }
    }

    fn index(self) -> usize {
        KINDS.iter().position(|k| *k == self).expect("kind")
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("bounds")
}

/// What one phase measured.
struct Tally {
    latency: Vec<Histogram<u64>>,
    errors: Vec<u64>,
    failures: Vec<String>,
}

impl Tally {
    fn new() -> Self {
        Self {
            latency: KINDS.iter().map(|_| histogram()).collect(),
            errors: vec![0; KINDS.len()],
            failures: Vec::new(),
        }
    }

    fn merge(&mut self, other: Tally) {
        for (a, b) in self.latency.iter_mut().zip(other.latency) {
            a.add(b).expect("same bounds");
        }
        for (a, b) in self.errors.iter_mut().zip(other.errors) {
            *a += b;
        }
        let room = 10usize.saturating_sub(self.failures.len());
        self.failures.extend(other.failures.into_iter().take(room));
    }
}

/// Drives every connection until `until`: `mixed` or the `/healthz` baseline.
async fn phase(
    connections: Vec<Connection>,
    tokens: Arc<Vec<String>>,
    report_ids: Arc<Vec<(String, usize)>>,
    mixed: bool,
    write_share: f64,
    until: Instant,
) -> (Vec<Connection>, Tally) {
    let tasks: Vec<_> = connections
        .into_iter()
        .enumerate()
        .map(|(i, mut connection)| {
            let tokens = tokens.clone();
            let report_ids = report_ids.clone();
            tokio::spawn(async move {
                let mut rng = rand::rngs::SmallRng::from_rng(&mut rand::rng());
                let mut tally = Tally::new();
                let token = tokens[i % tokens.len()].clone();
                while Instant::now() < until {
                    let mut read_as = None;
                    let kind = if !mixed {
                        Kind::Health
                    } else if rng.random_bool(write_share) {
                        Kind::Submit
                    } else {
                        [Kind::Services, Kind::Nearby, Kind::Report][rng.random_range(0..3)]
                    };
                    let (method, path, body) = match kind {
                        Kind::Health => ("GET", "/healthz".to_owned(), None),
                        Kind::Services => ("GET", "/api/v1/services".to_owned(), None),
                        Kind::Nearby => {
                            let (lat, lon) = point(&mut rng);
                            let service = SERVICES[rng.random_range(0..SERVICES.len())];
                            (
                                "GET",
                                format!(
                                    "/api/v1/reports/nearby?lat={lat:.5}&lon={lon:.5}&service_code={service}"
                                ),
                                None,
                            )
                        }
                        Kind::Report => {
                            // A report is readable by the device that sent it.
                            let (id, owner) = &report_ids[rng.random_range(0..report_ids.len())];
                            read_as = Some(tokens[*owner].as_str());
                            ("GET", format!("/api/v1/reports/{id}"), None)
                        }
                        Kind::Submit => ("POST", "/api/v1/reports".to_owned(), Some(report_body(&mut rng))),
                    };
                    let started = Instant::now();
                    let outcome = connection
                        .send(method, &path, Some(read_as.unwrap_or(&token)), body)
                        .await;
                    let elapsed = started.elapsed().as_micros() as u64;
                    match outcome {
                        Ok((status, _)) if (200..300).contains(&status) => {
                            tally.latency[kind.index()].saturating_record(elapsed);
                        }
                        Ok((status, body)) => {
                            tally.errors[kind.index()] += 1;
                            if tally.failures.len() < 3 {
                                tally.failures.push(format!(
                                    "{} → {status} {}",
                                    kind.name(),
                                    String::from_utf8_lossy(&body[..body.len().min(200)])
                                ));
                            }
                        }
                        Err(error) => {
                            tally.errors[kind.index()] += 1;
                            if tally.failures.len() < 3 {
                                tally.failures.push(format!("{} → {error}", kind.name()));
                            }
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
                (connection, tally)
            })
        })
        .collect();
    let mut connections = Vec::new();
    let mut total = Tally::new();
    for task in tasks {
        let (connection, tally) = task.await.expect("connection task");
        connections.push(connection);
        total.merge(tally);
    }
    (connections, total)
}

fn print_tally(title: &str, tally: &Tally, elapsed: Duration) {
    let ok: u64 = tally.latency.iter().map(Histogram::len).sum();
    let errors: u64 = tally.errors.iter().sum();
    let mut all = histogram();
    for h in &tally.latency {
        all.add(h).expect("same bounds");
    }
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{title}: {:.0} req/s ({ok} answered 2xx, {errors} errors in {:.0} s); latency p50 {:.1} ms, \
         p99 {:.1} ms, max {:.1} ms",
        ok as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        ms(&all, 0.5),
        ms(&all, 0.99),
        all.max() as f64 / 1000.0,
    );
    for kind in KINDS {
        let h = &tally.latency[kind.index()];
        if h.is_empty() && tally.errors[kind.index()] == 0 {
            continue;
        }
        println!(
            "  {:<30} {:>8.0} req/s  p50 {:>7.1} ms  p99 {:>7.1} ms  errors {}",
            kind.name(),
            h.len() as f64 / elapsed.as_secs_f64(),
            ms(h, 0.5),
            ms(h, 0.99),
            tally.errors[kind.index()],
        );
    }
    for failure in &tally.failures {
        println!("  e.g. {failure}");
    }
}

fn print_memory(replicas: &[Replica], when: &str) {
    let figures: Vec<String> = replicas
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (peak, now) = memory_mib(r.child.id());
            format!("replica {i}: peak {peak:.0} MiB (now {now:.0} MiB)")
        })
        .collect();
    println!("memory {when}: {}", figures.join("; "));
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let bin = args.balagh_bin.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .expect("own path")
            .with_file_name("balagh")
    });
    assert!(
        args.database_url.starts_with("postgres"),
        "replicas share a PostgreSQL database"
    );
    let scratch = std::env::temp_dir().join(format!("balagh-load-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch");
    let mut replicas = Vec::new();
    for i in 0..args.replicas.max(1) {
        // The first replica loads the demo data; the others must not race it.
        replicas.push(start_replica(&bin, &args, &scratch, i == 0).await);
    }
    println!(
        "balagh-load-bench: {} replicas on PostgreSQL, {} connections, {:.0}% writes, {} s \
         (baseline {} s), pool {} per replica, {} cores",
        replicas.len(),
        args.connections,
        args.write_share * 100.0,
        args.seconds,
        args.baseline_seconds,
        args.pool,
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    print_memory(&replicas, "at start");

    // Devices and reports to read back, over 32 connections.
    let setup_started = Instant::now();
    let mut setup = Vec::new();
    for i in 0..32 {
        setup.push(
            Connection::open(replicas[i % replicas.len()].address)
                .await
                .expect("connect"),
        );
    }
    let per = args.devices.div_ceil(setup.len());
    let registering: Vec<_> = setup
        .into_iter()
        .map(|mut c| {
            tokio::spawn(async move {
                let mut tokens = Vec::new();
                for _ in 0..per {
                    let (status, body) = c
                        .send("POST", "/api/v1/devices", None, None)
                        .await
                        .expect("register");
                    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
                    let v: Value = serde_json::from_slice(&body).expect("json");
                    tokens.push(v["token"].as_str().expect("token").to_owned());
                }
                (c, tokens)
            })
        })
        .collect();
    let mut setup = Vec::new();
    let mut tokens = Vec::new();
    for task in registering {
        let (c, t) = task.await.expect("registration");
        setup.push(c);
        tokens.extend(t);
    }
    let tokens = Arc::new(tokens);
    let per = args.seed_reports.div_ceil(setup.len());
    let seeding: Vec<_> = setup
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            let tokens = tokens.clone();
            tokio::spawn(async move {
                let mut rng = rand::rngs::SmallRng::from_rng(&mut rand::rng());
                let mut ids = Vec::new();
                for _ in 0..per {
                    let (status, body) = c
                        .send(
                            "POST",
                            "/api/v1/reports",
                            Some(&tokens[i]),
                            Some(report_body(&mut rng)),
                        )
                        .await
                        .expect("seed");
                    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
                    let v: Value = serde_json::from_slice(&body).expect("json");
                    ids.push((v["id"].as_str().expect("id").to_owned(), i));
                }
                ids
            })
        })
        .collect();
    let mut report_ids = Vec::new();
    for task in seeding {
        report_ids.extend(task.await.expect("seeding"));
    }
    let report_ids = Arc::new(report_ids);
    // As pgbench's set-up does: a table seeded seconds ago has no planner statistics yet
    // (autovacuum analyses within minutes), and a production database has them.
    let pool = sqlx::PgPool::connect(&args.database_url)
        .await
        .expect("database for ANALYZE");
    sqlx::query("ANALYZE")
        .execute(&pool)
        .await
        .expect("ANALYZE");
    pool.close().await;
    println!(
        "setup: {} devices, {} reports in {:.1} s (then ANALYZE)",
        tokens.len(),
        report_ids.len(),
        setup_started.elapsed().as_secs_f64()
    );

    // Open every connection before measuring anything.
    let mut connections = Vec::with_capacity(args.connections);
    for i in 0..args.connections {
        let address = replicas[i % replicas.len()].address;
        match Connection::open(address).await {
            Ok(c) => connections.push(c),
            Err(e) => panic!("connection {i}: {e} (raise the descriptor limit: ulimit -n 8192)"),
        }
    }
    println!("{} connections open", connections.len());

    let started = Instant::now();
    let (connections, baseline) = phase(
        connections,
        tokens.clone(),
        report_ids.clone(),
        false,
        0.0,
        started + Duration::from_secs(args.baseline_seconds),
    )
    .await;
    print_tally("baseline (GET /healthz)", &baseline, started.elapsed());
    print_memory(&replicas, "after the baseline");

    let started = Instant::now();
    let (connections, mixed) = phase(
        connections,
        tokens.clone(),
        report_ids.clone(),
        true,
        args.write_share,
        started + Duration::from_secs(args.seconds),
    )
    .await;
    print_tally("mixed load", &mixed, started.elapsed());
    print_memory(&replicas, "after the mixed load");
    drop(connections);
    drop(replicas);
    let _ = std::fs::remove_dir_all(&scratch);
}
