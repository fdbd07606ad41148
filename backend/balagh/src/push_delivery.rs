//! The push workers every replica runs: fan-out (one event → one push per device) and
//! delivery (claim a batch of pushes, send them concurrently, record the outcomes in one
//! transaction). Claims are leases on outbox rows, so replicas never send a push twice while
//! a lease holds, and the dedupe key keeps a repeated fan-out from queueing anything twice.

use crate::workers::{WorkerSettings, claim_batch};
use balagh_app::App;
use balagh_app::notify::{PushPayload, fan_out};
use balagh_push::{PushClient, PushMessage, PushTarget, SendOutcome};
use balagh_store::{
    DeliveryResult, OutboxMessage, PUSH_FANOUT_TOPIC, PUSH_TOPIC, PushChannel, PushRegistration, Ts,
};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

pub async fn fan_out_loop(state: App, settings: WorkerSettings) {
    let mut tick = tokio::time::interval(settings.poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // A fan-out of a notice to many devices takes a while: one message at a time, with
        // a lease long enough for the largest.
        for message in claim_batch(&state, PUSH_FANOUT_TOPIC, settings.fanout_lease, 4).await {
            let result = match fan_out(&state, &message).await {
                Ok(done) => {
                    tracing::info!(
                        id = %message.id,
                        event = %message.event_type,
                        recipients = done.recipients,
                        queued = done.queued,
                        "push fan-out"
                    );
                    metrics::counter!("balagh_push_fanout_recipients_total")
                        .increment(done.recipients);
                    DeliveryResult::Delivered { at: Ts::now() }
                }
                Err(error) => retry_or_dead(&settings, &message, error.to_string(), None),
            };
            record(&state, &[(message.id, result)]).await;
        }
    }
}

pub async fn delivery_loop(state: App, settings: WorkerSettings, client: PushClient) {
    let mut tick = tokio::time::interval(settings.poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // Drain what is due, a batch at a time, before sleeping again.
        loop {
            let batch = claim_batch(&state, PUSH_TOPIC, settings.lease, settings.push_batch).await;
            if batch.is_empty() {
                break;
            }
            let full = batch.len() == settings.push_batch as usize;
            let results = deliver_batch(&state, &settings, &client, batch).await;
            record(&state, &results).await;
            if !full {
                break;
            }
        }
    }
}

async fn record(state: &App, results: &[(Uuid, DeliveryResult)]) {
    if let Err(error) = state.store().record_deliveries(results).await {
        // The leases run out and another round sends them again: at least once.
        tracing::warn!(%error, count = results.len(), "cannot record push deliveries");
    }
}

/// Sends a batch concurrently; returns each message's outcome.
async fn deliver_batch(
    state: &App,
    settings: &WorkerSettings,
    client: &PushClient,
    batch: Vec<OutboxMessage>,
) -> Vec<(Uuid, DeliveryResult)> {
    let payloads: Vec<(OutboxMessage, Option<PushPayload>)> = batch
        .into_iter()
        .map(|m| {
            let payload = serde_json::from_value::<PushPayload>(m.payload.0.clone()).ok();
            (m, payload)
        })
        .collect();
    let devices: Vec<Uuid> = payloads
        .iter()
        .filter_map(|(_, p)| p.as_ref().map(|p| p.device_id))
        .collect();
    let registrations: HashMap<Uuid, PushRegistration> =
        match state.store().push_registrations(&devices).await {
            Ok(found) => found.into_iter().map(|r| (r.device_id, r)).collect(),
            Err(error) => {
                tracing::warn!(%error, "cannot read push registrations; retrying later");
                return payloads
                    .into_iter()
                    .map(|(m, _)| {
                        let result = retry_or_dead(settings, &m, error.to_string(), None);
                        (m.id, result)
                    })
                    .collect();
            }
        };
    futures_util::stream::iter(payloads)
        .map(|(message, payload)| {
            let registration = payload
                .as_ref()
                .and_then(|p| registrations.get(&p.device_id))
                .cloned();
            async move {
                let result =
                    deliver_one(state, settings, client, &message, payload, registration).await;
                (message.id, result)
            }
        })
        .buffer_unordered(settings.push_concurrency.max(1))
        .collect()
        .await
}

async fn deliver_one(
    state: &App,
    settings: &WorkerSettings,
    client: &PushClient,
    message: &OutboxMessage,
    payload: Option<PushPayload>,
    registration: Option<PushRegistration>,
) -> DeliveryResult {
    let now = Ts::now();
    let Some(payload) = payload else {
        return DeliveryResult::Dead {
            error: "unreadable push payload".into(),
        };
    };
    // Unregistered or deactivated since the fan-out: there is no one to send to.
    let Some(registration) = registration.filter(|r| r.active) else {
        metrics::counter!("balagh_push_results_total", "result" => "no_registration").increment(1);
        return DeliveryResult::Delivered { at: now };
    };
    let target = match &registration.channel {
        PushChannel::Fcm { token } => PushTarget::Fcm {
            token: token.clone(),
        },
        PushChannel::WebPush {
            endpoint,
            p256dh,
            auth,
        } => PushTarget::WebPush {
            endpoint: endpoint.clone(),
            p256dh: p256dh.clone(),
            auth: auth.clone(),
        },
    };
    let push = PushMessage {
        title: payload.title,
        body: payload.body,
        data: payload.data,
        collapse_key: Some(payload.collapse_key),
        ttl: Duration::from_secs(payload.ttl_seconds.into()),
    };
    let outcome = client.send(&target, &push).await;
    metrics::counter!("balagh_push_results_total", "result" => match &outcome {
        SendOutcome::Delivered => "delivered",
        SendOutcome::Logged => "logged",
        SendOutcome::Gone { .. } => "gone",
        SendOutcome::Retry { .. } => "retry",
        SendOutcome::Failed { .. } => "failed",
    })
    .increment(1);
    match outcome {
        SendOutcome::Delivered | SendOutcome::Logged => DeliveryResult::Delivered { at: now },
        SendOutcome::Gone { reason } => {
            // The app was uninstalled or the subscription expired: stop sending to it. The
            // push itself is done (there is nothing to retry and nothing for staff to fix).
            if let Err(error) = state
                .store()
                .deactivate_push_registration(
                    registration.device_id,
                    registration.channel.token(),
                    &reason,
                    now,
                )
                .await
            {
                tracing::warn!(%error, "cannot deactivate a gone push registration");
            }
            DeliveryResult::Delivered { at: now }
        }
        SendOutcome::Retry { after, error } => retry_or_dead(settings, message, error, after),
        SendOutcome::Failed { error } => DeliveryResult::Dead { error },
    }
}

fn retry_or_dead(
    settings: &WorkerSettings,
    message: &OutboxMessage,
    error: String,
    retry_after: Option<Duration>,
) -> DeliveryResult {
    crate::workers::retry_or_dead(&settings.push_retry, message, error, retry_after)
}
