//! A commune: the territory and the rules a deployment serves.

use crate::operator::Slug;
use crate::stats::StatisticsOverrides;
use crate::{Currency, FieldError, Language};
use geo::MultiPolygon;
use serde::{Deserialize, Serialize};

/// A jurisdiction's slug, e.g. `tetouan`.
pub type JurisdictionId = Slug;

/// A commune with its boundary and conventions.
#[derive(Debug, Clone, PartialEq)]
pub struct Jurisdiction {
    pub id: JurisdictionId,
    pub name: String,
    pub boundary: MultiPolygon<f64>,
    /// IANA time-zone name (`Africa/Casablanca`); times are stored in UTC and shown in it.
    pub time_zone: String,
    pub languages: Vec<Language>,
    pub default_language: Language,
    /// Prefix of public report references, 2–5 capital letters (`TET`).
    pub reference_prefix: String,
    /// The commune's own statistics thresholds, lag and grid (empty: the deployment's).
    pub statistics: StatisticsOverrides,
    /// What penalties are counted in.
    pub currency: Currency,
}

/// The settings of a jurisdiction as kept in configuration and demo files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JurisdictionSettings {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    pub languages: Vec<Language>,
    pub default_language: Language,
    pub reference_prefix: String,
    /// Optional overrides of the deployment's `[stats]` (k, lag, record grid).
    #[serde(default, skip_serializing_if = "StatisticsOverrides::is_empty")]
    pub statistics: StatisticsOverrides,
    /// `"TND"` or `{"code": "TND", "exponent": 3}`; default MAD.
    #[serde(default)]
    pub currency: Currency,
}

impl Jurisdiction {
    pub fn parse(
        settings: JurisdictionSettings,
        boundary: MultiPolygon<f64>,
    ) -> Result<Self, FieldError> {
        let id = Slug::parse("id", &settings.id)?;
        let prefix = &settings.reference_prefix;
        if !(2..=5).contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(FieldError::new(
                "reference_prefix",
                "must be 2-5 capital letters",
            ));
        }
        let tz = &settings.time_zone;
        let tz_ok = !tz.is_empty()
            && tz.len() <= 64
            && tz
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
        if !tz_ok {
            return Err(FieldError::new(
                "time_zone",
                "must be an IANA time-zone name such as Africa/Casablanca",
            ));
        }
        if settings.languages.is_empty() || !settings.languages.contains(&settings.default_language)
        {
            return Err(FieldError::new(
                "languages",
                "must list at least the default language",
            ));
        }
        settings.statistics.validate()?;
        if boundary.0.is_empty() {
            return Err(FieldError::new("boundary", "must contain a polygon"));
        }
        Ok(Self {
            id,
            name: settings.name,
            boundary,
            time_zone: settings.time_zone,
            languages: settings.languages,
            default_language: settings.default_language,
            reference_prefix: settings.reference_prefix,
            statistics: settings.statistics,
            currency: settings.currency,
        })
    }

    /// A UTC instant as the commune's clocks show it, e.g. `2026-03-01 14:05`
    /// (falls back to UTC if the time zone is unknown to the bundled database).
    pub fn local_time(&self, at: time::OffsetDateTime) -> String {
        let local = crate::sla::to_timestamp(at).and_then(|ts| {
            jiff::tz::TimeZone::get(&self.time_zone)
                .ok()
                .map(|tz| ts.to_zoned(tz).strftime("%Y-%m-%d %H:%M").to_string())
        });
        local.unwrap_or_else(|| {
            let utc = at.to_offset(time::UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                utc.year(),
                u8::from(utc.month()),
                utc.day(),
                utc.hour(),
                utc.minute()
            )
        })
    }

    pub fn settings(&self) -> JurisdictionSettings {
        JurisdictionSettings {
            id: self.id.as_str().to_owned(),
            name: self.name.clone(),
            time_zone: self.time_zone.clone(),
            languages: self.languages.clone(),
            default_language: self.default_language,
            reference_prefix: self.reference_prefix.clone(),
            statistics: self.statistics,
            currency: self.currency.clone(),
        }
    }
}
