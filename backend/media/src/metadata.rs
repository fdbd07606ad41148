//! What we keep from the EXIF block before it is thrown away: the orientation (to make the
//! output upright) and the GPS position (for the caller to compare with the report's pin).
//!
//! A broken or missing EXIF block is never a reason to refuse a photo: it just yields no
//! orientation and no position.

use std::io::Cursor;

use exif::{Exif, In, Tag, Value};
use image::metadata::Orientation;

/// Where the phone says the photo was taken, in decimal degrees (WGS 84).
///
/// Meant for a plausibility check (is the photo within 1 km of the report's pin?), not to be
/// stored: it is the resident's position, often their home.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpsPosition {
    /// Latitude, positive north, in `-90.0..=90.0`.
    pub lat: f64,
    /// Longitude, positive east, in `-180.0..=180.0`.
    pub lon: f64,
}

impl GpsPosition {
    /// Great-circle distance to `other` in metres (haversine; plenty for a 1 km threshold).
    #[must_use]
    pub fn distance_m(&self, other: GpsPosition) -> f64 {
        const EARTH_RADIUS_M: f64 = 6_371_008.8;
        let (lat1, lat2) = (self.lat.to_radians(), other.lat.to_radians());
        let half_dlat = (lat2 - lat1) / 2.0;
        let half_dlon = (other.lon - self.lon).to_radians() / 2.0;
        let a = half_dlat.sin().powi(2) + lat1.cos() * lat2.cos() * half_dlon.sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }
}

/// The parts of the EXIF block the pipeline uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PhotoMetadata {
    pub orientation: Orientation,
    pub gps: Option<GpsPosition>,
}

impl Default for PhotoMetadata {
    fn default() -> Self {
        Self {
            orientation: Orientation::NoTransforms,
            gps: None,
        }
    }
}

/// Reads the EXIF block of a JPEG, PNG (`eXIf`) or WebP (`EXIF` chunk).
pub(crate) fn read(bytes: &[u8]) -> PhotoMetadata {
    match read_exif(bytes) {
        Some(exif) => PhotoMetadata {
            orientation: orientation(&exif),
            gps: gps(&exif),
        },
        None => PhotoMetadata::default(),
    }
}

fn read_exif(bytes: &[u8]) -> Option<Exif> {
    let mut reader = exif::Reader::new();
    // Phones and editors write slightly broken EXIF often enough: keep what parses.
    reader.continue_on_error(true);
    match reader.read_from_container(&mut Cursor::new(bytes)) {
        Ok(exif) => Some(exif),
        Err(error) => error.distill_partial_result(|_ignored| {}).ok(),
    }
}

fn orientation(exif: &Exif) -> Orientation {
    exif.get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|field| field.value.get_uint(0))
        .and_then(|value| u8::try_from(value).ok())
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::NoTransforms)
}

fn gps(exif: &Exif) -> Option<GpsPosition> {
    let lat = coordinate(
        exif,
        Tag::GPSLatitude,
        Tag::GPSLatitudeRef,
        (b'N', b'S'),
        90.0,
    )?;
    let lon = coordinate(
        exif,
        Tag::GPSLongitude,
        Tag::GPSLongitudeRef,
        (b'E', b'W'),
        180.0,
    )?;
    // Exactly 0,0 is what some phones write when they had no fix.
    if lat == 0.0 && lon == 0.0 {
        return None;
    }
    Some(GpsPosition { lat, lon })
}

/// Degrees, minutes, seconds (minutes and seconds may be absent, or fractional in their
/// predecessor) with a hemisphere letter. Anything out of range yields `None`: a wrong
/// position is worse than none, as it would flag an honest report as far from its pin.
fn coordinate(
    exif: &Exif,
    value_tag: Tag,
    ref_tag: Tag,
    (positive, negative): (u8, u8),
    max_degrees: f64,
) -> Option<f64> {
    let sign = match hemisphere(exif, ref_tag)? {
        letter if letter == positive => 1.0,
        letter if letter == negative => -1.0,
        _ => return None,
    };
    let Value::Rational(parts) = &exif.get_field(value_tag, In::PRIMARY)?.value else {
        return None;
    };
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let mut values = [0.0; 3];
    for (value, part) in values.iter_mut().zip(parts) {
        if part.denom == 0 {
            return None;
        }
        *value = part.to_f64();
    }
    let [degrees, minutes, seconds] = values;
    if !(0.0..=max_degrees).contains(&degrees)
        || !(0.0..60.0).contains(&minutes)
        || !(0.0..60.0).contains(&seconds)
    {
        return None;
    }
    let decimal = degrees + minutes / 60.0 + seconds / 3600.0;
    (decimal <= max_degrees).then_some(sign * decimal)
}

fn hemisphere(exif: &Exif, ref_tag: Tag) -> Option<u8> {
    match &exif.get_field(ref_tag, In::PRIMARY)?.value {
        Value::Ascii(strings) => Some(strings.first()?.first()?.to_ascii_uppercase()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use exif::experimental::Writer;
    use exif::{Field, Rational};

    use super::*;

    fn rationals(values: &[(u32, u32)]) -> Value {
        Value::Rational(
            values
                .iter()
                .map(|&(num, denom)| Rational { num, denom })
                .collect(),
        )
    }

    fn ascii(text: &str) -> Value {
        Value::Ascii(vec![text.as_bytes().to_vec()])
    }

    fn field(tag: Tag, value: Value) -> Field {
        Field {
            tag,
            ifd_num: In::PRIMARY,
            value,
        }
    }

    /// Parses EXIF built from `fields`, the way it would be read from a photo.
    fn exif_of(fields: &[Field]) -> Exif {
        let mut writer = Writer::new();
        for field in fields {
            writer.push_field(field);
        }
        let mut tiff = Cursor::new(Vec::new());
        writer.write(&mut tiff, false).unwrap();
        exif::Reader::new().read_raw(tiff.into_inner()).unwrap()
    }

    fn position(lat: Value, lat_ref: &str, lon: Value, lon_ref: &str) -> Option<GpsPosition> {
        gps(&exif_of(&[
            field(Tag::GPSLatitudeRef, ascii(lat_ref)),
            field(Tag::GPSLatitude, lat),
            field(Tag::GPSLongitudeRef, ascii(lon_ref)),
            field(Tag::GPSLongitude, lon),
        ]))
    }

    #[test]
    fn degrees_minutes_seconds_with_hemispheres() {
        // 35° 34' 42.6" N, 5° 22' 6.24" W (Tetouan).
        let north_west = position(
            rationals(&[(35, 1), (34, 1), (426, 10)]),
            "N",
            rationals(&[(5, 1), (22, 1), (624, 100)]),
            "W",
        )
        .unwrap();
        assert!((north_west.lat - 35.5785).abs() < 1e-9, "{north_west:?}");
        assert!((north_west.lon + 5.3684).abs() < 1e-9, "{north_west:?}");

        // Decimal minutes, no seconds; southern and eastern hemispheres.
        let south_east = position(
            rationals(&[(33, 1), (5_526, 100)]),
            "S",
            rationals(&[(18, 1), (2_538, 100)]),
            "E",
        )
        .unwrap();
        assert!((south_east.lat + 33.921).abs() < 1e-9, "{south_east:?}");
        assert!((south_east.lon - 18.423).abs() < 1e-9, "{south_east:?}");
    }

    #[test]
    fn nonsense_positions_are_ignored() {
        let lon = || rationals(&[(5, 1), (22, 1), (0, 1)]);
        // Beyond the pole, minutes of 75, a zero denominator, four parts, no parts.
        for lat in [
            rationals(&[(95, 1), (0, 1), (0, 1)]),
            rationals(&[(89, 1), (75, 1), (0, 1)]),
            rationals(&[(35, 0), (0, 1), (0, 1)]),
            rationals(&[(35, 1), (0, 1), (0, 1), (0, 1)]),
            rationals(&[]),
        ] {
            assert_eq!(position(lat, "N", lon(), "W"), None);
        }
        let lat = || rationals(&[(35, 1), (34, 1), (0, 1)]);
        // An unknown hemisphere letter, and the "no fix" 0,0.
        assert_eq!(position(lat(), "X", lon(), "W"), None);
        assert_eq!(
            position(rationals(&[(0, 1)]), "N", rationals(&[(0, 1)]), "E"),
            None
        );
        // A missing reference: the sign is unknown, so the position is too.
        let without_ref = exif_of(&[
            field(Tag::GPSLatitude, lat()),
            field(Tag::GPSLongitudeRef, ascii("W")),
            field(Tag::GPSLongitude, lon()),
        ]);
        assert_eq!(gps(&without_ref), None);
    }

    #[test]
    fn orientation_values_outside_1_to_8_mean_upright() {
        let with = |value: u16| {
            orientation(&exif_of(&[field(
                Tag::Orientation,
                Value::Short(vec![value]),
            )]))
        };
        assert_eq!(with(6), Orientation::Rotate90);
        assert_eq!(with(8), Orientation::Rotate270);
        assert_eq!(with(0), Orientation::NoTransforms);
        assert_eq!(with(42), Orientation::NoTransforms);
    }

    #[test]
    fn no_or_garbage_exif_reads_as_nothing() {
        assert_eq!(read(b"\xFF\xD8\xFF\xD9"), PhotoMetadata::default());
        assert_eq!(read(b"not an image at all"), PhotoMetadata::default());
    }

    #[test]
    fn distance_is_about_right() {
        let a = GpsPosition {
            lat: 35.5785,
            lon: -5.3684,
        };
        // 0.01° of latitude is about 1.11 km anywhere.
        let b = GpsPosition {
            lat: 35.5885,
            lon: -5.3684,
        };
        assert!(
            (a.distance_m(b) - 1_112.0).abs() < 2.0,
            "{}",
            a.distance_m(b)
        );
        assert!(a.distance_m(a).abs() < 1e-6);
    }
}
