//! What one client may ask of a replica, how long a request may take, and the headers every
//! answer carries.
//!
//! Rate limits are token buckets kept in the process: per client address (every request
//! but the operations probes) and per device token (changes only). They need no shared
//! store, so with N replicas behind a load balancer a client may get up to N times the
//! rate; the limits are there to stop floods and runaway apps, not to meter fairly. A
//! refused request is a 429 `urn:balagh:problem:rate-limited` with `Retry-After`.
//!
//! Behind a reverse proxy every request comes from the proxy's address: list the proxies in
//! `http.trusted_proxies` and the client's address is taken from `X-Forwarded-For` (the
//! rightmost address that is not a trusted proxy), for these limits and the login throttle.

use crate::auth::secrets::DEVICE_PREFIX;
use crate::problem::{problem_response, problem_type};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use balagh_wire::Problem;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A sustained rate and the burst allowed above it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests per second, sustained.
    pub per_second: f64,
    /// Requests allowed at once (the bucket's size), at least 1.
    pub burst: f64,
}

impl Rate {
    /// `None` when either figure is 0 (the limit is off).
    pub fn new(per_second: f64, burst: f64) -> Option<Self> {
        (per_second > 0.0 && burst > 0.0 && per_second.is_finite() && burst.is_finite()).then(
            || Self {
                per_second,
                burst: burst.max(1.0),
            },
        )
    }
}

/// The limits of one replica. [`Default`] is no limit at all (embedding, tests); `balagh
/// serve` applies [`RateLimits::recommended`] unless configured otherwise.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateLimits {
    /// Every request from one client address (an IPv6 client is its /64).
    pub per_ip: Option<Rate>,
    /// Changes (POST, PUT, PATCH, DELETE) by one resident's device token.
    pub per_device_writes: Option<Rate>,
    /// "Already reported nearby?" look-ups by one device token (a sweep of the commune
    /// point by point is slow, whatever it could learn).
    pub per_device_lookups: Option<Rate>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
}

impl RateLimits {
    /// Defaults of `balagh serve`: generous for one person or one app, even behind a shared
    /// (carrier-grade NAT) address, tight for a flood.
    pub fn recommended() -> Self {
        Self {
            per_ip: Rate::new(300.0, 600.0),
            per_device_writes: Rate::new(20.0, 100.0),
            per_device_lookups: Rate::new(0.2, 30.0),
            trusted_proxies: Vec::new(),
        }
    }
}

/// An address or a network (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    address: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let address = canonical(
            address
                .parse::<IpAddr>()
                .map_err(|_| format!("'{s}' is not an IP address or network"))?,
        );
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{s}': the prefix length must be 0 to {max}"))?,
            None => max,
        };
        Ok(Self { address, prefix })
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address as the limits and the login throttle see it: the peer, or the
/// address a trusted proxy forwarded for. Set as a request extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client behind `peer`: `peer` itself unless it is a trusted proxy, else the
/// rightmost `X-Forwarded-For` address that is not a trusted proxy (the ones left of it
/// were written by the client and prove nothing).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| a.trim().parse::<IpAddr>().map(canonical))
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    let mut client = peer;
    for ip in forwarded.into_iter().rev() {
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// Token buckets by key, sharded so that concurrent requests rarely wait on one lock.
#[derive(Debug)]
struct Buckets {
    rate: Rate,
    shards: Vec<Mutex<HashMap<u64, Bucket>>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

const SHARDS: usize = 16;
/// Keys kept per shard before full buckets are forgotten (a full bucket is the same as no
/// bucket), bounding memory under a flood of addresses.
const MAX_KEYS_PER_SHARD: usize = 8192;

impl Buckets {
    fn new(rate: Rate) -> Self {
        Self {
            rate,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn level(&self, bucket: &Bucket, now: Instant) -> f64 {
        (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * self.rate.per_second)
            .min(self.rate.burst)
    }

    /// Takes one token, or says how long until one is there.
    fn take(&self, key: u64, now: Instant) -> Result<(), Duration> {
        let shard = &self.shards[(key as usize) % SHARDS];
        let mut map = shard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_KEYS_PER_SHARD && !map.contains_key(&key) {
            map.retain(|_, b| self.level(b, now) < self.rate.burst);
            if map.len() >= MAX_KEYS_PER_SHARD {
                // Flooded by distinct clients: start over rather than grow without bound.
                map.clear();
            }
        }
        let bucket = map.entry(key).or_insert(Bucket {
            tokens: self.rate.burst,
            at: now,
        });
        let level = self.level(bucket, now);
        if level >= 1.0 {
            *bucket = Bucket {
                tokens: level - 1.0,
                at: now,
            };
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - level) / self.rate.per_second,
            ))
        }
    }
}

/// The limiter of one application: its buckets and settings.
#[derive(Debug)]
pub struct Limiter {
    per_ip: Option<Buckets>,
    per_device: Option<Buckets>,
    per_device_lookups: Option<Buckets>,
    trusted_proxies: Vec<IpNet>,
    hasher: std::collections::hash_map::RandomState,
}

impl Limiter {
    pub fn new(limits: &RateLimits) -> Self {
        Self {
            per_ip: limits.per_ip.map(Buckets::new),
            per_device: limits.per_device_writes.map(Buckets::new),
            per_device_lookups: limits.per_device_lookups.map(Buckets::new),
            trusted_proxies: limits.trusted_proxies.clone(),
            hasher: Default::default(),
        }
    }
}

/// The look-up limited per device besides the rest.
const NEARBY_PATH: &str = "/api/v1/reports/nearby";

/// Probes of orchestrators and monitoring are never limited.
fn exempt(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

fn is_write(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn device_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && token.starts_with(DEVICE_PREFIX)).then_some(token)
}

/// IPv6 clients get a /64 each (what one subscriber is usually given).
fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        v4 => v4,
    }
}

/// Middleware: resolves the client's address, then applies the per-address and per-device
/// limits (429 with `Retry-After`).
pub async fn rate_limit(
    State(limiter): State<Arc<Limiter>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = peer.map(|peer| client_ip(peer, request.headers(), &limiter.trusted_proxies));
    if let Some(ip) = client {
        request.extensions_mut().insert(ClientIp(ip));
    }
    if !exempt(request.uri().path()) {
        let now = Instant::now();
        if let (Some(buckets), Some(ip)) = (&limiter.per_ip, client)
            && let Err(wait) = buckets.take(limiter.hasher.hash_one(ip_key(ip)), now)
        {
            return refused("address", wait);
        }
        if let Some(buckets) = &limiter.per_device
            && is_write(request.method())
            && let Some(token) = device_token(request.headers())
            && let Err(wait) = buckets.take(limiter.hasher.hash_one(token), now)
        {
            return refused("device", wait);
        }
        if let Some(buckets) = &limiter.per_device_lookups
            && request.uri().path() == NEARBY_PATH
            && let Some(token) = device_token(request.headers())
            && let Err(wait) = buckets.take(limiter.hasher.hash_one(token), now)
        {
            return refused("device", wait);
        }
    }
    next.run(request).await
}

fn refused(scope: &'static str, wait: Duration) -> Response {
    metrics::counter!("balagh_rate_limited_total", "scope" => scope).increment(1);
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut response = problem_response(&Problem {
        kind: problem_type("rate-limited"),
        title: "Too many requests, retry later".to_owned(),
        status: 429,
        detail: Some(format!(
            "too many requests from this {scope}: retry in {seconds} s"
        )),
        errors: vec![],
    });
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// Seconds a client should wait before retrying after a 503.
pub const RETRY_AFTER_SECONDS: u64 = 2;

/// Middleware: a request that takes longer than the limit is answered 503 with
/// `Retry-After` (the handler is dropped; a change it was making is rolled back unless it
/// had committed, which a retry with the same `Idempotency-Key` finds).
pub async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            metrics::counter!("balagh_http_timeouts_total").increment(1);
            let mut response = problem_response(&Problem {
                kind: problem_type("service-unavailable"),
                title: "Temporarily unavailable, retry later".to_owned(),
                status: 503,
                detail: Some(format!(
                    "the request took longer than {} s",
                    limit.as_secs_f64()
                )),
                errors: vec![],
            });
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            response
        }
    }
}

/// What [`security_headers`] adds.
#[derive(Debug, Clone, Copy)]
pub struct HeaderPolicy {
    /// `Strict-Transport-Security`: only when served over HTTPS (`http.secure_cookies`).
    pub hsts: bool,
}

/// For JSON, XML and the like: nothing may be loaded, run or framed. Pages set their own.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
/// The interactive API docs load their own scripts and styles; they may still not be framed.
const DOCS_CSP: &str = "frame-ancestors 'none'";
const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Middleware: security headers on every answer, keeping those a route set itself (the
/// operator pages have their own `Content-Security-Policy` and `Referrer-Policy`).
pub async fn security_headers(
    State(policy): State<HeaderPolicy>,
    request: Request,
    next: Next,
) -> Response {
    let docs = request.uri().path().starts_with(crate::DOCS_PATH);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "no-referrer");
    set(
        header::CONTENT_SECURITY_POLICY,
        if docs { DOCS_CSP } else { API_CSP },
    );
    set(
        HeaderName::from_static("permissions-policy"),
        PERMISSIONS_POLICY,
    );
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if policy.hsts {
        set(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    response
}

/// Answers that refuse a request before its body is read (401, 403 and 429 from the
/// credential extractors and the limits, 413) leave the unread body on the connection, so
/// the server closes it. Saying so with `Connection: close` lets clients open a new
/// connection for their next request instead of failing on a closed one.
pub async fn close_after_refusal(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|length| length.trim() != "0");
    let mut response = next.run(request).await;
    let refused = matches!(response.status().as_u16(), 401 | 403 | 413 | 429);
    if has_body && refused {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_allow_the_burst_then_the_rate() {
        let buckets = Buckets::new(Rate::new(10.0, 5.0).unwrap());
        let start = Instant::now();
        for _ in 0..5 {
            assert!(buckets.take(1, start).is_ok());
        }
        let wait = buckets.take(1, start).unwrap_err();
        assert!(wait <= Duration::from_millis(100) && wait > Duration::ZERO);
        assert!(buckets.take(2, start).is_ok(), "keys are independent");
        assert!(buckets.take(1, start + Duration::from_millis(100)).is_ok());
        assert!(buckets.take(1, start + Duration::from_millis(100)).is_err());
        // A long pause refills to the burst, no more.
        let later = start + Duration::from_secs(60);
        for _ in 0..5 {
            assert!(buckets.take(1, later).is_ok());
        }
        assert!(buckets.take(1, later).is_err());
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_keys() {
        let buckets = Buckets::new(Rate::new(1.0, 2.0).unwrap());
        let now = Instant::now();
        for key in 0..(SHARDS * MAX_KEYS_PER_SHARD * 3) as u64 {
            let _ = buckets.take(key, now);
        }
        for shard in &buckets.shards {
            assert!(shard.lock().unwrap().len() <= MAX_KEYS_PER_SHARD);
        }
    }

    #[test]
    fn zero_turns_a_limit_off() {
        assert!(Rate::new(0.0, 10.0).is_none());
        assert!(Rate::new(5.0, 0.0).is_none());
        assert_eq!(Rate::new(5.0, 0.5).unwrap().burst, 1.0);
    }

    #[test]
    fn networks_parse_and_match() {
        let net: IpNet = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        let one: IpNet = "192.0.2.7".parse().unwrap();
        assert!(one.contains("192.0.2.7".parse().unwrap()));
        assert!(!one.contains("192.0.2.8".parse().unwrap()));
        let v6: IpNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12:3456::1".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("proxy".parse::<IpNet>().is_err());
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_forwarded_address() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.2.3.4, 203.0.113.9, 10.0.0.5"),
        );
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let client: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(client_ip(proxy, &headers, &trusted), client);
        // An untrusted peer's header is ignored.
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(client_ip(stranger, &headers, &trusted), stranger);
        // No header, or garbage in it: the proxy itself.
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &trusted), proxy);
        headers.insert("x-forwarded-for", HeaderValue::from_static("nonsense"));
        assert_eq!(client_ip(proxy, &headers, &trusted), proxy);
    }

    #[test]
    fn ipv6_clients_are_their_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(c));
    }
}
