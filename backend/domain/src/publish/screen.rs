//! The automatic screen of free text before it is published: a description (or an operator's
//! note) is shown to the public only when staff approved it or this screen finds no personal
//! data in it.
//!
//! It looks for what residents actually write into complaints in Tétouan: phone numbers in
//! Moroccan and Tunisian formats (Western or Arabic-Indic digits, with spaces, dots, dashes
//! or slashes), e-mail addresses, national identity card (CIN) numbers (one or two Latin
//! letters then 5–6 digits: `K123456`, `AB 12345`), Moroccan licence plates (`12345-أ-6`,
//! `12345 | ب | 26`, `12345-A-6`, and `WW` plates), and names introduced by "je m'appelle",
//! "mon nom est", "my name is", "اسمي", "أنا اسمي", and Darija in Latin script ("smiti",
//! "ana smiti"). It errs on the side of withholding: a false alarm only means a text waits
//! for a member of staff.

use std::fmt;

/// What kind of personal data the screen found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Finding {
    Phone,
    Email,
    NationalId,
    LicencePlate,
    Name,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Finding::Phone => "phone number",
            Finding::Email => "e-mail address",
            Finding::NationalId => "national identity number",
            Finding::LicencePlate => "licence plate",
            Finding::Name => "name",
        })
    }
}

/// Everything the screen finds in `text` (each kind once, in [`Finding`] order).
pub fn screen(text: &str) -> Vec<Finding> {
    let normal = normalise(text);
    let mut out = Vec::new();
    if crate::stats::record::contains_phone(&normal) {
        out.push(Finding::Phone);
    }
    if crate::stats::record::contains_email(&normal) {
        out.push(Finding::Email);
    }
    if contains_national_id(&normal) {
        out.push(Finding::NationalId);
    }
    if contains_licence_plate(&normal) {
        out.push(Finding::LicencePlate);
    }
    if introduces_a_name(&normal) {
        out.push(Finding::Name);
    }
    out
}

/// Whether the screen lets `text` through.
pub fn is_clean(text: &str) -> bool {
    screen(text).is_empty()
}

/// Arabic-Indic and Eastern Arabic-Indic digits as ASCII digits, Arabic letters' tatweel
/// dropped, and the look-alike separators residents type (`–`, `·`, NBSP) made plain.
fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| *c != '\u{0640}')
        .map(|c| match c {
            '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
            '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            '\u{00A0}' | '\u{202F}' | '\u{2009}' => ' ',
            '\u{00B7}' | '\u{2022}' => '.',
            c => c,
        })
        .collect()
}

/// Words made of ASCII letters and digits, with their positions in `chars`.
fn tokens(chars: &[char]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_alphanumeric() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

/// One or two Latin letters then 5 or 6 digits, as one word or as two (`AB 123456`). Words
/// such as "W20" or "A4" are too short to be a CIN; years ("2026") have no letter.
fn contains_national_id(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let words = tokens(&chars);
    let word = |(s, e): (usize, usize)| chars[s..e].iter().collect::<String>();
    let is_id = |letters: &str, digits: &str| {
        (1..=2).contains(&letters.len())
            && letters.chars().all(|c| c.is_ascii_alphabetic())
            && (5..=6).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
    };
    words.iter().enumerate().any(|(n, w)| {
        let w = word(*w);
        let split = w.find(|c: char| c.is_ascii_digit()).unwrap_or(w.len());
        let (letters, digits) = w.split_at(split);
        let glued = is_id(letters, digits)
            && (letters.chars().all(|c| c.is_ascii_uppercase())
                || (letters.len() == 1 && digits.len() == 6));
        let spaced = digits.is_empty()
            && letters.chars().all(|c| c.is_ascii_uppercase())
            && words.get(n + 1).is_some_and(|next| {
                let gap = &chars[words[n].1..next.0];
                gap.iter().all(|c| *c == ' ') && gap.len() == 1 && is_id(letters, &word(*next))
            });
        glued || spaced
    })
}

/// The Arabic letters of Moroccan plates (أ ب د هـ و ط ...): any Arabic letter between two
/// digit groups, or a Latin capital in the same place, or a `WW` plate.
fn contains_licence_plate(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let is_arabic_letter = |c: char| ('\u{0621}'..='\u{064A}').contains(&c);
    let separator = |c: char| matches!(c, ' ' | '-' | '|' | '/' | '.');
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && chars[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let first = i - start;
        // WW 123456 / WW-123456: the temporary plates.
        if (1..=6).contains(&first) {
            let mut j = i;
            while j < chars.len() && separator(chars[j]) {
                j += 1;
            }
            let letter = chars.get(j).copied();
            let letter_ok = letter.is_some_and(|c| {
                is_arabic_letter(c)
                    || (c.is_ascii_uppercase()
                        && !chars.get(j + 1).is_some_and(|n| n.is_ascii_alphabetic()))
            });
            if j > i && letter_ok {
                let mut k = j + 1;
                // A two-character Arabic letter form such as "هـ".
                while k < chars.len() && is_arabic_letter(chars[k]) && k < j + 2 {
                    k += 1;
                }
                let before = k;
                while k < chars.len() && separator(chars[k]) {
                    k += 1;
                }
                let digits_start = k;
                while k < chars.len() && chars[k].is_ascii_digit() {
                    k += 1;
                }
                if k > before && (1..=2).contains(&(k - digits_start)) && first >= 3 {
                    return true;
                }
            }
        }
    }
    let upper = text.to_uppercase();
    upper.match_indices("WW").any(|(at, _)| {
        let rest: String = upper[at + 2..]
            .chars()
            .skip_while(|c| matches!(c, ' ' | '-'))
            .take_while(char::is_ascii_digit)
            .collect();
        (4..=6).contains(&rest.len())
    })
}

/// A phrase that introduces the writer's (or someone's) name, followed by a word.
fn introduces_a_name(text: &str) -> bool {
    const PHRASES: [&str; 12] = [
        "je m'appelle",
        "je m’appelle",
        "mon nom est",
        "mon nom c'est",
        "my name is",
        "smiti",
        "esmi ",
        "ismi ",
        "اسمي",
        "إسمي",
        "سميتي",
        "انا اسمي",
    ];
    let lower = text.to_lowercase();
    PHRASES.iter().any(|phrase| {
        lower.match_indices(phrase).any(|(at, _)| {
            let rest = lower[at + phrase.len()..].trim_start_matches([' ', ':', ',', '-']);
            rest.chars().next().is_some_and(char::is_alphabetic)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_found() {
        assert_eq!(
            screen("Appelez-moi au 06 12 34 56 78"),
            vec![Finding::Phone]
        );
        assert_eq!(screen("اتصلوا بي ٠٦١٢٣٤٥٦٧٨"), vec![Finding::Phone]);
        assert_eq!(screen("écrire à karim.b@gmail.com"), vec![Finding::Email]);
        assert_eq!(screen("CIN K123456 perdue"), vec![Finding::NationalId]);
        assert_eq!(screen("CIN AB 12345"), vec![Finding::NationalId]);
        assert_eq!(
            screen("la voiture 12345-أ-6 bloque"),
            vec![Finding::LicencePlate]
        );
        assert!(screen("plaque WW 123456").contains(&Finding::LicencePlate));
        assert_eq!(screen("Je m'appelle Karim"), vec![Finding::Name]);
        assert_eq!(screen("اسمي كريم"), vec![Finding::Name]);
        assert_eq!(screen("ana smiti youssef"), vec![Finding::Name]);
    }

    #[test]
    fn ordinary_complaints_pass() {
        for text in [
            "Lampadaire éteint depuis 3 jours rue 12",
            "Bus ligne 7 en retard de 40 minutes, arrêt 15",
            "الحاوية ممتلئة منذ يومين قرب المسجد",
            "Poubelle débordée, 2 sacs par terre",
            "Poteau n° 4521 penché",
            "Le bus A4 ne passe plus",
        ] {
            assert!(is_clean(text), "{text}: {:?}", screen(text));
        }
    }
}
