//! Balagh's use cases: what happens to a report between the HTTP API (balagh-api) or the
//! background workers (the binary) and the storage (balagh-store), with no HTTP types.
//! Each module is one use case; [`App`] is what they share, [`AppError`] how they fail.

pub mod catalogue;
pub mod clocks;
mod context;
pub mod contracts;
mod error;
pub mod intake;
pub mod lifecycle;
pub mod notify;
pub mod photos;
pub mod public_requests;
pub mod publish;
pub mod resident;
pub mod sms;
pub mod stats;
pub mod tickets;
pub mod triage;

pub use catalogue::Catalog;
pub use context::{App, AppSettings, PhotoSettings};
pub use error::{AppError, AppResult};
