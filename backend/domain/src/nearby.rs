//! "Is it already reported?": the cells to look in around a point, and the exact filter.

use crate::geo_point::{REPORT_CELL_RESOLUTION, cell_to_i64};
use crate::{FieldError, GeoPoint};
use h3o::LatLng;

/// The smallest H3 cells are well under the average size; this margin keeps the search
/// complete everywhere on Earth.
const SMALLEST_EDGE_FRACTION: f64 = 0.6;

/// A look-up of open reports within `radius_m` of `center`.
#[derive(Debug, Clone, PartialEq)]
pub struct NearbySearch {
    pub center: GeoPoint,
    pub radius_m: f64,
    /// Report-index cells that together cover the disc (a superset; filter by distance).
    pub cells: Vec<i64>,
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
                }
            }
        }
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
