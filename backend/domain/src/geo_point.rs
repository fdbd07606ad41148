//! A WGS84 position as a resident's phone reports it.

use crate::FieldError;
use h3o::{CellIndex, LatLng, Resolution};

/// Mean Earth radius used for great-circle distances (IUGG), in metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// The H3 resolution at which reports are indexed for "already reported nearby?" look-ups
/// (cells of about 0.1 km², edges of about 175 m).
pub const REPORT_CELL_RESOLUTION: Resolution = Resolution::Nine;

/// A point on Earth in WGS84 degrees: finite, latitude in [-90, 90], longitude in [-180, 180].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    lat: f64,
    lon: f64,
}

impl GeoPoint {
    pub fn parse(lat: f64, lon: f64) -> Result<Self, FieldError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(FieldError::new(
                "lat",
                "must be a number of degrees between -90 and 90",
            ));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(FieldError::new(
                "lon",
                "must be a number of degrees between -180 and 180",
            ));
        }
        Ok(Self { lat, lon })
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }

    pub fn lon(&self) -> f64 {
        self.lon
    }

    /// The point as `geo`'s (x = longitude, y = latitude).
    pub fn to_geo(&self) -> geo::Point<f64> {
        geo::Point::new(self.lon, self.lat)
    }

    /// Great-circle distance in metres (haversine).
    pub fn distance_m(&self, other: &GeoPoint) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }

    /// The H3 cell containing the point at `resolution`.
    pub fn cell(&self, resolution: Resolution) -> CellIndex {
        // A parsed point is always a valid coordinate, so this cannot fail.
        LatLng::new(self.lat, self.lon)
            .expect("GeoPoint holds valid coordinates")
            .to_cell(resolution)
    }

    /// The report-index cell, as the signed 64-bit integer stored in the database.
    pub fn report_cell(&self) -> i64 {
        cell_to_i64(self.cell(REPORT_CELL_RESOLUTION))
    }
}

/// H3 indexes use 63 bits, so they fit a signed 64-bit column unchanged.
pub fn cell_to_i64(cell: CellIndex) -> i64 {
    u64::from(cell) as i64
}

/// The horizontal accuracy the phone claims for a fix, in metres (0 < a ≤ 10 km).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accuracy(f64);

impl Accuracy {
    pub fn parse(metres: f64) -> Result<Self, FieldError> {
        if metres.is_finite() && metres > 0.0 && metres <= 10_000.0 {
            Ok(Self(metres))
        } else {
            Err(FieldError::new(
                "accuracy_m",
                "must be a number of metres greater than 0 and at most 10000",
            ))
        }
    }

    pub fn metres(&self) -> f64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_out_of_range_and_non_finite() {
        for (lat, lon, field) in [
            (90.1, 0.0, "lat"),
            (-90.1, 0.0, "lat"),
            (f64::NAN, 0.0, "lat"),
            (f64::INFINITY, 0.0, "lat"),
            (0.0, 180.5, "lon"),
            (0.0, f64::NEG_INFINITY, "lon"),
        ] {
            assert_eq!(GeoPoint::parse(lat, lon).unwrap_err().field, field);
        }
        assert!(GeoPoint::parse(90.0, -180.0).is_ok());
    }

    #[test]
    fn distance_matches_known_value() {
        // One degree of latitude on the mean sphere is 111.195 km.
        let a = GeoPoint::parse(0.0, 0.0).unwrap();
        let b = GeoPoint::parse(1.0, 0.0).unwrap();
        assert!(
            (a.distance_m(&b) - 111_195.08).abs() < 1.0,
            "{}",
            a.distance_m(&b)
        );
        let tetouan = GeoPoint::parse(35.5785, -5.3684).unwrap();
        assert_eq!(tetouan.distance_m(&tetouan), 0.0);
    }

    #[test]
    fn accuracy_bounds() {
        assert!(Accuracy::parse(0.0).is_err());
        assert!(Accuracy::parse(f64::NAN).is_err());
        assert!(Accuracy::parse(10_000.1).is_err());
        assert_eq!(Accuracy::parse(12.5).unwrap().metres(), 12.5);
    }
}
