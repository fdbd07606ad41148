//! Business calendars and SLA policy versions (staff admins), and the replay of clocks
//! after a calendar correction.

use crate::clocks::{self, jiff};
use crate::{App, AppError, AppResult};
use balagh_domain::sla::{
    CalendarSpec, ClockKind, PauseReason, PenaltyRule, SlaPolicy, SlaPolicyId, Target,
    WarningThresholds,
};
use balagh_domain::{ContractId, FieldError, JurisdictionId};
use balagh_store::{Constraint, StoreError, Ts};
use uuid::Uuid;

/// A jurisdiction's calendar as it applies: its own, or Moroccan administration hours and
/// fixed national holidays until an admin sets one. `None`: no such jurisdiction.
pub fn calendar(app: &App, jurisdiction: &JurisdictionId) -> Option<(String, CalendarSpec)> {
    let catalog = app.catalog();
    let time_zone = catalog.jurisdiction(jurisdiction)?.time_zone.clone();
    let spec = catalog
        .sla_calendar_spec(jurisdiction)
        .cloned()
        .unwrap_or_else(CalendarSpec::moroccan_administration);
    Some((time_zone, spec))
}

/// Replaces a jurisdiction's business calendar (checked against its time zone). Clocks of
/// existing reports keep their stored figures until [`recompute`]d.
pub async fn put_calendar(
    app: &App,
    jurisdiction: &JurisdictionId,
    spec: &CalendarSpec,
    by: Uuid,
) -> AppResult<()> {
    let time_zone = app
        .catalog()
        .jurisdiction(jurisdiction)
        .map(|j| j.time_zone.clone())
        .ok_or(AppError::NotFound)?;
    spec.build(&time_zone)?;
    app.store()
        .put_sla_calendar(jurisdiction, spec, Ts::now(), Some(by))
        .await?;
    app.refresh_catalog().await?;
    Ok(())
}

/// What a new version of a policy says (its id, number and contract come from the
/// versions before it).
#[derive(Debug, Clone)]
pub struct PolicyDraft {
    /// Default: now.
    pub effective_from: Option<jiff::Timestamp>,
    pub clock: ClockKind,
    pub targets: Vec<Target>,
    pub pause_reasons_that_stop_the_clock: Vec<PauseReason>,
    /// Default: 50, 75, 90 %.
    pub warning_thresholds: Option<WarningThresholds>,
    pub penalty: PenaltyRule,
}

/// Adds a version of a contract's policy (versions are never changed or removed); returns
/// it with the time it was stored.
pub async fn add_policy(
    app: &App,
    contract: ContractId,
    draft: PolicyDraft,
    by: Uuid,
) -> AppResult<(SlaPolicy, Ts)> {
    let now = Ts::now();
    let versions = app.catalog().sla_policy_versions(contract).to_vec();
    let policy = SlaPolicy {
        id: versions
            .first()
            .map_or_else(|| SlaPolicyId(Uuid::now_v7()), |v| v.policy.id),
        version: versions.last().map_or(1, |v| v.policy.version + 1),
        contract,
        effective_from: draft.effective_from.unwrap_or_else(|| jiff(now)),
        clock: draft.clock,
        targets: draft.targets,
        pause_reasons_that_stop_the_clock: draft.pause_reasons_that_stop_the_clock,
        warning_thresholds: draft.warning_thresholds.unwrap_or_default(),
        penalty: draft.penalty,
    };
    policy.validate()?;
    match app.store().add_sla_policy(&policy, now, Some(by)).await {
        Err(StoreError::Conflict(Constraint::SlaPolicyVersion)) => {
            return Err(AppError::Conflict(
                "another version of this policy was added meanwhile: read and retry",
            ));
        }
        other => other?,
    }
    app.refresh_catalog().await?;
    Ok((policy, now))
}

/// Reports replayed, and the warnings and breaches the replay revealed and raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    pub reports: usize,
    pub raised: usize,
}

/// Replays the clocks of a jurisdiction's reports created since a date (at most 400 days
/// back), from their histories, with the current calendar.
pub async fn recompute(app: &App, jurisdiction: &JurisdictionId, since: Ts) -> AppResult<Replayed> {
    let now = Ts::now();
    if since.get() < now.get() - time::Duration::days(400) {
        return Err(FieldError::new("since", "must be within the last 400 days").into());
    }
    let (mut reports, mut raised, mut after) = (0, 0, None);
    loop {
        let page = app
            .store()
            .report_ids_since(jurisdiction, since, after, 500)
            .await?;
        let Some(last) = page.last().copied() else {
            break;
        };
        for id in page {
            raised += clocks::check_report(app, id, now).await?;
            reports += 1;
        }
        after = Some(last);
    }
    Ok(Replayed { reports, raised })
}
