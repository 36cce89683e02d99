//! The walker: hands out ready nodes of a sealed [`Graph`] and is told how each went. What a
//! node *means* (create it, delete it, print it) is the caller's `work` function: the walker
//! knows nothing of AWS.
//!
//! API, in order of use:
//! - [`Walk`]: direction (create walks dependencies first, delete walks dependents first), an
//!   optional concurrency bound, nodes to skip, a cancellation flag.
//! - [`Walk::run`]: calls `work` for each node as soon as everything it waits for succeeded,
//!   longest remaining path first, and returns every node's [`Outcome`].
//!
//! **Invariant:** after the first failure (or cancellation) no new node starts; nodes already
//! running finish; `run` returns only when nothing runs (Cargo's job queue: the coordinator
//! loop never returns early).

#[cfg(any(test, feature = "testing"))]
pub mod fake;

use std::collections::BinaryHeap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::task::JoinSet;

use crate::graph::{Graph, NodeId};

/// Which way to walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Dependencies before dependents (deploy).
    Create,
    /// Dependents before dependencies (teardown, rollback).
    Delete,
}

/// How a node ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<E> {
    /// `work` succeeded.
    Done,
    /// `work` failed with this error.
    Failed(E),
    /// Never started: something it waits for failed, or the walk stopped first.
    NotStarted,
    /// Skipped at the caller's request (already done); counts as success for what waits on it.
    Skipped,
}

/// A walk over a graph.
pub struct Walk<'g> {
    graph: &'g Graph,
    direction: Direction,
    limit: usize,
    skip: Vec<bool>,
    cancel: Arc<AtomicBool>,
    notify: Arc<tokio::sync::Notify>,
}

/// Stops a walk from starting new nodes (the first Ctrl-C).
#[derive(Clone, Debug)]
pub struct CancelHandle {
    flag: Arc<AtomicBool>,
    notify: Arc<tokio::sync::Notify>,
}

impl CancelHandle {
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

impl<'g> Walk<'g> {
    pub fn new(graph: &'g Graph, direction: Direction) -> Self {
        Walk {
            graph,
            direction,
            limit: usize::MAX,
            skip: vec![false; graph.len()],
            cancel: Arc::new(AtomicBool::new(false)),
            notify: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// At most `n` nodes run at once (n ≥ 1).
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = n.max(1);
        self
    }

    /// Marks a node as already done: it is not run, and what waits on it may start.
    pub fn skip(mut self, node: NodeId) -> Self {
        self.skip[node.index()] = true;
        self
    }

    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle { flag: self.cancel.clone(), notify: self.notify.clone() }
    }

    /// Runs `work` on every node in order. Returns the outcome of every node, by index.
    pub async fn run<E, F, Fut>(self, work: F) -> Vec<Outcome<E>>
    where
        E: Send + 'static,
        F: Fn(NodeId) -> Fut,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
    {
        let g = self.graph;
        let n = g.len();
        // What each node waits for, in this direction.
        let waits_for = |i: NodeId| -> Vec<NodeId> {
            match self.direction {
                Direction::Create => g.dependencies(i).map(|(d, _)| d).collect(),
                Direction::Delete => g.dependents(i).map(|(d, _)| d).collect(),
            }
        };
        let unblocks = |i: NodeId| -> Vec<NodeId> {
            match self.direction {
                Direction::Create => g.dependents(i).map(|(d, _)| d).collect(),
                Direction::Delete => g.dependencies(i).map(|(d, _)| d).collect(),
            }
        };
        // Longest remaining path first: in the create direction the path runs through
        // dependents; in the delete direction through dependencies.
        let priority: Vec<f64> = match self.direction {
            Direction::Create => g.remaining_path(|node| node.create_secs.max(0.001)),
            Direction::Delete => g.remaining_delete_path(),
        };

        let mut outcomes: Vec<Option<Outcome<E>>> = (0..n).map(|_| None).collect();
        let mut waiting: Vec<usize> = (0..n).map(|i| waits_for(NodeId::new(i)).len()).collect();
        let mut ready = BinaryHeap::new();
        let mut running = JoinSet::new();
        // Which node each task works on, to name the one that panicked.
        let mut tasks = std::collections::HashMap::new();
        let mut stopped = false;

        // Releases a finished node's followers; skipped ones cascade immediately.
        let mut to_release: Vec<NodeId> =
            waiting.iter().enumerate().filter(|(_, w)| **w == 0).map(|(i, _)| NodeId::new(i)).collect();
        loop {
            while let Some(i) = to_release.pop() {
                if self.skip[i.index()] {
                    outcomes[i.index()] = Some(Outcome::Skipped);
                    for f in unblocks(i) {
                        waiting[f.index()] -= 1;
                        if waiting[f.index()] == 0 {
                            to_release.push(f);
                        }
                    }
                } else {
                    ready.push(Ready { priority: priority[i.index()], name: g.name(i).to_string(), node: i });
                }
            }
            if self.cancel.load(Ordering::SeqCst) {
                stopped = true;
            }
            while !stopped && running.len() < self.limit {
                let Some(Ready { node, .. }) = ready.pop() else { break };
                let fut = work(node);
                tasks.insert(running.spawn(async move { (node, fut.await) }).id(), node);
            }
            if running.is_empty() {
                break;
            }
            let joined = tokio::select! {
                j = running.join_next() => j,
                _ = self.notify.notified() => continue,
            };
            let Some(joined) = joined else { break };
            match joined {
                Ok((node, Ok(()))) => {
                    outcomes[node.index()] = Some(Outcome::Done);
                    for f in unblocks(node) {
                        waiting[f.index()] -= 1;
                        if waiting[f.index()] == 0 {
                            to_release.push(f);
                        }
                    }
                }
                Ok((node, Err(e))) => {
                    outcomes[node.index()] = Some(Outcome::Failed(e));
                    stopped = true;
                }
                Err(join_error) => {
                    // A panicking task is a bug; stop starting work and let the others finish.
                    let name = tasks.get(&join_error.id()).map_or("?", |i| g.name(*i));
                    tracing::error!(
                        "the work on `{name}` stopped: {join_error}; nothing new starts and running work finishes \
                         (a bug in ironplan: the state records what exists)"
                    );
                    stopped = true;
                }
            }
        }
        outcomes.into_iter().map(|o| o.unwrap_or(Outcome::NotStarted)).collect()
    }
}

#[derive(Debug)]
struct Ready {
    priority: f64,
    name: String,
    node: NodeId,
}

impl PartialEq for Ready {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Ready {}

impl PartialOrd for Ready {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ready {
    /// Highest priority first; among equals, the smaller name first (stable runs).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.priority.total_cmp(&other.priority).then_with(|| other.name.cmp(&self.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{GraphBuilder, Node, Reason};
    use std::sync::Mutex;
    use std::time::Duration;

    fn graph(nodes: &[(&str, f64)], edges: &[&str]) -> Graph {
        let mut b = GraphBuilder::new();
        for (n, s) in nodes {
            b.node(Node { name: n.to_string(), create_secs: *s, delete_secs: *s });
        }
        for e in edges {
            let (f, t) = e.split_once('>').unwrap();
            let (f, t) = (b.index(f).unwrap(), b.index(t).unwrap());
            b.depends(f, t, Reason::Explicit);
        }
        b.build().unwrap()
    }

    /// Runs a walk where each node sleeps `secs` milliseconds and logs start/end.
    async fn trace(g: &Graph, dir: Direction, limit: usize, fail: &[&str]) -> (Vec<String>, Vec<Outcome<String>>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let walk = Walk::new(g, dir).limit(limit);
        let outcomes = walk
            .run(|i| {
                let name = g.name(i).to_string();
                let ms = g.node(i).create_secs as u64;
                let log = log.clone();
                let fails = fail.contains(&name.as_str());
                async move {
                    log.lock().unwrap().push(format!("+{name}"));
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    log.lock().unwrap().push(format!("-{name}"));
                    if fails { Err(format!("{name} failed")) } else { Ok(()) }
                }
            })
            .await;
        let log = log.lock().unwrap().clone();
        (log, outcomes)
    }

    fn pos(log: &[String], what: &str) -> usize {
        log.iter().position(|l| l == what).unwrap_or_else(|| panic!("{what} not in {log:?}"))
    }

    #[tokio::test]
    async fn a_node_starts_as_soon_as_its_own_dependencies_are_done() {
        // slow(50) ; fast(1) ; after_fast -> fast : after_fast must not wait for slow
        let g = graph(&[("slow", 50.0), ("fast", 1.0), ("after_fast", 1.0)], &["after_fast>fast"]);
        let (log, outcomes) = trace(&g, Direction::Create, 8, &[]).await;
        assert!(pos(&log, "+after_fast") < pos(&log, "-slow"), "{log:?}");
        assert!(pos(&log, "-fast") < pos(&log, "+after_fast"), "{log:?}");
        assert!(outcomes.iter().all(|o| *o == Outcome::Done));
    }

    #[tokio::test]
    async fn delete_walks_dependents_first() {
        // app -> db -> net
        let g = graph(&[("net", 1.0), ("db", 1.0), ("app", 1.0)], &["db>net", "app>db"]);
        let (log, _) = trace(&g, Direction::Delete, 8, &[]).await;
        assert!(pos(&log, "-app") < pos(&log, "+db") && pos(&log, "-db") < pos(&log, "+net"), "{log:?}");
    }

    #[tokio::test]
    async fn after_a_failure_nothing_new_starts_but_running_work_finishes() {
        // bad(1) fails ; long(30) is running meanwhile ; later -> long never starts ; child -> bad
        let g = graph(&[("bad", 1.0), ("long", 30.0), ("later", 1.0), ("child", 1.0)], &["later>long", "child>bad"]);
        let (log, outcomes) = trace(&g, Direction::Create, 8, &["bad"]).await;
        let o = |n: &str| &outcomes[g.index(n).unwrap().index()];
        assert_eq!(*o("bad"), Outcome::Failed("bad failed".into()));
        assert_eq!(*o("long"), Outcome::Done, "running work finishes: {log:?}");
        assert_eq!(*o("later"), Outcome::NotStarted);
        assert_eq!(*o("child"), Outcome::NotStarted);
    }

    #[tokio::test]
    async fn with_one_slot_the_longest_remaining_path_starts_first() {
        // short(1) alone ; a(1) <- b(20): a's remaining path is 21
        let g = graph(&[("short", 1.0), ("a", 1.0), ("b", 20.0)], &["b>a"]);
        let (log, _) = trace(&g, Direction::Create, 1, &[]).await;
        assert_eq!(log[0], "+a", "{log:?}");
    }

    #[tokio::test]
    async fn skipped_nodes_release_their_dependents_without_running() {
        // b -> a, a skipped
        let g = graph(&[("a", 1.0), ("b", 1.0)], &["b>a"]);
        let walk = Walk::new(&g, Direction::Create).skip(g.index("a").unwrap());
        let ran = Arc::new(Mutex::new(Vec::new()));
        let outcomes = walk
            .run(|i| {
                let ran = ran.clone();
                let name = g.name(i).to_string();
                async move {
                    ran.lock().unwrap().push(name);
                    Ok::<(), String>(())
                }
            })
            .await;
        assert_eq!(*ran.lock().unwrap(), ["b"]);
        assert_eq!(outcomes[g.index("a").unwrap().index()], Outcome::Skipped);
    }

    #[tokio::test]
    async fn cancel_stops_new_work() {
        // b -> a ; cancel while a runs
        let g = graph(&[("a", 20.0), ("b", 1.0)], &["b>a"]);
        let walk = Walk::new(&g, Direction::Create);
        let cancel = walk.cancel_handle();
        let outcomes = walk
            .run(|i| {
                let cancel = cancel.clone();
                let first = g.name(i) == "a";
                async move {
                    if first {
                        cancel.cancel();
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Ok::<(), String>(())
                }
            })
            .await;
        assert_eq!(outcomes[g.index("a").unwrap().index()], Outcome::Done);
        assert_eq!(outcomes[g.index("b").unwrap().index()], Outcome::NotStarted);
    }

    /// Collects what a subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_panicking_node_is_logged_by_name_and_stops_new_work() {
        // later -> boom ; long runs meanwhile
        let out = Captured::default();
        let w = out.clone();
        let sub = tracing_subscriber::fmt().with_ansi(false).with_writer(move || w.clone()).finish();
        let _guard = tracing::subscriber::set_default(sub);
        let g = graph(&[("boom", 1.0), ("long", 20.0), ("later", 1.0)], &["later>boom"]);
        let outcomes = Walk::new(&g, Direction::Create)
            .run(|i| {
                let name = g.name(i).to_string();
                async move {
                    assert_ne!(name, "boom", "injected panic");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok::<(), String>(())
                }
            })
            .await;
        assert_eq!(outcomes[g.index("long").unwrap().index()], Outcome::Done, "running work finishes");
        assert_eq!(outcomes[g.index("later").unwrap().index()], Outcome::NotStarted);
        let log = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(
            log.contains("ERROR") && log.contains("the work on `boom` stopped") && log.contains("injected panic"),
            "{log}"
        );
    }
}
