//! The outbound policy: which URLs may be registered and called.
//!
//! A URL is parsed once, by `url::Url` (the WHATWG parser reqwest itself uses, so `\`,
//! percent-encoding, decimal/octal/hex IPv4 forms and userinfo are read exactly as the
//! client will read them), then checked; what is stored and called is the parser's own
//! serialisation, never the string that was sent.

use crate::ranges::{self, AddressClass};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// The longest URL accepted (push services use ~200 characters; 2000 leaves room).
pub const MAX_URL_LENGTH: usize = 2000;

/// Why a URL or an address is refused. The texts are shown to whoever configured the URL:
/// they name the rule, never anything learnt from the network beyond the address class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("is not a valid URL")]
    Unparsable,
    #[error("is longer than {MAX_URL_LENGTH} characters")]
    TooLong,
    #[error("must use https (http only to 127.0.0.1 or [::1] in development)")]
    Scheme,
    #[error("must not contain a user name or password")]
    Userinfo,
    #[error("must not contain a fragment (#…)")]
    Fragment,
    #[error("must name a host")]
    NoHost,
    #[error("points to a {} address, which outbound calls may not reach", .0.describe())]
    Address(AddressClass),
    #[error("resolves to a {} address, which outbound calls may not reach", .0.describe())]
    Resolved(AddressClass),
}

/// One allow-list entry: a network (CIDR or single address) or a host name. Operators that
/// run receivers inside the commune's network list them; only private ranges can be opened
/// this way (never loopback, link-local or unspecified ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    Network(IpNet),
    HostName(String),
}

impl Allowed {
    /// Reads `10.20.0.0/16`, `10.20.0.7` or `hooks.commune.internal`.
    ///
    /// # Errors
    /// A network that reaches loopback, link-local or unspecified addresses, or text that
    /// is neither a network nor a host name.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(net) = ranges::parse_net(text) {
            let ends = [net.network(), net.broadcast()];
            if ends.into_iter().all(ranges::allowable) {
                return Ok(Self::Network(net));
            }
            return Err(format!(
                "{text}: only private or public networks may be allow-listed"
            ));
        }
        match Host::parse(text) {
            Ok(Host::Domain(name)) if !name.is_empty() => Ok(Self::HostName(name)),
            _ => Err(format!("{text}: not a network (CIDR) or a host name")),
        }
    }
}

/// The rules, from configuration. `Default` is the production policy: https to public
/// addresses only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Development and tests: allow `http://` (and https) to the literal addresses
    /// `127.0.0.1` and `[::1]`, where local receivers listen. Host names are never exempt.
    pub allow_loopback_http: bool,
    /// Networks and host names that may be reached although not public.
    pub allowed: Vec<Allowed>,
}

impl OutboundPolicy {
    /// Parses and checks `raw`; returns the URL to store and call.
    ///
    /// # Errors
    /// The [`Refusal`] naming the rule broken. A host name is accepted here when its form
    /// is valid; what it resolves to is checked by [`crate::PolicyResolver`] (and at
    /// configuration time by [`crate::check_resolved`]).
    pub fn check_url(&self, raw: &str) -> Result<Url, Refusal> {
        if raw.len() > MAX_URL_LENGTH {
            return Err(Refusal::TooLong);
        }
        let url = Url::parse(raw).map_err(|_| Refusal::Unparsable)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Userinfo);
        }
        if url.fragment().is_some() {
            return Err(Refusal::Fragment);
        }
        let host = url.host().ok_or(Refusal::NoHost)?;
        let literal = match host {
            Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
            Host::Domain("") => return Err(Refusal::NoHost),
            Host::Domain(_) => None,
        };
        let development = self.allow_loopback_http
            && literal.is_some_and(is_development_host)
            && written_canonically(raw, &url);
        match url.scheme() {
            "https" => {}
            "http" if development => {}
            _ => return Err(Refusal::Scheme),
        }
        if let Some(address) = literal
            && !development
        {
            self.check_address(None, address)
                .map_err(Refusal::Address)?;
        }
        Ok(url)
    }

    /// Whether a connection to `address` (reached through host name `name`, or a literal
    /// address when `None`) is allowed.
    ///
    /// # Errors
    /// The class of the refused address.
    pub fn check_address(&self, name: Option<&str>, address: IpAddr) -> Result<(), AddressClass> {
        let class = ranges::classify(address);
        if class == AddressClass::Public {
            return Ok(());
        }
        let listed = self.allowed.iter().any(|entry| match entry {
            Allowed::Network(net) => net.contains(&address),
            Allowed::HostName(allowed) => {
                name.is_some_and(|name| name.eq_ignore_ascii_case(allowed))
            }
        });
        if listed && ranges::allowable(address) {
            Ok(())
        } else {
            Err(class)
        }
    }
}

/// Whether `raw` spells its scheme and host exactly as the parser serialises them, so the
/// development exemption covers `http://127.0.0.1:8080/` and not `http://2130706433/`,
/// `http://0177.0.0.1/` or any other spelling that a reviewer would not recognise as local.
fn written_canonically(raw: &str, url: &Url) -> bool {
    let prefix = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    raw.get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(&prefix))
        && matches!(raw.as_bytes().get(prefix.len()), None | Some(b':' | b'/'))
}

/// The only addresses the development exemption covers: where local receivers listen.
fn is_development_host(address: IpAddr) -> bool {
    address == IpAddr::V4(Ipv4Addr::LOCALHOST) || address == IpAddr::V6(Ipv6Addr::LOCALHOST)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn development() -> OutboundPolicy {
        OutboundPolicy {
            allow_loopback_http: true,
            allowed: Vec::new(),
        }
    }

    #[test]
    fn public_https_urls_are_accepted_as_parsed() {
        let policy = OutboundPolicy::default();
        let url = policy
            .check_url("https://Hooks.Operator.example:8443/balagh?x=1")
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://hooks.operator.example:8443/balagh?x=1"
        );
    }

    #[test]
    fn bypass_forms_are_refused_even_in_development() {
        let policy = development();
        for raw in [
            "http://127.0.0.2:18555\\@127.0.0.1/",
            "https://127.0.0.2:18555/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.0.0.1/",
            "http://0x7f000001/",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
            "https://0/",
            "http://[::]/",
            "http://user:pass@127.0.0.1/",
            "http://127.0.0.1@example.com/",
            "https://example.com@169.254.169.254/",
            "http://localhost/",
            "https://10.0.0.1/",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.64.0.1/",
            "https://[fe80::1]/",
            "ftp://example.com/",
            "file:///etc/passwd",
            "https://example.com/#x",
        ] {
            assert!(policy.check_url(raw).is_err(), "{raw} was accepted");
        }
    }

    #[test]
    fn development_allows_only_the_local_receivers() {
        let policy = development();
        assert!(policy.check_url("http://127.0.0.1:18555/hook").is_ok());
        assert!(policy.check_url("http://[::1]:18555/hook").is_ok());
        assert_eq!(
            OutboundPolicy::default().check_url("http://127.0.0.1:18555/hook"),
            Err(Refusal::Scheme)
        );
        assert_eq!(
            OutboundPolicy::default().check_url("https://127.0.0.1:18555/hook"),
            Err(Refusal::Address(AddressClass::Loopback))
        );
    }

    #[test]
    fn the_allow_list_opens_private_networks_only() {
        let policy = OutboundPolicy {
            allow_loopback_http: false,
            allowed: vec![
                Allowed::parse("10.20.0.0/16").unwrap(),
                Allowed::parse("hooks.commune.internal").unwrap(),
            ],
        };
        assert!(policy.check_url("https://10.20.3.4/hook").is_ok());
        assert!(policy.check_url("https://10.21.3.4/hook").is_err());
        let private = "10.99.0.1".parse().unwrap();
        assert!(
            policy
                .check_address(Some("hooks.commune.internal"), private)
                .is_ok()
        );
        assert!(
            policy
                .check_address(Some("other.internal"), private)
                .is_err()
        );
        let loopback = "127.0.0.1".parse().unwrap();
        assert!(
            policy
                .check_address(Some("hooks.commune.internal"), loopback)
                .is_err()
        );
        assert!(Allowed::parse("127.0.0.0/8").is_err());
        assert!(Allowed::parse("169.254.0.0/16").is_err());
        assert!(Allowed::parse("0.0.0.0/0").is_err());
    }
}
