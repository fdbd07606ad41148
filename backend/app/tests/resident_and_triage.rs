//! A resident's actions and staff triage, without HTTP: "me too", reopening, routing to
//! another operator, marking a duplicate.

mod common;

use balagh_app::lifecycle::{self, Extras};
use balagh_app::triage::{self, StaffMember};
use balagh_app::{AppError, AppSettings, resident};
use balagh_domain::event::Actor;
use balagh_domain::lifecycle::Action;
use balagh_domain::{EventKind, ReportStatus};
use balagh_store::{ChangeOutcome, ReportChange, StoredReport, Ts};
use balagh_wire::TicketActionRequest;
use common::{device, fixture_with as fixture, report, webhooks};
use uuid::Uuid;

fn staff_of(report: &StoredReport) -> StaffMember {
    StaffMember {
        user: Uuid::now_v7(),
        jurisdiction: report.jurisdiction.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_too_counts_once_per_device_and_never_the_reporter() {
    let f = fixture(AppSettings::default()).await;
    let (reporter, neighbour, other) = (
        device(&f.app).await,
        device(&f.app).await,
        device(&f.app).await,
    );
    let report = report(&f.app, reporter, "Plein").await;

    let own = resident::supportable(&f.app, reporter, report.id).await;
    assert!(matches!(own, Err(AppError::Conflict(_))), "{own:?}");
    resident::supportable(&f.app, neighbour, report.id)
        .await
        .unwrap();
    let first = resident::add_support(&f.app, neighbour, report.id)
        .await
        .unwrap();
    assert_eq!((first.supporters, first.already_supported), (1, false));
    // The same device again: nothing changes.
    let again = resident::add_support(&f.app, neighbour, report.id)
        .await
        .unwrap();
    assert_eq!((again.supporters, again.already_supported), (1, true));
    let second = resident::add_support(&f.app, other, report.id)
        .await
        .unwrap();
    assert_eq!((second.supporters, second.already_supported), (2, false));
    let stored = f.app.store().report(report.id).await.unwrap().unwrap();
    assert_eq!(stored.supporters, 2);
    let missing = resident::add_support(&f.app, other, Uuid::now_v7()).await;
    assert!(matches!(missing, Err(AppError::NotFound)), "{missing:?}");
}

/// Resolves `report` as its operator would, at `resolved_at`.
async fn resolved_at(app: &balagh_app::App, report: &StoredReport, at: Ts) -> StoredReport {
    let resolved = lifecycle::apply(
        app,
        report,
        report.version,
        Actor::System,
        Action::Resolve,
        Extras::default(),
    )
    .await
    .unwrap();
    let mut change = ReportChange::new(&resolved, Ts::now());
    change.expected_version = resolved.version;
    change.resolved_at = Some(Some(at));
    match app.store().change_report(&change).await.unwrap() {
        ChangeOutcome::Applied(report) => report,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_is_refused_outside_the_window_and_allowed_within_it() {
    let f = fixture(AppSettings::default()).await;
    let window = i64::from(f.app.settings().reopen_window_days);
    let reporter = device(&f.app).await;

    let late = report(&f.app, reporter, "Plein").await;
    let long_ago = Ts::new(time::OffsetDateTime::now_utc() - time::Duration::days(window + 1));
    let late = resolved_at(&f.app, &late, long_ago).await;
    let refused = resident::reopen(&f.app, reporter, late.id, "Toujours plein").await;
    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    let unchanged = f.app.store().report(late.id).await.unwrap().unwrap();
    assert_eq!(unchanged.status, ReportStatus::Resolved);

    let recent = report(&f.app, reporter, "Plein").await;
    let yesterday = Ts::new(time::OffsetDateTime::now_utc() - time::Duration::days(1));
    let recent = resolved_at(&f.app, &recent, yesterday).await;
    // Someone else's report does not exist for this device.
    let stranger = device(&f.app).await;
    let hidden = resident::reopen(&f.app, stranger, recent.id, "Non").await;
    assert!(matches!(hidden, Err(AppError::NotFound)), "{hidden:?}");
    let reopened = resident::reopen(&f.app, reporter, recent.id, "Toujours plein")
        .await
        .unwrap();
    assert_eq!(reopened.status, ReportStatus::Reopened);
    assert_eq!(reopened.resolved_at, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triage_routes_a_rejected_report_to_another_operator_of_its_group() {
    let f = fixture(AppSettings::default()).await;
    let report = report(&f.app, device(&f.app).await, "Plein").await;
    let first = report.operator.unwrap();
    let rejected = lifecycle::apply(
        &f.app,
        &report,
        report.version,
        Actor::System,
        Action::RejectNotOurs,
        Extras::default(),
    )
    .await
    .unwrap();
    let catalog = f.app.catalog();
    let group = catalog
        .service(&report.jurisdiction, &report.service_code)
        .unwrap()
        .group
        .clone();
    let contracts = catalog.router().contracts();
    let other = contracts
        .iter()
        .find(|c| c.group == group && c.operator != first)
        .expect("the demo has a second waste operator");
    let foreign = contracts.iter().find(|c| c.group != group).unwrap();
    let staff = staff_of(&report);

    // A contract of another service group is refused, on the contract's field.
    let body = |contract: Uuid| TicketActionRequest {
        contract_id: Some(contract),
        ..TicketActionRequest::default()
    };
    let wrong = triage::act(
        &f.app,
        &staff,
        &rejected,
        rejected.version,
        "route",
        body(foreign.id.0),
    )
    .await;
    match wrong {
        Err(AppError::Validation(fields)) => assert_eq!(fields[0].field, "contract_id"),
        other => panic!("{other:?}"),
    }
    let routed = triage::act(
        &f.app,
        &staff,
        &rejected,
        rejected.version,
        "route",
        body(other.id.0),
    )
    .await
    .unwrap();
    assert_eq!(routed.status, ReportStatus::New);
    assert_eq!(
        (routed.operator, routed.contract),
        (Some(other.operator), Some(other.id))
    );
    // The new operator is told of a new ticket.
    assert_eq!(webhooks(&f.app, other.operator).await, ["ticket.created"]);
    let unknown = triage::act(
        &f.app,
        &staff,
        &routed,
        routed.version,
        "shred",
        body(other.id.0),
    )
    .await;
    assert!(matches!(unknown, Err(AppError::NotFound)), "{unknown:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marking_a_duplicate_moves_its_supporters_to_the_original() {
    let f = fixture(AppSettings::default()).await;
    let original = report(&f.app, device(&f.app).await, "Plein").await;
    let duplicate = report(&f.app, device(&f.app).await, "Plein aussi").await;
    let supporter = device(&f.app).await;
    resident::add_support(&f.app, supporter, duplicate.id)
        .await
        .unwrap();
    let duplicate = f.app.store().report(duplicate.id).await.unwrap().unwrap();
    let staff = staff_of(&original);
    let as_duplicate_of = |id: Uuid| TicketActionRequest {
        duplicate_of: Some(id),
        ..TicketActionRequest::default()
    };

    // Not of itself.
    let itself = triage::act(
        &f.app,
        &staff,
        &duplicate,
        duplicate.version,
        "mark_duplicate",
        as_duplicate_of(duplicate.id),
    )
    .await;
    assert!(matches!(itself, Err(AppError::Validation(_))), "{itself:?}");
    // The candidates staff are offered include the original.
    let candidates = triage::duplicate_candidates(&f.app, &duplicate)
        .await
        .unwrap();
    assert!(candidates.iter().any(|(_, r)| r.id == original.id));
    assert!(candidates.iter().all(|(_, r)| r.id != duplicate.id));

    let marked = triage::act(
        &f.app,
        &staff,
        &duplicate,
        duplicate.version,
        "mark_duplicate",
        as_duplicate_of(original.id),
    )
    .await
    .unwrap();
    assert_eq!(marked.status, ReportStatus::Duplicate);
    assert_eq!(marked.duplicate_of, Some(original.id));
    let original = f.app.store().report(original.id).await.unwrap().unwrap();
    // The duplicate's reporter and its supporter now support the original.
    assert_eq!(original.supporters, 2);
    let events = f.app.store().report_events(original.id).await.unwrap();
    assert!(events.iter().any(|e| e.kind == EventKind::DuplicateMerged));
    // The same change again, against the version read before: refused.
    let stale = triage::act(
        &f.app,
        &staff,
        &duplicate,
        duplicate.version,
        "mark_duplicate",
        as_duplicate_of(original.id),
    )
    .await;
    assert!(
        matches!(stale, Err(AppError::VersionMismatch { current }) if current == marked.version),
        "{stale:?}"
    );
}
