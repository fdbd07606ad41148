//! The publication gate: everything that leaves Balagh for someone who is not the
//! reporter, the report's operator or the commune's staff is computed here, by the rules of
//! [`balagh_domain::publish`], and nowhere else.
//!
//! - **Releases, not queries** ([`job`], [`release`]): a job (the roll-up job's lease
//!   holder, right after each roll-up run) computes each complete local week, month and
//!   year once its last day is past the publication lag, and stores it as an immutable
//!   release (`stats_releases`). The public API, the open-data files and the transparency
//!   page serve stored releases only, and a range is assembled from whole releases
//!   ([`view::merge`]): nothing is computed per request from the data itself, so asking
//!   for overlapping or nested ranges returns sums of what is already published.
//! - **Two kinds of services.** Listed services (not sensitive) have public records
//!   (Open311, nearby, the record file), so their counts are published exactly: anyone can
//!   count the records, and withholding a count they give away would protect nobody.
//!   Protected services (sensitive) are never listed anywhere; their counts are published
//!   only in monthly tables at the finest level where every figure is 0 or ≥ k
//!   ([`balagh_domain::publish::protect`]), years and ranges being sums of published monthly
//!   entries, weeks withheld — or, with differential privacy, as noisy monthly district
//!   counts whose ε the job spends once per month. No total mixes a withheld entry.
//! - **Records** ([`records`]): listed services only, with grid-snapped points, times to
//!   the hour, distances rounded from the snapped point and screened descriptions.

pub mod job;
pub mod records;
pub mod release;
pub mod view;

use crate::stats::{Context, Period, PeriodKind};
use balagh_domain::publish::ProtectedTable;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One stored release (the JSON body of a `stats_releases` row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub id: String,
    pub kind: PeriodKind,
    pub label: String,
    /// First and last local day.
    pub from: String,
    pub to: String,
    /// `suppression` or `differential_privacy` (protected services' counts).
    pub method: String,
    pub districts: Vec<String>,
    pub operators: Vec<String>,
    /// Exact figures of listed services, by service code.
    pub listed: BTreeMap<String, ListedFigures>,
    /// Listed services' resolved reports per operator, with SLA and time to resolve.
    pub operator_totals: BTreeMap<String, OperatorTotals>,
    /// Published figures of protected services, by service code.
    pub protected: BTreeMap<String, ProtectedFigures>,
    /// Months: reports of listed services by channel (`None` in the map: the whole row is
    /// withheld).
    pub channels: Option<BTreeMap<String, Option<u64>>>,
    /// Months: ratings of listed services, and their mean when at least k.
    pub satisfaction_ratings: Option<u64>,
    pub satisfaction_mean: Option<f64>,
    /// Months: (public comments, suggestions) received.
    pub feedback: Option<(u64, u64)>,
    /// `new` per (listed service, resolution-8 H3 cell).
    pub cells: Vec<(String, String, u64)>,
    /// One row per report of a listed service made in the period (weeks and months).
    pub records: Vec<RecordRow>,
}

/// A listed service's exact figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListedFigures {
    pub new: BTreeMap<String, u64>,
    pub resolved: BTreeMap<String, u64>,
    pub resolved_by_operator: BTreeMap<String, u64>,
    pub breached: u64,
    pub reopened: u64,
    /// Sparse histograms (bucket index, count).
    pub resolve: Vec<(u8, u64)>,
    pub acknowledge: Vec<(u8, u64)>,
    /// Months only.
    pub ratings: Option<u64>,
    pub satisfaction_mean: Option<f64>,
}

/// An operator's resolved reports of listed services.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OperatorTotals {
    pub resolved: u64,
    pub breached: u64,
    pub resolve: Vec<(u8, u64)>,
}

/// A protected service's published figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProtectedFigures {
    /// Weeks: nothing is published for this service.
    pub monthly_only: bool,
    pub new: ProtectedTable,
    pub resolved: ProtectedTable,
    pub shares: Option<ServiceShares>,
    pub median_minutes_to_acknowledge: Option<u32>,
    pub reopened: Option<u64>,
}

impl ProtectedFigures {
    pub fn monthly_only() -> Self {
        let withheld = ProtectedTable {
            level: Some(balagh_domain::publish::Level::Withheld.as_str().to_owned()),
            ..Default::default()
        };
        Self {
            monthly_only: true,
            new: withheld.clone(),
            resolved: withheld,
            ..Default::default()
        }
    }
}

/// Percentiles and share within SLA of a protected service's month.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceShares {
    pub median_minutes_to_resolve: Option<u32>,
    pub p90_minutes_to_resolve: Option<u32>,
    pub within_sla: Option<f64>,
}

/// One row of the record file: no reference, no point, no time of day, no text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRow {
    pub service: String,
    pub district: String,
    pub h3_cell: String,
    pub date: String,
    pub status: String,
    pub minutes_to_acknowledge: Option<u32>,
    pub minutes_to_resolve: Option<u32>,
    pub operator: String,
}

impl Release {
    /// The id of a release: `jurisdiction/kind/label`.
    pub fn id_of(ctx: &Context, period: &Period) -> String {
        format!(
            "{}/{}/{}",
            ctx.jurisdiction.id.as_str(),
            period.kind.as_str(),
            period.label()
        )
    }

    fn empty(ctx: &Context, period: &Period) -> Self {
        let mut operators: Vec<String> = ctx
            .catalog
            .operators_of(&ctx.jurisdiction.id)
            .map(|o| o.operator.slug.as_str().to_owned())
            .collect();
        operators.sort();
        operators.push(crate::stats::NO_OPERATOR.into());
        Self {
            id: Self::id_of(ctx, period),
            kind: period.kind,
            label: period.label(),
            from: period.first.to_string(),
            to: period.last.to_string(),
            method: if ctx.policy.differential_privacy().is_some() {
                "differential_privacy".into()
            } else {
                "suppression".into()
            },
            districts: ctx.districts.clone(),
            operators,
            listed: BTreeMap::new(),
            operator_totals: BTreeMap::new(),
            protected: BTreeMap::new(),
            channels: None,
            satisfaction_ratings: None,
            satisfaction_mean: None,
            feedback: None,
            cells: Vec::new(),
            records: Vec::new(),
        }
    }
}
