//! From our reports, services and events to GeoReport v2 values: statuses, notes, times
//! with their offset, and what privacy leaves out.

use super::format::Out;
use balagh_app::Catalog;
use balagh_domain::event::Actor;
use balagh_domain::{
    AttributeType, EventKind, Jurisdiction, Language, ReportStatus, Service, ServiceCode,
};
use balagh_store::{StoredEvent, StoredPhoto, StoredReport, Ts};
use std::collections::HashMap;
use uuid::Uuid;

/// Open311 has two statuses. Ours map onto them so that a client never sees a report
/// "closed" that will come back to life by itself:
///
/// | ours | Open311 |
/// | --- | --- |
/// | `new`, `acknowledged`, `in_progress`, `paused`, `reopened` | `open` |
/// | `unrouted` (waits for the commune to assign it) | `open` |
/// | `rejected` (an operator said "not ours": back to the commune, which re-routes or dismisses it) | `open` |
/// | `resolved`, `closed`, `duplicate` | `closed` |
///
/// Dismissed reports are `closed` (that is what dismissal leads to). `status_notes` says
/// why when we know: the operator's resolution note, the commune's reason for dismissing
/// it, "Duplicate of TET-…", a pause reason, or that the commune is assigning it.
pub fn open311_status(status: ReportStatus) -> &'static str {
    match status {
        ReportStatus::Resolved | ReportStatus::Closed | ReportStatus::Duplicate => "closed",
        ReportStatus::New
        | ReportStatus::Unrouted
        | ReportStatus::Acknowledged
        | ReportStatus::InProgress
        | ReportStatus::Paused
        | ReportStatus::Reopened
        | ReportStatus::Rejected => "open",
    }
}

/// Our statuses behind an Open311 status; `None` if it is neither `open` nor `closed`.
pub fn statuses_for(open311: &str) -> Option<Vec<ReportStatus>> {
    let wanted = match open311.trim().to_ascii_lowercase().as_str() {
        "open" => "open",
        "closed" => "closed",
        _ => return None,
    };
    Some(
        ReportStatus::ALL
            .into_iter()
            .filter(|s| open311_status(*s) == wanted)
            .collect(),
    )
}

/// An instant in the jurisdiction's time zone, with its offset (`2026-11-22T10:05:00+01:00`).
pub fn local_time(at: Ts, zone: &jiff::tz::TimeZone) -> String {
    balagh_app::clocks::jiff(at)
        .to_zoned(zone.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

pub fn time_zone(jurisdiction: &Jurisdiction) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&jurisdiction.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

fn datatype(t: AttributeType) -> &'static str {
    match t {
        AttributeType::String => "string",
        AttributeType::Number => "number",
        AttributeType::Datetime => "datetime",
        AttributeType::Text => "text",
        AttributeType::Singlevaluelist => "singlevaluelist",
        AttributeType::Multivaluelist => "multivaluelist",
    }
}

/// One entry of `services`.
pub fn service_out(service: &Service, language: Language) -> Out {
    Out::Obj(vec![
        ("service_code", Out::str(service.code.as_str())),
        ("service_name", Out::str(service.name.get(language))),
        ("description", Out::str(service.description.get(language))),
        ("metadata", Out::Bool(!service.attributes.is_empty())),
        ("type", Out::str("realtime")),
        ("keywords", Out::str(service.keywords.join(", "))),
        ("group", Out::str(service.group.as_str())),
    ])
}

/// `services/{code}`: the service's attributes, in their display order.
pub fn definition_out(service: &Service, language: Language) -> Out {
    let mut attributes: Vec<_> = service.attributes.iter().collect();
    attributes.sort_by_key(|a| a.order);
    Out::Obj(vec![
        ("service_code", Out::str(service.code.as_str())),
        (
            "attributes",
            Out::List(
                "attribute",
                attributes
                    .into_iter()
                    .map(|a| {
                        Out::Obj(vec![
                            ("variable", Out::Bool(true)),
                            ("code", Out::str(a.code.clone())),
                            ("datatype", Out::str(datatype(a.datatype))),
                            ("required", Out::Bool(a.required)),
                            ("datatype_description", Out::Null),
                            ("order", Out::Int(i64::from(a.order))),
                            ("description", Out::str(a.description.get(language))),
                            (
                                "values",
                                Out::List(
                                    "value",
                                    a.values
                                        .iter()
                                        .map(|v| {
                                            Out::Obj(vec![
                                                ("key", Out::str(v.key.clone())),
                                                ("name", Out::str(v.name.get(language))),
                                            ])
                                        })
                                        .collect(),
                                ),
                            ),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}

/// Notes by the operator or the commune only: a resident's own words (a reopen comment)
/// are theirs, not the public's.
fn by_staff(event: &StoredEvent) -> bool {
    !matches!(event.actor, Actor::Device(_))
}

fn text<'a>(event: &'a StoredEvent, key: &str) -> Option<&'a str> {
    event.data.get(key).and_then(|v| v.as_str())
}

/// What a public status change says, for `status_notes`; free text only where the service
/// is not sensitive.
fn status_change_note(event: &StoredEvent, free_text: bool) -> Option<String> {
    if event.kind != EventKind::StatusChanged || !event.public {
        return None;
    }
    let action = text(event, "action")?;
    if action == "mark_duplicate" {
        return text(event, "original_reference").map(|r| format!("Duplicate of {r}"));
    }
    if !by_staff(event) || !free_text {
        return None;
    }
    let note = text(event, "note").or_else(|| text(event, "reason"))?;
    Some(match action {
        "pause" => format!("Paused: {note}"),
        _ => note.to_owned(),
    })
}

/// `status_notes` of a report, from its public history (oldest first).
pub fn status_notes(
    report: &StoredReport,
    history: &[StoredEvent],
    sensitive: bool,
) -> Option<String> {
    match report.status {
        ReportStatus::Unrouted => {
            return Some("Received; the commune is assigning it to an operator".into());
        }
        ReportStatus::Rejected => {
            return Some("Returned to the commune, which is reassigning it".into());
        }
        _ => {}
    }
    let last = history
        .iter()
        .rev()
        .find(|e| e.kind == EventKind::StatusChanged && e.public)?;
    status_change_note(last, !sensitive)
}

/// Everything the request views need besides the reports themselves, read in a few queries
/// for a whole page.
#[derive(Debug)]
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    pub jurisdiction: &'a Jurisdiction,
    pub zone: jiff::tz::TimeZone,
    pub language: Language,
    /// `scheme://host` for the links to approved photos.
    pub base_url: String,
    pub addresses: HashMap<Uuid, String>,
    pub history: HashMap<Uuid, Vec<StoredEvent>>,
    pub photos: HashMap<Uuid, Vec<StoredPhoto>>,
    /// `extensions=true`: notes and every approved photo.
    pub extensions: bool,
    /// The publication gate's record policy.
    pub records: balagh_domain::publish::RecordPolicy,
}

impl Context<'_> {
    fn service(&self, code: &ServiceCode) -> Option<&Service> {
        self.catalog.service(&self.jurisdiction.id, code)
    }

    /// A public time: to the hour, in the jurisdiction's zone.
    fn time(&self, at: Ts) -> Out {
        Out::Str(local_time(
            Ts::new(balagh_domain::publish::to_the_hour(at.get())),
            &self.zone,
        ))
    }

    /// A free text of the operator or the commune, screened for personal data.
    fn screened(&self, text: Option<String>) -> Option<String> {
        text.filter(|t| self.records.public_description(t, false, false).is_some())
    }

    fn media_url(&self, photo: &StoredPhoto) -> String {
        format!(
            "{}{}/media/{}.jpg",
            self.base_url,
            super::BASE_PATH,
            photo.id
        )
    }

    /// One `request`, as the publication gate lets it out: callers list only services whose
    /// records are public (never a sensitive one). No reporter field is ever written; the
    /// point is snapped to the record grid, times are to the hour, the description is shown
    /// only once staff approved it or the personal-data screen passed it, and every free
    /// text (address, notes) is screened.
    pub fn request_out(&self, report: &StoredReport) -> Out {
        let service = self.service(&report.service_code);
        let sensitive = service.is_none_or(|s| s.sensitive);
        let history = self.history.get(&report.id).map_or(&[][..], Vec::as_slice);
        let photos = if sensitive {
            &[][..]
        } else {
            self.photos.get(&report.id).map_or(&[][..], Vec::as_slice)
        };
        let snapped = self.records.snap(&report.point);
        let (lat, long) = (snapped.lat(), snapped.lon());
        let description = self.description(report, sensitive);
        let agency = report
            .operator
            .and_then(|id| self.catalog.operator(id))
            .map(|record| record.operator.name.clone());
        let expected = report
            .due_at
            .filter(|_| open311_status(report.status) == "open");
        let address = if sensitive {
            None
        } else {
            self.screened(self.addresses.get(&report.id).cloned())
        };
        let mut fields = vec![
            ("service_request_id", Out::str(report.reference.as_str())),
            ("status", Out::str(open311_status(report.status))),
            (
                "status_notes",
                Out::opt(self.screened(status_notes(report, history, sensitive))),
            ),
            (
                "service_name",
                Out::opt(service.map(|s| s.name.get(self.language).to_owned())),
            ),
            ("service_code", Out::str(report.service_code.as_str())),
            ("description", Out::opt(description)),
            ("agency_responsible", Out::opt(agency)),
            ("service_notice", Out::Null),
            ("requested_datetime", self.time(report.created_at)),
            ("updated_datetime", self.time(report.updated_at)),
            (
                "expected_datetime",
                expected.map_or(Out::Null, |at| self.time(at)),
            ),
            ("address", Out::opt(address)),
            ("address_id", Out::Null),
            ("zipcode", Out::Null),
            ("lat", Out::Num(lat)),
            ("long", Out::Num(long)),
            (
                "media_url",
                Out::opt(photos.first().map(|p| self.media_url(p))),
            ),
        ];
        if self.extensions {
            fields.push(("notes", self.notes_out(history, sensitive)));
            fields.push(("photos", self.photos_out(photos)));
        }
        Out::Obj(fields)
    }

    /// The description as the gate lets it out (never a sensitive service's).
    fn description(&self, report: &StoredReport, sensitive: bool) -> Option<String> {
        (!sensitive)
            .then(|| {
                self.records.public_description(
                    &report.description,
                    report.description_hidden,
                    report.description_approved,
                )
            })
            .flatten()
            .map(str::to_owned)
    }

    /// The `notes` extension: staff comments (not on sensitive services) and status
    /// changes, screened.
    fn notes_out(&self, history: &[StoredEvent], sensitive: bool) -> Out {
        let notes = history
            .iter()
            .filter_map(|e| {
                let note = match e.kind {
                    EventKind::Comment if by_staff(e) && !sensitive => {
                        text(e, "text").map(str::to_owned)
                    }
                    EventKind::StatusChanged => status_change_note(e, !sensitive),
                    _ => None,
                };
                let note = self.screened(note)?;
                Some(Out::Obj(vec![
                    ("datetime", self.time(e.at)),
                    ("description", Out::Str(note)),
                ]))
            })
            .collect();
        Out::List("note", notes)
    }

    /// The `photos` extension: every approved photo.
    fn photos_out(&self, photos: &[StoredPhoto]) -> Out {
        Out::List(
            "photo",
            photos
                .iter()
                .map(|p| {
                    Out::Obj(vec![
                        ("media_url", Out::Str(self.media_url(p))),
                        ("datetime", self.time(p.created_at)),
                    ])
                })
                .collect(),
        )
    }

    /// One `request_update` of `servicerequestupdates`, FixMyStreet style: the report's
    /// Open311 status as it was right after this event (`history` is the report's public
    /// history, oldest first), with our own status as `external_status_code`.
    pub fn update_out(
        &self,
        event: &StoredEvent,
        report: &StoredReport,
        history: &[StoredEvent],
    ) -> Out {
        let sensitive = self
            .service(&report.service_code)
            .is_none_or(|s| s.sensitive);
        let status = status_after(event, history, report.status);
        let description = match event.kind {
            EventKind::Comment if by_staff(event) && !sensitive => {
                text(event, "text").map(str::to_owned)
            }
            _ => status_change_note(event, !sensitive),
        };
        let description = self.screened(description);
        Out::Obj(vec![
            ("update_id", Out::Str(event.id.to_string())),
            ("service_request_id", Out::str(report.reference.as_str())),
            ("status", Out::str(open311_status(status))),
            ("external_status_code", Out::str(status.as_str())),
            ("updated_datetime", self.time(event.at)),
            ("description", Out::opt(description)),
            ("media_url", Out::Null),
        ])
    }
}

/// The report's status right after `event`: what the last status change up to it (in
/// `history`, oldest first) changed it to; before any change, what the first one changed it
/// from; with no change at all, the current status. A comment written while a report was
/// acknowledged stays "acknowledged" even once the report is closed.
pub fn status_after(
    event: &StoredEvent,
    history: &[StoredEvent],
    current: ReportStatus,
) -> ReportStatus {
    let changes = || {
        history
            .iter()
            .filter(|e| e.kind == EventKind::StatusChanged)
    };
    let key = (event.at, event.id);
    if let Some(last) = changes().rfind(|e| (e.at, e.id) <= key) {
        return text(last, "to")
            .and_then(ReportStatus::parse)
            .unwrap_or(current);
    }
    changes()
        .next()
        .and_then(|first| text(first, "from"))
        .and_then(ReportStatus::parse)
        .unwrap_or(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind, at: i64, data: serde_json::Value) -> StoredEvent {
        StoredEvent {
            id: Uuid::from_u128(at as u128),
            report_id: Uuid::nil(),
            kind,
            actor: Actor::System,
            public: true,
            data,
            at: Ts::new(time::OffsetDateTime::from_unix_timestamp(at).unwrap()),
        }
    }

    #[test]
    fn an_update_carries_the_status_of_its_time() {
        use serde_json::json;
        let before = event(EventKind::Comment, 1, json!({"text": "a"}));
        let ack = event(
            EventKind::StatusChanged,
            2,
            json!({"from": "new", "to": "acknowledged"}),
        );
        let during = event(EventKind::Comment, 3, json!({"text": "b"}));
        let closed = event(
            EventKind::StatusChanged,
            4,
            json!({"from": "resolved", "to": "closed"}),
        );
        let history = vec![before.clone(), ack.clone(), during.clone(), closed.clone()];
        let now = ReportStatus::Closed;
        assert_eq!(status_after(&before, &history, now), ReportStatus::New);
        assert_eq!(
            status_after(&ack, &history, now),
            ReportStatus::Acknowledged
        );
        assert_eq!(
            status_after(&during, &history, now),
            ReportStatus::Acknowledged
        );
        assert_eq!(status_after(&closed, &history, now), ReportStatus::Closed);
        assert_eq!(status_after(&before, &[], now), ReportStatus::Closed);
    }

    #[test]
    fn every_status_maps_and_filters_back() {
        let open = statuses_for("open").unwrap();
        let closed = statuses_for("CLOSED").unwrap();
        assert_eq!(open.len() + closed.len(), ReportStatus::ALL.len());
        assert!(open.contains(&ReportStatus::Rejected));
        assert!(open.contains(&ReportStatus::Unrouted));
        assert!(closed.contains(&ReportStatus::Duplicate));
        assert!(statuses_for("pending").is_none());
    }
}
