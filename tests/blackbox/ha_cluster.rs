//! A highly available PostgreSQL on loopback ports, from Debian's packages: one etcd 3.4
//! member, three Patroni 3.0 members (each its own PostgreSQL 15 data directory, synchronous
//! replication) and HAProxy 2.6 sending connections to whichever member Patroni's REST API
//! calls the primary. Everything listens on 127.0.0.1 only and lives in a folder of its own;
//! dropping the cluster kills every process it started (the postmasters too: Patroni starts
//! them in sessions of their own) and removes the folder, even when a test fails.

use super::*;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;

pub(super) const POSTGRES_BIN: &str = "/usr/lib/postgresql/15/bin";

/// One Patroni member: its process, ports and data directory.
struct Member {
    name: String,
    patroni: Option<Child>,
    postgres_port: u16,
    rest_port: u16,
    data_dir: PathBuf,
}

pub(super) struct HaCluster {
    dir: PathBuf,
    etcd: Option<Child>,
    haproxy: Option<Child>,
    members: Vec<Member>,
    /// The port HAProxy listens on: connections there reach the primary.
    pub(super) port: u16,
}

/// What Patroni's `/cluster` says of one member.
#[derive(Debug, Clone)]
pub(super) struct MemberState {
    pub(super) name: String,
    pub(super) role: String,
    pub(super) state: String,
}

/// Free loopback ports (bound, then released for the processes to take).
pub(super) fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<_> = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

/// The user and group ids PostgreSQL runs as: `postgres` when the test runs as root
/// (PostgreSQL refuses to run as root), else the current user's own.
pub(super) fn postgres_ids() -> Option<(u32, u32)> {
    let id = |args: &[&str]| -> u32 {
        let out = Command::new("id").args(args).output().expect("id");
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    if id(&["-u"]) != 0 {
        return None;
    }
    Some((id(&["-u", "postgres"]), id(&["-g", "postgres"])))
}

/// A folder for one member, owned by the user PostgreSQL runs as, private to it.
pub(super) fn member_folder(path: &Path, ids: Option<(u32, u32)>) {
    std::fs::create_dir_all(path).unwrap();
    if let Some((uid, gid)) = ids {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// A process whose output goes to `log` in the cluster's folder.
pub(super) fn spawn_logged(command: &mut Command, log: &Path) -> Child {
    let out = std::fs::File::create(log).unwrap();
    let err = out.try_clone().unwrap();
    command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"))
}

fn kill(pid: i64) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

fn patroni_config(member: &Member, etcd_port: u16) -> String {
    let Member {
        name,
        postgres_port,
        rest_port,
        data_dir,
        ..
    } = member;
    let home = data_dir.parent().unwrap().display();
    // ttl 10 / loop_wait 2 / retry_timeout 4: a lost leader is replaced within about 10 s
    // (Patroni wants loop_wait + 2 × retry_timeout ≤ ttl). synchronous_mode: a commit is
    // acknowledged once it is on the leader and on its synchronous standby, and only that
    // standby may be promoted.
    format!(
        "scope: balagh-failover-test
name: {name}
log:
  level: WARNING
restapi:
  listen: 127.0.0.1:{rest_port}
  connect_address: 127.0.0.1:{rest_port}
etcd3:
  hosts: 127.0.0.1:{etcd_port}
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: false
      parameters:
        max_connections: 100
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 256MB
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
postgresql:
  listen: 127.0.0.1:{postgres_port}
  connect_address: 127.0.0.1:{postgres_port}
  data_dir: {data}
  bin_dir: {POSTGRES_BIN}
  pgpass: {home}/pgpass
  authentication:
    superuser:
      username: postgres
      password: failover-test
    replication:
      username: replicator
      password: failover-test
  parameters:
    unix_socket_directories: '{home}'
    shared_buffers: 32MB
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication replicator 127.0.0.1/32 trust
tags:
  nofailover: false
  noloadbalance: false
",
        data = data_dir.display(),
    )
}

fn haproxy_config(port: u16, members: &[Member]) -> String {
    // Patroni's REST API answers 200 on /primary only on the leader. A member that stops
    // answering is out after two checks half a second apart, and the connections it had are
    // cut (rather than left hanging on a dead machine).
    let mut text = format!(
        "global
  maxconn 400
defaults
  mode tcp
  timeout connect 2s
  timeout client 30m
  timeout server 30m
  timeout check 1s
listen primary
  bind 127.0.0.1:{port}
  option httpchk
  http-check send meth GET uri /primary
  http-check expect status 200
  default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
"
    );
    for m in members {
        text.push_str(&format!(
            "  server {} 127.0.0.1:{} maxconn 100 check port {}\n",
            m.name, m.postgres_port, m.rest_port
        ));
    }
    text
}

impl HaCluster {
    /// Starts etcd, three Patroni members and HAProxy, and waits until a leader is elected,
    /// a synchronous standby streams from it and HAProxy reaches it.
    pub(super) async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("balagh-ha-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let ports = free_ports(9);
        let ids = postgres_ids();
        let mut cluster = Self {
            dir: dir.clone(),
            etcd: None,
            haproxy: None,
            members: (0..3)
                .map(|i| Member {
                    name: format!("pg{}", i + 1),
                    patroni: None,
                    postgres_port: ports[2 + i],
                    rest_port: ports[5 + i],
                    data_dir: dir.join(format!("pg{}", i + 1)).join("data"),
                })
                .collect(),
            port: ports[8],
        };
        let (etcd_port, peer_port) = (ports[0], ports[1]);
        let client_url = format!("http://127.0.0.1:{etcd_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        cluster.etcd = Some(spawn_logged(
            Command::new("etcd")
                .args(["--name", "etcd1", "--logger", "zap", "--log-level", "warn"])
                .arg("--data-dir")
                .arg(dir.join("etcd"))
                .args(["--listen-client-urls", &client_url])
                .args(["--advertise-client-urls", &client_url])
                .args(["--listen-peer-urls", &peer_url])
                .args(["--initial-advertise-peer-urls", &peer_url])
                .args(["--initial-cluster", &format!("etcd1={peer_url}")])
                .process_group(0),
            &dir.join("etcd.log"),
        ));
        wait_for(30, "etcd", || {
            TcpStream::connect(("127.0.0.1", etcd_port)).is_ok()
        });
        for i in 0..3 {
            let home = cluster.members[i].data_dir.parent().unwrap().to_owned();
            member_folder(&home, ids);
            let config = home.join("patroni.yml");
            std::fs::write(&config, patroni_config(&cluster.members[i], etcd_port)).unwrap();
            let mut command = Command::new("patroni");
            command.arg(&config).current_dir(&home).process_group(0);
            if let Some((uid, gid)) = ids {
                // As `runuser -u postgres` would, but the child is Patroni itself, so the
                // test can kill exactly that process.
                command.uid(uid).gid(gid).env("HOME", &home);
            }
            cluster.members[i].patroni = Some(spawn_logged(
                &mut command,
                &dir.join(format!("pg{}.log", i + 1)),
            ));
            if i == 0 {
                // The first member bootstraps the cluster; the others copy it.
                cluster.wait_for_leader(None, 90).await;
            }
        }
        std::fs::write(
            dir.join("haproxy.cfg"),
            haproxy_config(cluster.port, &cluster.members),
        )
        .unwrap();
        cluster.haproxy = Some(spawn_logged(
            Command::new("haproxy")
                .args(["-db", "-f"])
                .arg(dir.join("haproxy.cfg"))
                .process_group(0),
            &dir.join("haproxy.log"),
        ));
        cluster.wait_for_sync_standby(120).await;
        let url = cluster.url("postgres");
        let deadline = Instant::now() + Duration::from_secs(30);
        while sqlx::PgPool::connect(&url).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "HAProxy does not reach the leader"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        cluster
    }

    /// A database URL through HAProxy.
    pub(super) fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The members as Patroni's REST API of any member still answering sees them.
    pub(super) async fn members(&self) -> Vec<MemberState> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        for member in self.members.iter().filter(|m| m.patroni.is_some()) {
            let url = format!("http://127.0.0.1:{}/cluster", member.rest_port);
            let Ok(answer) = client.get(url).send().await else {
                continue;
            };
            let Ok(body) = answer.json::<Value>().await else {
                continue;
            };
            return body["members"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| MemberState {
                    name: m["name"].as_str().unwrap_or_default().to_owned(),
                    role: m["role"].as_str().unwrap_or_default().to_owned(),
                    state: m["state"].as_str().unwrap_or_default().to_owned(),
                })
                .collect();
        }
        Vec::new()
    }

    /// Waits until a member other than `not` leads with PostgreSQL running; returns its name.
    pub(super) async fn wait_for_leader(&self, not: Option<&str>, seconds: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let members = self.members().await;
            if let Some(leader) = members.iter().find(|m| {
                m.role == "leader" && m.state == "running" && Some(m.name.as_str()) != not
            }) {
                return leader.name.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no leader after {seconds} s: {members:?} (logs in {})",
                self.dir.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until all three members run, one of them the leader's synchronous standby,
    /// streaming.
    async fn wait_for_sync_standby(&self, seconds: u64) {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let members = self.members().await;
            let running = members
                .iter()
                .filter(|m| m.state == "running" || m.state == "streaming")
                .count();
            if running == 3 && members.iter().any(|m| m.role == "sync_standby") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no synchronous standby after {seconds} s: {members:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The member's running postmaster, from its data directory's `postmaster.pid` (a pid
    /// left there by a killed one is only used while that process is still this member's).
    fn postmaster_pid(member: &Member) -> Option<i64> {
        let text = std::fs::read_to_string(member.data_dir.join("postmaster.pid")).ok()?;
        let pid: i64 = text.lines().next()?.trim().parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let data_dir = member.data_dir.to_str()?;
        String::from_utf8_lossy(&cmdline)
            .contains(data_dir)
            .then_some(pid)
    }

    /// Takes the node of member `name` away: SIGKILL to its Patroni process (so nothing
    /// restarts PostgreSQL in place) and to its postmaster's whole process group (the
    /// postmaster and its backends, as when the machine dies).
    pub(super) fn kill_member(&mut self, name: &str) {
        let member = self
            .members
            .iter_mut()
            .find(|m| m.name == name)
            .expect("a member of that name");
        let postmaster = Self::postmaster_pid(member).expect("the leader's postmaster.pid");
        let mut patroni = member.patroni.take().expect("a running Patroni");
        patroni.kill().unwrap();
        patroni.wait().unwrap();
        kill(-postmaster);
        kill(postmaster);
    }

    /// The folder with every process's log, for failure messages.
    pub(super) fn logs(&self) -> String {
        self.dir.display().to_string()
    }
}

/// Polls `ready` every 100 ms for at most `seconds`.
pub(super) fn wait_for(seconds: u64, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for HaCluster {
    fn drop(&mut self) {
        if let Some(mut haproxy) = self.haproxy.take() {
            let _ = haproxy.kill();
            let _ = haproxy.wait();
        }
        for member in &mut self.members {
            if let Some(mut patroni) = member.patroni.take() {
                let _ = patroni.kill();
                let _ = patroni.wait();
            }
            if let Some(pid) = Self::postmaster_pid(member) {
                kill(-pid);
                kill(pid);
            }
        }
        if let Some(mut etcd) = self.etcd.take() {
            let _ = etcd.kill();
            let _ = etcd.wait();
        }
        if std::env::var_os("BALAGH_KEEP_HA_LOGS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
