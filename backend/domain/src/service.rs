//! Services a resident can report about (Open311 "service"), and their extra attributes.

use crate::{FieldError, LocalizedText, Priority, ServiceGroup};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A service's stable code (Open311 `service_code`): 1–64 characters of `a-z 0-9 _ - .`,
/// starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ServiceCode(String);

impl ServiceCode {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && raw.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.')
            });
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                "service_code",
                "must be 1-64 characters of a-z, 0-9, '_', '-' or '.'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ServiceCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Value types of a service's extra attributes, as Open311 names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeType {
    /// A short line of text (≤ 200 characters).
    String,
    /// A finite number.
    Number,
    /// An RFC 3339 date and time with offset.
    Datetime,
    /// Free text (≤ 4000 characters).
    Text,
    /// One key among `values`.
    Singlevaluelist,
    /// Several keys among `values`.
    Multivaluelist,
}

/// One allowed value of a list attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValue {
    pub key: String,
    pub name: LocalizedText,
    /// Choosing this answer raises the report's priority to at least this (a hazard
    /// answer → `urgent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
}

/// An extra question a service asks (bus line, pole number, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeDefinition {
    pub code: String,
    pub datatype: AttributeType,
    pub required: bool,
    /// The question as shown to residents.
    pub description: LocalizedText,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<AttributeValue>,
    /// Display order, lowest first.
    #[serde(default)]
    pub order: u32,
}

const STRING_MAX_CHARS: usize = 200;
const TEXT_MAX_CHARS: usize = 4000;

impl AttributeDefinition {
    fn parse_value(&self, raw: &Value) -> Result<Value, FieldError> {
        let wrong = |what: &str| FieldError::new(self.code.clone(), format!("must be {what}"));
        let in_list = |key: &str| self.values.iter().any(|v| v.key == key);
        match self.datatype {
            AttributeType::String | AttributeType::Text => {
                let max = if self.datatype == AttributeType::String {
                    STRING_MAX_CHARS
                } else {
                    TEXT_MAX_CHARS
                };
                let s = raw.as_str().ok_or_else(|| wrong("a string"))?.trim();
                if s.is_empty() || s.chars().count() > max {
                    return Err(wrong(&format!("between 1 and {max} characters")));
                }
                if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                    return Err(wrong("text without control characters"));
                }
                Ok(Value::String(s.to_owned()))
            }
            AttributeType::Number => match raw {
                Value::Number(n) if n.as_f64().is_some_and(f64::is_finite) => Ok(raw.clone()),
                // Form-encoded clients (Open311) send numbers as strings.
                Value::String(s) => s
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| wrong("a number")),
                _ => Err(wrong("a number")),
            },
            AttributeType::Datetime => {
                let s = raw.as_str().ok_or_else(|| wrong("an RFC 3339 date-time"))?;
                time::OffsetDateTime::parse(
                    s.trim(),
                    &time::format_description::well_known::Rfc3339,
                )
                .map(|_| Value::String(s.trim().to_owned()))
                .map_err(|_| wrong("an RFC 3339 date-time with offset"))
            }
            AttributeType::Singlevaluelist => {
                let s = raw
                    .as_str()
                    .ok_or_else(|| wrong("one of the listed keys"))?;
                if in_list(s) {
                    Ok(Value::String(s.to_owned()))
                } else {
                    Err(wrong(&format!("one of: {}", self.keys())))
                }
            }
            AttributeType::Multivaluelist => {
                let items: Vec<&Value> = match raw {
                    Value::Array(a) => a.iter().collect(),
                    single @ Value::String(_) => vec![single],
                    _ => return Err(wrong("a list of keys")),
                };
                let mut keys: Vec<String> = Vec::with_capacity(items.len());
                for item in items {
                    match item.as_str() {
                        Some(k) if in_list(k) => {
                            if !keys.iter().any(|seen| seen == k) {
                                keys.push(k.to_owned());
                            }
                        }
                        _ => return Err(wrong(&format!("a list of: {}", self.keys()))),
                    }
                }
                if keys.is_empty() {
                    return Err(wrong("a non-empty list of keys"));
                }
                Ok(Value::Array(keys.into_iter().map(Value::String).collect()))
            }
        }
    }

    fn keys(&self) -> String {
        self.values
            .iter()
            .map(|v| v.key.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A service residents can report about, in one jurisdiction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub code: ServiceCode,
    pub group: ServiceGroup,
    pub name: LocalizedText,
    pub description: LocalizedText,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub attributes: Vec<AttributeDefinition>,
    /// Sensitive services (e.g. complaints about a driver) get stricter anonymisation.
    #[serde(default)]
    pub sensitive: bool,
    /// The priority its reports start with (`normal` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_priority: Option<Priority>,
}

impl Service {
    /// The priority a new report starts with: the service's default, raised by any answer
    /// whose value carries a higher one (never lowered).
    pub fn initial_priority(&self, answers: &AttributeValues) -> Priority {
        let base = self.default_priority.unwrap_or(Priority::Normal);
        let chosen = |definition: &AttributeDefinition, key: &str| {
            definition
                .values
                .iter()
                .find(|v| v.key == key)
                .and_then(|v| v.priority)
        };
        self.attributes
            .iter()
            .filter_map(|d| answers.as_map().get(&d.code).map(|answer| (d, answer)))
            .flat_map(|(d, answer)| {
                let keys: Vec<&str> = match answer {
                    Value::String(k) => vec![k.as_str()],
                    Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                keys.into_iter().filter_map(move |k| chosen(d, k))
            })
            .fold(base, Ord::max)
    }
}

/// Attribute values checked against a service's definitions: only known codes, every
/// required one present, each of the right type.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AttributeValues(Map<String, Value>);

impl AttributeValues {
    pub fn parse(service: &Service, raw: &Map<String, Value>) -> Result<Self, FieldError> {
        let mut parsed = Map::new();
        for (code, value) in raw {
            let definition = service
                .attributes
                .iter()
                .find(|d| &d.code == code)
                .ok_or_else(|| {
                    FieldError::new(
                        code.clone(),
                        format!("is not an attribute of service {}", service.code),
                    )
                    .within("attributes")
                })?;
            if value.is_null() {
                continue;
            }
            let value = definition
                .parse_value(value)
                .map_err(|e| e.within("attributes"))?;
            parsed.insert(code.clone(), value);
        }
        if let Some(missing) = service
            .attributes
            .iter()
            .find(|d| d.required && !parsed.contains_key(&d.code))
        {
            return Err(FieldError::new(missing.code.clone(), "is required").within("attributes"));
        }
        Ok(Self(parsed))
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(fr: &str) -> LocalizedText {
        LocalizedText {
            fr: fr.into(),
            ar: None,
            en: None,
        }
    }

    fn bus_service() -> Service {
        Service {
            code: ServiceCode::parse("bus_late").unwrap(),
            group: ServiceGroup::TRANSPORT,
            name: text("Bus en retard"),
            description: text("Un bus n'est pas passé"),
            keywords: vec![],
            sensitive: false,
            default_priority: None,
            attributes: vec![
                AttributeDefinition {
                    code: "bus_line".into(),
                    datatype: AttributeType::Singlevaluelist,
                    required: true,
                    description: text("Ligne"),
                    values: ["1", "5"]
                        .iter()
                        .map(|k| AttributeValue {
                            key: (*k).into(),
                            name: text(k),
                            // Line 5 crosses the market: a missed bus there is urgent.
                            priority: (*k == "5").then_some(Priority::Urgent),
                        })
                        .collect(),
                    order: 1,
                },
                AttributeDefinition {
                    code: "minutes_late".into(),
                    datatype: AttributeType::Number,
                    required: false,
                    description: text("Retard"),
                    values: vec![],
                    order: 2,
                },
            ],
        }
    }

    fn parse(v: serde_json::Value) -> Result<AttributeValues, FieldError> {
        AttributeValues::parse(&bus_service(), v.as_object().unwrap())
    }

    #[test]
    fn answers_raise_the_default_priority_never_lower_it() {
        let mut service = bus_service();
        let line1 = parse(json!({"bus_line": "1"})).unwrap();
        let line5 = parse(json!({"bus_line": "5"})).unwrap();
        assert_eq!(service.initial_priority(&line1), Priority::Normal);
        assert_eq!(service.initial_priority(&line5), Priority::Urgent);
        service.default_priority = Some(Priority::High);
        assert_eq!(service.initial_priority(&line1), Priority::High);
        service.default_priority = Some(Priority::Low);
        assert_eq!(service.initial_priority(&line1), Priority::Low);
        assert_eq!(service.initial_priority(&line5), Priority::Urgent);
    }

    #[test]
    fn service_code_rules() {
        assert!(ServiceCode::parse("street_light.out-1").is_ok());
        for bad in ["", "_x", "Bus", "a b", &"x".repeat(65), "é"] {
            assert!(ServiceCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn attributes_checked_against_definitions() {
        let ok = parse(json!({"bus_line": "5", "minutes_late": "12"})).unwrap();
        assert_eq!(ok.as_map()["minutes_late"], json!(12.0));
        assert_eq!(
            parse(json!({})).unwrap_err().field,
            "attributes.bus_line",
            "required attribute missing"
        );
        assert_eq!(
            parse(json!({"bus_line": "9"})).unwrap_err().field,
            "attributes.bus_line"
        );
        assert_eq!(
            parse(json!({"bus_line": "1", "colour": "red"}))
                .unwrap_err()
                .field,
            "attributes.colour"
        );
        assert_eq!(
            parse(json!({"bus_line": "1", "minutes_late": "soon"}))
                .unwrap_err()
                .field,
            "attributes.minutes_late"
        );
    }
}
