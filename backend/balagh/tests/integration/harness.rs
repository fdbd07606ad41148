//! Test harness: a fresh database per test (SQLite file or PostgreSQL database, removed
//! afterwards) and the application served on port 0.

use balagh::config::{DatabaseUrl, LogFormat, Settings};
use balagh::server::Application;
use balagh::workers::WorkerSettings;
use balagh_api::{ApiSettings, AppState};
use balagh_domain::OperatorId;
use balagh_domain::account::{Email, Grant, NewPassword, Role, Scope};
use balagh_store::Store;
use balagh_store::{NewApiToken, NewUser, Ts};
use serde_json::{Value, json};
use sqlx::Connection;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// The two databases every storage and API test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs a test body once per database: `fn name(db: Db)` becomes `name::sqlite` and
/// `name::postgres`.
#[macro_export]
macro_rules! both_databases {
    ($(async fn $name:ident($db:ident: Db) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn run($db: $crate::harness::Db) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run($crate::harness::Db::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run($crate::harness::Db::Postgres).await
                }
            }
        )*
    };
}

/// Where the tests find PostgreSQL (a server they may create databases on).
fn postgres_admin_url() -> String {
    std::env::var("BALAGH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Directory(std::path::PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

impl TestDb {
    pub async fn new(db: Db) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match db {
            Db::Sqlite => {
                let dir = std::env::temp_dir().join(format!("balagh-test-{id}"));
                std::fs::create_dir_all(&dir).unwrap();
                Self {
                    url: format!("sqlite://{}", dir.join("balagh.sqlite3").display()),
                    cleanup: Cleanup::Directory(dir),
                }
            }
            Db::Postgres => {
                let admin_url = postgres_admin_url();
                let name = format!("balagh_test_{id}");
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("PostgreSQL must be running for the tests (see README)");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                let (base, _) = admin_url.rsplit_once('/').unwrap();
                Self {
                    url: format!("{base}/{name}"),
                    cleanup: Cleanup::PostgresDatabase { admin_url, name },
                }
            }
        }
    }

    pub fn database_url(&self) -> DatabaseUrl {
        self.url.parse().unwrap()
    }

    /// An open, migrated store on this database.
    pub async fn store(&self) -> Arc<dyn Store> {
        balagh::database::open_migrated(&self.database_url(), 8)
            .await
            .unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Directory(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PostgresDatabase { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: use a thread with its own.
                std::thread::spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap()
                        .block_on(async move {
                            if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                )))
                                .execute(&mut admin)
                                .await;
                            }
                        })
                })
                .join()
                .unwrap();
            }
        }
    }
}

/// The application on port 0 over a fresh database with the Tétouan demo data.
#[derive(Debug)]
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub store: Arc<dyn Store>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    /// The local photo directory (removed on drop; unused with S3 storage).
    pub photos_dir: std::path::PathBuf,
    // Dropped last: the database outlives the server using it.
    _db: TestDb,
}

pub const PASSWORD: &str = "a test passphrase for balagh";

#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: uuid::Uuid,
    pub email: String,
    pub token: String,
}

/// Background loops that poll often and retry fast, so tests need not wait.
/// Test receivers (webhooks, the Web Push stand-in) listen on 127.0.0.1: the outbound
/// policy's development exemption, as `outbound.allow_loopback_http = true` in a file.
pub fn development_outbound() -> balagh_outbound::PolicyResolver {
    let policy = balagh_outbound::OutboundPolicy {
        allow_loopback_http: true,
        allowed: Vec::new(),
    };
    balagh_outbound::PolicyResolver::system(std::sync::Arc::new(policy))
}

pub fn fast_workers() -> WorkerSettings {
    WorkerSettings {
        poll_interval: Duration::from_millis(50),
        retry: balagh_webhooks::RetryPolicy {
            first_interval: Duration::from_millis(100),
            multiplier: 2,
            max_interval: Duration::from_millis(400),
            jitter: 0.0,
            give_up_after: Duration::from_secs(3),
        },
        webhook_timeout: Duration::from_secs(2),
        sla_sweep_interval: Duration::from_millis(100),
        ..WorkerSettings::default()
    }
}

/// Points inside the demo commune (lat, lon).
pub const WEST: (f64, f64) = (35.5750, -5.4000);
pub const EAST: (f64, f64) = (35.5785, -5.3400);
pub const NORTH_CENTRE: (f64, f64) = (35.6000, -5.3684);
/// Rabat: far outside.
pub const OUTSIDE: (f64, f64) = (34.0209, -6.8416);

impl TestApp {
    pub async fn spawn(db: Db) -> Self {
        Self::spawn_with(db, ApiSettings::default()).await
    }

    pub async fn spawn_with(db: Db, api: ApiSettings) -> Self {
        Self::spawn_with_workers(db, api, fast_workers()).await
    }

    pub async fn spawn_with_workers(db: Db, api: ApiSettings, workers: WorkerSettings) -> Self {
        Self::spawn_full(db, api, workers, None).await
    }

    /// With photos kept in `photo_storage` (default: a fresh directory of its own).
    pub async fn spawn_full(
        db: Db,
        api: ApiSettings,
        workers: WorkerSettings,
        photo_storage: Option<balagh_objects::StorageConfig>,
    ) -> Self {
        Self::spawn_configured(db, api, workers, photo_storage, Default::default()).await
    }

    /// With push senders (default: none, pushes are logged).
    pub async fn spawn_with_push(db: Db, push: balagh_push::PushSettings) -> Self {
        Self::spawn_configured(db, ApiSettings::default(), fast_workers(), None, push).await
    }

    pub async fn spawn_configured(
        db: Db,
        mut api: ApiSettings,
        workers: WorkerSettings,
        photo_storage: Option<balagh_objects::StorageConfig>,
        push: balagh_push::PushSettings,
    ) -> Self {
        api.outbound = development_outbound();
        api.web_push_public_key = push
            .web_push
            .as_ref()
            .map(balagh_push::WebPushConfig::public_key_base64url);
        let test_db = TestDb::new(db).await;
        let photos_dir = std::env::temp_dir().join(format!(
            "balagh-test-photos-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let photo_storage = photo_storage.unwrap_or_else(|| {
            balagh_objects::StorageConfig::Local(balagh_objects::LocalConfig {
                root: photos_dir.clone(),
            })
        });
        let settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: test_db.database_url(),
            database_max_connections: 16,
            database_replicas: None,
            demo_data: true,
            log_format: LogFormat::Text,
            api,
            catalog_refresh: Duration::from_secs(3600),
            workers,
            photo_storage,
            photo_url_key: None,
            push,
        };
        let app = Application::build(&settings).await.expect("app starts");
        let address = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        let store = test_db.store().await;
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.run_until(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Self {
            address,
            client: reqwest::Client::new(),
            state,
            store,
            shutdown: Some(tx),
            server: Some(server),
            photos_dir,
            _db: test_db,
        }
    }

    /// A user with this role (operator roles: of the operator with this slug) and an API
    /// token for it. The password is [`PASSWORD`].
    pub async fn user(&self, role: Role, operator: Option<&str>) -> TestUser {
        let scope = match operator {
            None => Scope::Jurisdiction(balagh_domain::Slug::parse("id", "tetouan").unwrap()),
            Some(slug) => Scope::Operator(self.operator_id(slug).await),
        };
        self.user_scoped(role, scope).await
    }

    /// A staff user of another commune than Tétouan.
    pub async fn staff_of(&self, role: Role, jurisdiction: &str) -> TestUser {
        let scope = Scope::Jurisdiction(balagh_domain::Slug::parse("id", jurisdiction).unwrap());
        self.user_scoped(role, scope).await
    }

    async fn user_scoped(&self, role: Role, scope: Scope) -> TestUser {
        let id = uuid::Uuid::now_v7();
        let email = format!("{}-{}@example.ma", role.as_str(), id.simple());
        let password = NewPassword::parse(PASSWORD).unwrap();
        self.store
            .create_user(&NewUser {
                id,
                email: Email::parse(&email).unwrap(),
                display_name: format!("Test {}", role.as_str()),
                password_hash: balagh_api::auth::password::hash(&password).await.unwrap(),
                grant: Grant::new(role, scope).unwrap(),
                created_at: Ts::now(),
            })
            .await
            .unwrap();
        let token =
            balagh_api::auth::secrets::generate(balagh_api::auth::secrets::API_TOKEN_PREFIX);
        self.store
            .create_api_token(&NewApiToken {
                id: uuid::Uuid::now_v7(),
                user_id: id,
                name: "test".into(),
                token_hash: balagh_api::auth::secrets::hash(&token),
                created_at: Ts::now(),
                expires_at: Ts::new(time::OffsetDateTime::now_utc() + time::Duration::days(1)),
            })
            .await
            .unwrap();
        TestUser { id, email, token }
    }

    /// Another replica on this app's database (same settings as `settings` says), serving
    /// on its own port until `stop` is sent or it is dropped.
    pub async fn replica(&self, push: balagh_push::PushSettings) -> Replica {
        let settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: self._db.database_url(),
            database_max_connections: 8,
            database_replicas: None,
            demo_data: false,
            log_format: LogFormat::Text,
            api: ApiSettings {
                app: balagh_app::AppSettings {
                    outbound: development_outbound(),
                    ..balagh_app::AppSettings::default()
                },
                ..ApiSettings::default()
            },
            catalog_refresh: Duration::from_secs(3600),
            workers: fast_workers(),
            photo_storage: balagh_objects::StorageConfig::Local(balagh_objects::LocalConfig {
                root: self.photos_dir.clone(),
            }),
            photo_url_key: None,
            push,
        };
        let app = Application::build(&settings).await.expect("replica starts");
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.run_until(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Replica {
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// The URL of this test's database.
    pub fn database_url(&self) -> String {
        self._db.url.clone()
    }

    pub async fn operator_id(&self, slug: &str) -> OperatorId {
        self.store
            .operators()
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.operator.slug.as_str() == slug)
            .unwrap()
            .operator
            .id
    }

    /// A report submitted by a new device; returns (device token, report JSON).
    pub async fn reported(&self, service: &str, point: (f64, f64)) -> (String, Value) {
        let token = self.device().await;
        let key = uuid::Uuid::new_v4().to_string();
        let response = self
            .post_report(&token, &key, &report_body(service, point))
            .await;
        assert_eq!(response.status(), 201);
        (token, response.json().await.unwrap())
    }

    /// POSTs JSON with a bearer token and an optional If-Match.
    pub async fn post_as(
        &self,
        token: &str,
        path: &str,
        if_match: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).bearer_auth(token);
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Registers a device and returns its token.
    pub async fn device(&self) -> String {
        let response = self
            .client
            .post(self.url("/api/v1/devices"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn post_report(&self, token: &str, key: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/reports"))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn report_count(&self) -> i64 {
        self.store.count_reports().await.unwrap()
    }

    /// Stops the server, waiting for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
        self.store.close().await;
    }
}

/// A second `balagh serve` on a test's database.
#[derive(Debug)]
pub struct Replica {
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Replica {
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = std::fs::remove_dir_all(&self.photos_dir);
    }
}

pub fn report_body(service: &str, (lat, lon): (f64, f64)) -> Value {
    json!({
        "service_code": service,
        "lat": lat,
        "lon": lon,
        "description": "Test report: problem seen this morning",
    })
}

/// Checks a response is a problem document and returns it.
pub async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:balagh:problem:")
    );
    body
}

pub fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// An operator agent applies a ticket action at the ticket's current version (200 expected).
pub async fn operator_act(app: &TestApp, token: &str, report: &Value, action: &str, body: Value) {
    let id = report["id"].as_str().unwrap();
    let current: Value = app
        .get(token, &format!("/api/v1/operator/tickets/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let etag = format!("\"{}\"", current["version"]);
    let response = app
        .post_as(
            token,
            &format!("/api/v1/operator/tickets/{id}/actions/{action}"),
            Some(&etag),
            Some(body),
        )
        .await;
    assert_eq!(response.status(), 200, "{action}");
}
