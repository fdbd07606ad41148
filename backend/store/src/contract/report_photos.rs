//! A new report's draft photos are written in its own transaction: all or nothing.

use super::{device, seeded};
use crate::{
    CreateOutcome, DraftAttachment, NewOutboxMessage, NewPhoto, PhotoPurpose, Store, StoreError,
    StoredPhoto, StoredRendition, Ts, Uploader, WEBHOOK_TOPIC,
};
use balagh_domain::EventKind;
use balagh_domain::event::Actor;
use balagh_domain::event_data::{EventData, PhotoAdded};
use uuid::Uuid;

async fn draft(store: &dyn Store, device: Uuid) -> Uuid {
    let id = Uuid::now_v7();
    let rendition = StoredRendition {
        sha256: format!("{:064x}", id.as_u128()),
        width: 64,
        height: 48,
    };
    let photo = StoredPhoto {
        id,
        report_id: None,
        uploader: Uploader::Resident(device),
        purpose: PhotoPurpose::Report,
        detected_type: "image/jpeg".into(),
        width: 64,
        height: 48,
        large: rendition.clone(),
        thumbnail: rendition,
        gps_distance_m: None,
        gps_far: false,
        draft_gps: Some((35.575, -5.4)),
        approved: false,
        moderated_by: None,
        moderated_at: None,
        created_at: Ts::now(),
    };
    let new = NewPhoto {
        photo,
        events: Vec::new(),
    };
    store.insert_photo(&new).await.unwrap();
    id
}

fn attachment(photo_id: Uuid) -> DraftAttachment {
    DraftAttachment {
        photo_id,
        gps_distance_m: Some(12.5),
        gps_far: false,
    }
}

fn photo_added(photo_id: Uuid, device: Uuid) -> balagh_domain::NewEvent {
    EventData::PhotoAdded(PhotoAdded {
        photo_id,
        purpose: "report".into(),
        uploader: "resident".into(),
    })
    .event(Actor::Device(device), true)
}

fn webhook(at: Ts) -> NewOutboxMessage {
    NewOutboxMessage {
        id: Uuid::now_v7(),
        topic: WEBHOOK_TOPIC,
        operator: None,
        event_type: "ticket.created".into(),
        payload: serde_json::json!({ "type": "ticket.created" }),
        created_at: at,
        jurisdiction: None,
    }
}

async fn pending_webhooks(store: &dyn Store) -> usize {
    let lease = time::Duration::minutes(5);
    let claimed = store.claim_outbox(WEBHOOK_TOPIC, Ts::now(), lease, 100);
    claimed.await.unwrap().len()
}

/// A report naming a draft that is gone, or another device's, or one attached elsewhere,
/// writes nothing (report, events, outbox, the other drafts); a good one attaches its
/// drafts with their events and outbox rows together, and its replay attaches nothing twice.
pub async fn a_report_and_its_draft_photos_are_written_together(store: &dyn Store) {
    let demo = seeded(store).await;
    let resident = device(store).await;
    let stranger = device(store).await;
    let (first, second) = (draft(store, resident).await, draft(store, resident).await);
    let strangers = draft(store, stranger).await;

    let with_photos = |key: &str, photos: &[Uuid]| {
        let mut report = demo.report(Some(resident), Some(key), Ts::now());
        report.photos = photos.iter().copied().map(attachment).collect();
        report
            .events
            .extend(photos.iter().map(|p| photo_added(*p, resident)));
        report.outbox = vec![webhook(report.created_at)];
        report
    };
    for (bad, key) in [(Uuid::now_v7(), "gone"), (strangers, "theirs")] {
        let report = with_photos(key, &[first, bad]);
        match store.create_report(&report).await {
            Err(StoreError::PhotoNotAttachable(id)) => assert_eq!(id, bad),
            other => panic!("{other:?}"),
        }
        assert!(store.report(report.id).await.unwrap().is_none());
    }
    assert_eq!(store.count_reports().await.unwrap(), 0);
    assert_eq!(
        pending_webhooks(store).await,
        0,
        "no outbox row of a failed report"
    );
    assert_eq!(store.photo(first).await.unwrap().unwrap().report_id, None);

    let report = with_photos("k", &[first, second]);
    let created = match store.create_report(&report).await.unwrap() {
        CreateOutcome::Created(r) => r,
        other => panic!("{other:?}"),
    };
    for id in [first, second] {
        let photo = store.photo(id).await.unwrap().unwrap();
        assert_eq!(photo.report_id, Some(created.id));
        assert_eq!((photo.gps_distance_m, photo.draft_gps), (Some(12.5), None));
    }
    let kinds: Vec<EventKind> = (store.report_events(created.id).await.unwrap())
        .iter()
        .map(|e| e.kind)
        .collect();
    let expected = [EventKind::Created, EventKind::Unrouted];
    assert_eq!(kinds[..2], expected);
    assert_eq!(kinds[2..], [EventKind::PhotoAdded, EventKind::PhotoAdded]);
    assert_eq!(pending_webhooks(store).await, 1);

    // The replay answers with the first report and writes nothing.
    match store
        .create_report(&with_photos("k", &[first]))
        .await
        .unwrap()
    {
        CreateOutcome::Existing(existing) => assert_eq!(existing.id, created.id),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.report_events(created.id).await.unwrap().len(), 4);
    // Attached drafts cannot go to a second report.
    let again = with_photos("k2", &[second]);
    assert!(matches!(
        store.create_report(&again).await,
        Err(StoreError::PhotoNotAttachable(id)) if id == second
    ));
    assert_eq!(store.count_reports().await.unwrap(), 1);
    assert_eq!(store.report_photos(created.id).await.unwrap().len(), 2);
    assert_eq!(
        pending_webhooks(store).await,
        0,
        "claimed once, nothing new"
    );
    store.close().await;
}
