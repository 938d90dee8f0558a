//! When to try a transient failure again: a pure schedule the outbox
//! executor applies, so the wait survives restarts and tests need no clock.

use std::time::Duration;

const FIRST: Duration = Duration::from_secs(1);
const CAP: Duration = Duration::from_secs(600);

/// The wait before retry number `attempt` (0 for the first retry):
/// 1 s, 2 s, 4 s, ... capped at 10 minutes, plus up to half again of
/// jitter drawn from `seed` (the same seed and attempt give the same wait,
/// different seeds spread retries apart), and never less than
/// `retry_after`, the wait GitHub asked for.
pub fn backoff(attempt: u32, retry_after: Option<Duration>, seed: u64) -> Duration {
    let exponential = FIRST
        .checked_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
        .unwrap_or(CAP)
        .min(CAP);
    let fraction = (mix(seed ^ u64::from(attempt)) >> 11) as f64 / (1u64 << 53) as f64;
    let jittered = (exponential + exponential.mul_f64(fraction / 2.0)).min(CAP);
    jittered.max(retry_after.unwrap_or_default())
}

/// splitmix64's finaliser: a well-spread 64-bit value from any seed.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_from_one_second_to_ten_minutes() {
        for seed in [0, 1, 42, u64::MAX] {
            let mut previous = Duration::ZERO;
            for attempt in 0..40 {
                let wait = backoff(attempt, None, seed);
                let base = Duration::from_secs(1u64 << attempt.min(20)).min(CAP);
                assert!(
                    wait >= base && wait <= (base * 3 / 2).min(CAP),
                    "{attempt}: {wait:?}"
                );
                assert!(wait >= previous || wait == CAP, "{attempt}: {wait:?}");
                previous = wait;
            }
            assert_eq!(backoff(u32::MAX, None, seed), CAP);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_wait_and_seeds_spread() {
        assert_eq!(backoff(3, None, 7), backoff(3, None, 7));
        let waits: std::collections::BTreeSet<Duration> =
            (0..20).map(|seed| backoff(3, None, seed)).collect();
        assert!(waits.len() > 10, "{waits:?}");
    }

    #[test]
    fn never_sooner_than_github_asked() {
        let asked = Duration::from_secs(3600);
        assert_eq!(backoff(0, Some(asked), 1), asked);
        assert!(backoff(5, Some(Duration::from_secs(2)), 1) >= Duration::from_secs(32));
    }
}
