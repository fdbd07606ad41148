//! `balagh generate-reports`: fills a database with realistic synthetic reports, for
//! benchmarks and dashboards at scale. Points fall inside the jurisdiction, services and
//! routing follow the catalog, times spread over the past `days`.

use balagh_app::Catalog;
use balagh_domain::event::Actor;
use balagh_domain::event_data::{EventData, StatusChanged};
use balagh_domain::lifecycle::Action;
use balagh_domain::sla::PauseReason;
use balagh_domain::stats::{RollupKey, RollupValue};
use balagh_domain::{
    AttributeType, AttributeValues, Channel, Description, EventKind, GeoPoint, Jurisdiction,
    NewEvent, Priority, PublicReference, ReportStatus, RouteOutcome, Service,
};
use balagh_store::stats::StoredFacts;
use balagh_store::{Constraint, NewReport, Store, StoreError, Ts};
use geo::{BoundingRect, Intersects};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
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

/// What some residents write despite the form's advice: personal data the publication gate
/// must keep out of every public output (about 3 % of generated reports).
pub const PERSONAL_DESCRIPTIONS: &[&str] = &[
    "Appelez-moi au 06 61 23 45 67 pour plus de détails.",
    "Contactez-moi : voisin.tetouan@gmail.com",
    "Je m'appelle Ahmed Benali, CIN K123456.",
    "اتصلوا بي على ٠٦٦١٢٣٤٥٦٧",
    "La voiture 12345-أ-6 bloque la benne.",
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
        let mut changed = StatusChanged::new(*action, from, to);
        if *action == Action::Pause {
            changed.reason = Some(PauseReason::ThirdParty.as_str().to_owned());
        }
        let event = EventData::StatusChanged(changed).event(Actor::System, true);
        events.push((Ts::new(at), event));
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
    report_at(catalog, jurisdiction, service, point, created_at, None, rng)
}

/// A synthetic report of `service` at `point`, created at `created_at`, with a history
/// leading to `status` (default: a plausible one for its age) and its SLA clocks.
pub fn report_at(
    catalog: &Catalog,
    jurisdiction: &Jurisdiction,
    service: &Service,
    point: GeoPoint,
    created_at: Ts,
    status: Option<ReportStatus>,
    rng: &mut impl Rng,
) -> NewReport {
    let router = catalog.router();
    let (status, operator, contract) =
        match router.route(&jurisdiction.id, &service.group, &point, created_at.get()) {
            RouteOutcome::Routed { operator, contract } => (
                status.unwrap_or_else(|| {
                    status_for_age(time::OffsetDateTime::now_utc() - created_at.get(), rng)
                }),
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
        description: Description::parse(if rng.random_bool(0.03) {
            PERSONAL_DESCRIPTIONS.choose(rng).expect("non-empty")
        } else {
            DESCRIPTIONS.choose(rng).expect("non-empty")
        })
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
        events: balagh_domain::event_data::creation_events(
            Actor::System,
            operator,
            contract,
            channel,
        ),
        clocks: Vec::new(),
        photos: Vec::new(),
        later_events: if operator.is_some() {
            history_for(status, created_at, now, rng)
        } else {
            Vec::new()
        },
    };
    balagh_app::clocks::clocks_for_history(catalog, &mut report, Ts::new(now));
    report
}

/// What the roll-up job would read about a generated report (the same derivation then
/// applies, so generated roll-ups equal a rebuild).
pub fn stats_source(r: &NewReport) -> balagh_store::stats::StatsSource {
    balagh_store::stats::StatsSource {
        id: r.id,
        jurisdiction_id: r.jurisdiction.as_str().to_owned(),
        service_code: r.service_code.as_str().to_owned(),
        operator_id: r.operator.map(|o| o.0),
        contract_id: r.contract.map(|c| c.0),
        cell: r.point.report_cell(),
        channel: r.channel.as_str().to_owned(),
        status: r.status.as_str().to_owned(),
        rating: None,
        created_at: r.created_at,
        updated_at: r.created_at,
        status_events: r
            .later_events
            .iter()
            .filter(|(_, e)| e.kind == EventKind::StatusChanged)
            .map(|(at, e)| (*at, e.data.clone()))
            .collect(),
        breached: r
            .clocks
            .iter()
            .any(|c| c.state == "breached" || c.breached_at.is_some()),
    }
}

/// Roll-up rows of generated reports, kept in memory for the days still open to
/// contributions and written out once no later report can touch them.
struct GeneratedRollups {
    rows: BTreeMap<RollupKey, RollupValue>,
}

/// Days after its creation a generated report can still contribute (four steps of at most
/// 100 hours each).
const CONTRIBUTION_DAYS: i64 = 20;

impl GeneratedRollups {
    fn add(&mut self, catalog: &Catalog, reports: &[NewReport]) -> Vec<(Uuid, StoredFacts)> {
        let mut facts = Vec::with_capacity(reports.len());
        for r in reports {
            let Some(f) = balagh_app::stats::derive_facts(catalog, &stats_source(r)) else {
                continue;
            };
            let tz = balagh_app::stats::time_zone(catalog, &f.jurisdiction);
            for (key, value) in balagh_domain::stats::contributions(&f, &tz) {
                self.rows.entry(key).or_default().merge(&value);
            }
            facts.push((r.id, StoredFacts::from_domain(&f)));
        }
        facts
    }

    /// Rows of days before `before` (all with `None`), removed from memory.
    fn take_before(&mut self, before: Option<time::Date>) -> Vec<balagh_store::stats::StatsRow> {
        let (done, keep): (BTreeMap<_, _>, BTreeMap<_, _>) = std::mem::take(&mut self.rows)
            .into_iter()
            .partition(|(k, _)| before.is_none_or(|b| k.day < b));
        self.rows = keep;
        balagh_store::stats::with_all_cells(done)
    }
}

/// Batches written at once: the next batch is generated while PostgreSQL stores the last
/// ones on other connections (SQLite has one writer: one batch at a time there).
const WRITES_IN_FLIGHT: usize = 8;

/// Writes one generated batch: its reports (with their events and clocks), then their facts
/// and the roll-up rows no later report can touch. References are 40 random bits: at
/// millions of rows a batch can hit a taken one; the batch is one transaction, so it draws
/// new references and tries again.
async fn write_batch(
    store: Arc<dyn Store>,
    mut batch: Vec<NewReport>,
    facts: Vec<(Uuid, StoredFacts)>,
    rows: Vec<balagh_store::stats::StatsRow>,
    reference_prefix: String,
) -> Result<usize, StoreError> {
    let mut attempts = 0;
    loop {
        match store.bulk_insert_reports(&batch).await {
            Err(StoreError::Conflict(Constraint::ReportReference)) if attempts < 5 => {
                attempts += 1;
                let mut rng = rand::rng();
                for report in &mut batch {
                    report.reference = PublicReference::generate(&reference_prefix, &mut rng);
                }
            }
            other => break other?,
        }
    }
    store.put_stats_facts(&facts).await?;
    store.merge_stats_rows(&rows).await?;
    Ok(batch.len())
}

/// Inserts `count` reports spread over the last `days` days, printing progress.
pub async fn generate(store: &Arc<dyn Store>, count: usize, days: u32) -> Result<(), StoreError> {
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
    let catalog = Catalog::load(store.as_ref()).await?;
    let tz = balagh_app::stats::time_zone(&catalog, &jurisdiction.id);
    let now = time::OffsetDateTime::now_utc();
    let span_secs = i64::from(days.max(1)) * 86_400;
    let started = std::time::Instant::now();
    let generation_started = Ts::now();
    // The history's months exist before it is written (PostgreSQL keeps one per month).
    store
        .prepare_history(
            Ts::new(now - time::Duration::seconds(span_secs)),
            generation_started,
        )
        .await?;
    let mut rollups = GeneratedRollups {
        rows: BTreeMap::new(),
    };
    let mut writes = tokio::task::JoinSet::new();
    let (mut generated, mut stored) = (0, 0);
    let report_progress = |stored: usize| {
        let rate = stored as f64 / started.elapsed().as_secs_f64();
        eprintln!("generated {stored} / {count} reports ({rate:.0}/s)");
    };
    // SQLite has one writer: batches queued behind it only wait (and time out under load).
    let in_flight = match store.backend() {
        balagh_store::Backend::Sqlite => 1,
        _ => WRITES_IN_FLIGHT,
    };
    while generated < count {
        let n = BATCH.min(count - generated);
        // Oldest first, so roll-up rows of past days can be written out as we go.
        let batch: Vec<NewReport> = {
            let mut rng = rand::rng();
            (generated..generated + n)
                .map(|i| {
                    let slot = span_secs as f64 * (1.0 - (i as f64 + 0.5) / count as f64);
                    let jitter = rng.random_range(-0.5..0.5) * span_secs as f64 / count as f64;
                    let age = time::Duration::seconds(
                        (slot + jitter).clamp(0.0, span_secs as f64) as i64
                    );
                    synthetic_report(
                        &catalog,
                        jurisdiction,
                        &services,
                        Ts::new(now - age),
                        &mut rng,
                    )
                })
                .collect()
        };
        let facts = rollups.add(&catalog, &batch);
        let rows = match batch.iter().map(|r| r.created_at).min() {
            Some(oldest) => rollups.take_before(Some(
                balagh_domain::stats::local_day(oldest.get(), &tz)
                    - time::Duration::days(CONTRIBUTION_DAYS),
            )),
            None => Vec::new(),
        };
        generated += n;
        while writes.len() >= in_flight {
            stored += joined(writes.join_next().await.expect("writes in flight"))?;
            report_progress(stored);
        }
        writes.spawn(write_batch(
            store.clone(),
            batch,
            facts,
            rows,
            jurisdiction.reference_prefix.clone(),
        ));
    }
    while let Some(done) = writes.join_next().await {
        stored += joined(done)?;
        report_progress(stored);
    }
    let rows = rollups.take_before(None);
    store.merge_stats_rows(&rows).await?;
    // Everything generated is rolled up; the job carries on from here.
    store.set_stats_cursor(generation_started).await?;
    eprintln!("refreshing the database's statistics…");
    store.analyze().await
}

/// The outcome of a finished write task (a panic in one is a bug: passed on).
fn joined(
    done: Result<Result<usize, StoreError>, tokio::task::JoinError>,
) -> Result<usize, StoreError> {
    done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}
