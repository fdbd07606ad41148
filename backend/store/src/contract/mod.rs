//! The storage contract as tests: what every [`Store`] backend must do, written once and run
//! by each backend crate (`tests/contract.rs` in `balagh-store-postgres` and
//! `balagh-store-sqlite`) on a fresh, migrated database per case.
//!
//! Built with the `contract-tests` feature only. A backend runs the suite with
//! [`contract_suite!`](crate::contract_suite), naming an async function that opens a fresh
//! store; each case then gets its own database. Checks that need the database's own SQL
//! (triggers, raw statements) stay in the backend's test file.

pub mod fixture;
mod report_photos;

pub use report_photos::a_report_and_its_draft_photos_are_written_together;

use crate::{Constraint, CreateOutcome, NearbyQuery, NewDevice, NewReport, Store, StoreError, Ts};
use balagh_domain::{EventKind, GeoPoint, NearbySearch, ServiceCode};
use fixture::{Catalogue, SERVICE, WEST};
use uuid::Uuid;

/// The cases, by name: [`contract_suite!`](crate::contract_suite) makes one test of each.
#[macro_export]
macro_rules! contract_suite {
    ($fresh:path) => {
        $crate::contract_suite!(@cases $fresh;
            migrations_apply_twice_and_the_catalog_round_trips,
            timestamps_round_trip_and_compare_to_the_microsecond,
            named_constraints_become_typed_conflicts,
            an_idempotency_key_returns_the_first_report,
            bulk_inserts_are_counted_and_readable,
            only_delivered_messages_are_purged_and_oldest_first,
            a_report_and_its_draft_photos_are_written_together,
        );
    };
    (@cases $fresh:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let fresh = $fresh().await;
                $crate::contract::$case($crate::contract::FreshStore::store(&fresh)).await;
            }
        )*
    };
}

/// A fresh, migrated store for one case (and whatever must outlive it: a directory, a
/// database to drop).
pub trait FreshStore {
    fn store(&self) -> &dyn Store;
}

async fn seeded(store: &dyn Store) -> Catalogue {
    let catalogue = Catalogue::load();
    catalogue.seed(store).await;
    catalogue
}

async fn device(store: &dyn Store) -> Uuid {
    let id = Uuid::now_v7();
    let new = NewDevice {
        id,
        token_hash: Uuid::new_v4().as_bytes().to_vec(),
        created_at: Ts::now(),
    };
    store.create_device(&new).await.unwrap();
    id
}

/// Migrating again changes nothing; the catalogue reads back as written, and writing it
/// again updates in place (no duplicates) and moves the catalogue revision on.
pub async fn migrations_apply_twice_and_the_catalog_round_trips(store: &dyn Store) {
    let before = store.catalog_revision().await.unwrap();
    let demo = seeded(store).await;
    store.migrate().await.unwrap();
    let revision = store.catalog_revision().await.unwrap();
    assert!(revision > before, "{before} -> {revision}");

    let jurisdictions = store.jurisdictions().await.unwrap();
    assert_eq!(jurisdictions, vec![demo.jurisdiction.clone()]);
    let services = store.services().await.unwrap();
    assert_eq!(services.len(), demo.services.len());
    for (_, service) in &services {
        assert_eq!(
            Some(service),
            demo.services.iter().find(|s| s.code == service.code)
        );
    }
    demo.seed(store).await;
    assert_eq!(store.contracts().await.unwrap().len(), demo.zones.len());
    assert_eq!(store.operators().await.unwrap().len(), 4);
    assert!(store.catalog_revision().await.unwrap() > revision);
    let contract = store.contracts().await.unwrap().into_iter().next().unwrap();
    let zone = demo
        .zones
        .iter()
        .find(|z| z.contract_reference == contract.reference)
        .unwrap();
    assert_eq!(contract.zone, zone.zone);
    assert_eq!(contract.valid_from, zone.valid_from);
    store.close().await;
}

/// Timestamps keep their microseconds and compare as instants, not as text.
pub async fn timestamps_round_trip_and_compare_to_the_microsecond(store: &dyn Store) {
    let demo = seeded(store).await;
    let base = time::macros::datetime!(2026-03-10 10:00:00.5 UTC);
    // Within one second, with and without fractional parts: text timestamps get this wrong.
    let times = [
        base - time::Duration::milliseconds(500),
        base,
        base + time::Duration::microseconds(1),
    ];
    for at in times {
        let report = demo.report(None, None, Ts::new(at));
        store.create_report(&report).await.unwrap();
    }
    let point = GeoPoint::parse(WEST.0, WEST.1).unwrap();
    let search = NearbySearch::new(point, 250.0).unwrap();
    let found = |since: time::OffsetDateTime| {
        let query = NearbyQuery {
            jurisdiction: demo.jurisdiction.id.clone(),
            service_code: ServiceCode::parse(SERVICE).unwrap(),
            cells: search.cells.clone(),
            bounds: search.bounds,
            since: Ts::new(since),
        };
        async move { store.nearby_candidates(&query).await.unwrap() }
    };
    assert_eq!(found(times[0]).await.len(), 3);
    assert_eq!(found(base).await.len(), 2);
    let last = found(times[2]).await;
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].created_at.get(), times[2]);
    // The same cells with a box that misses the point: nothing (the box is a filter of its own).
    let beside = NearbySearch::new(GeoPoint::parse(WEST.0 + 0.01, WEST.1).unwrap(), 250.0).unwrap();
    let query = NearbyQuery {
        jurisdiction: demo.jurisdiction.id.clone(),
        service_code: ServiceCode::parse(SERVICE).unwrap(),
        cells: search.cells.clone(),
        bounds: beside.bounds,
        since: Ts::new(times[0]),
    };
    assert!(store.nearby_candidates(&query).await.unwrap().is_empty());
    store.close().await;
}

/// Named constraints come back as typed conflicts; a failed write leaves nothing.
pub async fn named_constraints_become_typed_conflicts(store: &dyn Store) {
    let demo = seeded(store).await;
    let first = demo.report(None, None, Ts::now());
    store.create_report(&first).await.unwrap();
    let mut same_reference = demo.report(None, None, Ts::now());
    same_reference.reference = first.reference.clone();
    match store.create_report(&same_reference).await {
        Err(StoreError::Conflict(Constraint::ReportReference)) => {}
        other => panic!("{other:?}"),
    }
    let token = vec![9u8; 32];
    let new_device = |id| NewDevice {
        id,
        token_hash: token.clone(),
        created_at: Ts::now(),
    };
    store
        .create_device(&new_device(Uuid::now_v7()))
        .await
        .unwrap();
    match store.create_device(&new_device(Uuid::now_v7())).await {
        Err(StoreError::Conflict(Constraint::DeviceToken)) => {}
        other => panic!("{other:?}"),
    }
    let mut unknown_service = demo.report(None, None, Ts::now());
    unknown_service.service_code = ServiceCode::parse("nope").unwrap();
    assert!(matches!(
        store.create_report(&unknown_service).await,
        Err(StoreError::MissingReference)
    ));
    let count = store.count_reports().await.unwrap();
    assert_eq!(count, 1, "failed writes left nothing");
    store.close().await;
}

/// A device's retry with the same idempotency key gets the first report back, and the
/// report's creation events are written once.
pub async fn an_idempotency_key_returns_the_first_report(store: &dyn Store) {
    let demo = seeded(store).await;
    let device = device(store).await;
    let first = demo.report(Some(device), Some("k"), Ts::now());
    let created = match store.create_report(&first).await.unwrap() {
        CreateOutcome::Created(r) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(created.request_hash.as_deref(), Some(&[1u8, 2, 3][..]));
    let retry = demo.report(Some(device), Some("k"), Ts::now());
    match store.create_report(&retry).await.unwrap() {
        CreateOutcome::Existing(existing) => assert_eq!(existing, created),
        other => panic!("{other:?}"),
    }
    let events = store.report_events(created.id).await.unwrap();
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::Created, EventKind::Unrouted]);
    assert!(events[0].public && !events[1].public);
    assert_eq!(store.count_reports().await.unwrap(), 1);
    store.close().await;
}

/// Bulk inserts in chunks: every report counted and readable with its events as given.
pub async fn bulk_inserts_are_counted_and_readable(store: &dyn Store) {
    let demo = seeded(store).await;
    let reports: Vec<NewReport> = (0..1_234)
        .map(|_| demo.report(None, None, Ts::now()))
        .collect();
    store.bulk_insert_reports(&reports).await.unwrap();
    assert_eq!(store.count_reports().await.unwrap(), 1_234);
    let one = store.report(reports[700].id).await.unwrap().unwrap();
    assert_eq!(one.reference, reports[700].reference);
    // Its events as given (created, unrouted), nothing else.
    let events = store.report_events(one.id).await.unwrap();
    assert_eq!(events.len(), reports[700].events.len());
    store.close().await;
}

pub async fn only_delivered_messages_are_purged_and_oldest_first(store: &dyn Store) {
    use crate::{DeliveryResult, NewOutboxMessage, WEBHOOK_TOPIC};
    let catalogue = seeded(store).await;
    let now = Ts::now();
    let days_ago = |d: i64| Ts::new(now.get() - time::Duration::days(d));
    let mut ids = Vec::new();
    for at in [days_ago(100), days_ago(99), days_ago(98), now] {
        let mut report = catalogue.report(None, None, at);
        let id = Uuid::now_v7();
        report.outbox = vec![NewOutboxMessage {
            id,
            topic: WEBHOOK_TOPIC,
            operator: None,
            event_type: "ticket.created".into(),
            payload: serde_json::json!({}),
            created_at: at,
            jurisdiction: None,
        }];
        store.create_report(&report).await.unwrap();
        ids.push(id);
    }
    let claimed = store
        .claim_outbox(WEBHOOK_TOPIC, now, time::Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 4);
    let later = Ts::new(now.get() + time::Duration::days(1));
    let outcomes = [
        DeliveryResult::Delivered { at: now },
        DeliveryResult::Dead {
            error: "gone".into(),
        },
        DeliveryResult::Retry {
            error: "busy".into(),
            next_attempt_at: later,
        },
        DeliveryResult::Delivered { at: now },
    ];
    for (id, outcome) in ids.iter().zip(&outcomes) {
        store.record_delivery(*id, outcome).await.unwrap();
    }
    let ninety_days_ago = days_ago(90);
    // The oldest delivered one only: pending and dead messages are not history yet.
    assert_eq!(
        store
            .purge_delivered_outbox(ninety_days_ago, 10)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .purge_delivered_outbox(ninety_days_ago, 10)
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.purge_delivered_outbox(later, 10).await.unwrap(), 1);
    let after = Ts::new(later.get() + time::Duration::seconds(1));
    let pending = store
        .claim_outbox(WEBHOOK_TOPIC, after, time::Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(
        pending.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![ids[2]]
    );
}
