//! What a jurisdiction publishes and when: thresholds, publication lag, optional
//! differential privacy.
//!
//! The lag keeps recent reports out of public figures (default 48 h): a report made this
//! morning in a quiet street would otherwise appear as a new "1" next to a neighbour's name
//! in everyone's mind, and the operator's first reaction is not yet in the figures. Only
//! whole local days that ended before `now − lag` are published
//! ([`PublicationPolicy::last_publishable_day`]); a week or month is published once its
//! last day is.

use super::privacy::DifferentialPrivacy;
use super::rollup::local_day;
use crate::FieldError;
use jiff::tz::TimeZone;
use time::{Date, Duration, OffsetDateTime};

/// A jurisdiction's publication rules. Build with [`PublicationPolicy::new`] or
/// [`Default`] (k = 5, 10 for sensitive services, 48 h lag, no differential privacy).
#[derive(Debug, Clone, PartialEq)]
pub struct PublicationPolicy {
    k_default: u64,
    k_sensitive: u64,
    lag: Duration,
    differential_privacy: Option<DifferentialPrivacy>,
}

impl Default for PublicationPolicy {
    fn default() -> Self {
        Self {
            k_default: 5,
            k_sensitive: 10,
            lag: Duration::hours(48),
            differential_privacy: None,
        }
    }
}

impl PublicationPolicy {
    /// The longest publication lag accepted.
    pub const MAX_LAG: Duration = Duration::days(90);

    /// `2 ≤ k_default ≤ k_sensitive ≤ 1000`, `0 ≤ lag ≤ 90 days`. (k = 1 would suppress
    /// nothing: the domain does not allow turning anonymisation off.)
    pub fn new(
        k_default: u64,
        k_sensitive: u64,
        lag: Duration,
        differential_privacy: Option<DifferentialPrivacy>,
    ) -> Result<Self, FieldError> {
        if !(2..=1000).contains(&k_default) {
            return Err(FieldError::new("k_default", "must be from 2 to 1000"));
        }
        if !(k_default..=1000).contains(&k_sensitive) {
            return Err(FieldError::new(
                "k_sensitive",
                "must be at least k_default and at most 1000",
            ));
        }
        if lag.is_negative() || lag > Self::MAX_LAG {
            return Err(FieldError::new("lag", "must be from 0 to 90 days"));
        }
        Ok(Self {
            k_default,
            k_sensitive,
            lag,
            differential_privacy,
        })
    }

    pub fn k_default(&self) -> u64 {
        self.k_default
    }

    pub fn k_sensitive(&self) -> u64 {
        self.k_sensitive
    }

    /// The threshold for a service.
    pub fn k(&self, sensitive: bool) -> u64 {
        if sensitive {
            self.k_sensitive
        } else {
            self.k_default
        }
    }

    pub fn lag(&self) -> Duration {
        self.lag
    }

    pub fn differential_privacy(&self) -> Option<&DifferentialPrivacy> {
        self.differential_privacy.as_ref()
    }

    /// Reports made after this instant are not published yet.
    pub fn cutoff(&self, now: OffsetDateTime) -> OffsetDateTime {
        now - self.lag
    }

    /// The last local day that ended before the cutoff: every day up to it may be
    /// published.
    pub fn last_publishable_day(&self, now: OffsetDateTime, tz: &TimeZone) -> Date {
        let day = local_day(self.cutoff(now), tz);
        day.previous_day().unwrap_or(day)
    }

    /// Whether a period ending on `last_day` (inclusive, local) may be published at `now`.
    pub fn may_publish(&self, last_day: Date, now: OffsetDateTime, tz: &TimeZone) -> bool {
        last_day <= self.last_publishable_day(now, tz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn defaults_follow_the_issue() {
        let p = PublicationPolicy::default();
        assert_eq!((p.k(false), p.k(true)), (5, 10));
        assert_eq!(p.lag(), Duration::hours(48));
        assert!(p.differential_privacy().is_none());
        assert_eq!(
            PublicationPolicy::new(5, 10, Duration::hours(48), None).unwrap(),
            p
        );
    }

    #[test]
    fn bad_policies_are_refused() {
        let h = Duration::hours;
        assert_eq!(
            PublicationPolicy::new(1, 10, h(48), None)
                .unwrap_err()
                .field,
            "k_default"
        );
        assert_eq!(
            PublicationPolicy::new(5, 4, h(48), None).unwrap_err().field,
            "k_sensitive"
        );
        assert_eq!(
            PublicationPolicy::new(5, 10, h(-1), None)
                .unwrap_err()
                .field,
            "lag"
        );
        assert_eq!(
            PublicationPolicy::new(5, 10, Duration::days(91), None)
                .unwrap_err()
                .field,
            "lag"
        );
        assert!(PublicationPolicy::new(5, 5, Duration::ZERO, None).is_ok());
    }

    #[test]
    fn the_lag_holds_back_recent_days() {
        let p = PublicationPolicy::default();
        let tz = TimeZone::get("Africa/Casablanca").unwrap();
        // Friday 10 April 2026, 09:00 UTC (10:00 local): cutoff Wednesday 8 April 10:00
        // local, so Tuesday 7 April is the last whole day.
        let now = datetime!(2026-04-10 09:00 UTC);
        assert_eq!(p.cutoff(now), datetime!(2026-04-08 09:00 UTC));
        assert_eq!(p.last_publishable_day(now, &tz), date!(2026 - 04 - 07));
        assert!(p.may_publish(date!(2026 - 04 - 07), now, &tz));
        assert!(!p.may_publish(date!(2026 - 04 - 08), now, &tz));
        // At 23:30 UTC on 9 April the local date of the cutoff is already 8 April.
        let late = datetime!(2026-04-09 23:30 UTC);
        assert_eq!(p.last_publishable_day(late, &tz), date!(2026 - 04 - 07));
        assert_eq!(
            p.last_publishable_day(late, &TimeZone::UTC),
            date!(2026 - 04 - 06)
        );
    }
}
