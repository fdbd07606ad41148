//! When to retry a failed delivery, and when to give up.
//!
//! Operators' endpoints go down for deploys, outages and weekends; a delivery is retried with
//! exponential backoff so a short blip is bridged quickly while a long outage is not hammered.
//! Jitter spreads the retries of many messages that failed together (one outage) so they do
//! not all come back in the same second. After a day the message is dead-lettered: by then
//! the ticket has moved on and the operator is alerted through other channels.
//!
//! # Default schedule
//!
//! Delay before the next attempt, given the number of attempts already made (before jitter,
//! which moves each delay by up to ±20 %, never above the 2 h cap):
//!
//! | attempts made | delay  | next attempt at (since first) |
//! | ------------- | ------ | ----------------------------- |
//! | 1             | 30 s   | 0:00:30                       |
//! | 2             | 1 min  | 0:01:30                       |
//! | 3             | 2 min  | 0:03:30                       |
//! | 4             | 4 min  | 0:07:30                       |
//! | 5             | 8 min  | 0:15:30                       |
//! | 6             | 16 min | 0:31:30                       |
//! | 7             | 32 min | 1:03:30                       |
//! | 8             | 64 min | 2:07:30                       |
//! | 9 to 18       | 2 h    | 4:07:30 … 22:07:30            |
//! | 19            | —      | 24:07:30 is past 24 h: give up |
//!
//! That is 19 attempts without jitter; with jitter, somewhere around 19 to 22. A server's
//! `Retry-After` can only lengthen a delay (up to the 2 h cap), never shorten it.

use std::time::Duration;

use rand::Rng;
use time::OffsetDateTime;

/// Exponential backoff with jitter and an overall deadline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Delay after the first failed attempt.
    pub first_interval: Duration,
    /// Growth factor of the delay from one attempt to the next.
    pub multiplier: u32,
    /// Longest delay between two attempts, jitter and `Retry-After` included.
    pub max_interval: Duration,
    /// Relative random spread of each delay: 0.2 means ±20 %. Clamped to `0.0..=1.0`.
    pub jitter: f64,
    /// No attempt is scheduled later than this after the first attempt.
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_interval: Duration::from_secs(30),
            multiplier: 2,
            max_interval: Duration::from_secs(2 * 60 * 60),
            jitter: 0.2,
            give_up_after: Duration::from_secs(24 * 60 * 60),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before the next attempt, or `None` to give up (dead-letter).
    ///
    /// - `attempts_made`: attempts already made, counting the one that just failed (0 is
    ///   treated as 1).
    /// - `first_attempt_at`, `now`: the deadline is `give_up_after` past the first attempt;
    ///   a `now` before `first_attempt_at` (clock skew) counts as no time elapsed.
    /// - `retry_after`: the server's `Retry-After`, if any; the delay is never shorter than
    ///   it, but it cannot push the delay past `max_interval`.
    /// - `rng`: source of jitter; pass a seeded one in tests.
    ///
    /// Gives up when the next attempt would fall after the deadline, so the last attempt is
    /// always within `give_up_after` of the first.
    pub fn next_delay<R: Rng + ?Sized>(
        &self,
        attempts_made: u32,
        first_attempt_at: OffsetDateTime,
        now: OffsetDateTime,
        retry_after: Option<Duration>,
        rng: &mut R,
    ) -> Option<Duration> {
        let jittered = self.jittered(self.backoff(attempts_made), rng);
        let delay = match retry_after {
            Some(asked) => jittered.max(asked.min(self.max_interval)),
            None => jittered,
        };
        let elapsed = Duration::try_from(now - first_attempt_at).unwrap_or(Duration::ZERO);
        let next_attempt_offset = elapsed.checked_add(delay)?;
        (next_attempt_offset <= self.give_up_after).then_some(delay)
    }

    /// The delay before jitter: `first_interval × multiplier^(attempts_made − 1)`, capped at
    /// `max_interval` (saturating rather than overflowing for large attempt counts).
    pub fn backoff(&self, attempts_made: u32) -> Duration {
        let exponent = attempts_made.saturating_sub(1);
        let factor = self.multiplier.max(1).saturating_pow(exponent);
        self.first_interval
            .saturating_mul(factor)
            .min(self.max_interval)
    }

    fn jittered<R: Rng + ?Sized>(&self, base: Duration, rng: &mut R) -> Duration {
        // A NaN jitter counts as none rather than poisoning every delay.
        let spread = if self.jitter.is_nan() {
            0.0
        } else {
            self.jitter.clamp(0.0, 1.0)
        };
        if spread == 0.0 {
            return base;
        }
        let factor = 1.0 + rng.random_range(-spread..=spread);
        Duration::try_from_secs_f64(base.as_secs_f64() * factor)
            .unwrap_or(self.max_interval)
            .min(self.max_interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng as _;
    use rand::rngs::StdRng;
    use time::macros::datetime;

    const MINUTE: Duration = Duration::from_secs(60);
    const HOUR: Duration = Duration::from_secs(60 * 60);
    const START: OffsetDateTime = datetime!(2025-03-01 08:00 UTC);

    fn without_jitter() -> RetryPolicy {
        RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        }
    }

    /// Runs a delivery that fails forever; returns the delays used before giving up.
    fn simulate_until_give_up(policy: &RetryPolicy, rng: &mut StdRng) -> Vec<Duration> {
        let mut delays = Vec::new();
        let mut now = START;
        let mut attempts_made = 1;
        while let Some(delay) = policy.next_delay(attempts_made, START, now, None, rng) {
            delays.push(delay);
            now += delay;
            attempts_made += 1;
            assert!(attempts_made < 1_000, "never gave up");
        }
        delays
    }

    #[test]
    fn default_backoff_doubles_from_thirty_seconds_up_to_two_hours() {
        let policy = RetryPolicy::default();
        let expected = [
            Duration::from_secs(30),
            MINUTE,
            2 * MINUTE,
            4 * MINUTE,
            8 * MINUTE,
            16 * MINUTE,
            32 * MINUTE,
            64 * MINUTE,
            2 * HOUR,
            2 * HOUR,
        ];
        for (attempts_made, delay) in (1..).zip(expected) {
            assert_eq!(
                policy.backoff(attempts_made),
                delay,
                "after {attempts_made}"
            );
        }
        assert_eq!(policy.backoff(0), policy.backoff(1));
        assert_eq!(policy.backoff(u32::MAX), 2 * HOUR);
    }

    #[test]
    fn delays_grow_until_the_cap() {
        let policy = without_jitter();
        let mut rng = StdRng::seed_from_u64(1);
        let delays = simulate_until_give_up(&policy, &mut rng);
        assert!(
            delays.windows(2).all(|pair| pair[0] <= pair[1]),
            "{delays:?}"
        );
        assert!(delays.windows(2).take(7).all(|pair| pair[0] < pair[1]));
        assert!(delays.iter().all(|delay| *delay <= 2 * HOUR));
        // The documented schedule: 18 retries after the first attempt, 19 attempts in all.
        assert_eq!(delays.len(), 18, "{delays:?}");
        let total: Duration = delays.iter().sum();
        assert_eq!(total, 22 * HOUR + 7 * MINUTE + Duration::from_secs(30));
    }

    #[test]
    fn jitter_stays_within_twenty_percent_and_below_the_cap() {
        let policy = RetryPolicy::default();
        let mut rng = StdRng::seed_from_u64(7);
        for attempts_made in 1..=12 {
            let base = policy.backoff(attempts_made);
            let mut seen = Vec::new();
            for _ in 0..200 {
                let delay = policy
                    .next_delay(attempts_made, START, START, None, &mut rng)
                    .unwrap();
                assert!(delay >= base.mul_f64(0.8), "{delay:?} vs {base:?}");
                assert!(delay <= base.mul_f64(1.2), "{delay:?} vs {base:?}");
                assert!(delay <= policy.max_interval, "{delay:?}");
                seen.push(delay);
            }
            seen.sort();
            seen.dedup();
            // At the cap, the upper half of the spread collapses onto the cap itself.
            assert!(seen.len() > 50, "jitter is not random enough: {seen:?}");
        }
    }

    #[test]
    fn out_of_range_jitter_is_clamped() {
        let mut rng = StdRng::seed_from_u64(9);
        for jitter in [f64::NAN, -0.5] {
            let policy = RetryPolicy {
                jitter,
                ..RetryPolicy::default()
            };
            assert_eq!(
                policy.next_delay(3, START, START, None, &mut rng),
                Some(2 * MINUTE),
                "{jitter}"
            );
        }
        let wild = RetryPolicy {
            jitter: 5.0,
            ..RetryPolicy::default()
        };
        for _ in 0..100 {
            let delay = wild.next_delay(3, START, START, None, &mut rng).unwrap();
            assert!(delay <= 4 * MINUTE, "{delay:?}");
        }
    }

    #[test]
    fn total_never_exceeds_a_day_and_then_gives_up() {
        let policy = RetryPolicy::default();
        for seed in 0..200 {
            let mut rng = StdRng::seed_from_u64(seed);
            let delays = simulate_until_give_up(&policy, &mut rng);
            let total: Duration = delays.iter().sum();
            assert!(total <= 24 * HOUR, "seed {seed}: {total:?}");
            // Giving up only once the next delay no longer fits, and a delay is at most the
            // cap: giving up with more than the cap left would waste the retry window.
            assert!(
                total + policy.max_interval > 24 * HOUR,
                "seed {seed}: gave up early at {total:?}"
            );
            assert!((18..=21).contains(&delays.len()), "seed {seed}: {delays:?}");
        }
    }

    #[test]
    fn gives_up_at_the_deadline_even_for_short_delays() {
        let policy = without_jitter();
        let mut rng = StdRng::seed_from_u64(3);
        let just_inside = START + (24 * HOUR - Duration::from_secs(30));
        assert_eq!(
            policy.next_delay(1, START, just_inside, None, &mut rng),
            Some(Duration::from_secs(30))
        );
        let one_second_later = just_inside + Duration::from_secs(1);
        assert_eq!(
            policy.next_delay(1, START, one_second_later, None, &mut rng),
            None
        );
        let long_after = START + 48 * HOUR;
        assert_eq!(
            policy.next_delay(1, START, long_after, None, &mut rng),
            None
        );
    }

    #[test]
    fn retry_after_lengthens_but_never_shortens_the_delay() {
        let policy = without_jitter();
        let mut rng = StdRng::seed_from_u64(4);
        let asked = 10 * MINUTE;
        assert_eq!(
            policy.next_delay(1, START, START, Some(asked), &mut rng),
            Some(asked)
        );
        // A shorter Retry-After than the backoff does not bring the attempt forward.
        assert_eq!(
            policy.next_delay(5, START, START, Some(Duration::from_secs(7)), &mut rng),
            Some(8 * MINUTE)
        );
    }

    #[test]
    fn retry_after_is_capped_at_the_max_interval() {
        let policy = RetryPolicy::default();
        let mut rng = StdRng::seed_from_u64(5);
        let delay = policy
            .next_delay(1, START, START, Some(30 * HOUR), &mut rng)
            .unwrap();
        assert_eq!(delay, 2 * HOUR);
    }

    #[test]
    fn retry_after_past_the_deadline_gives_up() {
        let policy = RetryPolicy::default();
        let mut rng = StdRng::seed_from_u64(6);
        let late = START + 23 * HOUR;
        assert_eq!(
            policy.next_delay(1, START, late, Some(90 * MINUTE), &mut rng),
            None
        );
    }

    #[test]
    fn clock_skew_before_the_first_attempt_counts_as_no_time_elapsed() {
        let policy = without_jitter();
        let mut rng = StdRng::seed_from_u64(8);
        let before_start = START - HOUR;
        assert_eq!(
            policy.next_delay(1, START, before_start, None, &mut rng),
            Some(Duration::from_secs(30))
        );
    }
}
