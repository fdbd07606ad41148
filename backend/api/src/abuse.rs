//! Limits that keep device registration from multiplying per-device budgets: new devices
//! per client address, "me too" per report per address, and an optional proof of work
//! that apps solve before registering (off by default; see the README for app builders).
//!
//! Counts live in the database (`login_throttle` rows, one statement per attempt), so they
//! hold across replicas and under concurrent requests.

use crate::problem::ApiError;
use crate::state::AppState;
use axum::http::HeaderMap;
use balagh_store::{ThrottlePolicy, Ts};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// Header carrying the proof of work of a device registration: `<unix minute>:<nonce>`.
pub const PROOF_HEADER: &str = "x-balagh-proof";
/// How far (in minutes) a proof's minute may be from the server's clock.
const PROOF_MINUTES_OF_SLACK: i64 = 5;

/// The limits; 0 turns one off. `Default` has them all off (tests); `balagh serve` uses
/// [`DeviceLimits::recommended`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceLimits {
    /// New devices one address may register per hour.
    pub new_devices_per_address_per_hour: u32,
    /// "Me too" one address may add to one report per day.
    pub supports_per_address_per_report: u32,
    /// Leading zero bits the SHA-256 of a registration's proof must have (0: no proof).
    pub proof_of_work_bits: u8,
}

impl DeviceLimits {
    /// Defaults of `balagh serve`: room for a household or an office behind one address,
    /// not for a script.
    pub fn recommended() -> Self {
        Self {
            new_devices_per_address_per_hour: 30,
            supports_per_address_per_report: 5,
            proof_of_work_bits: 0,
        }
    }
}

/// The address as counted: an IPv4 address, or the /64 of an IPv6 one (what one household
/// or phone gets).
pub fn address_key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => {
            let segments = v6.segments();
            format!(
                "{:x}:{:x}:{:x}:{:x}::/64",
                segments[0], segments[1], segments[2], segments[3]
            )
        }
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.to_owned(),
    }
}

/// Counts one attempt against `limit` per `window` for `key`: 429 with `Retry-After` past it.
async fn count(
    state: &AppState,
    key: &str,
    limit: u32,
    window: time::Duration,
) -> Result<(), ApiError> {
    if limit == 0 {
        return Ok(());
    }
    let policy = ThrottlePolicy {
        max_failures: i32::try_from(limit).unwrap_or(i32::MAX),
        window,
    };
    let now = Ts::now();
    let attempts = state.store().count_attempt(key, now, &policy).await?;
    if attempts.allowed(&policy) {
        return Ok(());
    }
    let seconds = (attempts.window_ends.get() - now.get())
        .whole_seconds()
        .max(1);
    Err(ApiError::TooManyRequests {
        retry_after_seconds: seconds.unsigned_abs(),
    })
}

/// Checks a device registration from `address`: the proof of work when one is required,
/// then the per-address count.
pub async fn admit_new_device(
    state: &AppState,
    address: &str,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let limits = state.settings().devices;
    if limits.proof_of_work_bits > 0 {
        let proof = headers
            .get(PROOF_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        let now_minute = time::OffsetDateTime::now_utc().unix_timestamp() / 60;
        if !proof_is_valid(proof, limits.proof_of_work_bits, now_minute) {
            return Err(ApiError::ProofOfWorkRequired {
                bits: limits.proof_of_work_bits,
            });
        }
        // A proof registers one device: a second use is counted past a limit of one.
        count(
            state,
            &format!("proof:{proof}"),
            1,
            time::Duration::minutes(15),
        )
        .await
        .map_err(|_| ApiError::ProofOfWorkRequired {
            bits: limits.proof_of_work_bits,
        })?;
    }
    count(
        state,
        &format!("devices:{}", address_key(address)),
        limits.new_devices_per_address_per_hour,
        time::Duration::hours(1),
    )
    .await
}

/// Counts a "me too" on `report` from `address`.
pub async fn admit_support(
    state: &AppState,
    address: &str,
    report: uuid::Uuid,
) -> Result<(), ApiError> {
    count(
        state,
        &format!("support:{report}:{}", address_key(address)),
        state.settings().devices.supports_per_address_per_report,
        time::Duration::days(1),
    )
    .await
}

/// Gives back the count of a "me too" that changed nothing (the device had supported).
pub async fn refund_support(
    state: &AppState,
    address: &str,
    report: uuid::Uuid,
) -> Result<(), ApiError> {
    if state.settings().devices.supports_per_address_per_report == 0 {
        return Ok(());
    }
    let key = format!("support:{report}:{}", address_key(address));
    Ok(state.store().refund_attempt(&key).await?)
}

/// Whether `proof` (`<unix minute>:<nonce>`, nonce up to 64 characters) is recent and
/// SHA-256(`balagh-device:<unix minute>:<nonce>`) starts with `bits` zero bits.
pub fn proof_is_valid(proof: &str, bits: u8, now_minute: i64) -> bool {
    let Some((minute, nonce)) = proof.split_once(':') else {
        return false;
    };
    let Ok(minute) = minute.parse::<i64>() else {
        return false;
    };
    if (minute - now_minute).abs() > PROOF_MINUTES_OF_SLACK || nonce.is_empty() || nonce.len() > 64
    {
        return false;
    }
    let digest = Sha256::digest(format!("balagh-device:{minute}:{nonce}").as_bytes());
    leading_zero_bits(&digest) >= u32::from(bits)
}

fn leading_zero_bits(bytes: &[u8]) -> u32 {
    let mut zeros = 0;
    for byte in bytes {
        if *byte == 0 {
            zeros += 8;
        } else {
            return zeros + byte.leading_zeros();
        }
    }
    zeros
}

/// Solves a proof of work (what an app does; used by tests and the README's example).
pub fn solve_proof(bits: u8, minute: i64) -> String {
    (0u64..)
        .map(|nonce| format!("{minute}:{nonce:x}"))
        .find(|proof| proof_is_valid(proof, bits, minute))
        .expect("a nonce exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_need_the_bits_and_a_recent_minute() {
        let minute = 29_000_000;
        let proof = solve_proof(12, minute);
        assert!(proof_is_valid(&proof, 12, minute));
        assert!(proof_is_valid(&proof, 12, minute + 5));
        assert!(!proof_is_valid(&proof, 12, minute + 6), "stale");
        let (_, nonce) = proof.split_once(':').unwrap();
        // The same nonce for another minute is (almost surely) not a proof.
        let elsewhere = format!("{}:{nonce}", minute + 1);
        assert!(!proof_is_valid(&elsewhere, 20, minute));
        for junk in ["", "x", ":", "29000000:", "abc:1"] {
            assert!(!proof_is_valid(junk, 1, minute), "{junk:?}");
        }
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(address_key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_eq!(address_key("192.0.2.7"), "192.0.2.7");
    }
}
