//! The answers shared by the reads of one `drift` (or `--refresh`) run: one call whose answer
//! serves several types' `read_many` (API Gateway's GetResources of an API, with its methods
//! embedded, serves its resources, methods, integrations and their responses) is made once.
//!
//! **Invariant:** a cache lives only as long as the [`Ctx`](super::Ctx) of one read run
//! ([`Ctx::for_reads`](super::Ctx::for_reads), made by `engine::drift`); every other context
//! has none and calls AWS every time, so nothing read here survives into a deploy's decisions.
//! A key names the operation and every argument it was called with. A failed call is the
//! answer of everyone who asked for it (it is not made again in the run), as a failed batch is.
//!
//! The cache also knows what the run reads ([`ReadCache::for_run`]: each resource's type, ID
//! and outputs), so that a call can serve resources of other types before their reads ask:
//! the tags of every tag-batched type in one GetResources (`aws::tagging`), the route tables
//! of both route table types in one DescribeRouteTables.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::{AwsError, Outputs};

type Answer = Arc<dyn Any + Send + Sync>;

/// Calls answered once per key during one read run.
#[derive(Default)]
pub struct ReadCache {
    answers: Mutex<HashMap<String, Arc<OnceCell<Answer>>>>,
    /// What the run reads: type name, physical ID, outputs (empty: not told).
    run: Vec<(String, String, Outputs)>,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.answers.lock().map_or(0, |a| a.len());
        f.debug_struct("ReadCache").field("answers", &n).finish()
    }
}

impl ReadCache {
    /// The cache of a run that reads `run` (type name and item of each resource).
    pub fn for_run(run: &[(&str, super::Item<'_>)]) -> ReadCache {
        let run = run.iter().map(|(t, (id, out))| (t.to_string(), id.to_string(), (*out).clone())).collect();
        ReadCache { answers: Mutex::default(), run }
    }

    /// The ID and outputs of each resource of type `type_name` that the run reads.
    pub fn run_of<'a>(&'a self, type_name: &'a str) -> impl Iterator<Item = (&'a str, &'a Outputs)> + 'a {
        self.run.iter().filter(move |(t, _, _)| t == type_name).map(|(_, id, out)| (id.as_str(), out))
    }

    /// The type name and outputs of every resource the run reads.
    pub fn run(&self) -> impl Iterator<Item = (&str, &Outputs)> {
        self.run.iter().map(|(t, _, out)| (t.as_str(), out))
    }

    /// The answer of `call` for `key`: made by the first to ask (the others wait for it), then
    /// shared. `key` must name the operation and all its arguments.
    pub async fn get<T, F, Fut>(&self, key: String, call: F) -> Result<T, AwsError>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let cell = {
            let mut answers = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            answers.entry(key).or_default().clone()
        };
        let answer = cell.get_or_init(|| async { Arc::new(call().await) as Answer }).await;
        match answer.downcast_ref::<Result<T, AwsError>>() {
            Some(r) => r.clone(),
            // Two callers used one key for answers of different types: a bug, never a guess.
            None => Err(AwsError::malformed("ReadCache", "one answer type per key")),
        }
    }

    /// How many distinct calls were made (tests).
    #[cfg(test)]
    pub fn calls(&self) -> usize {
        self.answers.lock().map_or(0, |a| a.len())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn one_call_per_key_even_when_asked_at_once() {
        let cache = ReadCache::default();
        let calls = AtomicUsize::new(0);
        let call = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok::<_, AwsError>(vec![1, 2])
        };
        let (a, b) = tokio::join!(cache.get("Op a".into(), call), cache.get("Op a".into(), call));
        assert_eq!((a.ok(), b.ok()), (Some(vec![1, 2]), Some(vec![1, 2])));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "asked twice at once, called once");
        let other = cache.get("Op b".into(), call).await;
        assert_eq!(other.ok(), Some(vec![1, 2]));
        assert_eq!(calls.load(Ordering::SeqCst), 2, "another argument is another call");
        assert_eq!(cache.calls(), 2);
    }

    #[tokio::test]
    async fn a_failed_call_is_everyones_answer_and_not_made_again() {
        let cache = ReadCache::default();
        let calls = AtomicUsize::new(0);
        let call = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<u8, _>(AwsError::malformed("Op", "x"))
        };
        assert!(cache.get("Op".into(), call).await.is_err());
        assert!(cache.get("Op".into(), call).await.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let wrong_type = cache.get("Op".into(), || async { Ok::<String, AwsError>("s".into()) }).await;
        assert!(wrong_type.is_err(), "a key read as another type is an error, not a panic");
    }
}
