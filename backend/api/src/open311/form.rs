//! Parameters as Open311 clients send them: `application/x-www-form-urlencoded` bodies and
//! query strings, keys percent-encoded (`attribute%5Bbus_line%5D`), repeated for lists
//! (`media_url=…&media_url=…`, `attribute[x][]=a&attribute[x][]=b`). An empty value is the
//! same as no value.

use balagh_domain::FieldError;
use std::collections::BTreeMap;

/// Every `name=value` pair, decoded, in order.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// A pair whose decoded bytes are not UTF-8: every read answers it (a 400), rather than
    /// storing U+FFFD where the client sent something else.
    invalid: Option<FieldError>,
}

/// The values given for one `attribute[CODE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeInput {
    One(String),
    /// `attribute[CODE][]=…` or the same key repeated.
    Many(Vec<String>),
}

impl Params {
    pub fn parse(raw: &[u8]) -> Self {
        let mut params = Self::default();
        for pair in raw.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (key, value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            match (decode(key), decode(value)) {
                (Ok(key), Ok(value)) => params.pairs.push((key, value)),
                (Ok(key), Err(())) => {
                    params.invalid.get_or_insert(FieldError::new(key, NOT_UTF8));
                }
                (Err(()), _) => {
                    params
                        .invalid
                        .get_or_insert(FieldError::new("parameter name", NOT_UTF8));
                }
            }
        }
        params
    }

    /// A single-valued parameter: absent when missing or empty; given twice with different
    /// values, a 400. Any parameter that was not UTF-8 is a 400 here too.
    pub fn one(&self, name: &str) -> Result<Option<&str>, FieldError> {
        if let Some(invalid) = &self.invalid {
            return Err(invalid.clone());
        }
        let mut first: Option<&str> = None;
        for (key, value) in &self.pairs {
            let value = value.trim();
            if key != name || value.is_empty() {
                continue;
            }
            match first {
                None => first = Some(value),
                Some(seen) if seen != value => {
                    return Err(FieldError::new(name, "is given more than once"));
                }
                Some(_) => {}
            }
        }
        Ok(first)
    }

    /// The first of several names that has a value (`device_id`, `deviceid`).
    pub fn one_of(&self, names: &[&str]) -> Result<Option<&str>, FieldError> {
        for name in names {
            if let Some(value) = self.one(name)? {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    /// A repeatable parameter (`media_url`, also as `media_url[]`).
    pub fn many(&self, name: &str) -> Vec<&str> {
        let bracketed = format!("{name}[]");
        self.pairs
            .iter()
            .filter(|(k, _)| *k == name || *k == bracketed)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// `attribute[CODE]=v` (one value; repeated: a list) and `attribute[CODE][]=v` (a list),
    /// by code. Codes whose values are all empty are left out.
    pub fn attributes(&self) -> Result<BTreeMap<String, AttributeInput>, FieldError> {
        if let Some(invalid) = &self.invalid {
            return Err(invalid.clone());
        }
        let mut found: BTreeMap<String, AttributeInput> = BTreeMap::new();
        for (key, value) in &self.pairs {
            let Some(rest) = key.strip_prefix("attribute[") else {
                continue;
            };
            let Some((code, tail)) = rest.split_once(']') else {
                return Err(FieldError::new(key.clone(), "is not attribute[CODE]"));
            };
            let list = match tail {
                "" => false,
                "[]" => true,
                t if t.len() > 2
                    && t.starts_with('[')
                    && t.ends_with(']')
                    && t[1..t.len() - 1].bytes().all(|b| b.is_ascii_digit()) =>
                {
                    true
                }
                _ => {
                    return Err(FieldError::new(
                        key.clone(),
                        "is not attribute[CODE] nor attribute[CODE][]",
                    ));
                }
            };
            if code.is_empty() {
                return Err(FieldError::new(key.clone(), "names no attribute"));
            }
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let entry = found.remove(code);
            let next = match (entry, list) {
                (None, false) => AttributeInput::One(value.to_owned()),
                (None, true) => AttributeInput::Many(vec![value.to_owned()]),
                (Some(AttributeInput::One(first)), _) => {
                    AttributeInput::Many(vec![first, value.to_owned()])
                }
                (Some(AttributeInput::Many(mut values)), _) => {
                    values.push(value.to_owned());
                    AttributeInput::Many(values)
                }
            };
            found.insert(code.to_owned(), next);
        }
        Ok(found)
    }
}

const NOT_UTF8: &str = "is not valid UTF-8 (send percent-encoded UTF-8)";

/// `application/x-www-form-urlencoded` decoding (`+` is a space, `%XX` a byte), then strict
/// UTF-8: no lossy replacement.
fn decode(raw: &[u8]) -> Result<String, ()> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => match (
                rest.first().copied().and_then(hex),
                rest.get(1).copied().and_then(hex),
            ) {
                (Some(high), Some(low)) => {
                    bytes.push(high << 4 | low);
                    rest = &rest[2..];
                }
                // A `%` not followed by two hex digits stands for itself.
                _ => bytes.push(b'%'),
            },
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).map_err(|_| ())
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_refused_not_replaced() {
        for raw in [
            &b"description=%FF%FE"[..],
            b"description=caf\xe9",
            b"%FF=1&lat=2",
        ] {
            let params = Params::parse(raw);
            assert!(params.one("lat").is_err(), "{raw:?}");
            assert!(params.attributes().is_err(), "{raw:?}");
        }
        let fine = Params::parse(b"description=caf%C3%A9+%25+x%zz");
        assert_eq!(fine.one("description").unwrap(), Some("café % x%zz"));
    }

    #[test]
    fn percent_encoded_bracket_keys_and_repeats() {
        let p = Params::parse(
            b"attribute%5Bbus_line%5D=5&attribute%5Bstops%5D%5B%5D=a&attribute%5Bstops%5D%5B%5D=b\
              &attribute[colour]=red&attribute[colour]=blue&attribute[empty]=&media_url=http%3A%2F%2Fx\
              &media_url=http%3A%2F%2Fy&description=caf%C3%A9+au+lait&jurisdiction_id=",
        );
        let attributes = p.attributes().unwrap();
        assert_eq!(attributes["bus_line"], AttributeInput::One("5".into()));
        assert_eq!(
            attributes["stops"],
            AttributeInput::Many(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            attributes["colour"],
            AttributeInput::Many(vec!["red".into(), "blue".into()])
        );
        assert!(!attributes.contains_key("empty"));
        assert_eq!(p.many("media_url"), vec!["http://x", "http://y"]);
        assert_eq!(p.one("description").unwrap(), Some("café au lait"));
        assert_eq!(p.one("jurisdiction_id").unwrap(), None, "empty is absent");
        assert_eq!(p.one("missing").unwrap(), None);
    }

    #[test]
    fn conflicting_repeats_and_malformed_keys_are_refused() {
        let p = Params::parse(b"lat=1&lat=2");
        assert_eq!(p.one("lat").unwrap_err().field, "lat");
        let p = Params::parse(b"lat=1&lat=1");
        assert_eq!(p.one("lat").unwrap(), Some("1"));
        assert!(Params::parse(b"attribute[x=1").attributes().is_err());
        assert!(Params::parse(b"attribute[x][y]=1").attributes().is_err());
        assert!(Params::parse(b"attribute[]=1").attributes().is_err());
        assert!(Params::parse(b"attribute[x][0]=1").attributes().is_ok());
    }
}
