//! Working hours: intervals of a day, a day's schedule, the week.

use crate::FieldError;
use jiff::civil::{Date, DateTime, Weekday};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A working interval of one day in local wall-clock time, `[start, end)`, with minute
/// precision. `end` may be 24:00 (the next midnight); intervals never cross midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkingInterval {
    start_minute: u16,
    end_minute: u16,
}

impl WorkingInterval {
    pub const MINUTES_PER_DAY: u16 = 24 * 60;

    /// From minutes since local midnight: `start < end <= 1440`.
    pub fn new(start_minute: u16, end_minute: u16) -> Result<Self, FieldError> {
        if start_minute < end_minute && end_minute <= Self::MINUTES_PER_DAY {
            Ok(Self {
                start_minute,
                end_minute,
            })
        } else {
            Err(FieldError::new(
                "hours",
                "an interval must start before it ends, within one day (00:00-24:00)",
            ))
        }
    }

    /// Parses `HH:MM-HH:MM`, e.g. `08:30-16:30` or `22:00-24:00`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let invalid = || FieldError::new("hours", "must look like 08:30-16:30");
        let (start, end) = raw.trim().split_once('-').ok_or_else(invalid)?;
        let minute_of_day = |s: &str| -> Option<u16> {
            let (h, m) = s.trim().split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h <= 24 && m < 60 && h * 60 + m <= Self::MINUTES_PER_DAY).then_some(h * 60 + m)
        };
        let start = minute_of_day(start).ok_or_else(invalid)?;
        let end = minute_of_day(end).ok_or_else(invalid)?;
        Self::new(start, end)
    }

    /// Minutes since local midnight at which work starts.
    pub fn start_minute(self) -> u16 {
        self.start_minute
    }

    /// Minutes since local midnight at which work stops (exclusive; 1440 = midnight).
    pub fn end_minute(self) -> u16 {
        self.end_minute
    }

    pub fn minutes(self) -> u16 {
        self.end_minute - self.start_minute
    }

    /// The local wall-clock bounds on `date` (`None` only at the very end of the calendar).
    pub(super) fn local_bounds(self, date: Date) -> Option<(DateTime, DateTime)> {
        let at_minute =
            |date: Date, minute: u16| date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
        let start = at_minute(date, self.start_minute);
        let end = if self.end_minute == Self::MINUTES_PER_DAY {
            at_minute(date.tomorrow().ok()?, 0)
        } else {
            at_minute(date, self.end_minute)
        };
        Some((start, end))
    }
}

impl fmt::Display for WorkingInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, e) = (self.start_minute, self.end_minute);
        write!(f, "{:02}:{:02}-{:02}:{:02}", s / 60, s % 60, e / 60, e % 60)
    }
}

impl Serialize for WorkingInterval {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for WorkingInterval {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The working intervals of one day, sorted and without overlaps (overlapping or touching
/// intervals are merged). Empty means closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Vec<WorkingInterval>", into = "Vec<WorkingInterval>")]
pub struct DaySchedule(pub(super) Vec<WorkingInterval>);

impl DaySchedule {
    pub fn closed() -> Self {
        Self(Vec::new())
    }

    pub fn new(intervals: impl IntoIterator<Item = WorkingInterval>) -> Self {
        let mut sorted: Vec<WorkingInterval> = intervals.into_iter().collect();
        sorted.sort();
        let mut merged: Vec<WorkingInterval> = Vec::with_capacity(sorted.len());
        for interval in sorted {
            match merged.last_mut() {
                Some(last) if interval.start_minute <= last.end_minute => {
                    last.end_minute = last.end_minute.max(interval.end_minute);
                }
                _ => merged.push(interval),
            }
        }
        Self(merged)
    }

    /// Parses comma-separated intervals (`08:30-12:00, 14:00-18:00`); empty or `closed`
    /// means closed.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        if raw.is_empty() || raw.eq_ignore_ascii_case("closed") {
            return Ok(Self::closed());
        }
        let intervals = raw
            .split(',')
            .map(WorkingInterval::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(intervals))
    }

    pub fn intervals(&self) -> &[WorkingInterval] {
        &self.0
    }

    pub fn is_closed(&self) -> bool {
        self.0.is_empty()
    }

    /// Working minutes in the day, as on the wall clock.
    pub fn working_minutes(&self) -> u32 {
        self.0.iter().map(|i| u32::from(i.minutes())).sum()
    }
}

impl From<Vec<WorkingInterval>> for DaySchedule {
    fn from(intervals: Vec<WorkingInterval>) -> Self {
        Self::new(intervals)
    }
}

impl From<DaySchedule> for Vec<WorkingInterval> {
    fn from(schedule: DaySchedule) -> Self {
        schedule.0
    }
}

/// Working hours for each day of the week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyHours {
    /// Indexed from Monday (0) to Sunday (6).
    days: [DaySchedule; 7],
}

impl WeeklyHours {
    /// Closed every day; open days with [`WeeklyHours::with_day`].
    pub fn closed() -> Self {
        Self {
            days: Default::default(),
        }
    }

    /// Moroccan public administration: Monday to Friday, 08:30-16:30 (continuous hours).
    pub fn moroccan_administration() -> Self {
        let day = DaySchedule::new([WorkingInterval {
            start_minute: 8 * 60 + 30,
            end_minute: 16 * 60 + 30,
        }]);
        let mut hours = Self::closed();
        for weekday in [
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
        ] {
            hours.set(weekday, day.clone());
        }
        hours
    }

    pub fn with_day(mut self, weekday: Weekday, schedule: DaySchedule) -> Self {
        self.set(weekday, schedule);
        self
    }

    pub fn set(&mut self, weekday: Weekday, schedule: DaySchedule) {
        self.days[weekday.to_monday_zero_offset() as usize] = schedule;
    }

    pub fn on(&self, weekday: Weekday) -> &DaySchedule {
        &self.days[weekday.to_monday_zero_offset() as usize]
    }

    /// True when no weekday has any working time.
    pub fn is_closed(&self) -> bool {
        self.days.iter().all(DaySchedule::is_closed)
    }
}

impl Default for WeeklyHours {
    fn default() -> Self {
        Self::moroccan_administration()
    }
}
