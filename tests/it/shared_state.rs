//! Shared state on S3 (moto's S3 enforces `If-None-Match: *` and `If-Match`): two runs from two
//! working directories that share only the S3 state, a holder killed -9 and its expired lease
//! taken over, `unlock` that needs the lock's ID, a stale writer refused, S3 throttling and 5xx
//! on the lock and state calls, a state bucket in another region (the fault proxy plays S3's
//! redirect, which one-region moto never sends), and `state migrate` there and back. Checked
//! through the SDK.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ironplan::state::s3::{Cond, LockInfo, LockOptions, ObjError, Objects, S3Objects, S3Store, StateObject};
use ironplan::state::{S3Location, StateError};
use serde_json::{Value, json};

use crate::common::Env;

const PLAN: &str = "tests/fixtures/stacks/drift.toml";
const STACK: &str = "drift-it";
const BUCKET: &str = "team-state";
const STATE: &str = "s3://team-state/ironplan";
const STATE_KEY: &str = "ironplan/drift-it.json";
const LOCK_KEY: &str = "ironplan/drift-it.lock";

async fn bucket(env: &Env) -> aws_sdk_s3::Client {
    let ctx = env.ctx().await;
    ctx.s3.create_bucket().bucket(BUCKET).send().await.expect("create the state bucket");
    ctx.s3
}

async fn object(s3: &aws_sdk_s3::Client, key: &str) -> Option<Vec<u8>> {
    let out = s3.get_object().bucket(BUCKET).key(key).send().await.ok()?;
    Some(out.body.collect().await.expect("body").into_bytes().to_vec())
}

async fn state_doc(s3: &aws_sdk_s3::Client) -> Value {
    let body = object(s3, STATE_KEY).await.expect("the state object");
    serde_json::from_slice(&body).expect("state JSON")
}

async fn wait_for_lock(s3: &aws_sdk_s3::Client) -> LockInfo {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(b) = object(s3, LOCK_KEY).await {
            return serde_json::from_slice(&b).expect("lock JSON");
        }
        assert!(Instant::now() < deadline, "the first run never took the lock");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn deploy_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    [&["deploy", PLAN, "--allow", "vpc-flow-logs", "--state", STATE, "--output", "plain"][..], extra].concat()
}

async fn vpc_exists(env: &Env, id: &str) -> bool {
    let ctx = env.ctx().await;
    ctx.ec2.describe_vpcs().vpc_ids(id).send().await.is_ok_and(|o| !o.vpcs().is_empty())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_working_directories_share_one_s3_state_one_run_at_a_time() {
    let env = Env::with_proxy();
    let s3 = bucket(&env).await;
    // The first deploy is slow at its security group, so the second starts while it runs.
    env.proxy().rules(json!([{"op": "CreateSecurityGroup", "delay_ms": 4000, "count": 1}]));
    let mut first = env.spawn(&deploy_args(&[]));
    let held = wait_for_lock(&s3).await;
    assert_eq!(held.pid, first.id(), "the lock names its holder's pid");
    let elsewhere = tempfile::tempdir().expect("temp dir");
    // The other machine names the state through the environment.
    let second = crate::common::Run::from(
        env.command(&["deploy", PLAN, "--allow", "vpc-flow-logs"])
            .env("IRONPLAN_STATE_DIR", elsewhere.path())
            .env("IRONPLAN_STATE", STATE)
            .output()
            .expect("run"),
    );
    assert_eq!(second.code, 4, "the second deploy is refused: {}{}", second.stdout, second.stderr);
    assert!(second.stderr.contains("is locked by another ironplan"), "{}", second.stderr);
    assert!(second.stderr.contains(&format!("pid {}", first.id())), "names the holder: {}", second.stderr);
    assert!(second.stderr.contains(&format!("lock ID {}", held.id)), "{}", second.stderr);
    let status = first.wait().expect("first deploy");
    assert!(status.success(), "the first deploy finished");
    assert!(object(&s3, LOCK_KEY).await.is_none(), "released after the last state write");
    let state = state_doc(&s3).await;
    assert_eq!(state["resources"].as_object().map(|r| r.len()), Some(5), "{state}");
    let vpc = state["resources"]["vpc"]["id"].as_str().expect("vpc id").to_string();
    assert!(vpc_exists(&env, &vpc).await, "what the state says exists");
    // The other working directory sees the same stack: nothing to do.
    let again = crate::common::Run::from(
        env.command(&deploy_args(&[])).env("IRONPLAN_STATE_DIR", elsewhere.path()).output().expect("run"),
    );
    again.assert_ok("deploy from the other directory");
    assert!(again.stderr.contains("0 created"), "{}", again.stderr);
    assert!(std::fs::read_dir(elsewhere.path()).map(|d| d.count()).unwrap_or(0) == 0, "nothing local");
    env.ironplan(&["teardown", PLAN, "--state", STATE]).assert_ok("teardown");
    assert!(!vpc_exists(&env, &vpc).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_holders_lock_is_taken_over_after_its_lease_and_unlock_needs_its_id() {
    let env = Env::with_proxy();
    let s3 = bucket(&env).await;
    env.proxy().rules(json!([{"op": "CreateSecurityGroup", "delay_ms": 6000, "count": 1}]));
    let mut holder = env.spawn(&deploy_args(&["--lock-lease", "3"]));
    let held = wait_for_lock(&s3).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    holder.kill().expect("kill -9");
    let _ = holder.wait();
    assert!(object(&s3, LOCK_KEY).await.is_some(), "a killed holder releases nothing");

    let wrong = env.ironplan(&["unlock", "0123456789abcdef", PLAN, "--state", STATE]);
    assert_eq!(wrong.code, 4, "{}", wrong.stderr);
    assert!(wrong.stderr.contains(&format!("pid {}", held.pid)), "prints the holder: {}", wrong.stderr);
    assert!(object(&s3, LOCK_KEY).await.is_some(), "a wrong ID breaks nothing");

    // Once the lease has run out, the next run takes the lock over and finishes the stack.
    tokio::time::sleep(Duration::from_secs(4)).await;
    env.proxy().rules(json!([]));
    env.ironplan(&deploy_args(&[])).assert_ok("deploy after the lease ran out");
    let state = state_doc(&s3).await;
    assert!(
        state["resources"].as_object().is_some_and(|r| r.values().all(|r| r["status"] == "ready") && r.len() == 5),
        "{state}"
    );
    let ctx = env.ctx().await;
    let groups = ctx
        .ec2
        .describe_security_groups()
        .filters(aws_sdk_ec2::types::Filter::builder().name("group-name").values("drift-it").build())
        .send()
        .await
        .expect("describe");
    assert_eq!(groups.security_groups().len(), 1, "one security group, not two");

    // unlock with the right ID: a lock left by another killed run.
    env.proxy().rules(json!([{"op": "DeleteSecurityGroup", "delay_ms": 5000, "count": 1}]));
    let mut holder = env.spawn(&["teardown", PLAN, "--state", STATE, "--lock-lease", "600"]);
    let held = wait_for_lock(&s3).await;
    holder.kill().expect("kill -9");
    let _ = holder.wait();
    let refused = env.ironplan(&deploy_args(&[]));
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert!(refused.stderr.contains("ironplan unlock LOCK_ID"), "the hint says how: {}", refused.stderr);
    env.proxy().rules(json!([]));
    let ok = env.ironplan(&["unlock", &held.id, PLAN, "--state", STATE]);
    ok.assert_ok("unlock with the lock's ID");
    assert!(ok.stderr.contains(&format!("pid {}", held.pid)), "{}", ok.stderr);
    assert!(object(&s3, LOCK_KEY).await.is_none());
    env.ironplan(&["teardown", PLAN, "--state", STATE]).assert_ok("teardown");
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_enforces_the_conditions_and_a_stale_writer_is_refused() {
    let env = Env::start();
    let s3 = bucket(&env).await;
    let loc = S3Location { bucket: BUCKET.into(), prefix: "ironplan".into() };
    let objs: Arc<dyn Objects> = Arc::new(
        S3Objects::connect(
            &loc,
            &ironplan::aws::Connect { region: Some(crate::common::REGION.into()), ..env.moto.connect() },
        )
        .await
        .expect("connect"),
    );
    // The primitives, on the wire.
    let etag = objs.put("k", b"one".to_vec(), &Cond::Absent).await.expect("create");
    assert!(matches!(objs.put("k", b"two".to_vec(), &Cond::Absent).await, Err(ObjError::Precondition)));
    assert!(matches!(
        objs.put("k", b"two".to_vec(), &Cond::Matches("\"nope\"".into())).await,
        Err(ObjError::Precondition)
    ));
    assert!(matches!(objs.delete("k", "\"nope\"").await, Err(ObjError::Precondition)));
    assert_eq!(object(&s3, "k").await.as_deref(), Some(&b"one"[..]));
    objs.put("k", b"two".to_vec(), &Cond::Matches(etag.clone())).await.expect("over its own ETag");
    assert!(matches!(objs.delete("k", &etag).await, Err(ObjError::Precondition)), "a stale ETag deletes nothing");

    // A holder that froze past its lease, then a new run takes the stack over.
    let frozen_lock = LockInfo { expires: 0, ..LockInfo::new("deploy", Duration::from_secs(1)) };
    objs.put(LOCK_KEY, serde_json::to_vec(&frozen_lock).expect("json"), &Cond::Absent).await.expect("stale lock");
    let (mut frozen, _) = StateObject::read(objs.clone(), STATE_KEY, STACK).await.expect("read");
    frozen.write(br#"{"version": 1, "stack": "drift-it"}"#.to_vec()).await.expect("the frozen run's first write");
    let opts = LockOptions { lease: Duration::from_secs(30), operation: "deploy".into() };
    let objs2 = objs.clone();
    let loc2 = loc.clone();
    let store = tokio::task::spawn_blocking(move || S3Store::open_on(objs2, &loc2, STACK, &opts)).await.expect("join");
    let (store, _) = store.expect("took the expired lock over");
    let before = object(&s3, STATE_KEY).await;
    let refused = frozen.write(br#"{"version": 1, "stack": "drift-it", "resources": {}}"#.to_vec()).await;
    assert!(matches!(refused, Err(StateError::Conflict { .. })), "{refused:?}");
    assert_eq!(object(&s3, STATE_KEY).await, before, "the stale write changed nothing");
    let lock: LockInfo = serde_json::from_slice(&object(&s3, LOCK_KEY).await.expect("lock")).expect("lock JSON");
    assert_ne!(lock.id, frozen_lock.id, "the lock is the new holder's");
    tokio::task::spawn_blocking(move || drop(store)).await.expect("release");
    assert!(object(&s3, LOCK_KEY).await.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_throttling_and_5xx_on_lock_and_state_calls_are_retried_and_nothing_is_lost() {
    let env = Env::with_proxy();
    let s3 = bucket(&env).await;
    env.proxy().rules(json!([
        {"op": "HeadBucket", "server_error": 503, "count": 1},
        {"op": "PutObject", "throttle": {"status": 503}, "after": 1, "count": 4},
        {"op": "PutObject", "server_error": 503, "after": 6, "count": 2},
        {"op": "GetObject", "server_error": 500, "count": 2},
        {"op": "DeleteObject", "server_error": 503, "count": 1},
    ]));
    env.ironplan(&deploy_args(&[])).assert_ok("deploy under S3 faults");
    let log = env.proxy().log();
    let faulted = |op: &str| log.iter().filter(|e| e["op"] == op && !e["fault"].is_null()).count();
    for op in ["HeadBucket", "PutObject", "GetObject", "DeleteObject"] {
        assert!(faulted(op) > 0, "{op} was faulted at least once: {log:?}");
    }
    assert!(object(&s3, LOCK_KEY).await.is_none(), "released despite a 503");
    let state = state_doc(&s3).await;
    let resources = state["resources"].as_object().expect("resources");
    assert_eq!(resources.len(), 5, "{state}");
    assert!(resources.values().all(|r| r["status"] == "ready"), "{state}");
    let vpc = resources["vpc"]["id"].as_str().expect("id").to_string();
    assert!(vpc_exists(&env, &vpc).await);
    env.proxy().rules(json!([]));
    env.ironplan(&["teardown", PLAN, "--state", STATE]).assert_ok("teardown");
}

/// moto serves every region from one server and never redirects, so the proxy plays S3: the
/// state bucket lives in eu-west-1, and a call for it signed for another region gets S3's 301
/// with `x-amz-bucket-region`. A run in us-east-1 finds the bucket's region with its first S3
/// call (HeadBucket) and signs every lock and state call for eu-west-1: a lock call signed for
/// us-east-1 would be answered 301 PermanentRedirect and fail the run.
#[tokio::test(flavor = "multi_thread")]
async fn a_state_bucket_in_another_region_is_found_before_the_first_lock_call() {
    let env = Env::with_proxy();
    let s3 = bucket(&env).await;
    env.proxy().bucket_regions(json!({ BUCKET: "eu-west-1" }));
    // Slow at its security group, so the lock can be read while the run holds it.
    env.proxy().rules(json!([{"op": "CreateSecurityGroup", "delay_ms": 2500, "count": 1}]));
    let run = env.spawn(&deploy_args(&[]));
    let held = wait_for_lock(&s3).await;
    assert_eq!(held.pid, run.id(), "the lock was written, naming its holder");
    let out = crate::common::Run::from(run.wait_with_output().expect("run"));
    out.assert_ok("deploy with the state bucket in eu-west-1 and AWS_REGION=us-east-1");
    let state = state_doc(&s3).await;
    let resources = state["resources"].as_object().expect("resources");
    assert!(resources.len() == 5 && resources.values().all(|r| r["status"] == "ready"), "{state}");
    assert!(object(&s3, LOCK_KEY).await.is_none(), "released");

    let log = env.proxy().log();
    let calls: Vec<&Value> = log.iter().filter(|e| e["service"] == "s3").collect();
    let show = || {
        calls.iter().map(|e| format!("{} {} {} {}", e["op"], e["path"], e["region"], e["status"])).collect::<Vec<_>>()
    };
    assert_eq!(
        calls.first().map(|e| (&e["op"], &e["region"], &e["status"])),
        Some((&json!("HeadBucket"), &json!("us-east-1"), &json!(301))),
        "the first S3 call asks where the bucket is: {:?}",
        show()
    );
    assert!(calls[1..].iter().all(|e| e["region"] == "eu-west-1" && e["fault"].is_null()), "{:?}", show());
    let lock_key = format!("/{BUCKET}/{LOCK_KEY}");
    let lock_puts: Vec<_> = calls.iter().filter(|e| e["op"] == "PutObject" && e["path"] == lock_key.as_str()).collect();
    assert!(!lock_puts.is_empty(), "the lock was written: {:?}", show());
    assert!(lock_puts.iter().all(|e| e["region"] == "eu-west-1" && e["status"] == 200), "{:?}", show());
    assert!(
        calls.iter().any(|e| e["op"] == "PutObject" && e["path"] == format!("/{BUCKET}/{STATE_KEY}").as_str()),
        "{:?}",
        show()
    );
    // The stack's own resources stay in the stack's region.
    assert!(log.iter().filter(|e| e["service"] == "ec2").all(|e| e["region"] == "us-east-1"), "{log:?}");
    env.proxy().rules(json!([]));
    env.ironplan(&["teardown", PLAN, "--state", STATE]).assert_ok("teardown, state in eu-west-1");
    assert!(state_doc(&s3).await["resources"].as_object().is_some_and(|r| r.is_empty()));
}

#[tokio::test(flavor = "multi_thread")]
async fn state_migrate_moves_a_stack_to_s3_and_back() {
    let env = Env::start();
    let s3 = bucket(&env).await;
    env.ironplan(&["deploy", PLAN, "--allow", "vpc-flow-logs"]).assert_ok("deploy, local state");
    let local = env.state(STACK);
    let moved = env.ironplan(&["state", "migrate", PLAN, "--to", STATE]);
    moved.assert_ok("migrate to S3");
    assert!(!env.state_path(STACK).exists(), "the local state is gone");
    assert_eq!(state_doc(&s3).await["resources"], local["resources"], "S3 holds the same state");
    assert!(object(&s3, LOCK_KEY).await.is_none(), "both locks released");
    let plan = env.ironplan(&["plan", PLAN, "--allow", "vpc-flow-logs", "--state", STATE, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "no change against the migrated state: {}{}", plan.stdout, plan.stderr);
    // A second migration onto a stack that is already there is refused.
    env.ironplan(&["deploy", PLAN, "--allow", "vpc-flow-logs", "--state", STATE]).assert_ok("no-op deploy on S3");
    let back =
        env.ironplan(&["state", "migrate", PLAN, "--state", STATE, "--to", &env.state_dir.path().to_string_lossy()]);
    back.assert_ok("migrate back");
    assert!(object(&s3, STATE_KEY).await.is_none(), "the S3 state is gone");
    assert_eq!(env.state(STACK)["resources"], local["resources"]);
    let twice = env.ironplan(&["state", "migrate", PLAN, "--to", STATE]);
    twice.assert_ok("to S3 again");
    std::fs::write(env.state_path(STACK), serde_json::to_string(&local).expect("json")).expect("a stale local copy");
    let refused = env.ironplan(&["state", "migrate", PLAN, "--to", STATE]);
    assert_eq!(refused.code, 4, "never merged or overwritten: {}", refused.stderr);
    assert!(refused.stderr.contains("already holds a state"), "{}", refused.stderr);
    std::fs::remove_file(env.state_path(STACK)).expect("rm");
    env.ironplan(&["teardown", PLAN, "--state", STATE]).assert_ok("teardown");
}

#[test]
fn bad_state_locations_are_refused_before_any_call() {
    for (loc, why) in
        [("s3://UPPER/x", "lowercase"), ("s3://bucket/../x", "segments"), ("ftp://h/x", "not a state location")]
    {
        let run = crate::common::offline(&["plan", PLAN, "--allow", "vpc-flow-logs", "--state", loc]);
        assert_eq!(run.code, 2, "{loc}: {}", run.stderr);
        assert!(run.stderr.contains(why), "{loc}: {}", run.stderr);
        // The same in the plan's [state] table: an invalid plan, pointing at the value.
        let dir = tempfile::tempdir().expect("temp dir");
        let plan = dir.path().join("p.toml");
        std::fs::write(&plan, format!("[plan]\nname = \"p\"\n\n[state]\nlocation = \"{loc}\"\n")).expect("write");
        let run = crate::common::offline(&["plan", &plan.to_string_lossy()]);
        assert_eq!(run.code, 3, "{loc}: {}", run.stderr);
        assert!(run.stderr.contains("invalid-state-location") && run.stderr.contains(why), "{loc}: {}", run.stderr);
    }
}

/// A run whose lock is taken from it (here: replaced by hand, as a takeover would) stops
/// starting work, saves what it did, and says so. The plan names its S3 state in `[state]`.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_loses_its_lease_stops_new_work_and_says_so() {
    let env = Env::with_proxy();
    let s3 = bucket(&env).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = dir.path().join("drift.toml");
    let text = std::fs::read_to_string(crate::common::root().join(PLAN)).expect("plan");
    std::fs::write(&plan, format!("{text}\n[state]\nlocation = \"{STATE}\"\n")).expect("write plan");
    let plan = plan.to_string_lossy().to_string();
    // Slow security group: the lease is lost while it is being created; its dependents are not started.
    env.proxy().rules(json!([{"op": "CreateSecurityGroup", "delay_ms": 5000, "count": 1}]));
    let run = env.spawn(&["deploy", &plan, "--allow", "vpc-flow-logs", "--lock-lease", "2", "--output", "plain"]);
    let held = wait_for_lock(&s3).await;
    let other = LockInfo { id: "someone-else".into(), ..held.clone() };
    s3.put_object()
        .bucket(BUCKET)
        .key(LOCK_KEY)
        .body(serde_json::to_vec(&other).expect("json").into())
        .send()
        .await
        .expect("replace the lock");
    let out = crate::common::Run::from(run.wait_with_output().expect("run"));
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("lease could not be renewed: no new resource starts"), "{}", out.stderr);
    let lock: LockInfo = serde_json::from_slice(&object(&s3, LOCK_KEY).await.expect("lock")).expect("json");
    assert_eq!(lock.id, "someone-else", "the other holder's lock is left alone");
    // What the run did is in the state (its writes were still compare-and-swap on the state).
    let state = state_doc(&s3).await;
    assert!(state["resources"].get("vpc").is_some_and(|v| v["status"] == "ready"), "{state}");
    s3.delete_object().bucket(BUCKET).key(LOCK_KEY).send().await.expect("clear the lock");
    env.proxy().rules(json!([]));
    env.ironplan(&["teardown", &plan]).assert_ok("teardown through the plan's [state]");
    assert!(state_doc(&s3).await["resources"].as_object().is_some_and(|r| r.is_empty()));
}
