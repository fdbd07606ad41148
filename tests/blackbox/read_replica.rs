//! Read replicas: a real PostgreSQL 15 primary and a streaming standby of it (`initdb`,
//! `pg_basebackup -R`, on loopback ports in a folder of their own), two `balagh serve` with
//! different staleness bounds. Public reads go to the standby while its lag is under the
//! bound, to the primary when it is over or the standby is gone; a resident's own report is
//! always read back from the primary.

use super::ha_cluster::{
    POSTGRES_BIN, free_ports, member_folder, postgres_ids, spawn_logged, wait_for,
};
use super::replicas::api_token;
use super::*;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;

/// A primary and its streaming standby, stopped and removed on drop.
struct StreamingPair {
    dir: PathBuf,
    ids: Option<(u32, u32)>,
    primary_port: u16,
    standby_port: u16,
}

impl StreamingPair {
    fn start() -> Self {
        assert!(
            Path::new(POSTGRES_BIN).join("initdb").exists(),
            "the read replica test needs PostgreSQL 15's server binaries in {POSTGRES_BIN}"
        );
        let dir = std::env::temp_dir().join(format!("balagh-rr-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let ports = free_ports(2);
        let pair = Self {
            dir,
            ids: postgres_ids(),
            primary_port: ports[0],
            standby_port: ports[1],
        };
        let primary = pair.data("primary");
        member_folder(&primary, pair.ids);
        pair.run(
            "initdb",
            &[
                "-D",
                primary.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        // initdb's pg_hba.conf trusts replication connections from 127.0.0.1.
        pair.append_conf(&primary, pair.primary_port);
        pair.pg_ctl(&primary, "start");
        let standby = pair.data("standby");
        member_folder(&standby, pair.ids);
        let port = pair.primary_port.to_string();
        pair.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                standby.to_str().unwrap(),
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        );
        pair.append_conf(&standby, pair.standby_port);
        pair.pg_ctl(&standby, "start");
        let standby_port = pair.standby_port;
        wait_for(30, "the standby", || {
            TcpStream::connect(("127.0.0.1", standby_port)).is_ok()
        });
        pair
    }

    fn data(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn url(&self, port: u16, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/{database}")
    }

    /// Listens on loopback only, with its socket in its data folder (not /var/run).
    fn append_conf(&self, data: &Path, port: u16) {
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .unwrap();
        writeln!(
            conf,
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
             fsync = off\nshared_buffers = 32MB\nmax_connections = 60\nhot_standby = on",
            data.display()
        )
        .unwrap();
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(Path::new(POSTGRES_BIN).join(program));
        command.current_dir(&self.dir);
        if let Some((uid, gid)) = self.ids {
            command.uid(uid).gid(gid).env("HOME", &self.dir);
        }
        command
    }

    fn run(&self, program: &str, args: &[&str]) {
        let log = self.dir.join(format!("{program}.log"));
        let status = spawn_logged(self.command(program).args(args), &log)
            .wait()
            .unwrap();
        assert!(
            status.success(),
            "{program} failed: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    fn pg_ctl(&self, data: &Path, action: &str) {
        let log = data.join("server.log");
        let mut args = vec!["-D", data.to_str().unwrap(), "-w", "-t", "60"];
        match action {
            "start" => args.extend(["-l", log.to_str().unwrap(), "start"]),
            _ => args.extend(["-m", "immediate", "stop"]),
        }
        let status = self
            .command("pg_ctl")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(
            status.success() || action != "start",
            "pg_ctl {action} failed: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    fn stop_standby(&self) {
        self.pg_ctl(&self.data("standby"), "stop");
    }
}

impl Drop for StreamingPair {
    fn drop(&mut self) {
        for name in ["standby", "primary"] {
            self.pg_ctl(&self.data(name), "stop");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The titles of the notices `server` lists near Tétouan's centre (all answers must be 200).
async fn public_notices(client: &reqwest::Client, server: &Server) -> Vec<String> {
    let r = client
        .get(server.url("/api/v1/notices?lat=35.5785&lon=-5.3684&radius_m=20000"))
        .header("accept-language", "fr")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "public notices answered {}", r.status());
    let body: Value = r.json().await.unwrap();
    body["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn publish(client: &reqwest::Client, server: &Server, token: &str, title: &str) {
    let until = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let r = client
        .post(server.url("/api/v1/notices"))
        .bearer_auth(token)
        .json(&json!({
            "kind": "collection_delay",
            "service_codes": ["waste_missed_collection"],
            "area": {"type": "Point", "coordinates": [-5.3684, 35.5785]},
            "radius_m": 500.0,
            "valid_until": until.format(&time::format_description::well_known::Rfc3339).unwrap(),
            "texts": {"fr": {"title": title, "body": "Test des réplicas."}}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

/// Polls `server`'s public notices for at most 30 s until `title` is there.
async fn eventually_listed(client: &reqwest::Client, server: &Server, title: &str, why: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !public_notices(client, server)
        .await
        .iter()
        .any(|t| t == title)
    {
        assert!(Instant::now() < deadline, "{why}: {title} never listed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A server whose reads may go to the standby within `max_lag` seconds.
fn serve(scratch: &Scratch, pair: &StreamingPair, max_lag: &str, extra: &[&str]) -> Server {
    let config = scratch.0.join(format!("replica-{max_lag}.toml"));
    std::fs::write(
        &config,
        format!(
            "[database]\nreplica_urls = [\"{}\"]\nmax_replica_lag_seconds = {max_lag}\n\
             replica_check_seconds = 0.2\n",
            pair.url(pair.standby_port, "balagh")
        ),
    )
    .unwrap();
    let primary = pair.url(pair.primary_port, "balagh");
    let args = [&["--config", config.to_str().unwrap()], extra].concat();
    Server::start(
        &scratch.0,
        &args,
        &[("BALAGH_DATABASE_URL", primary.as_str())],
    )
}

async fn on_standby(pair: &StreamingPair, sql: &str) {
    let pool = sqlx::PgPool::connect(&pair.url(pair.standby_port, "postgres"))
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_reads_go_to_a_fresh_replica_and_fall_back_to_the_primary() {
    let pair = StreamingPair::start();
    let admin = sqlx::PgPool::connect(&pair.url(pair.primary_port, "postgres"))
        .await
        .unwrap();
    sqlx::raw_sql("CREATE DATABASE balagh")
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let scratch = Scratch::new();
    // A: reads from the standby while it is less than an hour behind; B: one second.
    let patient = serve(&scratch, &pair, "3600", &[]);
    let strict = serve(&scratch, &pair, "1", &["--no-demo"]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let primary = pair.url(pair.primary_port, "balagh");
    let staff = api_token(
        &client,
        &patient,
        &scratch.0,
        &primary,
        "staff@commune.ma",
        &["--role", "staff_admin"],
    )
    .await;

    // Replicated within the bound: both servers list a new notice.
    publish(&client, &patient, &staff, "Avis répliqué").await;
    eventually_listed(
        &client,
        &patient,
        "Avis répliqué",
        "through a fresh replica",
    )
    .await;
    eventually_listed(&client, &strict, "Avis répliqué", "through a fresh replica").await;
    assert!(
        !patient.log_lines("replica serves reads").is_empty(),
        "the replica never served reads"
    );

    // The standby stops replaying: it falls behind by the age of its last replayed commit.
    on_standby(&pair, "SELECT pg_wal_replay_pause()").await;
    publish(&client, &patient, &staff, "Avis en retard").await;
    // A resident's own report is read back at once from the primary, whatever the replica.
    let device = register(&client, &patient).await;
    let created = client
        .post(patient.url("/api/v1/reports"))
        .bearer_auth(&device)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&report_json("waste_missed_collection"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let own = client
        .get(patient.url(&format!("/api/v1/reports/{id}")))
        .bearer_auth(&device)
        .send()
        .await
        .unwrap();
    assert_eq!(
        own.status(),
        200,
        "a resident's report must be read from the primary"
    );
    // A (an hour allowed) still reads the paused standby: the new notice is not there yet.
    for _ in 0..5 {
        let titles = public_notices(&client, &patient).await;
        assert!(titles.iter().any(|t| t == "Avis répliqué"), "{titles:?}");
        assert!(
            !titles.iter().any(|t| t == "Avis en retard"),
            "the patient server read the primary although its replica was within the bound"
        );
    }
    // B (one second allowed) gives the replica up and reads the primary.
    eventually_listed(
        &client,
        &strict,
        "Avis en retard",
        "falling back to the primary",
    )
    .await;
    assert!(
        !strict.log_lines("serves no reads").is_empty(),
        "the strict server never said it gave the replica up"
    );

    // Replay resumes: A sees it through the replica.
    on_standby(&pair, "SELECT pg_wal_replay_resume()").await;
    eventually_listed(
        &client,
        &patient,
        "Avis en retard",
        "after the replica caught up",
    )
    .await;

    // The standby dies: A falls back to the primary, answering 200 throughout.
    pair.stop_standby();
    // Reads in flight when it died fail (503); from the next lag check on (0.2 s here) they
    // go to the primary.
    let deadline = Instant::now() + Duration::from_secs(30);
    while patient.log_lines("serves no reads").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the patient server never gave the dead replica up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    publish(&client, &patient, &staff, "Avis sans réplica").await;
    eventually_listed(
        &client,
        &patient,
        "Avis sans réplica",
        "with the replica down",
    )
    .await;
    drop(strict);
    drop(patient);
}
