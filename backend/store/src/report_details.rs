//! A report with its history and photos in one statement, so that reading a report by id
//! costs one database round trip (and one pooled connection) instead of three: the events
//! and photos are aggregated into JSON arrays next to the report's columns (`json_agg` on
//! PostgreSQL, `json_group_array` on SQLite), then turned into the same rows the separate
//! queries read, through the same conversions.

use crate::{
    Backend, EventRow, PhotoRow, REPORT_COLUMNS, ReportRow, Result, StoreError, StoredEvent,
    StoredPhoto, StoredReport, Ts,
};
use serde::Deserialize;
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

/// What a resident's view of one report shows: the report, its events and its photos,
/// each list oldest first (as `report_events` and `report_photos` return them).
#[derive(Debug, Clone)]
pub struct ReportDetails {
    pub report: StoredReport,
    pub events: Vec<StoredEvent>,
    pub photos: Vec<StoredPhoto>,
}

/// How a column is written into JSON so that both databases give the same text.
#[derive(Clone, Copy)]
enum Kind {
    /// UUIDs: text on PostgreSQL, 16-byte blobs on SQLite (written as hex).
    Uuid,
    /// Text and numbers, the same in both.
    Plain,
    /// Booleans: `boolean` on PostgreSQL, 0/1 on SQLite.
    Bool,
    /// Instants: `timestamptz` on PostgreSQL, microseconds since the epoch on SQLite.
    Instant,
    /// JSON documents: `jsonb` on PostgreSQL, text on SQLite.
    Document,
}

const EVENT_FIELDS: &[(&str, Kind)] = &[
    ("id", Kind::Uuid),
    ("report_id", Kind::Uuid),
    ("kind", Kind::Plain),
    ("actor", Kind::Plain),
    ("public", Kind::Bool),
    ("data", Kind::Document),
    ("at", Kind::Instant),
];

const PHOTO_FIELDS: &[(&str, Kind)] = &[
    ("id", Kind::Uuid),
    ("report_id", Kind::Uuid),
    ("uploader_kind", Kind::Plain),
    ("device_id", Kind::Uuid),
    ("user_id", Kind::Uuid),
    ("operator_id", Kind::Uuid),
    ("purpose", Kind::Plain),
    ("detected_type", Kind::Plain),
    ("width", Kind::Plain),
    ("height", Kind::Plain),
    ("large_sha256", Kind::Plain),
    ("large_width", Kind::Plain),
    ("large_height", Kind::Plain),
    ("thumb_sha256", Kind::Plain),
    ("thumb_width", Kind::Plain),
    ("thumb_height", Kind::Plain),
    ("gps_distance_m", Kind::Plain),
    ("gps_far", Kind::Bool),
    ("draft_gps_lat", Kind::Plain),
    ("draft_gps_lon", Kind::Plain),
    ("approved", Kind::Bool),
    ("moderated_by", Kind::Uuid),
    ("moderated_at", Kind::Instant),
    ("created_at", Kind::Instant),
];

/// One column of table alias `t` as a JSON value, NULL staying null.
fn json_value(backend: Backend, column: &str, kind: Kind) -> String {
    match (backend, kind) {
        (_, Kind::Plain) => format!("t.{column}"),
        (Backend::Postgres, Kind::Uuid | Kind::Bool | Kind::Document) => format!("t.{column}"),
        (Backend::Postgres, Kind::Instant) => {
            format!("(extract(epoch FROM t.{column}) * 1000000)::bigint")
        }
        (Backend::Sqlite, Kind::Uuid) => format!("lower(hex(t.{column}))"),
        (Backend::Sqlite, Kind::Bool) => format!(
            "CASE WHEN t.{column} IS NULL THEN NULL WHEN t.{column} THEN json('true') \
             ELSE json('false') END"
        ),
        (Backend::Sqlite, Kind::Document) => format!("json(t.{column})"),
        (Backend::Sqlite, Kind::Instant) => format!("t.{column}"),
    }
}

/// `(SELECT <array of the rows of table whose report_id is the report's, in order>)`.
fn aggregate(backend: Backend, table: &str, order: &str, fields: &[(&str, Kind)]) -> String {
    let pairs: Vec<String> = fields
        .iter()
        .map(|(name, kind)| format!("'{name}', {}", json_value(backend, name, *kind)))
        .collect();
    let pairs = pairs.join(", ");
    match backend {
        Backend::Postgres => format!(
            "(SELECT COALESCE(json_agg(json_build_object({pairs}) ORDER BY {order}), '[]'::json) \
             FROM {table} t WHERE t.report_id = reports.id)"
        ),
        // SQLite hex() of a NULL blob is '', not NULL: the UUID columns that may be NULL
        // are checked on the way back (an empty string reads as none).
        Backend::Sqlite => format!(
            "(SELECT json_group_array(json_object({pairs}) ORDER BY {order}) \
             FROM {table} t WHERE t.report_id = reports.id)"
        ),
    }
}

/// The statement: the report's columns, then its events and photos as JSON arrays.
pub fn report_details_sql(backend: Backend) -> String {
    format!(
        "SELECT {REPORT_COLUMNS}, {} AS events_json, {} AS photos_json \
         FROM reports WHERE id = $1",
        aggregate(backend, "report_events", "t.at, t.id", EVENT_FIELDS),
        aggregate(backend, "photos", "t.created_at, t.id", PHOTO_FIELDS),
    )
}

#[doc(hidden)]
#[derive(Debug, sqlx::FromRow)]
pub struct ReportDetailsRow {
    #[sqlx(flatten)]
    pub report: ReportRow,
    pub events_json: Json<Vec<EventJson>>,
    pub photos_json: Json<Vec<PhotoJson>>,
}

impl ReportDetailsRow {
    pub fn into_domain(self) -> Result<ReportDetails> {
        Ok(ReportDetails {
            report: self.report.into_domain()?,
            events: self
                .events_json
                .0
                .into_iter()
                .map(|e| e.into_row()?.into_domain())
                .collect::<Result<_>>()?,
            photos: self
                .photos_json
                .0
                .into_iter()
                .map(|p| p.into_row()?.into_domain())
                .collect::<Result<_>>()?,
        })
    }
}

fn uuid(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|_| StoreError::Corrupt(format!("uuid {text:?}")))
}

/// A UUID column that may be NULL (SQLite's `hex(NULL)` is the empty string).
fn optional_uuid(text: Option<String>) -> Result<Option<Uuid>> {
    text.filter(|t| !t.is_empty()).map(|t| uuid(&t)).transpose()
}

fn instant(micros: i64) -> Result<Ts> {
    Ts::from_unix_micros(micros).map_err(|e| StoreError::Corrupt(format!("instant {micros}: {e}")))
}

#[doc(hidden)]
#[derive(Debug, Deserialize)]
pub struct EventJson {
    id: String,
    report_id: String,
    kind: String,
    actor: String,
    public: bool,
    data: Value,
    at: i64,
}

impl EventJson {
    fn into_row(self) -> Result<EventRow> {
        Ok(EventRow {
            id: uuid(&self.id)?,
            report_id: uuid(&self.report_id)?,
            kind: self.kind,
            actor: self.actor,
            public: self.public,
            data: Json(self.data),
            at: instant(self.at)?,
        })
    }
}

#[doc(hidden)]
#[derive(Debug, Deserialize)]
pub struct PhotoJson {
    id: String,
    report_id: Option<String>,
    uploader_kind: String,
    device_id: Option<String>,
    user_id: Option<String>,
    operator_id: Option<String>,
    purpose: String,
    detected_type: String,
    width: i32,
    height: i32,
    large_sha256: String,
    large_width: i32,
    large_height: i32,
    thumb_sha256: String,
    thumb_width: i32,
    thumb_height: i32,
    gps_distance_m: Option<f64>,
    gps_far: bool,
    draft_gps_lat: Option<f64>,
    draft_gps_lon: Option<f64>,
    approved: bool,
    moderated_by: Option<String>,
    moderated_at: Option<i64>,
    created_at: i64,
}

impl PhotoJson {
    fn into_row(self) -> Result<PhotoRow> {
        Ok(PhotoRow {
            id: uuid(&self.id)?,
            report_id: optional_uuid(self.report_id)?,
            uploader_kind: self.uploader_kind,
            device_id: optional_uuid(self.device_id)?,
            user_id: optional_uuid(self.user_id)?,
            operator_id: optional_uuid(self.operator_id)?,
            purpose: self.purpose,
            detected_type: self.detected_type,
            width: self.width,
            height: self.height,
            large_sha256: self.large_sha256,
            large_width: self.large_width,
            large_height: self.large_height,
            thumb_sha256: self.thumb_sha256,
            thumb_width: self.thumb_width,
            thumb_height: self.thumb_height,
            gps_distance_m: self.gps_distance_m,
            gps_far: self.gps_far,
            draft_gps_lat: self.draft_gps_lat,
            draft_gps_lon: self.draft_gps_lon,
            approved: self.approved,
            moderated_by: optional_uuid(self.moderated_by)?,
            moderated_at: self.moderated_at.map(instant).transpose()?,
            created_at: instant(self.created_at)?,
        })
    }
}
