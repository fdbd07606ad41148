//! Black-box tests of the real `balagh` binary: started as a user would start it, spoken to
//! over HTTP, stopped with SIGTERM.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod failover;
mod faults;
mod ha_cluster;
mod read_replica;
mod replicas;

const BINARY: &str = env!("CARGO_BIN_EXE_balagh");

fn postgres_admin_url() -> String {
    std::env::var("BALAGH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A scratch directory, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("balagh-bb-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A PostgreSQL database for one test, dropped afterwards (through psql-free SQL over sqlx).
struct PgDb {
    name: String,
    url: String,
}

impl PgDb {
    async fn new() -> Self {
        use sqlx::Connection;
        let admin = postgres_admin_url();
        let name = format!("balagh_bb_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        let (base, _) = admin.rsplit_once('/').unwrap();
        Self {
            url: format!("{base}/{name}"),
            name,
        }
    }

    async fn drop_database(self) {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&postgres_admin_url())
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

/// A running `balagh serve`, its log lines collected.
struct Server {
    child: Child,
    address: String,
    logs: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Server {
    /// Starts `balagh serve` in `dir` on a free port, with JSON logs, and waits until it listens.
    fn start(dir: &Path, extra_args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(BINARY);
        command
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(extra_args)
            .current_dir(dir)
            .env_remove("BALAGH_DATABASE_URL")
            .env_remove("BALAGH_LISTEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, logs) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Self {
            child,
            address: String::new(),
            logs,
            seen: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.address.is_empty() {
            let line = server
                .logs
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("server did not start: {:?}", server.seen));
            if let Ok(event) = serde_json::from_str::<Value>(&line)
                && event["message"] == "listening"
            {
                server.address = format!("http://{}", event["address"].as_str().unwrap());
            }
            server.seen.push(line);
        }
        server
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The log lines so far that match `pattern` (diagnostics of a failing test).
    fn log_lines(&self, pattern: &str) -> Vec<String> {
        self.seen
            .iter()
            .cloned()
            .chain(self.logs.try_iter())
            .filter(|l| l.contains(pattern))
            .collect()
    }

    /// Sends SIGTERM and returns the exit status and every log line.
    fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let status = self.child.wait().unwrap();
        self.seen.extend(self.logs.try_iter());
        (status, std::mem::take(&mut self.seen))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn balagh(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BINARY)
        .args(args)
        .current_dir(dir)
        .env_remove("BALAGH_DATABASE_URL")
        .output()
        .unwrap()
}

/// `balagh create-user` run in `dir` (extra arguments: role, scope, database), the password
/// on its standard input, as an administrator would.
fn create_user(dir: &Path, email: &str, name: &str, args: &[&str], password: &str) {
    let mut create = Command::new(BINARY)
        .args(["create-user", "--email", email, "--name", name])
        .args(args)
        .current_dir(dir)
        .env_remove("BALAGH_DATABASE_URL")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(create.stdin.take().unwrap(), "{password}").unwrap();
    let created = create.wait_with_output().unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
}

async fn register(client: &reqwest::Client, server: &Server) -> String {
    let body: Value = client
        .post(server.url("/api/v1/devices"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().unwrap().to_owned()
}

fn report_json(service: &str) -> Value {
    json!({"service_code": service, "lat": 35.5785, "lon": -5.3684, "description": "Lampadaire éteint"})
}

/// The README's first command, as a newcomer runs it: no configuration at all.
#[tokio::test]
async fn serve_with_no_configuration_runs_on_sqlite_with_the_demo_data() {
    let scratch = Scratch::new();
    let server = Server::start(&scratch.0, &[], &[]);
    let client = reqwest::Client::new();
    let ready: Value = client
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["database"], "sqlite");
    assert!(
        scratch.0.join("data/balagh.sqlite3").exists(),
        "default SQLite file under ./data/"
    );
    let services: Value = client
        .get(server.url("/api/v1/services"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(services["services"].as_array().unwrap().len() >= 12);
    let token = register(&client, &server).await;
    let response = client
        .post(server.url("/api/v1/reports"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "first")
        .json(&report_json("light_out"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["operator"]["slug"], "nour-eclairage-demo");
    let (status, logs) = server.terminate();
    assert!(status.success(), "{status:?}");
    assert!(
        logs.iter().any(|l| l.contains("request_id")),
        "request ids in logs"
    );
    assert!(
        !logs.iter().any(|l| l.contains(&token)),
        "tokens never logged"
    );

    // A restart keeps the data and does not load the demo again.
    let server = Server::start(&scratch.0, &[], &[]);
    let stored: Value = client
        .get(server.url(&format!(
            "/api/v1/reports/{}",
            report["id"].as_str().unwrap()
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["reference"], report["reference"]);
    let (_, logs) = server.terminate();
    assert!(
        !logs
            .iter()
            .any(|l| l.contains("loaded the Tétouan demo data"))
    );
}

/// SIGTERM lets a request in flight finish: its body arrives after the signal.
#[tokio::test]
async fn sigterm_finishes_requests_in_flight() {
    let scratch = Scratch::new();
    let server = Server::start(&scratch.0, &[], &[]);
    let client = reqwest::Client::new();
    let token = register(&client, &server).await;
    let body = serde_json::to_vec(&report_json("light_out")).unwrap();
    let host = server.address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&host).unwrap();
    write!(
        stream,
        "POST /api/v1/reports HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Idempotency-Key: in-flight\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(&body[..10]).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(&body[10..]).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    let (status, _) = server.terminate();
    assert!(status.success(), "{status:?}");
    // New connections are refused once it has stopped.
    assert!(TcpStream::connect(&host).is_err());
}

/// Production mode: PostgreSQL by environment variable; the password never reaches the logs.
#[tokio::test]
async fn serve_on_postgres_by_environment_never_logs_the_password() {
    let db = PgDb::new().await;
    // Trust authentication ignores the password, which lets us check it is never printed.
    let url = db.url.replacen("postgres@", "postgres:Sup3rS3cret@", 1);
    assert!(url.contains("Sup3rS3cret"), "{url}");
    let scratch = Scratch::new();
    let server = Server::start(&scratch.0, &[], &[("BALAGH_DATABASE_URL", &url)]);
    let client = reqwest::Client::new();
    let ready: Value = client
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["database"], "postgres");
    let token = register(&client, &server).await;
    let response = client
        .post(server.url("/api/v1/reports"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "pg")
        .json(&report_json("bus_stop_damaged"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let (status, logs) = server.terminate();
    assert!(status.success());
    assert!(logs.iter().any(|l| l.contains("postgres:***@")), "{logs:?}");
    assert!(!logs.iter().any(|l| l.contains("Sup3rS3cret")), "{logs:?}");
    // (./data/photos may exist: photos are on local disk unless S3 is configured.)
    assert!(
        !scratch.0.join("data/balagh.sqlite3").exists(),
        "no SQLite file in PostgreSQL mode"
    );
    db.drop_database().await;
}

/// A TOML file configures the service; a typo in it is a clear error, not a silent default.
#[tokio::test]
async fn a_config_file_is_read_and_checked() {
    let scratch = Scratch::new();
    let config = scratch.0.join("balagh.toml");
    std::fs::write(
        &config,
        "database_url = \"sqlite://./custom/db.sqlite3\"\ndemo_data = true\n[nearby]\nradius_m = 400.0\n",
    )
    .unwrap();
    let server = Server::start(&scratch.0, &["--config", config.to_str().unwrap()], &[]);
    assert!(scratch.0.join("custom/db.sqlite3").exists());
    let client = reqwest::Client::new();
    let token = register(&client, &server).await;
    let nearby: Value = client
        .get(server.url("/api/v1/reports/nearby?lat=35.5785&lon=-5.3684&service_code=light_out"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(nearby["radius_m"], 400.0);
    server.terminate();

    std::fs::write(&config, "listne = \"127.0.0.1:1\"\n").unwrap();
    let output = balagh(&scratch.0, &["serve", "--config", config.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("listne"), "{stderr}");
}

/// The administration commands, on both databases: migrate, seed-demo, import-zones.
#[tokio::test]
async fn migrate_seed_and_import_zones_with_progress_and_all_or_nothing() {
    let pg = PgDb::new().await;
    let scratch = Scratch::new();
    let sqlite = format!("sqlite://{}/admin.sqlite3", scratch.0.display());
    for url in [sqlite.as_str(), pg.url.as_str()] {
        let run = |args: &[&str]| {
            let mut all = args.to_vec();
            all.extend(["--database-url", url]);
            balagh(&scratch.0, &all)
        };
        let out = run(&["migrate"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Zones before the jurisdiction exists: refused with a hint.
        let zones = scratch.0.join("zones.geojson");
        std::fs::write(&zones, big_zone_file(3_000)).unwrap();
        let out = run(&["import-zones", zones.to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("seed-demo"));

        let out = run(&["seed-demo"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("4 operators, 5 contracts"));

        let out = run(&["import-zones", zones.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains("MiB") && stderr.contains("3000 features"),
            "progress: {stderr}"
        );
        assert!(
            stderr.contains("writing contracts: 3000 / 3000"),
            "{stderr}"
        );
        assert!(
            stderr.contains("imported 3000 contracts of 2 operators"),
            "{stderr}"
        );

        // One bad feature among many: nothing is written, the bad one is named.
        let mut bad: Value = serde_json::from_str(&big_zone_file(50)).unwrap();
        bad["features"][17]["properties"]["service_group"] = json!("water");
        for f in bad["features"].as_array_mut().unwrap() {
            let reference = f["properties"]["contract"]
                .as_str()
                .unwrap()
                .replace("BIG", "NEW");
            f["properties"]["contract"] = json!(reference);
        }
        std::fs::write(&zones, bad.to_string()).unwrap();
        let out = run(&["import-zones", zones.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains("feature #17") && stderr.contains("service_group"),
            "{stderr}"
        );
        assert!(stderr.contains("nothing was imported"), "{stderr}");

        std::fs::write(
            &zones,
            "{\"type\": \"FeatureCollection\", \"features\": [ {",
        )
        .unwrap();
        let out = run(&["import-zones", zones.to_str().unwrap()]);
        assert!(!out.status.success());

        // Count contracts through a fresh store: the demo's 5 and the 3,000, nothing else.
        let store = balagh::database::open(&url.parse().unwrap(), 2)
            .await
            .unwrap();
        assert_eq!(store.contracts().await.unwrap().len(), 3_005);
        store.close().await;
    }
    pg.drop_database().await;

    let help = balagh(&scratch.0, &["--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    for command in ["serve", "migrate", "seed-demo", "import-zones"] {
        assert!(help.contains(command), "{help}");
    }
}

/// A FeatureCollection of `n` small square zones over the demo commune.
/// `generate-reports` on a database nobody seeded: it loads the demo data it needs first
/// (it used to fail with "no jurisdiction"), then writes exactly the reports asked for.
#[tokio::test]
async fn generate_reports_on_an_empty_database_seeds_the_demo_first() {
    let scratch = Scratch::new();
    let url = format!("sqlite://{}/generated.sqlite3", scratch.0.display());
    let out = balagh(
        &scratch.0,
        &[
            "generate-reports",
            "--count",
            "25",
            "--days",
            "3",
            "--database-url",
            &url,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("loaded the Tétouan demo data first"),
        "{stderr}"
    );
    use sqlx::Connection;
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let reports: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(reports, 25);
    // A second run does not seed again.
    let out = balagh(
        &scratch.0,
        &[
            "generate-reports",
            "--count",
            "5",
            "--days",
            "3",
            "--database-url",
            &url,
        ],
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("demo data first"));
}

fn big_zone_file(n: usize) -> String {
    let features: Vec<Value> = (0..n)
        .map(|i| {
            let x = -5.43 + (i % 60) as f64 * 0.002;
            let y = 35.54 + (i / 60) as f64 * 0.0015;
            json!({
                "type": "Feature",
                "properties": {
                    "contract": format!("BIG-{i}"),
                    "operator": if i % 2 == 0 { "grid-a" } else { "grid-b" },
                    "operator_name": "Grid operator",
                    "service_group": "lighting",
                    "zone": format!("cell {i}"),
                    "valid_from": "2026-01-01T00:00:00Z"
                },
                "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 0.002, y], [x + 0.002, y + 0.0015], [x, y + 0.0015], [x, y]]]}
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

/// The operator's web queue, end to end in headless Chromium (Debian's package, driven by
/// Playwright; `tests/browser/setup.sh` installs both). Screenshots are kept in
/// `artifacts/screenshots/`.
#[tokio::test]
async fn an_operator_works_the_web_queue_in_a_real_browser() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let browser = repo.join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").exists()
            && Path::new("/usr/bin/chromium").exists(),
        "run tests/browser/setup.sh first (tests/run does)"
    );
    let scratch = Scratch::new();
    let server = Server::start(&scratch.0, &[], &[]);
    let client = reqwest::Client::new();
    let token = register(&client, &server).await;
    // Two tickets: the first is worked through, the second stays in the queue.
    for (key, description) in [
        (
            "web-1",
            "Conteneur plein devant l'école <b>depuis lundi</b>",
        ),
        ("web-2", "Sacs déposés à côté du conteneur"),
    ] {
        let response = client
            .post(server.url("/api/v1/reports"))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(
                &json!({"service_code": "waste_bin_overflow", "lat": 35.575, "lon": -5.40,
                "description": description}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let password = "a passphrase for the browser test";
    create_user(
        &scratch.0,
        "agent@nadafa.ma",
        "Agent Nadafa",
        &["--role", "operator_agent", "--operator", "nadafa-demo"],
        password,
    );

    let shots = repo.join("artifacts/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let run = Command::new("node")
        .arg(browser.join("operator-queue.mjs"))
        .args([server.address.as_str(), "agent@nadafa.ma", password])
        .arg(&shots)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "browser run failed:\n{out}\n{err}");
    for shot in [
        "queue.png",
        "ticket.png",
        "resolved.png",
        "queue-tablet.png",
    ] {
        let size = std::fs::metadata(shots.join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(size > 5_000, "{shot}: {size} bytes");
    }
    server.terminate();
}
