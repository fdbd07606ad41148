//! Delegated-management contracts: who serves which service group where, and when.

use crate::{JurisdictionId, OperatorId, ServiceGroup};
use geo::MultiPolygon;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContractId(pub Uuid);

/// An operator's contract for one service group over a zone, for a period.
#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    pub id: ContractId,
    pub jurisdiction: JurisdictionId,
    /// The contract's reference in the commune's records (unique per jurisdiction).
    pub reference: String,
    pub operator: OperatorId,
    pub group: ServiceGroup,
    pub zone_name: String,
    pub zone: MultiPolygon<f64>,
    pub valid_from: OffsetDateTime,
    /// Exclusive end; `None` while the contract runs on.
    pub valid_until: Option<OffsetDateTime>,
}

impl Contract {
    pub fn is_valid_at(&self, at: OffsetDateTime) -> bool {
        self.valid_from <= at && self.valid_until.is_none_or(|end| at < end)
    }
}
