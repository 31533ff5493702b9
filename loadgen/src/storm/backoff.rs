//! When a storm's sockets try again: socket.io-client's reconnect backoff,
//! the browser outbox's resend delay, and the randomness for the jitter.

use std::time::Duration;

/// socket.io-client's `randomizationFactor`.
const JITTER: f64 = 0.5;

/// xorshift64*: enough randomness for jitter without a dependency.
pub struct XorShift(u64);

impl XorShift {
    /// Any seed, spread by splitmix64 (never the all-zero state).
    pub fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self(z.max(1))
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The wait before reconnect attempt `attempt` (0-based, reset by every
/// successful connect), exactly as socket.io-client's `Backoff.duration()`
/// (backo2) computes it from `rand` in [0, 1): `base · 2^attempt`, then one
/// draw both moves it by up to ±50 % (its first digit picks the sign) and
/// decides by how much; the cap applies after the jitter, so from the third
/// attempt on (defaults) the delay is `max`.
pub fn reconnect_delay(attempt: u32, base: Duration, max: Duration, rand: f64) -> Duration {
    let ms = base.as_secs_f64() * 1000.0 * 2f64.powi(attempt.min(62) as i32);
    let deviation = (rand * JITTER * ms).floor();
    let ms = if ((rand * 10.0).floor() as u64) & 1 == 0 {
        ms - deviation
    } else {
        ms + deviation
    };
    let max_ms = max.as_secs_f64() * 1000.0;
    Duration::from_millis(ms.clamp(0.0, max_ms) as u64)
}

/// The browser outbox's wait before retrying a send (`retry_delay_ms`).
pub fn send_retry_delay(attempt: u32) -> Duration {
    Duration::from_millis((1_000u64 << attempt.min(4)).min(15_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn backoff_is_socket_io_clients() {
        let (base, max) = (SEC, 5 * SEC);
        // No jitter draw: rand 0 subtracts nothing.
        assert_eq!(reconnect_delay(0, base, max, 0.0), SEC);
        assert_eq!(reconnect_delay(1, base, max, 0.0), 2 * SEC);
        assert_eq!(reconnect_delay(2, base, max, 0.0), 4 * SEC);
        assert_eq!(reconnect_delay(3, base, max, 0.0), 5 * SEC, "capped");
        assert_eq!(reconnect_delay(40, base, max, 0.0), 5 * SEC);
        assert_eq!(reconnect_delay(u32::MAX, base, max, 0.99), 5 * SEC);
        // First digit even: minus; odd: plus (backo2).
        assert_eq!(
            reconnect_delay(0, base, max, 0.2),
            Duration::from_millis(900)
        );
        assert_eq!(
            reconnect_delay(0, base, max, 0.1),
            Duration::from_millis(1050)
        );
        assert_eq!(
            reconnect_delay(1, base, max, 0.9),
            Duration::from_millis(2900)
        );
        // Bounds over many draws: attempt n within base·2^n ± 50 %, ≤ max.
        let mut rng = XorShift::new(7);
        for attempt in 0..6u32 {
            let nominal = 1000.0 * 2f64.powi(attempt as i32);
            let (mut lo, mut hi) = (f64::MAX, 0f64);
            for _ in 0..2000 {
                let d = reconnect_delay(attempt, base, max, rng.next_f64()).as_millis() as f64;
                assert!(
                    d >= (nominal * 0.5).min(5000.0) - 1.0,
                    "attempt {attempt}: {d}"
                );
                assert!(d <= (nominal * 1.5).min(5000.0), "attempt {attempt}: {d}");
                lo = lo.min(d);
                hi = hi.max(d);
            }
            if attempt == 0 {
                // Actually spread over the range.
                assert!(lo < 600.0 && hi > 1400.0, "{lo}..{hi}");
            }
        }
    }

    #[test]
    fn xorshift_is_uniform_enough() {
        let mut rng = XorShift::new(0);
        let draws: Vec<f64> = (0..10_000).map(|_| rng.next_f64()).collect();
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        assert_ne!(XorShift::new(1).next_f64(), XorShift::new(2).next_f64());
    }
}
