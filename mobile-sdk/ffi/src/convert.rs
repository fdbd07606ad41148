//! From the core's views to the records of the bindings.

use crate::records::*;
use balagh_sdk as sdk;
use std::time::SystemTime;

pub(crate) fn problem_details(problem: sdk::Problem) -> ProblemDetails {
    ProblemDetails {
        status: problem.status,
        problem_type: problem.kind,
        title: problem.title,
        detail: problem.detail,
        field_errors: problem
            .errors
            .into_iter()
            .map(|e| FieldError {
                field: e.field,
                message: e.message,
            })
            .collect(),
    }
}

pub(crate) fn system_time(at: time::OffsetDateTime) -> SystemTime {
    SystemTime::from(at)
}

pub(crate) fn service(view: sdk::ServiceView) -> Service {
    Service {
        code: view.code,
        group: view.group,
        group_name: view.group_name,
        name: view.name,
        description: view.description,
        keywords: view.keywords,
        attributes: view
            .attributes
            .into_iter()
            .map(|a| ServiceAttribute {
                code: a.code,
                datatype: a.datatype,
                required: a.required,
                description: a.description,
                choices: a
                    .values
                    .into_iter()
                    .map(|v| AttributeChoice {
                        key: v.key,
                        name: v.name,
                    })
                    .collect(),
                order: a.order,
            })
            .collect(),
    }
}

pub(crate) fn attribute_value(input: AttributeInput) -> serde_json::Value {
    match input {
        AttributeInput::Text { value } => serde_json::Value::String(value),
        AttributeInput::Number { value } => serde_json::Number::from_f64(value)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        AttributeInput::Choices { keys } => {
            serde_json::Value::Array(keys.into_iter().map(serde_json::Value::String).collect())
        }
    }
}

pub(crate) fn report(view: sdk::ReportView, local_id: Option<String>) -> Report {
    Report {
        id: view.id.to_string(),
        reference: view.reference,
        local_id,
        service_code: view.service_code,
        status: view.status,
        priority: view.priority,
        operator_name: view.operator.map(|o| o.name),
        lat: view.lat,
        lon: view.lon,
        description: view.description,
        supporters: view.supporters,
        created_at: system_time(view.created_at),
        updated_at: system_time(view.updated_at),
        history: view
            .history
            .unwrap_or_default()
            .into_iter()
            .map(|e| HistoryEntry {
                kind: e.kind,
                at: system_time(e.at),
                data_json: e.data.to_string(),
            })
            .collect(),
        photos: view
            .photos
            .unwrap_or_default()
            .into_iter()
            .map(|p| ReportPhoto {
                id: p.id.to_string(),
                url: p.large.url,
                thumbnail_url: p.thumbnail.url,
                width: p.width,
                height: p.height,
                purpose: p.purpose,
                urls_expire_at: system_time(p.urls_expire_at),
            })
            .collect(),
    }
}

pub(crate) fn queued(q: sdk::QueuedReport) -> QueuedReport {
    QueuedReport {
        local_id: q.local_id,
        state: match q.state {
            sdk::QueueState::Pending => QueueState::Pending,
            sdk::QueueState::Sent => QueueState::Sent,
            sdk::QueueState::Rejected => QueueState::Rejected,
        },
        service_code: q.request.service_code,
        description: q.request.description,
        lat: q.request.lat,
        lon: q.request.lon,
        photo_count: q.photo_count,
        attempts: q.attempts,
        next_attempt_at: q.next_attempt_at.map(system_time),
        last_error: q.last_error,
        problem: q.problem.map(problem_details),
        report_id: q.report_id.map(|id| id.to_string()),
        reference: q.reference,
        created_at: system_time(q.created_at),
    }
}

pub(crate) fn flush_result(s: sdk::FlushSummary) -> FlushResult {
    FlushResult {
        sent: s.sent,
        rejected: s.rejected,
        pending: s.pending,
        next_attempt_at: s.next_attempt_at.map(system_time),
        error: s.error,
    }
}

pub(crate) fn quiet_hours(q: sdk::QuietHoursView) -> QuietHours {
    QuietHours {
        start: q.start,
        end: q.end,
    }
}

pub(crate) fn area(a: sdk::AreaOfInterestView) -> Area {
    Area {
        lat: a.lat,
        lon: a.lon,
        radius_m: a.radius_m,
    }
}

pub(crate) fn push_registration(view: sdk::PushRegistrationView) -> PushRegistration {
    PushRegistration {
        channel: view.channel,
        language: view.language,
        time_zone: view.time_zone,
        quiet_hours: view.quiet_hours.map(quiet_hours),
        areas: view.areas.into_iter().map(area).collect(),
        active: view.active,
        deactivated_reason: view.deactivated_reason,
    }
}

pub(crate) fn notice(view: sdk::NoticeView) -> Notice {
    Notice {
        id: view.id.to_string(),
        kind: view.kind,
        service_codes: view.service_codes,
        title: view.title,
        body: view.body,
        language: view.language,
        valid_from: system_time(view.valid_from),
        valid_until: system_time(view.valid_until),
        distance_m: view.distance_m,
        publisher: view.publisher,
    }
}
