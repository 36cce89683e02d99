//! When to ask AWS again whether a resource is ready (or gone): pure timing, shared by the real
//! adapters (`aws::poll`) and the in-process policy models (`exec::fake`).
//!
//! ironplan's waiter knows what to expect: each type's typical duration. It asks once at once
//! (a resource that is ready already costs one call), then sleeps until 80 % of the expected
//! duration, then asks every 5 % of it (at least `min`, at most `max`). The lag between
//! "ready" and "noticed" is at most one interval: 5 % of the expected duration, bounded by
//! `min`..`max`; the cost is about 2 + 4 calls when AWS takes as long as usual, one more per
//! interval when it takes longer. Without an expected duration it backs off exponentially.
//!
//! The policy models of other tools use fixed delays (`Fixed`): Terraform's AWS provider waits
//! with a first delay and a minimum poll interval of about 10 s for most long resources.

use std::time::Duration;

/// How delays are chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WaiterModel {
    /// ironplan's: ask at once, then at 80 % of the expected duration, then every 5 % of it.
    Adaptive { min: Duration, max: Duration },
    /// A fixed first delay, then a fixed interval (a policy model of other tools).
    Fixed { first: Duration, interval: Duration },
}

/// A waiter's settings.
#[derive(Clone, Copy, Debug)]
pub struct PollPolicy {
    pub model: WaiterModel,
    /// Multiplies every delay and expected duration (the latency model's time scale; 1 on AWS).
    pub scale: f64,
    /// Backoff without an expected duration: first delay, growth factor, cap.
    pub initial: Duration,
    pub factor: f64,
    pub max: Duration,
    /// Give up after this long (not scaled).
    pub timeout: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            model: WaiterModel::Adaptive { min: Duration::from_secs(1), max: Duration::from_secs(30) },
            scale: 1.0,
            initial: Duration::from_millis(200),
            factor: 1.5,
            max: Duration::from_secs(10),
            timeout: Duration::from_secs(45 * 60),
        }
    }
}

impl PollPolicy {
    /// Terraform-like: the AWS provider's common waiter settings, first delay 10 s, then
    /// every 10 s (a policy model, not a measurement of Terraform).
    pub fn terraform_like() -> Self {
        PollPolicy {
            model: WaiterModel::Fixed { first: Duration::from_secs(10), interval: Duration::from_secs(10) },
            ..PollPolicy::default()
        }
    }

    pub fn with_scale(mut self, scale: f64) -> Self {
        self.scale = scale;
        self
    }

    fn scaled(&self, d: Duration) -> Duration {
        Duration::from_secs_f64(d.as_secs_f64() * self.scale)
    }

    /// The delay before the next check, after `checks` checks made `elapsed` after the call,
    /// for a resource expected to take `expected` (already scaled).
    pub fn next_delay(&self, checks: u32, elapsed: Duration, expected: Option<Duration>) -> Duration {
        match self.model {
            WaiterModel::Fixed { first, interval } => self.scaled(if checks == 0 { first } else { interval }),
            WaiterModel::Adaptive { min, max } => {
                if checks == 0 {
                    return Duration::ZERO;
                }
                let Some(expected) = expected else {
                    let n = checks.saturating_sub(1).min(30) as i32;
                    let d = self.initial.as_secs_f64() * self.factor.powi(n);
                    return self.scaled(Duration::from_secs_f64(d.min(self.max.as_secs_f64())));
                };
                let first = expected.mul_f64(0.8);
                if elapsed < first {
                    return first - elapsed;
                }
                expected.mul_f64(0.05).clamp(self.scaled(min), self.scaled(max))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn adaptive_asks_at_once_then_near_the_expected_end_then_often() {
        let p = PollPolicy::default();
        let aurora = Some(secs(540.0));
        assert_eq!(p.next_delay(0, secs(0.0), aurora), Duration::ZERO);
        assert_eq!(p.next_delay(1, secs(0.1), aurora), secs(432.0 - 0.1));
        assert_eq!(p.next_delay(2, secs(432.0), aurora), secs(27.0));
        // A short resource is polled no faster than `min`.
        assert_eq!(p.next_delay(2, secs(3.0), Some(secs(3.0))), secs(1.0));
        // A very long one no slower than `max`.
        assert_eq!(p.next_delay(2, secs(2000.0), Some(secs(2000.0))), secs(30.0));
    }

    #[test]
    fn the_scale_shrinks_every_delay() {
        let p = PollPolicy::default().with_scale(1.0 / 60.0);
        assert_eq!(p.next_delay(2, secs(7.2), Some(secs(9.0))), secs(0.45));
        let t = PollPolicy::terraform_like().with_scale(0.5);
        assert_eq!(t.next_delay(0, secs(0.0), Some(secs(9.0))), secs(5.0));
    }

    #[test]
    fn without_an_expectation_it_backs_off() {
        let p = PollPolicy::default();
        let d: Vec<Duration> = (1..5).map(|c| p.next_delay(c, secs(0.0), None)).collect();
        assert!(d.windows(2).all(|w| w[0] < w[1]), "{d:?}");
    }
}
