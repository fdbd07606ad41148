//! Each kind's data reads the JSON the database holds and writes it back unchanged.

use super::*;
use serde_json::json;

const A: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
const B: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a6c";

/// Reads `stored` as `kind`, checks it is `expected`, and that it writes `stored` back.
fn round_trip(kind: EventKind, stored: Value, expected: EventData) {
    let read = EventData::from_stored(kind, &stored)
        .unwrap_or_else(|e| panic!("{} does not read {stored}: {e}", kind.as_str()));
    assert_eq!(read, expected, "{}", kind.as_str());
    assert_eq!(read.kind(), kind);
    assert_eq!(
        read.to_value(),
        stored,
        "{} writes other JSON",
        kind.as_str()
    );
}

fn uuid(raw: &str) -> Uuid {
    raw.parse().unwrap()
}

#[test]
fn created() {
    let data = EventData::Created(Created {
        channel: Channel::Open311,
    });
    round_trip(EventKind::Created, json!({"channel": "open311"}), data);
}

#[test]
fn routed() {
    let data = EventData::Routed(Routed {
        operator_id: OperatorId(uuid(A)),
        contract_id: ContractId(uuid(B)),
    });
    round_trip(
        EventKind::Routed,
        json!({"operator_id": A, "contract_id": B}),
        data,
    );
}

#[test]
fn unrouted() {
    let stored = json!({"reason": "no contract covers this point"});
    let data = EventData::Unrouted(Unrouted {
        reason: Unrouted::NO_CONTRACT.to_owned(),
    });
    round_trip(EventKind::Unrouted, stored, data);
}

#[test]
fn supported() {
    let data = EventData::Supported(Supported { supporters: 3 });
    round_trip(EventKind::Supported, json!({"supporters": 3}), data);
}

#[test]
fn status_changed_bare_and_with_reason() {
    use ReportStatus as S;
    let stored = json!({"action": "acknowledge", "from": "new", "to": "acknowledged"});
    let bare = StatusChanged::new(Action::Acknowledge, S::New, S::Acknowledged);
    round_trip(
        EventKind::StatusChanged,
        stored,
        EventData::StatusChanged(bare),
    );

    let stored = json!({"action": "pause", "from": "in_progress", "to": "paused",
        "reason": "third_party", "note": "waiting for the utility"});
    let mut pause = StatusChanged::new(Action::Pause, S::InProgress, S::Paused);
    pause.reason = Some("third_party".to_owned());
    pause.note = Some("waiting for the utility".to_owned());
    round_trip(
        EventKind::StatusChanged,
        stored,
        EventData::StatusChanged(pause),
    );

    let stored = json!({"action": "resolve", "from": "in_progress", "to": "resolved",
        "evidence_photo": "photo-1"});
    let mut resolve = StatusChanged::new(Action::Resolve, S::InProgress, S::Resolved);
    resolve.evidence_photo = Some("photo-1".to_owned());
    round_trip(
        EventKind::StatusChanged,
        stored,
        EventData::StatusChanged(resolve),
    );
}

#[test]
fn status_changed_route_and_duplicate() {
    use ReportStatus as S;
    let stored = json!({"action": "route", "from": "unrouted", "to": "new",
        "operator_id": A, "contract_id": B, "note": "by hand"});
    let mut route = StatusChanged::new(Action::Route, S::Unrouted, S::New);
    route.note = Some("by hand".to_owned());
    route.routing = Some(Routed {
        operator_id: OperatorId(uuid(A)),
        contract_id: ContractId(uuid(B)),
    });
    round_trip(
        EventKind::StatusChanged,
        stored,
        EventData::StatusChanged(route),
    );

    let stored = json!({"action": "mark_duplicate", "from": "new", "to": "duplicate",
        "duplicate_of": A, "original_reference": "CAS-2026-000001"});
    let mut duplicate = StatusChanged::new(Action::MarkDuplicate, S::New, S::Duplicate);
    duplicate.duplicate_of = Some(uuid(A));
    duplicate.original_reference = Some("CAS-2026-000001".to_owned());
    round_trip(
        EventKind::StatusChanged,
        stored,
        EventData::StatusChanged(duplicate),
    );
}

#[test]
fn assigned() {
    let data = EventData::Assigned(Assigned {
        from: None,
        to: Some(uuid(A)),
    });
    round_trip(EventKind::Assigned, json!({"from": null, "to": A}), data);
}

#[test]
fn comment() {
    let data = EventData::Comment(Comment {
        text: "on our way".to_owned(),
        public: true,
    });
    round_trip(
        EventKind::Comment,
        json!({"text": "on our way", "public": true}),
        data,
    );
}

#[test]
fn moderated() {
    let data = EventData::Moderated(Moderated {
        hidden: true,
        reason: Some("a name".to_owned()),
    });
    round_trip(
        EventKind::Moderated,
        json!({"hidden": true, "reason": "a name"}),
        data,
    );
}

#[test]
fn duplicate_merged() {
    let stored = json!({"duplicate": A, "duplicate_reference": "CAS-2026-000002"});
    let data = EventData::DuplicateMerged(DuplicateMerged {
        duplicate: uuid(A),
        duplicate_reference: "CAS-2026-000002".to_owned(),
    });
    round_trip(EventKind::DuplicateMerged, stored, data);
}

#[test]
fn rated_keeps_a_null_comment() {
    let data = EventData::Rated(Rated {
        stars: 4,
        comment: None,
    });
    round_trip(EventKind::Rated, json!({"stars": 4, "comment": null}), data);
}

#[test]
fn sla_alarms() {
    let stored = json!({"metric": "on_site", "cycle": 2, "percent": 75,
        "crossed_at": "2026-03-02T10:15:30.5Z", "due_at": "2026-03-02T12:00:00Z",
        "policy_version": 3});
    let alarm = SlaAlarm {
        metric: Metric::OnSite,
        cycle: 2,
        percent: 75,
        crossed_at: "2026-03-02T10:15:30.5Z".parse().unwrap(),
        due_at: "2026-03-02T12:00:00Z".parse().unwrap(),
        policy_version: 3,
    };
    // The writer used `Timestamp::to_string`: serde writes the same text.
    assert_eq!(json!(alarm.crossed_at), json!(alarm.crossed_at.to_string()));
    round_trip(
        EventKind::SlaWarning,
        stored.clone(),
        EventData::SlaWarning(alarm.clone()),
    );
    let mut breach_json = stored;
    breach_json["percent"] = json!(100);
    let breach = SlaAlarm {
        percent: 100,
        ..alarm
    };
    round_trip(
        EventKind::SlaBreached,
        breach_json,
        EventData::SlaBreached(breach),
    );
}

#[test]
fn disputes() {
    let stored = json!({"dispute_id": A, "metric": "resolve", "cycle": 1, "reason": "storm"});
    let opened = EventData::DisputeOpened(DisputeOpened {
        dispute_id: uuid(A),
        metric: Metric::Resolve,
        cycle: 1,
        reason: "storm".to_owned(),
    });
    round_trip(EventKind::DisputeOpened, stored, opened);

    let stored = json!({"dispute_id": A, "decision": "reject", "note": null,
        "metric": "acknowledge", "cycle": 1});
    let decided = EventData::DisputeDecided(DisputeDecided {
        dispute_id: uuid(A),
        decision: DisputeDecision::Reject,
        note: None,
        metric: Metric::Acknowledge,
        cycle: 1,
    });
    round_trip(EventKind::DisputeDecided, stored, decided);
    assert_eq!(
        DisputeDecision::parse("accept"),
        Some(DisputeDecision::Accept)
    );
    assert_eq!(DisputeDecision::parse("maybe"), None);
}

#[test]
fn photos() {
    let stored = json!({"photo_id": A, "purpose": "evidence", "uploader": "operator"});
    let added = EventData::PhotoAdded(PhotoAdded {
        photo_id: uuid(A),
        purpose: "evidence".to_owned(),
        uploader: "operator".to_owned(),
    });
    round_trip(EventKind::PhotoAdded, stored, added);
    let moderated = EventData::PhotoModerated(PhotoModerated {
        photo_id: uuid(A),
        approved: false,
    });
    let stored = json!({"photo_id": A, "approved": false});
    round_trip(EventKind::PhotoModerated, stored, moderated);
}

#[test]
fn priority_changed() {
    let stored = json!({"from": "normal", "to": "urgent", "note": "school nearby"});
    let data = EventData::PriorityChanged(PriorityChanged {
        from: Priority::Normal,
        to: Priority::Urgent,
        note: Some("school nearby".to_owned()),
    });
    round_trip(EventKind::PriorityChanged, stored, data);
}

#[test]
fn every_kind_is_covered_and_misspelt_keys_fail() {
    assert_eq!(EventKind::ALL.len(), 17);
    let misspelt = json!({"operator": A, "contract_id": B});
    assert!(EventData::from_stored(EventKind::Routed, &misspelt).is_err());
}

#[test]
fn creation_events_route_or_not() {
    let actor = Actor::Device(uuid(A));
    let routed = creation_events(
        actor,
        Some(OperatorId(uuid(A))),
        Some(ContractId(uuid(B))),
        Channel::App,
    );
    assert_eq!(routed[0].kind, EventKind::Created);
    assert_eq!(routed[0].data, json!({"channel": "app"}));
    assert_eq!(
        (routed[1].kind, routed[1].public),
        (EventKind::Routed, true)
    );
    assert_eq!(routed[1].data, json!({"operator_id": A, "contract_id": B}));
    let unrouted = creation_events(actor, None, None, Channel::Web);
    assert_eq!(
        (unrouted[1].kind, unrouted[1].public),
        (EventKind::Unrouted, false)
    );
    assert_eq!(unrouted[1].actor, Actor::System);
}
