//! What is retried, and for how long: throttling and 5xx with jittered exponential backoff
//! (bounded tries); AWS's eventual consistency (a new role not yet assumable, interfaces still
//! draining) within a time bound; anything else fails at once.

use std::time::{Duration, Instant};

use super::{Event, Shared};
use crate::aws::{AwsError, ErrorKind};

/// How long eventually-consistent errors are retried (new IAM roles take up to ~10 s to be
/// assumable; network interfaces take minutes to drain after a service or NAT gateway goes).
pub(super) const EVENTUAL_BUDGET: Duration = Duration::from_secs(10 * 60);
/// How long a create sent by a run that died may take to land, before the next run creates
/// the resource again.
pub(super) const ADOPT_GRACE: Duration = Duration::from_secs(3);
/// Throttling and transient errors get this many extra tries on top of the SDK's own.
pub(super) const TRANSIENT_TRIES: u32 = 8;

/// Calls `op` until it succeeds, retrying what can be retried, with jittered exponential backoff.
pub(super) async fn retry<T, F, Fut>(s: &Shared, name: &str, mut op: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AwsError>>,
{
    let start = Instant::now();
    let mut attempt = 0u32;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                attempt += 1;
                let retryable = match e.kind {
                    ErrorKind::Throttling | ErrorKind::Transient => attempt <= TRANSIENT_TRIES,
                    ErrorKind::Eventual => start.elapsed() < EVENTUAL_BUDGET,
                    _ => false,
                };
                if !retryable {
                    return Err(e);
                }
                let base = 0.25 * 2f64.powi(attempt.min(6) as i32);
                let delay = (base * (0.5 + jitter())).min(20.0);
                let _ = s.events.send(Event::Retrying {
                    resource: name.to_string(),
                    operation: e.operation.to_string(),
                    code: e.code.clone(),
                    attempt,
                    delay_secs: (delay * 100.0).round() / 100.0,
                });
                tokio::time::sleep(Duration::from_secs_f64(delay)).await;
            }
        }
    }
}

/// A number in [0, 1) that differs between calls (for backoff jitter; not for secrets).
pub(crate) fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    (h.finish() % 10_000) as f64 / 10_000.0
}
