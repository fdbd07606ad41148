//! The SLA calendar and policy forms as text, both ways: what a stored calendar or policy
//! version looks like in the form's fields, and the API request a submitted form makes
//! (one holiday, override or target per line, so nothing needs a script).

use balagh_domain::sla::{CalendarSpec, SlaPolicy};
use balagh_domain::{Currency, FieldError};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

pub const PAUSE_REASONS: [&str; 3] = ["awaiting_resident", "third_party", "force_majeure"];

/// The fields of a form, by name.
pub type Fields = HashMap<String, String>;

fn lines(raw: &str) -> impl Iterator<Item = (usize, &str)> {
    raw.lines()
        .map(str::trim)
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| (i + 1, l))
}

fn intervals(raw: &str) -> Vec<Value> {
    raw.split([',', ' '])
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(|i| json!(i))
        .collect()
}

fn joined(intervals: &Value) -> String {
    intervals
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn line_error(field: &str, line: usize, what: &str) -> FieldError {
    FieldError::new(format!("{field} (line {line})"), what.to_owned())
}

/// The calendar's fields as the form shows them.
pub fn calendar_fields(spec: &CalendarSpec) -> Fields {
    let value = serde_json::to_value(spec).unwrap_or(Value::Null);
    let mut fields = Fields::new();
    for day in WEEKDAYS {
        fields.insert(format!("hours_{day}"), joined(&value["weekly_hours"][day]));
    }
    let national = value["national_holidays"].as_str().unwrap_or("morocco");
    fields.insert("national_holidays".into(), national.to_owned());
    let rows = |key: &str, row: &dyn Fn(&Value) -> String| {
        value[key]
            .as_array()
            .map(|a| a.iter().map(row).collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    fields.insert(
        "holidays".into(),
        rows("holidays", &|h| {
            format!("{} {}", text(&h["date"]), text(&h["name"]))
        }),
    );
    fields.insert(
        "movable_holidays".into(),
        rows("movable_holidays", &|h| {
            format!(
                "{} {} {}",
                text(&h["kind"]),
                text(&h["first_day"]),
                h["days"]
            )
        }),
    );
    fields.insert(
        "overrides".into(),
        rows("overrides", &|o| {
            let hours = joined(&o["intervals"]);
            let hours = if hours.is_empty() {
                "closed".to_owned()
            } else {
                hours.replace(' ', "")
            };
            format!("{} {} {}", text(&o["date"]), hours, text(&o["note"]))
                .trim_end()
                .to_owned()
        }),
    );
    fields
}

/// The calendar a submitted form describes (checked by the API's `put_calendar`).
pub fn calendar_request(fields: &Fields) -> Result<CalendarSpec, FieldError> {
    let field = |name: &str| fields.get(name).map_or("", String::as_str);
    let mut weekly = Map::new();
    for day in WEEKDAYS {
        let hours = intervals(field(&format!("hours_{day}")));
        if !hours.is_empty() {
            weekly.insert(day.to_owned(), Value::Array(hours));
        }
    }
    let mut holidays = Vec::new();
    for (n, line) in lines(field("holidays")) {
        let (date, name) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| line_error("holidays", n, "must be a date (YYYY-MM-DD) then a name"))?;
        holidays.push(json!({"date": date, "name": name.trim()}));
    }
    let mut movable = Vec::new();
    for (n, line) in lines(field("movable_holidays")) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [kind, first_day, days] = parts[..] else {
            return Err(line_error(
                "movable_holidays",
                n,
                "must be a kind, the first day (YYYY-MM-DD) and a number of days",
            ));
        };
        let days: u8 = days
            .parse()
            .map_err(|_| line_error("movable_holidays", n, "the number of days must be 1 to 5"))?;
        movable.push(json!({"kind": kind, "first_day": first_day, "days": days}));
    }
    let mut overrides = Vec::new();
    for (n, line) in lines(field("overrides")) {
        let mut parts = line.splitn(3, char::is_whitespace);
        let (Some(date), Some(hours)) = (parts.next(), parts.next()) else {
            return Err(line_error(
                "overrides",
                n,
                "must be a date, the hours (08:00-12:00,14:00-16:00 or closed) and a note",
            ));
        };
        let hours = if hours == "closed" {
            Vec::new()
        } else {
            intervals(hours)
        };
        let note = parts.next().unwrap_or_default().trim();
        overrides.push(json!({"date": date, "intervals": hours, "note": note}));
    }
    let value = json!({
        "weekly_hours": weekly,
        "national_holidays": field("national_holidays"),
        "holidays": holidays,
        "movable_holidays": movable,
        "overrides": overrides,
    });
    serde_json::from_value(value).map_err(|e| FieldError::new("calendar", e.to_string()))
}

/// An amount from minor units as the form shows it, by the commune's currency: `1234.50`
/// (MAD), `1234.500` (TND).
pub fn amount(currency: &Currency, minor: i64) -> String {
    currency.format_minor(minor)
}

/// Minor units from an amount typed in the commune's currency (`1234.5`, `1234,50`);
/// empty is `None`.
fn minor_units(currency: &Currency, field: &str, raw: &str) -> Result<Option<i64>, FieldError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let bad = || {
        let example = currency.format_minor(150 * 10i64.pow(u32::from(currency.exponent())));
        FieldError::new(
            field.to_owned(),
            format!("must be an amount in {}, e.g. {example}", currency.code()),
        )
    };
    let minor = currency.parse_major(raw).ok_or_else(bad)?;
    // At most 100 million in major units, as before.
    let scale = 10i64.pow(u32::from(currency.exponent()));
    if minor / scale > 100_000_000 {
        return Err(bad());
    }
    Ok(Some(minor))
}

/// A target as one line: `resolve 24h`, `resolve 8h priority=urgent`,
/// `acknowledge 2h service=light_out`.
fn target_line(target: &Value) -> String {
    let mut line = format!(
        "{} {}",
        target["metric"].as_str().unwrap_or_default(),
        friendly(target["duration"].as_str().unwrap_or_default())
    );
    if let Some(p) = target["priority"].as_str() {
        line.push_str(&format!(" priority={p}"));
    }
    if let Some(s) = target["service_code"].as_str() {
        line.push_str(&format!(" service={s}"));
    }
    line
}

/// `PT4H30M` as `4h 30m` (what staff type back).
pub fn friendly(iso: &str) -> String {
    iso.parse::<jiff::SignedDuration>()
        .map_or_else(|_| iso.to_owned(), |d| format!("{d:#}"))
}

/// The fields of a new version's form, from the current version (or sensible defaults).
pub fn policy_fields(current: Option<&SlaPolicy>, currency: &Currency) -> Fields {
    let mut fields = Fields::new();
    let Some(policy) = current else {
        fields.insert("clock".into(), "always".into());
        fields.insert("targets".into(), "acknowledge 24h\nresolve 72h".into());
        fields.insert("thresholds".into(), "50, 75, 90".into());
        fields.insert("reason_awaiting_resident".into(), "on".into());
        return fields;
    };
    let value = serde_json::to_value(policy).unwrap_or(Value::Null);
    fields.insert("clock".into(), policy.clock.as_str().to_owned());
    let targets = value["targets"].as_array().cloned().unwrap_or_default();
    fields.insert(
        "targets".into(),
        targets
            .iter()
            .map(target_line)
            .collect::<Vec<_>>()
            .join("\n"),
    );
    for reason in value["pause_reasons_that_stop_the_clock"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        fields.insert(format!("reason_{reason}"), "on".into());
    }
    let thresholds: Vec<String> = value["warning_thresholds"]
        .as_array()
        .into_iter()
        .flatten()
        .map(ToString::to_string)
        .collect();
    fields.insert("thresholds".into(), thresholds.join(", "));
    let penalty = policy.penalty;
    fields.insert(
        "per_breach".into(),
        amount(currency, penalty.per_breach_minor),
    );
    fields.insert(
        "per_hour".into(),
        amount(currency, penalty.per_started_hour_late_minor),
    );
    fields.insert(
        "cap".into(),
        penalty
            .cap_per_period_minor
            .map(|cap| amount(currency, cap))
            .unwrap_or_default(),
    );
    fields
}

fn targets(raw: &str) -> Result<Vec<Value>, FieldError> {
    let mut out = Vec::new();
    for (n, line) in lines(raw) {
        let mut words = line.split_whitespace();
        let metric = words.next().unwrap_or_default();
        let (mut priority, mut service, mut duration) = (Value::Null, Value::Null, Vec::new());
        for word in words {
            match word.split_once('=') {
                Some(("priority", p)) => priority = json!(p),
                Some(("service", s)) => service = json!(s),
                Some(_) => {
                    return Err(line_error(
                        "targets",
                        n,
                        "only priority= and service= may follow the duration",
                    ));
                }
                None => duration.push(word),
            }
        }
        if duration.is_empty() {
            return Err(line_error(
                "targets",
                n,
                "must be a metric then a duration, e.g. resolve 24h",
            ));
        }
        out.push(json!({"metric": metric, "service_code": service, "priority": priority, "duration": duration.join(" ")}));
    }
    Ok(out)
}

/// The API request a submitted policy form makes; `effective_from` is already an RFC 3339
/// instant (or empty: now).
pub fn policy_request(
    fields: &Fields,
    effective_from: Option<String>,
    currency: &Currency,
) -> Result<Value, FieldError> {
    let field = |name: &str| fields.get(name).map_or("", String::as_str);
    let thresholds: Vec<u8> = field("thresholds")
        .split([',', ' '])
        .filter(|t| !t.trim().is_empty())
        .map(|t| t.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            FieldError::new("warning_thresholds", "must be percentages, e.g. 50, 75, 90")
        })?;
    let reasons: Vec<&str> = PAUSE_REASONS
        .into_iter()
        .filter(|r| fields.contains_key(&format!("reason_{r}")))
        .collect();
    Ok(json!({
        "effective_from": effective_from,
        "clock": field("clock"),
        "targets": targets(field("targets"))?,
        "pause_reasons_that_stop_the_clock": reasons,
        "warning_thresholds": thresholds,
        "penalty": {
            "per_breach_minor": minor_units(currency, "per_breach", field("per_breach"))?.unwrap_or(0),
            "per_started_hour_late_minor": minor_units(currency, "per_hour", field("per_hour"))?.unwrap_or(0),
            "cap_per_period_minor": minor_units(currency, "cap", field("cap"))?,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calendar_survives_the_form_both_ways() {
        let mut spec = CalendarSpec::moroccan_administration();
        let mut fields = calendar_fields(&spec);
        assert_eq!(fields["hours_monday"], "08:30-16:30");
        assert_eq!(fields["hours_sunday"], "");
        fields.insert("hours_saturday".into(), "09:00-12:00".into());
        fields.insert("holidays".into(), "2026-12-24 Moussem local\n\n".into());
        fields.insert("movable_holidays".into(), "eid_al_fitr 2027-03-20 2".into());
        fields.insert(
            "overrides".into(),
            "2027-02-18 09:00-15:00 Ramadan hours\n2027-02-19 closed".into(),
        );
        let back = calendar_request(&fields).unwrap();
        assert_eq!(back.holidays.len(), 1);
        assert_eq!(back.holidays[0].name, "Moussem local");
        assert_eq!(back.movable_holidays[0].days, 2);
        assert_eq!(back.overrides.len(), 2);
        assert!(back.overrides[1].intervals.is_empty());
        assert_eq!(back.overrides[0].note, "Ramadan hours");
        spec.weekly_hours
            .insert("saturday".into(), back.weekly_hours["saturday"].clone());
        assert_eq!(back.weekly_hours, spec.weekly_hours);
        // And what the form shows of it reads back the same.
        assert_eq!(calendar_request(&calendar_fields(&back)).unwrap(), back);
    }

    #[test]
    fn a_wrong_line_names_its_field_and_line() {
        let mut fields = calendar_fields(&CalendarSpec::moroccan_administration());
        fields.insert("movable_holidays".into(), "eid_al_fitr\n".into());
        let error = calendar_request(&fields).unwrap_err();
        assert!(
            error.to_string().contains("movable_holidays (line 1)"),
            "{error}"
        );
    }

    #[test]
    fn policy_forms_read_targets_amounts_and_reasons() {
        let mad = Currency::default();
        let mut fields = policy_fields(None, &mad);
        fields.insert(
            "targets".into(),
            "acknowledge 4h\nresolve 8h priority=urgent\nresolve 2d 12h".into(),
        );
        fields.insert("per_breach".into(), "150,5".into());
        fields.insert("cap".into(), "".into());
        let body = policy_request(&fields, None, &mad).unwrap();
        assert_eq!(body["targets"][1]["priority"], "urgent");
        assert_eq!(body["targets"][2]["duration"], "2d 12h");
        assert_eq!(body["penalty"]["per_breach_minor"], 15050);
        assert_eq!(body["penalty"]["cap_per_period_minor"], Value::Null);
        assert_eq!(
            body["pause_reasons_that_stop_the_clock"],
            json!(["awaiting_resident"])
        );
        fields.insert("per_hour".into(), "12.345".into());
        assert_eq!(
            policy_request(&fields, None, &mad)
                .unwrap_err()
                .to_string()
                .split(':')
                .next(),
            Some("per_hour")
        );
        assert_eq!(friendly("PT4H30M"), "4h 30m");
        // Millimes: three decimals are an amount in TND.
        let tnd = Currency::known("TND").unwrap();
        let body = policy_request(&fields, None, &tnd).unwrap();
        assert_eq!(body["penalty"]["per_started_hour_late_minor"], 12_345);
        assert_eq!(body["penalty"]["per_breach_minor"], 150_500);
    }
}
