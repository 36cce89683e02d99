//! Deploy, teardown and rollback: the walker ([`crate::exec`]) with a visitor that calls the
//! adapters ([`crate::aws`]) and keeps the state ([`crate::state`]).
//!
//! API, in order of use:
//! - [`Engine::new`]: a checked plan, AWS clients, the locked state, an event channel.
//! - [`Engine::changes`]: plan properties that differ from what was created (refused before any call).
//! - [`Engine::deploy`], [`Engine::teardown`]: run; progress goes out as [`Event`]s, the result
//!   is a [`RunSummary`].
//! - [`resolve`]: a plan value with every reference substituted.
//!
//! **Invariant:** a resource's physical ID is in the state before ironplan waits for it to be
//! ready, so a teardown can always find what exists.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;

use crate::aws::{self, AwsError, Ctx, ErrorKind, Found, Identity, Outputs, Props};
use crate::check::Checked;
use crate::exec::{CancelHandle, Direction, Outcome, Walk};
use crate::graph::{Graph, GraphBuilder, Node as GraphNode, Reason};
use crate::plan::{Node, NodeKind, Part, Ref};
use crate::schema::{self, MANAGED_BY_TAG, RESOURCE_TAG, STACK_TAG};
use crate::state::{ResourceState, StateError, StateStore, Status};

/// Progress of a run, one per step of one resource. Serialized as one JSON object per line
/// with `--output json` (a documented, stable schema: the `event` field names the variant).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The create call is being made.
    Started {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
    },
    /// AWS accepted it; its ID is in the state; now waiting until it is usable.
    Created {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        id: String,
    },
    /// Usable.
    Ready {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        id: String,
        elapsed_secs: f64,
    },
    /// Found in AWS, proven to be this stack's (after an earlier run died between the create
    /// call and the state write, or by `teardown --discover`): adopted instead of created again.
    Adopted {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        id: String,
        /// How it is known to be this stack's (its identity tags, or its parent's).
        proof: String,
    },
    /// Found in AWS where the plan resource would be (same name or keys), but not provably this
    /// stack's: never adopted, changed or deleted.
    NotOurs {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        id: String,
        why: String,
    },
    /// Already in the state from an earlier run: nothing to do.
    Exists {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        id: String,
    },
    /// A call failed in a way that is retried.
    Retrying { resource: String, operation: String, code: String, attempt: u32, delay_secs: f64 },
    /// Failed for good.
    Failed {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        operation: String,
        code: String,
        message: String,
        hint: Option<String>,
    },
    /// Deletion started.
    Deleting {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        id: String,
    },
    /// Gone, and removed from the state.
    Deleted {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        elapsed_secs: f64,
    },
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

/// A failure of one resource, with everything the user needs to act on it.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{resource} ({type_name}): {operation} failed: {code}: {message}")]
pub struct ResourceError {
    pub resource: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub operation: String,
    pub code: String,
    pub message: String,
    pub hint: Option<String>,
}

/// The result of a deploy or teardown.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSummary {
    pub created: Vec<String>,
    pub existing: Vec<String>,
    pub deleted: Vec<String>,
    pub failed: Vec<ResourceError>,
    pub not_started: Vec<String>,
    /// Deleted again by the rollback after a failure.
    pub rolled_back: Vec<String>,
    /// Left in place after a failure (`--on-failure keep`, or a failed rollback).
    pub kept: Vec<String>,
    pub interrupted: bool,
    pub outputs: BTreeMap<String, Value>,
    pub elapsed_secs: f64,
}

impl RunSummary {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && !self.interrupted && self.not_started.is_empty()
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

/// A property change between the state and the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub resource: String,
    pub property: String,
    pub old: Value,
    pub new: Value,
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

struct Shared {
    opts: RunOptions,
    ctx: Ctx,
    checked: Arc<Checked>,
    store: Mutex<StateStore>,
    events: UnboundedSender<Event>,
    run_id: String,
    /// Plan resources found in AWS but not this stack's (reported, never touched).
    not_ours: Mutex<Vec<String>>,
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
}

impl Stopper {
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

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock means a panic elsewhere; the data (state on disk) is still consistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Engine {
    pub fn new(
        ctx: Ctx,
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
                ctx,
                checked: Arc::new(checked),
                store: Mutex::new(store),
                events,
                run_id,
                not_ours: Mutex::new(Vec::new()),
            }),
            stopper: Stopper::default(),
        }
    }

    /// A handle that stops the run from starting new work.
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Resources in the state that the plan no longer declares.
    pub fn orphans(&self) -> Vec<String> {
        let store = lock(&self.shared.store);
        store.state().resources.keys().filter(|n| self.shared.checked.plan.resource(n).is_none()).cloned().collect()
    }

    /// Creates what is missing. On failure applies `on_failure`.
    pub async fn deploy(&self, on_failure: OnFailure) -> Result<RunSummary, StateError> {
        let stopper = &self.stopper;
        let started = Instant::now();
        let s = self.shared.clone();
        {
            let mut store = lock(&s.store);
            let (region, account) = (s.ctx.region.clone(), s.ctx.account_id.clone());
            store.update(|st| {
                st.region = region;
                st.account_id = account;
            })?;
        }
        let g = &s.checked.graph;
        let mut walk = limited(Walk::new(g, Direction::Create), s.opts);
        let mut existing = Vec::new();
        {
            let store = lock(&s.store);
            for &i in g.topo_order() {
                let name = g.name(i);
                if let Some(r) = store.state().resources.get(name).filter(|r| r.status == Status::Ready) {
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
        stopper.attach(walk.cancel_handle());
        let outcomes = walk
            .run(|i| {
                let s = s.clone();
                let name = s.checked.graph.name(i).to_string();
                async move { create_one(&s, &name).await }
            })
            .await;
        let mut summary = RunSummary { existing, ..Default::default() };
        collect(g, outcomes, &mut summary, |sum, n| sum.created.push(n));
        summary.interrupted = stopper.stopped();

        if summary.failed.is_empty() && !summary.interrupted {
            summary.outputs = resolve_outputs(&s)?;
            let outs = summary.outputs.clone();
            lock(&s.store).update(|st| st.outputs = outs)?;
        } else {
            let ours: Vec<String> = {
                let store = lock(&s.store);
                store.state().resources.iter().filter(|(_, r)| r.run_id == s.run_id).map(|(n, _)| n.clone()).collect()
            };
            match on_failure {
                OnFailure::Keep => summary.kept = ours,
                OnFailure::Rollback => {
                    // The rollback itself must run even though the deploy was stopped.
                    let rb =
                        self.delete_walk(|n, r| r.run_id == s.run_id && ours.contains(&n.to_string()), false).await;
                    summary.rolled_back = rb.deleted;
                    summary.kept = ours.into_iter().filter(|n| !summary.rolled_back.contains(n)).collect();
                    summary.failed.extend(rb.failed);
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
                async move { discover_one(&s, &name).await }
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
                async move { delete_one(&s, &name).await }
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

/// A type's typical duration on the run's time scale, for the waiter.
fn expected(s: &Shared, secs: f64) -> Duration {
    Duration::from_secs_f64((secs * s.opts.time_scale).max(0.0))
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

fn resource_error(name: &str, type_name: &str, e: AwsError) -> ResourceError {
    ResourceError {
        resource: name.to_string(),
        type_name: type_name.to_string(),
        operation: e.operation.to_string(),
        code: e.code,
        message: e.message,
        hint: e.hint,
    }
}

fn fail(s: &Shared, name: &str, type_name: &str, e: AwsError) -> ResourceError {
    let err = resource_error(name, type_name, e);
    let _ = s.events.send(Event::Failed {
        resource: err.resource.clone(),
        type_name: err.type_name.clone(),
        operation: err.operation.clone(),
        code: err.code.clone(),
        message: err.message.clone(),
        hint: err.hint.clone(),
    });
    err
}

/// Reports a resource that exists where the plan's would be but is not this stack's.
fn not_ours(s: &Shared, name: &str, type_name: &str, id: &str, why: &str) {
    lock(&s.not_ours).push(name.to_string());
    let _ = s.events.send(Event::NotOurs {
        resource: name.into(),
        type_name: type_name.into(),
        id: id.into(),
        why: why.into(),
    });
}

fn state_err(name: &str, type_name: &str, e: StateError) -> ResourceError {
    ResourceError {
        resource: name.to_string(),
        type_name: type_name.to_string(),
        operation: "WriteState".into(),
        code: "StateError".into(),
        message: e.to_string(),
        hint: Some(e.hint()),
    }
}

/// How long eventually-consistent errors are retried (new IAM roles take up to ~10 s to be
/// assumable; network interfaces take minutes to drain after a service or NAT gateway goes).
const EVENTUAL_BUDGET: Duration = Duration::from_secs(10 * 60);
/// How long a create sent by a run that died may take to land, before the next run creates
/// the resource again.
const ADOPT_GRACE: Duration = Duration::from_secs(3);
/// Throttling and transient errors get this many extra tries on top of the SDK's own.
const TRANSIENT_TRIES: u32 = 8;

/// Calls `op` until it succeeds, retrying what can be retried, with jittered exponential backoff.
async fn retry<T, F, Fut>(s: &Shared, name: &str, mut op: F) -> Result<T, AwsError>
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
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    (h.finish() % 10_000) as f64 / 10_000.0
}

async fn create_one(s: &Arc<Shared>, name: &str) -> Result<(), ResourceError> {
    let t0 = Instant::now();
    let Some(t) = s.checked.type_of(name) else {
        return Err(ResourceError {
            resource: name.into(),
            type_name: String::new(),
            operation: "Plan".into(),
            code: "UnknownType".into(),
            message: "no type".into(),
            hint: None,
        });
    };
    let res = s
        .checked
        .plan
        .resource(name)
        .ok_or_else(|| resource_error(name, t.name, AwsError::input("Plan", "resource vanished")))?;
    let deps: Vec<String> = {
        let g = &s.checked.graph;
        g.index(name).map(|i| g.dependencies(i).map(|(d, _)| g.name(d).to_string()).collect()).unwrap_or_default()
    };
    // A run that died after the create call left the ID: wait for it rather than create again.
    let prior = lock(&s.store).state().resources.get(name).cloned();
    let props = {
        let store = lock(&s.store);
        resolved_props(s, res, store.state()).map_err(|e| fail(s, name, t.name, AwsError::input("Resolve", e)))?
    };
    let record = |status, id: String, outputs: Outputs| ResourceState {
        type_name: t.name.to_string(),
        status,
        id,
        outputs,
        props: redact(Some(t), &s.checked.stack(), props.clone()),
        depends_on: deps.clone(),
        delete_secs: f64::from(t.delete_secs),
        run_id: s.run_id.clone(),
    };
    let (id, outputs) = match prior {
        Some(p) if p.status == Status::Created => (p.id, p.outputs),
        prior => {
            // A run that died after recording its intent may have created it: adopt, don't duplicate.
            let who = Identity::new(s.checked.stack(), name);
            let adopted = if prior.is_some_and(|p| p.status == Status::Creating) {
                let find = || {
                    retry(s, name, || {
                        let mut p = Props::new(props.clone());
                        let who = &who;
                        async move { aws::adopt(&s.ctx, t.name, &mut p, who).await }
                    })
                };
                match find().await.map_err(|e| fail(s, name, t.name, e))? {
                    Found::Nothing => {
                        // The dead run's create call may still be landing: look once more
                        // before creating, or the two would make a duplicate.
                        tokio::time::sleep(ADOPT_GRACE).await;
                        find().await.map_err(|e| fail(s, name, t.name, e))?
                    }
                    found => found,
                }
            } else {
                Found::Nothing
            };
            let created = match adopted {
                Found::Ours { created: c, proof } => {
                    let _ = s.events.send(Event::Adopted {
                        resource: name.into(),
                        type_name: t.name.into(),
                        id: c.id.clone(),
                        proof,
                    });
                    c
                }
                Found::NotOurs { id, why } => {
                    // What is there is not what the dead run made: its create never landed.
                    let _ = lock(&s.store).remove(name);
                    let what = format!("{} `{id}`", t.name);
                    return Err(fail(s, name, t.name, AwsError::not_ours("FindExisting", &what, &why)));
                }
                Found::Nothing => {
                    let _ = s.events.send(Event::Started { resource: name.into(), type_name: t.name.into() });
                    // The intent, with the names and tags the create will use, goes first.
                    lock(&s.store)
                        .record(name, record(Status::Creating, String::new(), Outputs::new()))
                        .map_err(|e| state_err(name, t.name, e))?;
                    let created = retry(s, name, || {
                        let mut p = Props::new(props.clone());
                        async move { aws::create(&s.ctx, t.name, &mut p).await }
                    })
                    .await;
                    match created {
                        Ok(c) => c,
                        Err(e) => {
                            // Nothing was created: forget the intent.
                            let _ = lock(&s.store).remove(name);
                            return Err(fail(s, name, t.name, e));
                        }
                    }
                }
            };
            lock(&s.store)
                .record(name, record(Status::Created, created.id.clone(), created.outputs.clone()))
                .map_err(|e| state_err(name, t.name, e))?;
            let _ = s.events.send(Event::Created {
                resource: name.into(),
                type_name: t.name.into(),
                id: created.id.clone(),
            });
            (created.id, created.outputs)
        }
    };
    let exp = expected(s, f64::from(t.create_secs));
    let ready = retry(s, name, || aws::expecting(exp, aws::wait_ready(&s.ctx, t.name, &id, &outputs)))
        .await
        .map_err(|e| fail(s, name, t.name, e))?;
    {
        let mut store = lock(&s.store);
        let mut rec = store.state().resources.get(name).cloned().ok_or_else(|| {
            state_err(
                name,
                t.name,
                StateError::Corrupt { path: store.path().to_owned(), reason: format!("`{name}` vanished") },
            )
        })?;
        rec.status = Status::Ready;
        rec.outputs = ready;
        store.record(name, rec).map_err(|e| state_err(name, t.name, e))?;
    }
    let _ = s.events.send(Event::Ready {
        resource: name.into(),
        type_name: t.name.into(),
        id,
        elapsed_secs: t0.elapsed().as_secs_f64(),
    });
    Ok(())
}

/// The attributes of `name` that the plan's other resources and outputs reference.
fn referenced_attrs(plan: &crate::plan::Plan, name: &str) -> std::collections::BTreeSet<String> {
    plan.resources
        .iter()
        .flat_map(|r| r.props.iter().map(|(_, n)| n))
        .chain(plan.outputs.iter().map(|(_, n)| n))
        .flat_map(|n| n.refs())
        .filter_map(|(r, _)| match r {
            Ref::Resource { name: n, attr } if n == name => Some(attr.clone()),
            _ => None,
        })
        .collect()
}

/// Finds one plan resource in AWS and records it. Never fails the walk: what cannot be found
/// (or resolved, because what it references was not found) is simply not there.
async fn discover_one(s: &Arc<Shared>, name: &str) -> Result<(), ResourceError> {
    if lock(&s.store).state().resources.contains_key(name) {
        return Ok(());
    }
    let (Some(t), Some(res)) = (s.checked.type_of(name), s.checked.plan.resource(name)) else { return Ok(()) };
    let Ok(props) = resolved_props(s, res, lock(&s.store).state()) else { return Ok(()) };
    let who = Identity::new(s.checked.stack(), name);
    let found = retry(s, name, || {
        let mut p = Props::new(props.clone());
        let who = &who;
        async move { aws::adopt(&s.ctx, t.name, &mut p, who).await }
    })
    .await;
    let (created, proof) = match found {
        Ok(Found::Ours { created, proof }) => (created, proof),
        Ok(Found::Nothing) => return Ok(()),
        Ok(Found::NotOurs { id, why }) => {
            not_ours(s, name, t.name, &id, &why);
            return Ok(());
        }
        Err(e) => {
            fail(s, name, t.name, e);
            return Ok(());
        }
    };
    let mut created = created;
    // Some attributes only exist once the resource is ready (an ARN read back by `wait_ready`):
    // if what references it needs one, wait for it as a deploy would have.
    let needed = referenced_attrs(&s.checked.plan, name);
    if needed.iter().any(|a| !created.outputs.contains_key(a)) {
        let exp = expected(s, f64::from(t.create_secs));
        match retry(s, name, || aws::expecting(exp, aws::wait_ready(&s.ctx, t.name, &created.id, &created.outputs)))
            .await
        {
            Ok(outputs) => created.outputs = outputs,
            Err(e) => {
                fail(s, name, t.name, e);
            }
        }
    }
    let deps = s
        .checked
        .graph
        .index(name)
        .map(|i| s.checked.graph.dependencies(i).map(|(d, _)| s.checked.graph.name(d).to_string()).collect())
        .unwrap_or_default();
    let rec = ResourceState {
        type_name: t.name.to_string(),
        status: Status::Ready,
        id: created.id.clone(),
        outputs: created.outputs,
        props: redact(Some(t), &s.checked.stack(), props),
        depends_on: deps,
        delete_secs: f64::from(t.delete_secs),
        run_id: s.run_id.clone(),
    };
    lock(&s.store).record(name, rec).map_err(|e| state_err(name, t.name, e))?;
    let _ = s.events.send(Event::Adopted { resource: name.into(), type_name: t.name.into(), id: created.id, proof });
    Ok(())
}

async fn delete_one(s: &Arc<Shared>, name: &str) -> Result<(), ResourceError> {
    let t0 = Instant::now();
    let Some(mut rec) = lock(&s.store).state().resources.get(name).cloned() else { return Ok(()) };
    let type_name = rec.type_name.clone();
    if rec.id.is_empty() {
        // Only the intent was recorded: the run died around the create call. If AWS has it
        // (proven ours), delete it too; otherwise there is nothing of ours to delete.
        let stack = lock(&s.store).state().stack.clone();
        let who = Identity::new(stack, name);
        let found = retry(s, name, || {
            let mut p = Props::new(rec.props.clone());
            let (type_name, who) = (type_name.clone(), &who);
            async move { aws::adopt(&s.ctx, &type_name, &mut p, who).await }
        })
        .await
        .map_err(|e| fail(s, name, &type_name, e))?;
        match found {
            Found::Ours { created, .. } => {
                rec.id = created.id;
                rec.outputs = created.outputs;
            }
            Found::NotOurs { id, why } => {
                not_ours(s, name, &type_name, &id, &why);
                lock(&s.store).remove(name).map_err(|e| state_err(name, &type_name, e))?;
                return Ok(());
            }
            Found::Nothing => {
                lock(&s.store).remove(name).map_err(|e| state_err(name, &type_name, e))?;
                return Ok(());
            }
        }
    }
    let _ = s.events.send(Event::Deleting { resource: name.into(), type_name: type_name.clone(), id: rec.id.clone() });
    rec.status = Status::Deleting;
    lock(&s.store).record(name, rec.clone()).map_err(|e| state_err(name, &type_name, e))?;
    retry(s, name, || aws::delete(&s.ctx, &type_name, &rec.id, &rec.outputs))
        .await
        .map_err(|e| fail(s, name, &type_name, e))?;
    let exp = expected(s, rec.delete_secs);
    retry(s, name, || aws::expecting(exp, aws::wait_deleted(&s.ctx, &type_name, &rec.id, &rec.outputs)))
        .await
        .map_err(|e| fail(s, name, &type_name, e))?;
    lock(&s.store).remove(name).map_err(|e| state_err(name, &type_name, e))?;
    let _ =
        s.events.send(Event::Deleted { resource: name.into(), type_name, elapsed_secs: t0.elapsed().as_secs_f64() });
    Ok(())
}

/// What references resolve against.
pub struct Scope<'a> {
    pub outputs: &'a dyn Fn(&str) -> Option<&'a Outputs>,
    pub vars: &'a BTreeMap<String, String>,
    pub region: &'a str,
    pub account_id: &'a str,
}

/// A plan value with every reference replaced by its value. A string that is exactly one
/// reference takes the referenced value as is (a list stays a list).
pub fn resolve(node: &Node, scope: &Scope<'_>) -> Result<Value, String> {
    Ok(match &node.kind {
        NodeKind::Str(t) => {
            if let Some(r) = t.as_single_ref() {
                return lookup(r, scope);
            }
            let mut out = String::new();
            for p in &t.parts {
                match p {
                    Part::Lit(s) => out.push_str(s),
                    Part::Ref(r, _) => match lookup(r, scope)? {
                        Value::String(s) => out.push_str(&s),
                        other => out.push_str(&other.to_string()),
                    },
                }
            }
            Value::String(out)
        }
        NodeKind::Int(i) => Value::from(*i),
        NodeKind::Float(f) => Value::from(*f),
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::List(items) => Value::Array(items.iter().map(|n| resolve(n, scope)).collect::<Result<_, _>>()?),
        NodeKind::Table(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, n)| Ok((k.name.clone(), resolve(n, scope)?)))
                .collect::<Result<Map<_, _>, String>>()?,
        ),
    })
}

fn lookup(r: &Ref, scope: &Scope<'_>) -> Result<Value, String> {
    match r {
        Ref::Resource { name, attr } => {
            let outs = (scope.outputs)(name).ok_or_else(|| format!("{r}: `{name}` has not been created"))?;
            outs.get(attr).cloned().ok_or_else(|| format!("{r}: `{name}` has no output `{attr}` yet"))
        }
        Ref::Var(v) => scope.vars.get(v).map(|s| Value::String(s.clone())).ok_or_else(|| format!("{r}: no value")),
        Ref::Region => Ok(Value::String(scope.region.to_string())),
        Ref::AccountId => Ok(Value::String(scope.account_id.to_string())),
    }
}

/// The resolved properties of a plan resource, tags merged for taggable types.
fn resolved_props(
    s: &Shared,
    res: &crate::plan::Resource,
    state: &crate::state::State,
) -> Result<Map<String, Value>, String> {
    resolve_resource(&s.checked, res, state, &s.ctx.region, &s.ctx.account_id)
}

/// The resolved properties of a plan resource against `state`, tags merged for taggable types.
fn resolve_resource(
    checked: &Checked,
    res: &crate::plan::Resource,
    state: &crate::state::State,
    region: &str,
    account_id: &str,
) -> Result<Map<String, Value>, String> {
    let outputs = |n: &str| state.resources.get(n).map(|r| &r.outputs);
    let scope = Scope { outputs: &outputs, vars: &checked.vars, region, account_id };
    let mut props = Map::new();
    for (k, node) in &res.props {
        props.insert(k.name.clone(), resolve(node, &scope)?);
    }
    if checked.type_of(&res.name).is_some_and(|t| t.taggable) {
        let mut tags = Map::new();
        for (k, node) in &checked.plan.default_tags {
            tags.insert(k.name.clone(), resolve(node, &scope)?);
        }
        if let Some(Value::Object(own)) = props.remove("tags") {
            tags.extend(own);
        }
        tags.insert(MANAGED_BY_TAG.into(), Value::String("ironplan".into()));
        tags.insert(STACK_TAG.into(), Value::String(checked.stack()));
        tags.insert(RESOURCE_TAG.into(), Value::String(res.name.clone()));
        props.insert("tags".into(), Value::Object(tags));
    }
    Ok(props)
}

/// Resources in the state whose plan properties changed since they were created. Needs no AWS
/// call: references resolve against the state, with the region and account it recorded.
pub fn plan_changes(checked: &Checked, state: &crate::state::State) -> Vec<Change> {
    let mut changes = Vec::new();
    for res in &checked.plan.resources {
        let Some(old) = state.resources.get(&res.name).filter(|r| r.status == Status::Ready) else { continue };
        let Ok(new) = resolve_resource(checked, res, state, &state.region, &state.account_id) else { continue };
        let new = redact(checked.type_of(&res.name), &state.stack, new);
        let keys: std::collections::BTreeSet<&String> = old.props.keys().chain(new.keys()).collect();
        for k in keys {
            let (o, n) = (old.props.get(k).cloned().unwrap_or(Value::Null), new.get(k).cloned().unwrap_or(Value::Null));
            if o != n {
                changes.push(Change { resource: res.name.clone(), property: k.clone(), old: o, new: n });
            }
        }
    }
    changes
}

/// Sensitive values are never stored: only a digest of each, salted with the stack and the
/// value's path (so that a change is still seen, and equal values of two stacks differ).
fn redact(t: Option<&schema::TypeSpec>, stack: &str, mut props: Map<String, Value>) -> Map<String, Value> {
    if let Some(t) = t {
        schema::mask_sensitive(t.props, &mut props, &mut |path, v| Value::String(digest(stack, path, v)));
    }
    props
}

/// `sha256:` and the hex digest of stack, path and value.
fn digest(stack: &str, path: &str, v: &Value) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [stack.as_bytes(), b"\0", path.as_bytes(), b"\0", v.to_string().as_bytes()] {
        h.update(part);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn resolve_outputs(s: &Shared) -> Result<BTreeMap<String, Value>, StateError> {
    let store = lock(&s.store);
    let state = store.state();
    let outputs = |n: &str| state.resources.get(n).map(|r| &r.outputs);
    let scope =
        Scope { outputs: &outputs, vars: &s.checked.vars, region: &s.ctx.region, account_id: &s.ctx.account_id };
    Ok(s.checked
        .plan
        .outputs
        .iter()
        .map(|(k, node)| {
            (k.name.clone(), resolve(node, &scope).unwrap_or_else(|e| Value::String(format!("(unknown: {e})"))))
        })
        .collect())
}
