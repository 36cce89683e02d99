//! An in-process fake provider, for scale runs and scheduling-policy models: the real
//! [`Walk`] over a real graph, where each resource "takes" its typical duration and a waiter
//! notices readiness on its poll schedule. Runs on tokio's paused clock, so a 15-minute deploy
//! is simulated in milliseconds and every run is deterministic.
//!
//! API: [`simulate`] (makespan, the critical-path bound, calls), [`walk_noop`] (the walker's
//! own cost on a large graph), [`synthetic_plan`] (a plan of N resources for scale runs).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{Direction, Walk};
use crate::graph::Graph;
use crate::waiter::PollPolicy;

/// How the simulated run schedules and waits.
#[derive(Debug, Clone, Copy)]
pub struct SimOptions {
    pub direction: Direction,
    pub parallelism: Option<usize>,
    pub waiter: PollPolicy,
}

/// What a simulated run took.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct SimResult {
    pub makespan_secs: f64,
    /// The longest chain of typical durations: no executor can finish sooner.
    pub bound_secs: f64,
    /// One create (or delete) call per resource.
    pub mutating_calls: u64,
    /// Readiness checks.
    pub polls: u64,
}

impl SimResult {
    pub fn ratio(&self) -> f64 {
        if self.bound_secs > 0.0 { self.makespan_secs / self.bound_secs } else { 1.0 }
    }
}

/// Runs the walker over `graph` with a fake provider whose resources take their typical
/// durations (create or delete, by direction).
pub fn simulate(graph: &Graph, opts: SimOptions) -> SimResult {
    let bound_secs = match opts.direction {
        Direction::Create => graph.critical_path(|n| n.create_secs).1,
        Direction::Delete => graph.critical_delete_path().1,
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build() {
        Ok(rt) => rt,
        Err(e) => panic!("cannot build a tokio runtime for the simulation: {e}"),
    };
    let polls = Arc::new(AtomicU64::new(0));
    let calls = Arc::new(AtomicU64::new(0));
    let makespan = rt.block_on(async {
        let start = tokio::time::Instant::now();
        let mut walk = Walk::new(graph, opts.direction);
        if let Some(n) = opts.parallelism {
            walk = walk.limit(n);
        }
        walk.run(|i| {
            let node = graph.node(i);
            let takes = Duration::from_secs_f64(match opts.direction {
                Direction::Create => node.create_secs,
                Direction::Delete => node.delete_secs,
            });
            let (polls, calls, waiter) = (polls.clone(), calls.clone(), opts.waiter);
            async move {
                calls.fetch_add(1, Ordering::Relaxed);
                let t0 = tokio::time::Instant::now();
                let mut checks = 0;
                loop {
                    let delay = waiter.next_delay(checks, t0.elapsed(), Some(takes));
                    tokio::time::sleep(delay).await;
                    checks += 1;
                    polls.fetch_add(1, Ordering::Relaxed);
                    if t0.elapsed() >= takes {
                        return Ok::<(), ()>(());
                    }
                }
            }
        })
        .await;
        start.elapsed()
    });
    SimResult {
        makespan_secs: makespan.as_secs_f64(),
        bound_secs,
        mutating_calls: calls.load(Ordering::Relaxed),
        polls: polls.load(Ordering::Relaxed),
    }
}

/// Walks `graph` with a provider that does nothing: the cost of scheduling alone.
pub fn walk_noop(graph: &Graph) -> Duration {
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => panic!("cannot build a tokio runtime: {e}"),
    };
    let start = std::time::Instant::now();
    rt.block_on(Walk::new(graph, Direction::Create).run(|_| async { Ok::<(), ()>(()) }));
    start.elapsed()
}

/// A plan of `n` resources (KMS keys, which need no property) where each depends on up to
/// three earlier ones chosen by a fixed pseudo-random sequence: layered like real stacks,
/// the same for the same `n` and `seed`.
pub fn synthetic_plan(n: usize, seed: u64) -> String {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = String::with_capacity(n * 64);
    out.push_str("[plan]\nname = \"synthetic\"\n\n");
    for i in 0..n {
        out.push_str(&format!("[resources.r{i}]\ntype = \"kms:Key\"\n"));
        if i > 0 {
            let deps = (next() % 4) as usize;
            let mut names: Vec<usize> = (0..deps).map(|_| (next() as usize) % i).collect();
            names.sort_unstable();
            names.dedup();
            if !names.is_empty() {
                let list: Vec<String> = names.iter().map(|d| format!("\"r{d}\"")).collect();
                out.push_str(&format!("depends_on = [{}]\n", list.join(", ")));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{self, Options};
    use crate::graph::{GraphBuilder, Node, Reason};
    use crate::plan::Plan;

    fn chain() -> Graph {
        // slow(100) <- after(10) ; quick(5)
        let mut b = GraphBuilder::new();
        let slow = b.node(Node { name: "slow".into(), create_secs: 100.0, delete_secs: 50.0 });
        let after = b.node(Node { name: "after".into(), create_secs: 10.0, delete_secs: 10.0 });
        b.node(Node { name: "quick".into(), create_secs: 5.0, delete_secs: 5.0 });
        b.depends(after, slow, Reason::Explicit);
        b.build().unwrap()
    }

    #[test]
    fn the_adaptive_waiter_finishes_within_one_poll_interval_per_link_of_the_bound() {
        let r = simulate(
            &chain(),
            SimOptions { direction: Direction::Create, parallelism: None, waiter: PollPolicy::default() },
        );
        assert_eq!(r.bound_secs, 110.0);
        // Lag per resource is at most max(5 % of it, 1 s): 5 s for `slow`, 1 s for `after`.
        assert!(r.makespan_secs >= 110.0 && r.makespan_secs <= 116.0, "{r:?}");
        assert_eq!(r.mutating_calls, 3);
    }

    #[test]
    fn fixed_ten_second_polls_and_one_slot_take_longer() {
        let g = chain();
        let fixed =
            SimOptions { direction: Direction::Create, parallelism: Some(1), waiter: PollPolicy::terraform_like() };
        let r = simulate(&g, fixed);
        // One at a time: slow, after, quick, each rounded up to the next 10 s poll.
        assert_eq!(r.makespan_secs, 100.0 + 10.0 + 10.0);
        assert!(r.ratio() > 1.05);
    }

    #[test]
    fn synthetic_plans_pass_every_check_and_walk() {
        let text = synthetic_plan(1000, 1);
        let plan = Plan::parse(std::path::Path::new("synthetic.toml"), &text).unwrap();
        let checked = check::check(plan, &Options::default()).unwrap();
        assert_eq!(checked.graph.len(), 1000);
        assert!(checked.graph.edge_list().len() > 500);
        walk_noop(&checked.graph);
    }
}
