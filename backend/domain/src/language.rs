//! The languages a commune works in, and text kept in each of them.

use serde::{Deserialize, Serialize};

/// A language Balagh speaks. Arabic is written right to left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Fr,
    Ar,
    En,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::Fr, Language::Ar, Language::En];

    pub fn code(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::Ar => "ar",
            Language::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        let primary = code.split(['-', '_']).next()?.trim();
        Self::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// The best language for an `Accept-Language` header among `offered`, or `fallback`.
    ///
    /// Follows RFC 9110 quality values; `*` matches the fallback.
    pub fn negotiate(header: Option<&str>, offered: &[Language], fallback: Language) -> Language {
        let Some(header) = header else {
            return fallback;
        };
        let mut best: Option<(f32, usize, Language)> = None;
        for (position, item) in header.split(',').enumerate() {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if quality.is_nan() || quality <= 0.0 {
                continue;
            }
            let candidate = if tag == "*" {
                Some(fallback)
            } else {
                Language::parse(tag).filter(|l| offered.contains(l))
            };
            if let Some(lang) = candidate {
                // Higher quality wins; on a tie, the earlier entry wins.
                let better = match best {
                    None => true,
                    Some((q, _, _)) => quality > q,
                };
                if better {
                    best = Some((quality, position, lang));
                }
            }
        }
        best.map(|(_, _, l)| l).unwrap_or(fallback)
    }
}

/// A text in each language the commune publishes in. French is always present; Arabic and
/// English fall back to French when missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalizedText {
    pub fr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl LocalizedText {
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Fr => &self.fr,
            Language::Ar => self.ar.as_deref().unwrap_or(&self.fr),
            Language::En => self.en.as_deref().unwrap_or(&self.fr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Language::*;

    #[test]
    fn negotiates_by_quality_then_order() {
        let all = Language::ALL;
        assert_eq!(Language::negotiate(None, &all, Fr), Fr);
        assert_eq!(Language::negotiate(Some("ar-MA"), &all, Fr), Ar);
        assert_eq!(
            Language::negotiate(Some("de, en;q=0.5, ar;q=0.9"), &all, Fr),
            Ar
        );
        assert_eq!(Language::negotiate(Some("en, ar"), &all, Fr), En);
        assert_eq!(Language::negotiate(Some("de"), &all, Fr), Fr);
        assert_eq!(Language::negotiate(Some("en;q=0"), &all, Fr), Fr);
        assert_eq!(Language::negotiate(Some("*"), &all, Ar), Ar);
        assert_eq!(Language::negotiate(Some(";;;,,q="), &all, Fr), Fr);
    }

    #[test]
    fn falls_back_to_french() {
        let t = LocalizedText {
            fr: "Lampadaire éteint".into(),
            ar: Some("مصباح مطفأ".into()),
            en: None,
        };
        assert_eq!(t.get(Ar), "مصباح مطفأ");
        assert_eq!(t.get(En), "Lampadaire éteint");
    }
}
