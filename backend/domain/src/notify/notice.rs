//! Service notices: what the commune or an operator tells residents of an area.

use crate::{FieldError, Language};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    PlannedInterruption,
    CollectionDelay,
    Diversion,
    Other,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 4] = [
        Self::PlannedInterruption,
        Self::CollectionDelay,
        Self::Diversion,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PlannedInterruption => "planned_interruption",
            Self::CollectionDelay => "collection_delay",
            Self::Diversion => "diversion",
            Self::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| {
                FieldError::new(
                    "kind",
                    "must be planned_interruption, collection_delay, diversion or other",
                )
            })
    }
}

/// A notice's title and body in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeText {
    pub title: String,
    pub body: String,
}

/// The notice's words, in at least the jurisdiction's default language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeTexts(BTreeMap<&'static str, NoticeText>);

impl NoticeTexts {
    pub const MAX_TITLE_CHARS: usize = 120;
    pub const MAX_BODY_CHARS: usize = 2000;

    /// Texts keyed by language code, in languages the jurisdiction speaks, including its
    /// default language.
    pub fn parse(
        texts: &BTreeMap<String, (String, String)>,
        languages: &[Language],
        default: Language,
    ) -> Result<Self, FieldError> {
        let mut out = BTreeMap::new();
        for (code, (title, body)) in texts {
            let language = Language::parse(code)
                .filter(|l| languages.contains(l) && l.code() == code)
                .ok_or_else(|| {
                    FieldError::new(
                        format!("texts.{code}"),
                        "is not a language of this jurisdiction",
                    )
                })?;
            let field = |name: &str| format!("texts.{code}.{name}");
            let title = checked(&field("title"), title, Self::MAX_TITLE_CHARS)?;
            let body = checked(&field("body"), body, Self::MAX_BODY_CHARS)?;
            out.insert(language.code(), NoticeText { title, body });
        }
        if !out.contains_key(default.code()) {
            return Err(FieldError::new(
                format!("texts.{}", default.code()),
                "is required (the jurisdiction's default language)",
            ));
        }
        Ok(Self(out))
    }

    /// The text in `language`, else in `fallback` (always present once parsed).
    pub fn get(&self, language: Language, fallback: Language) -> &NoticeText {
        self.0
            .get(language.code())
            .or_else(|| self.0.get(fallback.code()))
            .or_else(|| self.0.values().next())
            .expect("parsed texts are never empty")
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &NoticeText)> {
        self.0.iter().map(|(k, v)| (*k, v))
    }
}

fn checked(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// When a notice is shown: from (default now) until a later end, at most a year long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeWindow {
    pub from: Timestamp,
    pub until: Timestamp,
}

impl NoticeWindow {
    pub const MAX_LENGTH: SignedDuration = SignedDuration::from_hours(366 * 24);

    pub fn parse(
        from: Option<Timestamp>,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<Self, FieldError> {
        let from = from.unwrap_or(now);
        if until <= from {
            return Err(FieldError::new("valid_until", "must be after valid_from"));
        }
        if until <= now {
            return Err(FieldError::new("valid_until", "must be in the future"));
        }
        if until.duration_since(from) > Self::MAX_LENGTH {
            return Err(FieldError::new(
                "valid_until",
                "a notice lasts at most 366 days",
            ));
        }
        Ok(Self { from, until })
    }

    pub fn is_active(&self, now: Timestamp) -> bool {
        self.from <= now && now < self.until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(entries: &[(&str, &str, &str)]) -> BTreeMap<String, (String, String)> {
        entries
            .iter()
            .map(|(l, t, b)| (l.to_string(), (t.to_string(), b.to_string())))
            .collect()
    }

    #[test]
    fn texts_need_the_default_language_and_known_languages() {
        let all = Language::ALL;
        let ok = NoticeTexts::parse(
            &texts(&[
                ("fr", "Collecte retardée", "Demain"),
                ("ar", "تأخير", "غدا"),
            ]),
            &all,
            Language::Fr,
        )
        .unwrap();
        assert_eq!(ok.get(Language::Ar, Language::Fr).title, "تأخير");
        assert_eq!(
            ok.get(Language::En, Language::Fr).title,
            "Collecte retardée"
        );
        let missing = NoticeTexts::parse(&texts(&[("ar", "x", "y")]), &all, Language::Fr);
        assert_eq!(missing.unwrap_err().field, "texts.fr");
        let unknown = NoticeTexts::parse(
            &texts(&[("fr", "x", "y"), ("de", "x", "y")]),
            &all,
            Language::Fr,
        );
        assert_eq!(unknown.unwrap_err().field, "texts.de");
        let empty = NoticeTexts::parse(&texts(&[("fr", " ", "y")]), &all, Language::Fr);
        assert_eq!(empty.unwrap_err().field, "texts.fr.title");
        let long = "x".repeat(121);
        let too_long = NoticeTexts::parse(&texts(&[("fr", &long, "y")]), &all, Language::Fr);
        assert_eq!(too_long.unwrap_err().field, "texts.fr.title");
    }

    #[test]
    fn windows_end_after_they_start_and_in_the_future() {
        let now: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        let later: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let w = NoticeWindow::parse(None, later, now).unwrap();
        assert!(w.is_active(now) && !w.is_active(later));
        assert!(NoticeWindow::parse(Some(later), now, now).is_err());
        let past: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let before: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
        assert!(NoticeWindow::parse(Some(before), past, now).is_err());
        let far: Timestamp = "2028-01-01T00:00:00Z".parse().unwrap();
        assert!(NoticeWindow::parse(None, far, now).is_err());
        assert_eq!(
            NoticeKind::parse("diversion").unwrap(),
            NoticeKind::Diversion
        );
        assert!(NoticeKind::parse("strike").is_err());
    }
}
