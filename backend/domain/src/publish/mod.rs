//! The rules of everything Balagh publishes to people who are neither the reporter, the
//! report's operator nor the commune's staff. The publication gate (`balagh_app::publish`)
//! applies them; nothing else decides what is public.
//!
//! - [`records`]: which services are listed record by record, and how a listed record is
//!   blurred (grid-snapped point, hour, rounded distance, screened description).
//! - [`screen`]: the automatic personal-data screen of free text.
//! - [`protect`]: how counts of services that are not listed are published (monthly
//!   tables at the finest level where every figure is 0 or ≥ k; everything else derived
//!   from them).
//!
//! Counts of listed services are published exactly: anyone can count the records, so
//! withholding those counts would protect nobody.

pub mod protect;
pub mod records;
pub mod screen;

pub use protect::{DistrictCount, Level, ProtectedTable, combine, protect};
pub use records::{RecordPolicy, to_the_hour};
pub use screen::{Finding, is_clean, screen};
