//! `balagh generate-reports`: fills a database with realistic synthetic reports, for
//! benchmarks and dashboards at scale. Points fall inside the jurisdiction, services and
//! routing follow the catalog, times spread over the past `days`.

use balagh_api::Catalog;
use balagh_domain::event::Actor;
use balagh_domain::lifecycle::Action;
use balagh_domain::{
    AttributeType, AttributeValues, Channel, Description, EventKind, GeoPoint, Jurisdiction,
    NewEvent, Priority, PublicReference, ReportStatus, RouteOutcome, Service,
};
use balagh_store::{Constraint, NewReport, Store, StoreError, StoredReport, Ts};
use geo::{BoundingRect, Intersects};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Map, Value};
use uuid::Uuid;

/// Rows per transaction.
const BATCH: usize = 5_000;

const DESCRIPTIONS: &[&str] = &[
    "Le problème dure depuis plusieurs jours.",
    "المشكل مستمر منذ أيام.",
    "Signalé par plusieurs voisins, merci d'intervenir.",
    "Près de l'école, c'est dangereux pour les enfants.",
    "Still not fixed since last week.",
];

/// Values for a service's required attributes.
fn attributes_for(service: &Service, rng: &mut impl Rng) -> AttributeValues {
    let mut raw = Map::new();
    for a in service.attributes.iter().filter(|a| a.required) {
        let value = match a.datatype {
            AttributeType::Singlevaluelist => a
                .values
                .choose(rng)
                .map(|v| Value::String(v.key.clone()))
                .unwrap_or(Value::Null),
            AttributeType::Multivaluelist => Value::Array(
                a.values
                    .choose(rng)
                    .map(|v| vec![Value::String(v.key.clone())])
                    .unwrap_or_default(),
            ),
            AttributeType::Number => Value::from(rng.random_range(1..60)),
            AttributeType::Datetime => Value::String("2026-01-01T08:00:00Z".into()),
            AttributeType::String | AttributeType::Text => Value::String("demo".into()),
        };
        raw.insert(a.code.clone(), value);
    }
    AttributeValues::parse(service, &raw).unwrap_or_default()
}

/// A plausible status for a report of that age: recent ones open, old ones mostly closed.
fn status_for_age(age: time::Duration, rng: &mut impl Rng) -> ReportStatus {
    use ReportStatus::*;
    let choices: &[ReportStatus] = if age < time::Duration::days(1) {
        &[New, New, New, Acknowledged, Acknowledged, InProgress]
    } else if age < time::Duration::days(14) {
        &[Acknowledged, InProgress, Paused, Resolved, Closed, Closed]
    } else {
        &[
            Closed, Closed, Closed, Closed, Closed, Closed, Closed, Resolved, Rejected, Duplicate,
        ]
    };
    *choices.choose(rng).expect("non-empty")
}

/// A history that leads to `status`: the operator's actions at plausible delays after
/// creation (never after `now`).
fn history_for(
    status: ReportStatus,
    created_at: Ts,
    now: time::OffsetDateTime,
    rng: &mut impl Rng,
) -> Vec<(Ts, NewEvent)> {
    use ReportStatus::*;
    let path: &[Action] = match status {
        Acknowledged => &[Action::Acknowledge],
        InProgress => &[Action::Acknowledge, Action::Start],
        Paused => &[Action::Acknowledge, Action::Start, Action::Pause],
        Resolved => &[Action::Acknowledge, Action::Start, Action::Resolve],
        Closed => &[
            Action::Acknowledge,
            Action::Start,
            Action::Resolve,
            Action::Confirm,
        ],
        Rejected => &[Action::RejectNotOurs],
        Duplicate => &[Action::Acknowledge, Action::MarkDuplicate],
        New | Unrouted | Reopened => &[],
    };
    let mut at = created_at.get();
    let mut events = Vec::new();
    let mut from = New;
    for action in path {
        // Most steps within hours, some late: the statements need breaches too.
        let minutes = if rng.random_bool(0.15) {
            rng.random_range(600..6_000)
        } else {
            rng.random_range(5..600)
        };
        at = (at + time::Duration::minutes(minutes)).min(now);
        let to = balagh_domain::lifecycle::transition(from, *action).unwrap_or(from);
        let mut data = serde_json::json!({
            "action": action.as_str(), "from": from.as_str(), "to": to.as_str(),
        });
        if *action == Action::Pause {
            data["reason"] = "third_party".into();
        }
        events.push((
            Ts::new(at),
            NewEvent {
                kind: EventKind::StatusChanged,
                actor: Actor::System,
                public: true,
                data,
            },
        ));
        from = to;
    }
    events
}

/// One synthetic report at a random point of the jurisdiction, created `age` ago, with a
/// history that leads to its status and the SLA clocks that history gives.
pub fn synthetic_report(
    catalog: &Catalog,
    jurisdiction: &Jurisdiction,
    services: &[Service],
    created_at: Ts,
    rng: &mut impl Rng,
) -> NewReport {
    let router = catalog.router();
    let bbox = jurisdiction
        .boundary
        .bounding_rect()
        .expect("boundary has a box");
    let point = loop {
        let p = GeoPoint::parse(
            rng.random_range(bbox.min().y..=bbox.max().y),
            rng.random_range(bbox.min().x..=bbox.max().x),
        )
        .expect("inside the box");
        if jurisdiction.boundary.intersects(&p.to_geo()) {
            break p;
        }
    };
    let service = services.choose(rng).expect("at least one service");
    let (status, operator, contract) =
        match router.route(&jurisdiction.id, service.group, &point, created_at.get()) {
            RouteOutcome::Routed { operator, contract } => (
                status_for_age(time::OffsetDateTime::now_utc() - created_at.get(), rng),
                Some(operator),
                Some(contract),
            ),
            RouteOutcome::Unrouted => (ReportStatus::Unrouted, None, None),
        };
    let channel = *[
        Channel::App,
        Channel::App,
        Channel::App,
        Channel::Web,
        Channel::Phone,
    ]
    .choose(rng)
    .expect("non-empty");
    let now = time::OffsetDateTime::now_utc();
    let mut report = NewReport {
        id: Uuid::now_v7(),
        reference: PublicReference::generate(&jurisdiction.reference_prefix, rng),
        jurisdiction: jurisdiction.id.clone(),
        service_code: service.code.clone(),
        point,
        accuracy: None,
        description: Description::parse(DESCRIPTIONS.choose(rng).expect("non-empty"))
            .expect("valid"),
        attributes: attributes_for(service, rng),
        channel,
        status,
        priority: Priority::Normal,
        operator,
        contract,
        device: None,
        idempotency: None,
        created_at,
        due_at: None,
        contact: None,
        created_by: None,
        outbox: Vec::new(),
        events: StoredReport::creation_events(Actor::System, operator, contract, channel),
        clocks: Vec::new(),
        later_events: if operator.is_some() {
            history_for(status, created_at, now, rng)
        } else {
            Vec::new()
        },
    };
    balagh_api::sla::clocks_for_history(catalog, &mut report, Ts::new(now));
    report
}

/// Inserts `count` reports spread over the last `days` days, printing progress.
pub async fn generate(store: &dyn Store, count: usize, days: u32) -> Result<(), StoreError> {
    let jurisdictions = store.jurisdictions().await?;
    let jurisdiction = jurisdictions
        .first()
        .ok_or_else(|| StoreError::Corrupt("no jurisdiction: seed the demo data first".into()))?;
    let services: Vec<Service> = store
        .services()
        .await?
        .into_iter()
        .filter(|(j, _)| j == &jurisdiction.id)
        .map(|(_, s)| s)
        .collect();
    let catalog = Catalog::load(store).await?;
    let now = time::OffsetDateTime::now_utc();
    let span_secs = i64::from(days.max(1)) * 86_400;
    let mut rng = rand::rng();
    let started = std::time::Instant::now();
    let mut done = 0;
    while done < count {
        let n = BATCH.min(count - done);
        let mut batch: Vec<NewReport> = (0..n)
            .map(|_| {
                let age = time::Duration::seconds(rng.random_range(0..span_secs));
                synthetic_report(
                    &catalog,
                    jurisdiction,
                    &services,
                    Ts::new(now - age),
                    &mut rng,
                )
            })
            .collect();
        // References are 40 random bits: at millions of rows a batch can hit a taken one.
        // The batch is one transaction, so draw new references and try again.
        let mut attempts = 0;
        loop {
            match store.bulk_insert_reports(&batch).await {
                Err(StoreError::Conflict(Constraint::ReportReference)) if attempts < 5 => {
                    attempts += 1;
                    for report in &mut batch {
                        report.reference =
                            PublicReference::generate(&jurisdiction.reference_prefix, &mut rng);
                    }
                }
                other => break other?,
            }
        }
        done += n;
        let rate = done as f64 / started.elapsed().as_secs_f64();
        eprintln!("generated {done} / {count} reports ({rate:.0}/s)");
    }
    eprintln!("refreshing the database's statistics…");
    store.analyze().await
}
