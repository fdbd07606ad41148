//! The backends' [`StatsStore`](super::StatsStore) implementation: each method calls the
//! function of [`Sql`](crate::Sql) of the same name.

/// `impl StatsStore for $store`, delegating to the functions of [`Sql`](crate::Sql).
#[macro_export]
macro_rules! impl_stats_store {
    ($store:ty) => {
        const _: () = {
            use balagh_domain::stats::{Epsilon, ReleaseId};
            use serde_json::Value;
            use uuid::Uuid;
            use $crate::stats::{
                BacklogCount, CellNewCount, CreatedCount, LedgerLine, OpenLate, RecordSource,
                ReleaseOutcome, ReporterReport, RollupBatch, RollupJob, StatsRow, StatsState,
                StoredFacts,
            };
            use $crate::{Result, Sql, Ts};

            #[$crate::async_trait]
            impl $crate::stats::StatsStore for $store {
                async fn stats_rollup_batch(&self, job: &RollupJob<'_>) -> Result<RollupBatch> {
                    Sql(self).stats_rollup_batch(job).await
                }

                async fn release_stats_lease(&self, worker: &str) -> Result<()> {
                    Sql(self).release_stats_lease(worker).await
                }

                async fn stats_state(&self) -> Result<StatsState> {
                    Sql(self).stats_state().await
                }

                async fn reset_stats(&self) -> Result<()> {
                    Sql(self).reset_stats().await
                }

                async fn merge_stats_rows(&self, rows: &[StatsRow]) -> Result<()> {
                    Sql(self).merge_stats_rows(rows).await
                }

                async fn put_stats_facts(&self, facts: &[(Uuid, StoredFacts)]) -> Result<()> {
                    Sql(self).put_stats_facts(facts).await
                }

                async fn set_stats_cursor(&self, at: Ts) -> Result<()> {
                    Sql(self).set_stats_cursor(at).await
                }

                async fn stats_rows(
                    &self,
                    jurisdiction: &str,
                    from: i32,
                    to: i32,
                    per_cell: bool,
                ) -> Result<Vec<StatsRow>> {
                    Sql(self).stats_rows(jurisdiction, from, to, per_cell).await
                }

                async fn stats_cell_counts(
                    &self,
                    jurisdiction: &str,
                    from: i32,
                    to: i32,
                ) -> Result<Vec<CellNewCount>> {
                    Sql(self).stats_cell_counts(jurisdiction, from, to).await
                }

                async fn stats_backlog(
                    &self,
                    jurisdiction: &str,
                    now: Ts,
                ) -> Result<Vec<BacklogCount>> {
                    Sql(self).stats_backlog(jurisdiction, now).await
                }

                async fn stats_open_late(
                    &self,
                    jurisdiction: &str,
                    from: Ts,
                    until: Ts,
                    now: Ts,
                ) -> Result<Vec<OpenLate>> {
                    Sql(self)
                        .stats_open_late(jurisdiction, from, until, now)
                        .await
                }

                async fn stats_created(
                    &self,
                    jurisdiction: &str,
                    from: Ts,
                    until: Ts,
                ) -> Result<Vec<CreatedCount>> {
                    Sql(self).stats_created(jurisdiction, from, until).await
                }

                async fn stats_feedback(
                    &self,
                    jurisdiction: &str,
                    from: Ts,
                    until: Ts,
                ) -> Result<(i64, Vec<Value>)> {
                    Sql(self).stats_feedback(jurisdiction, from, until).await
                }

                async fn stats_records(
                    &self,
                    jurisdiction: &str,
                    from: Ts,
                    until: Ts,
                ) -> Result<Vec<RecordSource>> {
                    Sql(self).stats_records(jurisdiction, from, until).await
                }

                async fn stats_reporter_reports(
                    &self,
                    jurisdiction: &str,
                    from: Ts,
                    until: Ts,
                ) -> Result<Vec<ReporterReport>> {
                    Sql(self)
                        .stats_reporter_reports(jurisdiction, from, until)
                        .await
                }

                async fn stats_release(&self, release_id: &str) -> Result<Option<Value>> {
                    Sql(self).stats_release(release_id).await
                }

                async fn stats_releases(
                    &self,
                    release_ids: &[String],
                ) -> Result<Vec<(String, Value)>> {
                    Sql(self).stats_releases(release_ids).await
                }

                async fn stats_release_ids(&self, prefix: &str) -> Result<Vec<String>> {
                    Sql(self).stats_release_ids(prefix).await
                }

                async fn put_stats_release(
                    &self,
                    release_id: &str,
                    body: &Value,
                    now: Ts,
                ) -> Result<Value> {
                    Sql(self).put_stats_release(release_id, body, now).await
                }

                async fn stats_first_day(&self, jurisdiction: &str) -> Result<Option<i32>> {
                    Sql(self).stats_first_day(jurisdiction).await
                }

                async fn record_release(
                    &self,
                    release_id: &ReleaseId,
                    scopes: &[String],
                    epsilon: Epsilon,
                    budget: Epsilon,
                    body: &Value,
                    now: Ts,
                ) -> Result<ReleaseOutcome> {
                    Sql(self)
                        .record_release(release_id, scopes, epsilon, budget, body, now)
                        .await
                }

                async fn epsilon_ledger(&self, scopes: &[String]) -> Result<Vec<LedgerLine>> {
                    Sql(self).epsilon_ledger(scopes).await
                }
            }
        };
    };
}
