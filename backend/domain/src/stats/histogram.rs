//! Mergeable duration histograms: time to acknowledge and time to resolve, kept per roll-up
//! row and added up over any period.
//!
//! Every histogram uses the same fixed bucket boundaries, [`BUCKET_UPPER_MINUTES`], so two
//! histograms from any two roll-up rows merge by adding counts bucket by bucket, and a
//! percentile over any period is exact *to the bucket*: "the median time to resolve was at
//! most 8 hours" is a true statement about every report counted, never an interpolation.
//!
//! The boundaries are human-readable (1 min … 90 days, at most ×1.5 apart) and include the
//! usual SLA targets (1, 2, 4, 8, 24, 48, 72 hours, 5 and 7 days), so "resolved within the
//! target" can be read off a histogram when the target is a boundary. **They are frozen**:
//! the database stores bucket indexes, so changing the array needs a data migration that
//! rebuilds the roll-ups from reports.
//!
//! Stored form (a JSON column): the sparse list of non-empty buckets as `[[index, count], …]`
//! with strictly increasing indexes and non-zero counts, so one histogram has exactly one
//! stored form and equal histograms compare equal as text.

use crate::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::Duration;

/// Inclusive upper bound of each bounded bucket, in minutes. Bucket `i` holds the durations
/// `d` with `BUCKET_UPPER_MINUTES[i - 1] < d ≤ BUCKET_UPPER_MINUTES[i]` (bucket 0: `d ≤ 1
/// min`, negative durations included); the last bucket, [`OVERFLOW_BUCKET`], holds
/// everything longer than 90 days.
pub const BUCKET_UPPER_MINUTES: [u32; 42] = [
    // minutes
    1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 45, //
    // hours: 1, 1¼, 1½, 2, 2½, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 30, 36, 48, 60
    60, 75, 90, 120, 150, 180, 240, 300, 360, 480, 600, 720, 960, 1200, 1440, 1800, 2160, 2880,
    3600, //
    // days: 3, 4, 5, 6, 7, 10, 14, 21, 30, 45, 60, 90
    4320, 5760, 7200, 8640, 10080, 14400, 20160, 30240, 43200, 64800, 86400, 129600,
];

/// Number of buckets: one per boundary plus the overflow bucket.
pub const BUCKET_COUNT: usize = BUCKET_UPPER_MINUTES.len() + 1;

/// The index of the bucket for durations above the last boundary (more than 90 days).
pub const OVERFLOW_BUCKET: u8 = BUCKET_UPPER_MINUTES.len() as u8;

/// One bucket of the fixed scheme: what a quantile answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bucket(u8);

impl Bucket {
    /// The bucket holding `duration`.
    pub fn of(duration: Duration) -> Self {
        // Compare in seconds: 61 s is above the 1-minute boundary.
        let seconds = duration.whole_seconds();
        let index = BUCKET_UPPER_MINUTES.partition_point(|&m| i64::from(m) * 60 < seconds);
        Self(index as u8)
    }

    /// The bucket with this index, if the scheme has one.
    pub fn from_index(index: u8) -> Option<Self> {
        (usize::from(index) < BUCKET_COUNT).then_some(Self(index))
    }

    pub fn index(self) -> u8 {
        self.0
    }

    /// Inclusive upper bound in minutes; `None` for the overflow bucket (more than 90 days).
    pub fn upper_minutes(self) -> Option<u32> {
        BUCKET_UPPER_MINUTES.get(usize::from(self.0)).copied()
    }

    /// Exclusive lower bound in minutes (0 for the first bucket, which also holds 0).
    pub fn lower_minutes(self) -> u32 {
        match self.0 {
            0 => 0,
            i => BUCKET_UPPER_MINUTES[usize::from(i) - 1],
        }
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.upper_minutes() {
            Some(m) => write!(f, "≤ {m} min"),
            None => write!(f, "> {} min", self.lower_minutes()),
        }
    }
}

/// Counts of durations per fixed bucket.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DurationHistogram {
    counts: [u64; BUCKET_COUNT],
}

impl Default for DurationHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for DurationHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DurationHistogram")
            .field(&self.to_sparse())
            .finish()
    }
}

impl DurationHistogram {
    pub const fn new() -> Self {
        Self {
            counts: [0; BUCKET_COUNT],
        }
    }

    /// Counts one duration.
    pub fn record(&mut self, duration: Duration) {
        self.record_in(Bucket::of(duration), 1);
    }

    /// Adds `count` durations to `bucket`.
    pub fn record_in(&mut self, bucket: Bucket, count: u64) {
        let slot = &mut self.counts[usize::from(bucket.0)];
        *slot = slot.saturating_add(count);
    }

    /// Adds `other`'s counts to this one's.
    pub fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine = mine.saturating_add(theirs);
        }
    }

    /// Takes `other`'s counts out of this one's (undoing an earlier [`merge`](Self::merge)),
    /// or `None`, changing nothing, if some bucket would go below zero.
    pub fn checked_sub(&self, other: &Self) -> Option<Self> {
        let mut out = Self::new();
        for (i, slot) in out.counts.iter_mut().enumerate() {
            *slot = self.counts[i].checked_sub(other.counts[i])?;
        }
        Some(out)
    }

    /// How many durations were recorded.
    pub fn count(&self) -> u64 {
        self.counts
            .iter()
            .fold(0u64, |sum, c| sum.saturating_add(*c))
    }

    pub fn is_empty(&self) -> bool {
        self.counts.iter().all(|c| *c == 0)
    }

    /// The count in one bucket.
    pub fn count_in(&self, bucket: Bucket) -> u64 {
        self.counts[usize::from(bucket.0)]
    }

    /// How many durations are at most `bucket`'s upper bound (cumulative count).
    pub fn count_at_most(&self, bucket: Bucket) -> u64 {
        self.counts[..=usize::from(bucket.0)]
            .iter()
            .fold(0u64, |sum, c| sum.saturating_add(*c))
    }

    /// The bucket holding the `q`-quantile (nearest rank: the bucket of the
    /// `max(1, ⌈q·n⌉)`-th smallest duration), for `0 ≤ q ≤ 1`. `None` when empty or when `q`
    /// is outside `[0, 1]` or NaN. Monotone in `q`.
    pub fn quantile(&self, q: f64) -> Option<Bucket> {
        if !(0.0..=1.0).contains(&q) {
            return None;
        }
        let n = self.count();
        if n == 0 {
            return None;
        }
        // q·n ≤ n ≤ 2^64, and ceil of a product in [0, n] stays in range.
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            seen = seen.saturating_add(*c);
            if seen >= rank {
                return Some(Bucket(i as u8));
            }
        }
        // Unreachable: the running sum reaches n ≥ rank.
        Some(Bucket(OVERFLOW_BUCKET))
    }

    /// The median bucket (`quantile(0.5)`).
    pub fn median(&self) -> Option<Bucket> {
        self.quantile(0.5)
    }

    /// The stored form: `(bucket index, count)` for each non-empty bucket, by index.
    pub fn to_sparse(&self) -> Vec<(u8, u64)> {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, c)| (i as u8, *c))
            .collect()
    }

    /// Reads the stored form back: indexes must be known buckets in strictly increasing
    /// order, counts non-zero.
    pub fn from_sparse(pairs: &[(u8, u64)]) -> Result<Self, FieldError> {
        let mut out = Self::new();
        let mut previous: Option<u8> = None;
        for (position, &(index, count)) in pairs.iter().enumerate() {
            let field = |m: String| FieldError::new(format!("histogram[{position}]"), m);
            let bucket = Bucket::from_index(index).ok_or_else(|| {
                field(format!(
                    "bucket {index} does not exist (0-{OVERFLOW_BUCKET})"
                ))
            })?;
            if previous.is_some_and(|p| p >= index) {
                return Err(field("buckets must be in strictly increasing order".into()));
            }
            if count == 0 {
                return Err(field("empty buckets are left out, not stored as 0".into()));
            }
            out.counts[usize::from(bucket.0)] = count;
            previous = Some(index);
        }
        Ok(out)
    }
}

impl Serialize for DurationHistogram {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_sparse().serialize(s)
    }
}

impl<'de> Deserialize<'de> for DurationHistogram {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pairs = Vec::<(u8, u64)>::deserialize(d)?;
        Self::from_sparse(&pairs).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn minutes(m: i64) -> Duration {
        Duration::minutes(m)
    }

    fn histogram(durations: &[Duration]) -> DurationHistogram {
        let mut h = DurationHistogram::new();
        for d in durations {
            h.record(*d);
        }
        h
    }

    #[test]
    fn boundaries_are_strictly_increasing_and_span_a_minute_to_90_days() {
        assert!(BUCKET_UPPER_MINUTES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(BUCKET_UPPER_MINUTES[0], 1);
        assert_eq!(*BUCKET_UPPER_MINUTES.last().unwrap(), 90 * 24 * 60);
        assert!((40..=64).contains(&BUCKET_COUNT));
        // At most ×1.5 between neighbours above 2 minutes.
        assert!(
            BUCKET_UPPER_MINUTES
                .windows(2)
                .skip(1)
                .all(|w| w[1] * 2 <= w[0] * 3)
        );
        // Common SLA targets are boundaries.
        for hours in [1, 2, 4, 8, 24, 48, 72, 120, 168] {
            assert!(BUCKET_UPPER_MINUTES.contains(&(hours * 60)), "{hours} h");
        }
    }

    #[test]
    fn bucket_edges_are_inclusive_above() {
        assert_eq!(Bucket::of(Duration::ZERO).index(), 0);
        assert_eq!(Bucket::of(Duration::seconds(-30)).index(), 0);
        assert_eq!(Bucket::of(Duration::seconds(60)).index(), 0);
        assert_eq!(Bucket::of(Duration::seconds(61)).index(), 1);
        assert_eq!(Bucket::of(minutes(60)).upper_minutes(), Some(60));
        assert_eq!(Bucket::of(minutes(61)).upper_minutes(), Some(75));
        assert_eq!(Bucket::of(Duration::hours(24)).upper_minutes(), Some(1440));
        assert_eq!(
            Bucket::of(Duration::days(90)).upper_minutes(),
            Some(129_600)
        );
        let overflow = Bucket::of(Duration::days(90) + Duration::SECOND);
        assert_eq!(overflow.index(), OVERFLOW_BUCKET);
        assert_eq!(overflow.upper_minutes(), None);
        assert_eq!(overflow.lower_minutes(), 129_600);
        assert_eq!(overflow.to_string(), "> 129600 min");
        assert_eq!(Bucket::of(minutes(100)).to_string(), "≤ 120 min");
        assert_eq!(Bucket::from_index(OVERFLOW_BUCKET + 1), None);
    }

    #[test]
    fn quantiles_are_exact_to_the_bucket() {
        // 10 durations: 1,2,...,10 hours.
        let h = histogram(&(1..=10).map(Duration::hours).collect::<Vec<_>>());
        assert_eq!(h.count(), 10);
        assert_eq!(h.median().unwrap().upper_minutes(), Some(300)); // 5th: 5 h
        assert_eq!(h.quantile(0.0).unwrap().upper_minutes(), Some(60));
        assert_eq!(h.quantile(0.9).unwrap().upper_minutes(), Some(600)); // 9th: 9 h ≤ 10 h
        assert_eq!(h.quantile(1.0).unwrap().upper_minutes(), Some(600));
        assert_eq!(h.quantile(1.5), None);
        assert_eq!(h.quantile(f64::NAN), None);
        assert_eq!(DurationHistogram::new().median(), None);
        assert_eq!(h.count_at_most(Bucket::of(Duration::hours(4))), 4);
    }

    #[test]
    fn sparse_form_round_trips_and_is_strict() {
        let h = histogram(&[minutes(3), minutes(3), Duration::days(200)]);
        assert_eq!(h.to_sparse(), vec![(2, 2), (OVERFLOW_BUCKET, 1)]);
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, "[[2,2],[42,1]]");
        assert_eq!(serde_json::from_str::<DurationHistogram>(&json).unwrap(), h);
        assert_eq!(
            serde_json::from_str::<DurationHistogram>("[]").unwrap(),
            DurationHistogram::new()
        );
        for bad in [
            "[[43,1]]",
            "[[2,1],[2,1]]",
            "[[5,1],[2,1]]",
            "[[2,0]]",
            "[[-1,1]]",
        ] {
            assert!(
                serde_json::from_str::<DurationHistogram>(bad).is_err(),
                "{bad}"
            );
        }
        let err = DurationHistogram::from_sparse(&[(3, 1), (1, 1)]).unwrap_err();
        assert_eq!(err.field, "histogram[1]");
    }

    #[test]
    fn checked_sub_undoes_merge() {
        let a = histogram(&[minutes(3), minutes(90)]);
        let b = histogram(&[minutes(90)]);
        let mut ab = a.clone();
        ab.merge(&b);
        assert_eq!(ab.checked_sub(&b), Some(a.clone()));
        assert_eq!(b.checked_sub(&a), None);
    }

    fn durations() -> impl Strategy<Value = Vec<Duration>> {
        // Up to 200 days in seconds, so every bucket including overflow is reachable.
        prop::collection::vec((-60i64..200 * 86_400).prop_map(Duration::seconds), 0..60)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn merge_is_commutative_and_associative(a in durations(), b in durations(), c in durations()) {
            let (ha, hb, hc) = (histogram(&a), histogram(&b), histogram(&c));
            let mut ab = ha.clone();
            ab.merge(&hb);
            let mut ba = hb.clone();
            ba.merge(&ha);
            prop_assert_eq!(&ab, &ba);
            let mut ab_c = ab.clone();
            ab_c.merge(&hc);
            let mut bc = hb.clone();
            bc.merge(&hc);
            let mut a_bc = ha.clone();
            a_bc.merge(&bc);
            prop_assert_eq!(ab_c, a_bc);
        }

        #[test]
        fn merged_quantiles_equal_quantiles_of_all_records(
            a in durations(), b in durations(), q in 0.0f64..=1.0,
        ) {
            let mut merged = histogram(&a);
            merged.merge(&histogram(&b));
            let mut all = a.clone();
            all.extend(&b);
            prop_assert_eq!(merged.quantile(q), histogram(&all).quantile(q));
            prop_assert_eq!(merged.count(), all.len() as u64);
            // And it is the bucket of the true nearest-rank quantile.
            if !all.is_empty() {
                all.sort();
                let rank = ((q * all.len() as f64).ceil() as usize).clamp(1, all.len());
                prop_assert_eq!(merged.quantile(q), Some(Bucket::of(all[rank - 1])));
            }
        }

        #[test]
        fn quantile_is_monotone_in_q(a in durations(), q1 in 0.0f64..=1.0, q2 in 0.0f64..=1.0) {
            let h = histogram(&a);
            let (lo, hi) = if q1 <= q2 { (q1, q2) } else { (q2, q1) };
            prop_assert!(h.quantile(lo) <= h.quantile(hi));
        }

        #[test]
        fn sparse_form_round_trips(a in durations()) {
            let h = histogram(&a);
            prop_assert_eq!(DurationHistogram::from_sparse(&h.to_sparse()).unwrap(), h);
        }
    }
}
