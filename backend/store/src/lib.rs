//! The storage contract of Balagh.
//!
//! One [`Store`] trait, implemented by `balagh-store-postgres` (production) and
//! `balagh-store-sqlite` (the embedded default). Both implementations share their SQL text
//! through [`impl_sql_store!`]; only what truly differs (pools, migrations, error codes) is
//! written per database. Every integration test runs against both.

mod error;
mod records;
mod rows;
#[doc(hidden)]
pub mod shared;
mod timestamp;

pub use error::{Constraint, StoreError};
pub use records::*;
pub use rows::*;
pub use timestamp::Ts;

// Re-exported so the shared implementation macro resolves the same sqlx in every backend.
#[doc(hidden)]
pub use async_trait::async_trait;
#[doc(hidden)]
pub use sqlx;

use balagh_domain::{Contract, Jurisdiction, JurisdictionId, Service, zones::ZoneFeature};
use uuid::Uuid;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// Chosen by URL scheme, as in `postgres://…` or `sqlite://…`.
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':')?.0;
        match scheme {
            "postgres" | "postgresql" => Some(Backend::Postgres),
            "sqlite" => Some(Backend::Sqlite),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// Reports progress of long writes (count of items done so far).
pub type Progress<'a> = &'a (dyn Fn(usize) + Send + Sync);

/// Everything Balagh keeps. Methods are transactions: each either happens whole or not at all.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    fn backend(&self) -> Backend;

    /// Applies pending migrations.
    async fn migrate(&self) -> Result<()>;

    /// A round trip to the database (for readiness checks).
    async fn ping(&self) -> Result<()>;

    /// Closes the pools; pending statements finish first.
    async fn close(&self);

    // --- catalog: jurisdictions, services, operators, contracts -------------------------

    /// A counter bumped by every catalog change, so replicas know when to reload.
    async fn catalog_revision(&self) -> Result<i64>;
    async fn upsert_jurisdiction(&self, jurisdiction: &Jurisdiction) -> Result<()>;
    async fn jurisdictions(&self) -> Result<Vec<Jurisdiction>>;
    async fn upsert_services(
        &self,
        jurisdiction: &JurisdictionId,
        services: &[Service],
    ) -> Result<()>;
    /// Active services of every jurisdiction.
    async fn services(&self) -> Result<Vec<(JurisdictionId, Service)>>;
    /// Creates or updates operators and contracts from zone features, in one transaction.
    async fn upsert_zones(
        &self,
        jurisdiction: &JurisdictionId,
        zones: &[ZoneFeature],
        progress: Progress<'_>,
    ) -> Result<ZoneImportSummary>;
    async fn operators(&self) -> Result<Vec<OperatorRecord>>;
    async fn contracts(&self) -> Result<Vec<Contract>>;

    // --- devices -------------------------------------------------------------------------

    async fn create_device(&self, device: &NewDevice) -> Result<()>;
    /// The device holding this token (looked up by its SHA-256 hash).
    async fn device_by_token_hash(&self, token_hash: &[u8]) -> Result<Option<Uuid>>;

    // --- reports -------------------------------------------------------------------------

    /// Stores a report and its first events. With an idempotency key already used by the
    /// same device, stores nothing and returns the existing report.
    async fn create_report(&self, report: &NewReport) -> Result<CreateOutcome>;
    async fn report(&self, id: Uuid) -> Result<Option<StoredReport>>;
    async fn report_events(&self, id: Uuid) -> Result<Vec<StoredEvent>>;
    /// Open reports of a service in the given cells, created since `query.since`.
    async fn nearby_candidates(&self, query: &NearbyQuery) -> Result<Vec<StoredReport>>;
    /// Adds a device's "me too"; once per device.
    async fn support_report(&self, support: &NewSupport) -> Result<SupportOutcome>;
    /// Inserts many reports (one `created` event each) without idempotency checks: for data
    /// generators and benchmarks.
    async fn bulk_insert_reports(&self, reports: &[NewReport]) -> Result<()>;
    async fn count_reports(&self) -> Result<i64>;
}
