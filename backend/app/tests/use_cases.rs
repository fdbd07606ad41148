//! The use cases without HTTP: a migrated SQLite store seeded with the demo commune, an
//! [`App`] on it, and the functions the handlers and workers call.

mod common;

use balagh_app::clocks;
use balagh_app::intake::{self, Submitter};
use balagh_app::lifecycle::{self, Extras};
use balagh_app::{App, AppError};
use balagh_domain::event::Actor;
use balagh_domain::lifecycle::Action;
use balagh_domain::{Channel, IdempotencyKey, ReportStatus};
use balagh_store::StoredReport;
use common::{device, fixture, request, webhooks};
use uuid::Uuid;

/// Each clock's metric and state, from the report's stored history as of now.
async fn clock_states(app: &App, report: &StoredReport) -> Vec<(String, String)> {
    let events = app.store().report_events(report.id).await.unwrap();
    let events: Vec<_> = events
        .into_iter()
        .filter(|e| e.at <= report.updated_at)
        .collect();
    clocks::views(&app.catalog(), report, &events)
        .into_iter()
        .map(|c| (c.metric, c.state))
        .collect()
}

fn resident(device: Uuid) -> Submitter {
    Submitter {
        channel: Channel::App,
        device: Some(device),
        staff: None,
        contact: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_routes_to_the_contracts_operator_and_queues_its_webhook() {
    let f = fixture().await;
    let device = device(&f.app).await;
    let key = IdempotencyKey::parse("intake-1").unwrap();
    let (report, replayed) =
        intake::submit(&f.app, &request("Plein"), key.clone(), resident(device))
            .await
            .unwrap();
    assert!(!replayed);
    assert_eq!(report.status, ReportStatus::New);
    let (operator, contract) = (report.operator.unwrap(), report.contract.unwrap());
    // The operator is the one of the contract whose zone covers the point.
    let catalog = f.app.catalog();
    let covering = catalog
        .router()
        .contracts()
        .iter()
        .find(|c| c.id == contract)
        .unwrap();
    assert_eq!(covering.operator, operator);
    // The SLA clocks started with the report: it is due some time.
    assert!(report.due_at.is_some_and(|due| due > report.created_at));
    assert_eq!(webhooks(&f.app, operator).await, ["ticket.created"]);

    // The same key and body: the same report, nothing queued twice.
    let (again, replayed) =
        intake::submit(&f.app, &request("Plein"), key.clone(), resident(device))
            .await
            .unwrap();
    assert!(replayed);
    assert_eq!(again.id, report.id);
    assert_eq!(webhooks(&f.app, operator).await, ["ticket.created"]);
    // The same key with another body is refused.
    let reused = intake::submit(&f.app, &request("Autre"), key, resident(device)).await;
    assert!(
        matches!(reused, Err(AppError::IdempotencyKeyReused)),
        "{reused:?}"
    );
    // A point outside the commune is refused as such.
    let mut far = request("Loin");
    far.lat = 48.85;
    far.lon = 2.35;
    let key = IdempotencyKey::parse("intake-2").unwrap();
    let outside = intake::submit(&f.app, &far, key, resident(device)).await;
    assert!(
        matches!(outside, Err(AppError::OutsideJurisdiction)),
        "{outside:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lifecycle_action_recomputes_the_sla_clock_and_checks_versions() {
    let f = fixture().await;
    let device = device(&f.app).await;
    let key = IdempotencyKey::parse("lifecycle-1").unwrap();
    let (report, _) = intake::submit(&f.app, &request("Plein"), key, resident(device))
        .await
        .unwrap();
    let operator = report.operator.unwrap();

    let acknowledged = lifecycle::apply(
        &f.app,
        &report,
        report.version,
        Actor::System,
        Action::Acknowledge,
        Extras::default(),
    )
    .await
    .unwrap();
    assert_eq!(acknowledged.status, ReportStatus::Acknowledged);
    assert_eq!(acknowledged.version, report.version + 1);
    // The acknowledgement clock is met, the resolution clock still runs.
    let states = clock_states(&f.app, &report).await;
    assert!(
        states.iter().all(|(_, state)| state == "running"),
        "{states:?}"
    );
    let states = clock_states(&f.app, &acknowledged).await;
    assert!(
        states.contains(&("acknowledge".into(), "met".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&("resolve".into(), "running".into())),
        "{states:?}"
    );
    assert_eq!(
        acknowledged.due_at, report.due_at,
        "the resolution is still due then"
    );
    assert_eq!(
        webhooks(&f.app, operator).await,
        ["ticket.created", "ticket.updated"]
    );

    // The same change against the old version: refused with the current one.
    let stale = lifecycle::apply(
        &f.app,
        &report,
        report.version,
        Actor::System,
        Action::Acknowledge,
        Extras::default(),
    )
    .await;
    assert!(
        matches!(stale, Err(AppError::VersionMismatch { current }) if current == acknowledged.version),
        "{stale:?}"
    );
    // An action the status does not allow says what is allowed.
    let illegal = lifecycle::apply(
        &f.app,
        &acknowledged,
        acknowledged.version,
        Actor::System,
        Action::Resume,
        Extras::default(),
    )
    .await;
    match illegal {
        Err(AppError::IllegalTransition { allowed, .. }) => {
            assert!(allowed.contains(&"start".to_owned()), "{allowed:?}")
        }
        other => panic!("{other:?}"),
    }
}
