//! OpenAPI descriptions of request bodies whose Rust types live in the domain crate (which
//! has no OpenAPI dependency): the business calendar, a service and a zone file. These
//! types are never deserialised; the handlers read the domain types, and a unit test keeps
//! the two in step (an example built from these shapes must parse as the domain type).

#![allow(dead_code)]

use std::collections::BTreeMap;

/// A working interval `HH:MM-HH:MM`, local time, start before end.
#[derive(Debug, utoipa::ToSchema)]
#[schema(value_type = String, pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$", example = "08:30-16:30")]
pub struct IntervalSchema(String);

#[derive(Debug, utoipa::ToSchema)]
pub struct HolidaySchema {
    #[schema(format = Date)]
    pub date: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum MovableHolidayKindSchema {
    EidAlFitr,
    EidAlAdha,
    IslamicNewYear,
    Mawlid,
}

#[derive(Debug, utoipa::ToSchema)]
pub struct MovableHolidaySchema {
    pub kind: MovableHolidayKindSchema,
    #[schema(format = Date)]
    pub first_day: String,
    /// Consecutive days off.
    #[schema(minimum = 1, maximum = 5)]
    pub days: u8,
}

#[derive(Debug, utoipa::ToSchema)]
pub struct DayOverrideSchema {
    #[schema(format = Date)]
    pub date: String,
    /// The working intervals of that date (empty: closed).
    pub intervals: Vec<IntervalSchema>,
    pub note: Option<String>,
}

#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum NationalHolidaysSchema {
    Morocco,
    None,
}

/// Body of `PUT /api/v1/staff/sla/calendar`.
#[derive(Debug, utoipa::ToSchema)]
#[schema(example = json!({
    "weekly_hours": {"monday": ["08:30-16:30"], "friday": ["08:30-11:30", "15:00-16:30"]},
    "national_holidays": "morocco",
    "holidays": [{"date": "2026-12-24", "name": "Moussem"}],
    "movable_holidays": [{"kind": "eid_al_fitr", "first_day": "2027-03-20", "days": 2}],
    "overrides": [{"date": "2027-02-18", "intervals": ["09:00-15:00"], "note": "Ramadan hours"}]
}))]
pub struct CalendarRequest {
    /// Working intervals per weekday in English, lower case (`monday` … `sunday`); a
    /// missing day is closed.
    pub weekly_hours: BTreeMap<String, Vec<IntervalSchema>>,
    pub national_holidays: NationalHolidaysSchema,
    pub holidays: Option<Vec<HolidaySchema>>,
    pub movable_holidays: Option<Vec<MovableHolidaySchema>>,
    pub overrides: Option<Vec<DayOverrideSchema>>,
}

#[derive(Debug, utoipa::ToSchema)]
pub struct LocalizedTextSchema {
    pub fr: String,
    pub ar: Option<String>,
    pub en: Option<String>,
}

#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum AttributeTypeSchema {
    String,
    Number,
    Datetime,
    Text,
    Singlevaluelist,
    Multivaluelist,
}

#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum PrioritySchema {
    Low,
    Normal,
    High,
    Urgent,
}

#[derive(Debug, utoipa::ToSchema)]
pub struct AttributeValueSchema {
    pub key: String,
    pub name: LocalizedTextSchema,
    /// Choosing this answer raises the report's priority to at least this.
    pub priority: Option<PrioritySchema>,
}

#[derive(Debug, utoipa::ToSchema)]
pub struct AttributeSchema {
    pub code: String,
    pub datatype: AttributeTypeSchema,
    pub required: bool,
    pub description: LocalizedTextSchema,
    /// The answers of list attributes (required for them, none for other types).
    pub values: Option<Vec<AttributeValueSchema>>,
    pub order: Option<u32>,
}

/// Body of `PUT /api/v1/staff/services/{code}`: the service (its `code` must be the
/// path's).
#[derive(Debug, utoipa::ToSchema)]
pub struct ServiceRequest {
    pub code: String,
    /// One of the commune's service groups (`waste`, `lighting`, `transport` or one added
    /// with `POST /api/v1/staff/service-groups`).
    pub group: String,
    pub name: LocalizedTextSchema,
    pub description: LocalizedTextSchema,
    pub keywords: Option<Vec<String>>,
    pub attributes: Option<Vec<AttributeSchema>>,
    pub sensitive: Option<bool>,
    pub default_priority: Option<PrioritySchema>,
}

#[derive(Debug, utoipa::ToSchema)]
pub struct ZonePropertiesSchema {
    /// The contract's reference in the commune's records.
    #[schema(max_length = 128)]
    pub contract: String,
    /// The operator's slug.
    #[schema(max_length = 64)]
    pub operator: String,
    #[schema(max_length = 200)]
    pub operator_name: String,
    #[schema(max_length = 200)]
    pub zone: String,
    /// One of the commune's service groups (`waste`, `lighting`, `transport`, …).
    pub service_group: String,
    #[schema(format = DateTime)]
    pub valid_from: String,
    #[schema(format = DateTime)]
    pub valid_until: Option<String>,
}

#[derive(Debug, utoipa::ToSchema)]
pub struct ZoneFeatureSchema {
    /// `Feature`.
    #[schema(rename = "type")]
    pub kind: String,
    pub properties: ZonePropertiesSchema,
    /// A GeoJSON Polygon or MultiPolygon (WGS84).
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
}

/// Body of `POST /api/v1/staff/zones`: a GeoJSON FeatureCollection of contract zones.
#[derive(Debug, utoipa::ToSchema)]
pub struct ZoneCollectionRequest {
    /// `FeatureCollection`.
    #[schema(rename = "type")]
    pub kind: String,
    pub features: Vec<ZoneFeatureSchema>,
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    #[test]
    fn the_staff_writes_of_issue_19_have_request_schemas() {
        let doc = serde_json::to_value(crate::openapi()).unwrap();
        for (path, method) in [
            ("/api/v1/staff/zones", "post"),
            ("/api/v1/staff/services/{code}", "put"),
            ("/api/v1/staff/sla/calendar", "put"),
        ] {
            let body = &doc["paths"][path][method]["requestBody"]["content"]["application/json"];
            let name = body["schema"]["$ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{path}: {body}"));
            let name = name.trim_start_matches("#/components/schemas/");
            let schema = &doc["components"]["schemas"][name];
            assert!(
                schema["required"].as_array().is_some_and(|r| !r.is_empty()),
                "{name}: {schema}"
            );
        }
    }

    #[test]
    fn the_calendar_example_is_a_calendar() {
        let schema = serde_json::to_value(super::CalendarRequest::schema()).unwrap();
        let example = schema["example"].clone();
        let spec: balagh_domain::sla::CalendarSpec = serde_json::from_value(example).unwrap();
        spec.build("Africa/Casablanca").unwrap();
    }
}

/// Body of `POST /api/v1/staff/service-groups` and `PUT /api/v1/staff/service-groups/{code}`:
/// a service group of your commune.
#[derive(Debug, utoipa::ToSchema)]
pub struct ServiceGroupRequest {
    /// Slug: 1-32 characters of a-z, 0-9 or '_', starting with a letter (e.g. `parks`).
    #[schema(max_length = 32, pattern = "^[a-z][a-z0-9_]*$")]
    pub code: String,
    /// Names (1-80 characters each); Arabic and English fall back to French.
    pub name: LocalizedTextSchema,
    /// An icon key the apps know (`waste`, `lighting`, `transport`); a generic icon
    /// otherwise.
    #[schema(max_length = 32)]
    pub icon: Option<String>,
    /// Display order, lowest first (the built-in groups are 10, 20 and 30; default 100).
    pub order: Option<u32>,
}
