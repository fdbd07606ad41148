//! The resident's own reports: the list, one report's view and actions, following.

use super::*;

impl Client {
    // ---------------------------------------------------------------- my reports

    /// The resident's reports as last synced (works offline), newest first.
    ///
    /// # Errors
    /// [`SdkError::Storage`].
    pub async fn my_reports(&self) -> Result<Vec<MyReport>> {
        let store = self.store().await?;
        let mut out = Vec::new();
        for (body, local_id) in store.my_reports().await? {
            out.push(MyReport {
                report: serde_json::from_str(&body)?,
                local_id,
            });
        }
        Ok(out)
    }

    /// Refreshes every one of the resident's reports (status, history, photos, SLA
    /// clocks) from the server, then returns them as [`Client::my_reports`] does.
    ///
    /// # Errors
    /// [`SdkError::Network`] (what was refreshed before stays refreshed).
    pub async fn sync_my_reports(&self) -> Result<Vec<MyReport>> {
        let store = self.store().await?;
        // The server's list first: reports sent from this device before a reinstall, or
        // from another app sharing the device, are found even if this store never saw them.
        let mut known = store.my_report_ids().await?;
        for id in self.server_report_ids().await? {
            if !known.contains(&id) {
                known.push(id);
            }
        }
        for id in known {
            match self.report(&id).await {
                Ok(_) => {}
                // Gone for this device (staff removed it): keep the last copy.
                Err(SdkError::Rejected(problem)) if problem.status == 404 => {}
                Err(other) => return Err(other),
            }
        }
        self.my_reports().await
    }

    /// Ids of every report this device sent, from the server (`GET /api/v1/me/reports`,
    /// page by page).
    pub(crate) async fn server_report_ids(&self) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = "/api/v1/me/reports?limit=100".to_owned();
            if let Some(c) = &cursor {
                path.push_str("&cursor=");
                path.push_str(c);
            }
            let page: MyReportsPage = send_json(self.authed(Method::GET, &path).await?).await?;
            ids.extend(page.reports.iter().map(|r| r.id.to_string()));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(ids),
            }
        }
    }

    /// One of the resident's reports, fresh from the server (with history), also cached;
    /// or a report the device follows without having written it, as the public may know
    /// it (`viewer` is `"follower"`; not cached among the resident's own reports).
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (404) when it is neither this device's report nor followed.
    pub async fn report(&self, report_id: &str) -> Result<ReportView> {
        let id = parse_uuid(report_id, "report id")?;
        let view: ReportView = send_json(
            self.authed(Method::GET, &format!("/api/v1/reports/{id}"))
                .await?,
        )
        .await?;
        if view.viewer.is_none() {
            self.store().await?.save_report(&view, now_ms()).await?;
        }
        Ok(view)
    }

    /// Answers the operator's question while the ticket waits for the resident: the
    /// answer goes to the operator and the ticket resumes.
    ///
    /// # Errors
    /// [`SdkError::InvalidInput`] for an empty answer, [`SdkError::Rejected`] (409) when
    /// no question waits.
    pub async fn reply_to_operator(&self, report_id: &str, text: &str) -> Result<ReportView> {
        if text.trim().is_empty() {
            return Err(SdkError::InvalidInput("the answer is empty".into()));
        }
        let body = serde_json::to_value(ReplyRequest {
            text: text.to_owned(),
        })?;
        self.report_action(report_id, "reply", Some(body)).await
    }

    pub(crate) async fn report_action(
        &self,
        report_id: &str,
        action: &str,
        body: Option<Value>,
    ) -> Result<ReportView> {
        let id = parse_uuid(report_id, "report id")?;
        let mut request = self
            .authed(Method::POST, &format!("/api/v1/reports/{id}/{action}"))
            .await?;
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await?;
        // The answer has no history: read the report back whole.
        self.report(&id.to_string()).await
    }

    /// The resident confirms the operator's fix: the report closes.
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (409) when the report is not resolved.
    pub async fn confirm_fixed(&self, report_id: &str) -> Result<ReportView> {
        self.report_action(report_id, "confirm", None).await
    }

    /// The resident says it is not fixed: reopens a resolved report (within 14 days).
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (409) when not resolved or too late.
    pub async fn reopen(&self, report_id: &str, comment: &str) -> Result<ReportView> {
        let body = serde_json::to_value(ReopenRequest {
            comment: comment.to_owned(),
        })?;
        self.report_action(report_id, "reopen", Some(body)).await
    }

    /// Rates the resolution, 1 (bad) to 5 (excellent).
    ///
    /// # Errors
    /// [`SdkError::InvalidInput`] outside 1–5, [`SdkError::Rejected`] (409) before it is
    /// resolved.
    pub async fn rate(
        &self,
        report_id: &str,
        stars: u8,
        comment: Option<String>,
    ) -> Result<ReportView> {
        if !(1..=5).contains(&stars) {
            return Err(SdkError::InvalidInput("stars must be 1 to 5".into()));
        }
        let body = serde_json::to_value(RatingRequest { stars, comment })?;
        self.report_action(report_id, "rating", Some(body)).await
    }

    // ---------------------------------------------------------------- following

    /// Follows a report: a push on each public change.
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (404) for an unknown report.
    pub async fn follow(&self, report_id: &str) -> Result<FollowView> {
        self.set_follow(report_id, true).await
    }

    /// Stops following a report (also one's own).
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (404) for an unknown report.
    pub async fn unfollow(&self, report_id: &str) -> Result<FollowView> {
        self.set_follow(report_id, false).await
    }

    pub(crate) async fn set_follow(&self, report_id: &str, follow: bool) -> Result<FollowView> {
        let id = parse_uuid(report_id, "report id")?;
        let method = if follow { Method::PUT } else { Method::DELETE };
        let view: FollowView = send_json(
            self.authed(method, &format!("/api/v1/reports/{id}/follow"))
                .await?,
        )
        .await?;
        self.store()
            .await?
            .set_following(&id.to_string(), view.following, now_ms())
            .await?;
        Ok(view)
    }

    /// Reports followed from this installation (besides the resident's own).
    ///
    /// # Errors
    /// [`SdkError::Storage`].
    pub async fn followed_reports(&self) -> Result<Vec<Uuid>> {
        Ok(self
            .store()
            .await?
            .followed()
            .await?
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect())
    }
}
