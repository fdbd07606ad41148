//! "Is it already reported?": the cells to look in around a point, and the exact filter.

use crate::geo_point::{REPORT_CELL_RESOLUTION, cell_to_i64};
use crate::{FieldError, GeoPoint};
use h3o::LatLng;

/// The smallest H3 cells are well under the average size; this margin keeps the search
/// complete everywhere on Earth.
const SMALLEST_EDGE_FRACTION: f64 = 0.6;

/// A box of latitudes and longitudes (degrees), edges included.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLonBox {
    pub south: f64,
    pub north: f64,
    pub west: f64,
    pub east: f64,
}

impl LatLonBox {
    /// A box holding every point within `radius_m` of `center`, a little wider than the
    /// disc (1 % and a metre) so that no rounding of the exact distance can fall outside it.
    /// Near a pole or across the antimeridian it spans every longitude.
    pub fn around(center: &GeoPoint, radius_m: f64) -> Self {
        // Metres per degree of latitude on the mean Earth radius (6,371,008.8 m).
        const METRES_PER_DEGREE: f64 = 111_195.08;
        let dlat = (radius_m * 1.01 + 1.0) / METRES_PER_DEGREE;
        let south = (center.lat() - dlat).max(-90.0);
        let north = (center.lat() + dlat).min(90.0);
        let widest = south.abs().max(north.abs());
        let everywhere = Self {
            south,
            north,
            west: -180.0,
            east: 180.0,
        };
        if widest >= 89.0 {
            return everywhere;
        }
        let dlon = dlat / widest.to_radians().cos();
        let (west, east) = (center.lon() - dlon, center.lon() + dlon);
        if west < -180.0 || east > 180.0 {
            return everywhere;
        }
        Self {
            south,
            north,
            west,
            east,
        }
    }

    pub fn contains(&self, point: &GeoPoint) -> bool {
        (self.south..=self.north).contains(&point.lat())
            && (self.west..=self.east).contains(&point.lon())
    }
}

/// A look-up of open reports within `radius_m` of `center`.
#[derive(Debug, Clone, PartialEq)]
pub struct NearbySearch {
    pub center: GeoPoint,
    pub radius_m: f64,
    /// Report-index cells that together cover the disc (a superset; filter by distance).
    pub cells: Vec<i64>,
    /// The disc's bounding box: the database skips the cells' reports outside it from the
    /// index alone, before reading their rows.
    pub bounds: LatLonBox,
}

impl NearbySearch {
    pub const MAX_RADIUS_M: f64 = 2_000.0;

    pub fn new(center: GeoPoint, radius_m: f64) -> Result<Self, FieldError> {
        if !radius_m.is_finite() || radius_m <= 0.0 || radius_m > Self::MAX_RADIUS_M {
            return Err(FieldError::new(
                "radius_m",
                "must be greater than 0 and at most 2000 metres",
            ));
        }
        // A point within `r` of the centre lies in a cell whose centre is within r + 2e of the
        // centre cell's centre; hexagon rings grow by at least 1.5 e per step.
        let edge = REPORT_CELL_RESOLUTION.edge_length_m() * SMALLEST_EDGE_FRACTION;
        let k = ((radius_m + 2.0 * edge) / (1.5 * edge)).ceil() as u32;
        // Keep only cells that can hold a point of the disc: their centre is within the radius
        // plus their own circumradius. This prunes the ring to a few cells.
        let origin = LatLng::new(center.lat(), center.lon()).expect("valid point");
        let cells = center
            .cell(REPORT_CELL_RESOLUTION)
            .grid_disk::<Vec<_>>(k)
            .into_iter()
            .filter(|cell| {
                let centre = LatLng::from(*cell);
                let circumradius = cell
                    .boundary()
                    .iter()
                    .map(|vertex| centre.distance_m(*vertex))
                    .fold(0.0, f64::max);
                origin.distance_m(centre) <= radius_m + circumradius
            })
            .map(cell_to_i64)
            .collect();
        Ok(Self {
            center,
            radius_m,
            cells,
            bounds: LatLonBox::around(&center, radius_m),
        })
    }

    /// The exact test applied to candidates from the cells.
    pub fn distance_if_within(&self, point: &GeoPoint) -> Option<f64> {
        let d = self.center.distance_m(point);
        (d <= self.radius_m).then_some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn cells_cover_every_point_within_the_radius() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let center = GeoPoint::parse(
                rng.random_range(-70.0..70.0),
                rng.random_range(-179.0..179.0),
            )
            .unwrap();
            let search = NearbySearch::new(center, 250.0).unwrap();
            for _ in 0..50 {
                // A random point within 250 m (small-offset approximation, then checked exactly).
                let bearing: f64 = rng.random_range(0.0..std::f64::consts::TAU);
                let dist: f64 = rng.random_range(0.0..250.0);
                let dlat = dist * bearing.cos() / 111_320.0;
                let dlon = dist * bearing.sin() / (111_320.0 * center.lat().to_radians().cos());
                let p = GeoPoint::parse(center.lat() + dlat, center.lon() + dlon).unwrap();
                if center.distance_m(&p) <= 250.0 {
                    assert!(search.cells.contains(&p.report_cell()), "{center:?} {p:?}");
                    assert!(search.bounds.contains(&p), "{center:?} {p:?}");
                }
            }
        }
    }

    #[test]
    fn the_box_is_tight_and_wraps_where_it_must() {
        let c = GeoPoint::parse(35.5785, -5.3684).unwrap();
        let b = LatLonBox::around(&c, 250.0);
        // About 2.3 m of margin on 250 m: the box is the disc's square, not a cell ring.
        let north = GeoPoint::parse(b.north, c.lon()).unwrap();
        let east = GeoPoint::parse(c.lat(), b.east).unwrap();
        for edge in [north, east] {
            let d = c.distance_m(&edge);
            assert!((250.0..256.0).contains(&d), "{d}");
        }
        let pole = LatLonBox::around(&GeoPoint::parse(89.999, 10.0).unwrap(), 2_000.0);
        assert_eq!((pole.west, pole.east, pole.north), (-180.0, 180.0, 90.0));
        let date_line = LatLonBox::around(&GeoPoint::parse(-17.0, 179.999).unwrap(), 500.0);
        assert_eq!((date_line.west, date_line.east), (-180.0, 180.0));
    }

    #[test]
    fn radius_bounds() {
        let c = GeoPoint::parse(35.5785, -5.3684).unwrap();
        assert!(NearbySearch::new(c, 0.0).is_err());
        assert!(NearbySearch::new(c, 2_001.0).is_err());
        let cells = NearbySearch::new(c, 250.0).unwrap().cells.len();
        assert!((3..=12).contains(&cells), "{cells}");
    }
}
