//! Contract zones and boundaries as GeoJSON features, checked before they are stored.

use crate::{FieldError, ServiceGroup, Slug};
use geo::{Area, MultiPolygon, Polygon};
use geojson::{Feature, Geometry, GeometryValue};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One contract zone read from a GeoJSON feature.
///
/// Properties: `contract` (reference), `operator` (slug), `operator_name`, `service_group`
/// (`waste` | `lighting` | `transport`), `zone` (name), `valid_from` and optional
/// `valid_until` (RFC 3339). Geometry: Polygon or MultiPolygon in WGS84.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneFeature {
    pub contract_reference: String,
    pub operator: Slug,
    pub operator_name: String,
    pub group: ServiceGroup,
    pub zone_name: String,
    pub valid_from: OffsetDateTime,
    pub valid_until: Option<OffsetDateTime>,
    pub zone: MultiPolygon<f64>,
}

fn property<'a>(feature: &'a Feature, key: &str) -> Option<&'a serde_json::Value> {
    feature
        .properties
        .as_ref()?
        .get(key)
        .filter(|v| !v.is_null())
}

fn required_text(feature: &Feature, key: &str, max: usize) -> Result<String, FieldError> {
    let text = property(feature, key)
        .and_then(|v| v.as_str())
        .map(str::trim)
        .unwrap_or("");
    if text.is_empty() || text.chars().count() > max {
        return Err(FieldError::new(
            format!("properties.{key}"),
            format!("must be a text of 1-{max} characters"),
        ));
    }
    Ok(text.to_owned())
}

fn optional_time(feature: &Feature, key: &str) -> Result<Option<OffsetDateTime>, FieldError> {
    property(feature, key)
        .map(|v| {
            v.as_str()
                .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
                .ok_or_else(|| {
                    FieldError::new(
                        format!("properties.{key}"),
                        "must be an RFC 3339 date-time such as 2026-01-01T00:00:00Z",
                    )
                })
        })
        .transpose()
}

impl ZoneFeature {
    pub fn parse(feature: &Feature) -> Result<Self, FieldError> {
        let group_raw = required_text(feature, "service_group", 32)?;
        let group = ServiceGroup::parse(&group_raw)
            .map_err(|e| FieldError::new("properties.service_group", e.message))?;
        let operator = Slug::parse(
            "properties.operator",
            &required_text(feature, "operator", 64)?,
        )?;
        let valid_from = optional_time(feature, "valid_from")?.ok_or_else(|| {
            FieldError::new("properties.valid_from", "is required (RFC 3339 date-time)")
        })?;
        let valid_until = optional_time(feature, "valid_until")?;
        if valid_until.is_some_and(|end| end <= valid_from) {
            return Err(FieldError::new(
                "properties.valid_until",
                "must be after valid_from",
            ));
        }
        let geometry = feature
            .geometry
            .as_ref()
            .ok_or_else(|| FieldError::new("geometry", "is required"))?;
        Ok(Self {
            contract_reference: required_text(feature, "contract", 128)?,
            operator_name: required_text(feature, "operator_name", 200)?,
            zone_name: required_text(feature, "zone", 200)?,
            operator,
            group,
            valid_from,
            valid_until,
            zone: parse_area(geometry)?,
        })
    }
}

/// A Polygon or MultiPolygon with finite WGS84 coordinates, closed rings and a non-zero area.
pub fn parse_area(geometry: &Geometry) -> Result<MultiPolygon<f64>, FieldError> {
    let bad = |m: &str| FieldError::new("geometry", m);
    let polygons: Vec<&Vec<Vec<geojson::Position>>> = match &geometry.value {
        GeometryValue::Polygon { coordinates } => vec![coordinates],
        GeometryValue::MultiPolygon { coordinates } => coordinates.iter().collect(),
        _ => return Err(bad("must be a Polygon or a MultiPolygon")),
    };
    let mut out = Vec::with_capacity(polygons.len());
    for rings in polygons {
        let mut converted = Vec::with_capacity(rings.len());
        for ring in rings {
            if ring.len() < 4 || ring.first() != ring.last() {
                return Err(bad(
                    "each ring needs at least 4 positions and must be closed",
                ));
            }
            let mut coords = Vec::with_capacity(ring.len());
            for position in ring {
                let (lon, lat) = match position.as_slice() {
                    [lon, lat, ..] => (*lon, *lat),
                    _ => return Err(bad("each position needs a longitude and a latitude")),
                };
                crate::GeoPoint::parse(lat, lon)
                    .map_err(|_| bad("coordinates must be WGS84 longitude, latitude in degrees"))?;
                coords.push(geo::coord! { x: lon, y: lat });
            }
            converted.push(geo::LineString(coords));
        }
        let mut rings = converted.into_iter();
        let exterior = rings
            .next()
            .ok_or_else(|| bad("a polygon needs an outer ring"))?;
        let polygon = Polygon::new(exterior, rings.collect());
        if polygon.unsigned_area() <= 0.0 {
            return Err(bad("a polygon must have a non-zero area"));
        }
        out.push(polygon);
    }
    if out.is_empty() {
        return Err(bad("must contain at least one polygon"));
    }
    Ok(MultiPolygon(out))
}

/// The area as a GeoJSON geometry, for storage and export.
pub fn area_to_geojson(area: &MultiPolygon<f64>) -> Geometry {
    Geometry::new(GeometryValue::from(area))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature(json: serde_json::Value) -> Feature {
        serde_json::from_value(json).unwrap()
    }

    fn valid() -> serde_json::Value {
        serde_json::json!({
            "type": "Feature",
            "properties": {
                "contract": "C-1", "operator": "nadafa", "operator_name": "Nadafa",
                "service_group": "waste", "zone": "Ouest", "valid_from": "2026-01-01T00:00:00Z"
            },
            "geometry": {"type": "Polygon", "coordinates": [[[-5.4, 35.5], [-5.3, 35.5], [-5.3, 35.6], [-5.4, 35.5]]]}
        })
    }

    #[test]
    fn parses_a_valid_zone() {
        let z = ZoneFeature::parse(&feature(valid())).unwrap();
        assert_eq!(z.group, ServiceGroup::WASTE);
        assert_eq!(z.zone.0.len(), 1);
        let round = parse_area(&area_to_geojson(&z.zone)).unwrap();
        assert_eq!(round, z.zone);
    }

    #[test]
    fn names_what_is_wrong() {
        let cases = [
            (
                // Not a slug (whether the commune has the group is the API's check).
                "/properties/service_group",
                serde_json::json!("Water supply"),
                "properties.service_group",
            ),
            (
                "/properties/operator",
                serde_json::json!("Bad Slug"),
                "properties.operator",
            ),
            (
                "/properties/valid_from",
                serde_json::json!("yesterday"),
                "properties.valid_from",
            ),
            (
                "/geometry/coordinates",
                serde_json::json!([[[-5.4, 35.5], [-5.3, 35.5], [-5.4, 35.5]]]),
                "geometry",
            ),
            (
                "/geometry/coordinates",
                serde_json::json!([[[-5.4, 35.5], [-5.3, 35.5], [-5.3, 95.6], [-5.4, 35.5]]]),
                "geometry",
            ),
            (
                "/geometry/coordinates",
                serde_json::json!([[[0, 0], [1, 1], [2, 2], [0, 0]]]),
                "geometry",
            ),
        ];
        for (pointer, value, field) in cases {
            let mut json = valid();
            *json.pointer_mut(pointer).unwrap() = value;
            assert_eq!(
                ZoneFeature::parse(&feature(json)).unwrap_err().field,
                field,
                "{pointer}"
            );
        }
    }
}
