//! Failures leave nothing behind: injected faults between the SDK and moto (the proxy in
//! scripts/faultproxy.py), crashes, throttling, a second deploy, a broken state file.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::Env;
use crate::inventory::{added, added_counts, inventory};

const PLAN: &str = "plans/healthcare-pipeline.toml";
const STACK: &str = "healthcare-pipeline-dev";

/// From the (after+1)-th call on, `op` fails with an error nothing retries: the create fails
/// for good. UpdateAccount fails once only, since the rollback restores the account setting
/// with the same operation.
fn inject(op: &str, after: usize) -> Value {
    let count = if op == "UpdateAccount" { 1 } else { -1 };
    json!([{
        "op": op,
        "after": after,
        "count": count,
        "fail": { "status": 400, "code": "InjectedFault", "message": "injected by the test" }
    }])
}

fn summary(run: &crate::common::Run) -> Value {
    run.events().into_iter().rev().find(|e| e["event"] == "summary").unwrap_or_else(|| {
        panic!("no summary:\nstdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    })
}

fn state_len(env: &Env) -> usize {
    if !env.state_path(STACK).exists() {
        return 0;
    }
    env.state(STACK)["resources"].as_object().map_or(0, |m| m.len())
}

/// One failed create, rolled back; returns (failed resource, rolled back count).
async fn fail_and_roll_back(op: &str, after: usize) -> (String, usize) {
    let env = Env::with_proxy();
    let ctx = env.ctx().await;
    let before = inventory(&ctx).await;
    env.proxy().rules(inject(op, after));
    let run = env.ironplan(&["deploy", PLAN, "--output", "json"]);
    assert_eq!(run.code, 1, "{op}: deploy should fail\n{}", run.stderr);
    let s = summary(&run);
    let failed = s["failed"].as_array().cloned().unwrap_or_default();
    let ours = failed.iter().find(|f| f["code"] == "InjectedFault").unwrap_or_else(|| panic!("{op}: {s}"));
    assert_eq!(ours["operation"], op, "{s}");
    assert!(ours["resource"].as_str().is_some_and(|r| !r.is_empty()));
    assert_eq!(s["kept"].as_array().map(Vec::len), Some(0), "{op}: nothing is kept: {s}");
    let left = added(&before, &inventory(&ctx).await);
    assert!(left.is_empty(), "{op}: the emulator still holds {left:?}");
    assert_eq!(state_len(&env), 0, "{op}: the state is not empty");
    (ours["resource"].as_str().unwrap_or_default().to_string(), s["rolled_back"].as_array().map_or(0, Vec::len))
}

/// A permanent failure of a create, for resources of every service at every depth of the
/// graph: the run stops, rolls back exactly what it created, and nothing remains.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_create_rolls_back_everything_the_run_created() {
    let cases = [
        "CreateAlias",            // kms, wave 2
        "CreateStream",           // kinesis, wave 2
        "CreateNatGateway",       // ec2, wave 3
        "CreateFileSystem",       // efs, wave 2
        "CreateReplicationGroup", // elasticache, wave 4
        "CreateDBInstance",       // rds, wave 5
        "PutIntegrationResponse", // apigateway, wave 5
        "RegisterTaskDefinition", // ecs, wave 6
        "CreateService",          // ecs, wave 7
        "PutMetricAlarm",         // cloudwatch
        "PutScalingPolicy",       // application auto scaling, the last wave
    ];
    for op in cases {
        let (resource, rolled_back) = fail_and_roll_back(op, 0).await;
        eprintln!("{op:24} failed {resource:24} rolled back {rolled_back:2} leftovers 0");
    }
}

/// `make chaos`: every one of the 56 creates fails in turn (the k-th call of its operation),
/// and each run leaves nothing. Prints a table. Bounded: 56 runs of a few seconds each.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "long: run with `make chaos`"]
async fn chaos_every_create_fails_in_turn() {
    // Every create call of the plan, as (operation, how many resources use it).
    let ops: &[(&str, usize)] = &[
        ("CreateKey", 1),
        ("CreateAlias", 1),
        ("CreateVpc", 1),
        ("CreateInternetGateway", 1),
        ("CreateSubnet", 4),
        ("AllocateAddress", 1),
        ("CreateNatGateway", 1),
        ("CreateRouteTable", 2),
        ("AssociateRouteTable", 4),
        ("CreateRole", 4),
        ("PutRolePolicy", 2),
        ("CreateLogGroup", 4),
        ("CreateFlowLogs", 1),
        ("CreateSecurityGroup", 4),
        ("CreateStream", 1),
        ("CreateDBSubnetGroup", 1),
        ("CreateDBCluster", 1),
        ("CreateDBInstance", 1),
        ("CreateCacheSubnetGroup", 1),
        ("CreateReplicationGroup", 1),
        ("CreateFileSystem", 1),
        ("CreateMountTarget", 2),
        ("CreateCluster", 1),
        ("RegisterTaskDefinition", 1),
        ("CreateService", 1),
        ("RegisterScalableTarget", 1),
        ("PutScalingPolicy", 1),
        ("UpdateAccount", 1),
        ("CreateRestApi", 1),
        ("CreateResource", 1),
        ("PutMethod", 1),
        ("PutIntegration", 1),
        ("PutMethodResponse", 1),
        ("PutIntegrationResponse", 1),
        ("CreateDeployment", 1),
        ("CreateStage", 1),
        ("PutMetricAlarm", 2),
    ];
    assert_eq!(ops.iter().map(|(_, n)| n).sum::<usize>(), 56);
    let started = Instant::now();
    println!("{:24} {:3} {:24} {:>11} {:>9}", "operation", "k", "failed resource", "rolled back", "leftovers");
    for (op, n) in ops {
        for k in 0..*n {
            let (resource, rolled_back) = fail_and_roll_back(op, k).await;
            println!("{op:24} {k:3} {resource:24} {rolled_back:>11} {:>9}", 0);
        }
    }
    println!("56 runs, 0 leftovers, in {:.0}s", started.elapsed().as_secs_f64());
}

/// With `--on-failure keep` the created resources stay and are recorded; the next deploy
/// resumes and creates only the rest.
#[tokio::test(flavor = "multi_thread")]
async fn keep_leaves_what_was_created_and_the_next_deploy_resumes() {
    let env = Env::with_proxy();
    env.proxy().rules(inject("CreateDBInstance", 0));
    let run = env.ironplan(&["deploy", PLAN, "--output", "json", "--on-failure", "keep"]);
    assert_eq!(run.code, 1);
    let s = summary(&run);
    let kept = s["kept"].as_array().map_or(0, Vec::len);
    assert!(kept > 0 && kept < 56, "{s}");
    assert_eq!(state_len(&env), kept);
    env.proxy().rules(json!([]));
    let again = env.ironplan(&["deploy", PLAN, "--output", "json"]);
    again.assert_ok("resumed deploy");
    let s = summary(&again);
    assert_eq!(s["existing"].as_array().map(Vec::len), Some(kept));
    assert_eq!(s["created"].as_array().map(Vec::len), Some(56 - kept));
    assert_eq!(state_len(&env), 56);
    env.ironplan(&["teardown", PLAN]).assert_ok("teardown");
}

/// 20 % of all calls throttled and 5 % answered 5xx: deploy and teardown both succeed.
#[tokio::test(flavor = "multi_thread")]
async fn deploy_and_teardown_survive_throttling_and_server_errors() {
    let env = Env::with_proxy();
    let ctx = env.ctx().await;
    let before = inventory(&ctx).await;
    env.proxy().rules(json!([
        { "op": "*", "rate": 0.2, "throttle": true },
        { "op": "*", "rate": 0.0625, "server_error": 503 },
    ]));
    let up = env.ironplan(&["deploy", PLAN, "--output", "json"]);
    up.assert_ok("deploy under throttling");
    assert_eq!(summary(&up)["created"].as_array().map(Vec::len), Some(56));
    let log = env.proxy().log();
    let throttled = log.iter().filter(|e| e["fault"] == "throttle").count();
    let errors = log.iter().filter(|e| e["fault"] == "server_error").count();
    assert!(throttled > 20 && errors > 3, "faults injected: {throttled} throttled, {errors} 5xx");
    let down = env.ironplan(&["teardown", PLAN, "--output", "json"]);
    down.assert_ok("teardown under throttling");
    let left = added(&before, &inventory(&ctx).await);
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A second deploy of the same stack while one runs is refused, naming the holder; nothing
/// is corrupted.
#[tokio::test(flavor = "multi_thread")]
async fn a_concurrent_deploy_is_refused() {
    let env = Env::with_proxy();
    env.proxy().rules(json!([{ "op": "CreateVpc", "delay_ms": 3000 }]));
    let first = env.spawn(&["deploy", PLAN, "--output", "json"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !env.proxy().log().iter().any(|e| e["op"] == "CreateVpc") {
        assert!(Instant::now() < deadline, "the first deploy never reached CreateVpc");
        std::thread::sleep(Duration::from_millis(50));
    }
    let second = env.ironplan(&["deploy", PLAN]);
    assert_eq!(second.code, 4, "{}", second.stderr);
    assert!(second.stderr.contains("locked by another ironplan") && second.stderr.contains("pid"), "{}", second.stderr);
    let out = first.wait_with_output().expect("first deploy");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(state_len(&env), 56);
}

/// A truncated state file is refused before any AWS call, and left as it was.
#[test]
fn a_truncated_state_is_refused_without_any_aws_call() {
    let env = Env::with_proxy();
    let path = env.state_path(STACK);
    std::fs::create_dir_all(path.parent().expect("dir")).expect("dir");
    let broken =
        "{\n  \"version\": 1,\n  \"stack\": \"healthcare-pipeline-dev\",\n  \"resources\": {\n    \"vpc\": {\"ty";
    std::fs::write(&path, broken).expect("write");
    for cmd in ["deploy", "teardown"] {
        let run = env.ironplan(&[cmd, PLAN]);
        assert_eq!(run.code, 4, "{cmd}: {}", run.stderr);
        assert!(run.stderr.contains("corrupt"), "{}", run.stderr);
    }
    assert!(env.proxy().log().is_empty(), "no AWS call may be made: {:?}", env.proxy().log());
    assert_eq!(std::fs::read_to_string(&path).expect("state"), broken);
}

/// Ctrl-C: the first one stops starting work, lets running calls finish, and rolls back.
#[tokio::test(flavor = "multi_thread")]
async fn the_first_ctrl_c_stops_and_rolls_back() {
    let env = Env::with_proxy();
    let ctx = env.ctx().await;
    let before = inventory(&ctx).await;
    env.proxy().rules(json!([{ "op": "CreateDBCluster", "delay_ms": 2000 }]));
    let child = env.spawn(&["deploy", PLAN, "--output", "json"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !env.proxy().log().iter().any(|e| e["op"] == "CreateDBCluster") {
        assert!(Instant::now() < deadline, "never reached CreateDBCluster");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = child.id().to_string();
    std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill -INT");
    let out = child.wait_with_output().expect("deploy");
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let run = crate::common::Run::from(out);
    let s = summary(&run);
    assert_eq!(s["interrupted"], true);
    assert!(s["rolled_back"].as_array().is_some_and(|r| !r.is_empty()), "{s}");
    let left = added(&before, &inventory(&ctx).await);
    assert!(left.is_empty(), "left behind: {left:?}");
    assert_eq!(state_len(&env), 0);
}

/// kill -9 at many points of a deploy, including between AWS accepting a create and the
/// state recording it; the next deploy adopts what exists: exactly the plan's resources, none
/// duplicated; teardown then leaves nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_deploy_resumes_without_duplicates() {
    // The shape of a clean deploy, to compare against.
    let clean = Env::start();
    let cctx = clean.ctx().await;
    let base = inventory(&cctx).await;
    clean.ironplan(&["deploy", PLAN]).assert_ok("clean deploy");
    let expected = added_counts(&base, &inventory(&cctx).await);

    // Each point holds the answer to one create (it already happened in the emulator) and
    // kills the deploy meanwhile.
    let points = [
        "CreateKey",
        "CreateVpc",
        "CreateRole",
        "CreateSubnet",
        "CreateSecurityGroup",
        "CreateNatGateway",
        "CreateStream",
        "CreateDBCluster",
        "CreateReplicationGroup",
        "CreateMountTarget",
        "RegisterTaskDefinition",
        "CreateService",
        "CreateRestApi",
        "CreateDeployment",
    ];
    for op in points {
        let env = Env::with_proxy();
        let ctx = env.ctx().await;
        let before = inventory(&ctx).await;
        env.proxy().rules(json!([{ "op": op, "delay_after_ms": 4000, "count": 1 }]));
        let mut child = env.spawn(&["deploy", PLAN, "--output", "json"]);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !env.proxy().log().iter().any(|e| e["op"] == op && e["status"].is_number()) {
            assert!(Instant::now() < deadline, "{op}: never reached");
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().expect("kill -9");
        let _ = child.wait();
        env.proxy().rules(json!([]));

        let again = env.ironplan(&["deploy", PLAN, "--output", "json"]);
        again.assert_ok(&format!("deploy after a kill at {op}"));
        assert_eq!(state_len(&env), 56, "{op}");
        let counts = added_counts(&before, &inventory(&ctx).await);
        assert_eq!(counts, expected, "{op}: the emulator holds other resources than a clean deploy makes");

        env.ironplan(&["teardown", PLAN]).assert_ok(&format!("teardown after a kill at {op}"));
        let left = added(&before, &inventory(&ctx).await);
        assert!(left.is_empty(), "{op}: left behind {left:?}");
    }
}

/// With the state file lost, `teardown --discover` finds the stack's resources in AWS (by
/// name, parent keys and the stack's tags) and deletes every one of them.
#[tokio::test(flavor = "multi_thread")]
async fn teardown_discover_deletes_a_stack_whose_state_was_lost() {
    let env = Env::start();
    let ctx = env.ctx().await;
    let before = inventory(&ctx).await;
    env.ironplan(&["deploy", PLAN]).assert_ok("deploy");
    std::fs::remove_file(env.state_path(STACK)).expect("lose the state");

    let blind = env.ironplan(&["teardown", PLAN]);
    blind.assert_ok("teardown without a state");
    assert!(blind.stderr.contains("0 deleted"), "{}", blind.stderr);

    let run = env.ironplan(&["teardown", PLAN, "--discover", "--output", "json"]);
    run.assert_ok("teardown --discover");
    let adopted = run.events().iter().filter(|e| e["event"] == "adopted").count();
    assert_eq!(adopted, 56, "{}", run.stdout);
    assert_eq!(summary(&run)["deleted"].as_array().map(Vec::len), Some(56));
    let left = added(&before, &inventory(&ctx).await);
    assert!(left.is_empty(), "left behind: {left:?}");
    assert_eq!(state_len(&env), 0);
}

/// Day two under faults, on `examples/audited-network.toml`: a deploy killed (-9) while its
/// update is in flight leaves the update's intent in the state, and the next deploy finishes
/// it; an update that fails is rolled back to the old value, and a created resource of the
/// same run is deleted again. Checked through the SDK.
#[tokio::test(flavor = "multi_thread")]
async fn an_update_killed_or_failed_midway_resumes_or_rolls_back() {
    const NET: &str = "examples/audited-network.toml";
    const NET_STACK: &str = "audited-network-dev";
    let env = Env::with_proxy();
    env.ironplan(&["deploy", NET]).assert_ok("deploy");
    let ctx = env.ctx().await;
    let retention = || async {
        let groups = ctx.logs.describe_log_groups().log_group_name_prefix("/aws/vpc/audited-network-dev").send().await;
        groups.expect("log groups").log_groups()[0].retention_in_days()
    };
    let dir = tempfile::tempdir().expect("temp");
    let text = std::fs::read_to_string(crate::common::root().join(NET)).expect("plan");
    let changed = dir.path().join("changed.toml");
    std::fs::write(&changed, text.replace("retention_in_days = 2192", "retention_in_days = 365")).expect("write");
    let changed = changed.to_str().expect("utf-8 path");

    // kill -9 once AWS answered the update call, before the state recorded it done.
    env.proxy().rules(json!([{ "op": "PutRetentionPolicy", "delay_after_ms": 4000, "count": 1 }]));
    let seen = env.proxy().log().len();
    let mut child = env.spawn(&["deploy", changed, "--output", "json"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !env.proxy().log().iter().skip(seen).any(|e| e["op"] == "PutRetentionPolicy" && e["status"].is_number()) {
        assert!(Instant::now() < deadline, "the update never reached AWS");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill -9");
    let _ = child.wait();
    env.proxy().rules(json!([]));
    let left = env.state(NET_STACK);
    assert_eq!(left["resources"]["flow_logs"]["status"], "updating", "the intent is in the state");
    assert_eq!(left["resources"]["flow_logs"]["previous"]["retention_in_days"], 2192);
    let again = env.ironplan(&["deploy", changed]);
    again.assert_ok("deploy after the kill");
    assert!(again.stderr.contains("1 updated"), "{}", again.stderr);
    assert_eq!(retention().await, Some(365));
    let done = env.state(NET_STACK);
    assert_eq!(done["resources"]["flow_logs"]["status"], "ready");
    assert!(done["resources"]["flow_logs"].get("previous").is_none());

    // Back to 2192, with a new Elastic IP whose create fails for good: the EIP's rollback is
    // nothing to delete, the update's is the old retention again.
    let failing = dir.path().join("failing.toml");
    let extra = "\n[resources.eip2]\ntype = \"ec2:Eip\"\ndomain = \"vpc\"\n";
    std::fs::write(&failing, format!("{text}{extra}")).expect("write");
    env.proxy().rules(json!([{ "op": "AllocateAddress", "count": -1,
        "fail": { "status": 400, "code": "InjectedFault", "message": "injected by the test" } }]));
    let run = env.ironplan(&["deploy", failing.to_str().expect("utf-8 path"), "--output", "json"]);
    env.proxy().rules(json!([]));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let s = summary(&run);
    assert_eq!(s["restored"], json!(["flow_logs"]), "{s}");
    assert_eq!(retention().await, Some(365), "the old value is back in AWS");
    let after = env.state(NET_STACK);
    assert_eq!(after["resources"]["flow_logs"]["props"]["retention_in_days"], 365);
    assert_eq!(after["resources"]["flow_logs"]["status"], "ready");
    assert!(!after["resources"].as_object().expect("resources").contains_key("eip2"));

    env.ironplan(&["teardown", changed]).assert_ok("teardown");
}
