//! Push registration (re-sent when the locale changes) and service notices.

use super::*;

impl Client {
    // ---------------------------------------------------------------- push

    /// Registers (or replaces) where this device gets pushes, in the locale's language
    /// (`fr`, `ar`, `en`; others get `fr`). Kept locally and re-sent when the locale
    /// changes.
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (422) for a bad token, time zone, quiet hours or area;
    /// [`SdkError::Network`] (the settings are kept and sent at the next flush).
    pub async fn register_push(&self, settings: PushSettings) -> Result<PushRegistrationView> {
        let store = self.store().await?;
        store
            .set_setting(store::PUSH_SETTINGS, &serde_json::to_string(&settings)?)
            .await?;
        store.set_setting(store::PUSH_DIRTY, "1").await?;
        self.put_push(&settings).await
    }

    pub(crate) async fn put_push(&self, settings: &PushSettings) -> Result<PushRegistrationView> {
        let (channel, token, subscription) = match &settings.channel {
            PushChannel::Fcm { token } => ("fcm", Some(token.clone()), None),
            PushChannel::WebPush {
                endpoint,
                p256dh,
                auth,
            } => (
                "web_push",
                None,
                Some(WebPushSubscription {
                    endpoint: endpoint.clone(),
                    keys: WebPushKeys {
                        p256dh: p256dh.clone(),
                        auth: auth.clone(),
                    },
                }),
            ),
        };
        let body = PushRegistrationRequest {
            channel: channel.to_owned(),
            token,
            subscription,
            language: push_language(&self.locale()),
            time_zone: settings.time_zone.clone(),
            quiet_hours: settings.quiet_hours.clone(),
            areas: settings.areas.clone(),
        };
        let result = send_json(
            self.authed(Method::PUT, "/api/v1/devices/me/push")
                .await?
                .json(&body),
        )
        .await;
        let store = self.store().await?;
        match &result {
            Ok(_) => store.delete_setting(store::PUSH_DIRTY).await?,
            // Refused settings are not retried.
            Err(SdkError::Rejected(_)) => {
                store.delete_setting(store::PUSH_DIRTY).await?;
                store.delete_setting(store::PUSH_SETTINGS).await?;
            }
            Err(_) => {}
        }
        result
    }

    pub(crate) async fn resend_push_if_dirty(&self) -> Result<()> {
        let store = self.store().await?;
        if store.setting(store::PUSH_DIRTY).await?.is_none() {
            return Ok(());
        }
        let Some(settings) = store.setting(store::PUSH_SETTINGS).await? else {
            store.delete_setting(store::PUSH_DIRTY).await?;
            return Ok(());
        };
        let settings: PushSettings = serde_json::from_str(&settings)?;
        self.put_push(&settings).await.map(|_| ())
    }

    /// This device's push registration as the server has it (`None`: not registered).
    ///
    /// # Errors
    /// [`SdkError::Network`].
    pub async fn push_registration(&self) -> Result<Option<PushRegistrationView>> {
        match send_json(self.authed(Method::GET, "/api/v1/devices/me/push").await?).await {
            Ok(view) => Ok(Some(view)),
            Err(SdkError::Rejected(problem)) if problem.status == 404 => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Stops all pushes to this device.
    ///
    /// # Errors
    /// [`SdkError::Network`].
    pub async fn unregister_push(&self) -> Result<()> {
        let store = self.store().await?;
        store.delete_setting(store::PUSH_SETTINGS).await?;
        store.delete_setting(store::PUSH_DIRTY).await?;
        let request = self
            .authed(Method::DELETE, "/api/v1/devices/me/push")
            .await?;
        match request.send().await.map_err(http::network) {
            Ok(response) if response.status() == StatusCode::NOT_FOUND => Ok(()),
            Ok(response) => check(response).await.map(|_| ()),
            Err(error) => Err(error),
        }
    }

    // ---------------------------------------------------------------- notices

    /// Active service notices (interruptions, collection delays, diversions) within
    /// `radius_m` (default 1000 m) of a point, nearest first, in the locale's language.
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (400) for a bad point or radius, [`SdkError::Network`].
    pub async fn notices_near(
        &self,
        lat: f64,
        lon: f64,
        radius_m: Option<f64>,
        service_code: Option<&str>,
    ) -> Result<NoticeList> {
        let mut pairs = vec![("lat", lat.to_string()), ("lon", lon.to_string())];
        if let Some(radius) = radius_m {
            pairs.push(("radius_m", radius.to_string()));
        }
        if let Some(code) = service_code {
            pairs.push(("service_code", code.to_owned()));
        }
        let path = Api::with_query("/api/v1/notices", &pairs);
        send_json(self.request(Method::GET, &path, None)).await
    }
}
