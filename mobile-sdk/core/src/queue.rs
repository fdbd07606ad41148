//! The durable queue: submitting a report, its photos' upload slots, flushing with backoff,
//! the background loop.

use super::*;

impl Client {
    // ---------------------------------------------------------------- the queue

    /// Queues a report and returns its local id at once; nothing waits for the network.
    /// Photos are shrunk now (upright, ≤ 2048 px, JPEG, metadata removed) and kept with
    /// the queued report, so the originals may be deleted afterwards.
    ///
    /// # Errors
    /// [`SdkError::InvalidInput`] for an unreadable photo or an empty description,
    /// [`SdkError::Storage`].
    pub async fn submit_report(&self, draft: ReportDraft) -> Result<String> {
        if !draft.lat.is_finite()
            || !draft.lon.is_finite()
            || !(-90.0..=90.0).contains(&draft.lat)
            || !(-180.0..=180.0).contains(&draft.lon)
        {
            return Err(SdkError::InvalidInput(
                "lat/lon must be WGS84 degrees".into(),
            ));
        }
        if draft.description.trim().is_empty() {
            return Err(SdkError::InvalidInput("the description is empty".into()));
        }
        if draft.service_code.trim().is_empty() {
            return Err(SdkError::InvalidInput("no service code".into()));
        }
        let store = self.store().await?;
        let local_id = Uuid::now_v7().to_string();
        let mut files = Vec::new();
        for (position, photo) in draft.photos.into_iter().enumerate() {
            let bytes = match photo {
                PhotoInput::Bytes(bytes) => bytes,
                PhotoInput::File(path) => tokio::fs::read(&path).await.map_err(|e| {
                    SdkError::InvalidInput(format!("photo {}: {e}", path.display()))
                })?,
            };
            let jpeg = shrink_photo(bytes).await?;
            let file = format!("{QUEUE_DIR}/{local_id}-{position}.jpg");
            let path = self.inner.storage_dir.join(&file);
            tokio::fs::write(&path, &jpeg).await?;
            tokio::fs::File::open(&path).await?.sync_all().await?;
            files.push(file);
        }
        let request = NewReportRequest {
            service_code: draft.service_code.trim().to_owned(),
            lat: draft.lat,
            lon: draft.lon,
            description: draft.description,
            attributes: (!draft.attributes.is_empty()).then_some(draft.attributes),
            accuracy_m: draft.accuracy_m,
            photos: None,
        };
        let key = Uuid::new_v4().to_string();
        store
            .enqueue(
                &local_id,
                &key,
                &serde_json::to_string(&request)?,
                &files,
                now_ms(),
            )
            .await?;
        self.inner.wake.notify_one();
        Ok(local_id)
    }

    /// Reports not on the server yet: pending and rejected ones, oldest first.
    ///
    /// # Errors
    /// [`SdkError::Storage`].
    pub async fn queued_reports(&self) -> Result<Vec<QueuedReport>> {
        let store = self.store().await?;
        let mut out = Vec::new();
        for row in store.queued(false).await? {
            out.push(self.queued_view(store, row).await?);
        }
        Ok(out)
    }

    /// One queued report by local id, also once sent.
    ///
    /// # Errors
    /// [`SdkError::Storage`].
    pub async fn queued_report(&self, local_id: &str) -> Result<Option<QueuedReport>> {
        let store = self.store().await?;
        match store.queued_one(local_id).await? {
            Some(row) => Ok(Some(self.queued_view(store, row).await?)),
            None => Ok(None),
        }
    }

    pub(crate) async fn queued_view(&self, store: &Store, row: OutboxRow) -> Result<QueuedReport> {
        let photos = store.photos(&row.local_id).await?;
        let state = match row.state.as_str() {
            "sent" => QueueState::Sent,
            "rejected" => QueueState::Rejected,
            _ => QueueState::Pending,
        };
        Ok(QueuedReport {
            request: serde_json::from_str(&row.body)?,
            photo_count: u32::try_from(photos.len()).unwrap_or(u32::MAX),
            attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
            next_attempt_at: (state == QueueState::Pending).then(|| from_ms(row.next_attempt_at)),
            last_error: row.last_error,
            problem: row
                .problem
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok()),
            report_id: row
                .report_id
                .as_deref()
                .and_then(|id| Uuid::parse_str(id).ok()),
            reference: row.reference,
            created_at: from_ms(row.created_at),
            local_id: row.local_id,
            state,
        })
    }

    /// Drops a queued report that is not on the server (a rejected one, or one the
    /// resident cancels), with its photos.
    ///
    /// # Errors
    /// [`SdkError::InvalidInput`] for an unknown or already sent report.
    pub async fn discard_queued(&self, local_id: &str) -> Result<()> {
        let _guard = self.inner.flush_lock.lock().await;
        let store = self.store().await?;
        match store.queued_one(local_id).await? {
            Some(row) if row.state != "sent" => {}
            Some(_) => {
                return Err(SdkError::InvalidInput(format!(
                    "{local_id} is already on the server"
                )));
            }
            None => {
                return Err(SdkError::InvalidInput(format!(
                    "no queued report {local_id}"
                )));
            }
        }
        for file in store.discard(local_id).await? {
            let _ = tokio::fs::remove_file(self.inner.storage_dir.join(file)).await;
        }
        Ok(())
    }

    /// Tells the SDK the network is back: every waiting report becomes due, then they
    /// are sent (what [`Client::flush`] returns).
    ///
    /// # Errors
    /// [`SdkError::Storage`].
    pub async fn retry_now(&self) -> Result<FlushSummary> {
        self.store().await?.make_all_due(now_ms()).await?;
        self.inner.wake.notify_one();
        self.flush().await
    }

    /// Sends every queued report that is due, oldest first, and stops at the first
    /// network failure (the others keep their turn). Failed reports are retried after 5 s,
    /// 10 s, 20 s… (at most an hour apart). One flush at a time per client.
    ///
    /// # Errors
    /// [`SdkError::Storage`] only: network trouble is reported in
    /// [`FlushSummary::error`].
    pub async fn flush(&self) -> Result<FlushSummary> {
        let _guard = self.inner.flush_lock.lock().await;
        let store = self.store().await?;
        let mut summary = FlushSummary::default();
        if let Err(error) = self.resend_push_if_dirty().await
            && error.is_transient()
        {
            summary.error = Some(error.to_string());
        }
        for row in store.due(now_ms()).await? {
            let attempts = row.attempts.saturating_add(1);
            match self.send_queued(store, &row, attempts).await {
                Ok(()) => summary.sent += 1,
                Err(SdkError::Rejected(problem)) => {
                    tracing::warn!(local_id = %row.local_id, kind = %problem.kind, "report rejected");
                    store
                        .reject(&row.local_id, attempts, &serde_json::to_string(&problem)?)
                        .await?;
                    summary.rejected += 1;
                }
                Err(error @ (SdkError::Network(_) | SdkError::Unauthorized)) => {
                    let delay = backoff(u32::try_from(attempts).unwrap_or(u32::MAX));
                    let next = now_ms()
                        .saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
                    store
                        .retry_later(&row.local_id, attempts, next, &error.to_string())
                        .await?;
                    summary.error = Some(error.to_string());
                    break;
                }
                Err(other) => return Err(other),
            }
        }
        summary.pending = u32::try_from(
            store
                .queued(false)
                .await?
                .iter()
                .filter(|r| r.state == "pending")
                .count(),
        )
        .unwrap_or(u32::MAX);
        summary.next_attempt_at = store.next_due_at().await?.map(from_ms);
        Ok(summary)
    }

    /// Sends one queued report: its photos first (each confirmed id stored before going
    /// on), then the report with its fixed idempotency key.
    pub(crate) async fn send_queued(
        &self,
        store: &Store,
        row: &OutboxRow,
        attempts: i64,
    ) -> Result<()> {
        let token = self.token().await?;
        let mut body: NewReportRequest = serde_json::from_str(&row.body)?;
        let mut photo_ids = Vec::new();
        for photo in store.photos(&row.local_id).await? {
            if photo.refused.is_some() {
                continue;
            }
            if let Some(id) = self
                .upload_photo(store, &token, &row.local_id, photo)
                .await?
            {
                photo_ids.push(id);
            }
        }
        body.photos = (!photo_ids.is_empty()).then_some(photo_ids);
        let request = self
            .request(Method::POST, "/api/v1/reports", Some(&token))
            .header("Idempotency-Key", &row.idempotency_key)
            .json(&body);
        let response = match send(request).await {
            Ok(response) => response,
            Err(SdkError::Rejected(problem))
                if problem.status == 422 && problem.errors.iter().any(|e| e.field == "photos") =>
            {
                // A draft photo expired on the server (a day offline between upload and
                // report): upload again rather than lose the report.
                store.reset_photos(&row.local_id).await?;
                return Err(SdkError::Network(format!(
                    "photos must be uploaded again: {}",
                    problem.detail.unwrap_or(problem.title)
                )));
            }
            Err(other) => return Err(other),
        };
        let replayed = response.headers().contains_key("idempotent-replayed");
        let report: ReportView = read_json(response).await?;
        tracing::info!(local_id = %row.local_id, report = %report.id, replayed, "report sent");
        let hook = self
            .inner
            .after_report_post
            .lock()
            .ok()
            .and_then(|h| h.clone());
        if let Some(hook) = hook {
            hook(&row.local_id);
        }
        store
            .mark_sent(&row.local_id, attempts, &report, now_ms())
            .await?;
        for photo in store.photos(&row.local_id).await? {
            let _ = tokio::fs::remove_file(self.inner.storage_dir.join(&photo.file)).await;
        }
        Ok(())
    }

    /// Uploads one photo through a draft upload slot and returns its confirmed id, or
    /// `None` when the server refuses this photo (the report then goes without it).
    pub(crate) async fn upload_photo(
        &self,
        store: &Store,
        token: &str,
        local_id: &str,
        photo: PhotoRow,
    ) -> Result<Option<Uuid>> {
        if let Some(id) = photo
            .photo_id
            .as_deref()
            .and_then(|id| Uuid::parse_str(id).ok())
        {
            return Ok(Some(id));
        }
        let bytes = match tokio::fs::read(self.inner.storage_dir.join(&photo.file)).await {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::warn!(%error, local_id, "queued photo file missing; sending without it");
                store
                    .set_photo_refused(local_id, photo.position, "photo file missing")
                    .await?;
                return Ok(None);
            }
        };
        let mut slot = match (
            &photo.slot_id,
            &photo.upload_url,
            &photo.confirm_url,
            photo.slot_expires_at,
        ) {
            (Some(id), Some(upload_url), Some(confirm_url), Some(expires_at))
                if expires_at > now_ms() + SLOT_MARGIN_MS =>
            {
                Some(Slot {
                    id: id.clone(),
                    upload_url: upload_url.clone(),
                    confirm_url: confirm_url.clone(),
                    expires_at,
                })
            }
            _ => None,
        };
        let mut uploaded = slot.is_some() && photo.uploaded;
        for _ in 0..3 {
            let current = match slot.take() {
                Some(slot) => slot,
                None => {
                    let view: UploadSlotView = send_json(self.request(
                        Method::POST,
                        "/api/v1/photos/uploads",
                        Some(token),
                    ))
                    .await?;
                    let fresh = Slot {
                        id: view.photo_id.to_string(),
                        upload_url: view.upload_url,
                        confirm_url: view.confirm_url,
                        expires_at: ms(view.expires_at),
                    };
                    store
                        .set_slot(local_id, photo.position, Some(&fresh))
                        .await?;
                    uploaded = false;
                    fresh
                }
            };
            if !uploaded {
                // The signed URL is the credential: no bearer token (S3 would refuse it).
                let put = self
                    .inner
                    .api
                    .request(Method::PUT, &current.upload_url, None, &self.locale())
                    .header(header::CONTENT_TYPE, "image/jpeg")
                    .body(bytes.clone());
                match send(put).await {
                    Ok(_) => {
                        store.set_uploaded(local_id, photo.position, true).await?;
                    }
                    Err(SdkError::Rejected(problem)) if matches!(problem.status, 403 | 404) => {
                        // Expired or unknown slot (e.g. the server restarted with a new
                        // signing key): ask for a new one.
                        store.set_slot(local_id, photo.position, None).await?;
                        continue;
                    }
                    Err(SdkError::Rejected(problem)) => {
                        store
                            .set_photo_refused(
                                local_id,
                                photo.position,
                                &serde_json::to_string(&problem)?,
                            )
                            .await?;
                        return Ok(None);
                    }
                    Err(other) => return Err(other),
                }
            }
            let confirm = self.request(Method::POST, &current.confirm_url, Some(token));
            match send(confirm).await {
                Ok(response) => {
                    let view: PhotoView = read_json(response).await?;
                    store
                        .set_photo_id(local_id, photo.position, &view.id.to_string())
                        .await?;
                    return Ok(Some(view.id));
                }
                Err(SdkError::Rejected(problem)) if problem.status == 409 => {
                    // Nothing arrived under that slot: upload again.
                    store.set_uploaded(local_id, photo.position, false).await?;
                    uploaded = false;
                    slot = Some(current);
                }
                Err(SdkError::Rejected(problem)) if problem.status == 404 => {
                    store.set_slot(local_id, photo.position, None).await?;
                }
                Err(SdkError::Rejected(problem)) => {
                    store
                        .set_photo_refused(
                            local_id,
                            photo.position,
                            &serde_json::to_string(&problem)?,
                        )
                        .await?;
                    return Ok(None);
                }
                Err(other) => return Err(other),
            }
        }
        Err(SdkError::Network(
            "the photo upload did not go through".into(),
        ))
    }

    /// Sends queued reports in the background for as long as this client (or a clone)
    /// lives: right after each submit, when [`Client::retry_now`] is called, and when a
    /// retry falls due. Must be called inside a Tokio runtime (the bindings do that).
    /// Calling it again does nothing.
    pub fn start_background_sync(&self) {
        if self.inner.background.swap(true, Ordering::SeqCst) {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        let wake = self.inner.wake.clone();
        tokio::spawn(async move {
            loop {
                let Some(inner) = weak.upgrade() else { break };
                let client = Client { inner };
                let wait = match client.flush().await {
                    Ok(summary) => summary
                        .next_attempt_at
                        .map(|at| {
                            Duration::from_millis(u64::try_from(ms(at) - now_ms()).unwrap_or(0))
                        })
                        .unwrap_or(IDLE_WAKE)
                        .min(IDLE_WAKE),
                    Err(error) => {
                        tracing::warn!(%error, "background sync");
                        IDLE_WAKE
                    }
                };
                drop(client);
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                }
            }
        });
    }

    #[doc(hidden)]
    /// Test hook: called after the server answered a report's POST and before the queue
    /// records it as sent (where a crash is the worst case for "never sent twice").
    pub fn set_after_report_post_hook(&self, hook: Option<AfterPostHook>) {
        if let Ok(mut slot) = self.inner.after_report_post.lock() {
            *slot = hook;
        }
    }

    /// Closes the local store (the client stays usable: it opens it again on demand only
    /// if it was never opened; call this when the app shuts the SDK down).
    pub async fn close(&self) {
        if let Some(store) = self.inner.store.get() {
            store.close().await;
        }
    }
}
