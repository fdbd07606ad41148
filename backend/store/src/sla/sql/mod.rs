//! The SQL of [`SlaStore`](crate::SlaStore): functions of [`Sql`](crate::Sql) over any
//! [`SharedWrites`](crate::writes::SharedWrites) backend, which each backend delegates to
//! with [`impl_sla_store!`](crate::impl_sla_store).

mod calendars;
mod clocks;
mod disputes;
mod inbox;

/// `impl SlaStore for $store`, delegating to the functions of [`Sql`](crate::Sql) (the
/// backend also needs [`impl_shared_writes!`](crate::impl_shared_writes)).
#[macro_export]
macro_rules! impl_sla_store {
    ($store:ty) => {
        const _: () = {
            use balagh_domain::JurisdictionId;
            use balagh_domain::sla::{CalendarSpec, SlaPolicy};
            use uuid::Uuid;
            use $crate::{
                ClockRecord, Dispute, DisputeDecision, DisputeScope, DisputeState, Escalation,
                NewDispute, Notification, Result, SlaCheck, SlaCheckOutcome, Sql, StatementClock,
                StatementScope, StoredPolicy, Ts,
            };

            #[$crate::async_trait]
            impl $crate::SlaStore for $store {
                async fn sla_calendars(&self) -> Result<Vec<(JurisdictionId, CalendarSpec)>> {
                    Sql(self).sla_calendars().await
                }

                async fn put_sla_calendar(
                    &self,
                    jurisdiction: &JurisdictionId,
                    spec: &CalendarSpec,
                    at: Ts,
                    by: Option<Uuid>,
                ) -> Result<()> {
                    Sql(self).put_sla_calendar(jurisdiction, spec, at, by).await
                }

                async fn sla_policies(&self) -> Result<Vec<StoredPolicy>> {
                    Sql(self).sla_policies().await
                }

                async fn add_sla_policy(
                    &self,
                    policy: &SlaPolicy,
                    at: Ts,
                    by: Option<Uuid>,
                ) -> Result<()> {
                    Sql(self).add_sla_policy(policy, at, by).await
                }

                async fn report_clocks(&self, report_id: Uuid) -> Result<Vec<ClockRecord>> {
                    Sql(self).report_clocks(report_id).await
                }

                async fn claim_due_clocks(
                    &self,
                    now: Ts,
                    lease: time::Duration,
                    limit: u32,
                ) -> Result<Vec<Uuid>> {
                    Sql(self).claim_due_clocks(now, lease, limit).await
                }

                async fn record_sla_check(&self, check: &SlaCheck) -> Result<SlaCheckOutcome> {
                    Sql(self).record_sla_check(check).await
                }

                async fn report_ids_since(
                    &self,
                    jurisdiction: &JurisdictionId,
                    since: Ts,
                    after: Option<Uuid>,
                    limit: u32,
                ) -> Result<Vec<Uuid>> {
                    Sql(self)
                        .report_ids_since(jurisdiction, since, after, limit)
                        .await
                }

                async fn open_dispute(&self, dispute: &NewDispute) -> Result<()> {
                    Sql(self).open_dispute(dispute).await
                }

                async fn dispute(&self, id: Uuid) -> Result<Option<Dispute>> {
                    Sql(self).dispute(id).await
                }

                async fn disputes(
                    &self,
                    scope: &DisputeScope,
                    state: Option<DisputeState>,
                    limit: u32,
                ) -> Result<Vec<Dispute>> {
                    Sql(self).disputes(scope, state, limit).await
                }

                async fn decide_dispute(
                    &self,
                    decision: &DisputeDecision,
                ) -> Result<Option<Dispute>> {
                    Sql(self).decide_dispute(decision).await
                }

                async fn statement_clocks(
                    &self,
                    scope: StatementScope,
                    from: Ts,
                    until: Ts,
                ) -> Result<Vec<StatementClock>> {
                    Sql(self).statement_clocks(scope, from, until).await
                }

                async fn deliver_escalation(&self, escalation: &Escalation) -> Result<u64> {
                    Sql(self).deliver_escalation(escalation).await
                }

                async fn notifications(
                    &self,
                    user_id: Uuid,
                    limit: u32,
                ) -> Result<Vec<Notification>> {
                    Sql(self).notifications(user_id, limit).await
                }
            }
        };
    };
}
