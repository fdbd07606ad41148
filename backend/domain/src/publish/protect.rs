//! How the counts of a service whose records are not public (a sensitive service) are
//! published: one monthly table per measure, at the finest level where every published
//! figure is 0 or at least k, and nothing finer anywhere else.
//!
//! The levels, finest first: by district; by operator (an operator's districts are public
//! knowledge, so its total is the sum of its districts); the service's total; withheld.
//! A month is published at the finest level whose every figure is 0 or ≥ k; at the
//! operator level, the districts of operators whose own districts are all 0 or ≥ k are
//! published too. Every coarser figure published is the sum of published finer ones, so a
//! table holds nothing that its published cells do not already say.
//!
//! Everything else is derived from these monthly figures and nothing but them
//! ([`combine`]): a year or a range of months is published at each entry only where every
//! month published that entry, as their sum. Weeks are not published for these services
//! (a week overlaps two months: differences between the two calendars would reveal what
//! either withholds). So an attacker holding every release solves a system whose every
//! equation is a sum of published monthly figures: nothing withheld can come out of it.

use std::collections::BTreeMap;

/// The finest level a month's table was published at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    District,
    Operator,
    Service,
    Withheld,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::District => "district",
            Level::Operator => "operator",
            Level::Service => "service",
            Level::Withheld => "withheld",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Level::District,
            Level::Operator,
            Level::Service,
            Level::Withheld,
        ]
        .into_iter()
        .find(|l| l.as_str() == raw)
    }
}

/// One month's true count in a district (and the operator holding that district's contract).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistrictCount {
    pub district: String,
    pub operator: String,
    pub count: u64,
}

/// A published table of one protected service and measure: `None` = withheld.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProtectedTable {
    pub level: Option<String>,
    pub districts: BTreeMap<String, Option<u64>>,
    pub operators: BTreeMap<String, Option<u64>>,
    pub total: Option<u64>,
}

impl ProtectedTable {
    pub fn level(&self) -> Level {
        self.level
            .as_deref()
            .and_then(Level::parse)
            .unwrap_or(Level::Withheld)
    }

    /// Entries withheld (districts and operators; the total when withheld).
    pub fn withheld(&self) -> usize {
        self.districts.values().filter(|v| v.is_none()).count()
            + self.operators.values().filter(|v| v.is_none()).count()
            + usize::from(self.total.is_none())
    }

    /// Entries published.
    pub fn published(&self) -> usize {
        self.districts.values().filter(|v| v.is_some()).count()
            + self.operators.values().filter(|v| v.is_some()).count()
            + usize::from(self.total.is_some())
    }
}

/// A month's table of one protected service and measure. `districts` lists every district
/// (with its operator) the table has a row for, zeros included.
pub fn protect(districts: &[DistrictCount], k: u64) -> ProtectedTable {
    let fine = |n: u64| n == 0 || n >= k;
    let mut operators: BTreeMap<String, u64> = BTreeMap::new();
    for d in districts {
        *operators.entry(d.operator.clone()).or_default() += d.count;
    }
    let total: u64 = districts.iter().map(|d| d.count).sum();
    let level = if districts.iter().all(|d| fine(d.count)) {
        Level::District
    } else if operators.values().all(|n| fine(*n)) {
        Level::Operator
    } else if fine(total) {
        Level::Service
    } else {
        Level::Withheld
    };
    let operator_clean = |o: &str| {
        districts
            .iter()
            .filter(|d| d.operator == o)
            .all(|d| fine(d.count))
    };
    ProtectedTable {
        level: Some(level.as_str().to_owned()),
        districts: districts
            .iter()
            .map(|d| {
                let shown = match level {
                    Level::District => true,
                    Level::Operator => operator_clean(&d.operator),
                    _ => false,
                };
                (d.district.clone(), shown.then_some(d.count))
            })
            .collect(),
        operators: operators
            .iter()
            .map(|(o, n)| (o.clone(), (level <= Level::Operator).then_some(*n)))
            .collect(),
        total: (level <= Level::Service).then_some(total),
    }
}

/// Several published tables (months) as one: each entry is the sum of the tables' entries
/// where every table published it, else withheld. The level is the coarsest of theirs.
pub fn combine<'a>(tables: impl IntoIterator<Item = &'a ProtectedTable>) -> ProtectedTable {
    let tables: Vec<&ProtectedTable> = tables.into_iter().collect();
    if tables.is_empty() {
        return ProtectedTable {
            level: Some(Level::District.as_str().to_owned()),
            total: Some(0),
            ..Default::default()
        };
    }
    let sum = |get: &dyn Fn(&ProtectedTable) -> Option<Option<u64>>| -> Option<u64> {
        tables
            .iter()
            .map(|t| get(t).unwrap_or(Some(0)))
            .try_fold(0u64, |acc, v| v.map(|v| acc + v))
    };
    let mut out = ProtectedTable {
        level: tables
            .iter()
            .map(|t| t.level())
            .max()
            .map(|l| l.as_str().to_owned()),
        total: sum(&|t| Some(t.total)),
        ..Default::default()
    };
    let district_names: std::collections::BTreeSet<&String> =
        tables.iter().flat_map(|t| t.districts.keys()).collect();
    for d in district_names {
        out.districts
            .insert(d.clone(), sum(&|t| t.districts.get(d).copied()));
    }
    let operator_names: std::collections::BTreeSet<&String> =
        tables.iter().flat_map(|t| t.operators.keys()).collect();
    for o in operator_names {
        out.operators
            .insert(o.clone(), sum(&|t| t.operators.get(o).copied()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(district: &str, operator: &str, count: u64) -> DistrictCount {
        DistrictCount {
            district: district.into(),
            operator: operator.into(),
            count,
        }
    }

    #[test]
    fn the_finest_safe_level_is_chosen() {
        let all_fine = protect(&[d("a", "x", 12), d("b", "x", 0), d("c", "y", 10)], 10);
        assert_eq!(all_fine.level(), Level::District);
        assert_eq!(all_fine.districts["a"], Some(12));
        assert_eq!(all_fine.total, Some(22));

        let by_operator = protect(&[d("a", "x", 7), d("b", "x", 9), d("c", "y", 10)], 10);
        assert_eq!(by_operator.level(), Level::Operator);
        assert_eq!(by_operator.districts["a"], None);
        assert_eq!(by_operator.districts["b"], None);
        // y's only district is fine: shown.
        assert_eq!(by_operator.districts["c"], Some(10));
        assert_eq!(by_operator.operators["x"], Some(16));

        let total_only = protect(&[d("a", "x", 3), d("c", "y", 10)], 10);
        assert_eq!(total_only.level(), Level::Service);
        assert_eq!(total_only.operators["y"], None);
        assert_eq!(total_only.total, Some(13));

        let none = protect(&[d("a", "x", 3), d("c", "y", 1)], 10);
        assert_eq!(none.level(), Level::Withheld);
        assert_eq!(none.total, None);
        assert_eq!(none.published(), 0);
    }

    #[test]
    fn combining_publishes_only_sums_of_published_entries() {
        let m1 = protect(&[d("a", "x", 12), d("c", "y", 10)], 10);
        let m2 = protect(&[d("a", "x", 3), d("c", "y", 10)], 10);
        let both = combine([&m1, &m2]);
        assert_eq!(both.level(), Level::Service);
        assert_eq!(both.districts["a"], None);
        assert_eq!(both.districts["c"], None);
        assert_eq!(both.total, Some(35));
        assert_eq!(combine([&m1, &m1]).districts["a"], Some(24));
    }
}
