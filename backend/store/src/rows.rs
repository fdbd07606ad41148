//! Rows as the databases return them, and their conversion into domain values. Shared by
//! both backends: `sqlx::FromRow` is generic over the database.

use crate::{OperatorRecord, StoreError, StoredEvent, StoredReport, Ts};
use balagh_domain::event::Actor;
use balagh_domain::jurisdiction::JurisdictionSettings;
use balagh_domain::zones::{area_to_geojson, parse_area};
use balagh_domain::{
    Channel, Contract, ContractId, EventKind, GeoPoint, Jurisdiction, Language, Operator,
    OperatorId, Priority, PublicReference, ReportStatus, Service, ServiceCode, ServiceGroup, Slug,
};
use geo::MultiPolygon;
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

fn slug(raw: &str) -> Result<Slug, StoreError> {
    Slug::parse("slug", raw).map_err(|e| corrupt("slug", e))
}

/// Areas are kept as GeoJSON geometry text in both databases.
pub fn area_to_json(area: &MultiPolygon<f64>) -> Value {
    serde_json::to_value(area_to_geojson(area)).expect("geometry serializes")
}

fn area_from_json(value: Value) -> Result<MultiPolygon<f64>, StoreError> {
    let geometry: geojson::Geometry =
        serde_json::from_value(value).map_err(|e| corrupt("geometry", e))?;
    parse_area(&geometry).map_err(|e| corrupt("geometry", e))
}

#[derive(Debug, sqlx::FromRow)]
pub struct JurisdictionRow {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    pub languages: Json<Vec<Language>>,
    pub default_language: String,
    pub reference_prefix: String,
    pub boundary: Json<Value>,
    pub statistics: Json<balagh_domain::stats::StatisticsOverrides>,
    pub currency_code: String,
    pub currency_exponent: i32,
}

impl JurisdictionRow {
    pub fn into_domain(self) -> Result<Jurisdiction, StoreError> {
        let default_language = Language::parse(&self.default_language)
            .ok_or_else(|| corrupt("default_language", &self.default_language))?;
        Jurisdiction::parse(
            JurisdictionSettings {
                id: self.id,
                name: self.name,
                time_zone: self.time_zone,
                languages: self.languages.0,
                default_language,
                reference_prefix: self.reference_prefix,
                statistics: self.statistics.0,
                currency: currency(&self.currency_code, self.currency_exponent)?,
            },
            area_from_json(self.boundary.0)?,
        )
        .map_err(|e| corrupt("jurisdiction", e))
    }
}

fn currency(code: &str, exponent: i32) -> Result<balagh_domain::Currency, StoreError> {
    u8::try_from(exponent)
        .ok()
        .and_then(|e| balagh_domain::Currency::new(code, e).ok())
        .ok_or_else(|| corrupt("currency", code))
}

#[derive(Debug, sqlx::FromRow)]
pub struct ServiceRow {
    pub jurisdiction_id: String,
    pub definition: Json<Service>,
}

#[derive(Debug, sqlx::FromRow)]
pub struct OperatorRow {
    pub id: Uuid,
    pub jurisdiction_id: String,
    pub slug: String,
    pub name: String,
}

impl OperatorRow {
    pub fn into_domain(self) -> Result<OperatorRecord, StoreError> {
        Ok(OperatorRecord {
            jurisdiction: slug(&self.jurisdiction_id)?,
            operator: Operator {
                id: OperatorId(self.id),
                slug: slug(&self.slug)?,
                name: self.name,
            },
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ContractRow {
    pub id: Uuid,
    pub jurisdiction_id: String,
    pub reference: String,
    pub operator_id: Uuid,
    pub service_group: String,
    pub zone_name: String,
    pub zone: Json<Value>,
    pub valid_from: Ts,
    pub valid_until: Option<Ts>,
}

impl ContractRow {
    pub fn into_domain(self) -> Result<Contract, StoreError> {
        Ok(Contract {
            id: ContractId(self.id),
            jurisdiction: slug(&self.jurisdiction_id)?,
            reference: self.reference,
            operator: OperatorId(self.operator_id),
            group: ServiceGroup::parse(&self.service_group)
                .map_err(|_| corrupt("service_group", &self.service_group))?,
            zone_name: self.zone_name,
            zone: area_from_json(self.zone.0)?,
            valid_from: self.valid_from.get(),
            valid_until: self.valid_until.map(Ts::get),
        })
    }
}

/// The columns of `reports` every read selects, in [`ReportRow`]'s order.
pub const REPORT_COLUMNS: &str = "id, reference, jurisdiction_id, service_code, lat, lon, \
    accuracy_m, description, attributes, channel, status, priority, operator_id, contract_id, \
    device_id, request_hash, supporters, version, created_at, updated_at, assignee_id, \
    duplicate_of, description_hidden, due_at, resolved_at, rating, contact, created_by, \
    description_approved";

#[derive(Debug, sqlx::FromRow)]
pub struct ReportRow {
    pub id: Uuid,
    pub reference: String,
    pub jurisdiction_id: String,
    pub service_code: String,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub description: String,
    pub attributes: Json<Value>,
    pub channel: String,
    pub status: String,
    pub priority: String,
    pub operator_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub device_id: Option<Uuid>,
    pub request_hash: Option<Vec<u8>>,
    pub supporters: i64,
    pub version: i64,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub assignee_id: Option<Uuid>,
    pub duplicate_of: Option<Uuid>,
    pub description_hidden: bool,
    pub due_at: Option<Ts>,
    pub resolved_at: Option<Ts>,
    pub rating: Option<i32>,
    pub contact: Option<Json<Value>>,
    pub created_by: Option<Uuid>,
    pub description_approved: bool,
}

impl ReportRow {
    pub fn into_domain(self) -> Result<StoredReport, StoreError> {
        Ok(StoredReport {
            id: self.id,
            reference: PublicReference::from_stored(self.reference),
            jurisdiction: slug(&self.jurisdiction_id)?,
            service_code: ServiceCode::parse(&self.service_code)
                .map_err(|e| corrupt("service_code", e))?,
            point: GeoPoint::parse(self.lat, self.lon).map_err(|e| corrupt("point", e))?,
            accuracy_m: self.accuracy_m,
            description: self.description,
            attributes: self.attributes.0,
            channel: Channel::parse(&self.channel)
                .ok_or_else(|| corrupt("channel", &self.channel))?,
            status: ReportStatus::parse(&self.status)
                .ok_or_else(|| corrupt("status", &self.status))?,
            priority: Priority::parse(&self.priority)
                .ok_or_else(|| corrupt("priority", &self.priority))?,
            operator: self.operator_id.map(OperatorId),
            contract: self.contract_id.map(ContractId),
            device: self.device_id,
            request_hash: self.request_hash,
            supporters: self.supporters,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            assignee: self.assignee_id,
            duplicate_of: self.duplicate_of,
            description_hidden: self.description_hidden,
            due_at: self.due_at,
            resolved_at: self.resolved_at,
            rating: self.rating.map(|r| r as u8),
            contact: self.contact.map(|c| c.0),
            created_by: self.created_by,
            description_approved: self.description_approved,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct EventRow {
    pub id: Uuid,
    pub report_id: Uuid,
    pub kind: String,
    pub actor: String,
    pub public: bool,
    pub data: Json<Value>,
    pub at: Ts,
}

impl EventRow {
    pub fn into_domain(self) -> Result<StoredEvent, StoreError> {
        Ok(StoredEvent {
            id: self.id,
            report_id: self.report_id,
            kind: EventKind::parse(&self.kind).ok_or_else(|| corrupt("event kind", &self.kind))?,
            actor: Actor::from_stored(&self.actor).ok_or_else(|| corrupt("actor", &self.actor))?,
            public: self.public,
            data: self.data.0,
            at: self.at,
        })
    }
}

/// Converts every row, failing on the first corrupt one.
pub fn convert_all<R, T>(
    rows: Vec<R>,
    convert: impl Fn(R) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(convert).collect()
}
