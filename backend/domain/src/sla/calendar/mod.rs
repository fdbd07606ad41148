//! Business calendars: when a jurisdiction's SLA clocks run.
//!
//! A [`BusinessCalendar`] is an IANA time zone, weekly working hours in local time, holidays
//! and one-off overrides. Local working intervals are turned into UTC instants day by day
//! through the time-zone database, so a day when `Africa/Casablanca` is at UTC+0 (Ramadan,
//! and permanently from 2026-09-20) shifts the instants of "08:30" accordingly. All
//! arithmetic costs O(days spanned).

use crate::FieldError;
use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod holidays;
mod hours;
#[cfg(test)]
mod tests;

use holidays::morocco_fixed_holiday_on;
pub use holidays::{
    Holiday, MovableHoliday, MovableHolidayKind, NationalHolidays, morocco_fixed_holidays,
};
pub use hours::{DaySchedule, WeeklyHours, WorkingInterval};

/// How an SLA clock counts time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// 24/7: every second counts, the calendar is ignored.
    Always,
    /// Only the calendar's working hours count.
    BusinessHours,
}

impl ClockKind {
    pub const ALL: [ClockKind; 2] = [ClockKind::Always, ClockKind::BusinessHours];

    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::Always => "always",
            ClockKind::BusinessHours => "business_hours",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// Time counted by this clock between `start` and `end`; zero if `end <= start`.
    pub fn elapsed(
        self,
        calendar: &BusinessCalendar,
        start: Timestamp,
        end: Timestamp,
    ) -> SignedDuration {
        match self {
            ClockKind::Always if end > start => end.duration_since(start),
            ClockKind::Always => SignedDuration::ZERO,
            ClockKind::BusinessHours => calendar.business_duration(start, end),
        }
    }

    /// The earliest instant at which this clock has counted `duration` since `start`
    /// (negative durations count as zero).
    pub fn add(
        self,
        calendar: &BusinessCalendar,
        start: Timestamp,
        duration: SignedDuration,
    ) -> Result<Timestamp, CalendarError> {
        match self {
            ClockKind::Always => start
                .checked_add(duration.max(SignedDuration::ZERO))
                .map_err(|_| CalendarError::OutOfRange),
            ClockKind::BusinessHours => calendar.add_business(start, duration),
        }
    }
}

/// Why a due time could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The calendar never opens again (no weekly hours, or closed for years on end).
    #[error("the calendar has no working time after {searched_from}")]
    NoWorkingTime { searched_from: Date },
    /// The result would fall outside the years -9999..=9999.
    #[error("the due time falls outside the supported range of dates")]
    OutOfRange,
}

/// After this many consecutive days without any working time, `add_business` gives up: the
/// calendar is treated as never opening again.
const MAX_IDLE_DAYS: u32 = 3 * 366;

/// When SLA clocks run in a jurisdiction: time zone, weekly hours, holidays, overrides.
///
/// For a given civil date the working intervals are, in order of precedence: the date's
/// override if any (empty = closed), else nothing if it is a holiday, else the weekly hours.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessCalendar {
    time_zone: TimeZone,
    weekly_hours: WeeklyHours,
    national_holidays: NationalHolidays,
    holidays: BTreeMap<Date, String>,
    overrides: BTreeMap<Date, DaySchedule>,
}

impl BusinessCalendar {
    /// A calendar in the IANA time zone `time_zone` (e.g. `Africa/Casablanca`), with no
    /// holidays yet.
    pub fn new(time_zone: &str, weekly_hours: WeeklyHours) -> Result<Self, FieldError> {
        let unknown = || {
            FieldError::new(
                "time_zone",
                "must be an IANA time-zone name such as Africa/Casablanca",
            )
        };
        // Fixed offsets and POSIX strings are refused: only the database knows Morocco's
        // Ramadan changes.
        if time_zone.is_empty() || time_zone.starts_with(['+', '-']) {
            return Err(unknown());
        }
        let time_zone = TimeZone::get(time_zone).map_err(|_| unknown())?;
        Ok(Self {
            time_zone,
            weekly_hours,
            national_holidays: NationalHolidays::None,
            holidays: BTreeMap::new(),
            overrides: BTreeMap::new(),
        })
    }

    /// A Moroccan commune's calendar: administration hours (Mon-Fri 08:30-16:30) and the
    /// fixed national holidays. Religious holidays still have to be added each year.
    pub fn moroccan_administration(time_zone: &str) -> Result<Self, FieldError> {
        Ok(
            Self::new(time_zone, WeeklyHours::moroccan_administration())?
                .with_national_holidays(NationalHolidays::Morocco),
        )
    }

    pub fn with_national_holidays(mut self, national_holidays: NationalHolidays) -> Self {
        self.national_holidays = national_holidays;
        self
    }

    /// Adds a holiday; two holidays on one date keep both names.
    pub fn add_holiday(&mut self, holiday: Holiday) {
        self.holidays
            .entry(holiday.date)
            .and_modify(|name| {
                if *name != holiday.name {
                    name.push_str(" / ");
                    name.push_str(&holiday.name);
                }
            })
            .or_insert(holiday.name);
    }

    pub fn add_movable_holiday(&mut self, holiday: &MovableHoliday) {
        for day in holiday.holidays() {
            self.add_holiday(day);
        }
    }

    /// Sets the working intervals of one date, whatever the weekday or holidays say
    /// (an empty schedule closes the day).
    pub fn set_override(&mut self, date: Date, schedule: DaySchedule) {
        self.overrides.insert(date, schedule);
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    pub fn weekly_hours(&self) -> &WeeklyHours {
        &self.weekly_hours
    }

    pub fn national_holidays(&self) -> NationalHolidays {
        self.national_holidays
    }

    /// The holidays added to the calendar (not the built-in national ones), by date.
    pub fn holidays(&self) -> impl Iterator<Item = (Date, &str)> {
        self.holidays.iter().map(|(d, n)| (*d, n.as_str()))
    }

    pub fn overrides(&self) -> impl Iterator<Item = (Date, &DaySchedule)> {
        self.overrides.iter().map(|(d, s)| (*d, s))
    }

    /// The holiday's name if `date` is a holiday (added or national).
    pub fn holiday_on(&self, date: Date) -> Option<&str> {
        if let Some(name) = self.holidays.get(&date) {
            return Some(name);
        }
        match self.national_holidays {
            NationalHolidays::None => None,
            NationalHolidays::Morocco => morocco_fixed_holiday_on(date),
        }
    }

    /// The working intervals that apply on `date`, in local time.
    pub fn schedule_on(&self, date: Date) -> &DaySchedule {
        static CLOSED: DaySchedule = DaySchedule(Vec::new());
        if let Some(schedule) = self.overrides.get(&date) {
            schedule
        } else if self.holiday_on(date).is_some() {
            &CLOSED
        } else {
            self.weekly_hours.on(date.weekday())
        }
    }

    /// The civil date of `at` in the calendar's time zone.
    pub fn local_date(&self, at: Timestamp) -> Date {
        self.time_zone.to_datetime(at).date()
    }

    /// The working spans of `date` as UTC instants `[start, end)`, in order.
    pub fn working_spans(&self, date: Date) -> Vec<(Timestamp, Timestamp)> {
        let mut spans = Vec::new();
        self.working_spans_into(date, &mut spans);
        spans
    }

    fn working_spans_into(&self, date: Date, spans: &mut Vec<(Timestamp, Timestamp)>) {
        spans.clear();
        for interval in self.schedule_on(date).intervals() {
            let Some((start, end)) = interval.local_bounds(date) else {
                continue;
            };
            let (Some(start), Some(end)) = (self.instant_of(start), self.instant_of(end)) else {
                continue;
            };
            // An interval entirely inside a DST gap has no instants at all.
            if start < end {
                spans.push((start, end));
            }
        }
    }

    /// The instant of a local wall-clock time. The mapping never goes backwards in local
    /// time, so the spans of consecutive intervals and days never overlap:
    /// - in a fold (clocks set back), the first occurrence;
    /// - in a gap (clocks set forward), the instant of the transition, where the skipped
    ///   wall-clock times "would" be.
    fn instant_of(&self, local: DateTime) -> Option<Timestamp> {
        let ambiguous = self.time_zone.to_ambiguous_timestamp(local);
        match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => {
                ambiguous.earlier().ok()
            }
            AmbiguousOffset::Gap { .. } => {
                let before_gap = ambiguous.earlier().ok()?;
                self.time_zone
                    .following(before_gap)
                    .next()
                    .map(|transition| transition.timestamp())
                    .or_else(|| ambiguous.later().ok())
            }
        }
    }

    /// Working time between `start` and `end`: never negative, zero if `end <= start`.
    pub fn business_duration(&self, start: Timestamp, end: Timestamp) -> SignedDuration {
        if end <= start {
            return SignedDuration::ZERO;
        }
        // One day of margin on each side: a wall-clock day and its UTC instants need not
        // line up around time-zone transitions.
        let first = self.local_date(start);
        let first = first.yesterday().unwrap_or(first);
        let last = self.local_date(end);
        let last = last.tomorrow().unwrap_or(last);

        let mut total = SignedDuration::ZERO;
        let mut spans = Vec::new();
        let mut date = first;
        loop {
            self.working_spans_into(date, &mut spans);
            for &(span_start, span_end) in &spans {
                let (from, until) = (span_start.max(start), span_end.min(end));
                if from < until {
                    total = total.saturating_add(until.duration_since(from));
                }
            }
            match date.tomorrow() {
                Ok(next) if date < last => date = next,
                _ => break,
            }
        }
        total
    }

    /// The earliest instant at which `duration` of working time has passed since `start`:
    /// the due time of a target. Landing exactly on the end of a working span gives that
    /// end (16:30), not the next opening. Negative durations count as zero.
    ///
    /// Errors when the calendar never opens again rather than searching forever.
    pub fn add_business(
        &self,
        start: Timestamp,
        duration: SignedDuration,
    ) -> Result<Timestamp, CalendarError> {
        if duration <= SignedDuration::ZERO {
            return Ok(start);
        }
        let start_date = self.local_date(start);
        let no_working_time = || CalendarError::NoWorkingTime {
            searched_from: start_date,
        };
        // Without weekly hours only overrides can open a day: none after the last one.
        let last_open_override = self
            .overrides
            .iter()
            .rev()
            .find(|(_, schedule)| !schedule.is_closed())
            .map(|(date, _)| *date);

        let mut remaining = duration;
        let mut spans = Vec::new();
        let mut date = start_date.yesterday().unwrap_or(start_date);
        let mut idle_days = 0;
        loop {
            if self.weekly_hours.is_closed() && last_open_override.is_none_or(|last| date > last) {
                return Err(no_working_time());
            }
            self.working_spans_into(date, &mut spans);
            for &(span_start, span_end) in &spans {
                let from = span_start.max(start);
                if from >= span_end {
                    continue;
                }
                let available = span_end.duration_since(from);
                if available >= remaining {
                    return from
                        .checked_add(remaining)
                        .map_err(|_| CalendarError::OutOfRange);
                }
                remaining -= available;
            }
            if spans.is_empty() {
                idle_days += 1;
                if idle_days > MAX_IDLE_DAYS {
                    return Err(no_working_time());
                }
            } else {
                idle_days = 0;
            }
            date = date.tomorrow().map_err(|_| CalendarError::OutOfRange)?;
        }
    }
}
