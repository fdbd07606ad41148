//! What a public record (Open311 `requests`, `nearby`) may say about one report.
//!
//! Services are listed record by record only when they are not sensitive; a sensitive
//! service is published as aggregates only (see [`super::protect`]). A listed record has
//! its point snapped to the centre of a grid square (default 100 m), its times to the hour,
//! its distance from a searched point rounded to 50 m from the snapped point (so a sweep of
//! searches learns nothing finer than the grid), and its description only once staff
//! approved it or the automatic [`screen`](super::screen) found no personal data in it.

use crate::{FieldError, GeoPoint, Service};
use time::OffsetDateTime;

/// Metres per degree of latitude (WGS84 mean).
const METRES_PER_DEGREE: f64 = 111_320.0;

/// A jurisdiction's record policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecordPolicy {
    grid_m: f64,
}

impl Default for RecordPolicy {
    fn default() -> Self {
        Self { grid_m: 100.0 }
    }
}

impl RecordPolicy {
    /// A grid of `grid_m` metres, from 50 m to 2 km.
    pub fn new(grid_m: f64) -> Result<Self, FieldError> {
        if !(50.0..=2_000.0).contains(&grid_m) {
            return Err(FieldError::new("grid_m", "must be from 50 to 2000 metres"));
        }
        Ok(Self { grid_m })
    }

    pub fn grid_m(&self) -> f64 {
        self.grid_m
    }

    /// Whether the service's reports may be listed one by one.
    pub fn lists(&self, service: &Service) -> bool {
        !service.sensitive
    }

    /// The centre of the grid square holding `point`: squares of `grid_m` of latitude,
    /// and of longitude measured at the centre of their band, so the grid is fixed.
    pub fn snap(&self, point: &GeoPoint) -> GeoPoint {
        let dlat = self.grid_m / METRES_PER_DEGREE;
        let lat = ((point.lat() / dlat).floor() + 0.5) * dlat;
        let dlon = self.grid_m / (METRES_PER_DEGREE * lat.to_radians().cos().max(0.01));
        let lon = ((point.lon() / dlon).floor() + 0.5) * dlon;
        let round = |x: f64| (x * 1e6).round() / 1e6;
        GeoPoint::parse(
            round(lat).clamp(-90.0, 90.0),
            round(lon).clamp(-180.0, 180.0),
        )
        .unwrap_or(*point)
    }

    /// Whether `point` is a grid centre (what every public point must be).
    pub fn is_snapped(&self, point: &GeoPoint) -> bool {
        let again = self.snap(point);
        (again.lat() - point.lat()).abs() < 1e-6 && (again.lon() - point.lon()).abs() < 1e-6
    }

    /// A distance as published: from the snapped point, rounded to 50 m, at least 50 m.
    pub fn rounded_distance_m(&self, from: &GeoPoint, report: &GeoPoint) -> u32 {
        let d = from.distance_m(&self.snap(report));
        ((d / 50.0).round() * 50.0).max(50.0) as u32
    }

    /// The description as published: `None` when hidden by staff, or not approved by staff
    /// and flagged by the screen.
    pub fn public_description<'a>(
        &self,
        text: &'a str,
        hidden: bool,
        approved: bool,
    ) -> Option<&'a str> {
        if hidden || text.trim().is_empty() {
            return None;
        }
        (approved || super::screen::is_clean(text)).then_some(text)
    }
}

/// A time as published: the start of its hour.
pub fn to_the_hour(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_minute(0)
        .and_then(|t| t.replace_second(0))
        .and_then(|t| t.replace_nanosecond(0))
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_snap_to_fixed_grid_centres() {
        let policy = RecordPolicy::default();
        let a = GeoPoint::parse(35.578_51, -5.368_42).unwrap();
        let snapped = policy.snap(&a);
        // Another point 10 m from the centre falls in the same square.
        let b = GeoPoint::parse(snapped.lat() + 0.000_09, snapped.lon() - 0.000_09).unwrap();
        assert_eq!(snapped, policy.snap(&b));
        assert!(policy.is_snapped(&snapped));
        assert!(!policy.is_snapped(&a));
        assert!(a.distance_m(&snapped) <= 100.0 * std::f64::consts::SQRT_2 / 2.0 + 1.0);
        // The published distance is a multiple of 50 m.
        assert_eq!(policy.rounded_distance_m(&a, &b) % 50, 0);
    }

    #[test]
    fn descriptions_need_approval_or_a_clean_screen() {
        let p = RecordPolicy::default();
        assert_eq!(
            p.public_description("Lampe éteinte", false, false),
            Some("Lampe éteinte")
        );
        assert_eq!(p.public_description("Lampe éteinte", true, true), None);
        assert_eq!(
            p.public_description("appelez 0612345678", false, false),
            None
        );
        assert_eq!(
            p.public_description("appelez 0612345678", false, true),
            Some("appelez 0612345678")
        );
    }

    #[test]
    fn times_are_cut_to_the_hour() {
        let at = time::macros::datetime!(2026-04-07 10:42:13.5 UTC);
        assert_eq!(
            to_the_hour(at),
            time::macros::datetime!(2026-04-07 10:00 UTC)
        );
    }
}
