//! One inbound SMS, from the gateway's adapter to the answers queued in the outbox.

use super::texts;
use crate::intake::{self, Submitter};
use crate::{App, AppError, AppResult};
use balagh_domain::places::fold;
use balagh_domain::sms::{
    ChosenPlace, Conversation, Draft, Menu, Msg, Outcome, PlaceQuery, SmsLanguage,
};
use balagh_domain::{Channel, IdempotencyKey, Jurisdiction};
use balagh_i18n::FluentValue;
use balagh_store::{
    ConversationClaim, InboundOutcome, InboundSms, NewOutboxMessage, SMS_TOPIC, SmsGateway,
    StoredConversation, Ts,
};
use balagh_wire::NewReportRequest;
use serde_json::json;
use uuid::Uuid;

/// What became of an inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Acted on; these answers were queued.
    Answered(Vec<String>),
    /// A repeat of a message already handled.
    Duplicate,
    /// Over a limit: logged, not acted on, not answered.
    Limited,
}

/// An SMS as a gateway delivered it.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub phone: String,
    pub text: String,
    /// Our own dedupe key (see each adapter for what goes in it).
    pub dedupe_key: Vec<u8>,
}

/// The menu of the commune's services (see [`Menu::build`]); services whose required
/// attributes an SMS cannot give are left out.
pub fn menu(app: &App, jurisdiction: &Jurisdiction) -> Menu {
    let catalog = app.catalog();
    Menu::build(
        catalog
            .services(&jurisdiction.id)
            .iter()
            .filter(|s| !s.attributes.iter().any(|a| a.required))
            .map(|s| {
                (
                    s.code.as_str().to_owned(),
                    s.group.as_str().to_owned(),
                    s.keywords.clone(),
                )
            })
            .collect(),
        catalog.groups(&jurisdiction.id),
    )
}

/// Logs, limits, and acts on one inbound SMS; its answers go to the outbox.
pub async fn handle(app: &App, gateway: &SmsGateway, incoming: Incoming) -> AppResult<Handled> {
    let now = Ts::now();
    let logged = InboundSms {
        id: Uuid::now_v7(),
        gateway_id: gateway.id,
        dedupe_key: incoming.dedupe_key.clone(),
        phone: incoming.phone.clone(),
        received_at: now,
    };
    match app.store().record_inbound_sms(&logged).await? {
        InboundOutcome::Accepted => {}
        InboundOutcome::Duplicate => {
            metrics::counter!("balagh_sms_inbound_total", "result" => "duplicate").increment(1);
            return Ok(Handled::Duplicate);
        }
        limited @ (InboundOutcome::NumberLimited | InboundOutcome::GatewayLimited) => {
            tracing::warn!(gateway = %gateway.id, outcome = ?limited, "inbound SMS over its limit, not acted on");
            metrics::counter!("balagh_sms_inbound_total", "result" => "limited").increment(1);
            return Ok(Handled::Limited);
        }
    }
    metrics::counter!("balagh_sms_inbound_total", "result" => "accepted").increment(1);
    let catalog = app.catalog();
    let jurisdiction = catalog
        .jurisdiction_or_default(Some(&gateway.jurisdiction_id))
        .cloned()
        .ok_or(AppError::NotFound)?;
    let Some(stored) = claim(app, gateway, &incoming).await? else {
        return Ok(Handled::Duplicate);
    };
    let handled = converse(app, gateway, &jurisdiction, &incoming, stored).await;
    if handled.is_err() {
        // Not marked handled: the gateway's retry of this message is acted on again.
        let released = app
            .store()
            .release_sms_conversation(gateway.id, &incoming.phone)
            .await;
        if let Err(error) = released {
            tracing::warn!(%error, gateway = %gateway.id, "cannot release an SMS conversation");
        }
    }
    handled
}

/// How long a replica may hold a number's conversation while acting on one message.
const CLAIM_LEASE: time::Duration = time::Duration::seconds(30);
/// How long a message waits for the number's previous one before the gateway is asked
/// to try again later.
const CLAIM_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Claims the number's conversation (its messages are handled one at a time, in every
/// replica); `None` when this message was handled meanwhile by a concurrent retry.
async fn claim(
    app: &App,
    gateway: &SmsGateway,
    incoming: &Incoming,
) -> AppResult<Option<StoredConversation>> {
    let started = std::time::Instant::now();
    loop {
        let now = Ts::now();
        let until = Ts::new(now.get() + CLAIM_LEASE);
        match app
            .store()
            .claim_sms_conversation(
                gateway.id,
                &incoming.phone,
                &incoming.dedupe_key,
                now,
                until,
            )
            .await?
        {
            ConversationClaim::Claimed(stored) => return Ok(Some(stored)),
            ConversationClaim::Handled => return Ok(None),
            ConversationClaim::Busy if started.elapsed() < CLAIM_WAIT => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            ConversationClaim::Busy => {
                return Err(AppError::Unavailable(
                    "another message of this number is being handled".into(),
                ));
            }
        }
    }
}

/// Runs the conversation on one claimed message and saves it with its answer.
async fn converse(
    app: &App,
    gateway: &SmsGateway,
    jurisdiction: &Jurisdiction,
    incoming: &Incoming,
    stored: StoredConversation,
) -> AppResult<Handled> {
    let now = Ts::now();
    let mut conversation: Conversation = serde_json::from_value(stored.state).unwrap_or_default();
    let menu = menu(app, jurisdiction);
    let max = app.settings().sms.max_message_chars;
    let outcome = conversation.handle(&incoming.text, &menu, max);
    let stopped = matches!(outcome, Outcome::Stop);
    let answer = act(
        app,
        gateway,
        jurisdiction,
        incoming,
        &mut conversation,
        &menu,
        outcome,
    )
    .await;
    let language = conversation.language.unwrap_or(SmsLanguage::Fr);
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => {
            tracing::warn!(%error, gateway = %gateway.id, "SMS conversation failed");
            texts::text(language, "error", &[])
        }
    };
    let reply = reply_message(gateway, &incoming.phone, &answer, now);
    let saved = StoredConversation {
        state: serde_json::to_value(&conversation)
            .map_err(|e| AppError::Internal(e.to_string()))?,
        stopped,
    };
    let saved = app
        .store()
        .save_sms_conversation(
            gateway.id,
            &incoming.phone,
            &incoming.dedupe_key,
            &saved,
            now,
            &[reply],
        )
        .await?;
    Ok(if saved {
        Handled::Answered(vec![answer])
    } else {
        Handled::Duplicate
    })
}

/// The outbox message of an answer.
fn reply_message(gateway: &SmsGateway, phone: &str, text: &str, at: Ts) -> NewOutboxMessage {
    NewOutboxMessage {
        jurisdiction: None,
        id: Uuid::now_v7(),
        topic: SMS_TOPIC,
        operator: None,
        event_type: "sms.reply".into(),
        payload: json!({
            "kind": "reply",
            "gateway_id": gateway.id,
            "phone": phone,
            "text": text,
        }),
        created_at: at,
    }
}

/// Carries out what the conversation decided; returns the answer.
async fn act(
    app: &App,
    gateway: &SmsGateway,
    jurisdiction: &Jurisdiction,
    incoming: &Incoming,
    conversation: &mut Conversation,
    menu: &Menu,
    outcome: Outcome,
) -> AppResult<String> {
    let language = conversation.language.unwrap_or(SmsLanguage::Fr);
    let max = app.settings().sms.max_message_chars;
    let say = |msg: &Msg, c: &Conversation| {
        texts::render(
            c.language.unwrap_or(SmsLanguage::Fr),
            msg,
            menu,
            max,
            c.place.as_ref().map(|p| p.label.as_str()),
        )
    };
    Ok(match outcome {
        Outcome::Say(msg) => say(&msg, conversation),
        Outcome::Stop => say(&Msg::Stopped, conversation),
        Outcome::FindPlace(query) => {
            let place = find_place(app, jurisdiction, &query, language).await?;
            let msg = conversation.place_found(place);
            say(&msg, conversation)
        }
        Outcome::Status(reference) => status_answer(app, language, &reference).await?,
        Outcome::Submit(draft) => {
            let reference = submit(app, gateway, incoming, language, &draft).await?;
            conversation.submitted(&reference);
            texts::text(
                language,
                "created",
                &[("reference", FluentValue::from(reference))],
            )
        }
    })
}

/// The public status of a reference, in words.
async fn status_answer(app: &App, language: SmsLanguage, reference: &str) -> AppResult<String> {
    let arg = || ("reference", FluentValue::from(reference.to_owned()));
    let report = match app.store().report_id_by_reference(reference).await? {
        Some(id) => app.store().report(id).await?,
        None => None,
    };
    Ok(match report {
        Some(report) => texts::text(
            language,
            "status",
            &[
                arg(),
                ("status", texts::status(language, report.status).into()),
            ],
        ),
        None => texts::text(language, "status-unknown", &[arg()]),
    })
}

/// Looks a place up: a bus line and stop in the network, or a name in the gazetteer.
async fn find_place(
    app: &App,
    jurisdiction: &Jurisdiction,
    query: &PlaceQuery,
    language: SmsLanguage,
) -> AppResult<Option<ChosenPlace>> {
    let store = app.store();
    match query {
        PlaceQuery::Named(name) => {
            let folded = fold(name);
            if folded.chars().count() < 3 {
                return Ok(None);
            }
            let places = store.search_places(&jurisdiction.id, &folded, 1).await?;
            let lang = if language == SmsLanguage::Ar {
                "ar"
            } else {
                "fr"
            };
            Ok(places.first().map(|p| ChosenPlace {
                label: p.name_in(lang).to_owned(),
                lat: p.point.lat(),
                lon: p.point.lon(),
            }))
        }
        PlaceQuery::Bus { line, stop } => {
            let lines = store.bus_lines(&jurisdiction.id).await?;
            let Some(found) = lines.iter().find(|l| {
                l.short_name.eq_ignore_ascii_case(line) || l.id.eq_ignore_ascii_case(line)
            }) else {
                return Ok(None);
            };
            let stops = store
                .bus_line_stops(&jurisdiction.id, &found.id)
                .await?
                .unwrap_or_default();
            Ok(pick_stop(&stops, stop).map(|s| ChosenPlace {
                label: format!("{} {} - {}", found.short_name, s.id, s.name),
                lat: s.point.lat(),
                lon: s.point.lon(),
            }))
        }
    }
}

/// A stop of a line by its code (`S03`), the number in its code (`3`), or else its
/// position along the line (1 = the first stop).
fn pick_stop<'a>(
    stops: &'a [balagh_domain::bus::BusStop],
    wanted: &str,
) -> Option<&'a balagh_domain::bus::BusStop> {
    let number = |s: &str| -> Option<u32> {
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    stops
        .iter()
        .find(|s| s.id.eq_ignore_ascii_case(wanted))
        .or_else(|| {
            let n = number(wanted)?;
            stops.iter().find(|s| number(&s.id) == Some(n))
        })
        .or_else(|| {
            let n = usize::try_from(number(wanted)?).ok()?;
            stops.get(n.checked_sub(1)?)
        })
}

/// Makes the report through the app's intake, channel `sms`, the number as its private
/// contact.
async fn submit(
    app: &App,
    gateway: &SmsGateway,
    incoming: &Incoming,
    language: SmsLanguage,
    draft: &Draft,
) -> AppResult<String> {
    let (phone, dedupe_key) = (incoming.phone.as_str(), incoming.dedupe_key.as_slice());
    let body = NewReportRequest {
        service_code: draft.service.clone(),
        lat: draft.place.lat,
        lon: draft.place.lon,
        description: draft.description.as_str().to_owned(),
        attributes: None,
        accuracy_m: None,
        photos: None,
    };
    let key = message_key(gateway.id, dedupe_key)?;
    let by = Submitter {
        channel: Channel::Sms,
        device: None,
        staff: None,
        contact: Some(super::contact(phone, gateway.id, language.as_str())),
    };
    let (report, _) = intake::submit(app, &body, key, by).await?;
    Ok(report.reference.as_str().to_owned())
}

/// The idempotency key of the report a message makes: acting on the message again (after
/// a failed save) finds that report instead of making another.
fn message_key(gateway: Uuid, dedupe_key: &[u8]) -> AppResult<IdempotencyKey> {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(gateway.as_bytes())
        .chain_update(dedupe_key)
        .finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    IdempotencyKey::parse(&format!("sms-{hex}")).map_err(|e| AppError::Internal(e.to_string()))
}
