//! Quiet hours: pushes that fall inside them wait until they end, in the device's local time.

use crate::FieldError;
use jiff::Timestamp;
use jiff::civil::Time;
use jiff::tz::TimeZone;

/// A daily window in local time, e.g. 22:00–07:00 (it may wrap past midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    start: Time,
    end: Time,
}

impl QuietHours {
    /// From `HH:MM` strings; start and end must differ.
    pub fn parse(start: &str, end: &str) -> Result<Self, FieldError> {
        let start = parse_hhmm(start).ok_or_else(|| {
            FieldError::new("quiet_hours.start", "must be a time of day as HH:MM")
        })?;
        let end = parse_hhmm(end)
            .ok_or_else(|| FieldError::new("quiet_hours.end", "must be a time of day as HH:MM"))?;
        if start == end {
            return Err(FieldError::new(
                "quiet_hours",
                "start and end must differ (leave quiet hours out to have none)",
            ));
        }
        Ok(Self { start, end })
    }

    /// Minutes after midnight, as stored.
    pub fn from_minutes(start: u16, end: u16) -> Option<Self> {
        let time = |m: u16| Time::new((m / 60) as i8, (m % 60) as i8, 0, 0).ok();
        let (start, end) = (time(start)?, time(end)?);
        (start != end).then_some(Self { start, end })
    }

    pub fn start_minutes(&self) -> u16 {
        minutes(self.start)
    }

    pub fn end_minutes(&self) -> u16 {
        minutes(self.end)
    }

    pub fn start(&self) -> String {
        self.start.strftime("%H:%M").to_string()
    }

    pub fn end(&self) -> String {
        self.end.strftime("%H:%M").to_string()
    }

    /// When a push due at `now` may be sent: `None` if now is outside the quiet hours,
    /// otherwise the next local end of the window.
    pub fn resume_at(&self, now: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
        let local = now.to_zoned(zone.clone());
        let time = local.time();
        let inside = if self.start < self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        };
        if !inside {
            return None;
        }
        let mut date = local.date();
        if time >= self.end {
            date = date.tomorrow().ok()?;
        }
        // A gap at the end time (a clock change) resolves to the later instant.
        date.to_datetime(self.end)
            .to_zoned(zone.clone())
            .ok()
            .map(|z| z.timestamp())
    }
}

fn parse_hhmm(raw: &str) -> Option<Time> {
    let (h, m) = raw.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

fn minutes(t: Time) -> u16 {
    t.hour() as u16 * 60 + t.minute() as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn casablanca() -> TimeZone {
        TimeZone::get("Africa/Casablanca").unwrap()
    }

    fn at(rfc3339: &str) -> Timestamp {
        rfc3339.parse().unwrap()
    }

    #[test]
    fn a_window_past_midnight_defers_to_its_end() {
        let quiet = QuietHours::parse("22:00", "07:00").unwrap();
        let zone = casablanca();
        // Since 2026-09-20 Morocco keeps UTC+0 all year.
        assert_eq!(quiet.resume_at(at("2026-11-22T12:00:00Z"), &zone), None);
        assert_eq!(
            quiet.resume_at(at("2026-11-22T23:30:00Z"), &zone),
            Some(at("2026-11-23T07:00:00Z"))
        );
        assert_eq!(
            quiet.resume_at(at("2026-11-23T03:00:00Z"), &zone),
            Some(at("2026-11-23T07:00:00Z"))
        );
        assert_eq!(quiet.resume_at(at("2026-11-23T07:00:00Z"), &zone), None);
    }

    #[test]
    fn the_local_offset_comes_from_the_time_zone_database() {
        let quiet = QuietHours::parse("13:00", "15:00").unwrap();
        let zone = casablanca();
        // Ramadan 2026 (UTC+0): 13:30 local is 13:30 UTC.
        assert_eq!(
            quiet.resume_at(at("2026-03-01T13:30:00Z"), &zone),
            Some(at("2026-03-01T15:00:00Z"))
        );
        // June 2026 (UTC+1): 12:30 UTC is 13:30 local; the window ends at 14:00 UTC.
        assert_eq!(
            quiet.resume_at(at("2026-06-01T12:30:00Z"), &zone),
            Some(at("2026-06-01T14:00:00Z"))
        );
        assert_eq!(quiet.resume_at(at("2026-06-01T14:30:00Z"), &zone), None);
    }

    #[test]
    fn bad_times_are_refused_and_minutes_round_trip() {
        assert_eq!(
            QuietHours::parse("25:00", "07:00").unwrap_err().field,
            "quiet_hours.start"
        );
        assert_eq!(
            QuietHours::parse("22:00", "7").unwrap_err().field,
            "quiet_hours.end"
        );
        assert!(QuietHours::parse("22:00", "22:00").is_err());
        let quiet = QuietHours::parse("22:15", "06:45").unwrap();
        assert_eq!(
            QuietHours::from_minutes(quiet.start_minutes(), quiet.end_minutes()),
            Some(quiet)
        );
        assert_eq!(
            (quiet.start(), quiet.end()),
            ("22:15".into(), "06:45".into())
        );
    }
}
