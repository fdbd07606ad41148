//! Roll-ups: per jurisdiction × service × operator × district × H3 cell (resolution 8) × local
//! day, the counts and duration histograms every public figure is computed from.
//!
//! A report contributes to up to four days, each fact on the day it happened, in the
//! jurisdiction's time zone:
//!
//! | fact | counted on | adds |
//! | --- | --- | --- |
//! | created | the creation day | `new`, `new_by_channel[channel]` |
//! | acknowledged | the acknowledgement day | `acknowledge` ← time from creation |
//! | resolved (currently) | the (last) resolution day | `resolved`, `breached` if it missed a target, `resolve` ← time from creation, the rating if any |
//! | each reopening | its day | `reopened` |
//!
//! Conventions:
//! - `resolved_at` is the *last* resolution and only while the report is currently resolved
//!   or closed: a reopened report leaves `resolved` until it is resolved again, and its time
//!   to resolve is measured from creation to that final resolution (the resident's view).
//! - `breached` counts, among the reports resolved that day, those that missed at least one
//!   of their SLA targets (acknowledge or resolve). So `breached ≤ resolved` in every row and
//!   "within SLA" is `1 − breached / resolved` over any set of rows (see
//!   [`indicators`](super::indicators)). Reports still open past their target are a live
//!   figure of the ticket queue, not of the roll-ups.
//! - A rating is counted with the resolution, or on the creation day if the report was never
//!   resolved.
//!
//! The store keeps the roll-ups incrementally: when a report's facts change it applies
//! [`changes`]`(old, new)` (take the old contribution out, put the new one in, key by key),
//! and it can rebuild any range by summing [`contributions`] of the reports in it. Both give
//! the same rows because a contribution only depends on the facts.

use super::histogram::DurationHistogram;
use crate::geo_point::{GeoPoint, cell_to_i64};
use crate::{Channel, FieldError, JurisdictionId, OperatorId, ServiceCode, Slug};
use h3o::{CellIndex, Resolution};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use time::{Date, Month, OffsetDateTime};

/// A district's slug (`sidi-al-mandri`): a label from the commune's district list, never
/// free text.
pub type DistrictId = Slug;

/// The H3 resolution of roll-ups and public maps (cells of about 0.74 km², edges of about
/// 460 m).
pub const ROLLUP_CELL_RESOLUTION: Resolution = Resolution::Eight;

/// An H3 cell at resolution 8.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Res8Cell(CellIndex);

impl Res8Cell {
    /// The resolution-8 cell containing a point.
    pub fn of(point: &GeoPoint) -> Self {
        Self(point.cell(ROLLUP_CELL_RESOLUTION))
    }

    /// The resolution-8 cell containing `cell`, which must be at resolution 8 or finer.
    pub fn containing(cell: CellIndex) -> Option<Self> {
        cell.parent(ROLLUP_CELL_RESOLUTION).map(Self)
    }

    /// Reads a stored cell (the signed 64-bit column): it must be a valid resolution-8 cell.
    pub fn from_i64(raw: i64) -> Result<Self, FieldError> {
        u64::try_from(raw)
            .ok()
            .and_then(|bits| CellIndex::try_from(bits).ok())
            .filter(|cell| cell.resolution() == ROLLUP_CELL_RESOLUTION)
            .map(Self)
            .ok_or_else(|| FieldError::new("h3_cell", "must be an H3 cell at resolution 8"))
    }

    pub fn to_i64(self) -> i64 {
        cell_to_i64(self.0)
    }

    pub fn cell(self) -> CellIndex {
        self.0
    }

    /// The resolution-7 cell this one is in (seven resolution-8 cells, about 5.2 km²).
    pub fn parent7(self) -> CellIndex {
        self.0
            .parent(Resolution::Seven)
            .expect("a resolution-8 cell has a resolution-7 parent")
    }
}

impl fmt::Debug for Res8Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Res8Cell({})", self.0)
    }
}

/// A resident's rating of how their report was handled: 1 (bad) to 5 (very good).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Rating(u8);

impl Rating {
    pub fn parse(raw: i64) -> Result<Self, FieldError> {
        match u8::try_from(raw) {
            Ok(v @ 1..=5) => Ok(Self(v)),
            _ => Err(FieldError::new(
                "rating",
                "must be a whole number from 1 to 5",
            )),
        }
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Rating {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(i64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// New reports per channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ChannelCounts([u64; Channel::ALL.len()]);

impl ChannelCounts {
    fn slot(channel: Channel) -> usize {
        Channel::ALL
            .iter()
            .position(|c| *c == channel)
            .expect("every channel is in Channel::ALL")
    }

    pub fn get(&self, channel: Channel) -> u64 {
        self.0[Self::slot(channel)]
    }

    pub fn add(&mut self, channel: Channel, count: u64) {
        let slot = &mut self.0[Self::slot(channel)];
        *slot = slot.saturating_add(count);
    }

    pub fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine = mine.saturating_add(theirs);
        }
    }

    fn checked_sub(&self, other: &Self) -> Option<Self> {
        let mut out = Self::default();
        for (i, slot) in out.0.iter_mut().enumerate() {
            *slot = self.0[i].checked_sub(other.0[i])?;
        }
        Some(out)
    }

    /// `(channel, count)` for every channel, zeros included, in [`Channel::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Channel, u64)> + '_ {
        Channel::ALL.into_iter().zip(self.0)
    }

    pub fn total(&self) -> u64 {
        self.0.iter().fold(0u64, |s, c| s.saturating_add(*c))
    }
}

/// Which row a contribution goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RollupKey {
    pub jurisdiction: JurisdictionId,
    pub service: ServiceCode,
    /// `None` while unrouted.
    pub operator: Option<OperatorId>,
    /// `None` outside every known district.
    pub district: Option<DistrictId>,
    pub cell: Res8Cell,
    /// The local day in the jurisdiction's time zone.
    pub day: Date,
}

/// One row's figures. Rows add up with [`merge`](Self::merge) over any set of keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollupValue {
    pub new: u64,
    pub new_by_channel: ChannelCounts,
    pub resolved: u64,
    pub reopened: u64,
    /// Among `resolved`, those that missed an SLA target.
    pub breached: u64,
    pub acknowledge: DurationHistogram,
    pub resolve: DurationHistogram,
    pub satisfaction_sum: u64,
    pub satisfaction_count: u64,
}

impl RollupValue {
    pub fn merge(&mut self, other: &Self) {
        self.new = self.new.saturating_add(other.new);
        self.new_by_channel.merge(&other.new_by_channel);
        self.resolved = self.resolved.saturating_add(other.resolved);
        self.reopened = self.reopened.saturating_add(other.reopened);
        self.breached = self.breached.saturating_add(other.breached);
        self.acknowledge.merge(&other.acknowledge);
        self.resolve.merge(&other.resolve);
        self.satisfaction_sum = self.satisfaction_sum.saturating_add(other.satisfaction_sum);
        self.satisfaction_count = self
            .satisfaction_count
            .saturating_add(other.satisfaction_count);
    }

    /// This row with `other` taken out, or `None` if some figure would go below zero (the
    /// row never held that contribution: rebuild it).
    pub fn checked_sub(&self, other: &Self) -> Option<Self> {
        Some(Self {
            new: self.new.checked_sub(other.new)?,
            new_by_channel: self.new_by_channel.checked_sub(&other.new_by_channel)?,
            resolved: self.resolved.checked_sub(other.resolved)?,
            reopened: self.reopened.checked_sub(other.reopened)?,
            breached: self.breached.checked_sub(other.breached)?,
            acknowledge: self.acknowledge.checked_sub(&other.acknowledge)?,
            resolve: self.resolve.checked_sub(&other.resolve)?,
            satisfaction_sum: self.satisfaction_sum.checked_sub(other.satisfaction_sum)?,
            satisfaction_count: self
                .satisfaction_count
                .checked_sub(other.satisfaction_count)?,
        })
    }

    /// The row after a change: `self − change.remove + change.add`.
    pub fn apply(&self, change: &RollupChange) -> Option<Self> {
        let mut out = self.checked_sub(&change.remove)?;
        out.merge(&change.add);
        Some(out)
    }

    /// Whether every figure is zero (the store may delete the row).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Mean rating, if any.
    pub fn satisfaction_mean(&self) -> Option<f64> {
        (self.satisfaction_count > 0)
            .then(|| self.satisfaction_sum as f64 / self.satisfaction_count as f64)
    }
}

/// What the roll-ups need to know about one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFacts {
    pub jurisdiction: JurisdictionId,
    pub service: ServiceCode,
    pub operator: Option<OperatorId>,
    pub district: Option<DistrictId>,
    pub cell: Res8Cell,
    pub channel: Channel,
    pub created_at: OffsetDateTime,
    /// First acknowledgement.
    pub acknowledged_at: Option<OffsetDateTime>,
    /// Last resolution, while the report is resolved or closed.
    pub resolved_at: Option<OffsetDateTime>,
    /// Each time the report was reopened.
    pub reopened_at: Vec<OffsetDateTime>,
    /// Whether it missed at least one SLA target (counted only once resolved).
    pub breached: bool,
    pub rating: Option<Rating>,
}

/// The local calendar day of an instant in a time zone (UTC's day in the unreachable case
/// where the instant is outside the time-zone library's range).
pub fn local_day(at: OffsetDateTime, tz: &TimeZone) -> Date {
    crate::sla::to_timestamp(at)
        .and_then(|ts| {
            let d = ts.to_zoned(tz.clone()).date();
            let month = Month::try_from(u8::try_from(d.month()).ok()?).ok()?;
            Date::from_calendar_date(i32::from(d.year()), month, u8::try_from(d.day()).ok()?).ok()
        })
        .unwrap_or_else(|| at.to_offset(time::UtcOffset::UTC).date())
}

/// Everything one report adds to the roll-ups, one entry per key, by key.
pub fn contributions(facts: &ReportFacts, tz: &TimeZone) -> Vec<(RollupKey, RollupValue)> {
    let mut rows: BTreeMap<RollupKey, RollupValue> = BTreeMap::new();
    let key = |at: OffsetDateTime| RollupKey {
        jurisdiction: facts.jurisdiction.clone(),
        service: facts.service.clone(),
        operator: facts.operator,
        district: facts.district.clone(),
        cell: facts.cell,
        day: local_day(at, tz),
    };

    let created = rows.entry(key(facts.created_at)).or_default();
    created.new += 1;
    created.new_by_channel.add(facts.channel, 1);

    if let Some(at) = facts.acknowledged_at {
        rows.entry(key(at))
            .or_default()
            .acknowledge
            .record(at - facts.created_at);
    }
    for at in &facts.reopened_at {
        rows.entry(key(*at)).or_default().reopened += 1;
    }
    let rating_day = match facts.resolved_at {
        Some(at) => {
            let row = rows.entry(key(at)).or_default();
            row.resolved += 1;
            row.breached += u64::from(facts.breached);
            row.resolve.record(at - facts.created_at);
            at
        }
        None => facts.created_at,
    };
    if let Some(rating) = facts.rating {
        let row = rows.entry(key(rating_day)).or_default();
        row.satisfaction_sum += u64::from(rating.value());
        row.satisfaction_count += 1;
    }
    rows.into_iter().collect()
}

/// How one roll-up row changes when a report's facts change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupChange {
    pub key: RollupKey,
    pub remove: RollupValue,
    pub add: RollupValue,
}

/// The row changes that take a report from `old` facts (`None`: a new report) to `new`
/// ones; keys whose contribution is unchanged are left out. Apply each with
/// [`RollupValue::apply`] (a missing row is [`RollupValue::default`]).
pub fn changes(old: Option<&ReportFacts>, new: &ReportFacts, tz: &TimeZone) -> Vec<RollupChange> {
    let mut by_key: BTreeMap<RollupKey, (RollupValue, RollupValue)> = BTreeMap::new();
    for (key, value) in old.map(|o| contributions(o, tz)).unwrap_or_default() {
        by_key.entry(key).or_default().0 = value;
    }
    for (key, value) in contributions(new, tz) {
        by_key.entry(key).or_default().1 = value;
    }
    by_key
        .into_iter()
        .filter(|(_, (remove, add))| remove != add)
        .map(|(key, (remove, add))| RollupChange { key, remove, add })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime};
    use uuid::Uuid;

    pub(crate) fn casablanca() -> TimeZone {
        TimeZone::get("Africa/Casablanca").unwrap()
    }

    pub(crate) fn cell_at(lat: f64, lon: f64) -> Res8Cell {
        Res8Cell::of(&GeoPoint::parse(lat, lon).unwrap())
    }

    pub(crate) fn facts() -> ReportFacts {
        ReportFacts {
            jurisdiction: Slug::parse("id", "tetouan").unwrap(),
            service: ServiceCode::parse("litter").unwrap(),
            operator: Some(OperatorId(Uuid::from_u128(7))),
            district: Some(Slug::parse("district", "sidi-al-mandri").unwrap()),
            cell: cell_at(35.5785, -5.3684),
            channel: Channel::App,
            created_at: datetime!(2026-03-02 22:30 UTC),
            acknowledged_at: None,
            resolved_at: None,
            reopened_at: vec![],
            breached: false,
            rating: None,
        }
    }

    #[test]
    fn cells_are_resolution_8() {
        let cell = cell_at(35.5785, -5.3684);
        assert_eq!(cell.cell().resolution(), Resolution::Eight);
        assert_eq!(cell.parent7().resolution(), Resolution::Seven);
        assert_eq!(Res8Cell::from_i64(cell.to_i64()).unwrap(), cell);
        let fine = GeoPoint::parse(35.5785, -5.3684)
            .unwrap()
            .cell(Resolution::Nine);
        assert_eq!(Res8Cell::containing(fine), Some(cell));
        assert_eq!(Res8Cell::containing(cell.parent7()), None);
        assert!(Res8Cell::from_i64(cell_to_i64(cell.parent7())).is_err());
        assert!(Res8Cell::from_i64(-1).is_err());
    }

    #[test]
    fn ratings_are_1_to_5() {
        assert_eq!(Rating::parse(5).unwrap().value(), 5);
        assert!(Rating::parse(0).is_err() && Rating::parse(6).is_err());
        assert!(serde_json::from_str::<Rating>("9").is_err());
    }

    #[test]
    fn days_are_local() {
        // 23:30 UTC on 10 April 2026 is 00:30 the next day in Casablanca (UTC+1)...
        assert_eq!(
            local_day(datetime!(2026-04-10 23:30 UTC), &casablanca()),
            date!(2026 - 04 - 11)
        );
        assert_eq!(
            local_day(datetime!(2026-04-10 23:30 UTC), &TimeZone::UTC),
            date!(2026 - 04 - 10)
        );
        // ...but during Ramadan 2026 Morocco is on UTC+0.
        assert_eq!(
            local_day(datetime!(2026-03-02 23:30 UTC), &casablanca()),
            date!(2026 - 03 - 02)
        );
    }

    #[test]
    fn each_fact_counts_on_its_own_day() {
        let tz = TimeZone::UTC;
        let mut f = facts();
        f.acknowledged_at = Some(datetime!(2026-03-03 08:00 UTC));
        f.resolved_at = Some(datetime!(2026-03-05 12:00 UTC));
        f.reopened_at = vec![datetime!(2026-03-04 09:00 UTC)];
        f.breached = true;
        f.rating = Some(Rating::parse(4).unwrap());
        let rows = contributions(&f, &tz);
        let days: Vec<Date> = rows.iter().map(|(k, _)| k.day).collect();
        assert_eq!(
            days,
            [
                date!(2026 - 03 - 02),
                date!(2026 - 03 - 03),
                date!(2026 - 03 - 04),
                date!(2026 - 03 - 05)
            ]
        );
        let (created, ack, reopened, resolved) = (&rows[0].1, &rows[1].1, &rows[2].1, &rows[3].1);
        assert_eq!(
            (created.new, created.new_by_channel.get(Channel::App)),
            (1, 1)
        );
        assert_eq!(ack.acknowledge.count(), 1);
        // 9.5 h to acknowledge: the 10-hour bucket.
        assert_eq!(ack.acknowledge.median().unwrap().upper_minutes(), Some(600));
        assert_eq!(reopened.reopened, 1);
        assert_eq!((resolved.resolved, resolved.breached), (1, 1));
        // 2 days 13.5 h to resolve: the 3-day bucket.
        assert_eq!(
            resolved.resolve.median().unwrap().upper_minutes(),
            Some(4320)
        );
        assert_eq!(resolved.satisfaction_mean(), Some(4.0));
    }

    #[test]
    fn breach_and_rating_of_an_open_report() {
        let mut f = facts();
        f.breached = true;
        f.rating = Some(Rating::parse(2).unwrap());
        let rows = contributions(&f, &TimeZone::UTC);
        assert_eq!(rows.len(), 1);
        let row = &rows[0].1;
        // Not resolved: the breach is not counted yet; the rating goes to the creation day.
        assert_eq!((row.new, row.resolved, row.breached), (1, 0, 0));
        assert_eq!((row.satisfaction_sum, row.satisfaction_count), (2, 1));
    }

    #[test]
    fn incremental_changes_match_a_rebuild() {
        let tz = casablanca();
        let v1 = facts();
        let mut v2 = v1.clone();
        v2.acknowledged_at = Some(datetime!(2026-03-03 08:00 UTC));
        let mut v3 = v2.clone();
        v3.resolved_at = Some(datetime!(2026-03-03 15:00 UTC));
        v3.rating = Some(Rating::parse(5).unwrap());
        let mut v4 = v3.clone();
        // Reopened, rerouted to another operator.
        v4.resolved_at = None;
        v4.reopened_at = vec![datetime!(2026-03-04 10:00 UTC)];
        v4.operator = Some(OperatorId(Uuid::from_u128(8)));

        let mut table: BTreeMap<RollupKey, RollupValue> = BTreeMap::new();
        let mut previous: Option<&ReportFacts> = None;
        for version in [&v1, &v2, &v3, &v4] {
            for change in changes(previous, version, &tz) {
                let row = table.remove(&change.key).unwrap_or_default();
                let row = row.apply(&change).expect("never below zero");
                if !row.is_empty() {
                    table.insert(change.key.clone(), row);
                }
            }
            previous = Some(version);
            let rebuilt: BTreeMap<_, _> = contributions(version, &tz).into_iter().collect();
            assert_eq!(table, rebuilt);
        }
        assert!(changes(Some(&v4), &v4, &tz).is_empty());
        // Undoing a contribution a row never held is refused.
        assert_eq!(
            RollupValue::default().checked_sub(&contributions(&v1, &tz)[0].1),
            None
        );
    }

    fn arb_facts() -> impl Strategy<Value = ReportFacts> {
        (
            0i64..40 * 24,
            prop::option::of(0i64..200),
            prop::option::of(0i64..2000),
            prop::collection::vec(0i64..2000, 0..3),
            any::<bool>(),
            prop::option::of(1i64..=5),
            0usize..5,
        )
            .prop_map(
                |(created_h, ack_h, res_h, reopen_h, breached, rating, ch)| {
                    let base = datetime!(2026-01-01 00:00 UTC) + time::Duration::hours(created_h);
                    ReportFacts {
                        created_at: base,
                        acknowledged_at: ack_h.map(|h| base + time::Duration::minutes(h * 7)),
                        resolved_at: res_h.map(|h| base + time::Duration::minutes(h * 13)),
                        reopened_at: reopen_h
                            .into_iter()
                            .map(|h| base + time::Duration::minutes(h * 11))
                            .collect(),
                        breached,
                        rating: rating.map(|r| Rating::parse(r).unwrap()),
                        channel: Channel::ALL[ch],
                        ..facts()
                    }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn every_sequence_of_changes_equals_a_rebuild(versions in prop::collection::vec(arb_facts(), 1..5)) {
            let tz = casablanca();
            let mut table: BTreeMap<RollupKey, RollupValue> = BTreeMap::new();
            let mut previous: Option<&ReportFacts> = None;
            for version in &versions {
                for change in changes(previous, version, &tz) {
                    let row = table.remove(&change.key).unwrap_or_default();
                    let row = row.apply(&change).expect("never below zero");
                    if !row.is_empty() {
                        table.insert(change.key.clone(), row);
                    }
                }
                previous = Some(version);
            }
            let rebuilt: BTreeMap<_, _> =
                contributions(versions.last().unwrap(), &tz).into_iter().collect();
            prop_assert_eq!(table, rebuilt);
        }

        #[test]
        fn contributions_add_up(f in arb_facts()) {
            let mut total = RollupValue::default();
            for (_, v) in contributions(&f, &TimeZone::UTC) {
                total.merge(&v);
            }
            prop_assert_eq!(total.new, 1);
            prop_assert_eq!(total.new_by_channel.total(), 1);
            prop_assert_eq!(total.resolved, u64::from(f.resolved_at.is_some()));
            prop_assert!(total.breached <= total.resolved);
            prop_assert_eq!(total.reopened, f.reopened_at.len() as u64);
            prop_assert_eq!(total.acknowledge.count(), u64::from(f.acknowledged_at.is_some()));
            prop_assert_eq!(total.resolve.count(), total.resolved);
            prop_assert_eq!(total.satisfaction_count, u64::from(f.rating.is_some()));
        }
    }
}
