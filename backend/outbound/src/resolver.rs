//! The HTTP client's DNS resolver: resolve, then refuse names whose addresses the policy
//! does not allow, at connect time.

use crate::policy::{OutboundPolicy, Refusal};
use crate::ranges::AddressClass;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use url::{Host, Url};

/// Looks host names up. [`SystemLookup`] in production; tests inject their own (a name that
/// resolves to 127.0.0.1, or to a public address first and to loopback next).
pub trait HostLookup: Send + Sync + 'static {
    /// The addresses of `name`.
    fn lookup(
        &self,
        name: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;
}

/// The operating system's resolver (`getaddrinfo` through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl HostLookup for SystemLookup {
    fn lookup(
        &self,
        name: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
        Box::pin(async move {
            let addresses = tokio::net::lookup_host((name.as_str(), 0)).await?;
            Ok(addresses.map(|address| address.ip()).collect())
        })
    }
}

/// A name whose addresses the policy refused (the error the client's connect fails with).
#[derive(Debug, Clone, thiserror::Error)]
#[error("refused by the outbound policy: the host resolves to a {} address", .0.describe())]
pub struct PolicyRefused(pub AddressClass);

/// Resolves with a [`HostLookup`] and refuses a name if ANY of its addresses is not allowed
/// (a receiver with one internal address among public ones is a rebinding attempt, not a
/// configuration to guess around).
#[derive(Clone)]
pub struct PolicyResolver {
    policy: Arc<OutboundPolicy>,
    lookup: Arc<dyn HostLookup>,
}

impl std::fmt::Debug for PolicyResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyResolver")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl PolicyResolver {
    pub fn new(policy: Arc<OutboundPolicy>, lookup: Arc<dyn HostLookup>) -> Self {
        Self { policy, lookup }
    }

    /// With the operating system's resolver.
    pub fn system(policy: Arc<OutboundPolicy>) -> Self {
        Self::new(policy, Arc::new(SystemLookup))
    }

    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    /// The allowed addresses of `name`.
    ///
    /// # Errors
    /// A lookup failure, or [`PolicyRefused`] when any address is not allowed.
    pub async fn allowed_addresses(
        &self,
        name: &str,
    ) -> Result<Vec<IpAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let addresses = self.lookup.lookup(name.to_owned()).await?;
        for address in &addresses {
            self.policy
                .check_address(Some(name), *address)
                .map_err(PolicyRefused)?;
        }
        Ok(addresses)
    }
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let addresses = this.allowed_addresses(name.as_str()).await?;
            let addrs: Addrs = Box::new(
                addresses
                    .into_iter()
                    .map(|address| SocketAddr::new(address, 0)),
            );
            Ok(addrs)
        })
    }
}

/// How long configuration-time resolution may take before the URL is accepted on its form
/// alone (delivery checks again in any case).
const CONFIGURATION_LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

/// The configuration-time check: [`OutboundPolicy::check_url`], then, for a host name, its
/// current addresses. A name that does not resolve (yet) is accepted: the resolver checks
/// again on every connection.
///
/// # Errors
/// The [`Refusal`] naming the rule broken.
pub async fn check_resolved(resolver: &PolicyResolver, raw: &str) -> Result<Url, Refusal> {
    let url = resolver.policy().check_url(raw)?;
    let Some(Host::Domain(name)) = url.host() else {
        return Ok(url);
    };
    let lookup = resolver.lookup.lookup(name.to_owned());
    let Ok(Ok(addresses)) = tokio::time::timeout(CONFIGURATION_LOOKUP_TIMEOUT, lookup).await else {
        return Ok(url);
    };
    for address in addresses {
        resolver
            .policy()
            .check_address(Some(name), address)
            .map_err(Refusal::Resolved)?;
    }
    Ok(url)
}
