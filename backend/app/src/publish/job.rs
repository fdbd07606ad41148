//! The release job: every complete week, month and year past the publication lag, from
//! the jurisdiction's first day of data on, released once. It runs right after each
//! roll-up run, under the roll-up job's lease (so one replica at a time), and stores each
//! release unless one with its id exists (releases are immutable).
//!
//! With differential privacy, a month's release spends its ε here, once, in the ledger
//! scope of that month: requests never spend anything.

use super::release::{build, read_sources};
use super::{ProtectedFigures, Release};
use crate::App;
use crate::stats::{Context, NO_DISTRICT, Period, PeriodKind};
use balagh_domain::stats::{DifferentialPrivacy, ReleaseId};
use balagh_store::stats::ReleaseOutcome;
use balagh_store::{StoreError, Ts};
use std::collections::{BTreeMap, HashSet};
use time::Date;

/// Most releases computed in one run (a first run over years of data catches up over a
/// few runs).
const MAX_PER_RUN: usize = 400;

/// One run of the statistics job: the roll-ups, then (still under the lease) the releases
/// now due. What the roll-up run did, and the ids released.
pub async fn run(
    app: &App,
    worker: &str,
    batch: u32,
) -> Result<(crate::stats::RollupRun, Vec<String>), StoreError> {
    let run = crate::stats::roll_up(app, worker, batch).await?;
    if run.skipped {
        return Ok((run, Vec::new()));
    }
    let released = publish_due(app).await;
    app.store().release_stats_lease(worker).await?;
    Ok((run, released?))
}

/// Releases what is due in every jurisdiction; the ids released.
pub async fn publish_due(app: &App) -> Result<Vec<String>, StoreError> {
    let mut released = Vec::new();
    let jurisdictions: Vec<String> = app
        .catalog()
        .jurisdictions()
        .iter()
        .map(|j| j.id.as_str().to_owned())
        .collect();
    for j in jurisdictions {
        let Some(ctx) = Context::new(app, Some(&j)) else {
            continue;
        };
        let Some(first) = app.store().stats_first_day(&j).await? else {
            continue;
        };
        let Ok(first) = Date::from_julian_day(first) else {
            continue;
        };
        let existing: HashSet<String> = app
            .store()
            .stats_release_ids(&format!("{j}/"))
            .await?
            .into_iter()
            .collect();
        let last = ctx.last_publishable_day();
        for kind in PeriodKind::ALL {
            let mut period = Period::containing(kind, first);
            while period.last <= last && released.len() < MAX_PER_RUN {
                let id = Release::id_of(&ctx, &period);
                if !existing.contains(&id) {
                    release_one(app, &ctx, &period).await?;
                    released.push(id);
                }
                period = period.next();
            }
        }
    }
    Ok(released)
}

/// Computes and stores one release.
pub async fn release_one(app: &App, ctx: &Context, period: &Period) -> Result<Release, StoreError> {
    let now = Ts::now();
    if period.kind == PeriodKind::Year {
        let release = year(app, ctx, period).await?;
        return stored(app, &release, now).await;
    }
    let mut sources = read_sources(app, ctx, period).await?;
    let dp = ctx.policy.differential_privacy().cloned();
    let (Some(dp), PeriodKind::Month) = (dp, period.kind) else {
        return stored(app, &build(ctx, period, sources), now).await;
    };
    sources.noisy_new = Some(noisy_new(app, ctx, period, &dp).await?);
    let release = build(ctx, period, sources);
    let id = ReleaseId::parse(&release.id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let scope = format!("{}/{}", ctx.jurisdiction.id.as_str(), period.label());
    let body = serde_json::to_value(&release).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let outcome = app
        .store()
        .record_release(&id, &[scope], dp.epsilon_per_release, dp.budget, &body, now)
        .await?;
    match outcome {
        ReleaseOutcome::Recorded(body) | ReleaseOutcome::Existing(body) => parse(body),
        ReleaseOutcome::Refused(error) => {
            // The budget of this month is spent (it was lowered): its protected counts are
            // not released at all.
            tracing::warn!(release = %release.id, %error, "privacy budget spent: protected counts withheld");
            let mut release = release;
            for figures in release.protected.values_mut() {
                *figures = ProtectedFigures::monthly_only();
            }
            stored(app, &release, now).await
        }
    }
}

fn parse(body: serde_json::Value) -> Result<Release, StoreError> {
    serde_json::from_value(body).map_err(|e| StoreError::Corrupt(format!("release body: {e}")))
}

async fn stored(app: &App, release: &Release, now: Ts) -> Result<Release, StoreError> {
    let body = serde_json::to_value(release).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    parse(
        app.store()
            .put_stats_release(&release.id, &body, now)
            .await?,
    )
}

/// A year: its released months merged (nothing but sums of what they published).
async fn year(app: &App, ctx: &Context, period: &Period) -> Result<Release, StoreError> {
    let mut ids = Vec::new();
    let mut month = Period::containing(PeriodKind::Month, period.first);
    while month.last <= period.last {
        ids.push(Release::id_of(ctx, &month));
        month = month.next();
    }
    let months = read(app, &ids).await?;
    let mut release = super::view::merge(ctx, PeriodKind::Month, &months)
        .unwrap_or_else(|| Release::empty(ctx, period));
    release.id = Release::id_of(ctx, period);
    release.kind = PeriodKind::Year;
    release.label = period.label();
    release.from = period.first.to_string();
    release.to = period.last.to_string();
    release.records = Vec::new();
    Ok(release)
}

/// Stored releases by id, in the order asked (missing ones left out).
pub async fn read(app: &App, ids: &[String]) -> Result<Vec<Release>, StoreError> {
    let mut found: BTreeMap<String, serde_json::Value> = app
        .stale_reads()
        .stats_releases(ids)
        .await?
        .into_iter()
        .collect();
    ids.iter()
        .filter_map(|id| found.remove(id))
        .map(parse)
        .collect()
}

/// Differential privacy: each protected service's `new` per district of a month, after
/// capping each reporter's reports, with discrete Laplace noise on every entry (zeros
/// included).
async fn noisy_new(
    app: &App,
    ctx: &Context,
    period: &Period,
    dp: &DifferentialPrivacy,
) -> Result<BTreeMap<(String, String), u64>, StoreError> {
    let from = crate::stats::start_of(period.first, &ctx.tz);
    let until = crate::stats::start_of(period.last + time::Duration::days(1), &ctx.tz);
    let reports = app
        .store()
        .stats_reporter_reports(ctx.jurisdiction.id.as_str(), from, until)
        .await?;
    let capped = balagh_domain::stats::cap_contributions(
        reports,
        dp.contribution_cap,
        |r| r.reporter.unwrap_or(r.id),
        |r| (r.created_at, r.id),
    );
    let mut exact: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in capped {
        let district = r.district.unwrap_or_else(|| NO_DISTRICT.into());
        *exact.entry((r.service, district)).or_default() += 1;
    }
    let mut rng = rand::rng();
    let mut out = BTreeMap::new();
    for service in ctx.services.iter().filter(|s| !ctx.records.lists(s)) {
        for district in &ctx.districts {
            let key = (service.code.as_str().to_owned(), district.clone());
            let count = exact.get(&key).copied().unwrap_or(0);
            let noisy = balagh_domain::stats::noisy_count(
                &mut rng,
                count,
                dp.epsilon_per_release,
                dp.contribution_cap,
            );
            out.insert(key, noisy);
        }
    }
    Ok(out)
}
