//! The SMS worker every replica runs: claims SMS from the outbox (answers of the
//! conversation, status changes of reports made by SMS) and sends each through its
//! gateway's send API, under the outbound HTTP policy, with the webhooks' retry policy:
//!
//! - capcom6's SMS Gateway for Android: `POST {send_url}` JSON
//!   `{"id", "textMessage": {"text"}, "phoneNumbers": [..]}` with basic authentication
//!   (our outbox id as the message id, so the gateway drops our retries);
//! - RapidPro/TextIt External: `POST {send_url}` form `id, text, to, from, channel`
//!   (basic authentication when a username is configured);
//! - SMSSync: queued for the phone's next `task=send` poll.
//!
//! A status SMS (or the receipt of a report entered at the counter) finds the number, the
//! gateway and the language in the report's private contact; none is sent once the contact
//! is erased or the resident sent STOP.

use crate::workers::{WorkerSettings, claim_batch, retry_or_dead};
use balagh_app::App;
use balagh_app::sms::{ANDROID_SMS_GATEWAY, RAPIDPRO_EXTERNAL, SMSSYNC, texts};
use balagh_domain::ReportStatus;
use balagh_domain::sms::SmsLanguage;
use balagh_outbound::{OutboundClient, classify_error, classify_status};
use balagh_store::{DeliveryResult, OutboxMessage, SMS_TOPIC, SmsGateway, Ts};
use serde_json::{Value, json};
use uuid::Uuid;

/// One SMS to send.
#[derive(Debug, Clone, PartialEq)]
struct Outgoing {
    gateway_id: Uuid,
    phone: String,
    text: String,
}

pub async fn sms_loop(state: App, settings: WorkerSettings) {
    let client =
        balagh_webhooks::http_client(state.settings().outbound.clone(), settings.webhook_timeout);
    let mut tick = tokio::time::interval(settings.poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for message in claim_batch(&state, SMS_TOPIC, settings.lease, settings.batch).await {
            let result = deliver(&state, &client, &settings, &message).await;
            metrics::counter!("balagh_sms_outbound_total", "result" => match &result {
                DeliveryResult::Delivered { .. } => "delivered",
                DeliveryResult::Retry { .. } => "retry",
                DeliveryResult::Dead { .. } => "dead",
            })
            .increment(1);
            if let DeliveryResult::Dead { error } = &result {
                tracing::warn!(id = %message.id, %error, "SMS dead-lettered");
            }
            if let Err(error) = state.store().record_delivery(message.id, &result).await {
                tracing::warn!(id = %message.id, %error, "cannot record an SMS delivery");
            }
        }
    }
}

async fn deliver(
    state: &App,
    client: &OutboundClient,
    settings: &WorkerSettings,
    message: &OutboxMessage,
) -> DeliveryResult {
    let now = Ts::now();
    let outgoing = match outgoing(state, &message.payload.0).await {
        Ok(Some(outgoing)) => outgoing,
        Ok(None) => return DeliveryResult::Delivered { at: now },
        Err(error) => return retry_or_dead(&settings.retry, message, error, None),
    };
    let gateway = match state.store().sms_gateway(outgoing.gateway_id).await {
        Ok(Some(gateway)) if gateway.disabled_at.is_none() => gateway,
        Ok(_) => {
            return DeliveryResult::Dead {
                error: "gateway disabled or removed".into(),
            };
        }
        Err(error) => return retry_or_dead(&settings.retry, message, error.to_string(), None),
    };
    if gateway.kind == SMSSYNC {
        return match state
            .store()
            .queue_pending_sms(gateway.id, message.id, &outgoing.phone, &outgoing.text, now)
            .await
        {
            Ok(()) => DeliveryResult::Delivered { at: now },
            Err(error) => retry_or_dead(&settings.retry, message, error.to_string(), None),
        };
    }
    match send(client, &gateway, message.id, &outgoing).await {
        Ok(()) => DeliveryResult::Delivered { at: now },
        Err((error, true)) => retry_or_dead(&settings.retry, message, error, None),
        Err((error, false)) => DeliveryResult::Dead { error },
    }
}

/// What an outbox payload sends, if anything.
async fn outgoing(state: &App, payload: &Value) -> Result<Option<Outgoing>, String> {
    let text = |key: &str| payload[key].as_str().map(str::to_owned);
    match payload["kind"].as_str() {
        Some("reply") => {
            let gateway_id = text("gateway_id").and_then(|s| Uuid::parse_str(&s).ok());
            match (gateway_id, text("phone"), text("text")) {
                (Some(gateway_id), Some(phone), Some(text)) => Ok(Some(Outgoing {
                    gateway_id,
                    phone,
                    text,
                })),
                _ => Err("unreadable SMS reply".into()),
            }
        }
        Some("report_status") => status_change(state, payload).await,
        Some("receipt") => receipt(state, payload).await,
        // Erased under retention, or written by a later version: nothing to send.
        _ => Ok(None),
    }
}

/// The SMS of a report's public status change, unless its contact is gone or the resident
/// sent STOP.
async fn status_change(state: &App, payload: &Value) -> Result<Option<Outgoing>, String> {
    let Some(status) = payload["status"].as_str().and_then(ReportStatus::parse) else {
        return Err("unreadable SMS status change".into());
    };
    to_resident(state, payload, |language, reference| {
        texts::status_change(language, reference, status)
    })
    .await
}

/// The receipt of a report entered at the counter for a resident reachable by SMS: its
/// reference, as a report made by SMS is answered.
async fn receipt(state: &App, payload: &Value) -> Result<Option<Outgoing>, String> {
    to_resident(state, payload, |language, reference| {
        texts::text(
            language,
            "created",
            &[("reference", reference.to_owned().into())],
        )
    })
    .await
}

/// An SMS about the payload's report to its resident, found in the report's private
/// contact (the number, the gateway, the language); none once the contact is erased or
/// the resident sent STOP.
async fn to_resident(
    state: &App,
    payload: &Value,
    words: impl FnOnce(SmsLanguage, &str) -> String,
) -> Result<Option<Outgoing>, String> {
    let Some(report_id) = payload["report_id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
    else {
        return Err("unreadable SMS about a report".into());
    };
    let store = state.store();
    let Some(report) = store.report(report_id).await.map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let Some(contact) = report.contact.as_ref() else {
        return Ok(None);
    };
    // A counter contact keeps the number as typed in `phone`, the gateway's in `sms_phone`.
    let phone = contact["sms_phone"].as_str().or(contact["phone"].as_str());
    let (Some(phone), Some(gateway_id)) = (
        phone,
        contact["sms_gateway"]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok()),
    ) else {
        return Ok(None);
    };
    let conversation = store
        .sms_conversation(gateway_id, phone)
        .await
        .map_err(|e| e.to_string())?;
    if conversation.is_some_and(|c| c.stopped) {
        return Ok(None);
    }
    let language = match contact["sms_language"].as_str() {
        Some("ar") => SmsLanguage::Ar,
        Some("ary") => SmsLanguage::Darija,
        _ => SmsLanguage::Fr,
    };
    Ok(Some(Outgoing {
        gateway_id,
        phone: phone.to_owned(),
        text: words(language, report.reference.as_str()),
    }))
}

/// Sends through the gateway's API. The error says whether to try again.
async fn send(
    client: &OutboundClient,
    gateway: &SmsGateway,
    id: Uuid,
    sms: &Outgoing,
) -> Result<(), (String, bool)> {
    let raw = gateway
        .send_url
        .as_deref()
        .ok_or(("gateway without a send URL".to_owned(), false))?;
    let url = client
        .check_url(raw)
        .map_err(|refusal| (format!("send URL refused: {refusal}"), false))?;
    let mut request = client.http().post(url);
    if let Some(user) = &gateway.send_username {
        request = request.basic_auth(user, gateway.send_password.as_deref());
    }
    request = match gateway.kind.as_str() {
        ANDROID_SMS_GATEWAY => request.json(&json!({
            "id": id,
            "textMessage": { "text": sms.text },
            "phoneNumbers": [sms.phone],
        })),
        RAPIDPRO_EXTERNAL => {
            let form = form_urlencoded::Serializer::new(String::new())
                .append_pair("id", &id.to_string())
                .append_pair("text", &sms.text)
                .append_pair("to", &sms.phone)
                .append_pair("from", gateway.public_number.as_deref().unwrap_or(""))
                .append_pair("channel", &gateway.id.to_string())
                .finish();
            request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
        }
        other => return Err((format!("no send API for {other}"), false)),
    };
    match request.send().await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => {
            let status = response.status().as_u16();
            let again = status == 408 || status == 429 || status >= 500;
            Err((format!("{status}: {}", classify_status(status)), again))
        }
        Err(error) => Err((classify_error(&error).to_owned(), true)),
    }
}
