//! The SLA side of the commune's contracts with its operators: business calendars and
//! policy versions ([`policies`]), disputes of breaches ([`disputes`]) and the monthly
//! penalty statements ([`statements`]). The clocks themselves are [`crate::clocks`].

pub mod disputes;
pub mod policies;
pub mod statements;

use crate::{App, AppError, AppResult};
use balagh_domain::{ContractId, JurisdictionId};

/// A contract of the jurisdiction, or not found (another commune's contracts are not
/// shown to its staff).
pub fn of_jurisdiction(
    app: &App,
    jurisdiction: &JurisdictionId,
    id: ContractId,
) -> AppResult<ContractId> {
    app.catalog()
        .contract(id)
        .filter(|c| &c.jurisdiction == jurisdiction)
        .map(|c| c.id)
        .ok_or(AppError::NotFound)
}
