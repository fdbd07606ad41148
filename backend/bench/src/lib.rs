//! What the benchmarks share: the real `balagh serve` started as a separate process.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The `balagh` binary: `explicit`, else the one next to the running benchmark.
pub fn balagh_bin(explicit: Option<PathBuf>) -> PathBuf {
    explicit.unwrap_or_else(|| {
        std::env::current_exe()
            .expect("own path")
            .with_file_name("balagh")
    })
}

/// A configuration file for a server of this benchmark, in the temporary directory.
pub fn config_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("{name}-{}.toml", uuid::Uuid::now_v7()));
    std::fs::write(&path, text).expect("bench config");
    path
}

/// A running `balagh serve`; stopped with SIGTERM (and `scratch` removed) when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub base: String,
    /// A directory of the server's own, removed with it.
    pub scratch: Option<PathBuf>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        if let Some(dir) = &self.scratch {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Server {
    /// `bin serve --listen 127.0.0.1:PORT ARGS…` with `env` (logs at `warn`), once its
    /// `/readyz` answers 200.
    pub async fn start(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let server = Server {
            child: Command::new(bin)
                .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
                .args(args)
                .envs(env.iter().copied())
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display())),
            base: format!("http://127.0.0.1:{port}"),
            scratch: None,
        };
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await
                && r.status().is_success()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("balagh serve did not become ready");
    }
}

/// `balagh serve --no-demo` on `database_url` with the configuration `toml` (written to a
/// temporary file named after `name`), once its statistics are released.
pub async fn serve_released(bin: &Path, name: &str, database_url: &str, toml: &str) -> Server {
    let config = config_file(name, toml);
    let server = Server::start(
        bin,
        &["--no-demo"],
        &[
            ("BALAGH_DATABASE_URL", database_url),
            ("BALAGH_CONFIG", config.to_str().expect("UTF-8 path")),
        ],
    )
    .await;
    wait_for_releases(&server.base).await;
    server
}

/// Waits until the server's release job has released the last complete month (the job
/// releases weeks, then months, then years in one run), at most five minutes.
pub async fn wait_for_releases(base: &str) {
    let client = reqwest::Client::new();
    for _ in 0..600 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let body: serde_json::Value = match client
            .get(format!("{base}/api/v1/stats/summary?period=month"))
            .send()
            .await
        {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => continue,
        };
        if body["periods"].as_array().is_some_and(|p| !p.is_empty()) {
            tokio::time::sleep(Duration::from_secs(1)).await;
            return;
        }
    }
    eprintln!("the statistics were not released within five minutes");
}
