//! The storage contract, on both databases.

use crate::both_databases;
use crate::harness::*;
use balagh::demo::DemoData;
use balagh_domain::event::Actor;
use balagh_domain::{
    AttributeValues, Channel, Description, EventKind, GeoPoint, IdempotencyKey, NearbySearch,
    Priority, PublicReference, ReportStatus, ServiceCode,
};
use balagh_store::{
    Constraint, CreateOutcome, Idempotency, NearbyQuery, NewDevice, NewReport, Store, StoreError,
    StoredReport, Ts,
};
use uuid::Uuid;

async fn seeded(db: &TestDb) -> (std::sync::Arc<dyn Store>, DemoData) {
    let store = db.store().await;
    let demo = DemoData::load().unwrap();
    demo.seed(store.as_ref()).await.unwrap();
    (store, demo)
}

fn report(demo: &DemoData, device: Option<Uuid>, key: Option<&str>, at: Ts) -> NewReport {
    let point = GeoPoint::parse(WEST.0, WEST.1).unwrap();
    NewReport {
        id: Uuid::now_v7(),
        reference: PublicReference::generate("TET", &mut rand::rng()),
        jurisdiction: demo.jurisdiction.id.clone(),
        service_code: ServiceCode::parse("waste_bin_overflow").unwrap(),
        point,
        accuracy: None,
        description: Description::parse("Plein").unwrap(),
        attributes: AttributeValues::default(),
        channel: Channel::App,
        status: ReportStatus::Unrouted,
        priority: Priority::Normal,
        operator: None,
        contract: None,
        device,
        idempotency: key.map(|k| Idempotency {
            key: IdempotencyKey::parse(k).unwrap(),
            request_hash: vec![1, 2, 3],
        }),
        created_at: at,
        due_at: None,
        contact: None,
        created_by: None,
        outbox: Vec::new(),
        events: StoredReport::creation_events(Actor::System, None, None, Channel::App),
        clocks: Vec::new(),
        later_events: Vec::new(),
    }
}

async fn device(store: &dyn Store) -> Uuid {
    let id = Uuid::now_v7();
    store
        .create_device(&NewDevice {
            id,
            token_hash: Uuid::new_v4().as_bytes().to_vec(),
            created_at: Ts::now(),
        })
        .await
        .unwrap();
    id
}

both_databases! {
    async fn migrations_apply_twice_and_the_catalog_round_trips(db: Db) {
        let test_db = TestDb::new(db).await;
        let (store, demo) = seeded(&test_db).await;
        store.migrate().await.unwrap();
        let revision = store.catalog_revision().await.unwrap();
        assert!(revision >= 3, "{revision}");

        let jurisdictions = store.jurisdictions().await.unwrap();
        assert_eq!(jurisdictions, vec![demo.jurisdiction.clone()]);
        let services = store.services().await.unwrap();
        assert_eq!(services.len(), demo.services.len());
        for (_, service) in &services {
            assert_eq!(Some(service), demo.services.iter().find(|s| s.code == service.code));
        }
        // Seeding again updates in place: no duplicates, revision moves on.
        demo.seed(store.as_ref()).await.unwrap();
        assert_eq!(store.contracts().await.unwrap().len(), demo.zones.len());
        assert_eq!(store.operators().await.unwrap().len(), 4);
        assert!(store.catalog_revision().await.unwrap() > revision);
        let contract = store.contracts().await.unwrap().into_iter().next().unwrap();
        let zone = demo.zones.iter().find(|z| z.contract_reference == contract.reference).unwrap();
        assert_eq!(contract.zone, zone.zone);
        assert_eq!(contract.valid_from, zone.valid_from);
        store.close().await;
    }

    async fn timestamps_round_trip_and_compare_to_the_microsecond(db: Db) {
        let test_db = TestDb::new(db).await;
        let (store, demo) = seeded(&test_db).await;
        let base = time::macros::datetime!(2026-03-10 10:00:00.5 UTC);
        // Within one second, with and without fractional parts: text timestamps get this wrong.
        let times = [base - time::Duration::milliseconds(500), base, base + time::Duration::microseconds(1)];
        for at in times {
            store.create_report(&report(&demo, None, None, Ts::new(at))).await.unwrap();
        }
        let point = GeoPoint::parse(WEST.0, WEST.1).unwrap();
        let search = NearbySearch::new(point, 250.0).unwrap();
        let found = |since: time::OffsetDateTime| {
            let store = store.clone();
            let query = NearbyQuery {
                jurisdiction: demo.jurisdiction.id.clone(),
                service_code: ServiceCode::parse("waste_bin_overflow").unwrap(),
                cells: search.cells.clone(),
                since: Ts::new(since),
            };
            async move { store.nearby_candidates(&query).await.unwrap() }
        };
        assert_eq!(found(times[0]).await.len(), 3);
        assert_eq!(found(base).await.len(), 2);
        let last = found(times[2]).await;
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].created_at.get(), times[2]);
        store.close().await;
    }

    async fn named_constraints_become_typed_conflicts(db: Db) {
        let test_db = TestDb::new(db).await;
        let (store, demo) = seeded(&test_db).await;
        let first = report(&demo, None, None, Ts::now());
        store.create_report(&first).await.unwrap();
        let mut same_reference = report(&demo, None, None, Ts::now());
        same_reference.reference = first.reference.clone();
        match store.create_report(&same_reference).await {
            Err(StoreError::Conflict(Constraint::ReportReference)) => {}
            other => panic!("{other:?}"),
        }
        let token = vec![9u8; 32];
        let new_device = |id| NewDevice { id, token_hash: token.clone(), created_at: Ts::now() };
        store.create_device(&new_device(Uuid::now_v7())).await.unwrap();
        match store.create_device(&new_device(Uuid::now_v7())).await {
            Err(StoreError::Conflict(Constraint::DeviceToken)) => {}
            other => panic!("{other:?}"),
        }
        let mut unknown_service = report(&demo, None, None, Ts::now());
        unknown_service.service_code = ServiceCode::parse("nope").unwrap();
        assert!(matches!(
            store.create_report(&unknown_service).await,
            Err(StoreError::MissingReference)
        ));
        assert_eq!(store.count_reports().await.unwrap(), 1, "failed writes left nothing");
        store.close().await;
    }

    async fn an_idempotency_key_returns_the_first_report(db: Db) {
        let test_db = TestDb::new(db).await;
        let (store, demo) = seeded(&test_db).await;
        let device = device(store.as_ref()).await;
        let first = report(&demo, Some(device), Some("k"), Ts::now());
        let created = match store.create_report(&first).await.unwrap() {
            CreateOutcome::Created(r) => r,
            other => panic!("{other:?}"),
        };
        assert_eq!(created.request_hash.as_deref(), Some(&[1u8, 2, 3][..]));
        let retry = report(&demo, Some(device), Some("k"), Ts::now());
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

        // The history cannot be rewritten, not even by hand.
        let (update, delete) = match db {
            Db::Sqlite => {
                use sqlx::Connection;
                let mut conn = sqlx::SqliteConnection::connect(&test_db.url).await.unwrap();
                let u = sqlx::query("UPDATE report_events SET kind = 'x'").execute(&mut conn).await;
                let d = sqlx::query("DELETE FROM report_events").execute(&mut conn).await;
                (u.map(|_| ()), d.map(|_| ()))
            }
            Db::Postgres => {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&test_db.url).await.unwrap();
                let u = sqlx::query("UPDATE report_events SET kind = 'x'").execute(&mut conn).await;
                let d = sqlx::query("DELETE FROM report_events").execute(&mut conn).await;
                (u.map(|_| ()), d.map(|_| ()))
            }
        };
        for result in [update, delete] {
            let message = result.unwrap_err().to_string();
            assert!(message.contains("append-only"), "{message}");
        }
    }

    async fn bulk_inserts_are_counted_and_readable(db: Db) {
        let test_db = TestDb::new(db).await;
        let (store, demo) = seeded(&test_db).await;
        let reports: Vec<NewReport> = (0..1_234).map(|_| report(&demo, None, None, Ts::now())).collect();
        store.bulk_insert_reports(&reports).await.unwrap();
        assert_eq!(store.count_reports().await.unwrap(), 1_234);
        let one = store.report(reports[700].id).await.unwrap().unwrap();
        assert_eq!(one.reference, reports[700].reference);
        // Its events as given (created, unrouted), nothing else.
        assert_eq!(store.report_events(one.id).await.unwrap().len(), reports[700].events.len());
        balagh::generate::generate(&store, 2_000, 30).await.unwrap();
        assert_eq!(store.count_reports().await.unwrap(), 3_234);
        store.close().await;
    }
}
