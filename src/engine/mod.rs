//! Deploy, teardown and rollback: the walker ([`crate::exec`]) with a visitor that calls a
//! [`Provider`] (AWS through `crate::aws`, or a fake one in the unit tests) and keeps the state
//! ([`crate::state`]).
//!
//! API, in order of use:
//! - [`Engine::new`]: a checked plan, a provider, the locked state, an event channel.
//! - [`crate::diff::diff`]: what a deploy changes (its refusals are the caller's to check
//!   before any call).
//! - [`Engine::deploy`], [`Engine::teardown`], [`Engine::discover`]: run; progress goes out as
//!   [`Event`]s, the result is a [`RunSummary`].
//! - [`resolve`]: a plan value with every reference substituted.
//!
//! The jobs live apart: `event.rs` (what a run reports), `visit.rs` (what one resource's
//! create, discovery or delete does), `resolve.rs` (references, masking, changes), `retry.rs`
//! (what is retried, for how long).
//!
//! **Invariant:** a resource's intent (resolved names and tags) is in the state before its
//! create call, and its physical ID before ironplan waits for it to be ready, so a teardown or a
//! resumed deploy can always find what exists.

mod drift;
mod event;
#[cfg(test)]
mod fake;
mod resolve;
mod retry;
#[cfg(test)]
mod tests;
mod visit;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;

pub use drift::{DriftReport, Drifted, ResourceDrift, Verdict, compare, covers, drift, refreshed};
pub use event::{Event, ResourceError};
pub use resolve::{Scope, resolve};
pub(crate) use resolve::{redact, resolve_with};
pub(crate) use retry::jitter;

use crate::aws::{self, AwsError, Created, Ctx, Found, Identity, Outputs, Props};
use crate::check::Checked;
use crate::exec::{CancelHandle, Direction, Outcome, Walk};
use crate::graph::{Graph, GraphBuilder, Node as GraphNode, Reason};
use crate::state::{ResourceState, StateError, StateStore, Status};

/// What the engine needs of a cloud: the steps of a resource's life, by type name. AWS is
/// [`Ctx`] (through the registry of `crate::aws`); the unit tests use a fake on tokio's paused
/// clock.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The region and account the run works in (`${aws.region}`, `${aws.account_id}`).
    fn region(&self) -> &str;
    fn account_id(&self) -> &str;
    async fn create(&self, type_name: &str, props: Map<String, Value>) -> Result<Created, AwsError>;
    async fn find(&self, type_name: &str, props: Map<String, Value>, who: &Identity) -> Result<Found, AwsError>;
    /// Waits until it is usable; `expected` is the type's typical duration (scaled).
    async fn ready(
        &self,
        type_name: &str,
        id: &str,
        outputs: &Outputs,
        expected: Duration,
    ) -> Result<Outputs, AwsError>;
    /// Changes `changed` properties in place to their values in `props`; the new outputs.
    async fn update(
        &self,
        type_name: &str,
        id: &str,
        outputs: &Outputs,
        props: Map<String, Value>,
        changed: &[String],
    ) -> Result<Outputs, AwsError>;
    /// The live resource (`None`: gone).
    async fn read(&self, type_name: &str, id: &str, outputs: &Outputs) -> Result<Option<aws::Live>, AwsError>;
    /// How many resources of `type_name` one [`Provider::read_many`] call reads at best.
    fn read_batch(&self, type_name: &str) -> usize;
    /// [`Provider::read`] of each item, in as few calls as the cloud allows: one answer per
    /// item, in order.
    async fn read_many(&self, type_name: &str, items: &[aws::Item<'_>]) -> Vec<aws::Read>;
    /// The provider for one read run (`drift`, refresh) that reads `run` (each resource's type
    /// name and item), whose `read_many` calls may share answers among themselves for as long
    /// as it lives (`aws::reads`); `None`: this one.
    fn for_reads(&self, _run: &[(&str, aws::Item<'_>)]) -> Option<std::sync::Arc<dyn Provider>> {
        None
    }
    async fn delete(&self, type_name: &str, id: &str, outputs: &Outputs) -> Result<(), AwsError>;
    async fn wait_deleted(
        &self,
        type_name: &str,
        id: &str,
        outputs: &Outputs,
        expected: Duration,
    ) -> Result<(), AwsError>;
}

#[async_trait]
impl Provider for Ctx {
    fn region(&self) -> &str {
        &self.region
    }

    fn account_id(&self) -> &str {
        &self.account_id
    }

    // A resource's own steps take a turn of their service's gate first (`aws::limits::Admission`):
    // a wide stack waits here, outside the SDK's timeouts, not on the rate limits inside them.
    async fn create(&self, type_name: &str, props: Map<String, Value>) -> Result<Created, AwsError> {
        let _turn = self.admission.enter(type_name).await;
        aws::create(self, type_name, &mut Props::new(props)).await
    }

    async fn find(&self, type_name: &str, props: Map<String, Value>, who: &Identity) -> Result<Found, AwsError> {
        let _turn = self.admission.enter(type_name).await;
        aws::adopt(self, type_name, &mut Props::new(props), who).await
    }

    async fn ready(
        &self,
        type_name: &str,
        id: &str,
        outputs: &Outputs,
        expected: Duration,
    ) -> Result<Outputs, AwsError> {
        aws::expecting(expected, aws::wait_ready(self, type_name, id, outputs)).await
    }

    async fn update(
        &self,
        type_name: &str,
        id: &str,
        outputs: &Outputs,
        props: Map<String, Value>,
        changed: &[String],
    ) -> Result<Outputs, AwsError> {
        let _turn = self.admission.enter(type_name).await;
        aws::update(self, type_name, id, outputs, &mut Props::new(props), changed).await
    }

    async fn read(&self, type_name: &str, id: &str, outputs: &Outputs) -> Result<Option<aws::Live>, AwsError> {
        aws::read(self, type_name, id, outputs).await
    }

    fn read_batch(&self, type_name: &str) -> usize {
        aws::read_batch(type_name)
    }

    async fn read_many(&self, type_name: &str, items: &[aws::Item<'_>]) -> Vec<aws::Read> {
        aws::read_many(self, type_name, items).await
    }

    fn for_reads(&self, run: &[(&str, aws::Item<'_>)]) -> Option<std::sync::Arc<dyn Provider>> {
        Some(std::sync::Arc::new(Ctx::for_reads_of(self, run)))
    }

    async fn delete(&self, type_name: &str, id: &str, outputs: &Outputs) -> Result<(), AwsError> {
        let _turn = self.admission.enter(type_name).await;
        aws::delete(self, type_name, id, outputs).await
    }

    async fn wait_deleted(
        &self,
        type_name: &str,
        id: &str,
        outputs: &Outputs,
        expected: Duration,
    ) -> Result<(), AwsError> {
        aws::expecting(expected, aws::wait_deleted(self, type_name, id, outputs)).await
    }
}

/// What to do with what this run created when a create fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// Delete, in reverse order, exactly what this run created.
    Rollback,
    /// Leave it; the next deploy resumes.
    Keep,
}

/// The result of a deploy or teardown.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSummary {
    pub created: Vec<String>,
    /// Deleted and created again (a property AWS cannot change in place changed).
    pub replaced: Vec<String>,
    /// Changed in place.
    pub updated: Vec<String>,
    pub existing: Vec<String>,
    pub deleted: Vec<String>,
    pub failed: Vec<ResourceError>,
    pub not_started: Vec<String>,
    /// Deleted again by the rollback after a failure.
    pub rolled_back: Vec<String>,
    /// Updated by this run, then put back to their old values by the rollback.
    pub restored: Vec<String>,
    /// Left in place after a failure (`--on-failure keep`, or a failed rollback).
    pub kept: Vec<String>,
    pub interrupted: bool,
    /// Why deploy would not make this change (a resource that holds data replaced or deleted
    /// without being named, an update ironplan cannot make): nothing was called.
    pub refused: Vec<crate::diff::Refusal>,
    pub outputs: BTreeMap<String, Value>,
    pub elapsed_secs: f64,
}

impl RunSummary {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && !self.interrupted && self.not_started.is_empty() && self.refused.is_empty()
    }
}

/// What `teardown --discover` found in AWS.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Discovery {
    /// Plan resources found and proven this stack's: now in the state.
    pub found: Vec<String>,
    /// Plan resources whose name or keys are taken by something that is not this stack's.
    pub not_ours: Vec<String>,
}

/// How a run schedules: how many resources at once, and the time scale of the latency model
/// (1 on AWS; the emulator's latency model runs durations scaled by it).
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    pub parallelism: Option<usize>,
    pub time_scale: f64,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { parallelism: None, time_scale: 1.0 }
    }
}

/// The resources holding data that a deploy may replace or delete (`--allow-replace`,
/// `--allow-delete`): any other such change is refused before any call.
#[derive(Debug, Clone, Default)]
pub struct Allowed {
    pub replace: BTreeSet<String>,
    pub delete: BTreeSet<String>,
}

/// One update this run made, for its rollback.
#[derive(Debug, Clone)]
struct Updated {
    name: String,
    changed: Vec<String>,
    old: Map<String, Value>,
}

struct Shared {
    opts: RunOptions,
    cloud: Box<dyn Provider>,
    checked: Arc<Checked>,
    store: Mutex<StateStore>,
    events: UnboundedSender<Event>,
    run_id: String,
    /// Plan resources found in AWS but not this stack's (reported, never touched).
    not_ours: Mutex<Vec<String>>,
    /// Resources this run started to update, with the properties it changes and their old
    /// values (sensitive ones as digests), in order.
    updated: Mutex<Vec<Updated>>,
    /// Resources the walk visited and found already as the plan says.
    untouched: Mutex<Vec<String>>,
    allowed: Mutex<Allowed>,
}

/// Runs deploys and teardowns of one stack.
pub struct Engine {
    shared: Arc<Shared>,
    stopper: Stopper,
}

/// Stops a running deploy or teardown from starting new work (the first Ctrl-C).
#[derive(Clone, Default)]
pub struct Stopper {
    walk: Arc<Mutex<Option<CancelHandle>>>,
    stopped: Arc<std::sync::atomic::AtomicBool>,
    keep: Arc<std::sync::atomic::AtomicBool>,
}

impl Stopper {
    /// Stops new work and keeps what this run made, whatever the failure policy: for a run
    /// that lost its state lock's lease (a rollback would be new work without the lock).
    pub fn stop_and_keep(&self) {
        self.keep.store(true, std::sync::atomic::Ordering::SeqCst);
        self.stop();
    }

    fn keeps(&self) -> bool {
        self.keep.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn stop(&self) {
        self.stopped.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(h) = lock(&self.walk).as_ref() {
            h.cancel();
        }
    }

    pub fn stopped(&self) -> bool {
        self.stopped.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Hands the stopper the walk now running; stops it at once if a stop came first.
    fn attach(&self, handle: CancelHandle) {
        *lock(&self.walk) = Some(handle.clone());
        if self.stopped() {
            handle.cancel();
        }
    }
}

/// The Ctrl-C policy: the first `signal` stops new work (running calls finish, then the
/// failure policy applies) and calls `first`; the second calls `second` (the CLI exits at
/// once: every state write is atomic, so the state still matches what exists).
pub async fn on_interrupts<F, Fut>(mut signal: F, stopper: Stopper, first: impl FnOnce(), second: impl FnOnce())
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    if signal().await {
        stopper.stop();
        first();
        if signal().await {
            second();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock means a panic elsewhere; the data (state on disk) is still consistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Engine {
    pub fn new(
        cloud: impl Provider,
        checked: Checked,
        store: StateStore,
        events: UnboundedSender<Event>,
        opts: RunOptions,
    ) -> Engine {
        let run_id = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis())
        );
        Engine {
            shared: Arc::new(Shared {
                opts,
                cloud: Box::new(cloud),
                checked: Arc::new(checked),
                store: Mutex::new(store),
                events,
                run_id,
                not_ours: Mutex::new(Vec::new()),
                updated: Mutex::new(Vec::new()),
                untouched: Mutex::new(Vec::new()),
                allowed: Mutex::new(Allowed::default()),
            }),
            stopper: Stopper::default(),
        }
    }

    /// The data resources [`Engine::deploy`] may replace or delete; none unless given here.
    pub fn allowing(self, allowed: Allowed) -> Engine {
        *lock(&self.shared.allowed) = allowed;
        self
    }

    /// A handle that stops the run from starting new work.
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Creates what is missing, updates, replaces and deletes what changed; refuses, before
    /// any call, a change [`crate::diff::Diff::refusals`] names (see [`Engine::allowing`]).
    /// On failure applies `on_failure`.
    pub async fn deploy(&self, on_failure: OnFailure) -> Result<RunSummary, StateError> {
        let stopper = &self.stopper;
        let started = Instant::now();
        let s = self.shared.clone();
        // What changes, from the plan and the state: no AWS call.
        let change = crate::diff::diff(&s.checked, lock(&s.store).state());
        let refused = {
            let allowed = lock(&s.allowed);
            change.refusals(&allowed.replace, &allowed.delete)
        };
        if !refused.is_empty() {
            return Ok(RunSummary { refused, ..Default::default() });
        }
        {
            let mut store = lock(&s.store);
            let (region, account) = (s.cloud.region().to_string(), s.cloud.account_id().to_string());
            store.update(|st| {
                st.region = region;
                st.account_id = account;
            })?;
        }
        let g = &s.checked.graph;
        let mut walk = limited(Walk::new(g, Direction::Create), s.opts);
        let mut existing = Vec::new();
        let replaced: Vec<String>;
        let retired: Vec<(String, String)>;
        {
            let store = lock(&s.store);
            // What changes is visited (updated in place, in dependency order); the rest is skipped.
            replaced = change
                .resources
                .iter()
                .filter(|r| r.action == crate::diff::Action::Replace && !r.create_before_delete)
                .map(|r| r.name.clone())
                .collect();
            retired = change
                .resources
                .iter()
                .filter(|r| r.action == crate::diff::Action::Replace && r.create_before_delete)
                .map(|r| (r.name.clone(), format!("{}~{}", r.name, s.run_id)))
                .collect();
            for &i in g.topo_order() {
                let name = g.name(i);
                let unchanged = change.get(name).is_some_and(|c| c.action == crate::diff::Action::Unchanged);
                if let Some(r) = store.state().resources.get(name).filter(|r| r.status == Status::Ready && unchanged) {
                    walk = walk.skip(i);
                    existing.push(name.to_string());
                    let _ = s.events.send(Event::Exists {
                        resource: name.to_string(),
                        type_name: r.type_name.clone(),
                        id: r.id.clone(),
                    });
                }
            }
        }
        // A replacement that can exist beside the old one: the old entry moves aside (deleted
        // with what left the plan, once everything else is done), the walk creates the new one.
        for (name, aside) in &retired {
            lock(&s.store).rename(name, aside)?;
        }
        // A replacement deletes the old resource first (dependents first), then the walk
        // creates the new one: most types' physical names are fixed, so both cannot exist at
        // once. What the deletion could not finish stops the deploy before anything is created.
        if !replaced.is_empty() {
            let old = self.delete_walk(|n, _| replaced.iter().any(|r| r == n), true).await;
            if !old.failed.is_empty() || !old.not_started.is_empty() || stopper.stopped() {
                let mut summary = RunSummary { existing, ..old };
                summary.interrupted = stopper.stopped();
                summary.elapsed_secs = started.elapsed().as_secs_f64();
                return Ok(summary);
            }
        }
        stopper.attach(walk.cancel_handle());
        let outcomes = walk
            .run(|i| {
                let s = s.clone();
                let name = s.checked.graph.name(i).to_string();
                async move { visit::create_one(&s, &name).await }
            })
            .await;
        let mut summary = RunSummary { existing, ..Default::default() };
        collect(g, outcomes, &mut summary, |sum, n| sum.created.push(n));
        let replacing = |n: &String| replaced.contains(n) || retired.iter().any(|(r, _)| r == n);
        summary.replaced = summary.created.iter().filter(|n| replacing(n)).cloned().collect();
        summary.created.retain(|n| !replacing(n));
        let updated: Vec<String> = lock(&s.updated).iter().map(|u| u.name.clone()).collect();
        let untouched = lock(&s.untouched).clone();
        summary.created.retain(|n| !updated.contains(n) && !untouched.contains(n));
        summary.updated = updated.into_iter().filter(|n| !summary.failed.iter().any(|f| &f.resource == n)).collect();
        summary.existing.extend(untouched);
        summary.interrupted = stopper.stopped();

        if summary.failed.is_empty() && !summary.interrupted {
            // What the state has and the plan no longer declares goes last, dependents first,
            // once everything else is as the plan says.
            let plan = s.checked.clone();
            let removed = self.delete_walk(|n, _| plan.plan.resource(n).is_none(), true).await;
            // The old versions of what was replaced are part of the replacement, not deletions.
            summary.deleted = removed.deleted.into_iter().filter(|n| !retired.iter().any(|(_, a)| a == n)).collect();
            summary.failed.extend(removed.failed);
            summary.not_started.extend(removed.not_started);
            summary.interrupted = stopper.stopped();
        }
        if summary.failed.is_empty() && !summary.interrupted {
            summary.outputs = resolve::resolve_outputs(&s)?;
            let outs = summary.outputs.clone();
            lock(&s.store).update(|st| st.outputs = outs)?;
        } else {
            let ours: Vec<String> = {
                let store = lock(&s.store);
                store.state().resources.iter().filter(|(_, r)| r.run_id == s.run_id).map(|(n, _)| n.clone()).collect()
            };
            let on_failure = if stopper.keeps() { OnFailure::Keep } else { on_failure };
            match on_failure {
                OnFailure::Keep => summary.kept = ours,
                OnFailure::Rollback => {
                    // The rollback itself must run even though the deploy was stopped.
                    let rb =
                        self.delete_walk(|n, r| r.run_id == s.run_id && ours.contains(&n.to_string()), false).await;
                    summary.rolled_back = rb.deleted;
                    summary.kept = ours.into_iter().filter(|n| !summary.rolled_back.contains(n)).collect();
                    summary.failed.extend(rb.failed);
                    // A replaced resource kept aside is the resource again if its successor is gone.
                    for (name, aside) in &retired {
                        let mut store = lock(&s.store);
                        if !store.state().resources.contains_key(name) {
                            store.rename(aside, name)?;
                        }
                    }
                    // Then the updates, last first: their old values back.
                    let updates: Vec<Updated> = lock(&s.updated).iter().rev().cloned().collect();
                    for u in updates {
                        match visit::restore_one(&s, &u).await {
                            Ok(true) => summary.restored.push(u.name),
                            Ok(false) => summary.kept.push(u.name),
                            Err(e) => {
                                summary.kept.push(u.name);
                                summary.failed.push(e);
                            }
                        }
                    }
                }
            }
        }
        summary.elapsed_secs = started.elapsed().as_secs_f64();
        Ok(summary)
    }

    /// Rebuilds the state from AWS when it was lost: walks the plan dependencies first and asks
    /// each adapter to find the resource by its name, parent keys or the stack's identity tags,
    /// resolving references against what was found so far. Only what is proven this stack's
    /// is recorded (see `aws::identity`); what exists but is not is reported and left alone.
    pub async fn discover(&self) -> Discovery {
        let s = self.shared.clone();
        let g = &s.checked.graph;
        let walk = limited(Walk::new(g, Direction::Create), s.opts);
        self.stopper.attach(walk.cancel_handle());
        let outcomes = walk
            .run(|i| {
                let s = s.clone();
                let name = s.checked.graph.name(i).to_string();
                async move { visit::discover_one(&s, &name).await }
            })
            .await;
        let found = g
            .topo_order()
            .iter()
            .filter(|i| matches!(outcomes[i.index()], Outcome::Done))
            .map(|i| g.name(*i).to_string())
            .filter(|n| lock(&s.store).state().resources.contains_key(n))
            .collect();
        Discovery { found, not_ours: lock(&s.not_ours).clone() }
    }

    /// Deletes everything the state records, dependents first.
    pub async fn teardown(&self) -> Result<RunSummary, StateError> {
        let started = Instant::now();
        let mut summary = self.delete_walk(|_, _| true, true).await;
        summary.interrupted = self.stopper.stopped();
        let empty = lock(&self.shared.store).state().resources.is_empty();
        if empty {
            lock(&self.shared.store).update(|st| st.outputs.clear())?;
        }
        summary.elapsed_secs = started.elapsed().as_secs_f64();
        Ok(summary)
    }

    /// Deletes the state's resources that `keep` selects, in reverse dependency order, using the
    /// dependencies recorded in the state (the plan may have changed or be gone).
    async fn delete_walk(&self, keep: impl Fn(&str, &ResourceState) -> bool, stoppable: bool) -> RunSummary {
        let s = self.shared.clone();
        let g = {
            let store = lock(&s.store);
            state_graph(store.state(), &keep)
        };
        let walk = limited(Walk::new(&g, Direction::Delete), s.opts);
        if stoppable {
            self.stopper.attach(walk.cancel_handle());
        }
        let outcomes = walk
            .run(|i| {
                let s = s.clone();
                let name = g.name(i).to_string();
                async move { visit::delete_one(&s, &name).await }
            })
            .await;
        let mut summary = RunSummary::default();
        collect(&g, outcomes, &mut summary, |sum, n| sum.deleted.push(n));
        summary
    }
}

fn limited(walk: Walk<'_>, opts: RunOptions) -> Walk<'_> {
    match opts.parallelism {
        Some(n) => walk.limit(n),
        None => walk,
    }
}

fn collect(
    g: &Graph,
    outcomes: Vec<Outcome<ResourceError>>,
    summary: &mut RunSummary,
    done: impl Fn(&mut RunSummary, String),
) {
    for &i in g.topo_order() {
        let name = g.name(i).to_string();
        match &outcomes[i.index()] {
            Outcome::Done => done(summary, name),
            Outcome::Failed(e) => summary.failed.push(e.clone()),
            Outcome::NotStarted => summary.not_started.push(name),
            Outcome::Skipped => {}
        }
    }
}

/// The graph of what the state holds, from the dependencies it recorded.
fn state_graph(state: &crate::state::State, keep: &impl Fn(&str, &ResourceState) -> bool) -> Graph {
    let mut b = GraphBuilder::new();
    let kept: BTreeMap<&String, &ResourceState> = state.resources.iter().filter(|(n, r)| keep(n, r)).collect();
    for (name, r) in &kept {
        b.node(GraphNode { name: (*name).clone(), create_secs: 0.0, delete_secs: r.delete_secs });
    }
    for (name, r) in &kept {
        for d in &r.depends_on {
            if let (Some(f), Some(t)) = (b.index(name), b.index(d)) {
                b.depends(f, t, Reason::Explicit);
            }
        }
    }
    // The state was written from an acyclic plan; a hand-edited cycle degrades to no order.
    b.build().unwrap_or_else(|_| {
        let mut b = GraphBuilder::new();
        for (name, r) in &kept {
            b.node(GraphNode { name: (*name).clone(), create_secs: 0.0, delete_secs: r.delete_secs });
        }
        b.build().unwrap_or_else(|_| unreachable!("a graph without edges has no cycle"))
    })
}
