//! Public statistics: roll-ups, anonymisation and open data.
//!
//! - [`histogram`]: mergeable duration histograms with frozen buckets (percentiles exact to
//!   the bucket over any period).
//! - [`rollup`]: the per jurisdiction × service × operator × district × H3 cell × day rows,
//!   and what one report contributes to them.
//! - [`anonymise`]: k-threshold and complementary suppression of published tables, and the
//!   auditors that check nothing suppressed can be worked out.
//! - [`coarsen`]: map cells at resolution 8, else 7, else district, else withheld.
//! - [`policy`]: thresholds (k = 5, 10 for sensitive services) and the publication lag.
//! - [`privacy`]: optional differential privacy (discrete Laplace noise, contribution caps,
//!   the ε ledger).
//! - [`record`]: the record-level open-data row and the personal-data detector.
//! - [`indicators`]: the engagement-3 indicators.
//!
//! Everything is pure: the store persists roll-ups and ledger entries, the exporters write
//! files, and both call in here for every rule.

pub mod anonymise;
pub mod coarsen;
pub mod histogram;
pub mod indicators;
pub mod policy;
pub mod privacy;
pub mod record;
pub mod rollup;

pub use anonymise::{
    CountTable, Entry, PublishedTable, Suppression, pinned, recoverable, suppress,
};
pub use coarsen::{Area, AreaLevel, CellCount, CoarseRow, Coarsening, coarsen};
pub use histogram::{BUCKET_COUNT, BUCKET_UPPER_MINUTES, Bucket, DurationHistogram};
pub use indicators::{Engagement3, Feedback, Satisfaction, WithinSla, engagement3};
pub use policy::PublicationPolicy;
pub use privacy::{
    DifferentialPrivacy, Epsilon, EpsilonLedger, LedgerEntry, LedgerError, ReleaseId, Spent,
    cap_contributions, discrete_laplace, noisy_count,
};
pub use record::{OpenDataRecord, RECORD_COLUMNS, RecordFields, contains_personal_data};
pub use rollup::{
    ChannelCounts, DistrictId, Rating, ReportFacts, Res8Cell, RollupChange, RollupKey, RollupValue,
    changes, contributions, local_day,
};
