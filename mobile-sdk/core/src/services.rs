//! The services a resident can report, and what to look at before submitting (nearby
//! reports, supporting one).

use super::*;

impl Client {
    // ---------------------------------------------------------------- services

    /// The services residents can report about, in the client's locale. Revalidated with
    /// the cached `ETag` (`If-None-Match`); when the server cannot be reached the cached
    /// copy is returned with `offline = true`.
    ///
    /// # Errors
    /// [`SdkError::Network`] when offline with nothing cached.
    pub async fn services(&self) -> Result<Services> {
        let store = self.store().await?;
        let locale = self.locale();
        let cached = store.cached_services(&locale).await?;
        let mut request = self.request(Method::GET, "/api/v1/services", None);
        if let Some((_, Some(etag))) = &cached {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        match send(request).await {
            Ok(response) if response.status() == StatusCode::NOT_MODIFIED => {
                if let Some((body, _)) = cached {
                    return Ok(Services {
                        list: serde_json::from_str(&body)?,
                        offline: false,
                    });
                }
                Err(SdkError::Network("304 without a cached copy".into()))
            }
            Ok(response) => {
                let etag = response
                    .headers()
                    .get(header::ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let list: ServiceList = read_json(response).await?;
                store
                    .cache_services(
                        &locale,
                        &serde_json::to_string(&list)?,
                        etag.as_deref(),
                        now_ms(),
                    )
                    .await?;
                Ok(Services {
                    list,
                    offline: false,
                })
            }
            Err(SdkError::Network(message)) => match cached {
                Some((body, _)) => Ok(Services {
                    list: serde_json::from_str(&body)?,
                    offline: true,
                }),
                None => Err(SdkError::Network(message)),
            },
            Err(other) => Err(other),
        }
    }

    // ---------------------------------------------------------------- before submitting

    /// Open reports of this service near the point (the server's radius, 250 m by
    /// default, from the last 30 days), nearest first: offer "me too"
    /// ([`Client::support`]) instead of a duplicate.
    ///
    /// # Errors
    /// [`SdkError::Network`] offline; [`SdkError::Rejected`] for a point outside the
    /// commune or an unknown service.
    pub async fn nearby_reports(
        &self,
        lat: f64,
        lon: f64,
        service_code: &str,
    ) -> Result<NearbyList> {
        let path = Api::with_query(
            "/api/v1/reports/nearby",
            &[
                ("lat", lat.to_string()),
                ("lon", lon.to_string()),
                ("service_code", service_code.to_owned()),
            ],
        );
        send_json(self.authed(Method::GET, &path).await?).await
    }

    /// "Me too": supports someone else's report (once per device) and follows it.
    ///
    /// # Errors
    /// [`SdkError::Rejected`] (409) for one's own report, [`SdkError::Network`].
    pub async fn support(&self, report_id: &str) -> Result<SupportResult> {
        let id = parse_uuid(report_id, "report id")?;
        let path = format!("/api/v1/reports/{id}/support");
        let result = send_json(self.authed(Method::POST, &path).await?).await?;
        self.store()
            .await?
            .set_following(&id.to_string(), true, now_ms())
            .await?;
        Ok(result)
    }
}
