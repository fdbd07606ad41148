//! Background work every replica runs: delivering webhooks from the outbox and closing
//! resolved reports nobody answered. Work is claimed through the database (leases, version
//! checks), so any number of replicas can run these loops without doing anything twice.

use balagh_app::App;
use balagh_app::lifecycle;
use balagh_app::photos;
use balagh_domain::event::Actor;
use balagh_domain::lifecycle::Action;
use balagh_store::{DeliveryResult, ESCALATION_TOPIC, OutboxMessage, Ts, WEBHOOK_TOPIC};
use balagh_webhooks::{AttemptOutcome, RetryPolicy, WebhookMessage, WebhookSecret};
use std::time::Duration;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// How often the loops look for due work.
    pub poll_interval: Duration,
    /// Messages claimed per round.
    pub batch: u32,
    /// How long a claimed message is reserved for the claiming replica.
    pub lease: time::Duration,
    /// Timeout of one webhook attempt.
    pub webhook_timeout: Duration,
    pub retry: RetryPolicy,
    /// How often unconfirmed uploads and abandoned drafts are collected.
    pub photo_gc_interval: Duration,
    /// How often SLA clocks due for a look are swept (warnings and breaches are raised
    /// within this delay of their instant).
    pub sla_sweep_interval: Duration,
    /// Pushes claimed per round, and sent at once.
    pub push_batch: u32,
    pub push_concurrency: usize,
    /// Retries of pushes the push service asked to retry (a status push is stale after hours).
    pub push_retry: RetryPolicy,
    /// Lease of one fan-out (a notice to many devices takes a while).
    pub fanout_lease: time::Duration,
    /// Residents' contact details are erased from reports older than this (`None`: kept).
    pub contact_retention: Option<time::Duration>,
    /// How often the retention job looks for contact details to erase and prepares the
    /// history's coming months.
    pub retention_interval: Duration,
    /// Whole months of report history older than this many months are dropped (PostgreSQL;
    /// `None`: kept for ever).
    pub history_retention_months: Option<u16>,
    /// Delivered webhooks and pushes are deleted from the outbox once older than this
    /// (`None`: kept); pending and dead ones stay.
    pub outbox_retention: Option<time::Duration>,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            batch: 32,
            lease: time::Duration::seconds(60),
            webhook_timeout: balagh_webhooks::delivery::DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            photo_gc_interval: Duration::from_secs(600),
            sla_sweep_interval: Duration::from_secs(15),
            push_batch: 500,
            push_concurrency: 64,
            push_retry: RetryPolicy {
                first_interval: Duration::from_secs(15),
                multiplier: 2,
                max_interval: Duration::from_secs(30 * 60),
                jitter: 0.2,
                give_up_after: Duration::from_secs(6 * 60 * 60),
            },
            fanout_lease: time::Duration::minutes(10),
            contact_retention: Some(time::Duration::days(DEFAULT_CONTACT_RETENTION_DAYS.into())),
            retention_interval: Duration::from_secs(3600),
            history_retention_months: None,
            outbox_retention: Some(time::Duration::days(DEFAULT_OUTBOX_RETENTION_DAYS.into())),
        }
    }
}

/// The running loops.
#[derive(Debug)]
pub struct Workers {
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    pub async fn stop(self) {
        for handle in &self.handles {
            handle.abort();
        }
        for handle in self.handles {
            let _ = handle.await;
        }
    }
}

pub fn spawn(state: App, settings: WorkerSettings, push: balagh_push::PushClient) -> Workers {
    let push_fan_out = {
        let state = state.clone();
        let settings = settings.clone();
        tokio::spawn(async move { crate::push_delivery::fan_out_loop(state, settings).await })
    };
    let push_delivery = {
        let state = state.clone();
        let settings = settings.clone();
        tokio::spawn(
            async move { crate::push_delivery::delivery_loop(state, settings, push).await },
        )
    };
    let webhooks = {
        let state = state.clone();
        let settings = settings.clone();
        tokio::spawn(async move { webhook_loop(state, settings).await })
    };
    let photo_gc = {
        let state = state.clone();
        let every = settings.photo_gc_interval;
        tokio::spawn(async move { photo_gc_loop(state, every).await })
    };
    let sla = {
        let state = state.clone();
        let settings = settings.clone();
        tokio::spawn(async move { sla_sweep_loop(state, settings).await })
    };
    let escalations = {
        let state = state.clone();
        let settings = settings.clone();
        tokio::spawn(async move { escalation_loop(state, settings).await })
    };
    let stats = {
        let state = state.clone();
        tokio::spawn(async move { stats_rollup_loop(state).await })
    };
    let retention = {
        let state = state.clone();
        let settings = settings.clone();
        tokio::spawn(async move { retention_loop(state, settings).await })
    };
    let sms = {
        let state = state.clone();
        let settings = settings.clone();
        tokio::spawn(async move { crate::sms_delivery::sms_loop(state, settings).await })
    };
    let auto_close = tokio::spawn(async move { auto_close_loop(state, settings).await });
    Workers {
        handles: vec![
            webhooks,
            auto_close,
            photo_gc,
            sla,
            escalations,
            push_fan_out,
            push_delivery,
            stats,
            retention,
            sms,
        ],
    }
}

/// Outbox messages of a topic due now, reserved for this replica (none when the database
/// cannot be reached: the next tick tries again).
async fn claim(state: &App, settings: &WorkerSettings, topic: &str) -> Vec<OutboxMessage> {
    claim_batch(state, topic, settings.lease, settings.batch).await
}

/// The same with an explicit lease and batch size.
pub(crate) async fn claim_batch(
    state: &App,
    topic: &str,
    lease: time::Duration,
    limit: u32,
) -> Vec<OutboxMessage> {
    state
        .store()
        .claim_outbox(topic, Ts::now(), lease, limit)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(%error, topic, "cannot claim outbox messages");
            Vec::new()
        })
}

async fn webhook_loop(state: App, settings: WorkerSettings) {
    let client =
        balagh_webhooks::http_client(state.settings().outbound.clone(), settings.webhook_timeout);
    // A step that never returns (a connection that stops answering mid-failover) must not
    // hold the rest of the batch while its leases run out: each message gets half a lease.
    let bound = Duration::try_from(settings.lease / 2)
        .unwrap_or(Duration::from_secs(30))
        .max(settings.webhook_timeout + Duration::from_secs(5));
    let mut tick = tokio::time::interval(settings.poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for message in claim(&state, &settings, WEBHOOK_TOPIC).await {
            let work = deliver_and_record(&state, &client, &settings, &message);
            if tokio::time::timeout(bound, work).await.is_err() {
                // Its lease runs out and another round delivers it: at least once.
                tracing::warn!(id = %message.id, ?bound, "webhook delivery did not finish in time");
            }
        }
    }
}

/// Delivers one claimed webhook message and records the outcome.
async fn deliver_and_record(
    state: &App,
    client: &balagh_outbound::OutboundClient,
    settings: &WorkerSettings,
    message: &OutboxMessage,
) {
    let result = deliver(state, client, settings, message).await;
    if let DeliveryResult::Dead { error } = &result {
        tracing::warn!(id = %message.id, %error, "webhook dead-lettered");
    }
    metrics::counter!("balagh_webhook_attempts_total", "result" => match &result {
        DeliveryResult::Delivered { .. } => "delivered",
        DeliveryResult::Retry { .. } => "retry",
        DeliveryResult::Dead { .. } => "dead",
    })
    .increment(1);
    if let Err(error) = state.store().record_delivery(message.id, &result).await {
        // The lease runs out and another round delivers it again: at least once.
        tracing::warn!(id = %message.id, %error, "cannot record a delivery");
    }
}

async fn deliver(
    state: &App,
    client: &balagh_outbound::OutboundClient,
    settings: &WorkerSettings,
    message: &OutboxMessage,
) -> DeliveryResult {
    let now = Ts::now();
    let endpoint = match message.operator_id {
        Some(operator) => match state
            .store()
            .webhook_endpoint(balagh_domain::OperatorId(operator))
            .await
        {
            Ok(endpoint) => endpoint.filter(|e| e.active),
            // The database did not answer (e.g. during a failover): try again later rather
            // than take the event for one without an endpoint and drop it.
            Err(error) => {
                return retry_or_dead(
                    &settings.retry,
                    message,
                    format!("cannot read the operator's endpoint: {error}"),
                    None,
                );
            }
        },
        None => None,
    };
    // No endpoint configured: nothing to send (the event stays in the ticket's history).
    let Some(endpoint) = endpoint else {
        return DeliveryResult::Delivered { at: now };
    };
    let Ok(secret) = WebhookSecret::parse(&endpoint.secret) else {
        return DeliveryResult::Dead {
            error: "the endpoint's secret is not valid".into(),
        };
    };
    let outgoing = WebhookMessage {
        // Receivers drop repeats by this id: it is the outbox row's, stable across retries.
        id: format!("msg_{}", message.id.simple()),
        event_type: message.event_type.clone(),
        timestamp: message.created_at.get(),
        payload: serde_json::to_vec(&message.payload.0).unwrap_or_default(),
    };
    match balagh_webhooks::attempt(client, &endpoint.url, &secret, &outgoing).await {
        AttemptOutcome::Delivered { .. } => DeliveryResult::Delivered { at: Ts::now() },
        AttemptOutcome::Failed {
            error,
            retry_after,
            permanent,
            ..
        } => {
            if permanent {
                return DeliveryResult::Dead { error };
            }
            retry_or_dead(&settings.retry, message, error, retry_after)
        }
    }
}

/// The next attempt of an outbox message under `policy`, or a dead letter once it gives up.
pub(crate) fn retry_or_dead(
    policy: &RetryPolicy,
    message: &OutboxMessage,
    error: String,
    retry_after: Option<Duration>,
) -> DeliveryResult {
    let now = Ts::now();
    let first = message.first_attempt_at.unwrap_or(now).get();
    match policy.next_delay(
        u32::try_from(message.attempts + 1).unwrap_or(u32::MAX),
        first,
        now.get(),
        retry_after,
        &mut rand::rng(),
    ) {
        Some(delay) => DeliveryResult::Retry {
            error,
            next_attempt_at: Ts::new(
                now.get() + time::Duration::try_from(delay).unwrap_or(time::Duration::HOUR),
            ),
        },
        None => DeliveryResult::Dead { error },
    }
}

/// Raises SLA warnings and breaches as their thresholds pass. Each tick reads only the
/// clocks due (an index on the next check time), so its cost follows what is due.
async fn sla_sweep_loop(state: App, settings: WorkerSettings) {
    let mut tick = tokio::time::interval(settings.sla_sweep_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // Drain what is due, a batch at a time, before sleeping again.
        loop {
            match balagh_app::clocks::sweep(&state, Ts::now(), settings.lease, SLA_SWEEP_BATCH)
                .await
            {
                Ok(summary) => {
                    if summary.raised > 0 {
                        metrics::counter!("balagh_sla_alarms_total")
                            .increment(summary.raised as u64);
                    }
                    if summary.reports < SLA_SWEEP_BATCH as usize {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "SLA sweep failed");
                    break;
                }
            }
        }
    }
}

const SLA_SWEEP_BATCH: u32 = 200;

/// Reports per roll-up transaction.
const STATS_ROLLUP_BATCH: u32 = 2_000;

/// Keeps the statistics roll-ups up to date (`stats.rollup_interval_seconds`): one replica
/// at a time holds the lease; a run applies every report changed since the last one, then
/// releases the public statistics now due.
async fn stats_rollup_loop(state: App) {
    // The first run waits one interval: start-up has enough to do, and a bulk load right
    // after start (tests, imports) is not raced.
    let every = state.settings().stats.rollup_interval;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let worker = balagh_app::stats::worker_name();
        match balagh_app::publish::job::run(&state, worker, STATS_ROLLUP_BATCH).await {
            Ok((run, released)) => {
                if run.reports > 0 {
                    tracing::debug!(
                        reports = run.reports,
                        rows = run.rows,
                        "statistics rolled up"
                    );
                }
                if !released.is_empty() {
                    tracing::info!(count = released.len(), last = ?released.last(), "statistics released");
                }
            }
            Err(error) => tracing::warn!(%error, "statistics roll-up failed"),
        }
    }
}

/// Delivers SLA escalations from the outbox to the inboxes of operator managers and staff.
async fn escalation_loop(state: App, settings: WorkerSettings) {
    let mut tick = tokio::time::interval(settings.poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for message in claim(&state, &settings, ESCALATION_TOPIC).await {
            let result = match deliver_escalation(&state, &message).await {
                Ok(()) => DeliveryResult::Delivered { at: Ts::now() },
                Err(error) => DeliveryResult::Retry {
                    error,
                    next_attempt_at: Ts::new(Ts::now().get() + time::Duration::seconds(30)),
                },
            };
            if let Err(error) = state.store().record_delivery(message.id, &result).await {
                tracing::warn!(id = %message.id, %error, "cannot record an escalation");
            }
        }
    }
}

async fn deliver_escalation(state: &App, message: &OutboxMessage) -> Result<(), String> {
    let payload = &message.payload.0;
    let report_id = payload
        .get("report_id")
        .and_then(|v| v.as_str())
        .and_then(|v| uuid::Uuid::parse_str(v).ok())
        .ok_or("escalation without a report")?;
    let jurisdiction = payload
        .get("jurisdiction_id")
        .and_then(|v| v.as_str())
        .and_then(|v| balagh_domain::Slug::parse("jurisdiction_id", v).ok())
        .ok_or("escalation without a jurisdiction")?;
    state
        .store()
        .deliver_escalation(&balagh_store::Escalation {
            message_id: message.id,
            event_type: message.event_type.clone(),
            report_id,
            operator: message.operator_id.map(balagh_domain::OperatorId),
            jurisdiction,
            payload: payload.clone(),
            at: Ts::now(),
        })
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Days after which residents' contact details leave a report, by default.
pub const DEFAULT_CONTACT_RETENTION_DAYS: u16 = 365;

/// Erases residents' contact details from old reports, a batch at a time, and keeps the
/// history's months ready (and past retention dropped). Idempotent, so replicas running it
/// at once only repeat a no-op.
async fn retention_loop(state: App, settings: WorkerSettings) {
    let mut tick = tokio::time::interval(settings.retention_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Some(keep) = settings.contact_retention {
            erase_contacts(&state, Ts::new(Ts::now().get() - keep)).await;
        }
        maintain_history(&state, settings.history_retention_months).await;
        if let Some(keep) = settings.outbox_retention {
            purge_delivered(&state, Ts::new(Ts::now().get() - keep)).await;
        }
    }
}

/// Days delivered outbox messages are kept by default: long enough for an operator or the
/// staff to look into a delivery, short enough that the queue table does not grow for ever.
pub const DEFAULT_OUTBOX_RETENTION_DAYS: u16 = 90;

async fn purge_delivered(state: &App, before: Ts) {
    let mut purged = 0;
    loop {
        match state.store().purge_delivered_outbox(before, 1000).await {
            Ok(n) => {
                purged += n;
                if n < 1000 {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "outbox retention round failed");
                break;
            }
        }
    }
    if purged > 0 {
        tracing::info!(
            messages = purged,
            "purged delivered outbox messages past retention"
        );
    }
}

async fn erase_contacts(state: &App, before: Ts) {
    let mut erased = 0;
    loop {
        match state.store().erase_contacts(before, 1000).await {
            Ok(n) => {
                erased += n;
                if n < 1000 {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "contact retention round failed");
                break;
            }
        }
    }
    // Phone numbers of SMS conversations go with the reports' other contacts.
    match state.store().erase_sms_contacts(before).await {
        Ok(n) if n > 0 => tracing::info!(rows = n, "erased SMS numbers past retention"),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "SMS retention round failed"),
    }
    if erased > 0 {
        tracing::info!(
            reports = erased,
            "erased residents' contact details past retention"
        );
    }
}

/// How far ahead the history is kept ready: about two months, within the three the
/// migration prepares, so a fresh deployment's hourly round has nothing to create.
const HISTORY_DAYS_AHEAD: i64 = 62;

/// Prepares the coming months of history and drops the months past retention.
pub async fn maintain_history(state: &App, keep_months: Option<u16>) {
    let now = Ts::now();
    let ahead = Ts::new(now.get() + time::Duration::days(HISTORY_DAYS_AHEAD));
    match state.store().prepare_history(now, ahead).await {
        Ok(0) => {}
        Ok(months) => tracing::info!(months, "history: months prepared"),
        Err(error) => tracing::warn!(%error, "history: cannot prepare the coming months"),
    }
    let Some(keep) = keep_months else {
        return;
    };
    let before = history_cutoff(now, keep);
    match state.store().drop_history_before(before).await {
        Ok(Some(round)) => {
            if !round.dropped.is_empty() {
                tracing::info!(months = ?round.dropped, "history: months past retention dropped");
            }
            if !round.kept_open.is_empty() {
                tracing::warn!(months = ?round.kept_open, "history: months past retention kept: they hold open reports");
            }
        }
        Ok(None) => tracing::warn!("history retention needs PostgreSQL; SQLite keeps it all"),
        Err(error) => tracing::warn!(%error, "history retention round failed"),
    }
}

/// The first day of the month `keep` months before `now`'s (UTC): months before it go.
pub fn history_cutoff(now: Ts, keep: u16) -> Ts {
    let now = now.get().to_offset(time::UtcOffset::UTC);
    let index = i64::from(now.year()) * 12 + i64::from(u8::from(now.month())) - 1 - i64::from(keep);
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    let month = time::Month::try_from(month as u8).unwrap_or(time::Month::January);
    let date = time::Date::from_calendar_date(year as i32, month, 1).unwrap_or(time::Date::MIN);
    Ts::new(date.midnight().assume_utc())
}

async fn auto_close_loop(state: App, settings: WorkerSettings) {
    let mut tick = tokio::time::interval(settings.poll_interval.max(Duration::from_secs(1)) * 30);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = auto_close_once(&state).await {
            tracing::warn!(%error, "auto-close round failed");
        }
    }
}

/// Closes resolved reports older than the configured delay; returns how many it closed.
/// Each close is a versioned change: when replicas race, one wins and the others skip.
pub async fn auto_close_once(state: &App) -> Result<usize, String> {
    let days = state.settings().auto_close_days;
    let before = Ts::new(Ts::now().get() - time::Duration::days(days.into()));
    let due = state
        .store()
        .resolved_before(before, 200)
        .await
        .map_err(|e| e.to_string())?;
    let mut closed = 0;
    for report in due {
        match lifecycle::apply(
            state,
            &report,
            report.version,
            Actor::System,
            Action::AutoClose,
            lifecycle::Extras {
                note: Some(format!("no answer within {days} days of the resolution")),
                ..Default::default()
            },
        )
        .await
        {
            Ok(_) => closed += 1,
            Err(balagh_app::AppError::VersionMismatch { .. }) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(closed)
}

async fn photo_gc_loop(state: App, every: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match photo_gc_once(&state).await {
            Ok(collected) if collected.uploads + collected.drafts > 0 => {
                tracing::info!(
                    uploads = collected.uploads,
                    drafts = collected.drafts,
                    "collected unconfirmed photo uploads"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "photo garbage collection failed"),
        }
    }
}

/// What one garbage-collection round removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhotoGarbage {
    /// Upload slots never confirmed (and their uploaded originals).
    pub uploads: usize,
    /// Draft photos never attached to a report (and their renditions).
    pub drafts: usize,
}

/// Deletes uploads not confirmed within `photos.unconfirmed_ttl`, and draft photos never
/// attached within it. Rows are taken first (each by one replica only: the delete is the
/// claim), then their objects are deleted; a missing object is not an error.
pub async fn photo_gc_once(state: &App) -> Result<PhotoGarbage, String> {
    const BATCH: u32 = 200;
    let ttl = state.settings().photos.unconfirmed_ttl;
    let before =
        Ts::new(Ts::now().get() - time::Duration::try_from(ttl).unwrap_or(time::Duration::DAY));
    let store = state.store();
    let objects = &state.photos().objects;
    let mut collected = PhotoGarbage::default();
    loop {
        let slots = store
            .take_stale_upload_slots(before, BATCH)
            .await
            .map_err(|e| e.to_string())?;
        for slot in &slots {
            if let Err(error) = objects.delete(&photos::upload_key(*slot)).await {
                tracing::warn!(%error, %slot, "cannot delete an unconfirmed upload");
            }
        }
        collected.uploads += slots.len();
        if slots.len() < BATCH as usize {
            break;
        }
    }
    loop {
        let drafts = store
            .take_stale_drafts(before, BATCH)
            .await
            .map_err(|e| e.to_string())?;
        for draft in &drafts {
            for rendition in [&draft.large, &draft.thumbnail] {
                // Renditions are named by content: another photo may have the same bytes.
                if !store
                    .rendition_in_use(&rendition.sha256)
                    .await
                    .map_err(|e| e.to_string())?
                    && let Err(error) = objects.delete(&rendition.key()).await
                {
                    tracing::warn!(%error, photo = %draft.id, "cannot delete a draft rendition");
                }
            }
        }
        collected.drafts += drafts.len();
        if drafts.len() < BATCH as usize {
            break;
        }
    }
    metrics::counter!("balagh_photo_gc_total", "what" => "uploads")
        .increment(collected.uploads as u64);
    metrics::counter!("balagh_photo_gc_total", "what" => "drafts")
        .increment(collected.drafts as u64);
    Ok(collected)
}

#[cfg(test)]
mod tests {
    use super::history_cutoff;
    use balagh_store::Ts;
    use time::macros::datetime;

    #[test]
    fn history_is_kept_for_whole_months() {
        let cutoff = |at, keep| history_cutoff(Ts::new(at), keep).get();
        assert_eq!(
            cutoff(datetime!(2026-12-07 20:00 UTC), 12),
            datetime!(2025-12-01 0:00 UTC)
        );
        assert_eq!(
            cutoff(datetime!(2026-01-31 23:59 UTC), 13),
            datetime!(2024-12-01 0:00 UTC)
        );
        // The month is the UTC one, whatever the offset of `now`.
        assert_eq!(
            cutoff(datetime!(2026-03-01 00:30 +01:00), 24),
            datetime!(2024-02-01 0:00 UTC)
        );
    }
}
