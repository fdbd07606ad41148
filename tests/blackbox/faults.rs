//! Faults and limits, against the real binary: rate limits, body and time limits and
//! security headers; a replica killed with SIGKILL during load; the database cut off during
//! load; the PostgreSQL server itself restarted during load (ignored by default: `tests/run`
//! runs it alone, after every other test). Loopback only, bounded in time.

use super::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Writes a TOML configuration file into the scratch directory.
pub(super) fn config_file(scratch: &Scratch, text: &str) -> String {
    let path = scratch
        .0
        .join(format!("balagh-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Load tests send many requests from 127.0.0.1: no rate limits.
pub(super) const UNLIMITED: &str = "[http.rate_limits]\nper_ip_per_second = 0\n\
    device_writes_per_second = 0\ndevice_lookups_per_second = 0\n\
    [devices]\nnew_per_address_per_hour = 0\nsupports_per_address_per_report = 0\n";

fn report_at(i: usize) -> Value {
    // Spread over the west of the demo commune (covered by contracts), a few metres apart.
    json!({
        "service_code": "waste_bin_overflow",
        "lat": 35.570 + 0.00005 * (i % 100) as f64,
        "lon": -5.400 + 0.00005 * (i / 100 % 100) as f64,
        "description": format!("Conteneur débordant n° {i}"),
    })
}

async fn problem_type(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["type"].as_str().unwrap_or_default().to_owned()
}

/// Per-device and per-address rate limits (429 with Retry-After, as a problem), the body
/// and time limits, and the security headers, on the real binary.
#[tokio::test]
async fn rate_body_and_time_limits_and_security_headers() {
    let scratch = Scratch::new();
    let config = config_file(
        &scratch,
        "[http]\nmax_body_bytes = 4096\nrequest_timeout_seconds = 2\nsecure_cookies = true\n\
         [http.rate_limits]\nper_ip_per_second = 1\nper_ip_burst = 40\n\
         device_writes_per_second = 0.2\ndevice_writes_burst = 3\n",
    );
    let server = Server::start(&scratch.0, &["--config", &config], &[]);
    let client = reqwest::Client::new();

    // Security headers on API answers; pages keep their own policy; HSTS behind HTTPS.
    let services = client
        .get(server.url("/api/v1/services"))
        .send()
        .await
        .unwrap();
    assert_eq!(services.status(), 200);
    let h = services.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(
        h["permissions-policy"]
            .to_str()
            .unwrap()
            .contains("camera=()")
    );
    assert!(
        h["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    let page = client
        .get(server.url("/operator/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("style-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let missing = client.get(server.url("/nowhere")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["x-content-type-options"], "nosniff");

    // A device may make 3 changes at once, then one every 5 s.
    let token = register(&client, &server).await;
    for i in 0..3 {
        let r = client
            .post(server.url("/api/v1/reports"))
            .bearer_auth(&token)
            .header("Idempotency-Key", format!("limit-{i}"))
            .json(&report_at(i))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let limited = client
        .post(server.url("/api/v1/reports"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "limit-3")
        .json(&report_at(3))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=5).contains(&wait), "{wait}");
    assert_eq!(
        limited.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(
        problem_type(limited).await,
        "urn:balagh:problem:rate-limited"
    );
    // Reads by the same device are not changes: still allowed.
    let read = client
        .get(
            server
                .url("/api/v1/reports/nearby?lat=35.57&lon=-5.40&service_code=waste_bin_overflow"),
        )
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);

    // Body limit: 413 as a problem, nothing stored.
    let other = register(&client, &server).await;
    let mut big = report_at(9);
    big["description"] = json!("x".repeat(5000));
    let r = client
        .post(server.url("/api/v1/reports"))
        .bearer_auth(&other)
        .header("Idempotency-Key", "big")
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        problem_type(r).await,
        "urn:balagh:problem:payload-too-large"
    );

    // Time limit: a body that never finishes arriving is cut off with a 503 + Retry-After.
    let slow = register(&client, &server).await;
    let host = server.address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "POST /api/v1/reports HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {slow}\r\n\
         Idempotency-Key: slow\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\
         Connection: close\r\n\r\n{{\"service_code\""
    )
    .unwrap();
    stream.flush().unwrap();
    let started = Instant::now();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    assert!(
        response.to_ascii_lowercase().contains("retry-after: 2"),
        "{response}"
    );
    assert!(response.contains("urn:balagh:problem:service-unavailable"));
    assert!(started.elapsed() < Duration::from_secs(15));

    // Per address: 40 at once, then one a second. Probes are never limited.
    let mut statuses = Vec::new();
    for _ in 0..60 {
        statuses.push(
            client
                .get(server.url("/api/v1/services"))
                .send()
                .await
                .unwrap(),
        );
    }
    let refused: Vec<_> = statuses.into_iter().filter(|r| r.status() == 429).collect();
    assert!(refused.len() >= 10, "{} refused", refused.len());
    assert!(refused[0].headers().contains_key("retry-after"));
    for _ in 0..20 {
        let r = client.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = client.get(server.url("/readyz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let metrics = client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("balagh_rate_limited_total"), "{metrics}");
    server.terminate();
}

/// What one load client saw.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    /// Idempotency key → report id, for every 2xx.
    pub(super) acknowledged: HashMap<String, String>,
    /// 2xx answers that replayed an earlier submission (a retry after a lost answer).
    pub(super) replayed: usize,
    /// Attempts that failed in transport (connection refused or reset).
    pub(super) transport_errors: usize,
    /// 503 answers, each with Retry-After.
    pub(super) unavailable: usize,
    /// Anything else: 500s, 503s without Retry-After, unexpected statuses.
    pub(super) wrong: Vec<String>,
}

/// Submits `count` reports with idempotency keys `{prefix}-{i}`, starting on replica
/// `first`, retrying each with the same key (on the next replica after a transport error)
/// until it is acknowledged.
async fn submit_with_retries(
    client: reqwest::Client,
    replicas: Arc<Vec<String>>,
    first: usize,
    token: String,
    prefix: String,
    count: usize,
    acked: Arc<AtomicUsize>,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut target = first;
    // Replicas this client saw fail in transport are not tried again (as a load balancer
    // would take them out), unless none is left.
    let mut down = vec![false; replicas.len()];
    for i in 0..count {
        let key = format!("{prefix}-{i}");
        let body = report_at(i + first * 1000);
        let mut attempts = 0;
        loop {
            attempts += 1;
            assert!(attempts < 400, "{key}: no replica acknowledged it");
            if down.iter().all(|d| *d) {
                down.fill(false);
            }
            while down[target % replicas.len()] {
                target += 1;
            }
            let sent = client
                .post(format!(
                    "{}/api/v1/reports",
                    replicas[target % replicas.len()]
                ))
                .bearer_auth(&token)
                .header("Idempotency-Key", &key)
                .json(&body)
                .send()
                .await;
            match sent {
                Ok(r) if r.status() == 201 => {
                    if r.headers().get("idempotent-replayed").is_some() {
                        outcome.replayed += 1;
                    }
                    let view: Value = r.json().await.unwrap();
                    outcome
                        .acknowledged
                        .insert(key.clone(), view["id"].as_str().unwrap().to_owned());
                    acked.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Ok(r) if r.status() == 503 => {
                    outcome.unavailable += 1;
                    if !r.headers().contains_key("retry-after") {
                        outcome
                            .wrong
                            .push(format!("{key}: 503 without Retry-After"));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    outcome.wrong.push(format!("{key}: {status} {text}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(_) => {
                    // The replica is gone (or the connection was cut): try the next one.
                    outcome.transport_errors += 1;
                    down[target % replicas.len()] = true;
                    target += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        target += 1;
    }
    outcome
}

/// Every acknowledged key is stored once with the acknowledged id, and no key twice.
pub(super) async fn assert_stored_exactly_once(
    url: &str,
    prefix: &str,
    acknowledged: &HashMap<String, String>,
) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let rows: Vec<(String, uuid::Uuid)> =
        sqlx::query_as("SELECT idempotency_key, id FROM reports WHERE idempotency_key LIKE $1")
            .bind(format!("{prefix}%"))
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut stored: HashMap<String, Vec<uuid::Uuid>> = HashMap::new();
    for (key, id) in rows {
        stored.entry(key).or_default().push(id);
    }
    let twice: Vec<_> = stored.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(twice.is_empty(), "keys stored more than once: {twice:?}");
    for (key, id) in acknowledged {
        let ids = stored
            .get(key)
            .unwrap_or_else(|| panic!("acknowledged {key} is not in the database"));
        assert_eq!(ids[0].to_string(), *id, "{key}");
    }
    // Nothing was stored that no one acknowledged (every submission was retried to the end).
    assert_eq!(stored.len(), acknowledged.len());
    pool.close().await;
}

fn pid_of(server: &Server) -> String {
    server.child.id().to_string()
}

/// Two replicas on one PostgreSQL; one gets SIGKILL mid-load. Every report that got a 2xx
/// is in the database; retries with the same Idempotency-Key on the surviving replica
/// create nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_killed_mid_load_loses_no_acknowledged_report() {
    let db = PgDb::new().await;
    let scratch = Scratch::new();
    let config = config_file(&scratch, UNLIMITED);
    let env = [("BALAGH_DATABASE_URL", db.url.as_str())];
    let doomed = Server::start(&scratch.0, &["--config", &config], &env);
    let survivor = Server::start(&scratch.0, &["--config", &config, "--no-demo"], &env);
    let replicas = Arc::new(vec![doomed.address.clone(), survivor.address.clone()]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    const CLIENTS: usize = 16;
    const EACH: usize = 40;
    let acked = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let token = register(&client, &survivor).await;
        tasks.push(tokio::spawn(submit_with_retries(
            client.clone(),
            replicas.clone(),
            c,
            token,
            format!("kill-{c:02}"),
            EACH,
            acked.clone(),
        )));
    }
    // SIGKILL once a third of the reports are in, with requests in flight on both.
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.load(Ordering::Relaxed) < CLIENTS * EACH / 3 {
        assert!(Instant::now() < deadline, "load did not progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let at_kill = acked.load(Ordering::Relaxed);
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid_of(&doomed)])
            .status()
            .unwrap()
            .success()
    );
    let mut all = HashMap::new();
    let (mut replayed, mut transport_errors) = (0, 0);
    for task in tasks {
        let outcome = task.await.unwrap();
        assert!(outcome.wrong.is_empty(), "{:?}", outcome.wrong);
        replayed += outcome.replayed;
        transport_errors += outcome.transport_errors;
        all.extend(outcome.acknowledged);
    }
    assert!(
        at_kill < CLIENTS * EACH,
        "the kill came before the end of the load"
    );
    assert_eq!(all.len(), CLIENTS * EACH);
    assert!(transport_errors > 0, "the kill cut some requests");
    assert_stored_exactly_once(&db.url, "kill-", &all).await;
    eprintln!(
        "kill -9 after {at_kill} of {} reports: {transport_errors} requests failed in transport \
         and were retried on the survivor, {replayed} of them answered with the report the \
         killed replica had stored",
        CLIENTS * EACH
    );
    drop(doomed);
    survivor.terminate();
    db.drop_database().await;
}

/// Runs SQL on the PostgreSQL server's administration database.
async fn admin_sql(sql: String) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&postgres_admin_url())
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
}

fn terminate_sql(db: &str) -> String {
    format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{db}' AND pid <> pg_backend_pid()"
    )
}

/// Load on `balagh serve` replicas until stopped: `clients` devices (spread over the
/// replicas), each sending batches of 5 reports (Idempotency-Keys `{prefix}-{client}-{batch}-{i}`), every report retried with its
/// key until it is acknowledged.
pub(super) struct Load {
    acked: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Outcome>>,
}

impl Load {
    pub(super) async fn start(
        client: &reqwest::Client,
        servers: &[&Server],
        clients: usize,
        prefix: &str,
    ) -> Self {
        let replicas = Arc::new(
            servers
                .iter()
                .map(|s| s.address.clone())
                .collect::<Vec<_>>(),
        );
        let acked = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for c in 0..clients {
            let first = c % servers.len();
            let token = register(client, servers[first]).await;
            let (client, replicas, acked, stop) = (
                client.clone(),
                replicas.clone(),
                acked.clone(),
                stop.clone(),
            );
            let prefix = format!("{prefix}-{c:02}");
            tasks.push(tokio::spawn(async move {
                let mut total = Outcome::default();
                let mut batch = 0;
                while !stop.load(Ordering::Relaxed) {
                    let o = submit_with_retries(
                        client.clone(),
                        replicas.clone(),
                        first,
                        token.clone(),
                        format!("{prefix}-{batch:03}"),
                        5,
                        acked.clone(),
                    )
                    .await;
                    total.absorb(o);
                    batch += 1;
                }
                total
            }));
        }
        Self { acked, stop, tasks }
    }

    /// Reports acknowledged so far.
    pub(super) fn acknowledged(&self) -> usize {
        self.acked.load(Ordering::Relaxed)
    }

    /// The count of acknowledged reports, shared with the load's clients.
    pub(super) fn counter(&self) -> Arc<AtomicUsize> {
        self.acked.clone()
    }

    /// Waits until `more` further reports are acknowledged, for at most `seconds`.
    pub(super) async fn progress(&self, more: usize, seconds: u64, what: &str) {
        let target = self.acknowledged() + more;
        let deadline = Instant::now() + Duration::from_secs(seconds);
        while self.acknowledged() < target {
            assert!(Instant::now() < deadline, "no progress: {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Lets every client finish its batch, and adds up what they saw.
    pub(super) async fn finish(self) -> Outcome {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Outcome::default();
        for task in self.tasks {
            all.absorb(task.await.unwrap());
        }
        all
    }
}

impl Outcome {
    fn absorb(&mut self, other: Outcome) {
        self.acknowledged.extend(other.acknowledged);
        self.replayed += other.replayed;
        self.transport_errors += other.transport_errors;
        self.unavailable += other.unavailable;
        self.wrong.extend(other.wrong);
    }

    /// What a database outage may cause: 201s and 503s with Retry-After, nothing else, and
    /// the service itself never unreachable.
    pub(super) fn assert_only_created_or_unavailable(&self) {
        assert!(
            self.wrong.is_empty(),
            "answers other than 201 or 503 + Retry-After: {:?}",
            self.wrong
        );
        assert_eq!(self.transport_errors, 0, "the service itself stayed up");
        assert!(self.unavailable > 0, "the outage was seen as 503s");
    }
}

/// Polls `/readyz` until it answers 200, for at most `seconds`.
pub(super) async fn wait_ready(client: &reqwest::Client, server: &Server, seconds: u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let ready = client.get(server.url("/readyz")).send().await.unwrap();
        if ready.status() == 200 {
            return;
        }
        assert!(Instant::now() < deadline, "did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The database is cut off under load — its connections killed again and again, then closed
/// to connections for a few seconds — and comes back: meanwhile `balagh` answers 503 with
/// Retry-After (never 500), afterwards it serves again without a restart, and every
/// acknowledged report is stored once. Only the test's own database is touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn database_outage_answers_503_with_retry_after_and_recovers() {
    let db = PgDb::new().await;
    let scratch = Scratch::new();
    let config = config_file(&scratch, UNLIMITED);
    let server = Server::start(
        &scratch.0,
        &["--config", &config],
        &[("BALAGH_DATABASE_URL", db.url.as_str())],
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let load = Load::start(&client, &[&server], 8, "outage").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Connections killed under the service's feet, ten times a second for 3 s.
    for _ in 0..30 {
        admin_sql(terminate_sql(&db.name)).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Then no connection at all for 4 s.
    admin_sql(format!(
        "ALTER DATABASE {} ALLOW_CONNECTIONS false; {}",
        db.name,
        terminate_sql(&db.name)
    ))
    .await;
    let during = load.acknowledged();
    // A connection that was being opened as the database closed can slip through: keep
    // cutting them for the rest of the outage. Readiness says the database is gone.
    let mut not_ready = 0;
    for _ in 0..16 {
        admin_sql(terminate_sql(&db.name)).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
        let ready = client.get(server.url("/readyz")).send().await.unwrap();
        if ready.status() == 503 {
            assert!(ready.headers().contains_key("retry-after"));
            not_ready += 1;
        }
    }
    assert!(not_ready > 0, "/readyz answered 503 during the outage");
    let after_outage = load.acknowledged();
    admin_sql(format!("ALTER DATABASE {} ALLOW_CONNECTIONS true", db.name)).await;
    // Recovery without a restart.
    wait_ready(&client, &server, 30).await;
    let recovered_at = load.acknowledged();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let outcome = load.finish().await;
    outcome.assert_only_created_or_unavailable();
    assert!(
        outcome.acknowledged.len() > recovered_at,
        "reports are accepted again after the outage"
    );
    assert_stored_exactly_once(&db.url, "outage-", &outcome.acknowledged).await;
    eprintln!(
        "database outage: {} reports acknowledged ({} while the database refused \
         connections), {} answers 503 + Retry-After, none lost",
        outcome.acknowledged.len(),
        after_outage - during,
        outcome.unavailable
    );
    server.terminate();
    db.drop_database().await;
}

/// The machine's PostgreSQL cluster (Debian's `pg_ctlcluster`, the newest version under
/// /etc/postgresql, cluster `main`), stopped for a test. Dropping it starts the cluster again
/// and waits until it accepts connections, so a failing test never leaves it down.
struct StoppedCluster {
    version: String,
    down: bool,
}

impl StoppedCluster {
    /// Stops the cluster (fast shutdown: sessions are cut, transactions rolled back).
    fn stop() -> Self {
        let admin = postgres_admin_url();
        assert!(
            ["127.0.0.1:5432/", "localhost:5432/"]
                .iter()
                .any(|local| admin.contains(local)),
            "the tests' PostgreSQL ({admin}) must be this machine's cluster on 127.0.0.1:5432"
        );
        let mut versions: Vec<String> = std::fs::read_dir("/etc/postgresql")
            .expect("a Debian PostgreSQL installation (/etc/postgresql)")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        versions.sort_by_key(|v| {
            v.split('.')
                .map(|part| part.parse::<u32>().unwrap_or(0))
                .collect::<Vec<_>>()
        });
        let version = versions
            .pop()
            .expect("a PostgreSQL version in /etc/postgresql");
        let cluster = Self {
            version,
            down: true,
        };
        cluster.ctl(&["stop", "-m", "fast"]);
        cluster
    }

    fn ctl(&self, action: &[&str]) {
        let status = Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &self.version, "main"])
            .args(action)
            .status()
            .expect("pg_ctlcluster");
        assert!(status.success(), "pg_ctlcluster {action:?}: {status}");
    }

    /// Starts the cluster and waits until it accepts connections.
    fn start(&mut self) {
        self.ctl(&["start"]);
        self.down = false;
        let accepts = || match Command::new("pg_isready")
            .args(["-q", "-d", &postgres_admin_url()])
            .status()
        {
            Ok(status) => status.success(),
            Err(_) => TcpStream::connect("127.0.0.1:5432").is_ok(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !accepts() {
            assert!(Instant::now() < deadline, "PostgreSQL did not come back");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for StoppedCluster {
    fn drop(&mut self) {
        if self.down {
            self.start();
        }
    }
}

/// The real PostgreSQL server stopped (fast shutdown) under load and started again: while it
/// is down `balagh` answers 503 with Retry-After (reports and `/readyz`, never 500, never a
/// cut connection); once it is back the same process serves again — its pool reconnects by
/// itself — and every acknowledged report is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "restarts the machine's PostgreSQL server: run alone, by tests/run, after every other test"]
async fn postgres_restart_under_load_answers_503_and_recovers() {
    let db = PgDb::new().await;
    let scratch = Scratch::new();
    let config = config_file(&scratch, UNLIMITED);
    let server = Server::start(
        &scratch.0,
        &["--config", &config],
        &[("BALAGH_DATABASE_URL", db.url.as_str())],
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let load = Load::start(&client, &[&server], 8, "restart").await;
    load.progress(40, 60, "before the restart").await;

    let mut cluster = StoppedCluster::stop();
    let stopped = Instant::now();
    let at_stop = load.acknowledged();
    // Readiness probed four times a second for 4 s, each probe on its own (a probe waits up
    // to the pool's acquire timeout for a connection): every one says 503 with Retry-After.
    // PostgreSQL stays down until the last has answered.
    let mut probes = Vec::new();
    while stopped.elapsed() < Duration::from_secs(4) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let (client, url) = (client.clone(), server.url("/readyz"));
        probes.push(tokio::spawn(async move {
            let sent = Instant::now();
            let ready = client.get(url).send().await.unwrap();
            (
                ready.status(),
                ready.headers().contains_key("retry-after"),
                sent.elapsed(),
            )
        }));
    }
    let mut slowest_probe = Duration::ZERO;
    let probe_count = probes.len();
    for probe in probes {
        let (status, retry_after, took) = probe.await.unwrap();
        assert_eq!(status, 503, "/readyz while PostgreSQL is down");
        assert!(retry_after, "/readyz 503 without Retry-After");
        slowest_probe = slowest_probe.max(took);
    }
    let while_down = load.acknowledged() - at_stop;
    cluster.start();
    let down = stopped.elapsed();

    // Recovery without restarting balagh.
    let restarted = Instant::now();
    wait_ready(&client, &server, 60).await;
    let to_recover = restarted.elapsed();
    load.progress(40, 60, "after the restart").await;
    let outcome = load.finish().await;
    drop(cluster);

    outcome.assert_only_created_or_unavailable();
    assert_stored_exactly_once(&db.url, "restart-", &outcome.acknowledged).await;
    eprintln!(
        "PostgreSQL restart under load: {} reports acknowledged ({at_stop} before the stop, \
         {while_down} while down), {} report answers 503 + Retry-After, {probe_count} of \
         {probe_count} /readyz probes 503 + Retry-After while down (slowest {:.1} s), none \
         lost; PostgreSQL down {:.1} s, balagh ready again {:.1} s after PostgreSQL accepted \
         connections",
        outcome.acknowledged.len(),
        outcome.unavailable,
        slowest_probe.as_secs_f64(),
        down.as_secs_f64(),
        to_recover.as_secs_f64()
    );
    server.terminate();
    db.drop_database().await;
}
