//! Balagh's words in French, Arabic and English, from Fluent catalogues
//! (`backend/i18n/locales/<language>/<area>.ftl`, one file per area of the product so a
//! translator edits one file per language and area).
//!
//! Fluent gives Arabic its six plural categories and isolates every placeable with
//! FSI/PDI, so a Latin reference inside an Arabic sentence keeps its order.
//!
//! A message missing in a language falls back to French, then to its own id (visible, never
//! a panic); the catalogue test proves every language has every French message.

use balagh_domain::Language;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use std::sync::OnceLock;

pub use fluent_bundle::FluentValue;

mod sources {
    include!(concat!(env!("OUT_DIR"), "/sources.rs"));
}

/// Every message of every language, parsed once.
pub struct Catalog {
    bundles: Vec<(Language, FluentBundle<FluentResource>)>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("languages", &self.bundles.len())
            .finish()
    }
}

impl Catalog {
    /// The catalogue built into the binary.
    pub fn global() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| Catalog::build().expect("the built-in Fluent catalogues parse"))
    }

    fn build() -> Result<Catalog, String> {
        let mut bundles = Vec::new();
        for language in Language::ALL {
            let id: unic_langid::LanguageIdentifier =
                language.code().parse().map_err(|e| format!("{e:?}"))?;
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            for (code, file, source) in sources::SOURCES {
                if *code != language.code() {
                    continue;
                }
                let resource = FluentResource::try_new((*source).to_owned())
                    .map_err(|(_, errors)| format!("{code}/{file}: {errors:?}"))?;
                bundle
                    .add_resource(resource)
                    .map_err(|errors| format!("{code}/{file}: {errors:?}"))?;
            }
            bundles.push((language, bundle));
        }
        Ok(Catalog { bundles })
    }

    fn bundle(&self, language: Language) -> &FluentBundle<FluentResource> {
        &self
            .bundles
            .iter()
            .find(|(l, _)| *l == language)
            .expect("every language has a bundle")
            .1
    }

    /// Whether `language` has the message `id` of its own (no fallback).
    pub fn has(&self, language: Language, id: &str) -> bool {
        self.bundle(language).has_message(id)
    }

    /// The message `id` in `language` without arguments.
    pub fn text(&self, language: Language, id: &str) -> String {
        self.format(language, id, None)
    }

    /// The message `id` in `language` with named arguments (`{ $name }` in the catalogue).
    pub fn text_with(&self, language: Language, id: &str, args: &[(&str, FluentValue)]) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            fluent.set(*name, value.clone());
        }
        self.format(language, id, Some(&fluent))
    }

    fn format(&self, language: Language, id: &str, args: Option<&FluentArgs>) -> String {
        for candidate in [language, Language::Fr] {
            let bundle = self.bundle(candidate);
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return bundle
                    .format_pattern(pattern, args, &mut errors)
                    .into_owned();
            }
        }
        id.to_owned()
    }

    /// The ids of the messages `language` lacks while French has them.
    pub fn missing(&self, language: Language) -> Vec<String> {
        let mut missing = Vec::new();
        for (code, _, source) in sources::SOURCES {
            if *code != "fr" {
                continue;
            }
            for id in message_ids(source) {
                if !self.has(language, &id) {
                    missing.push(id);
                }
            }
        }
        missing
    }
}

/// The ids of a Fluent source's messages (lines `id = …` at column 0).
fn message_ids(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|line| line.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|line| line.split_once('=').map(|(id, _)| id.trim().to_owned()))
        .collect()
}

/// A language's words, handed to templates: `{{ w.t("staff-triage-title") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Words {
    pub language: Language,
}

impl Words {
    pub fn new(language: Language) -> Self {
        Self { language }
    }

    pub fn t(&self, id: &str) -> String {
        Catalog::global().text(self.language, id)
    }

    /// One named argument, text or number.
    pub fn t1(&self, id: &str, name: &str, value: impl Into<FluentValue<'static>>) -> String {
        Catalog::global().text_with(self.language, id, &[(name, value.into())])
    }

    pub fn t2(
        &self,
        id: &str,
        first: (&str, FluentValue<'static>),
        second: (&str, FluentValue<'static>),
    ) -> String {
        Catalog::global().text_with(self.language, id, &[first, second])
    }

    /// `lang` attribute value.
    pub fn code(&self) -> &'static str {
        self.language.code()
    }

    /// `dir` attribute value.
    pub fn dir(&self) -> &'static str {
        match self.language {
            Language::Ar => "rtl",
            Language::Fr | Language::En => "ltr",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_french_message() {
        let catalog = Catalog::global();
        for language in [Language::Ar, Language::En] {
            assert_eq!(
                catalog.missing(language),
                Vec::<String>::new(),
                "{language:?}"
            );
        }
    }

    #[test]
    fn arabic_plurals_and_isolated_placeables() {
        let w = Words::new(Language::Ar);
        // Arabic distinguishes one, two, few (3–10) and many (11–99).
        let one = w.t1("common-reports-count", "count", 1);
        let two = w.t1("common-reports-count", "count", 2);
        let few = w.t1("common-reports-count", "count", 5);
        let many = w.t1("common-reports-count", "count", 11);
        assert_ne!(one, two);
        assert_ne!(few, many);
        let fr = Words::new(Language::Fr).t1("common-reference", "reference", "TET-2026-000123");
        assert!(fr.contains("\u{2068}TET-2026-000123\u{2069}"), "{fr}");
    }

    #[test]
    fn a_missing_message_falls_back_to_its_id() {
        assert_eq!(
            Words::new(Language::Ar).t("no-such-message"),
            "no-such-message"
        );
    }
}
