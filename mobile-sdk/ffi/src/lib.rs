//! UniFFI bindings of the Balagh SDK: a thin layer over `balagh-sdk` for the Kotlin
//! (Android) and Swift (iOS) apps, and Python for the tests.
//!
//! Every method of [`BalaghClient`] is `async` (`suspend` in Kotlin, `async` in Swift and
//! Python) and runs on Tokio. Errors are one small enum, [`BalaghError`].

use balagh_sdk as sdk;
use std::sync::Arc;

uniffi::setup_scaffolding!();

mod convert;
mod records;

use convert::*;
pub use records::*;

// ------------------------------------------------------------------------------- client

/// The Balagh client of a resident's app. Create one per app process and keep it.
///
/// Reports are queued on the phone first (`submit_report` answers at once with a local
/// id) and sent when the network allows, never twice. Call `start_background_sync` once
/// at start-up, and `retry_now` when the platform says the network is back.
#[derive(Debug, uniffi::Object)]
pub struct BalaghClient {
    inner: sdk::Client,
}

#[uniffi::export(async_runtime = "tokio")]
impl BalaghClient {
    /// A client for the server at `base_url` (e.g. `https://balagh.tetouan.ma`) keeping its
    /// data (SQLite store, queued photos) in `storage_dir` (the app's private files
    /// directory), in `locale` (`fr`, `ar`, `en`, or a tag such as `ar-MA`). Nothing is
    /// sent until a call needs it.
    #[uniffi::constructor]
    pub fn new(base_url: String, storage_dir: String, locale: String) -> Result<Arc<Self>> {
        Ok(Arc::new(Self {
            inner: sdk::Client::new(&base_url, storage_dir, &locale)?,
        }))
    }

    /// Registers this installation with the server (once; the token stays in the SDK's
    /// store) and returns its device id. Other calls do this by themselves when needed.
    pub async fn register_device(&self) -> Result<String> {
        Ok(self.inner.register_device().await?.to_string())
    }

    /// The device id, or null before the first registration.
    pub async fn device_id(&self) -> Result<Option<String>> {
        Ok(self.inner.device_id().await?.map(|id| id.to_string()))
    }

    /// The current locale.
    pub fn locale(&self) -> String {
        self.inner.locale()
    }

    /// Changes the locale (service names, notices, pushes follow).
    pub async fn set_locale(&self, locale: String) -> Result<()> {
        Ok(self.inner.set_locale(&locale).await?)
    }

    /// The services to report about, in the locale; the saved copy (`offline = true`)
    /// when the server cannot be reached.
    pub async fn services(&self) -> Result<ServiceCatalog> {
        let services = self.inner.services().await?;
        Ok(ServiceCatalog {
            jurisdiction_id: services.list.jurisdiction_id,
            language: services.list.language,
            services: services.list.services.into_iter().map(service).collect(),
            offline: services.offline,
        })
    }

    /// Open reports of the same service near the point: show them and offer "me too"
    /// (`support`) before submitting a duplicate.
    pub async fn check_nearby(
        &self,
        lat: f64,
        lon: f64,
        service_code: String,
    ) -> Result<NearbyCheck> {
        let list = self.inner.nearby_reports(lat, lon, &service_code).await?;
        Ok(NearbyCheck {
            radius_m: list.radius_m,
            window_days: list.window_days,
            reports: list
                .reports
                .into_iter()
                .map(|r| NearbyReport {
                    id: r.id.to_string(),
                    reference: r.reference,
                    service_code: r.service_code,
                    status: r.status,
                    lat: r.lat,
                    lon: r.lon,
                    distance_m: r.distance_m,
                    description: r.description,
                    supporters: r.supporters,
                    created_at: system_time(r.created_at),
                })
                .collect(),
        })
    }

    /// "Me too" on someone else's report; the device then follows it.
    pub async fn support(&self, report_id: String) -> Result<Support> {
        let result = self.inner.support(&report_id).await?;
        Ok(Support {
            supporters: result.supporters,
            already_supported: result.already_supported,
        })
    }

    /// Queues a report and returns its local id at once. Photos are shrunk now; the report
    /// is sent (with its photos) when the network allows, never twice.
    pub async fn submit_report(&self, report: NewReport) -> Result<String> {
        let draft = sdk::ReportDraft {
            service_code: report.service_code,
            lat: report.lat,
            lon: report.lon,
            accuracy_m: report.accuracy_m,
            description: report.description,
            attributes: report
                .attributes
                .into_iter()
                .map(|(code, value)| (code, attribute_value(value)))
                .collect(),
            photos: report
                .photos
                .into_iter()
                .map(|p| match p {
                    PhotoSource::File { path } => sdk::PhotoInput::File(path.into()),
                    PhotoSource::Bytes { data } => sdk::PhotoInput::Bytes(data),
                })
                .collect(),
        };
        Ok(self.inner.submit_report(draft).await?)
    }

    /// Reports not on the server yet (pending and rejected), oldest first.
    pub async fn queued_reports(&self) -> Result<Vec<QueuedReport>> {
        Ok(self
            .inner
            .queued_reports()
            .await?
            .into_iter()
            .map(queued)
            .collect())
    }

    /// One queued report by local id (also once sent), or null.
    pub async fn queued_report(&self, local_id: String) -> Result<Option<QueuedReport>> {
        Ok(self.inner.queued_report(&local_id).await?.map(queued))
    }

    /// Removes a queued report that is not on the server (rejected, or cancelled).
    pub async fn discard_queued(&self, local_id: String) -> Result<()> {
        Ok(self.inner.discard_queued(&local_id).await?)
    }

    /// Sends the queued reports that are due. Network trouble is not an error here: see
    /// `FlushResult.error` and `pending`.
    pub async fn flush(&self) -> Result<FlushResult> {
        Ok(flush_result(self.inner.flush().await?))
    }

    /// The network is back: send every queued report now.
    pub async fn retry_now(&self) -> Result<FlushResult> {
        Ok(flush_result(self.inner.retry_now().await?))
    }

    /// Keeps sending queued reports in the background while the process lives (after each
    /// submit, on `retry_now`, when a retry falls due). Idempotent.
    pub async fn start_background_sync(&self) {
        self.inner.start_background_sync();
    }

    /// The resident's reports as last synced (works offline), newest first.
    pub async fn my_reports(&self) -> Result<Vec<Report>> {
        Ok(self
            .inner
            .my_reports()
            .await?
            .into_iter()
            .map(|r| report(r.report, r.local_id))
            .collect())
    }

    /// Refreshes the resident's reports (status, history, photos) from the server.
    pub async fn sync_my_reports(&self) -> Result<Vec<Report>> {
        Ok(self
            .inner
            .sync_my_reports()
            .await?
            .into_iter()
            .map(|r| report(r.report, r.local_id))
            .collect())
    }

    /// One of the resident's reports, fresh from the server.
    pub async fn report(&self, report_id: String) -> Result<Report> {
        Ok(report(self.inner.report(&report_id).await?, None))
    }

    /// Confirms the operator fixed it: the report closes.
    pub async fn confirm_fixed(&self, report_id: String) -> Result<Report> {
        Ok(report(self.inner.confirm_fixed(&report_id).await?, None))
    }

    /// Answers the operator's question (the ticket waits for the resident): the answer
    /// goes to the operator and the ticket resumes.
    pub async fn reply_to_operator(&self, report_id: String, text: String) -> Result<Report> {
        Ok(report(
            self.inner.reply_to_operator(&report_id, &text).await?,
            None,
        ))
    }

    /// Not fixed after all: reopens a resolved report (within 14 days) with a comment.
    pub async fn reopen(&self, report_id: String, comment: String) -> Result<Report> {
        Ok(report(self.inner.reopen(&report_id, &comment).await?, None))
    }

    /// Rates the resolution from 1 to 5 stars.
    pub async fn rate(
        &self,
        report_id: String,
        stars: u8,
        comment: Option<String>,
    ) -> Result<Report> {
        Ok(report(
            self.inner.rate(&report_id, stars, comment).await?,
            None,
        ))
    }

    /// Follows a report: a push on each public change.
    pub async fn follow(&self, report_id: String) -> Result<FollowState> {
        let view = self.inner.follow(&report_id).await?;
        Ok(FollowState {
            report_id: view.report_id.to_string(),
            following: view.following,
        })
    }

    /// Stops following a report.
    pub async fn unfollow(&self, report_id: String) -> Result<FollowState> {
        let view = self.inner.unfollow(&report_id).await?;
        Ok(FollowState {
            report_id: view.report_id.to_string(),
            following: view.following,
        })
    }

    /// Registers (or replaces) where pushes go, worded in the locale's language.
    pub async fn register_push(&self, settings: PushSettings) -> Result<PushRegistration> {
        let channel = match settings.target {
            PushTarget::Fcm { token } => sdk::PushChannel::Fcm { token },
            PushTarget::WebPush {
                endpoint,
                p256dh,
                auth,
            } => sdk::PushChannel::WebPush {
                endpoint,
                p256dh,
                auth,
            },
        };
        let view = self
            .inner
            .register_push(sdk::PushSettings {
                channel,
                time_zone: settings.time_zone,
                quiet_hours: settings.quiet_hours.map(|q| sdk::QuietHoursView {
                    start: q.start,
                    end: q.end,
                }),
                areas: settings
                    .areas
                    .into_iter()
                    .map(|a| sdk::AreaOfInterestView {
                        lat: a.lat,
                        lon: a.lon,
                        radius_m: a.radius_m,
                    })
                    .collect(),
            })
            .await?;
        Ok(push_registration(view))
    }

    /// The push registration as the server has it, or null.
    pub async fn push_registration(&self) -> Result<Option<PushRegistration>> {
        Ok(self.inner.push_registration().await?.map(push_registration))
    }

    /// Stops all pushes to this device.
    pub async fn unregister_push(&self) -> Result<()> {
        Ok(self.inner.unregister_push().await?)
    }

    /// Active service notices within `radius_m` (default 1000 m) of a point.
    pub async fn notices_near(
        &self,
        lat: f64,
        lon: f64,
        radius_m: Option<f64>,
        service_code: Option<String>,
    ) -> Result<Vec<Notice>> {
        Ok(self
            .inner
            .notices_near(lat, lon, radius_m, service_code.as_deref())
            .await?
            .notices
            .into_iter()
            .map(notice)
            .collect())
    }
}

/// Sends the SDK's logs to standard error (for debugging; `filter` as in `RUST_LOG`, e.g.
/// `balagh_sdk=debug`). Calling it twice does nothing.
#[uniffi::export]
pub fn enable_logging(filter: String) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}
