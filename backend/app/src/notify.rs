//! Pushes to residents, up to the outbox: the fan-out messages written with a change, and
//! the fan-out itself (who gets what, in which words, when). Sending is the workers' job.

use crate::App;
use balagh_domain::notify::{
    AreaOfInterest, NoticeArea, NoticeText, NoticeTexts, PushText, QuietHours, notice_message,
    status_message,
};
use balagh_domain::{JurisdictionId, Language, ReportStatus, ServiceCode};
use balagh_store::{
    NewOutboxMessage, NewPush, OutboxMessage, PUSH_FANOUT_TOPIC, PushRegistration, StoreError,
    StoredNotice, StoredReport, Ts,
};
use balagh_wire::{NoticeTextView, NoticeView};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// What one device is sent: the outbox payload of a [`balagh_store::PUSH_TOPIC`] message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushPayload {
    pub device_id: Uuid,
    pub title: String,
    pub body: String,
    /// For the app: `type` (`report_status` or `notice`) and the ids to open.
    pub data: BTreeMap<String, String>,
    /// Later pushes about the same thing replace earlier ones on the phone.
    pub collapse_key: String,
    pub ttl_seconds: u32,
}

/// Devices asked per page when fanning a notice out.
const FANOUT_PAGE: usize = 5000;
/// A status push is worth showing for a day; a notice until it ends (at most a week here).
const STATUS_TTL_SECONDS: u32 = 24 * 3600;
const MAX_NOTICE_TTL_SECONDS: u32 = 7 * 24 * 3600;

/// The fan-out message of a report's public status change, written with the change.
pub fn status_fanout(report: &StoredReport, at: Ts) -> NewOutboxMessage {
    NewOutboxMessage {
        jurisdiction: Some(report.jurisdiction.clone()),
        id: Uuid::now_v7(),
        topic: PUSH_FANOUT_TOPIC,
        operator: None,
        event_type: "report.status".into(),
        payload: json!({
            "kind": "report_status",
            "report_id": report.id,
            "status": report.status.as_str(),
        }),
        created_at: at,
    }
}

/// The fan-out message of a published notice, written with the notice.
pub fn notice_fanout(notice: &StoredNotice, at: Ts) -> NewOutboxMessage {
    NewOutboxMessage {
        jurisdiction: balagh_domain::Slug::parse("jurisdiction", &notice.jurisdiction_id).ok(),
        id: Uuid::now_v7(),
        topic: PUSH_FANOUT_TOPIC,
        operator: None,
        event_type: "notice.published".into(),
        payload: json!({ "kind": "notice", "notice_id": notice.id }),
        created_at: at,
    }
}

/// What a fan-out did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FanOut {
    /// Devices that qualified.
    pub recipients: u64,
    /// Pushes queued now (fewer than recipients when a previous attempt queued some).
    pub queued: u64,
}

/// Turns one fan-out message into a push per device. Safe to repeat: pushes already queued
/// for this event and device are not queued again.
pub async fn fan_out(app: &App, message: &OutboxMessage) -> Result<FanOut, StoreError> {
    let payload = &message.payload.0;
    let uuid = |key: &str| {
        payload[key]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| {
                StoreError::Corrupt(format!("push fan-out {} without {key}", message.id))
            })
    };
    match payload["kind"].as_str() {
        Some("report_status") => {
            let report_id = uuid("report_id")?;
            let status = payload["status"]
                .as_str()
                .and_then(ReportStatus::parse)
                .ok_or_else(|| StoreError::Corrupt(format!("push fan-out {}", message.id)))?;
            status_fan_out(app, message, report_id, status).await
        }
        Some("notice") => notice_fan_out(app, message, uuid("notice_id")?).await,
        _ => Err(StoreError::Corrupt(format!(
            "push fan-out {} of an unknown kind",
            message.id
        ))),
    }
}

async fn status_fan_out(
    app: &App,
    message: &OutboxMessage,
    report_id: Uuid,
    status: ReportStatus,
) -> Result<FanOut, StoreError> {
    let store = app.store();
    let Some(report) = store.report(report_id).await? else {
        return Ok(FanOut::default());
    };
    let catalog = app.catalog();
    let jurisdiction = catalog.jurisdiction(&report.jurisdiction);
    let service = catalog.service(&report.jurisdiction, &report.service_code);
    let fallback = jurisdiction.map_or(Language::Fr, |j| j.default_language);
    let registrations = store.follower_registrations(report_id).await?;
    let now = Ts::now();
    let mut pushes = Vec::with_capacity(registrations.len());
    for registration in &registrations {
        let language = Language::parse(&registration.language).unwrap_or(fallback);
        let service_name = service.map_or(report.service_code.as_str(), |s| s.name.get(language));
        let Some(PushText { title, body }) =
            status_message(language, report.reference.as_str(), service_name, status)
        else {
            continue;
        };
        let data = BTreeMap::from([
            ("type".to_owned(), "report_status".to_owned()),
            ("report_id".to_owned(), report.id.to_string()),
            ("reference".to_owned(), report.reference.as_str().to_owned()),
            ("status".to_owned(), status.as_str().to_owned()),
        ]);
        pushes.push(push_for(
            message,
            registration,
            PushPayload {
                device_id: registration.device_id,
                title,
                body,
                data,
                collapse_key: format!("report-{}", report.id.simple()),
                ttl_seconds: STATUS_TTL_SECONDS,
            },
            now,
        ));
    }
    let queued = store.enqueue_pushes(&pushes).await?;
    Ok(FanOut {
        recipients: pushes.len() as u64,
        queued,
    })
}

async fn notice_fan_out(
    app: &App,
    message: &OutboxMessage,
    notice_id: Uuid,
) -> Result<FanOut, StoreError> {
    let store = app.store();
    let Some(notice) = store.notice(notice_id).await? else {
        return Ok(FanOut::default());
    };
    let now = Ts::now();
    // A notice withdrawn or over before its turn came is no longer news.
    if notice.withdrawn_at.is_some() || notice.valid_until <= now {
        return Ok(FanOut::default());
    }
    let area = notice_area(&notice)?;
    let texts = notice_texts(&notice)?;
    let catalog = app.catalog();
    let fallback = JurisdictionId::parse("jurisdiction_id", &notice.jurisdiction_id)
        .ok()
        .and_then(|j| catalog.jurisdiction(&j).map(|j| j.default_language))
        .unwrap_or(Language::Fr);
    let ttl = u32::try_from((notice.valid_until.get() - now.get()).whole_seconds())
        .unwrap_or(MAX_NOTICE_TTL_SECONDS)
        .clamp(60, MAX_NOTICE_TTL_SECONDS);
    let words: HashMap<Language, PushText> = Language::ALL
        .into_iter()
        .map(|l| (l, notice_message(texts.get(l, fallback))))
        .collect();
    let mut result = FanOut::default();
    let candidates = store.push_devices_in_box(&area.bbox()).await?;
    for ids in candidates.chunks(FANOUT_PAGE) {
        let page = store.push_registrations(ids).await?;
        let pushes: Vec<NewPush> = page
            .iter()
            .filter(|r| r.active)
            .filter(|r| {
                r.areas.iter().any(|a| {
                    AreaOfInterest::parse(a.lat, a.lon, a.radius_m)
                        .is_ok_and(|interest| area.reaches(&interest))
                })
            })
            .map(|registration| {
                let language = Language::parse(&registration.language).unwrap_or(fallback);
                let text = &words[&language];
                let data = BTreeMap::from([
                    ("type".to_owned(), "notice".to_owned()),
                    ("notice_id".to_owned(), notice.id.to_string()),
                    ("kind".to_owned(), notice.kind.clone()),
                ]);
                push_for(
                    message,
                    registration,
                    PushPayload {
                        device_id: registration.device_id,
                        title: text.title.clone(),
                        body: text.body.clone(),
                        data,
                        collapse_key: format!("notice-{}", notice.id.simple()),
                        ttl_seconds: ttl,
                    },
                    now,
                )
            })
            .collect();
        result.recipients += pushes.len() as u64;
        result.queued += store.enqueue_pushes(&pushes).await?;
    }
    Ok(result)
}

/// One device's push of an event, held back to the end of its quiet hours.
fn push_for(
    message: &OutboxMessage,
    registration: &PushRegistration,
    payload: PushPayload,
    now: Ts,
) -> NewPush {
    let not_before = registration
        .quiet_hours
        .and_then(|(start, end)| QuietHours::from_minutes(start, end))
        .zip(jiff::tz::TimeZone::get(&registration.time_zone).ok())
        .and_then(|(quiet, zone)| quiet.resume_at(crate::clocks::jiff(now), &zone))
        .map(crate::clocks::ts)
        .unwrap_or(now);
    NewPush {
        id: Uuid::now_v7(),
        device_id: registration.device_id,
        dedupe_key: format!(
            "{}:{}",
            message.id.simple(),
            registration.device_id.simple()
        ),
        event_type: message.event_type.clone(),
        payload: serde_json::to_value(&payload).unwrap_or_default(),
        not_before,
        created_at: now,
        jurisdiction: message
            .jurisdiction_id
            .as_deref()
            .and_then(|j| balagh_domain::Slug::parse("jurisdiction", j).ok()),
    }
}

/// The stored area of a notice, parsed again.
pub fn notice_area(notice: &StoredNotice) -> Result<NoticeArea, StoreError> {
    serde_json::from_value::<geojson::Geometry>(notice.area.clone())
        .ok()
        .and_then(|g| NoticeArea::parse(&g, notice.radius_m).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("notice {} area", notice.id)))
}

/// The stored texts of a notice, by language code.
pub fn stored_texts(notice: &StoredNotice) -> BTreeMap<String, NoticeTextView> {
    serde_json::from_value(notice.texts.clone()).unwrap_or_default()
}

fn notice_texts(notice: &StoredNotice) -> Result<NoticeTexts, StoreError> {
    let raw: BTreeMap<String, (String, String)> = stored_texts(notice)
        .into_iter()
        .map(|(k, v)| (k, (v.title, v.body)))
        .collect();
    let first = raw
        .keys()
        .next()
        .and_then(|k| Language::parse(k))
        .unwrap_or(Language::Fr);
    NoticeTexts::parse(&raw, &Language::ALL, first)
        .map_err(|e| StoreError::Corrupt(format!("notice {} texts: {e}", notice.id)))
}

/// A notice as the API shows it, in `language` when it has that text.
pub fn notice_view(
    notice: &StoredNotice,
    language: Language,
    fallback: Language,
    distance_m: Option<f64>,
) -> NoticeView {
    let texts = stored_texts(notice);
    let (language, text) = [language, fallback]
        .into_iter()
        .find_map(|l| texts.get(l.code()).map(|t| (l.code().to_owned(), t)))
        .or_else(|| texts.iter().next().map(|(l, t)| (l.clone(), t)))
        .map(|(l, t)| (l, t.clone()))
        .unwrap_or_else(|| {
            (
                fallback.code().to_owned(),
                NoticeTextView {
                    title: String::new(),
                    body: String::new(),
                },
            )
        });
    NoticeView {
        id: notice.id,
        jurisdiction_id: notice.jurisdiction_id.clone(),
        kind: notice.kind.clone(),
        service_codes: notice.service_codes.clone(),
        area: notice.area.clone(),
        radius_m: notice.radius_m,
        valid_from: notice.valid_from.get(),
        valid_until: notice.valid_until.get(),
        title: text.title,
        body: text.body,
        language,
        texts,
        publisher: if notice.operator_id.is_some() {
            "operator".into()
        } else {
            "commune".into()
        },
        operator_id: notice.operator_id,
        distance_m: distance_m.map(|d| (d * 10.0).round() / 10.0),
        withdrawn: notice.withdrawn_at.is_some(),
        urgent: notice.urgent,
    }
}

/// The texts of a new notice, checked against the jurisdiction's languages.
pub fn parse_texts(
    texts: &BTreeMap<String, NoticeTextView>,
    languages: &[Language],
    default: Language,
) -> Result<NoticeTexts, balagh_domain::FieldError> {
    let raw: BTreeMap<String, (String, String)> = texts
        .iter()
        .map(|(k, v)| (k.clone(), (v.title.clone(), v.body.clone())))
        .collect();
    NoticeTexts::parse(&raw, languages, default)
}

/// Parsed texts back in their wire shape, for storage.
pub fn texts_json(texts: &NoticeTexts) -> serde_json::Value {
    let map: BTreeMap<&str, NoticeTextView> = texts
        .iter()
        .map(|(code, NoticeText { title, body })| {
            (
                code,
                NoticeTextView {
                    title: title.clone(),
                    body: body.clone(),
                },
            )
        })
        .collect();
    serde_json::to_value(map).unwrap_or_default()
}

/// Service codes of a notice: known in the jurisdiction, no repeats, at least one.
pub fn parse_service_codes(
    app: &App,
    jurisdiction: &JurisdictionId,
    codes: &[String],
) -> Result<Vec<balagh_domain::Service>, balagh_domain::FieldError> {
    if codes.is_empty() {
        return Err(balagh_domain::FieldError::new(
            "service_codes",
            "name at least one service",
        ));
    }
    let catalog = app.catalog();
    let mut out: Vec<balagh_domain::Service> = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let field = format!("service_codes[{i}]");
        let parsed = ServiceCode::parse(code)
            .map_err(|_| balagh_domain::FieldError::new(&field, "is not a service code"))?;
        let service = catalog.service(jurisdiction, &parsed).ok_or_else(|| {
            balagh_domain::FieldError::new(&field, format!("unknown service '{code}'"))
        })?;
        if !out.iter().any(|s| s.code == service.code) {
            out.push(service.clone());
        }
    }
    Ok(out)
}
