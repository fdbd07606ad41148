//! A business calendar as staff enter it and the store keeps it (JSON); the time zone comes
//! from the jurisdiction.

use super::calendar::{
    BusinessCalendar, DaySchedule, Holiday, MovableHoliday, MovableHolidayKind, NationalHolidays,
    WeeklyHours, WorkingInterval,
};
use crate::FieldError;
use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

/// A religious holiday as announced for one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovableHolidaySpec {
    pub kind: MovableHolidayKind,
    pub first_day: Date,
    /// Consecutive days off, 1 to 5.
    pub days: u8,
}

/// The working intervals of one date, whatever the weekday or holidays say (none: closed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayOverride {
    pub date: Date,
    pub intervals: Vec<WorkingInterval>,
    /// Why (e.g. "Ramadan hours", "strike"), for the record.
    #[serde(default)]
    pub note: String,
}

/// Everything of a jurisdiction's business calendar but its time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// Working intervals per weekday (`"monday": ["08:30-16:30"]`); a missing day is closed.
    pub weekly_hours: BTreeMap<String, Vec<WorkingInterval>>,
    /// Built-in fixed-date holidays observed every year.
    pub national_holidays: NationalHolidays,
    /// One-off holidays (e.g. a local festival).
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    /// Religious holidays as announced each year.
    #[serde(default)]
    pub movable_holidays: Vec<MovableHolidaySpec>,
    #[serde(default)]
    pub overrides: Vec<DayOverride>,
}

impl CalendarSpec {
    /// Moroccan administration hours (Monday to Friday, 08:30-16:30) and Morocco's fixed
    /// national holidays: the default until staff set a calendar.
    pub fn moroccan_administration() -> Self {
        let day = vec![WorkingInterval::new(8 * 60 + 30, 16 * 60 + 30).expect("valid interval")];
        Self {
            weekly_hours: WEEKDAYS[..5]
                .iter()
                .map(|(name, _)| ((*name).to_owned(), day.clone()))
                .collect(),
            national_holidays: NationalHolidays::Morocco,
            holidays: Vec::new(),
            movable_holidays: Vec::new(),
            overrides: Vec::new(),
        }
    }

    /// The calendar in `time_zone`, or the first field that is wrong.
    pub fn build(&self, time_zone: &str) -> Result<BusinessCalendar, FieldError> {
        let mut weekly = WeeklyHours::closed();
        for (name, intervals) in &self.weekly_hours {
            let weekday = WEEKDAYS
                .iter()
                .find(|(day, _)| day == name)
                .map(|(_, weekday)| *weekday)
                .ok_or_else(|| {
                    FieldError::new(
                        format!("weekly_hours.{name}"),
                        "must be a weekday in English, lower case (monday … sunday)",
                    )
                })?;
            weekly.set(
                weekday,
                day_schedule(&format!("weekly_hours.{name}"), intervals)?,
            );
        }
        let mut calendar = BusinessCalendar::new(time_zone, weekly)?
            .with_national_holidays(self.national_holidays);
        for (i, holiday) in self.holidays.iter().enumerate() {
            if holiday.name.trim().is_empty() || holiday.name.chars().count() > 200 {
                return Err(FieldError::new(
                    format!("holidays[{i}].name"),
                    "must be 1 to 200 characters",
                ));
            }
            calendar.add_holiday(holiday.clone());
        }
        for (i, spec) in self.movable_holidays.iter().enumerate() {
            let holiday = MovableHoliday::new(spec.kind, spec.first_day, spec.days)
                .map_err(|e| FieldError::new(format!("movable_holidays[{i}].days"), e.message))?;
            calendar.add_movable_holiday(&holiday);
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, day) in self.overrides.iter().enumerate() {
            if !seen.insert(day.date) {
                return Err(FieldError::new(
                    format!("overrides[{i}].date"),
                    "another override has the same date",
                ));
            }
            let schedule = day_schedule(&format!("overrides[{i}].intervals"), &day.intervals)?;
            calendar.set_override(day.date, schedule);
        }
        Ok(calendar)
    }
}

fn day_schedule(field: &str, intervals: &[WorkingInterval]) -> Result<DaySchedule, FieldError> {
    let schedule = DaySchedule::new(intervals.iter().copied());
    // DaySchedule merges overlapping and touching intervals; refuse them instead, as they
    // are always a typing error.
    if schedule.intervals().len() != intervals.len() {
        return Err(FieldError::new(
            field,
            "intervals must not overlap or touch",
        ));
    }
    Ok(schedule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    #[test]
    fn default_spec_is_the_administration_calendar() {
        let built = CalendarSpec::moroccan_administration()
            .build("Africa/Casablanca")
            .unwrap();
        assert_eq!(
            built,
            BusinessCalendar::moroccan_administration("Africa/Casablanca").unwrap()
        );
    }

    #[test]
    fn json_round_trip_with_holidays_and_overrides() {
        let raw = serde_json::json!({
            "weekly_hours": {"monday": ["08:00-12:00", "14:00-18:00"], "saturday": ["09:00-12:00"]},
            "national_holidays": "morocco",
            "holidays": [{"date": "2026-06-10", "name": "Moussem"}],
            "movable_holidays": [{"kind": "eid_al_adha", "first_day": "2026-05-27", "days": 2}],
            "overrides": [{"date": "2026-06-01", "intervals": [], "note": "strike"}]
        });
        let spec: CalendarSpec = serde_json::from_value(raw).unwrap();
        let calendar = spec.build("Africa/Casablanca").unwrap();
        let back: CalendarSpec =
            serde_json::from_value(serde_json::to_value(&spec).unwrap()).unwrap();
        assert_eq!(back, spec);
        let date = |raw: &str| raw.parse::<Date>().unwrap();
        assert_eq!(calendar.holiday_on(date("2026-06-10")), Some("Moussem"));
        assert!(calendar.holiday_on(date("2026-05-28")).is_some());
        assert!(calendar.schedule_on(date("2026-06-01")).is_closed());
        assert!(
            calendar.schedule_on(date("2026-06-02")).is_closed(),
            "tuesday"
        );
        assert_eq!(
            calendar.schedule_on(date("2026-06-06")).working_minutes(),
            180
        );
        // A Monday: 8 working hours, local time (UTC+1 in June 2026).
        let monday = calendar.business_duration(
            "2026-06-08T00:00:00Z".parse::<Timestamp>().unwrap(),
            "2026-06-09T00:00:00Z".parse::<Timestamp>().unwrap(),
        );
        assert_eq!(monday.as_hours(), 8);
    }

    #[test]
    fn errors_name_the_field() {
        let mut spec = CalendarSpec::moroccan_administration();
        spec.weekly_hours.insert("lundi".into(), vec![]);
        assert_eq!(
            spec.build("Africa/Casablanca").unwrap_err().field,
            "weekly_hours.lundi"
        );
        let mut spec = CalendarSpec::moroccan_administration();
        spec.movable_holidays.push(MovableHolidaySpec {
            kind: MovableHolidayKind::EidAlFitr,
            first_day: "2026-03-20".parse().unwrap(),
            days: 9,
        });
        assert_eq!(
            spec.build("Africa/Casablanca").unwrap_err().field,
            "movable_holidays[0].days"
        );
        let mut spec = CalendarSpec::moroccan_administration();
        spec.weekly_hours.insert(
            "sunday".into(),
            vec![
                WorkingInterval::parse("08:00-12:00").unwrap(),
                WorkingInterval::parse("11:00-13:00").unwrap(),
            ],
        );
        assert_eq!(
            spec.build("Africa/Casablanca").unwrap_err().field,
            "weekly_hours.sunday"
        );
        assert_eq!(
            CalendarSpec::moroccan_administration()
                .build("+01:00")
                .unwrap_err()
                .field,
            "time_zone"
        );
    }
}
