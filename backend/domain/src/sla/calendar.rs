//! Business calendars: when a jurisdiction's SLA clocks run.
//!
//! A [`BusinessCalendar`] is an IANA time zone, weekly working hours in local time, holidays
//! and one-off overrides. Local working intervals are turned into UTC instants day by day
//! through the time-zone database, so a day when `Africa/Casablanca` is at UTC+0 (Ramadan,
//! and permanently from 2026-09-20) shifts the instants of "08:30" accordingly. All
//! arithmetic costs O(days spanned).

use crate::FieldError;
use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

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
    fn local_bounds(self, date: Date) -> Option<(DateTime, DateTime)> {
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
pub struct DaySchedule(Vec<WorkingInterval>);

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

/// A public holiday on a civil date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    pub date: Date,
    pub name: String,
}

/// Which built-in fixed-date national holidays a calendar observes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NationalHolidays {
    /// None: only the holidays added to the calendar.
    None,
    /// Morocco's fixed-date holidays ([`morocco_fixed_holidays`]), for every year.
    Morocco,
}

/// A fixed-date holiday, observed from `since` (inclusive) when set.
struct FixedHoliday {
    month: i8,
    day: i8,
    name: &'static str,
    since: Option<i16>,
}

/// Morocco's fixed-date paid holidays (public and private sectors). Moroccan law does not
/// move a holiday that falls on a weekend, so neither do we. Years before 2000 are not
/// modelled faithfully (Throne Day and Youth Day had other dates then).
const MOROCCO_FIXED_HOLIDAYS: [FixedHoliday; 11] = [
    FixedHoliday {
        month: 1,
        day: 1,
        name: "Nouvel An",
        since: None,
    },
    FixedHoliday {
        month: 1,
        day: 11,
        name: "Manifeste de l'Indépendance",
        since: None,
    },
    // Yennayer became a paid holiday by royal decision in May 2023, first observed in 2024.
    FixedHoliday {
        month: 1,
        day: 14,
        name: "Nouvel An amazigh",
        since: Some(2024),
    },
    FixedHoliday {
        month: 5,
        day: 1,
        name: "Fête du Travail",
        since: None,
    },
    FixedHoliday {
        month: 7,
        day: 30,
        name: "Fête du Trône",
        since: None,
    },
    FixedHoliday {
        month: 8,
        day: 14,
        name: "Allégeance d'Oued Eddahab",
        since: None,
    },
    FixedHoliday {
        month: 8,
        day: 20,
        name: "Révolution du Roi et du Peuple",
        since: None,
    },
    FixedHoliday {
        month: 8,
        day: 21,
        name: "Fête de la Jeunesse",
        since: None,
    },
    // Aïd Al Wahda: declared by the King in November 2025, decrees 2.26.14 and 2.25.1140.
    FixedHoliday {
        month: 10,
        day: 31,
        name: "Fête de l'Unité (Aïd Al Wahda)",
        since: Some(2026),
    },
    FixedHoliday {
        month: 11,
        day: 6,
        name: "Marche Verte",
        since: None,
    },
    FixedHoliday {
        month: 11,
        day: 18,
        name: "Fête de l'Indépendance",
        since: None,
    },
];

/// Morocco's fixed-date national holidays in `year`, in date order. The religious holidays
/// follow the lunar calendar and are announced each year: enter them as
/// [`MovableHoliday`]s.
pub fn morocco_fixed_holidays(year: i16) -> Vec<Holiday> {
    MOROCCO_FIXED_HOLIDAYS
        .iter()
        .filter(|h| h.since.is_none_or(|since| year >= since))
        .filter_map(|h| {
            Some(Holiday {
                date: Date::new(year, h.month, h.day).ok()?,
                name: h.name.to_owned(),
            })
        })
        .collect()
}

fn morocco_fixed_holiday_on(date: Date) -> Option<&'static str> {
    MOROCCO_FIXED_HOLIDAYS
        .iter()
        .find(|h| {
            h.month == date.month()
                && h.day == date.day()
                && h.since.is_none_or(|since| date.year() >= since)
        })
        .map(|h| h.name)
}

/// Religious holidays whose dates follow the lunar calendar and moon sighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovableHolidayKind {
    /// Aïd Al Fitr, end of Ramadan (1 Shawwal).
    EidAlFitr,
    /// Aïd Al Adha (10 Dhu al-Hijja).
    EidAlAdha,
    /// 1 Muharram, Islamic New Year.
    IslamicNewYear,
    /// Aïd Al Mawlid, the Prophet's birthday (12 Rabi' al-Awwal).
    Mawlid,
}

impl MovableHolidayKind {
    pub const ALL: [MovableHolidayKind; 4] = [
        MovableHolidayKind::EidAlFitr,
        MovableHolidayKind::EidAlAdha,
        MovableHolidayKind::IslamicNewYear,
        MovableHolidayKind::Mawlid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MovableHolidayKind::EidAlFitr => "eid_al_fitr",
            MovableHolidayKind::EidAlAdha => "eid_al_adha",
            MovableHolidayKind::IslamicNewYear => "islamic_new_year",
            MovableHolidayKind::Mawlid => "mawlid",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    pub fn name(self) -> &'static str {
        match self {
            MovableHolidayKind::EidAlFitr => "Aïd Al Fitr",
            MovableHolidayKind::EidAlAdha => "Aïd Al Adha",
            MovableHolidayKind::IslamicNewYear => "1er Moharram",
            MovableHolidayKind::Mawlid => "Aïd Al Mawlid",
        }
    }
}

/// A religious holiday as announced for one year, entered by staff: its first day and how
/// many consecutive days are off (the announcement decides; no lunar dates are built in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovableHoliday {
    pub kind: MovableHolidayKind,
    pub first_day: Date,
    days: u8,
}

impl MovableHoliday {
    pub const MAX_DAYS: u8 = 5;

    pub fn new(kind: MovableHolidayKind, first_day: Date, days: u8) -> Result<Self, FieldError> {
        if !(1..=Self::MAX_DAYS).contains(&days) {
            return Err(FieldError::new("days", "must be between 1 and 5"));
        }
        Ok(Self {
            kind,
            first_day,
            days,
        })
    }

    pub fn days(&self) -> u8 {
        self.days
    }

    /// One [`Holiday`] per day off.
    pub fn holidays(&self) -> Vec<Holiday> {
        let mut out = Vec::with_capacity(usize::from(self.days));
        let mut date = self.first_day;
        for day in 1..=self.days {
            let name = if self.days == 1 {
                self.kind.name().to_owned()
            } else {
                format!("{} (jour {day})", self.kind.name())
            };
            out.push(Holiday { date, name });
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        out
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    const CASABLANCA: &str = "Africa/Casablanca";

    fn ts(raw: &str) -> Timestamp {
        raw.parse().unwrap()
    }

    fn hours(h: i64) -> SignedDuration {
        SignedDuration::from_hours(h)
    }

    fn admin() -> BusinessCalendar {
        BusinessCalendar::moroccan_administration(CASABLANCA).unwrap()
    }

    #[test]
    fn time_zone_must_be_iana() {
        assert!(BusinessCalendar::new(CASABLANCA, WeeklyHours::default()).is_ok());
        for bad in ["", "Mars/Olympus_Mons", "+01:00", "-01", "Africa/"] {
            let err = BusinessCalendar::new(bad, WeeklyHours::default()).unwrap_err();
            assert_eq!(err.field, "time_zone", "{bad}");
        }
    }

    #[test]
    fn working_intervals_parse_and_merge() {
        let i = WorkingInterval::parse("08:30-16:30").unwrap();
        assert_eq!((i.start_minute(), i.end_minute()), (510, 990));
        assert_eq!(i.to_string(), "08:30-16:30");
        assert_eq!(
            WorkingInterval::parse("22:00-24:00").unwrap().end_minute(),
            1440
        );
        for bad in [
            "16:30-08:30",
            "08:30-08:30",
            "8:30-16:30",
            "08:60-09:00",
            "24:01-24:30",
            "x",
        ] {
            assert!(WorkingInterval::parse(bad).is_err(), "{bad}");
        }
        let day = DaySchedule::parse("14:00-18:00, 08:00-12:00,11:00-13:00,18:00-19:00").unwrap();
        let shown: Vec<String> = day.intervals().iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["08:00-13:00", "14:00-19:00"]);
        assert_eq!(day.working_minutes(), 10 * 60);
        assert!(DaySchedule::parse("closed").unwrap().is_closed());
        let json = serde_json::to_string(&day).unwrap();
        assert_eq!(json, r#"["08:00-13:00","14:00-19:00"]"#);
        assert_eq!(serde_json::from_str::<DaySchedule>(&json).unwrap(), day);
    }

    #[test]
    fn morocco_fixed_holidays_by_year() {
        let dates = |year| -> Vec<(i8, i8)> {
            morocco_fixed_holidays(year)
                .iter()
                .map(|h| (h.date.month(), h.date.day()))
                .collect()
        };
        assert_eq!(
            dates(2023),
            [
                (1, 1),
                (1, 11),
                (5, 1),
                (7, 30),
                (8, 14),
                (8, 20),
                (8, 21),
                (11, 6),
                (11, 18)
            ]
        );
        assert!(dates(2024).contains(&(1, 14)));
        assert!(!dates(2025).contains(&(10, 31)));
        assert_eq!(dates(2026).len(), 11);
        assert!(dates(2026).contains(&(10, 31)));

        let cal = admin();
        assert_eq!(
            cal.holiday_on(date(2026, 11, 18)),
            Some("Fête de l'Indépendance")
        );
        assert_eq!(cal.holiday_on(date(2023, 1, 14)), None);
        assert!(cal.schedule_on(date(2026, 5, 1)).is_closed()); // a Friday
        assert!(!cal.schedule_on(date(2026, 5, 4)).is_closed());
    }

    #[test]
    fn movable_holidays_are_data() {
        assert!(MovableHoliday::new(MovableHolidayKind::EidAlFitr, date(2026, 3, 20), 0).is_err());
        let fitr =
            MovableHoliday::new(MovableHolidayKind::EidAlFitr, date(2026, 3, 20), 2).unwrap();
        let mut cal = admin();
        cal.add_movable_holiday(&fitr);
        assert_eq!(
            cal.holiday_on(date(2026, 3, 20)),
            Some("Aïd Al Fitr (jour 1)")
        );
        assert_eq!(
            cal.holiday_on(date(2026, 3, 21)),
            Some("Aïd Al Fitr (jour 2)")
        );
        assert_eq!(cal.holiday_on(date(2026, 3, 22)), None);
        // A movable holiday on a fixed one keeps both names.
        cal.add_holiday(Holiday {
            date: date(2026, 3, 20),
            name: "Test".into(),
        });
        assert_eq!(
            cal.holiday_on(date(2026, 3, 20)),
            Some("Aïd Al Fitr (jour 1) / Test")
        );
    }

    /// The 2026 transitions of Africa/Casablanca in the bundled database (tzdata 2026e):
    /// back to UTC+0 for Ramadan on Sunday 15 February (03:00 -> 02:00), forward to UTC+1
    /// on Sunday 22 March (02:00 -> 03:00), and back to UTC+0 for good on Sunday
    /// 20 September (02:00 -> 01:00), since Morocco returns to permanent UTC (tzdata 2026c).
    #[test]
    fn casablanca_2026_transitions() {
        let tz = TimeZone::get(CASABLANCA).unwrap();
        let transitions: Vec<(Timestamp, i32)> = tz
            .following(ts("2026-01-01T00:00:00Z"))
            .take_while(|t| t.timestamp() < ts("2027-12-31T00:00:00Z"))
            .map(|t| (t.timestamp(), t.offset().seconds()))
            .collect();
        assert_eq!(
            transitions,
            [
                (ts("2026-02-15T02:00:00Z"), 0),
                (ts("2026-03-22T02:00:00Z"), 3600),
                (ts("2026-09-20T01:00:00Z"), 0),
            ]
        );
    }

    #[test]
    fn ramadan_shifts_the_utc_instants_of_working_hours() {
        let cal = admin();
        let opening = |d: Date| cal.working_spans(d)[0];
        // Friday before Ramadan: UTC+1.
        assert_eq!(
            opening(date(2026, 2, 13)),
            (ts("2026-02-13T07:30:00Z"), ts("2026-02-13T15:30:00Z"))
        );
        // Monday during Ramadan: UTC+0, so 08:30 local is 08:30 UTC.
        assert_eq!(
            opening(date(2026, 2, 16)),
            (ts("2026-02-16T08:30:00Z"), ts("2026-02-16T16:30:00Z"))
        );
        // Monday after Ramadan: UTC+1 again.
        assert_eq!(opening(date(2026, 3, 23)).0, ts("2026-03-23T07:30:00Z"));
        // After 20 September 2026: UTC+0 for good.
        assert_eq!(opening(date(2026, 9, 21)).0, ts("2026-09-21T08:30:00Z"));
    }

    #[test]
    fn due_time_across_the_ramadan_change() {
        let cal = admin();
        // Friday 13 February 2026, 15:30 local (UTC+1): one working hour left that day.
        let start = ts("2026-02-13T14:30:00Z");
        let due = cal.add_business(start, hours(2)).unwrap();
        // The second hour is on Monday from 08:30 local, which is now 08:30 UTC.
        assert_eq!(due, ts("2026-02-16T09:30:00Z"));
        assert_eq!(cal.business_duration(start, due), hours(2));
        // A fixed UTC+1 offset would have said 08:30 UTC: an hour early.
        let fixed = BusinessCalendar {
            time_zone: TimeZone::fixed(jiff::tz::offset(1)),
            ..cal.clone()
        };
        assert_eq!(
            fixed.add_business(start, hours(2)).unwrap(),
            ts("2026-02-16T08:30:00Z")
        );
    }

    #[test]
    fn holiday_on_friday_then_weekend() {
        let mut cal = admin();
        // Friday 17 April 2026 is made a holiday: Thursday 16:00 + 1h lands on Monday.
        cal.add_holiday(Holiday {
            date: date(2026, 4, 17),
            name: "Fermeture".into(),
        });
        let thursday_16h = ts("2026-04-16T15:00:00Z"); // 16:00 local, UTC+1
        let due = cal.add_business(thursday_16h, hours(1)).unwrap();
        assert_eq!(due, ts("2026-04-20T08:00:00Z")); // Monday 09:00 local
        // Thursday 16:00 to Monday 12:00 local: 30 min + 3.5 h.
        let monday_noon = ts("2026-04-20T11:00:00Z");
        assert_eq!(
            cal.business_duration(thursday_16h, monday_noon),
            SignedDuration::from_mins(4 * 60)
        );
        // The national holiday on Friday 1 May 2026 does the same.
        let thursday = ts("2026-04-30T15:00:00Z");
        assert_eq!(
            cal.add_business(thursday, hours(1)).unwrap(),
            ts("2026-05-04T08:00:00Z")
        );
    }

    #[test]
    fn overrides_open_and_close_days() {
        let mut cal = admin();
        let saturday = date(2026, 4, 18);
        assert!(cal.working_spans(saturday).is_empty());
        cal.set_override(saturday, DaySchedule::parse("09:00-12:00").unwrap());
        assert_eq!(
            cal.working_spans(saturday),
            [(ts("2026-04-18T08:00:00Z"), ts("2026-04-18T11:00:00Z"))]
        );
        // An override also opens a holiday...
        cal.set_override(date(2026, 5, 1), DaySchedule::parse("08:30-10:30").unwrap());
        assert_eq!(cal.working_spans(date(2026, 5, 1)).len(), 1);
        // ...and closes a working day.
        cal.set_override(date(2026, 4, 20), DaySchedule::closed());
        assert!(cal.working_spans(date(2026, 4, 20)).is_empty());
        // Friday 16:00 + 1h: 30 min on Friday, 30 min on the opened Saturday.
        assert_eq!(
            cal.add_business(ts("2026-04-17T15:00:00Z"), hours(1))
                .unwrap(),
            ts("2026-04-18T08:30:00Z")
        );
    }

    #[test]
    fn always_clock_ignores_the_calendar() {
        let mut cal = admin();
        cal.set_override(date(2026, 4, 20), DaySchedule::closed());
        let start = ts("2026-04-18T22:00:00Z"); // a Saturday night
        assert_eq!(
            ClockKind::Always.elapsed(&cal, start, ts("2026-04-20T22:00:00Z")),
            hours(48)
        );
        assert_eq!(
            ClockKind::Always.add(&cal, start, hours(5)).unwrap(),
            ts("2026-04-19T03:00:00Z")
        );
        assert_eq!(
            ClockKind::Always.elapsed(&cal, start, ts("2026-04-01T00:00:00Z")),
            SignedDuration::ZERO
        );
        assert_eq!(
            ClockKind::BusinessHours.elapsed(&cal, start, ts("2026-04-20T22:00:00Z")),
            SignedDuration::ZERO
        );
    }

    #[test]
    fn a_calendar_without_working_time_does_not_hang() {
        let cal = BusinessCalendar::new(CASABLANCA, WeeklyHours::closed()).unwrap();
        let start = ts("2026-04-18T08:00:00Z");
        assert_eq!(
            cal.add_business(start, hours(1)),
            Err(CalendarError::NoWorkingTime {
                searched_from: date(2026, 4, 18)
            })
        );
        // Only a later override gives it time.
        let mut cal = cal;
        cal.set_override(date(2026, 6, 1), DaySchedule::parse("10:00-11:00").unwrap());
        assert_eq!(
            cal.add_business(start, hours(1)).unwrap(),
            ts("2026-06-01T10:00:00Z")
        );
        assert!(cal.add_business(start, hours(2)).is_err());
        // Open weekly hours but a gap of years: gives up too.
        let mut cal = admin();
        let mut d = date(2026, 1, 1);
        while d < date(2030, 1, 1) {
            cal.set_override(d, DaySchedule::closed());
            d = d.tomorrow().unwrap();
        }
        assert!(matches!(
            cal.add_business(start, hours(1)),
            Err(CalendarError::NoWorkingTime { .. })
        ));
    }

    #[test]
    fn dst_gaps_and_folds_in_local_intervals() {
        // A night shift across the 2026 Casablanca transitions (all on Sundays).
        let night = DaySchedule::parse("01:00-04:00").unwrap();
        let cal = BusinessCalendar::new(
            CASABLANCA,
            WeeklyHours::closed().with_day(Weekday::Sunday, night),
        )
        .unwrap();
        // Fold on 15 February (03:00 -> 02:00): 01:00-04:00 local lasts four hours.
        assert_eq!(
            cal.working_spans(date(2026, 2, 15)),
            [(ts("2026-02-15T00:00:00Z"), ts("2026-02-15T04:00:00Z"))]
        );
        // Gap on 22 March (02:00 -> 03:00): it lasts two hours.
        assert_eq!(
            cal.working_spans(date(2026, 3, 22)),
            [(ts("2026-03-22T01:00:00Z"), ts("2026-03-22T03:00:00Z"))]
        );
        // An interval entirely inside the gap has no working time.
        let in_gap = BusinessCalendar::new(
            CASABLANCA,
            WeeklyHours::closed()
                .with_day(Weekday::Sunday, DaySchedule::parse("02:10-02:50").unwrap()),
        )
        .unwrap();
        assert!(in_gap.working_spans(date(2026, 3, 22)).is_empty());
        assert_eq!(in_gap.working_spans(date(2026, 3, 29)).len(), 1);
    }

    fn timestamp_in(range: std::ops::Range<i64>) -> impl Strategy<Value = Timestamp> {
        range.prop_map(|s| Timestamp::from_second(s).unwrap())
    }

    /// 2025-06-01 .. 2027-06-01: covers the 2026 Ramadan changes and the September switch.
    fn around_2026() -> impl Strategy<Value = Timestamp> {
        timestamp_in(1_748_736_000..1_811_808_000)
    }

    /// Administration hours, a split shift with night parts across the Casablanca
    /// transitions, and intervals ending and starting inside Europe/Paris's DST gap.
    fn test_calendars() -> Vec<BusinessCalendar> {
        let split = DaySchedule::parse("00:00-03:30,07:00-12:00,14:00-24:00").unwrap();
        let mut split_shift = BusinessCalendar::new(CASABLANCA, WeeklyHours::closed()).unwrap();
        for weekday in [Weekday::Saturday, Weekday::Sunday, Weekday::Wednesday] {
            split_shift.weekly_hours.set(weekday, split.clone());
        }
        let night = DaySchedule::parse("01:00-02:20,02:40-02:50,03:00-04:00").unwrap();
        let paris = BusinessCalendar::new(
            "Europe/Paris",
            WeeklyHours::moroccan_administration().with_day(Weekday::Sunday, night),
        )
        .unwrap();
        vec![admin(), split_shift, paris]
    }

    fn calendars() -> impl Strategy<Value = BusinessCalendar> {
        prop::sample::select(test_calendars())
    }

    #[test]
    fn working_spans_are_ordered_and_never_overlap() {
        for cal in test_calendars() {
            let mut previous_end = Timestamp::MIN;
            let mut day = date(2025, 1, 1);
            while day < date(2028, 1, 1) {
                for (start, end) in cal.working_spans(day) {
                    assert!(previous_end <= start && start < end, "{day} in {cal:?}");
                    previous_end = end;
                }
                day = day.tomorrow().unwrap();
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn elapsed_is_never_negative(cal in calendars(), a in around_2026(), b in around_2026()) {
            let elapsed = cal.business_duration(a, b);
            prop_assert!(!elapsed.is_negative());
            if b <= a {
                prop_assert_eq!(elapsed, SignedDuration::ZERO);
            } else {
                prop_assert!(elapsed <= b.duration_since(a));
            }
        }

        #[test]
        fn adding_then_measuring_gives_the_duration_back(
            cal in calendars(),
            start in around_2026(),
            secs in 0i64..400 * 3600,
        ) {
            let duration = SignedDuration::from_secs(secs);
            let due = cal.add_business(start, duration).unwrap();
            prop_assert!(due >= start);
            prop_assert_eq!(cal.business_duration(start, due), duration);
            // And it is the earliest such instant.
            if secs > 0 {
                let just_before = due - SignedDuration::from_nanos(1);
                prop_assert!(cal.business_duration(start, just_before) < duration);
            }
        }

        #[test]
        fn elapsed_is_monotonic_and_additive(
            cal in calendars(),
            a in around_2026(),
            steps in (0i64..30 * 86_400, 0i64..30 * 86_400),
        ) {
            let b = a + SignedDuration::from_secs(steps.0);
            let c = b + SignedDuration::from_secs(steps.1);
            let (ab, bc, ac) = (
                cal.business_duration(a, b),
                cal.business_duration(b, c),
                cal.business_duration(a, c),
            );
            prop_assert!(ac >= ab);
            prop_assert_eq!(ab + bc, ac);
        }
    }
}
