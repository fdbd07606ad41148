//! The fixture the app's tests share: a migrated SQLite store seeded with the demo commune
//! and an [`App`] on it, without HTTP.
#![allow(dead_code)] // each test file uses its own part

use balagh_app::intake::{self, Submitter};
use balagh_app::photos::PhotoStorage;
use balagh_app::{App, AppSettings, Catalog};
use balagh_domain::{Channel, IdempotencyKey};
use balagh_store::contract::fixture::{Catalogue, SERVICE, WEST};
use balagh_store::{NewDevice, Store, StoredReport, Ts};
use balagh_store_sqlite::SqliteStore;
use balagh_wire::NewReportRequest;
use std::sync::Arc;
use uuid::Uuid;

/// An app on a fresh migrated store (its directory is removed on drop).
pub struct Fixture {
    pub app: App,
    dir: std::path::PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub async fn fixture() -> Fixture {
    fixture_with(AppSettings::default()).await
}

/// The same with the use cases' settings given.
pub async fn fixture_with(settings: AppSettings) -> Fixture {
    let dir = std::env::temp_dir().join(format!("balagh-app-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("balagh.sqlite3").display());
    let store = SqliteStore::open(&url, 2).await.unwrap();
    store.migrate().await.unwrap();
    Catalogue::load().seed(&store).await;
    let catalog = Catalog::load(&store).await.unwrap();
    let objects = balagh_objects::Objects::open(&balagh_objects::StorageConfig::Local(
        balagh_objects::LocalConfig {
            root: dir.join("photos"),
        },
    ))
    .unwrap();
    let photos = PhotoStorage {
        objects,
        signer: balagh_objects::UrlSigner::random(),
    };
    let store: Arc<dyn Store> = Arc::new(store);
    let app = App::new(store, catalog, settings, photos);
    Fixture { app, dir }
}

pub async fn device(app: &App) -> Uuid {
    let id = Uuid::now_v7();
    let new = NewDevice {
        id,
        token_hash: Uuid::new_v4().as_bytes().to_vec(),
        created_at: Ts::now(),
    };
    app.store().create_device(&new).await.unwrap();
    id
}

/// A report of the fixture's service at its western point.
pub fn request(description: &str) -> NewReportRequest {
    NewReportRequest {
        service_code: SERVICE.into(),
        lat: WEST.0,
        lon: WEST.1,
        description: description.into(),
        attributes: None,
        accuracy_m: None,
        photos: None,
    }
}

/// A report of the fixture's service at its western point, submitted by `device` in the app.
pub async fn report(app: &App, device: Uuid, description: &str) -> StoredReport {
    let key = IdempotencyKey::parse(&Uuid::new_v4().to_string()).unwrap();
    let by = Submitter {
        channel: Channel::App,
        device: Some(device),
        staff: None,
        contact: None,
    };
    intake::submit(app, &request(description), key, by)
        .await
        .unwrap()
        .0
}

/// The event types of the operator's queued webhooks, sorted.
pub async fn webhooks(app: &App, operator: balagh_domain::OperatorId) -> Vec<String> {
    let mut types: Vec<String> = app
        .store()
        .outbox_messages(operator, balagh_store::OutboxState::Pending, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.topic == balagh_store::WEBHOOK_TOPIC)
        .map(|m| m.event_type)
        .collect();
    types.sort();
    types
}
