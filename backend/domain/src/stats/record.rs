//! A detector of personal data for export tests (the publication gate's screen of free
//! text, [`crate::publish::screen`], builds on its phone and e-mail rules).
//!
//! [`contains_personal_data`] finds what must never appear in a public file: e-mail
//! addresses; Moroccan and Tunisian phone numbers (`+212`/`00212` then 9 digits starting
//! 5–7, or `0` + 5–7 and 8 more digits; `+216`/`00216` then 8 digits; spaces, dots, dashes
//! or slashes between digit groups allowed; bare 8-digit Tunisian local numbers are not
//! flagged, as they cannot be told from other numbers); and decimal coordinates (a number
//! with at least 4 decimals, of absolute value at most 180, negative or with a non-zero
//! whole part: `35.5785`, `-5.3684`). So exports write shares as fractions below 1 or
//! with at most 3 decimals, and means with at most 3 decimals.

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
