//! Disputes and penalty statements as use cases, without HTTP: breaches of a one-second
//! acknowledgement target, a dispute opened by the operator's manager and accepted by the
//! commune's staff, and the statement's total before and after (cap, waiver).

mod common;

use balagh_app::contracts::disputes::{self, Decider, Disputant, DisputeDraft};
use balagh_app::contracts::{policies, statements};
use balagh_app::intake::{self, Submitter};
use balagh_app::{App, AppError};
use balagh_domain::account::{Email, Grant, Role, Scope};
use balagh_domain::{Channel, IdempotencyKey};
use balagh_store::contract::fixture::Catalogue;
use balagh_store::{DisputeState, NewUser, StatementScope, StoredReport, Ts};
use serde_json::json;
use uuid::Uuid;

async fn user(app: &App, role: Role, scope: Scope) -> Uuid {
    let id = Uuid::now_v7();
    let new = NewUser {
        id,
        email: Email::parse(&format!("{}@example.ma", id.simple())).unwrap(),
        display_name: "Test".into(),
        password_hash: "not a hash: never signs in".into(),
        grant: Grant::new(role, scope).unwrap(),
        created_at: Ts::now(),
    };
    app.store().create_user(&new).await.unwrap();
    id
}

async fn report(app: &App, key: &str, north: f64) -> StoredReport {
    let mut body = common::request("Plein");
    body.lat += north;
    let by = Submitter {
        channel: Channel::App,
        device: Some(common::device(app).await),
        staff: None,
        contact: None,
    };
    let key = IdempotencyKey::parse(key).unwrap();
    intake::submit(app, &body, key, by).await.unwrap().0
}

/// Acknowledge within a second, resolve within 10 h; 100 MAD per breach, 10 MAD per
/// started hour late, at most 150 MAD per period.
fn fast_policy() -> policies::PolicyDraft {
    policies::PolicyDraft {
        effective_from: Some("2026-01-01T00:00:00Z".parse().unwrap()),
        clock: serde_json::from_value(json!("always")).unwrap(),
        targets: serde_json::from_value(json!([
            {"metric": "acknowledge", "service_code": null, "priority": null, "duration": "PT1S"},
            {"metric": "resolve", "service_code": null, "priority": null, "duration": "PT10H"}
        ]))
        .unwrap(),
        pause_reasons_that_stop_the_clock: Vec::new(),
        warning_thresholds: None,
        penalty: serde_json::from_value(json!({
            "per_breach_minor": 10000,
            "per_started_hour_late_minor": 1000,
            "cap_per_period_minor": 15000
        }))
        .unwrap(),
    }
}

/// Opens the dispute once the acknowledgement clock has breached (bounded wait: the
/// target is one second; before, the clock is not breached and the dispute refused).
async fn open_when_breached(app: &App, by: Disputant, report: Uuid) -> balagh_store::Dispute {
    let draft = DisputeDraft {
        metric: "acknowledge",
        cycle: 1,
        reason: "Road closed by the police",
    };
    for _ in 0..200 {
        match disputes::open(app, by, report, &draft).await {
            Err(AppError::Validation(_)) => {
                tokio::time::sleep(std::time::Duration::from_millis(25)).await
            }
            other => return other.unwrap(),
        }
    }
    panic!("the acknowledgement clock never breached");
}

async fn total(app: &App, contract: balagh_domain::ContractId) -> (usize, i64) {
    let now = time::OffsetDateTime::now_utc();
    let (from, until) = (now - time::Duration::days(1), now + time::Duration::days(1));
    assert!(statements::valid_period(from, until));
    let scope = StatementScope::Contract(contract);
    let statement = statements::build(app, scope, from, until).await.unwrap();
    (statement.lines.len(), statement.total_minor)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispute_accepted_waives_its_penalty_in_the_statement() {
    let f = common::fixture().await;
    let app = &f.app;
    let jurisdiction = Catalogue::load().jurisdiction.id;
    // The contract and operator that serve the fixture's point.
    let probe = report(app, "probe", 0.0).await;
    let (contract, operator) = (probe.contract.unwrap(), probe.operator.unwrap());
    let admin = user(
        app,
        Role::StaffAdmin,
        Scope::Jurisdiction(jurisdiction.clone()),
    )
    .await;
    policies::add_policy(app, contract, fast_policy(), admin)
        .await
        .unwrap();
    let a = report(app, "a", 0.0).await;
    let b = report(app, "b", 0.0004).await;
    assert_eq!(b.contract, Some(contract));

    let manager = user(app, Role::OperatorManager, Scope::Operator(operator)).await;
    let by = Disputant {
        operator,
        user: manager,
    };
    let dispute = open_when_breached(app, by, a.id).await;
    assert_eq!(dispute.state, DisputeState::Open);
    // Both acknowledgement clocks breached: two penalties, capped at 150 MAD.
    assert_eq!(total(app, contract).await, (2, 15000));

    // Another operator's manager does not see the ticket; a second dispute is refused.
    let others = app.store().operators().await.unwrap();
    let other = others
        .iter()
        .map(|o| o.operator.id)
        .find(|id| *id != operator)
        .expect("the demo commune has two operators");
    let stranger = Disputant {
        operator: other,
        user: user(app, Role::OperatorManager, Scope::Operator(other)).await,
    };
    let draft = DisputeDraft {
        metric: "acknowledge",
        cycle: 1,
        reason: "Not us",
    };
    let refused = disputes::open(app, stranger, a.id, &draft).await;
    assert!(matches!(refused, Err(AppError::NotFound)), "{refused:?}");
    let again = disputes::open(app, by, a.id, &draft).await;
    assert!(matches!(again, Err(AppError::Conflict(_))), "{again:?}");
    let listed = disputes::list(
        app,
        &balagh_store::DisputeScope::Operator(operator),
        Some(DisputeState::Open),
    )
    .await
    .unwrap();
    assert_eq!(listed.len(), 1);

    let staff = Decider {
        jurisdiction: &jurisdiction,
        user: admin,
    };
    let decided = disputes::decide(app, staff, dispute.id, "accept", Some("Confirmed"))
        .await
        .unwrap();
    assert_eq!(decided.state, DisputeState::Accepted);
    let twice = disputes::decide(app, staff, dispute.id, "reject", None).await;
    assert!(matches!(twice, Err(AppError::Conflict(_))), "{twice:?}");
    // The accepted dispute's penalty is waived (its line stays, at its amount).
    assert_eq!(total(app, contract).await, (2, 11000));
}
