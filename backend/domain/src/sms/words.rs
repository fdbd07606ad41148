//! Words: language detection and the commands that work at any point.

use crate::places::fold;
use serde::{Deserialize, Serialize};

/// The language a conversation is held in.
///
/// Darija written in Arabic script is answered from the Arabic catalogue; Darija written in
/// Latin letters ("arabizi": `salam`, `daw tfa`, `3afak`) is answered in Latin-script Darija,
/// which also keeps each SMS in the GSM-7 alphabet (160 characters instead of 70).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsLanguage {
    Fr,
    Ar,
    Darija,
}

impl SmsLanguage {
    pub fn as_str(self) -> &'static str {
        match self {
            SmsLanguage::Fr => "fr",
            SmsLanguage::Ar => "ar",
            SmsLanguage::Darija => "ary",
        }
    }
}

/// Words that say a Latin-script message is French.
const FRENCH: &[&str] = &[
    "bonjour",
    "bonsoir",
    "salut",
    "merci",
    "le",
    "les",
    "un",
    "une",
    "des",
    "du",
    "de",
    "est",
    "sont",
    "il",
    "elle",
    "pas",
    "ne",
    "plus",
    "dans",
    "sur",
    "rue",
    "avenue",
    "quartier",
    "poubelle",
    "poubelles",
    "ordures",
    "dechets",
    "lampadaire",
    "lampe",
    "eclairage",
    "lumiere",
    "panne",
    "eteint",
    "autobus",
    "arret",
    "retard",
    "signaler",
    "probleme",
    "depuis",
    "jours",
    "devant",
    "pres",
    "je",
    "nous",
    "mon",
    "ma",
    "notre",
    "veux",
    "voudrais",
    "svp",
    "oui",
    "non",
    "aide",
    "statut",
    "collecte",
    "conteneur",
    "plein",
    "sale",
    "ligne",
    "pour",
    "avec",
    "et",
    "au",
    "aux",
    "rien",
    "toujours",
];

/// Words that say a Latin-script message is Darija (arabizi).
const DARIJA: &[&str] = &[
    "salam", "slm", "salamo", "salamu", "ahlan", "bghit", "bghina", "kayn", "kayna", "kaynin",
    "makaynch", "mkaynch", "wach", "wash", "chi", "shi", "had", "hadi", "hada", "dyal", "dial",
    "diel", "lbarh", "lyoum", "lyom", "daba", "bzaf", "bezzaf", "zbel", "zbal", "lazbal", "lazbel",
    "zebel", "daw", "dow", "dou", "tfa", "tafi", "tafya", "mtafi", "tobis", "tubis", "tobiss",
    "lkar", "derb", "houma", "chokran", "choukran", "shokran", "afak", "mzyan", "walo", "ghir",
    "mazal", "hna", "temma", "fin", "ana", "nta", "nti", "rah", "ra", "ta", "khoya", "lmahatta",
    "mahatta", "zan9a", "tri9", "3afak", "3awni",
];

/// A Latin word mixing letters with the digits arabizi uses for Arabic sounds (3, 7, 9…).
fn arabizi_digits(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_alphabetic())
        && word
            .chars()
            .any(|c| matches!(c, '2' | '3' | '5' | '7' | '9'))
        && !word.starts_with('l')
        && word.chars().all(|c| c.is_ascii_alphanumeric())
}

fn is_arabic(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

/// The folded words of a message (lower case, no accents, Arabic letter variants unified).
pub(crate) fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The language of a message, if it says enough: Arabic script is Arabic (Darija in Arabic
/// script included); Latin script is French or Darija by the words it uses; digits and
/// unknown words alone say nothing.
pub fn detect(text: &str) -> Option<SmsLanguage> {
    let arabic = text.chars().filter(|c| is_arabic(*c)).count();
    let latin = text
        .chars()
        .filter(|c| c.is_alphabetic() && !is_arabic(*c))
        .count();
    if arabic > 0 && arabic >= latin {
        return Some(SmsLanguage::Ar);
    }
    let words = words(text);
    let darija = words
        .iter()
        .filter(|w| DARIJA.contains(&w.as_str()) || arabizi_digits(w))
        .count();
    let french = words
        .iter()
        .filter(|w| FRENCH.contains(&w.as_str()))
        .count();
    match (french, darija) {
        (0, 0) => None,
        (f, d) if d > f => Some(SmsLanguage::Darija),
        _ => Some(SmsLanguage::Fr),
    }
}

/// What works at any point of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `STATUS <reference>` (`None`: no reference given).
    Status(Option<String>),
    /// No more SMS about reports (until the resident writes again).
    Stop,
    Help,
}

const STOP: &[&str] = &[
    "stop", "arret", "arreter", "stopper", "توقف", "قف", "baraka", "barka",
];
const HELP: &[&str] = &[
    "aide",
    "help",
    "مساعده",
    "3awni",
    "awni",
    "menu",
    "?",
    "عاوني",
];
const STATUS: &[&str] = &["status", "statut", "etat", "suivi", "حاله", "7ala", "hala"];

/// The command a message is, if any.
pub fn command(text: &str) -> Option<Command> {
    let trimmed = text.trim();
    if trimmed == "?" {
        return Some(Command::Help);
    }
    let words = words(trimmed);
    let first = words.first()?;
    if words.len() == 1 && STOP.contains(&first.as_str()) {
        return Some(Command::Stop);
    }
    if words.len() == 1 && HELP.contains(&first.as_str()) {
        return Some(Command::Help);
    }
    if STATUS.contains(&first.as_str()) && words.len() <= 3 {
        // References look like `TET-7K2M9Q4X`: folding split them at the dash.
        let rest: Vec<&str> = trimmed.split_whitespace().skip(1).collect();
        let reference = rest.join("").to_uppercase();
        return Some(Command::Status(
            (!reference.is_empty()).then_some(reference),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_french_arabic_and_darija_in_both_scripts() {
        assert_eq!(
            detect("Bonjour, la poubelle est pleine"),
            Some(SmsLanguage::Fr)
        );
        assert_eq!(detect("salam, daw tfa f derb"), Some(SmsLanguage::Darija));
        assert_eq!(detect("slm zbel bzaf"), Some(SmsLanguage::Darija));
        assert_eq!(detect("3afak tobis ma jach"), Some(SmsLanguage::Darija));
        assert_eq!(detect("ضو طفا"), Some(SmsLanguage::Ar));
        assert_eq!(detect("الأزبال في الزنقة"), Some(SmsLanguage::Ar));
        assert_eq!(detect("2"), None);
        assert_eq!(detect("xqzw vbnm"), None);
    }

    #[test]
    fn commands_work_in_every_language() {
        assert_eq!(command("STOP"), Some(Command::Stop));
        assert_eq!(command(" arrêt "), Some(Command::Stop));
        assert_eq!(command("توقف"), Some(Command::Stop));
        assert_eq!(command("AIDE"), Some(Command::Help));
        assert_eq!(command("مساعدة"), Some(Command::Help));
        assert_eq!(command("help"), Some(Command::Help));
        assert_eq!(
            command("STATUS tet-7k2m9q4x"),
            Some(Command::Status(Some("TET-7K2M9Q4X".into())))
        );
        assert_eq!(
            command("حالة TET-7K2M9Q4X"),
            Some(Command::Status(Some("TET-7K2M9Q4X".into())))
        );
        assert_eq!(command("statut"), Some(Command::Status(None)));
        assert_eq!(command("stop the bus please"), None);
        assert_eq!(command("daw tfa"), None);
    }
}
