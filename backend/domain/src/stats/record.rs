//! The record-level open-data row (one per report) and a detector of personal data for
//! export tests.
//!
//! An [`OpenDataRecord`] carries **only**: the public reference, the service code, the
//! district, the map area (resolution-8 H3 cell, or its coarsened area, see
//! [`coarsen`](super::coarsen)), the local date (no time of day), the status, the minutes to
//! acknowledge and to resolve, and the operator's slug. It is built from a
//! [`RecordFields`] whose fields are exactly these, all typed: there is no field for a
//! description, a photo, a coordinate or anything about the reporter, and every text
//! (reference, codes, slugs) is checked to be well-formed and free of personal data.
//!
//! [`contains_personal_data`] finds what must never appear in a public file: e-mail
//! addresses; Moroccan and Tunisian phone numbers (`+212`/`00212` then 9 digits starting
//! 5–7, or `0` + 5–7 and 8 more digits; `+216`/`00216` then 8 digits; spaces, dots, dashes
//! or slashes between digit groups allowed; bare 8-digit Tunisian local numbers are not
//! flagged, as they cannot be told from other numbers); and decimal coordinates (a number
//! with at least 4 decimals, of absolute value at most 180, negative or with a non-zero
//! whole part: `35.5785`, `-5.3684`). So exports write shares as fractions below 1 or
//! with at most 3 decimals, and means with at most 3 decimals.

use super::coarsen::Area;
use super::rollup::DistrictId;
use crate::{FieldError, PublicReference, ReportStatus, ServiceCode, Slug};
use serde::Serialize;
use time::{Date, Duration};

/// Everything a record-level row may say, and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFields {
    pub reference: PublicReference,
    pub service: ServiceCode,
    pub district: Option<DistrictId>,
    /// The published area of the report's cell; `None` where withheld.
    pub area: Option<Area>,
    /// The local date the report was made.
    pub date: Date,
    pub status: ReportStatus,
    pub to_acknowledge: Option<Duration>,
    pub to_resolve: Option<Duration>,
    pub operator: Option<Slug>,
}

/// One row of the record-level open-data set. Build with [`OpenDataRecord::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDataRecord(RecordFields);

/// The columns of the record-level set, in order.
pub const RECORD_COLUMNS: [&str; 10] = [
    "reference",
    "service",
    "district",
    "h3_cell",
    "area_level",
    "date",
    "status",
    "minutes_to_acknowledge",
    "minutes_to_resolve",
    "operator",
];

/// `PREFIX-XXXXXXXX`: 2–5 capital letters and 8 Crockford base-32 characters.
fn reference_is_well_formed(raw: &str) -> bool {
    const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    raw.split_once('-').is_some_and(|(prefix, code)| {
        (2..=5).contains(&prefix.len())
            && prefix.bytes().all(|b| b.is_ascii_uppercase())
            && code.len() == 8
            && code.bytes().all(|b| CROCKFORD.contains(&b))
    })
}

fn whole_minutes(d: Option<Duration>) -> Option<u32> {
    d.map(|d| u32::try_from(d.whole_minutes().max(0)).unwrap_or(u32::MAX))
}

impl OpenDataRecord {
    pub fn new(fields: RecordFields) -> Result<Self, FieldError> {
        if !reference_is_well_formed(fields.reference.as_str()) {
            return Err(FieldError::new(
                "reference",
                "must be a public reference such as TET-7KQ2M9XD",
            ));
        }
        if let (Some(Area::District(area)), district) = (&fields.area, &fields.district)
            && district.as_ref() != Some(area)
        {
            return Err(FieldError::new(
                "area",
                "a district area must be the record's district",
            ));
        }
        let texts = [
            ("reference", Some(fields.reference.as_str())),
            ("service", Some(fields.service.as_str())),
            ("district", fields.district.as_ref().map(Slug::as_str)),
            ("operator", fields.operator.as_ref().map(Slug::as_str)),
        ];
        for (field, text) in texts {
            if text.is_some_and(contains_personal_data) {
                return Err(FieldError::new(field, "must not contain personal data"));
            }
        }
        Ok(Self(fields))
    }

    pub fn fields(&self) -> &RecordFields {
        &self.0
    }

    pub fn minutes_to_acknowledge(&self) -> Option<u32> {
        whole_minutes(self.0.to_acknowledge)
    }

    pub fn minutes_to_resolve(&self) -> Option<u32> {
        whole_minutes(self.0.to_resolve)
    }

    /// The row's values in [`RECORD_COLUMNS`] order; absent values are empty.
    pub fn values(&self) -> [String; 10] {
        let f = &self.0;
        let text = |s: Option<&str>| s.unwrap_or_default().to_owned();
        let number = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        [
            f.reference.as_str().to_owned(),
            f.service.as_str().to_owned(),
            text(f.district.as_ref().map(Slug::as_str)),
            f.area
                .as_ref()
                .and_then(Area::cell)
                .map(|c| c.to_string())
                .unwrap_or_default(),
            text(f.area.as_ref().map(|a| a.level().as_str())),
            f.date.to_string(),
            f.status.as_str().to_owned(),
            number(self.minutes_to_acknowledge()),
            number(self.minutes_to_resolve()),
            text(f.operator.as_ref().map(Slug::as_str)),
        ]
    }
}

impl Serialize for OpenDataRecord {
    /// A JSON object with the [`RECORD_COLUMNS`] keys; absent values are `null`, minutes are
    /// numbers.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let values = self.values();
        let mut map = s.serialize_map(Some(RECORD_COLUMNS.len()))?;
        for (column, value) in RECORD_COLUMNS.iter().zip(values) {
            if value.is_empty() {
                map.serialize_entry(column, &None::<()>)?;
            } else if column.starts_with("minutes_") {
                map.serialize_entry(column, &value.parse::<u32>().unwrap_or(u32::MAX))?;
            } else {
                map.serialize_entry(column, &value)?;
            }
        }
        map.end()
    }
}

/// Whether `text` contains an e-mail address, a Moroccan or Tunisian phone number, or a
/// decimal coordinate (see the module documentation for the exact rules).
pub fn contains_personal_data(text: &str) -> bool {
    contains_email(text) || contains_phone(text) || contains_coordinate(text)
}

pub(crate) fn contains_email(text: &str) -> bool {
    let b = text.as_bytes();
    let local = |c: u8| c.is_ascii_alphanumeric() || b"._%+-".contains(&c);
    let domain = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'-';
    b.iter()
        .enumerate()
        .filter(|(_, c)| **c == b'@')
        .any(|(at, _)| {
            let has_local = at > 0 && local(b[at - 1]);
            let end = b[at + 1..]
                .iter()
                .position(|c| !domain(*c))
                .map_or(b.len(), |p| at + 1 + p);
            let host = text[at + 1..end].trim_end_matches('.');
            let tld_ok = host.rsplit_once('.').is_some_and(|(name, tld)| {
                !name.is_empty() && tld.len() >= 2 && tld.bytes().all(|c| c.is_ascii_alphabetic())
            });
            has_local && tld_ok
        })
}

/// Whether a string of digits (with the `+` it had) is a phone number we look for.
fn is_phone(plus: bool, digits: &str) -> bool {
    let moroccan_national = |rest: &str| {
        let r = rest.as_bytes();
        (r.len() == 9 && (b'5'..=b'7').contains(&r[0]))
            || (r.len() == 10 && r[0] == b'0' && (b'5'..=b'7').contains(&r[1]))
    };
    let international = |code: &str| {
        if plus {
            digits.strip_prefix(code)
        } else {
            digits.strip_prefix("00").and_then(|d| d.strip_prefix(code))
        }
    };
    if let Some(rest) = international("212") {
        return moroccan_national(rest);
    }
    if let Some(rest) = international("216") {
        return rest.len() == 8;
    }
    let d = digits.as_bytes();
    !plus && d.len() == 10 && d[0] == b'0' && (b'5'..=b'7').contains(&d[1])
}

pub(crate) fn contains_phone(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let plus = chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        let starts =
            plus || (chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit()));
        if !starts {
            i += 1;
            continue;
        }
        // Digit groups separated by single separators.
        let mut groups: Vec<String> = vec![String::new()];
        let mut j = if plus { i + 1 } else { i };
        while j < chars.len() {
            let c = chars[j];
            if c.is_ascii_digit() {
                groups.last_mut().expect("never empty").push(c);
                j += 1;
            } else if matches!(c, ' ' | '.' | '-' | '/')
                && chars.get(j + 1).is_some_and(char::is_ascii_digit)
            {
                groups.push(String::new());
                j += 1;
            } else {
                break;
            }
        }
        for start in 0..groups.len() {
            let mut digits = String::new();
            for group in &groups[start..] {
                digits.push_str(group);
                if is_phone(plus && start == 0, &digits) {
                    return true;
                }
            }
        }
        i = j.max(i + 1);
    }
    false
}

fn contains_coordinate(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.');
        if !(b[i].is_ascii_digit() && boundary) {
            i += 1;
            continue;
        }
        let whole_end = b[i..]
            .iter()
            .position(|c| !c.is_ascii_digit())
            .map_or(b.len(), |p| i + p);
        if b.get(whole_end) == Some(&b'.') {
            let fraction_end = b[whole_end + 1..]
                .iter()
                .position(|c| !c.is_ascii_digit())
                .map_or(b.len(), |p| whole_end + 1 + p);
            let decimals = fraction_end - whole_end - 1;
            let negative = i > 0 && b[i - 1] == b'-';
            let whole: Option<u32> = text[i..whole_end]
                .parse()
                .ok()
                .filter(|_| whole_end - i <= 3);
            if decimals >= 4 && whole.is_some_and(|w| w <= 180 && (negative || w > 0)) {
                return true;
            }
            i = fraction_end.max(i + 1);
        } else {
            i = whole_end;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rollup::tests::cell_at;
    use time::macros::date;

    fn fields() -> RecordFields {
        RecordFields {
            reference: PublicReference::from_stored("TET-7KQ2M9XD".into()),
            service: ServiceCode::parse("litter").unwrap(),
            district: Some(Slug::parse("district", "sidi-al-mandri").unwrap()),
            area: Some(Area::Res8(cell_at(35.5785, -5.3684))),
            date: date!(2026 - 04 - 07),
            status: ReportStatus::Resolved,
            to_acknowledge: Some(Duration::seconds(95 * 60 + 59)),
            to_resolve: Some(Duration::hours(26)),
            operator: Some(Slug::parse("operator", "tetouan-proprete").unwrap()),
        }
    }

    #[test]
    fn a_record_has_exactly_the_published_columns() {
        let record = OpenDataRecord::new(fields()).unwrap();
        let values = record.values();
        assert_eq!(values[0], "TET-7KQ2M9XD");
        assert_eq!(values[3], cell_at(35.5785, -5.3684).cell().to_string());
        assert_eq!(values[4], "h3_res8");
        assert_eq!(values[5], "2026-04-07");
        assert_eq!(&values[6..9], ["resolved", "95", "1560"]);
        let json = serde_json::to_value(&record).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        let mut expected: Vec<&str> = RECORD_COLUMNS.to_vec();
        expected.sort();
        assert_eq!(keys, expected);
        assert_eq!(json["minutes_to_resolve"], 1560);
        // Nothing in it looks like personal data.
        assert!(!contains_personal_data(&json.to_string()));
        assert!(!contains_personal_data(&values.join(",")));
    }

    #[test]
    fn absent_values_are_empty_or_null() {
        let record = OpenDataRecord::new(RecordFields {
            area: None,
            district: None,
            to_acknowledge: None,
            to_resolve: None,
            operator: None,
            status: ReportStatus::New,
            ..fields()
        })
        .unwrap();
        let values = record.values();
        assert!(values[2].is_empty() && values[3].is_empty() && values[9].is_empty());
        let json = serde_json::to_value(&record).unwrap();
        assert!(json["h3_cell"].is_null() && json["minutes_to_acknowledge"].is_null());
    }

    #[test]
    fn nothing_else_can_ride_along() {
        let with_reference = |r: &str| RecordFields {
            reference: PublicReference::from_stored(r.into()),
            ..fields()
        };
        for bad in [
            "amina@example.ma",
            "TET-0612345678",
            "TET-7KQ2M9X",
            "tet-7KQ2M9XD",
        ] {
            assert!(OpenDataRecord::new(with_reference(bad)).is_err(), "{bad}");
        }
        let phone_slug = RecordFields {
            operator: Some(Slug::parse("operator", "0612345678").unwrap()),
            ..fields()
        };
        assert_eq!(
            OpenDataRecord::new(phone_slug).unwrap_err().field,
            "operator"
        );
        let elsewhere = RecordFields {
            area: Some(Area::District(Slug::parse("d", "martil").unwrap())),
            ..fields()
        };
        assert_eq!(OpenDataRecord::new(elsewhere).unwrap_err().field, "area");
    }

    #[test]
    fn finds_email_addresses() {
        for text in [
            "amina.b@example.ma",
            "écrire à x_y+z@mail.gov.tn.",
            "\"a@b.co\"",
        ] {
            assert!(contains_personal_data(text), "{text}");
        }
        for text in ["@tetouan", "user@localhost", "a@b.c", "50 @ 3"] {
            assert!(!contains_personal_data(text), "{text}");
        }
    }

    #[test]
    fn finds_moroccan_and_tunisian_phone_numbers() {
        for text in [
            "0612345678",
            "appelez le 06 12 34 56 78 svp",
            "06.12.34.56.78",
            "06-12-34-56-78",
            "05 39 99 88 77",
            "+212 6 12 34 56 78",
            "+212612345678",
            "00212612345678",
            "+212 0612345678",
            "+216 98 123 456",
            "0021698123456",
            "tel:0712345678,",
            "12 0612345678",
        ] {
            assert!(contains_personal_data(text), "{text}");
        }
        for text in [
            "TET-7KQ2M9XD",
            "2026-04-07",
            "1440",
            "617700169958293503",
            "98123456",
            "0812345678",
            "+33 6 12 34 56 78",
            "061234567",
            "06123456789",
        ] {
            assert!(!contains_personal_data(text), "{text}");
        }
    }

    #[test]
    fn finds_decimal_coordinates() {
        for text in [
            "35.5785",
            "-5.3684",
            "[-5.368412,35.578501]",
            "lat=35.57851",
            "179.0001",
        ] {
            assert!(contains_personal_data(text), "{text}");
        }
        for text in [
            "0.9167",
            "91.7",
            "4.25",
            "35.57",
            "-5.368",
            "181.0000",
            "v1.2345",
            "1234.5678",
            "0.0000",
        ] {
            assert!(!contains_personal_data(text), "{text}");
        }
    }
}
