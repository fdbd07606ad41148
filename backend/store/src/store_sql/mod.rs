//! The SQL of the core [`Store`](crate::Store) trait, written once for both databases as
//! functions of [`Sql`](crate::Sql), one file per section of the trait; each backend
//! delegates to them with [`impl_sql_store!`](crate::impl_sql_store).

mod accounts;
mod catalog;
mod changes;
mod devices;
mod intake;
mod outbox;
mod queues;
mod reports;

/// `impl Store for $store`, delegating to the functions of [`Sql`](crate::Sql). The backend
/// type implements [`SqlBackend`](crate::SqlBackend) and has an inherent
/// `async fn run_migrations(&self) -> Result<()>`.
#[macro_export]
macro_rules! impl_sql_store {
    ($store:ty) => {
        const _: () = {
            use balagh_domain::account::{Email, Scope, User};
            use balagh_domain::zones::ZoneFeature;
            use balagh_domain::{
                Contract, Jurisdiction, JurisdictionId, NewEvent, OperatorId, Service,
            };
            use uuid::Uuid;
            use $crate::{
                ApiTokenInfo, Backend, ChangeOutcome, CreateOutcome, DeliveryResult, LoginAttempts,
                NearbyQuery, NewApiToken, NewDevice, NewReport, NewSession, NewSupport, NewUser,
                OperatorRecord, OutboxMessage, OutboxState, Progress, QueueQuery, ReportChange,
                ReportDetails, Result, Sql, SqlBackend, StoredEvent, StoredReport, SupportOutcome,
                ThrottlePolicy, TriageQuery, Ts, UserUpdate, WebhookEndpoint, ZoneImportSummary,
            };

            #[$crate::async_trait]
            impl $crate::Store for $store {
                fn backend(&self) -> Backend {
                    <$store as SqlBackend>::BACKEND
                }

                async fn migrate(&self) -> Result<()> {
                    self.run_migrations().await
                }

                async fn ping(&self) -> Result<()> {
                    Sql(self).ping().await
                }

                async fn close(&self) {
                    Sql(self).close().await
                }

                async fn catalog_revision(&self) -> Result<i64> {
                    Sql(self).catalog_revision().await
                }

                async fn upsert_jurisdiction(&self, jurisdiction: &Jurisdiction) -> Result<()> {
                    Sql(self).upsert_jurisdiction(jurisdiction).await
                }

                async fn jurisdictions(&self) -> Result<Vec<Jurisdiction>> {
                    Sql(self).jurisdictions().await
                }

                async fn upsert_services(
                    &self,
                    jurisdiction: &JurisdictionId,
                    services: &[Service],
                ) -> Result<()> {
                    Sql(self).upsert_services(jurisdiction, services).await
                }

                async fn services(&self) -> Result<Vec<(JurisdictionId, Service)>> {
                    Sql(self).services().await
                }

                async fn upsert_zones(
                    &self,
                    jurisdiction: &JurisdictionId,
                    zones: &[ZoneFeature],
                    progress: Progress<'_>,
                ) -> Result<ZoneImportSummary> {
                    Sql(self).upsert_zones(jurisdiction, zones, progress).await
                }

                async fn operators(&self) -> Result<Vec<OperatorRecord>> {
                    Sql(self).operators().await
                }

                async fn contracts(&self) -> Result<Vec<Contract>> {
                    Sql(self).contracts().await
                }

                async fn create_device(&self, device: &NewDevice) -> Result<()> {
                    Sql(self).create_device(device).await
                }

                async fn device_by_token_hash(&self, token_hash: &[u8]) -> Result<Option<Uuid>> {
                    Sql(self).device_by_token_hash(token_hash).await
                }

                async fn create_report(&self, report: &NewReport) -> Result<CreateOutcome> {
                    Sql(self).create_report(report).await
                }

                async fn report(&self, id: Uuid) -> Result<Option<StoredReport>> {
                    Sql(self).report(id).await
                }

                async fn report_events(&self, id: Uuid) -> Result<Vec<StoredEvent>> {
                    Sql(self).report_events(id).await
                }

                async fn report_details(&self, id: Uuid) -> Result<Option<ReportDetails>> {
                    Sql(self).report_details(id).await
                }

                async fn nearby_candidates(
                    &self,
                    query: &NearbyQuery,
                ) -> Result<Vec<StoredReport>> {
                    Sql(self).nearby_candidates(query).await
                }

                async fn support_report(&self, support: &NewSupport) -> Result<SupportOutcome> {
                    Sql(self).support_report(support).await
                }

                async fn bulk_insert_reports(&self, reports: &[NewReport]) -> Result<()> {
                    Sql(self).bulk_insert_reports(reports).await
                }

                async fn count_reports(&self) -> Result<i64> {
                    Sql(self).count_reports().await
                }

                async fn analyze(&self) -> Result<()> {
                    Sql(self).analyze().await
                }

                async fn erase_contacts(&self, created_before: Ts, limit: u32) -> Result<u64> {
                    Sql(self).erase_contacts(created_before, limit).await
                }

                async fn create_user(&self, user: &NewUser) -> Result<()> {
                    Sql(self).create_user(user).await
                }

                async fn user(&self, id: Uuid) -> Result<Option<User>> {
                    Sql(self).user(id).await
                }

                async fn user_for_login(&self, email: &Email) -> Result<Option<(User, String)>> {
                    Sql(self).user_for_login(email).await
                }

                async fn users_in_scope(&self, scope: &Scope) -> Result<Vec<User>> {
                    Sql(self).users_in_scope(scope).await
                }

                async fn update_user(&self, id: Uuid, update: &UserUpdate) -> Result<Option<User>> {
                    Sql(self).update_user(id, update).await
                }

                async fn create_session(&self, session: &NewSession) -> Result<()> {
                    Sql(self).create_session(session).await
                }

                async fn session_user(
                    &self,
                    token_hash: &[u8],
                    now: Ts,
                ) -> Result<Option<(User, String)>> {
                    Sql(self).session_user(token_hash, now).await
                }

                async fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
                    Sql(self).delete_session(token_hash).await
                }

                async fn create_api_token(&self, token: &NewApiToken) -> Result<()> {
                    Sql(self).create_api_token(token).await
                }

                async fn api_token_user(&self, token_hash: &[u8], now: Ts) -> Result<Option<User>> {
                    Sql(self).api_token_user(token_hash, now).await
                }

                async fn api_tokens(&self, user_id: Uuid) -> Result<Vec<ApiTokenInfo>> {
                    Sql(self).api_tokens(user_id).await
                }

                async fn revoke_api_token(
                    &self,
                    user_id: Uuid,
                    token_id: Uuid,
                    now: Ts,
                ) -> Result<bool> {
                    Sql(self).revoke_api_token(user_id, token_id, now).await
                }

                async fn count_attempt(
                    &self,
                    key: &str,
                    now: Ts,
                    policy: &ThrottlePolicy,
                ) -> Result<LoginAttempts> {
                    Sql(self).count_attempt(key, now, policy).await
                }

                async fn refund_attempt(&self, key: &str) -> Result<()> {
                    Sql(self).refund_attempt(key).await
                }

                async fn server_key(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>> {
                    Sql(self).server_key(name, fresh).await
                }

                async fn clear_login_failures(&self, key: &str) -> Result<()> {
                    Sql(self).clear_login_failures(key).await
                }

                async fn change_report(&self, change: &ReportChange) -> Result<ChangeOutcome> {
                    Sql(self).change_report(change).await
                }

                async fn merge_duplicate(
                    &self,
                    change: &ReportChange,
                    original: Uuid,
                    original_event: &NewEvent,
                ) -> Result<ChangeOutcome> {
                    Sql(self)
                        .merge_duplicate(change, original, original_event)
                        .await
                }

                async fn ticket_queue(&self, query: &QueueQuery) -> Result<Vec<StoredReport>> {
                    Sql(self).ticket_queue(query).await
                }

                async fn ticket_queue_count(&self, query: &QueueQuery) -> Result<i64> {
                    Sql(self).ticket_queue_count(query).await
                }

                async fn triage_queue(&self, query: &TriageQuery) -> Result<Vec<StoredReport>> {
                    Sql(self).triage_queue(query).await
                }

                async fn resolved_before(
                    &self,
                    before: Ts,
                    limit: u32,
                ) -> Result<Vec<StoredReport>> {
                    Sql(self).resolved_before(before, limit).await
                }

                async fn follow_report(
                    &self,
                    report_id: Uuid,
                    device: Uuid,
                    at: Ts,
                ) -> Result<bool> {
                    Sql(self).follow_report(report_id, device, at).await
                }

                async fn followers(&self, report_id: Uuid) -> Result<Vec<Uuid>> {
                    Sql(self).followers(report_id).await
                }

                async fn device_reports(
                    &self,
                    device: Uuid,
                    before: Option<(Ts, Uuid)>,
                    limit: u32,
                ) -> Result<Vec<StoredReport>> {
                    Sql(self).device_reports(device, before, limit).await
                }

                async fn set_webhook_endpoint(
                    &self,
                    endpoint: &WebhookEndpoint,
                    at: Ts,
                ) -> Result<()> {
                    Sql(self).set_webhook_endpoint(endpoint, at).await
                }

                async fn webhook_endpoint(
                    &self,
                    operator: OperatorId,
                ) -> Result<Option<WebhookEndpoint>> {
                    Sql(self).webhook_endpoint(operator).await
                }

                async fn claim_outbox(
                    &self,
                    topic: &str,
                    now: Ts,
                    lease: time::Duration,
                    limit: u32,
                ) -> Result<Vec<OutboxMessage>> {
                    Sql(self).claim_outbox(topic, now, lease, limit).await
                }

                async fn record_delivery(&self, id: Uuid, result: &DeliveryResult) -> Result<()> {
                    Sql(self).record_delivery(id, result).await
                }

                async fn outbox_messages(
                    &self,
                    operator: OperatorId,
                    state: OutboxState,
                    limit: u32,
                ) -> Result<Vec<OutboxMessage>> {
                    Sql(self).outbox_messages(operator, state, limit).await
                }

                async fn replay_outbox(
                    &self,
                    operator: OperatorId,
                    id: Uuid,
                    now: Ts,
                ) -> Result<bool> {
                    Sql(self).replay_outbox(operator, id, now).await
                }

                async fn purge_delivered_outbox(&self, before: Ts, limit: u32) -> Result<u64> {
                    Sql(self).purge_delivered_outbox(before, limit).await
                }
            }
        };
    };
}
