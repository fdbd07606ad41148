//! Public records: what Open311 `requests`, `servicerequestupdates` and `nearby` may show
//! of one report, by the domain's record policy.

use crate::catalogue::Catalog;
use balagh_domain::publish::{RecordPolicy, to_the_hour};
use balagh_domain::{GeoPoint, JurisdictionId, ServiceCode};
use balagh_store::{StoredReport, Ts};

/// The gate for public records of one server.
#[derive(Debug, Clone, Copy)]
pub struct Records<'a> {
    pub catalog: &'a Catalog,
    /// The deployment's policy; a commune's grid override replaces it for its reports.
    pub policy: RecordPolicy,
}

impl<'a> Records<'a> {
    pub fn new(catalog: &'a Catalog, policy: RecordPolicy) -> Self {
        Self { catalog, policy }
    }

    /// The record policy of a commune: the deployment's, with the commune's grid.
    pub fn policy_for(&self, jurisdiction: &JurisdictionId) -> RecordPolicy {
        self.catalog
            .jurisdiction(jurisdiction)
            .map_or(self.policy, |j| j.statistics.records(self.policy))
    }

    /// Whether reports of this service may be listed one by one (unknown services: no).
    pub fn lists(&self, jurisdiction: &JurisdictionId, code: &ServiceCode) -> bool {
        self.catalog
            .service(jurisdiction, code)
            .is_some_and(|s| self.policy.lists(s))
    }

    /// Whether this report may be listed.
    pub fn lists_report(&self, report: &StoredReport) -> bool {
        self.lists(&report.jurisdiction, &report.service_code)
    }

    /// The report's point as published.
    pub fn point(&self, report: &StoredReport) -> GeoPoint {
        self.policy_for(&report.jurisdiction).snap(&report.point)
    }

    /// The report's distance from a searched point as published (from its snapped point,
    /// rounded to 50 m).
    pub fn distance_m(&self, from: &GeoPoint, report: &StoredReport) -> u32 {
        self.policy_for(&report.jurisdiction)
            .rounded_distance_m(from, &report.point)
    }

    /// The report's description as published.
    pub fn description<'r>(&self, report: &'r StoredReport) -> Option<&'r str> {
        self.policy.public_description(
            &report.description,
            report.description_hidden,
            report.description_approved,
        )
    }

    /// A free text written by the operator or the commune, as published (screened).
    pub fn note(&self, text: &str) -> Option<String> {
        self.policy
            .public_description(text, false, false)
            .map(str::to_owned)
    }

    /// A time as published.
    pub fn time(&self, at: Ts) -> Ts {
        Ts::new(to_the_hour(at.get()))
    }
}
