//! Background work every replica runs: delivering webhooks from the outbox and closing
//! resolved reports nobody answered. Work is claimed through the database (leases, version
//! checks), so any number of replicas can run these loops without doing anything twice.

use balagh_api::AppState;
use balagh_api::actions;
use balagh_domain::event::Actor;
use balagh_domain::lifecycle::Action;
use balagh_store::{DeliveryResult, OutboxMessage, Ts, WEBHOOK_TOPIC};
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
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            batch: 32,
            lease: time::Duration::seconds(60),
            webhook_timeout: balagh_webhooks::delivery::DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
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

pub fn spawn(state: AppState, settings: WorkerSettings) -> Workers {
    let webhooks = {
        let state = state.clone();
        let settings = settings.clone();
        tokio::spawn(async move { webhook_loop(state, settings).await })
    };
    let auto_close = tokio::spawn(async move { auto_close_loop(state, settings).await });
    Workers {
        handles: vec![webhooks, auto_close],
    }
}

async fn webhook_loop(state: AppState, settings: WorkerSettings) {
    let client = balagh_webhooks::http_client(settings.webhook_timeout);
    let mut tick = tokio::time::interval(settings.poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let claimed = match state
            .store()
            .claim_outbox(WEBHOOK_TOPIC, Ts::now(), settings.lease, settings.batch)
            .await
        {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "cannot claim webhook deliveries");
                continue;
            }
        };
        for message in claimed {
            let result = deliver(&state, &client, &settings, &message).await;
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
    }
}

async fn deliver(
    state: &AppState,
    client: &reqwest::Client,
    settings: &WorkerSettings,
    message: &OutboxMessage,
) -> DeliveryResult {
    let now = Ts::now();
    let endpoint = match message.operator_id {
        Some(operator) => state
            .store()
            .webhook_endpoint(balagh_domain::OperatorId(operator))
            .await
            .ok()
            .flatten()
            .filter(|e| e.active),
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
            let first = message.first_attempt_at.unwrap_or(now).get();
            match settings.retry.next_delay(
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
    }
}

async fn auto_close_loop(state: AppState, settings: WorkerSettings) {
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
pub async fn auto_close_once(state: &AppState) -> Result<usize, String> {
    let days = state.settings().auto_close_days;
    let before = Ts::new(Ts::now().get() - time::Duration::days(days.into()));
    let due = state
        .store()
        .resolved_before(before, 200)
        .await
        .map_err(|e| e.to_string())?;
    let mut closed = 0;
    for report in due {
        match actions::apply(
            state,
            &report,
            report.version,
            Actor::System,
            Action::AutoClose,
            actions::Extras {
                note: Some(format!("no answer within {days} days of the resolution")),
                ..Default::default()
            },
        )
        .await
        {
            Ok(_) => closed += 1,
            Err(balagh_api::problem::ApiError::PreconditionFailed { .. }) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(closed)
}
