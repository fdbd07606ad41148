//! How a report's history is kept over the years. On PostgreSQL `report_events` is
//! partitioned by calendar month (UTC): the months ahead are prepared before they are
//! written, and retention drops whole months instead of deleting rows. SQLite keeps one
//! table and has nothing to prepare; retention of the history needs PostgreSQL.

use crate::{Result, Ts};
use async_trait::async_trait;

/// What one retention round did to the history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryDrop {
    /// Months dropped, as `YYYY-MM`.
    pub dropped: Vec<String>,
    /// Months past retention kept because they hold an event of a report still open (its
    /// SLA clocks and its resident's view need the whole history).
    pub kept_open: Vec<String>,
}

#[async_trait]
pub trait HistoryStore {
    /// Makes the history ready for events dated from `from` to `to` (PostgreSQL: the months'
    /// partitions, each taking in its events written to the default partition before it
    /// existed). Returns how many months were added. Idempotent.
    async fn prepare_history(&self, from: Ts, to: Ts) -> Result<u32>;

    /// Drops the months of history that ended before the month of `before`, except those
    /// holding an event of an open report; `None` where the backend cannot drop by month
    /// (SQLite).
    async fn drop_history_before(&self, before: Ts) -> Result<Option<HistoryDrop>>;
}

/// A month as `(year, month)` from a partition's name, `report_events_YYYY_MM`.
pub fn month_of_partition(name: &str) -> Option<(i32, u8)> {
    let rest = name.strip_prefix("report_events_")?;
    let (year, month) = rest.split_once('_')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    let month: u8 = month.parse().ok()?;
    (1..=12)
        .contains(&month)
        .then_some((year.parse().ok()?, month))
}

#[cfg(test)]
mod tests {
    use super::month_of_partition;

    #[test]
    fn partition_names_give_their_month() {
        assert_eq!(
            month_of_partition("report_events_2026_12"),
            Some((2026, 12))
        );
        assert_eq!(month_of_partition("report_events_default"), None);
        assert_eq!(month_of_partition("report_events_2026_13"), None);
        assert_eq!(month_of_partition("report_events_26_01"), None);
    }
}
