//! Balagh's domain: the rules of reporting, routing and reviewing public-service problems.
//!
//! Everything here is plain Rust with no I/O. Values are parsed once at the edge and can only
//! exist valid afterwards ("parse, don't validate"): a [`GeoPoint`] is always on Earth, a
//! [`Description`] is always within bounds, a [`ServiceCode`] always well-formed.

pub mod account;
pub mod bus;
pub mod contract;
pub mod currency;
pub mod event;
pub mod event_data;
pub mod geo_point;
pub mod jurisdiction;
pub mod language;
pub mod lifecycle;
pub mod nearby;
pub mod notify;
pub mod operator;
pub mod places;
pub mod publish;
pub mod report;
pub mod routing;
pub mod service;
pub mod service_group;
pub mod sla;
pub mod sms;
pub mod stats;
pub mod zones;

pub use contract::{Contract, ContractId};
pub use currency::Currency;
pub use event::{EventKind, NewEvent};
pub use event_data::EventData;
pub use geo_point::{Accuracy, GeoPoint};
pub use jurisdiction::{Jurisdiction, JurisdictionId};
pub use language::{Language, LocalizedText};
pub use nearby::{LatLonBox, NearbySearch};
pub use operator::{Operator, OperatorId, Slug};
pub use report::{Channel, Description, IdempotencyKey, Priority, PublicReference, ReportStatus};
pub use routing::{RouteOutcome, Router};
pub use service::{AttributeDefinition, AttributeType, AttributeValues, Service, ServiceCode};
pub use service_group::{ServiceGroup, ServiceGroupDefinition};

/// A value that failed to parse: which field, and what was wrong, in words a client can show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field's name as the client sent it (`lat`, `attributes.bus_line`, …).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, reported under a parent field (`attributes` + `bus_line`).
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}
