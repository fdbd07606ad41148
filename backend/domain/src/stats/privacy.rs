//! Optional differential privacy for published counts: discrete Laplace noise, contribution
//! capping, and the ε ledger.
//!
//! # Noise
//!
//! A count is released as `count + Y` where `Y` follows the discrete Laplace (two-sided
//! geometric) distribution `P(Y = y) ∝ exp(−ε·|y| / Δ)`, `Δ` being the sensitivity (how much
//! one reporter can change the count: the contribution cap). Its mean is 0 and its variance
//! `2p / (1 − p)²` with `p = exp(−ε/Δ)`. The sampler is exact: ε is a whole number of
//! millionths, and [`discrete_laplace`] follows Canonne, Kamath & Steinke (2020, "The
//! Discrete Gaussian for Differential Privacy", algorithms 1–2) using only integer
//! uniform draws and Bernoulli trials with rational parameters, so there is no
//! floating-point rounding whose pattern could leak the true count. Negative noisy counts
//! are published as 0 (post-processing does not weaken the guarantee).
//!
//! # Contribution capping
//!
//! One resident filing 40 reports must not move a count by 40. [`cap_contributions`] keeps
//! at most `cap` contributions per reporter, the earliest by a caller-given order (ties: the
//! input order), so the rule is deterministic and reproducible; the sensitivity of a count
//! (or of a whole histogram of disjoint cells, in L1) is then `cap`. Reports without a
//! reporter identity each count as their own reporter.
//!
//! # The ε ledger
//!
//! Every noisy release spends its ε from a budget. An [`EpsilonLedger`] holds the budget of
//! one scope (the store keeps one per jurisdiction × dataset × period of the *data*, since
//! releases about disjoint periods compose in parallel) and the entries spent from it.
//! [`EpsilonLedger::spend`] refuses a release that would take the total over the budget,
//! so the total spent never exceeds it (ε are added exactly, in millionths). A release id is
//! spent once: asking again with the same ε returns the existing entry (a retried job must
//! re-publish the numbers it stored, never draw new noise, or averaging the retries would
//! undo the noise); asking with a different ε is refused.

use crate::FieldError;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

const MICROS: u64 = 1_000_000;

/// A privacy parameter ε > 0, as a whole number of millionths (exact arithmetic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Epsilon(u64);

impl Epsilon {
    /// The largest ε accepted for one release or budget.
    pub const MAX_MICROS: u64 = 100 * MICROS;

    pub fn from_micros(micros: u64) -> Result<Self, FieldError> {
        if (1..=Self::MAX_MICROS).contains(&micros) {
            Ok(Self(micros))
        } else {
            Err(FieldError::new(
                "epsilon",
                "must be greater than 0 and at most 100, in steps of 0.000001",
            ))
        }
    }

    /// A decimal such as `0.5` or `1.25` (at most six decimals).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let bad = || {
            FieldError::new(
                "epsilon",
                "must be a decimal number such as 0.5, with at most 6 decimals",
            )
        };
        let (whole, fraction) = raw.trim().split_once('.').unwrap_or((raw.trim(), ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits(whole)
            || !digits(fraction)
            || fraction.len() > 6
            || whole.len() > 4
        {
            return Err(bad());
        }
        let whole: u64 = whole.parse().map_err(|_| bad())?;
        let fraction: u64 = format!("{fraction:0<6}").parse().map_err(|_| bad())?;
        Self::from_micros(whole * MICROS + fraction)
    }

    pub fn micros(self) -> u64 {
        self.0
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / MICROS as f64
    }
}

/// A number of millionths as a decimal (`1500000` → `1.5`).
fn micros_text(micros: &u64) -> String {
    let (whole, fraction) = (micros / MICROS, micros % MICROS);
    if fraction == 0 {
        format!("{whole}")
    } else {
        let digits = format!("{fraction:06}");
        format!("{whole}.{}", digits.trim_end_matches('0'))
    }
}

impl fmt::Display for Epsilon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&micros_text(&self.0))
    }
}

impl<'de> Deserialize<'de> for Epsilon {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::from_micros(u64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// The differential-privacy settings of a jurisdiction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DifferentialPrivacy {
    /// ε spent by each release.
    pub epsilon_per_release: Epsilon,
    /// The budget of one ledger scope (see the module documentation).
    pub budget: Epsilon,
    /// Contributions kept per reporter; also the sensitivity of each count.
    pub contribution_cap: u32,
}

impl DifferentialPrivacy {
    pub fn new(
        epsilon_per_release: Epsilon,
        budget: Epsilon,
        contribution_cap: u32,
    ) -> Result<Self, FieldError> {
        if epsilon_per_release > budget {
            return Err(FieldError::new(
                "epsilon_per_release",
                "must not exceed the budget",
            ));
        }
        if !(1..=100).contains(&contribution_cap) {
            return Err(FieldError::new("contribution_cap", "must be from 1 to 100"));
        }
        Ok(Self {
            epsilon_per_release,
            budget,
            contribution_cap,
        })
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Bernoulli(num / den), `0 ≤ num ≤ den`, `den > 0`.
fn bernoulli_ratio(rng: &mut impl Rng, num: u64, den: u64) -> bool {
    rng.random_range(0..den) < num
}

/// Bernoulli(exp(−num / den)) for `num ≤ den` (CKS algorithm 1, first part).
fn bernoulli_exp_at_most_one(rng: &mut impl Rng, num: u64, den: u64) -> bool {
    let mut k = 1u64;
    while bernoulli_ratio(rng, num, den.saturating_mul(k)) {
        k += 1;
    }
    k % 2 == 1
}

/// Bernoulli(exp(−num / den)) for any `num ≥ 0`.
fn bernoulli_exp(rng: &mut impl Rng, mut num: u64, den: u64) -> bool {
    while num > den {
        if !bernoulli_exp_at_most_one(rng, 1, 1) {
            return false;
        }
        num -= den;
    }
    bernoulli_exp_at_most_one(rng, num, den)
}

/// One draw of discrete Laplace noise, `P(y) ∝ exp(−ε·|y| / sensitivity)`.
/// A sensitivity of 0 is taken as 1.
pub fn discrete_laplace(rng: &mut impl Rng, epsilon: Epsilon, sensitivity: u32) -> i64 {
    // Scale t = Δ/ε = (Δ · 10⁶) / micros = s / t in CKS's notation.
    let delta = u64::from(sensitivity.max(1));
    let (s, t) = (delta * MICROS, epsilon.micros());
    let g = gcd(s, t);
    let (s, t) = (s / g, t / g);
    loop {
        let u = rng.random_range(0..s);
        if !bernoulli_exp(rng, u, s) {
            continue;
        }
        let mut v = 0u64;
        while bernoulli_exp(rng, 1, 1) {
            v += 1;
        }
        // x = u + s·v follows P(x) ∝ exp(−x / s); y = ⌊x / t⌋ then P(y) ∝ exp(−y·t / s).
        let x = u.saturating_add(s.saturating_mul(v));
        let y = i64::try_from(x / t).unwrap_or(i64::MAX);
        let negative: bool = rng.random();
        if negative && y == 0 {
            continue;
        }
        return if negative { -y } else { y };
    }
}

/// A count with noise, never below 0.
pub fn noisy_count(rng: &mut impl Rng, count: u64, epsilon: Epsilon, sensitivity: u32) -> u64 {
    let noise = discrete_laplace(rng, epsilon, sensitivity);
    let noisy = i128::from(count) + i128::from(noise);
    u64::try_from(noisy.max(0)).unwrap_or(u64::MAX)
}

/// Keeps at most `cap` items per reporter: for each reporter, the first `cap` by `order`
/// (ties by input position). The kept items stay in input order.
pub fn cap_contributions<T, K: Ord, S: Ord>(
    items: Vec<T>,
    cap: u32,
    reporter: impl Fn(&T) -> K,
    order: impl Fn(&T) -> S,
) -> Vec<T> {
    let mut per_reporter: BTreeMap<K, Vec<(S, usize)>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        per_reporter
            .entry(reporter(item))
            .or_default()
            .push((order(item), i));
    }
    let mut keep = vec![false; items.len()];
    for (_, mut list) in per_reporter {
        list.sort();
        for (_, i) in list.into_iter().take(cap as usize) {
            keep[i] = true;
        }
    }
    items
        .into_iter()
        .zip(keep)
        .filter_map(|(item, k)| k.then_some(item))
        .collect()
}

/// The id of a release (e.g. `tetouan/weekly/2026-W15`): 1–128 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ReleaseId(String);

impl ReleaseId {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if !raw.is_empty() && raw.len() <= 128 && raw.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                "release_id",
                "must be 1-128 visible ASCII characters",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ReleaseId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// One release's spending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub release: ReleaseId,
    pub epsilon: Epsilon,
}

/// What [`EpsilonLedger::spend`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spent {
    /// A new entry: persist it.
    Recorded(LedgerEntry),
    /// The release had already been spent with the same ε: nothing new.
    AlreadyRecorded(LedgerEntry),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error(
        "privacy budget exhausted: ε {requested} requested, {} remaining",
        micros_text(.remaining_micros)
    )]
    BudgetExhausted {
        requested: Epsilon,
        remaining_micros: u64,
    },
    #[error("release {release} was already spent with ε = {recorded}")]
    ConflictingRelease { release: String, recorded: Epsilon },
}

/// The ε spent from one budget, release by release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpsilonLedger {
    budget: Epsilon,
    entries: Vec<LedgerEntry>,
    spent_micros: u64,
}

impl EpsilonLedger {
    pub fn new(budget: Epsilon) -> Self {
        Self {
            budget,
            entries: Vec::new(),
            spent_micros: 0,
        }
    }

    /// A ledger rebuilt from stored entries, replayed in order (the same rules apply: a
    /// store that holds more than the budget, or one release twice, is refused).
    pub fn from_entries(
        budget: Epsilon,
        entries: impl IntoIterator<Item = LedgerEntry>,
    ) -> Result<Self, LedgerError> {
        let mut ledger = Self::new(budget);
        for entry in entries {
            if let Spent::AlreadyRecorded(_) = ledger.spend(entry.release.clone(), entry.epsilon)? {
                return Err(LedgerError::ConflictingRelease {
                    release: entry.release.0,
                    recorded: entry.epsilon,
                });
            }
        }
        Ok(ledger)
    }

    pub fn budget(&self) -> Epsilon {
        self.budget
    }

    /// ε spent so far, in millionths.
    pub fn spent_micros(&self) -> u64 {
        self.spent_micros
    }

    /// ε still available, in millionths.
    pub fn remaining_micros(&self) -> u64 {
        self.budget.micros() - self.spent_micros
    }

    pub fn entries(&self) -> &[LedgerEntry] {
        &self.entries
    }

    /// Spends `epsilon` for `release`, or refuses without changing anything.
    pub fn spend(&mut self, release: ReleaseId, epsilon: Epsilon) -> Result<Spent, LedgerError> {
        if let Some(existing) = self.entries.iter().find(|e| e.release == release) {
            return if existing.epsilon == epsilon {
                Ok(Spent::AlreadyRecorded(existing.clone()))
            } else {
                Err(LedgerError::ConflictingRelease {
                    release: release.0,
                    recorded: existing.epsilon,
                })
            };
        }
        if epsilon.micros() > self.remaining_micros() {
            return Err(LedgerError::BudgetExhausted {
                requested: epsilon,
                remaining_micros: self.remaining_micros(),
            });
        }
        self.spent_micros += epsilon.micros();
        let entry = LedgerEntry { release, epsilon };
        self.entries.push(entry.clone());
        Ok(Spent::Recorded(entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn eps(raw: &str) -> Epsilon {
        Epsilon::parse(raw).unwrap()
    }

    fn release(raw: &str) -> ReleaseId {
        ReleaseId::parse(raw).unwrap()
    }

    #[test]
    fn epsilon_parses_exactly() {
        assert_eq!(eps("0.5").micros(), 500_000);
        assert_eq!(eps("1").micros(), 1_000_000);
        assert_eq!(eps("0.000001").micros(), 1);
        assert_eq!(eps("2.25").to_string(), "2.25");
        assert_eq!(eps("3").to_string(), "3");
        for bad in ["0", "0.0", "-1", "abc", "1.0000001", "", ".5", "101", "1e3"] {
            assert!(Epsilon::parse(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<Epsilon>("0").is_err());
        assert_eq!(
            serde_json::from_str::<Epsilon>("250000").unwrap(),
            eps("0.25")
        );
    }

    /// Empirical mean, variance and P(0) of many draws against the closed forms.
    fn check_moments(epsilon: Epsilon, sensitivity: u32, seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let n = 100_000;
        let draws: Vec<i64> = (0..n)
            .map(|_| discrete_laplace(&mut rng, epsilon, sensitivity))
            .collect();
        let mean = draws.iter().sum::<i64>() as f64 / n as f64;
        let var = draws
            .iter()
            .map(|d| (*d as f64 - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        let p = (-epsilon.as_f64() / f64::from(sensitivity)).exp();
        let expected_var = 2.0 * p / (1.0 - p).powi(2);
        let zero = draws.iter().filter(|d| **d == 0).count() as f64 / n as f64;
        let expected_zero = (1.0 - p) / (1.0 + p);
        // Standard error of the mean is sqrt(var/n); allow 5 of them.
        assert!(
            mean.abs() < 5.0 * (expected_var / n as f64).sqrt(),
            "mean {mean} (ε {epsilon}, Δ {sensitivity})"
        );
        assert!(
            (var / expected_var - 1.0).abs() < 0.05,
            "variance {var} vs {expected_var} (ε {epsilon}, Δ {sensitivity})"
        );
        assert!(
            (zero - expected_zero).abs() < 0.01,
            "P(0) {zero} vs {expected_zero}"
        );
    }

    #[test]
    fn noise_has_the_discrete_laplace_moments() {
        check_moments(eps("0.5"), 1, 1);
        check_moments(eps("1"), 1, 2);
        check_moments(eps("2"), 3, 3);
        check_moments(eps("3.5"), 1, 4);
    }

    #[test]
    fn noise_is_symmetric_and_reproducible() {
        let draw = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..50)
                .map(|_| discrete_laplace(&mut rng, eps("0.7"), 2))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(9), draw(9));
        let mut rng = StdRng::seed_from_u64(5);
        let draws: Vec<i64> = (0..40_000)
            .map(|_| discrete_laplace(&mut rng, eps("1"), 1))
            .collect();
        for y in 1..4 {
            let plus = draws.iter().filter(|d| **d == y).count() as f64;
            let minus = draws.iter().filter(|d| **d == -y).count() as f64;
            assert!((plus / minus - 1.0).abs() < 0.1, "{y}: {plus} vs {minus}");
        }
    }

    #[test]
    fn noisy_counts_are_never_negative() {
        let mut rng = StdRng::seed_from_u64(11);
        let counts: Vec<u64> = (0..2_000)
            .map(|_| noisy_count(&mut rng, 0, eps("0.1"), 1))
            .collect();
        assert!(counts.iter().any(|c| *c > 0));
        assert!(counts.iter().filter(|c| **c == 0).count() > 900);
    }

    #[test]
    fn contributions_are_capped_per_reporter() {
        // (reporter, day, id)
        let items = vec![
            ("amina", 3, 'a'),
            ("omar", 1, 'b'),
            ("amina", 1, 'c'),
            ("amina", 2, 'd'),
            ("amina", 2, 'e'),
            ("omar", 5, 'f'),
        ];
        let kept = cap_contributions(items.clone(), 2, |i| i.0, |i| i.1);
        let ids: String = kept.iter().map(|i| i.2).collect();
        // Amina's two earliest (day 1 'c', then day 2 'd' before 'e' by position); Omar's two.
        assert_eq!(ids, "bcdf");
        assert_eq!(
            cap_contributions(items.clone(), 0, |i| i.0, |i| i.1),
            vec![]
        );
        assert_eq!(cap_contributions(items.clone(), 9, |i| i.0, |i| i.1), items);
    }

    #[test]
    fn the_ledger_never_overspends() {
        let mut ledger = EpsilonLedger::new(eps("1"));
        assert!(matches!(
            ledger.spend(release("w15"), eps("0.4")),
            Ok(Spent::Recorded(_))
        ));
        assert!(matches!(
            ledger.spend(release("w15"), eps("0.4")),
            Ok(Spent::AlreadyRecorded(_))
        ));
        assert_eq!(
            ledger.spend(release("w15"), eps("0.5")),
            Err(LedgerError::ConflictingRelease {
                release: "w15".into(),
                recorded: eps("0.4")
            })
        );
        ledger.spend(release("w16"), eps("0.6")).unwrap();
        assert_eq!(ledger.remaining_micros(), 0);
        let refused = ledger.spend(release("w17"), eps("0.000001")).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "privacy budget exhausted: ε 0.000001 requested, 0 remaining"
        );
        assert_eq!(ledger.entries().len(), 2);
        // Rebuilt from the store.
        let again = EpsilonLedger::from_entries(eps("1"), ledger.entries().to_vec()).unwrap();
        assert_eq!(again, ledger);
        assert!(EpsilonLedger::from_entries(eps("0.5"), ledger.entries().to_vec()).is_err());
        let twice = vec![ledger.entries()[0].clone(), ledger.entries()[0].clone()];
        assert!(EpsilonLedger::from_entries(eps("1"), twice).is_err());
    }

    #[test]
    fn settings_are_checked() {
        assert!(DifferentialPrivacy::new(eps("0.5"), eps("4"), 3).is_ok());
        assert!(DifferentialPrivacy::new(eps("5"), eps("4"), 3).is_err());
        assert!(DifferentialPrivacy::new(eps("0.5"), eps("4"), 0).is_err());
        assert!(ReleaseId::parse("tetouan/weekly/2026-W15").is_ok());
        assert!(ReleaseId::parse("a b").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn spent_never_exceeds_the_budget(
            budget in 1u64..5_000_000,
            requests in prop::collection::vec((0u8..6, 1u64..2_000_000), 0..30),
        ) {
            let mut ledger = EpsilonLedger::new(Epsilon::from_micros(budget).unwrap());
            for (id, micros) in requests {
                let before = ledger.spent_micros();
                let result = ledger.spend(release(&format!("r{id}")), Epsilon::from_micros(micros).unwrap());
                prop_assert!(ledger.spent_micros() <= budget);
                let total: u64 = ledger.entries().iter().map(|e| e.epsilon.micros()).sum();
                prop_assert_eq!(total, ledger.spent_micros());
                match result {
                    Ok(Spent::Recorded(_)) => prop_assert_eq!(ledger.spent_micros(), before + micros),
                    _ => prop_assert_eq!(ledger.spent_micros(), before),
                }
            }
        }

        #[test]
        fn capping_keeps_at_most_cap_per_reporter(
            items in prop::collection::vec((0u8..4, 0u16..50), 0..40),
            cap in 0u32..5,
        ) {
            let kept = cap_contributions(items.clone(), cap, |i| i.0, |i| i.1);
            for reporter in 0..4u8 {
                let had = items.iter().filter(|i| i.0 == reporter).count();
                let has = kept.iter().filter(|i| i.0 == reporter).count();
                prop_assert_eq!(has, had.min(cap as usize));
            }
        }
    }
}
