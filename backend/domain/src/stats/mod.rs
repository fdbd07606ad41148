//! Public statistics: roll-ups, anonymisation and open data.
//!
//! - [`histogram`]: mergeable duration histograms with frozen buckets (percentiles exact to
//!   the bucket over any period).
//! - [`rollup`]: the per jurisdiction × service × operator × district × H3 cell × day rows,
//!   and what one report contributes to them.
//! - [`policy`]: thresholds (k = 5, 10 for sensitive services) and the publication lag.
//! - [`overrides`]: a commune's own thresholds, lag and grid over the deployment's.
//! - [`privacy`]: optional differential privacy (discrete Laplace noise, contribution caps,
//!   the ε ledger).
//! - [`record`]: the personal-data detector of export tests.
//! - [`indicators`]: the share within SLA, feedback counts.
//!
//! Everything is pure: the store persists roll-ups and ledger entries; what is published
//! from them is decided by [`crate::publish`].

pub mod histogram;
pub mod indicators;
pub mod overrides;
pub mod policy;
pub mod privacy;
pub mod record;
pub mod rollup;

pub use histogram::{BUCKET_COUNT, BUCKET_UPPER_MINUTES, Bucket, DurationHistogram};
pub use indicators::{Feedback, within_sla_share};
pub use overrides::StatisticsOverrides;
pub use policy::PublicationPolicy;
pub use privacy::{
    DifferentialPrivacy, Epsilon, EpsilonLedger, LedgerEntry, LedgerError, ReleaseId, Spent,
    cap_contributions, discrete_laplace, noisy_count,
};
pub use record::contains_personal_data;
pub use rollup::{
    ChannelCounts, DistrictId, Rating, ReportFacts, Res8Cell, RollupChange, RollupKey, RollupValue,
    changes, contributions, local_day,
};
