//! The engine against the fake cloud, on tokio's paused clock: rollback, resume after a crash
//! (each intent state), Ctrl-C, and which errors are retried. Milliseconds each.
//!
//! The plan of most tests:
//!
//! ```text
//!   c -> b -> a        (c depends on b, b on a)
//!   d                  (alone)
//! ```

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use super::fake::Fake;
use super::*;
use crate::aws::ErrorKind;
use crate::check::{self, Options};
use crate::plan::Plan;
use crate::state::{ResourceState, StateStore, Status};

const PLAN: &str = r#"
[plan]
name = "t"

[variables.environment_suffix]
default = "dev"

[resources.a]
type = "kms:Key"

[resources.b]
type = "kms:Key"
depends_on = ["a"]

[resources.c]
type = "kms:Key"
depends_on = ["b"]

[resources.d]
type = "kms:Key"
"#;
const STACK: &str = "t-dev";

fn checked() -> Checked {
    checked_of(PLAN)
}

fn checked_of(text: &str) -> Checked {
    let plan = Plan::parse(Path::new("t.toml"), text).unwrap_or_else(|p| panic!("{}", p.render_plain()));
    check::check_with(plan, Vec::new(), &Options::default()).unwrap_or_else(|p| panic!("{}", p.render_plain()))
}

struct Run {
    engine: Engine,
    events: UnboundedReceiver<Event>,
    _dir: tempfile::TempDir,
    dir: std::path::PathBuf,
}

fn engine(fake: &Fake, dir: Option<tempfile::TempDir>) -> Run {
    let dir = dir.unwrap_or_else(|| tempfile::tempdir().expect("temp dir"));
    let path = dir.path().to_path_buf();
    let store = StateStore::open(&path, STACK).expect("state");
    let (tx, rx) = unbounded_channel();
    let engine = Engine::new(fake.clone(), checked(), store, tx, RunOptions::default());
    Run { engine, events: rx, _dir: dir, dir: path }
}

impl Run {
    fn events(&mut self) -> Vec<Event> {
        let mut v = Vec::new();
        while let Ok(e) = self.events.try_recv() {
            v.push(e);
        }
        v
    }

    /// Ends this run (releasing the lock) and starts another on the same state.
    fn next(self, fake: &Fake) -> Run {
        let Run { engine, _dir, .. } = self;
        drop(engine);
        engine_in(fake, _dir)
    }

    fn state(&self) -> crate::state::State {
        StateStore::read(&self.dir, STACK).expect("state")
    }

    /// Ends this run and starts another on the same state, with the plan `text`.
    fn with_plan(self, fake: &Fake, text: &str) -> Run {
        let Run { engine, _dir, .. } = self;
        drop(engine);
        let store = StateStore::open(_dir.path(), STACK).expect("state");
        let (tx, rx) = unbounded_channel();
        let engine = Engine::new(fake.clone(), checked_of(text), store, tx, RunOptions::default());
        let dir = _dir.path().to_path_buf();
        Run { engine, events: rx, _dir, dir }
    }

    /// The same run, allowed to replace or delete these data resources.
    fn allowing(self, replace: &[&str], delete: &[&str]) -> Run {
        let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        let allowed = Allowed { replace: set(replace), delete: set(delete) };
        Run { engine: self.engine.allowing(allowed), ..self }
    }

    /// Writes a resource's entry as a dead run left it.
    fn left(self, fake: &Fake, name: &str, status: Status, id: &str) -> Run {
        let Run { engine, _dir, .. } = self;
        drop(engine);
        {
            let mut store = StateStore::open(_dir.path(), STACK).expect("state");
            let props = serde_json::json!({"tags": {MANAGED_BY_TAG: "ironplan", STACK_TAG: STACK, RESOURCE_TAG: name}});
            let rec = ResourceState {
                type_name: "kms:Key".into(),
                status,
                id: id.into(),
                outputs: if id.is_empty() { Default::default() } else { super::fake::outputs(id) },
                props: props.as_object().cloned().unwrap_or_default(),
                depends_on: Vec::new(),
                delete_secs: 1.0,
                run_id: "a-dead-run".into(),
                previous: None,
            };
            store.record(name, rec).expect("record");
        }
        engine_in(fake, _dir)
    }
}

fn engine_in(fake: &Fake, dir: tempfile::TempDir) -> Run {
    engine(fake, Some(dir))
}

use crate::schema::{MANAGED_BY_TAG, RESOURCE_TAG, STACK_TAG};

fn position(calls: &[String], name: &str) -> usize {
    calls.iter().position(|c| c == name).unwrap_or_else(|| panic!("no call for {name}: {calls:?}"))
}

#[tokio::test(start_paused = true)]
async fn a_deploy_creates_dependencies_first_and_a_teardown_deletes_dependents_first() {
    let fake = Fake::default();
    let run = engine(&fake, None);
    let s = run.engine.deploy(OnFailure::Rollback).await.expect("deploy");
    assert!(s.ok(), "{s:?}");
    let creates = fake.calls_of("Create");
    assert!(position(&creates, "a") < position(&creates, "b") && position(&creates, "b") < position(&creates, "c"));
    assert_eq!(fake.live(), ["a", "b", "c", "d"]);

    let s = run.engine.teardown().await.expect("teardown");
    assert!(s.ok(), "{s:?}");
    let deletes = fake.calls_of("Delete");
    assert!(position(&deletes, "c") < position(&deletes, "b") && position(&deletes, "b") < position(&deletes, "a"));
    assert!(fake.live().is_empty());
    assert!(run.state().resources.is_empty());
}

/// A failed create: what this run created is deleted, dependents first; what an earlier run
/// created is kept.
#[tokio::test(start_paused = true)]
async fn rollback_deletes_exactly_this_runs_resources_in_reverse_order() {
    let fake = Fake::default();
    // An earlier run made `d`.
    let run = engine(&fake, None);
    let earlier = run.left(&fake, "d", Status::Ready, "fake-earlier");
    fake.put("kms:Key", STACK, "d");
    let mut run = earlier;
    fake.fail("Create", "c", ErrorKind::Fatal, 1);

    let s = run.engine.deploy(OnFailure::Rollback).await.expect("deploy");
    assert_eq!(s.failed.len(), 1, "{s:?}");
    assert_eq!(s.failed[0].resource, "c");
    assert_eq!(s.rolled_back, ["a", "b"], "{s:?}");
    assert_eq!(s.existing, ["d"]);
    assert_eq!(fake.calls_of("Delete"), ["b", "a"], "reverse order, and never `d`");
    assert_eq!(fake.live(), ["d"]);
    let state = run.state();
    assert_eq!(state.resources.keys().collect::<Vec<_>>(), ["d"]);
    assert!(run.events().iter().any(|e| matches!(e, Event::Failed { resource, .. } if resource == "c")));
}

/// `--on-failure keep`: nothing is deleted; the next deploy resumes and creates only the rest.
#[tokio::test(start_paused = true)]
async fn keep_leaves_what_was_made_and_the_next_deploy_resumes() {
    let fake = Fake::default();
    let run = engine(&fake, None);
    fake.fail("Create", "c", ErrorKind::Fatal, 1);
    let s = run.engine.deploy(OnFailure::Keep).await.expect("deploy");
    assert_eq!(s.kept.len(), 3, "{s:?}");
    assert!(fake.calls_of("Delete").is_empty());

    let run = run.next(&fake);
    let s = run.engine.deploy(OnFailure::Keep).await.expect("deploy");
    assert!(s.ok(), "{s:?}");
    assert_eq!(s.created, ["c"]);
    assert_eq!(fake.calls_of("Create").iter().filter(|r| *r == "a").count(), 1, "a is not created twice");
}

/// `creating` without an ID, and the dead run's create landed: adopted, not created again.
#[tokio::test(start_paused = true)]
async fn resume_creating_adopts_what_the_dead_run_made() {
    let fake = Fake::default();
    let id = fake.put("kms:Key", STACK, "a");
    let mut run = engine(&fake, None).left(&fake, "a", Status::Creating, "");
    let s = run.engine.deploy(OnFailure::Rollback).await.expect("deploy");
    assert!(s.ok(), "{s:?}");
    assert_eq!(fake.calls_of("Create").iter().filter(|r| *r == "a").count(), 0, "a was created again");
    assert_eq!(run.state().resources["a"].id, id);
    assert!(run.events().iter().any(|e| matches!(e, Event::Adopted { resource, .. } if resource == "a")));
}

/// `creating` without an ID, and nothing landed (after looking twice): created once.
#[tokio::test(start_paused = true)]
async fn resume_creating_creates_when_nothing_landed() {
    let fake = Fake::default();
    let run = engine(&fake, None).left(&fake, "a", Status::Creating, "");
    let s = run.engine.deploy(OnFailure::Rollback).await.expect("deploy");
    assert!(s.ok(), "{s:?}");
    assert_eq!(fake.calls_of("Find").iter().filter(|r| *r == "a").count(), 2, "looked again after the grace");
    assert_eq!(fake.calls_of("Create").iter().filter(|r| *r == "a").count(), 1);
}

/// `creating` without an ID, and what is there is another stack's: refused, never adopted,
/// and the look-alike is left alone.
#[tokio::test(start_paused = true)]
async fn resume_creating_refuses_a_look_alike() {
    let fake = Fake::default();
    fake.put("kms:Key", "someone-else", "a");
    let run = engine(&fake, None).left(&fake, "a", Status::Creating, "");
    let s = run.engine.deploy(OnFailure::Rollback).await.expect("deploy");
    assert_eq!(s.failed.first().map(|f| (f.resource.as_str(), f.code.as_str())), Some(("a", "NotOurs")), "{s:?}");
    assert!(fake.calls_of("Create").iter().all(|r| r != "a"));
    assert!(fake.calls_of("Delete").iter().all(|r| r != "a"), "the look-alike was deleted");
    assert_eq!(fake.live(), ["a"], "only the look-alike is left (the rest rolled back)");
}

/// `created` (the ID recorded, not yet ready): waited for, not created again.
#[tokio::test(start_paused = true)]
async fn resume_created_waits_for_it() {
    let fake = Fake::default();
    let id = fake.put("kms:Key", STACK, "a");
    let run = engine(&fake, None).left(&fake, "a", Status::Created, &id);
    let s = run.engine.deploy(OnFailure::Rollback).await.expect("deploy");
    assert!(s.ok(), "{s:?}");
    assert!(fake.calls_of("Create").iter().all(|r| r != "a"));
    assert_eq!(fake.calls_of("Ready").first().map(String::as_str), Some("a"));
    assert_eq!(run.state().resources["a"].status, Status::Ready);
}

/// `deleting` (a teardown died around its delete call): a teardown deletes it again; a
/// deploy finishes the deletion before creating anew, so nothing is left untracked.
#[tokio::test(start_paused = true)]
async fn resume_deleting_finishes_the_deletion() {
    let fake = Fake::default();
    let id = fake.put("kms:Key", STACK, "a");
    let run = engine(&fake, None).left(&fake, "a", Status::Deleting, &id);
    let s = run.engine.teardown().await.expect("teardown");
    assert!(s.ok() && s.deleted == ["a"], "{s:?}");
    assert!(fake.live().is_empty());

    let fake = Fake::default();
    let id = fake.put("kms:Key", STACK, "a");
    let run = engine(&fake, None).left(&fake, "a", Status::Deleting, &id);
    let s = run.engine.deploy(OnFailure::Rollback).await.expect("deploy");
    assert!(s.ok(), "{s:?}");
    let calls: Vec<_> = fake.calls().into_iter().filter(|c| c.resource == "a").map(|c| c.op).collect();
    assert_eq!(calls, ["Delete", "WaitDeleted", "Create", "Ready"]);
    assert_eq!(fake.live(), ["a", "b", "c", "d"], "exactly one `a`");
}

/// A delete AWS refused (a bucket that is not empty) leaves the entry as it was, so a deploy
/// changes the resource (its force_destroy) rather than finishing a deletion; one that may have
/// landed (transient errors until the retries ran out) stays `deleting`.
#[tokio::test(start_paused = true)]
async fn a_refused_delete_keeps_the_entry_and_one_that_may_have_landed_stays_deleting() {
    let fake = Fake::default();
    let run = engine(&fake, None);
    assert!(run.engine.deploy(OnFailure::Rollback).await.expect("deploy").ok());
    fake.fail("Delete", "a", ErrorKind::Fatal, 1);
    let s = run.engine.teardown().await.expect("teardown");
    assert_eq!(s.failed.len(), 1, "{s:?}");
    assert_eq!(run.state().resources["a"].status, Status::Ready, "refused: still there, as it was");
    let s = run.engine.deploy(OnFailure::Rollback).await.expect("deploy again");
    assert!(s.ok(), "{s:?}");
    assert_eq!(fake.calls_of("Delete").iter().filter(|r| *r == "a").count(), 1, "no deletion resumed");
    assert!(fake.live().contains(&"a".to_string()));

    let fake = Fake::default();
    let run = engine(&fake, None);
    assert!(run.engine.deploy(OnFailure::Rollback).await.expect("deploy").ok());
    fake.fail("Delete", "a", ErrorKind::Transient, 1000);
    let s = run.engine.teardown().await.expect("teardown");
    assert_eq!(s.failed.len(), 1, "{s:?}");
    assert_eq!(run.state().resources["a"].status, Status::Deleting, "may have landed: resumed next time");
}

/// Throttling and 5xx are retried (a bounded number of times), eventual consistency within a
/// time bound, anything else fails at once.
#[tokio::test(start_paused = true)]
async fn retryable_errors_are_retried_and_fatal_ones_are_not() {
    for (kind, times, ok) in [
        (ErrorKind::Throttling, 3, true),
        (ErrorKind::Transient, 8, true),
        (ErrorKind::Transient, 9, false),
        (ErrorKind::Eventual, 20, true),
        (ErrorKind::Fatal, 1, false),
        (ErrorKind::Input, 1, false),
    ] {
        let fake = Fake::default();
        let mut run = engine(&fake, None);
        fake.fail("Create", "a", kind, times);
        let s = run.engine.deploy(OnFailure::Rollback).await.expect("deploy");
        let tries = fake.calls_of("Create").iter().filter(|r| *r == "a").count();
        let retries = run.events().iter().filter(|e| matches!(e, Event::Retrying { .. })).count();
        if ok {
            assert!(s.ok(), "{kind:?} x{times}: {s:?}");
            assert_eq!((tries, retries), (times as usize + 1, times as usize), "{kind:?}");
        } else {
            assert_eq!(s.failed.len(), 1, "{kind:?} x{times}: {s:?}");
            let expected = if matches!(kind, ErrorKind::Transient) { 9 } else { 1 };
            assert_eq!(tries, expected, "{kind:?}: tried {tries} times");
        }
    }
}

/// The first Ctrl-C stops new work, lets the running calls finish and rolls back; the second
/// exits at once.
#[tokio::test(start_paused = true)]
async fn the_first_interrupt_stops_and_rolls_back_the_second_exits() {
    let fake = Fake::default();
    let run = engine(&fake, None);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let exited = Arc::new(AtomicBool::new(false));
    let stopping = Arc::new(AtomicBool::new(false));
    let (e, st) = (exited.clone(), stopping.clone());
    let watcher = tokio::spawn(on_interrupts(
        move || {
            let rx = rx.clone();
            async move { rx.lock().await.recv().await.is_some() }
        },
        run.engine.stopper(),
        move || st.store(true, Ordering::SeqCst),
        move || e.store(true, Ordering::SeqCst),
    ));
    let deploy = run.engine.deploy(OnFailure::Rollback);
    let interrupt = async {
        // While `a` and `d` are being created.
        tokio::time::sleep(Duration::from_millis(10)).await;
        let _ = tx.send(());
    };
    let (s, ()) = tokio::join!(deploy, interrupt);
    let s = s.expect("deploy");
    assert!(stopping.load(Ordering::SeqCst) && !exited.load(Ordering::SeqCst));
    assert!(s.interrupted, "{s:?}");
    assert!(fake.calls_of("Create").iter().all(|r| r == "a" || r == "d"), "new work started after the stop");
    assert_eq!(s.not_started, ["b", "c"], "{s:?}");
    assert!(fake.live().is_empty(), "the rollback left {:?}", fake.live());
    let _ = tx.send(());
    let _ = watcher.await;
    assert!(exited.load(Ordering::SeqCst), "the second interrupt did not exit");
}

/// The plan with `b`'s description changed (an update in place).
fn described(text: &str) -> String {
    text.replace("[resources.b]\ntype = \"kms:Key\"", "[resources.b]\ntype = \"kms:Key\"\ndescription = \"new\"")
}

/// A changed property is applied in place to that resource only: no create, no delete; the
/// state records the new value.
#[tokio::test(start_paused = true)]
async fn an_update_changes_only_what_changed_in_place() {
    let fake = Fake::default();
    let run = engine(&fake, None);
    assert!(run.engine.deploy(OnFailure::Rollback).await.expect("deploy").ok());
    let mut run = run.with_plan(&fake, &described(PLAN));
    let s = run.engine.deploy(OnFailure::Rollback).await.expect("deploy");
    assert!(s.ok(), "{s:?}");
    assert_eq!(s.updated, ["b"]);
    assert!(s.created.is_empty(), "{s:?}");
    assert_eq!(s.existing.len(), 3, "{s:?}");
    assert_eq!(fake.calls_of("Update"), ["b"]);
    assert_eq!(fake.calls_of("Create").len(), 4, "only the first deploy created");
    assert!(fake.calls_of("Delete").is_empty());
    assert_eq!(fake.props_of("b")["description"], "new");
    let b = &run.state().resources["b"];
    assert_eq!((b.status, b.props["description"].as_str(), b.previous.is_none()), (Status::Ready, Some("new"), true));
    assert!(run.events().iter().any(|e| matches!(e, Event::Updated { resource, .. } if resource == "b")));
}

/// A failure after an update: the rollback deletes what this run created and puts the old
/// values back on what it updated.
#[tokio::test(start_paused = true)]
async fn rollback_restores_what_this_run_updated() {
    let fake = Fake::default();
    let run = engine(&fake, None);
    assert!(run.engine.deploy(OnFailure::Rollback).await.expect("deploy").ok());
    let text = format!("{}\n[resources.e]\ntype = \"kms:Key\"\ndepends_on = [\"b\"]\n", described(PLAN));
    fake.fail("Create", "e", ErrorKind::Fatal, 1);
    let run = run.with_plan(&fake, &text);
    let s = run.engine.deploy(OnFailure::Rollback).await.expect("deploy");
    assert_eq!(s.failed.iter().map(|f| f.resource.as_str()).collect::<Vec<_>>(), ["e"], "{s:?}");
    assert_eq!(s.restored, ["b"], "{s:?}");
    assert_eq!(fake.calls_of("Update"), ["b", "b"], "the update, then its rollback");
    assert_eq!(fake.props_of("b").get("description"), Some(&serde_json::Value::Null), "the old value: none");
    let b = &run.state().resources["b"];
    assert_eq!((b.status, b.props.get("description")), (Status::Ready, None));
    assert!(!run.state().resources.contains_key("e"));
}

/// kill -9 during an update leaves `updating` with the old values: the next deploy applies the
/// update again (every update call is idempotent) and records it.
#[tokio::test(start_paused = true)]
async fn resume_updating_applies_the_update() {
    let fake = Fake::default();
    let run = engine(&fake, None);
    assert!(run.engine.deploy(OnFailure::Rollback).await.expect("deploy").ok());
    let run = run.with_plan(&fake, &described(PLAN));
    {
        let Run { engine, _dir, .. } = run;
        drop(engine);
        let mut store = StateStore::open(_dir.path(), STACK).expect("state");
        let mut b = store.state().resources["b"].clone();
        b.previous = Some(b.props.clone());
        b.props.insert("description".into(), "new".into());
        b.status = Status::Updating;
        store.record("b", b).expect("record");
        drop(store);
        let run = engine_in(&fake, _dir).with_plan(&fake, &described(PLAN));
        let s = run.engine.deploy(OnFailure::Rollback).await.expect("deploy");
        assert!(s.ok(), "{s:?}");
        assert_eq!(fake.calls_of("Update"), ["b"]);
        assert_eq!(run.state().resources["b"].status, Status::Ready);
        assert_eq!(fake.props_of("b")["description"], "new");
    }
}

/// A resource gone from the plan is deleted once the rest is deployed; the others stay. A key
/// holds data: the engine itself refuses, with no call, until it is named (`--allow-delete`).
#[tokio::test(start_paused = true)]
async fn a_resource_gone_from_the_plan_is_deleted() {
    let fake = Fake::default();
    let run = engine(&fake, None);
    assert!(run.engine.deploy(OnFailure::Rollback).await.expect("deploy").ok());
    let calls = fake.calls().len();
    let run = run.with_plan(&fake, &PLAN.replace("[resources.d]\ntype = \"kms:Key\"\n", ""));
    let s = run.engine.deploy(OnFailure::Rollback).await.expect("deploy");
    assert!(!s.ok() && s.refused.iter().map(|r| r.resource.as_str()).eq(["d"]), "{s:?}");
    assert_eq!(fake.calls().len(), calls, "a refused change makes no call");
    assert_eq!(fake.live(), ["a", "b", "c", "d"]);
    let run = run.allowing(&[], &["d"]);
    let s = run.engine.deploy(OnFailure::Rollback).await.expect("deploy");
    assert!(s.ok(), "{s:?}");
    assert_eq!(s.deleted, ["d"]);
    assert_eq!(fake.live(), ["a", "b", "c"]);
    assert!(!run.state().resources.contains_key("d"));
}

/// A property that forces a replacement: the old resource is deleted first, the new one
/// created, and what references it updated to its new ARN.
#[tokio::test(start_paused = true)]
async fn a_replacement_deletes_first_then_creates_and_updates_what_references_it() {
    let fake = Fake::default();
    let referenced = PLAN.replace("depends_on = [\"b\"]", "description = \"${b.arn}\"");
    let run = engine(&fake, None).with_plan(&fake, &referenced);
    assert!(run.engine.deploy(OnFailure::Rollback).await.expect("deploy").ok());
    let old_b = run.state().resources["b"].id.clone();
    let changed = referenced
        .replace("[resources.b]\ntype = \"kms:Key\"", "[resources.b]\ntype = \"kms:Key\"\nkey_spec = \"RSA_2048\"");
    let run = run.with_plan(&fake, &changed).allowing(&["b"], &[]);
    let s = run.engine.deploy(OnFailure::Rollback).await.expect("deploy");
    assert!(s.ok(), "{s:?}");
    assert_eq!(
        (s.replaced.as_slice(), s.updated.as_slice()),
        (&["b".to_string()][..], &["c".to_string()][..]),
        "{s:?}"
    );
    let ops: Vec<(&str, String)> = fake.calls().into_iter().skip(8).map(|c| (c.op, c.resource)).collect();
    let at = |op: &str, r: &str| {
        ops.iter().position(|(o, x)| *o == op && x == r).unwrap_or_else(|| panic!("{op} {r}: {ops:?}"))
    };
    assert!(at("Delete", "b") < at("Create", "b") && at("Create", "b") < at("Update", "c"), "{ops:?}");
    let state = run.state();
    assert_ne!(state.resources["b"].id, old_b);
    assert_eq!(
        state.resources["c"].props["description"],
        serde_json::json!(format!("arn:fake:{}", state.resources["b"].id))
    );
    assert_eq!(fake.live(), ["a", "b", "c", "d"]);
}

/// `drift` reads a type's resources in batches (a, b, c, d are all `kms:Key`: batches of 3 are
/// two calls, none one by one), and a batch whose call fails leaves each of its resources
/// unknown with that error while the other batch is judged.
#[tokio::test(start_paused = true)]
async fn drift_reads_in_batches_and_a_failed_batch_leaves_each_of_its_resources_unknown() {
    let fake = Fake::default();
    let run = engine(&fake, None);
    assert!(run.engine.deploy(OnFailure::Rollback).await.expect("deploy").ok());
    let state = run.state();
    fake.batch_reads(3);
    let report = drift(Arc::new(fake.clone()), &state).await;
    assert_eq!(fake.calls_of("ReadMany"), ["a", "d"], "one call per batch of the sorted names");
    assert!(fake.calls_of("Read").is_empty());
    assert_eq!(report.count(Verdict::InSync), 4, "{report:?}");

    let d = &state.resources["d"];
    fake.delete("kms:Key", &d.id, &d.outputs).await.expect("delete d");
    fake.fail("ReadMany", "a", ErrorKind::Throttling, 1);
    let report = drift(Arc::new(fake.clone()), &state).await;
    let verdict = |name: &str| report.resources.iter().find(|r| r.name == name).map(|r| r.verdict);
    assert_eq!(verdict("d"), Some(Verdict::Deleted));
    for name in ["a", "b", "c"] {
        assert_eq!(verdict(name), Some(Verdict::Unknown), "{name}");
        let r = report.resources.iter().find(|r| r.name == name).expect(name);
        assert!(r.error.as_deref().is_some_and(|e| e.contains("InjectedThrottling")), "{r:?}");
    }
    assert!(report.incomplete() && report.drifted());
}
