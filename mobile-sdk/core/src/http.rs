//! The HTTP side: one reqwest client, answers mapped onto [`SdkError`].

use crate::error::{Result, SdkError};
use balagh_wire::Problem;
use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use serde::de::DeserializeOwned;
use std::time::Duration;
use url::Url;

#[derive(Debug, Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    /// Without a trailing slash, e.g. `https://balagh.tetouan.ma`.
    base: String,
}

impl Api {
    pub(crate) fn new(base_url: &str) -> Result<Self> {
        let parsed = Url::parse(base_url)
            .map_err(|e| SdkError::InvalidInput(format!("base URL {base_url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(SdkError::InvalidInput(format!(
                "base URL {base_url:?}: must be http or https"
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("balagh-sdk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SdkError::Network(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            base: parsed.as_str().trim_end_matches('/').to_owned(),
        })
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request to an API path (`/api/v1/…`) or an absolute URL the server handed out.
    pub(crate) fn request(
        &self,
        method: Method,
        path_or_url: &str,
        token: Option<&str>,
        locale: &str,
    ) -> RequestBuilder {
        let url = if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_owned()
        } else {
            self.url(path_or_url)
        };
        let mut request = self
            .http
            .request(method, url)
            .header(header::ACCEPT_LANGUAGE, locale);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
    }

    pub(crate) fn with_query(path: &str, pairs: &[(&str, String)]) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in pairs {
            query.append_pair(key, value);
        }
        format!("{path}?{}", query.finish())
    }
}

/// Sends and checks the status: 2xx and 304 pass, the rest become an [`SdkError`].
pub(crate) async fn send(request: RequestBuilder) -> Result<Response> {
    let response = request.send().await.map_err(network)?;
    check(response).await
}

/// Sends and reads a JSON answer.
pub(crate) async fn send_json<T: DeserializeOwned>(request: RequestBuilder) -> Result<T> {
    read_json(send(request).await?).await
}

pub(crate) async fn read_json<T: DeserializeOwned>(response: Response) -> Result<T> {
    let bytes = response.bytes().await.map_err(network)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| SdkError::Network(format!("unexpected answer from the server: {e}")))
}

pub(crate) fn network(error: reqwest::Error) -> SdkError {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    SdkError::Network(message)
}

pub(crate) async fn check(response: Response) -> Result<Response> {
    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        return Ok(response);
    }
    if status == StatusCode::UNAUTHORIZED {
        return Err(SdkError::Unauthorized);
    }
    if status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
    {
        return Err(SdkError::Network(format!(
            "the server answered {status}; try again later"
        )));
    }
    let bytes = response.bytes().await.unwrap_or_default();
    let problem = serde_json::from_slice::<Problem>(&bytes).unwrap_or_else(|_| Problem {
        kind: "about:blank".into(),
        title: status
            .canonical_reason()
            .unwrap_or("request refused")
            .to_owned(),
        status: status.as_u16(),
        detail: None,
        errors: Vec::new(),
    });
    Err(SdkError::Rejected(problem))
}
