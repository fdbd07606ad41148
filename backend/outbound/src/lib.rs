//! One policy for every HTTP call Balagh makes to an address someone else chose: operators'
//! webhook endpoints and residents' Web Push endpoints (and any later one).
//!
//! - [`OutboundPolicy::check_url`]: the URL parsed once, with the parser the client uses;
//!   https only (plain http to `127.0.0.1`/`[::1]` only when development allows it); no
//!   userinfo; literal addresses checked against the non-public ranges of [`ranges`].
//!   Run when a URL is configured and again before every delivery.
//! - [`PolicyResolver`]: the HTTP client's DNS resolver; every address a name resolves to
//!   is checked at connect time, so a name that resolves to a public address when it is
//!   registered and to `127.0.0.1` when it is called (DNS rebinding) is still refused.
//! - [`client_builder`]: no redirects (a redirect would send the request to a URL nobody
//!   checked), no proxy from the environment, the policy resolver.
//! - [`classify_status`] / [`classify_error`]: what the receiver answered, as a status and a
//!   short classification. The body of an answer is never read or recorded: an error page
//!   shown back to the configuring user would turn any internal host into a readable oracle.

pub mod policy;
pub mod ranges;
mod resolver;

pub use policy::{Allowed, MAX_URL_LENGTH, OutboundPolicy, Refusal};
pub use resolver::{HostLookup, PolicyRefused, PolicyResolver, SystemLookup, check_resolved};

use std::sync::Arc;

/// A reqwest client builder that follows the policy: the policy resolver, redirects not
/// followed, no proxy. Callers add their timeout and user agent.
pub fn client_builder(resolver: PolicyResolver) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(resolver))
}

/// A short classification of a receiver's status, to record instead of its body.
pub fn classify_status(status: u16) -> &'static str {
    match status {
        200..=299 => "accepted",
        300..=399 => "redirect (not followed)",
        401 | 403 => "refused by the receiver (authentication)",
        404 => "not found",
        408 => "receiver timed out",
        410 => "gone",
        413 => "payload too large",
        429 => "rate limited",
        400..=499 => "refused by the receiver",
        500..=599 => "receiver error",
        _ => "unexpected status",
    }
}

/// A short classification of a failure before any answer came.
pub fn classify_error(error: &reqwest::Error) -> &'static str {
    if is_policy_refusal(error) {
        "refused by the outbound policy"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_builder() {
        "invalid request"
    } else {
        "request failed"
    }
}

/// Whether `error` came from [`PolicyResolver`] refusing every address of a name.
pub fn is_policy_refusal(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause.is::<PolicyRefused>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// An HTTP client bound to a policy: [`OutboundClient::check_url`] before every request,
/// [`PolicyResolver`] on every connection. Cheap to clone; share one per sender.
#[derive(Debug, Clone)]
pub struct OutboundClient {
    http: reqwest::Client,
    resolver: PolicyResolver,
}

impl OutboundClient {
    /// A client with a whole-request `timeout` and `user_agent`.
    ///
    /// # Errors
    /// The TLS backend could not be initialised.
    pub fn new(
        resolver: PolicyResolver,
        timeout: std::time::Duration,
        user_agent: &'static str,
    ) -> Result<Self, reqwest::Error> {
        let http = client_builder(resolver.clone())
            .timeout(timeout)
            .user_agent(user_agent)
            .build()?;
        Ok(Self { http, resolver })
    }

    /// The URL to call, if the policy allows it (checked again at every delivery: the
    /// policy may have changed since the URL was stored).
    ///
    /// # Errors
    /// The [`Refusal`].
    pub fn check_url(&self, raw: &str) -> Result<url::Url, Refusal> {
        self.resolver.policy().check_url(raw)
    }

    /// The underlying client, for building requests to checked URLs.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn resolver(&self) -> &PolicyResolver {
        &self.resolver
    }
}
