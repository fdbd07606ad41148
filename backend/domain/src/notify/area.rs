//! Where a resident wants to hear about (areas of interest) and where a notice applies.

use crate::{FieldError, GeoPoint};
use geo::{Closest, ClosestPoint, Contains, Coord, MultiPolygon, Point};

/// A device may follow at most this many places (home, work, school).
pub const MAX_AREAS_OF_INTEREST: usize = 3;
/// Metres per degree of latitude (mean Earth radius).
const METRES_PER_DEGREE: f64 = 111_195.08;

/// A point and a radius a resident wants notices about.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AreaOfInterest {
    pub centre: GeoPoint,
    radius_m: f64,
}

impl AreaOfInterest {
    pub const MIN_RADIUS_M: f64 = 50.0;
    pub const MAX_RADIUS_M: f64 = 20_000.0;

    pub fn parse(lat: f64, lon: f64, radius_m: f64) -> Result<Self, FieldError> {
        let centre = GeoPoint::parse(lat, lon)?;
        if !radius_m.is_finite() || !(Self::MIN_RADIUS_M..=Self::MAX_RADIUS_M).contains(&radius_m) {
            return Err(FieldError::new(
                "radius_m",
                format!(
                    "must be between {} and {} metres",
                    Self::MIN_RADIUS_M,
                    Self::MAX_RADIUS_M
                ),
            ));
        }
        Ok(Self { centre, radius_m })
    }

    pub fn radius_m(&self) -> f64 {
        self.radius_m
    }

    /// Up to [`MAX_AREAS_OF_INTEREST`] areas, each error naming its position (`areas[1].lat`).
    pub fn parse_list(areas: &[(f64, f64, f64)]) -> Result<Vec<Self>, FieldError> {
        if areas.len() > MAX_AREAS_OF_INTEREST {
            return Err(FieldError::new(
                "areas",
                format!("at most {MAX_AREAS_OF_INTEREST} areas of interest"),
            ));
        }
        areas
            .iter()
            .enumerate()
            .map(|(i, &(lat, lon, radius))| {
                Self::parse(lat, lon, radius).map_err(|e| e.within(&format!("areas[{i}]")))
            })
            .collect()
    }

    /// The bounding box (min lat, max lat, min lon, max lon), for a first cut in SQL.
    pub fn bbox(&self) -> BoundingBox {
        BoundingBox::around(self.centre, self.radius_m)
    }
}

/// A latitude/longitude box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lon: f64,
    pub max_lon: f64,
}

impl BoundingBox {
    fn around(centre: GeoPoint, radius_m: f64) -> Self {
        let dlat = radius_m / METRES_PER_DEGREE;
        let dlon = radius_m / (METRES_PER_DEGREE * centre.lat().to_radians().cos().max(0.01));
        Self {
            min_lat: (centre.lat() - dlat).max(-90.0),
            max_lat: (centre.lat() + dlat).min(90.0),
            min_lon: (centre.lon() - dlon).max(-180.0),
            max_lon: (centre.lon() + dlon).min(180.0),
        }
    }

    /// Grown by `metres` on every side.
    pub fn grown(&self, metres: f64) -> Self {
        let mid = (self.min_lat + self.max_lat) / 2.0;
        let dlat = metres / METRES_PER_DEGREE;
        let dlon = metres / (METRES_PER_DEGREE * mid.to_radians().cos().max(0.01));
        Self {
            min_lat: (self.min_lat - dlat).max(-90.0),
            max_lat: (self.max_lat + dlat).min(90.0),
            min_lon: (self.min_lon - dlon).max(-180.0),
            max_lon: (self.max_lon + dlon).min(180.0),
        }
    }
}

/// Where a notice applies: a drawn area, or a point and a radius.
#[derive(Debug, Clone, PartialEq)]
pub enum NoticeArea {
    Polygon(MultiPolygon<f64>),
    Circle { centre: GeoPoint, radius_m: f64 },
}

impl NoticeArea {
    /// A Polygon or MultiPolygon, or a Point with `radius_m` (10 m to 50 km).
    pub fn parse(geometry: &geojson::Geometry, radius_m: Option<f64>) -> Result<Self, FieldError> {
        match &geometry.value {
            geojson::GeometryValue::Point { coordinates } => {
                let (lon, lat) = match coordinates.as_slice() {
                    [lon, lat, ..] => (*lon, *lat),
                    _ => {
                        return Err(FieldError::new(
                            "area",
                            "a point needs a longitude and a latitude",
                        ));
                    }
                };
                let centre = GeoPoint::parse(lat, lon).map_err(|e| e.within("area"))?;
                let radius_m = radius_m.ok_or_else(|| {
                    FieldError::new("radius_m", "is required when the area is a point")
                })?;
                if !radius_m.is_finite() || !(10.0..=50_000.0).contains(&radius_m) {
                    return Err(FieldError::new(
                        "radius_m",
                        "must be between 10 and 50000 metres",
                    ));
                }
                Ok(Self::Circle { centre, radius_m })
            }
            _ => {
                if radius_m.is_some() {
                    return Err(FieldError::new(
                        "radius_m",
                        "applies only when the area is a point",
                    ));
                }
                crate::zones::parse_area(geometry)
                    .map(Self::Polygon)
                    .map_err(|e| FieldError::new("area", e.message))
            }
        }
    }

    /// As stored and shown: the GeoJSON geometry and the radius of a circle.
    pub fn to_geojson(&self) -> (geojson::Geometry, Option<f64>) {
        match self {
            Self::Polygon(area) => (crate::zones::area_to_geojson(area), None),
            Self::Circle { centre, radius_m } => (
                geojson::Geometry::new(geojson::GeometryValue::new_point([
                    centre.lon(),
                    centre.lat(),
                ])),
                Some(*radius_m),
            ),
        }
    }

    pub fn bbox(&self) -> BoundingBox {
        match self {
            Self::Circle { centre, radius_m } => BoundingBox::around(*centre, *radius_m),
            Self::Polygon(area) => {
                let mut b = BoundingBox {
                    min_lat: f64::INFINITY,
                    max_lat: f64::NEG_INFINITY,
                    min_lon: f64::INFINITY,
                    max_lon: f64::NEG_INFINITY,
                };
                for polygon in &area.0 {
                    for c in polygon.exterior().coords() {
                        b.min_lat = b.min_lat.min(c.y);
                        b.max_lat = b.max_lat.max(c.y);
                        b.min_lon = b.min_lon.min(c.x);
                        b.max_lon = b.max_lon.max(c.x);
                    }
                }
                b
            }
        }
    }

    /// Distance in metres from the area to a point (0 inside).
    ///
    /// Measured on a local equirectangular projection: exact enough at city scale (well under
    /// a metre per kilometre), and a closest-point search in projected space stays correct
    /// where degrees of longitude are shorter than degrees of latitude.
    pub fn distance_m(&self, point: &GeoPoint) -> f64 {
        match self {
            Self::Circle { centre, radius_m } => (centre.distance_m(point) - radius_m).max(0.0),
            Self::Polygon(area) => {
                if area.contains(&point.to_geo()) {
                    return 0.0;
                }
                let scale = point.lat().to_radians().cos();
                let project = |c: Coord<f64>| Coord {
                    x: c.x * scale,
                    y: c.y,
                };
                let projected = MultiPolygon(
                    area.0
                        .iter()
                        .map(|p| {
                            geo::Polygon::new(
                                p.exterior().coords().copied().map(project).collect(),
                                p.interiors()
                                    .iter()
                                    .map(|r| r.coords().copied().map(project).collect())
                                    .collect(),
                            )
                        })
                        .collect(),
                );
                let target = Point::new(point.lon() * scale, point.lat());
                match projected.closest_point(&target) {
                    Closest::Intersection(_) => 0.0,
                    Closest::SinglePoint(p) => {
                        let (dx, dy) = (p.x() - target.x(), p.y() - target.y());
                        (dx * dx + dy * dy).sqrt() * METRES_PER_DEGREE
                    }
                    Closest::Indeterminate => f64::INFINITY,
                }
            }
        }
    }

    /// Whether a resident's area of interest touches this area.
    pub fn reaches(&self, interest: &AreaOfInterest) -> bool {
        self.distance_m(&interest.centre) <= interest.radius_m()
    }

    /// The area as polygons; a circle as the 64-gon drawn around it (a little larger than
    /// the circle, never smaller, so containment checks err on the side of refusing).
    pub fn to_polygons(&self) -> MultiPolygon<f64> {
        match self {
            Self::Polygon(area) => area.clone(),
            Self::Circle { centre, radius_m } => {
                const SIDES: usize = 64;
                let outer = radius_m / (std::f64::consts::PI / SIDES as f64).cos();
                let dlat = outer / METRES_PER_DEGREE;
                let dlon = outer / (METRES_PER_DEGREE * centre.lat().to_radians().cos().max(0.01));
                let ring: Vec<Coord<f64>> = (0..=SIDES)
                    .map(|i| {
                        let angle = std::f64::consts::TAU * (i % SIDES) as f64 / SIDES as f64;
                        Coord {
                            x: centre.lon() + dlon * angle.cos(),
                            y: centre.lat() + dlat * angle.sin(),
                        }
                    })
                    .collect();
                MultiPolygon(vec![geo::Polygon::new(ring.into(), vec![])])
            }
        }
    }

    /// Whether the area reaches into `region` (a commune's boundary): shares any ground with it.
    pub fn touches(&self, region: &MultiPolygon<f64>) -> bool {
        use geo::Intersects;
        self.to_polygons().intersects(region)
    }

    /// Whether the whole area lies within the union of `zones` (an operator's contract
    /// zones): what is left of it outside them must be nothing but rounding.
    pub fn lies_within<'a>(&self, zones: impl IntoIterator<Item = &'a MultiPolygon<f64>>) -> bool {
        use geo::{Area, BooleanOps};
        let union = zones
            .into_iter()
            .fold(MultiPolygon::<f64>(vec![]), |union, zone| union.union(zone));
        let area = self.to_polygons();
        let outside = area.difference(&union).unsigned_area();
        outside <= area.unsigned_area() * 1e-9
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rectangle(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64) -> MultiPolygon<f64> {
        let ring = vec![
            Coord {
                x: min_lon,
                y: min_lat,
            },
            Coord {
                x: max_lon,
                y: min_lat,
            },
            Coord {
                x: max_lon,
                y: max_lat,
            },
            Coord {
                x: min_lon,
                y: max_lat,
            },
            Coord {
                x: min_lon,
                y: min_lat,
            },
        ];
        MultiPolygon(vec![geo::Polygon::new(ring.into(), vec![])])
    }

    #[test]
    fn an_area_lies_within_the_union_of_zones_or_not() {
        let west = rectangle(-5.44, 35.53, -5.37, 35.63);
        let east = rectangle(-5.37, 35.53, -5.30, 35.63);
        let circle = |lat: f64, lon: f64, radius_m: f64| NoticeArea::Circle {
            centre: GeoPoint::parse(lat, lon).unwrap(),
            radius_m,
        };
        assert!(circle(35.575, -5.40, 400.0).lies_within([&west]));
        assert!(!circle(35.5785, -5.34, 400.0).lies_within([&west]));
        // Straddling the border: inside the union only.
        let straddling = circle(35.575, -5.37, 500.0);
        assert!(!straddling.lies_within([&west]));
        assert!(straddling.lies_within([&west, &east]));
        assert!(!straddling.lies_within(std::iter::empty()));
        let drawn = NoticeArea::Polygon(rectangle(-5.42, 35.55, -5.38, 35.60));
        assert!(drawn.lies_within([&east, &west]));
        assert!(!drawn.lies_within([&east]));
    }

    fn geometry(value: serde_json::Value) -> geojson::Geometry {
        serde_json::from_value(value).unwrap()
    }

    /// About 1.1 km × 0.9 km around Tétouan's centre.
    fn square() -> NoticeArea {
        NoticeArea::parse(
            &geometry(json!({"type": "Polygon", "coordinates": [[
                [-5.375, 35.575], [-5.365, 35.575], [-5.365, 35.585], [-5.375, 35.585], [-5.375, 35.575]
            ]]})),
            None,
        )
        .unwrap()
    }

    #[test]
    fn polygon_distance_is_zero_inside_and_metric_outside() {
        let area = square();
        assert_eq!(
            area.distance_m(&GeoPoint::parse(35.58, -5.37).unwrap()),
            0.0
        );
        // 0.01° of latitude north of the top edge is about 1112 m.
        let north = GeoPoint::parse(35.595, -5.37).unwrap();
        let d = area.distance_m(&north);
        assert!((d - 1111.95).abs() < 2.0, "{d}");
        // 0.005° of longitude east of the east edge at 35.58° N is about 452 m, not 556 m.
        let east = GeoPoint::parse(35.58, -5.36).unwrap();
        let d = area.distance_m(&east);
        assert!((d - 452.0).abs() < 3.0, "{d}");
    }

    #[test]
    fn an_area_of_interest_is_reached_when_its_circle_touches() {
        let area = square();
        let east = |radius| AreaOfInterest::parse(35.58, -5.36, radius).unwrap();
        assert!(area.reaches(&east(500.0)));
        assert!(!area.reaches(&east(400.0)));
        let circle = NoticeArea::parse(
            &geometry(json!({"type": "Point", "coordinates": [-5.3684, 35.5785]})),
            Some(300.0),
        )
        .unwrap();
        let near = AreaOfInterest::parse(35.5785, -5.3600, 500.0).unwrap(); // ≈ 760 m away
        assert!(circle.reaches(&near));
        let far = AreaOfInterest::parse(35.5785, -5.3500, 500.0).unwrap(); // ≈ 1670 m away
        assert!(!circle.reaches(&far));
    }

    #[test]
    fn bad_areas_say_what_is_wrong() {
        let point = geometry(json!({"type": "Point", "coordinates": [-5.3684, 35.5785]}));
        assert_eq!(
            NoticeArea::parse(&point, None).unwrap_err().field,
            "radius_m"
        );
        assert_eq!(
            NoticeArea::parse(&point, Some(0.5)).unwrap_err().field,
            "radius_m"
        );
        let line = geometry(json!({"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 1.0]]}));
        assert_eq!(NoticeArea::parse(&line, None).unwrap_err().field, "area");
        assert!(NoticeArea::parse(&square().to_geojson().0, Some(10.0)).is_err());
        let too_many = [(35.0, -5.0, 100.0); 4];
        assert_eq!(
            AreaOfInterest::parse_list(&too_many).unwrap_err().field,
            "areas"
        );
        let bad_radius = [(35.0, -5.0, 100.0), (35.0, -5.0, 10.0)];
        assert_eq!(
            AreaOfInterest::parse_list(&bad_radius).unwrap_err().field,
            "areas[1].radius_m"
        );
    }

    #[test]
    fn bounding_boxes_contain_their_areas() {
        let interest = AreaOfInterest::parse(35.58, -5.37, 1000.0).unwrap();
        let b = interest.bbox();
        assert!(b.min_lat < 35.5711 && b.max_lat > 35.5889);
        assert!(b.min_lon < -5.381 && b.max_lon > -5.359);
        let s = square().bbox();
        assert_eq!(
            (s.min_lat, s.max_lat, s.min_lon, s.max_lon),
            (35.575, 35.585, -5.375, -5.365)
        );
        let g = s.grown(1112.0);
        assert!((g.max_lat - 35.595).abs() < 1e-4);
    }
}
