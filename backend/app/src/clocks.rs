//! SLA clocks of reports: computed from each report's history with its jurisdiction's
//! calendar and its contract's policy version, stored with every change (so the sweeper
//! knows when to look next), shown in report views, and swept for warnings and breaches.

use crate::App;
use crate::catalogue::Catalog;
use crate::{AppError, AppResult};
use balagh_domain::EventKind;
use balagh_domain::event::Actor;
use balagh_domain::event_data::{EventData, SlaAlarm};
use balagh_domain::sla::{
    Alarm, BusinessCalendar, ClockState, Metric, Milestone, TicketClock, ticket_clocks,
    to_offset_date_time, to_timestamp,
};
use balagh_store::{
    ClockRecord, ESCALATION_TOPIC, NewAlarm, NewOutboxMessage, NewReport, ReportChange, SlaCheck,
    SlaCheckOutcome, StoredEvent, StoredReport, Ts,
};
use balagh_wire::ClockView;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::HashSet;
use uuid::Uuid;

/// A report's history as its clocks read it.
pub fn milestones<'a>(
    events: impl IntoIterator<Item = (Ts, EventKind, &'a Value)>,
) -> Vec<(Timestamp, Milestone)> {
    events
        .into_iter()
        .filter_map(|(at, kind, data)| Some((jiff(at), Milestone::from_event(kind, data)?)))
        .collect()
}

fn stored_milestones(events: &[StoredEvent]) -> Vec<(Timestamp, Milestone)> {
    milestones(events.iter().map(|e| (e.at, e.kind, &e.data)))
}

/// Alarms already raised, from `sla_warning` / `sla_breached` events.
fn raised_alarms(events: &[StoredEvent]) -> HashSet<(Metric, u32, u8)> {
    events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::SlaWarning | EventKind::SlaBreached))
        .filter_map(|e| match EventData::from_stored(e.kind, &e.data).ok()? {
            EventData::SlaWarning(a) | EventData::SlaBreached(a) => {
                Some((a.metric, a.cycle, a.percent))
            }
            _ => None,
        })
        .collect()
}

pub fn jiff(at: Ts) -> Timestamp {
    to_timestamp(at.get()).unwrap_or(Timestamp::MAX)
}

pub fn ts(at: Timestamp) -> Ts {
    Ts::new(to_offset_date_time(at).unwrap_or(time::OffsetDateTime::UNIX_EPOCH))
}

/// A report's clocks as of `now`.
pub fn clocks_of(
    catalog: &Catalog,
    report: &StoredReport,
    history: &[(Timestamp, Milestone)],
    now: Ts,
) -> AppResult<Vec<TicketClock>> {
    let Some(calendar) = catalog.sla_calendar(&report.jurisdiction) else {
        return Ok(Vec::new());
    };
    let created = jiff(report.created_at);
    ticket_clocks(
        history,
        &report.service_code,
        report.priority,
        |contract| catalog.sla_policy(contract, created),
        calendar,
        jiff(now),
    )
    .map_err(|e| AppError::Internal(format!("SLA clock of report {}: {e}", report.id)))
}

/// The rows stored for a report's clocks; a clock with an alarm not raised yet is due for
/// the sweeper at once.
fn records(
    report: &StoredReport,
    clocks: &[TicketClock],
    raised: &HashSet<(Metric, u32, u8)>,
    now: Ts,
) -> Vec<ClockRecord> {
    clocks
        .iter()
        .map(|c| {
            let s = &c.snapshot;
            let unraised = c
                .alarms
                .iter()
                .any(|a| !raised.contains(&(c.metric, s.cycle, a.percent)));
            ClockRecord {
                report_id: report.id,
                metric: c.metric.as_str().to_owned(),
                cycle: s.cycle as i32,
                operator_id: c.operator.0,
                contract_id: c.contract.0,
                policy_version: c.policy_version as i32,
                clock: s.clock.as_str().to_owned(),
                state: state_str(s.state).to_owned(),
                started_at: ts(s.started_at),
                due_at: ts(s.due_at),
                met_at: s.met_at.map(ts),
                breached_at: s.breached_at.map(ts),
                withdrawn_at: c.withdrawn_at.map(ts),
                target_ms: s.target.as_millis() as i64,
                elapsed_ms: s.elapsed.as_millis() as i64,
                overdue_ms: s.overdue.as_millis() as i64,
                report_created_at: report.created_at,
                computed_at: now,
                next_check_at: if unraised {
                    Some(now)
                } else {
                    c.next_alarm_at.map(ts)
                },
            }
        })
        .collect()
}

pub fn state_str(state: ClockState) -> &'static str {
    match state {
        ClockState::Running => "running",
        ClockState::Paused => "paused",
        ClockState::Met => "met",
        ClockState::Breached => "breached",
    }
}

/// When the operator must have resolved the report: the due time of its latest resolve
/// clock.
fn resolve_due(clocks: &[TicketClock]) -> Option<Ts> {
    clocks
        .iter()
        .rfind(|c| c.metric == Metric::Resolve)
        .map(|c| ts(c.snapshot.due_at))
}

/// Clocks of a report about to be created, and its resolve due time.
pub fn start_clocks(catalog: &Catalog, report: &mut NewReport) -> AppResult<()> {
    let at = report.created_at;
    clocks_of_new(catalog, report, at)
}

/// Clocks of a report inserted with its whole history (synthetic data), as of `now`.
/// Thresholds passed in the synthetic past count as raised then, with their events, so the
/// sweeper does not escalate history.
pub fn clocks_for_history(catalog: &Catalog, report: &mut NewReport, now: Ts) {
    if let Err(error) = clocks_of_new(catalog, report, now) {
        tracing::warn!(%error, report = %report.id, "synthetic report without clocks");
    }
}

/// The clocks of a new report from its events (creation ones and `later_events`), with
/// each alarm already passed appended to `later_events` as raised.
fn clocks_of_new(catalog: &Catalog, report: &mut NewReport, now: Ts) -> AppResult<()> {
    let stored = StoredReport::from_new(report);
    let created = report.events.iter().map(|e| (report.created_at, e));
    let later = report.later_events.iter().map(|(at, e)| (*at, e));
    let history = milestones(created.chain(later).map(|(at, e)| (at, e.kind, &e.data)));
    let clocks = clocks_of(catalog, &stored, &history, now)?;
    let mut raised = HashSet::new();
    for clock in &clocks {
        for alarm in &clock.alarms {
            raised.insert((clock.metric, clock.snapshot.cycle, alarm.percent));
            report.later_events.push((
                ts(alarm.at),
                alarm_data(clock, alarm).event(Actor::System, false),
            ));
        }
    }
    report.due_at = resolve_due(&clocks);
    report.clocks = records(&stored, &clocks, &raised, now);
    Ok(())
}

/// The webhook event type of an alarm.
fn alarm_event_type(alarm: &Alarm) -> &'static str {
    if alarm.percent == Alarm::BREACH {
        "ticket.sla_breached"
    } else {
        "ticket.sla_warning"
    }
}

/// The history event of an alarm: a warning, or the breach.
fn alarm_data(clock: &TicketClock, alarm: &Alarm) -> EventData {
    let s = &clock.snapshot;
    let data = SlaAlarm {
        metric: clock.metric,
        cycle: s.cycle,
        percent: alarm.percent,
        crossed_at: alarm.at,
        due_at: s.due_at,
        policy_version: clock.policy_version,
    };
    if alarm.percent == Alarm::BREACH {
        EventData::SlaBreached(data)
    } else {
        EventData::SlaWarning(data)
    }
}

/// Recomputes the report's clocks with the change's events, into the change.
pub async fn recompute_for_change(
    app: &App,
    report: &StoredReport,
    change: &mut ReportChange,
) -> AppResult<()> {
    let events = app.store().report_events(report.id).await?;
    let mut history = stored_milestones(&events);
    history.extend(milestones(
        change.events.iter().map(|e| (change.at, e.kind, &e.data)),
    ));
    let mut after = report.clone();
    if let Some(routing) = change.operator {
        after.operator = routing.map(|(o, _)| o);
        after.contract = routing.map(|(_, c)| c);
    }
    if let Some(priority) = change.priority {
        after.priority = priority;
    }
    let catalog = app.catalog();
    let clocks = clocks_of(&catalog, &after, &history, change.at)?;
    change.due_at = Some(resolve_due(&clocks).or(report.due_at));
    change.clocks = Some(records(&after, &clocks, &raised_alarms(&events), change.at));
    Ok(())
}

/// The report's clocks for an API view, as of now.
pub fn views(catalog: &Catalog, report: &StoredReport, events: &[StoredEvent]) -> Vec<ClockView> {
    let now = Ts::now();
    let Ok(clocks) = clocks_of(catalog, report, &stored_milestones(events), now) else {
        return Vec::new();
    };
    let calendar = catalog.sla_calendar(&report.jurisdiction);
    clocks.iter().map(|c| view(c, calendar)).collect()
}

fn view(clock: &TicketClock, calendar: Option<&BusinessCalendar>) -> ClockView {
    let s = &clock.snapshot;
    let time = |at: Timestamp| to_offset_date_time(at).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let due_at_local = calendar
        .map(|c| {
            s.due_at
                .to_zoned(c.time_zone().clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_else(|| s.due_at.to_string());
    ClockView {
        metric: clock.metric.as_str().to_owned(),
        cycle: s.cycle,
        state: state_str(s.state).to_owned(),
        clock: s.clock.as_str().to_owned(),
        policy_version: clock.policy_version,
        contract_id: clock.contract.0,
        started_at: time(s.started_at),
        due_at: time(s.due_at),
        due_at_local,
        elapsed_seconds: s.elapsed.as_secs(),
        remaining_seconds: s.remaining.as_secs(),
        overdue_seconds: s.overdue.as_secs(),
        met_at: s.met_at.map(time),
        breached_at: s.breached_at.map(time),
        paused_intervals: serde_json::to_value(&s.paused_intervals).unwrap_or(Value::Null),
    }
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepSummary {
    /// Reports whose clocks were due for a look.
    pub reports: usize,
    /// Warnings and breaches raised (each exactly once across replicas).
    pub raised: usize,
    /// Reports that changed while being looked at (their change recomputed the clocks).
    pub stale: usize,
}

/// One pass of the sweeper at `now`: every report with a clock due is recomputed, each
/// threshold passed and not yet raised is raised (event, operator webhook, escalation to
/// the operator's managers and staff), and the next look is scheduled.
pub async fn sweep(
    app: &App,
    now: Ts,
    lease: time::Duration,
    limit: u32,
) -> AppResult<SweepSummary> {
    let due = app.store().claim_due_clocks(now, lease, limit).await?;
    let catalog = app.catalog();
    let mut summary = SweepSummary {
        reports: due.len(),
        ..SweepSummary::default()
    };
    for report_id in due {
        match check(app, &catalog, report_id, now).await? {
            Some(SlaCheckOutcome::Recorded { raised }) => summary.raised += raised,
            Some(SlaCheckOutcome::Stale) => summary.stale += 1,
            None => {}
        }
    }
    Ok(summary)
}

/// Recomputes one report's clocks as of `now` and raises what is due; returns how many
/// alarms were raised (for replays after a calendar correction).
pub async fn check_report(app: &App, report_id: Uuid, now: Ts) -> AppResult<usize> {
    let catalog = app.catalog();
    Ok(match check(app, &catalog, report_id, now).await? {
        Some(SlaCheckOutcome::Recorded { raised }) => raised,
        _ => 0,
    })
}

async fn check(
    app: &App,
    catalog: &Catalog,
    report_id: Uuid,
    now: Ts,
) -> AppResult<Option<SlaCheckOutcome>> {
    let store = app.store();
    let Some(report) = store.report(report_id).await? else {
        return Ok(None);
    };
    let events = store.report_events(report_id).await?;
    let clocks = clocks_of(catalog, &report, &stored_milestones(&events), now)?;
    let mut raised = raised_alarms(&events);
    let mut alarms = Vec::new();
    for clock in &clocks {
        for alarm in &clock.alarms {
            if raised.insert((clock.metric, clock.snapshot.cycle, alarm.percent)) {
                alarms.push(new_alarm(&report, clock, alarm, now));
            }
        }
    }
    let check = SlaCheck {
        report_id,
        report_version: report.version,
        at: now,
        // Everything is raised once this is written: the next look is the next threshold.
        clocks: records(&report, &clocks, &raised, now),
        alarms,
    };
    Ok(Some(store.record_sla_check(&check).await?))
}

fn new_alarm(report: &StoredReport, clock: &TicketClock, alarm: &Alarm, now: Ts) -> NewAlarm {
    let event_type = alarm_event_type(alarm);
    let s = &clock.snapshot;
    let event = alarm_data(clock, alarm).event(Actor::System, false);
    let data = event.data.clone();
    let mut outbox: Vec<NewOutboxMessage> = Vec::new();
    if let Some(message) = crate::tickets::webhook(report, event_type, &data, now) {
        outbox.push(message);
    }
    outbox.push(NewOutboxMessage {
        jurisdiction: None,
        id: Uuid::now_v7(),
        topic: ESCALATION_TOPIC,
        operator: Some(clock.operator),
        event_type: event_type.to_owned(),
        payload: json!({
            "report_id": report.id,
            "reference": report.reference.as_str(),
            "jurisdiction_id": report.jurisdiction.as_str(),
            "service_code": report.service_code.as_str(),
            "sla": data,
        }),
        created_at: now,
    });
    NewAlarm {
        metric: clock.metric.as_str().to_owned(),
        cycle: s.cycle as i32,
        percent: i32::from(alarm.percent),
        event,
        outbox,
    }
}
