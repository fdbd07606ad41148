//! The currency a commune's penalties are counted in: an ISO 4217 code and its minor-unit
//! exponent (MAD 2: centimes; TND 3: millimes). Amounts are kept in minor units everywhere;
//! only display and exports turn them into major units.

use crate::FieldError;
use serde::{Deserialize, Serialize};

/// Known codes and their ISO 4217 exponents, so `jurisdiction.json` may give just the code.
const KNOWN: [(&str, u8); 8] = [
    ("MAD", 2),
    ("TND", 3),
    ("DZD", 2),
    ("LYD", 3),
    ("EGP", 2),
    ("EUR", 2),
    ("USD", 2),
    ("XOF", 0),
];

/// A currency: ISO 4217 code and minor-unit exponent (0 to 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Currency {
    code: String,
    exponent: u8,
}

impl Default for Currency {
    /// The Moroccan dirham, the currency of the first commune.
    fn default() -> Self {
        Self {
            code: "MAD".into(),
            exponent: 2,
        }
    }
}

impl Currency {
    /// A code of three capital letters with its exponent (0 to 4).
    pub fn new(code: &str, exponent: u8) -> Result<Self, FieldError> {
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(FieldError::new(
                "currency.code",
                "must be an ISO 4217 code of three capital letters such as MAD",
            ));
        }
        if exponent > 4 {
            return Err(FieldError::new("currency.exponent", "must be from 0 to 4"));
        }
        Ok(Self {
            code: code.to_owned(),
            exponent,
        })
    }

    /// A known code alone (`TND`), with its ISO 4217 exponent.
    pub fn known(code: &str) -> Result<Self, FieldError> {
        KNOWN
            .iter()
            .find(|(known, _)| *known == code)
            .map(|(code, exponent)| Self::new(code, *exponent))
            .unwrap_or_else(|| {
                Err(FieldError::new(
                    "currency",
                    "unknown code: give {\"code\": …, \"exponent\": …}",
                ))
            })
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    /// Decimal places of the major unit (2 for MAD, 3 for TND).
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// An amount in minor units as major units, without the code: `1234.50` (MAD),
    /// `1234.500` (TND), `-0.05`.
    pub fn format_minor(&self, minor: i64) -> String {
        let sign = if minor < 0 { "-" } else { "" };
        let abs = minor.unsigned_abs();
        if self.exponent == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10u64.pow(u32::from(self.exponent));
        let width = usize::from(self.exponent);
        format!("{sign}{}.{:0width$}", abs / scale, abs % scale)
    }

    /// An amount with its code: `110.000 TND`.
    pub fn display_minor(&self, minor: i64) -> String {
        format!("{} {}", self.format_minor(minor), self.code)
    }

    /// Parses an amount in major units as typed in a form (`12`, `12.5`, `12,500`) into
    /// minor units; `None` if it is not a number with at most `exponent` decimals.
    pub fn parse_major(&self, raw: &str) -> Option<i64> {
        let raw = raw.trim().replace(',', ".");
        let (whole, fraction) = raw.split_once('.').unwrap_or((raw.as_str(), ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) {
            return None;
        }
        let width = usize::from(self.exponent);
        if fraction.len() > width {
            return None;
        }
        let scale = 10i64.pow(u32::from(self.exponent));
        let fraction = format!("{fraction:0<width$}");
        let minor_part = if width == 0 {
            0
        } else {
            fraction.parse::<i64>().ok()?
        };
        whole
            .parse::<i64>()
            .ok()?
            .checked_mul(scale)?
            .checked_add(minor_part)
    }
}

/// As written in `jurisdiction.json`: `"TND"` or `{"code": "TND", "exponent": 3}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum CurrencyFile {
    Code(String),
    Full { code: String, exponent: u8 },
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let parsed = match CurrencyFile::deserialize(d)? {
            CurrencyFile::Code(code) => Self::known(&code),
            CurrencyFile::Full { code, exponent } => Self::new(&code, exponent),
        };
        parsed.map_err(|e| serde::de::Error::custom(format!("{}: {}", e.field, e.message)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_follow_the_exponent() {
        let mad = Currency::default();
        let tnd = Currency::known("TND").unwrap();
        assert_eq!(mad.display_minor(11_000), "110.00 MAD");
        assert_eq!(tnd.display_minor(110_000), "110.000 TND");
        assert_eq!(mad.format_minor(-5), "-0.05");
        assert_eq!(Currency::known("XOF").unwrap().format_minor(500), "500");
        assert_eq!(tnd.parse_major("12,5"), Some(12_500));
        assert_eq!(tnd.parse_major("0.001"), Some(1));
        assert_eq!(mad.parse_major("0.001"), None);
        assert_eq!(mad.parse_major("-1"), None);
        assert_eq!(mad.parse_major("1234.5"), Some(123_450));
    }

    #[test]
    fn codes_are_checked() {
        assert_eq!(Currency::new("mad", 2).unwrap_err().field, "currency.code");
        assert_eq!(
            Currency::new("MAD", 5).unwrap_err().field,
            "currency.exponent"
        );
        assert!(Currency::known("ABC").is_err());
        let c: Currency = serde_json::from_str(r#"{"code": "ABC", "exponent": 1}"#).unwrap();
        assert_eq!(c.exponent(), 1);
        let c: Currency = serde_json::from_str(r#""TND""#).unwrap();
        assert_eq!(c, Currency::known("TND").unwrap());
        assert!(serde_json::from_str::<Currency>(r#""XYZ""#).is_err());
    }
}
