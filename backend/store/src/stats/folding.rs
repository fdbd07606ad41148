//! The part of a roll-up batch that reads no database: each report's facts now against
//! those stored at its previous visit, summed into per-key (remove, add) totals.

use super::rollups::SourceRow;
use super::{RollupJob, StatsKey, StatsSource, StoredFacts, fold_changes};
use crate::{Result, StoreError, Ts};
use balagh_domain::stats::{ReportFacts, RollupChange, RollupValue};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// What a batch reads besides the reports themselves, by report.
#[derive(Debug, Default)]
pub(super) struct Related {
    /// `status_changed` events, in no particular order.
    pub events: HashMap<Uuid, Vec<(Ts, Value)>>,
    /// Reports with a breached SLA clock.
    pub breached: HashSet<Uuid>,
    /// The facts stored at the previous visit.
    pub old: HashMap<Uuid, StoredFacts>,
}

/// What a batch writes.
#[derive(Debug, Default)]
pub(super) struct Folded {
    /// Per-key (remove, add), without the keys whose two sides are equal.
    pub totals: BTreeMap<StatsKey, (RollupValue, RollupValue)>,
    /// Facts that changed, to store.
    pub new_facts: Vec<(Uuid, StoredFacts)>,
    /// Reports no longer counted: their facts are deleted.
    pub dropped: Vec<Uuid>,
}

/// Folds a batch's reports into totals and the facts to store or forget.
pub(super) fn fold_batch(
    job: &RollupJob<'_>,
    sources: Vec<SourceRow>,
    mut related: Related,
) -> Result<Folded> {
    let mut folded = Folded::default();
    for s in sources {
        let id = s.id;
        let previous_stored = related.old.remove(&id);
        let source = stats_source(s, &mut related);
        let previous = match previous_stored.clone() {
            Some(f) => Some(
                f.into_domain()
                    .ok_or_else(|| StoreError::Corrupt(format!("stats facts of report {id}")))?,
            ),
            None => None,
        };
        let current = (job.derive)(&source);
        fold_report(job, id, previous_stored, previous, current, &mut folded);
    }
    folded.totals.retain(|_, (remove, add)| remove != add);
    Ok(folded)
}

/// The job's view of a report, with its status changes in order.
fn stats_source(s: SourceRow, related: &mut Related) -> StatsSource {
    let mut status_events = related.events.remove(&s.id).unwrap_or_default();
    status_events.sort_by_key(|(at, _)| *at);
    StatsSource {
        id: s.id,
        jurisdiction_id: s.jurisdiction_id,
        service_code: s.service_code,
        operator_id: s.operator_id,
        contract_id: s.contract_id,
        cell: s.cell,
        channel: s.channel,
        status: s.status,
        rating: s.rating,
        created_at: s.created_at,
        updated_at: s.updated_at,
        status_events,
        breached: related.breached.contains(&s.id),
    }
}

/// Adds one report's change (counted now, or no longer counted) to the batch.
fn fold_report(
    job: &RollupJob<'_>,
    id: Uuid,
    previous_stored: Option<StoredFacts>,
    previous: Option<ReportFacts>,
    current: Option<ReportFacts>,
    folded: &mut Folded,
) {
    match (&previous, &current) {
        (_, Some(new)) => {
            let tz = (job.time_zone)(&new.jurisdiction);
            fold_changes(
                balagh_domain::stats::changes(previous.as_ref(), new, &tz),
                &mut folded.totals,
            );
            let stored = StoredFacts::from_domain(new);
            if previous_stored.as_ref() != Some(&stored) {
                folded.new_facts.push((id, stored));
            }
        }
        (Some(old_facts), None) => {
            let tz = (job.time_zone)(&old_facts.jurisdiction);
            let removal = balagh_domain::stats::contributions(old_facts, &tz)
                .into_iter()
                .map(|(key, remove)| RollupChange {
                    key,
                    remove,
                    add: RollupValue::default(),
                });
            fold_changes(removal, &mut folded.totals);
            folded.dropped.push(id);
        }
        (None, None) => {}
    }
}
