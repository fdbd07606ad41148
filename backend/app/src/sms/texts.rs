//! The words of SMS answers, from the Fluent catalogues (`sms.ftl`).
//!
//! French and Arabic answers come from `fr` and `ar`; Darija written in Latin letters is
//! answered with the `sms-ary-*` messages kept in `ar/sms.ftl` (Darija is not a language of
//! the pages, so it gets no catalogue of its own). Fluent's bidirectional isolation marks
//! are removed: they would force every SMS into UCS-2 (70 characters instead of 160).

use balagh_domain::sms::{Menu, Msg, SmsLanguage};
use balagh_domain::{Language, ReportStatus};
use balagh_i18n::{Catalog, FluentValue};

/// One message of the conversation's language.
pub fn text(language: SmsLanguage, id: &str, args: &[(&str, FluentValue)]) -> String {
    let (catalogue, key) = match language {
        SmsLanguage::Fr => (Language::Fr, format!("sms-{id}")),
        SmsLanguage::Ar => (Language::Ar, format!("sms-{id}")),
        SmsLanguage::Darija => (Language::Ar, format!("sms-ary-{id}")),
    };
    Catalog::global()
        .text_with(catalogue, &key, args)
        .chars()
        .filter(|c| !matches!(c, '\u{2068}' | '\u{2069}'))
        .collect()
}

/// The numbered menu of service groups (`1 Déchets, 2 Éclairage, 3 Bus`).
pub fn menu_line(language: SmsLanguage, menu: &Menu) -> String {
    menu.groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let name = match (&g.name, language) {
                // Darija SMS are in Latin letters: the French name fits them best.
                (Some(name), SmsLanguage::Fr | SmsLanguage::Darija) => name.fr.clone(),
                (Some(name), SmsLanguage::Ar) => name.get(Language::Ar).to_owned(),
                (None, _) => text(language, &format!("group-{}", g.group), &[]),
            };
            format!("{} {name}", i + 1)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A status in words.
pub fn status(language: SmsLanguage, status: ReportStatus) -> String {
    text(language, &format!("status-{}", status.as_str()), &[])
}

/// The SMS of a report's public status change.
pub fn status_change(language: SmsLanguage, reference: &str, new: ReportStatus) -> String {
    text(
        language,
        "status-change",
        &[
            ("reference", FluentValue::from(reference.to_owned())),
            ("status", FluentValue::from(status(language, new))),
        ],
    )
}

/// The answer to a conversation's message.
pub fn render(
    language: SmsLanguage,
    msg: &Msg,
    menu: &Menu,
    max_chars: usize,
    place: Option<&str>,
) -> String {
    let menu_arg = || [("menu", FluentValue::from(menu_line(language, menu)))];
    match msg {
        Msg::AskService => text(language, "ask-service", &menu_arg()),
        Msg::ServiceNotUnderstood => text(language, "service-not-understood", &menu_arg()),
        Msg::AskPlace => text(language, "ask-place", &[]),
        Msg::PlaceNotFound => text(language, "place-not-found", &[]),
        Msg::AskDescription => text(
            language,
            "ask-description",
            &[("place", FluentValue::from(place.unwrap_or("?").to_owned()))],
        ),
        Msg::Help => text(language, "help", &[]),
        Msg::UnknownLanguage => format!(
            "{} / {}",
            text(SmsLanguage::Fr, "unknown-language", &[]),
            text(SmsLanguage::Ar, "unknown-language", &[])
        ),
        Msg::TooLong => text(
            language,
            "too-long",
            &[("max", FluentValue::from(max_chars as u64))],
        ),
        Msg::Stopped => text(language, "stopped", &[]),
        Msg::StatusUsage => text(language, "status-usage", &[]),
    }
}
