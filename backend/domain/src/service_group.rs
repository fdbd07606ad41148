//! Service groups (waste, lighting, transport, and whatever else a commune delegates: parks,
//! water, markets…) are data: each jurisdiction keeps its own in the `service_groups` table.

use crate::{FieldError, Language, LocalizedText};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A service group's code (slug): 1–32 characters of `a-z 0-9 _`, starting with a letter.
/// Serialised as the bare string (`"waste"`), as it always was.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ServiceGroup(Cow<'static, str>);

impl ServiceGroup {
    pub const WASTE: ServiceGroup = ServiceGroup(Cow::Borrowed("waste"));
    pub const LIGHTING: ServiceGroup = ServiceGroup(Cow::Borrowed("lighting"));
    pub const TRANSPORT: ServiceGroup = ServiceGroup(Cow::Borrowed("transport"));
    /// The groups every jurisdiction starts with, in their display order.
    pub const BUILT_IN: [ServiceGroup; 3] = [Self::WASTE, Self::LIGHTING, Self::TRANSPORT];

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok = !raw.is_empty()
            && raw.len() <= 32
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(Self(Cow::Owned(raw.to_owned())))
        } else {
            Err(FieldError::new(
                "service_group",
                "must be 1-32 characters of a-z, 0-9 or '_', starting with a letter",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// One of the three groups Balagh ships words (catalogue entries, icons) for.
    pub fn is_built_in(&self) -> bool {
        Self::BUILT_IN.contains(self)
    }
}

impl<'de> Deserialize<'de> for ServiceGroup {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for ServiceGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A group as a commune defines it: its names, an optional icon and where it comes in lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceGroupDefinition {
    pub code: ServiceGroup,
    pub name: LocalizedText,
    /// An icon key the apps know (`waste`, `lighting`, `transport`, …); a generic icon
    /// when absent or unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Display order, lowest first (ties by code). Without one a new group comes after
    /// the built-in ones, so the SMS menu numbers residents know do not shift.
    #[serde(default = "ServiceGroupDefinition::default_order")]
    pub order: u32,
}

impl ServiceGroupDefinition {
    fn default_order() -> u32 {
        100
    }

    /// The three groups every jurisdiction is seeded with, named as the resident app always
    /// named them (the same rows the migration inserts).
    pub fn built_in() -> Vec<Self> {
        let def = |code: ServiceGroup, fr: &str, ar: &str, en: &str, order: u32| Self {
            icon: Some(code.as_str().to_owned()),
            code,
            name: LocalizedText {
                fr: fr.into(),
                ar: Some(ar.into()),
                en: Some(en.into()),
            },
            order,
        };
        vec![
            def(ServiceGroup::WASTE, "Déchets", "النفايات", "Waste", 10),
            def(
                ServiceGroup::LIGHTING,
                "Éclairage public",
                "الإنارة العمومية",
                "Street lighting",
                20,
            ),
            def(ServiceGroup::TRANSPORT, "Bus", "الحافلات", "Buses", 30),
        ]
    }

    /// Checks what the code cannot: names present and short, a sane icon key.
    pub fn validate(&self) -> Result<(), FieldError> {
        let names = [
            ("name.fr", Some(&self.name.fr)),
            ("name.ar", self.name.ar.as_ref()),
            ("name.en", self.name.en.as_ref()),
        ];
        for (field, name) in names {
            if let Some(name) = name {
                let n = name.trim().chars().count();
                if n == 0 || n > 80 || name.chars().any(char::is_control) {
                    return Err(FieldError::new(field, "must be 1-80 characters"));
                }
            }
        }
        if let Some(icon) = &self.icon {
            let ok = !icon.is_empty()
                && icon.len() <= 32
                && icon
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(FieldError::new(
                    "icon",
                    "must be 1-32 characters of a-z, 0-9 or '_'",
                ));
            }
        }
        if self.order > 1_000_000 {
            return Err(FieldError::new("order", "must be at most 1000000"));
        }
        Ok(())
    }

    pub fn name_in(&self, language: Language) -> &str {
        self.name.get(language)
    }
}

/// Orders groups for display: by `order`, then code; groups without a definition (none
/// should exist: the foreign keys forbid it) come last.
pub fn display_rank(definitions: &[ServiceGroupDefinition], group: &str) -> (u32, String) {
    definitions
        .iter()
        .find(|d| d.code.as_str() == group)
        .map_or((u32::MAX, group.to_owned()), |d| {
            (d.order, group.to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_rules() {
        for good in ["waste", "parks", "water_2", "m"] {
            assert_eq!(ServiceGroup::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "Parks",
            "2parks",
            "_x",
            "a-b",
            "a b",
            "é",
            &"x".repeat(33),
        ] {
            assert!(ServiceGroup::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn serialised_as_the_bare_string() {
        let json = serde_json::to_string(&ServiceGroup::LIGHTING).unwrap();
        assert_eq!(json, r#""lighting""#);
        let back: ServiceGroup = serde_json::from_str(r#""parks""#).unwrap();
        let unordered: ServiceGroupDefinition =
            serde_json::from_str(r#"{"code": "markets", "name": {"fr": "Marchés"}}"#).unwrap();
        assert!(unordered.order > 30, "after the built-in groups");
        assert_eq!(back.as_str(), "parks");
        assert!(serde_json::from_str::<ServiceGroup>(r#""Parks!""#).is_err());
        // A parsed built-in equals the constant (the router's index relies on it).
        assert_eq!(ServiceGroup::parse("waste").unwrap(), ServiceGroup::WASTE);
        assert!(ServiceGroup::parse("waste").unwrap().is_built_in());
        assert!(!ServiceGroup::parse("parks").unwrap().is_built_in());
    }

    #[test]
    fn definitions_are_checked_and_ranked() {
        let mut parks = ServiceGroupDefinition {
            code: ServiceGroup::parse("parks").unwrap(),
            name: LocalizedText {
                fr: "Parcs et jardins".into(),
                ar: Some("الحدائق".into()),
                en: None,
            },
            icon: None,
            order: 40,
        };
        assert!(parks.validate().is_ok());
        assert_eq!(parks.name_in(Language::En), "Parcs et jardins");
        parks.icon = Some("Tree!".into());
        assert_eq!(parks.validate().unwrap_err().field, "icon");
        parks.icon = None;
        parks.name.fr = " ".into();
        assert_eq!(parks.validate().unwrap_err().field, "name.fr");
        let mut all = ServiceGroupDefinition::built_in();
        all.iter().for_each(|d| assert!(d.validate().is_ok()));
        parks.order = 5;
        all.push(parks);
        assert!(display_rank(&all, "parks") < display_rank(&all, "waste"));
        assert!(display_rank(&all, "transport") < display_rank(&all, "unknown"));
    }
}
