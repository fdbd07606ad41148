//! Holidays: Morocco's fixed-date ones and the announced religious ones.

use crate::FieldError;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

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

pub(super) fn morocco_fixed_holiday_on(date: Date) -> Option<&'static str> {
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
