//! Never touch what is not ours: look-alike resources made outside ironplan, named like plan
//! resources, survive every job (`teardown --discover`, a deploy that collides with them, the
//! resume of a deploy that died before its create landed), and each job says why it left them.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::Env;

const PLAN: &str = "plans/healthcare-pipeline.toml";
const STACK: &str = "healthcare-pipeline-dev";
/// `task_role` of the plan, with the default environment suffix.
const ROLE: &str = "healthcare-task-dev";

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const INLINE: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#;

/// A role made by hand, as a colleague would: its own trust, an inline policy, no tags.
async fn look_alike_role(ctx: &ironplan::aws::Ctx, name: &str) {
    ctx.iam.create_role().role_name(name).assume_role_policy_document(TRUST).send().await.expect("CreateRole");
    ctx.iam
        .put_role_policy()
        .role_name(name)
        .policy_name("colleague")
        .policy_document(INLINE)
        .send()
        .await
        .expect("PutRolePolicy");
}

/// The role is there exactly as it was made: same trust, its inline policy, still no tags.
async fn assert_untouched(ctx: &ironplan::aws::Ctx, name: &str) {
    let role = ctx.iam.get_role().role_name(name).send().await.unwrap_or_else(|e| panic!("{name} was deleted: {e:?}"));
    let role = role.role().expect("role");
    assert!(role.tags().is_empty(), "{name} was tagged: {:?}", role.tags());
    let trust = percent_decode(role.assume_role_policy_document().unwrap_or_default());
    assert!(trust.contains("lambda.amazonaws.com"), "{name}'s trust was changed: {trust}");
    let inline = ctx.iam.list_role_policies().role_name(name).send().await.expect("ListRolePolicies");
    assert_eq!(inline.policy_names(), ["colleague".to_string()], "{name}'s inline policies were changed");
    let attached = ctx.iam.list_attached_role_policies().role_name(name).send().await.expect("attached");
    assert!(attached.attached_policies().is_empty(), "policies were attached to {name}");
}

/// IAM answers policy documents URL-encoded.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex =
            b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn not_ours<'a>(events: &'a [Value], resource: &str) -> Option<&'a Value> {
    events.iter().find(|e| e["event"] == "not_ours" && e["resource"] == resource)
}

/// The security review's F1: with no state, `teardown --discover` used to adopt an untagged
/// role named like `task_role` ("created by a run that died before recording it") and delete it.
#[tokio::test(flavor = "multi_thread")]
async fn teardown_discover_leaves_a_look_alike_role_alone() {
    let env = Env::start();
    let ctx = env.ctx().await;
    look_alike_role(&ctx, ROLE).await;

    let run = env.ironplan(&["teardown", PLAN, "--discover", "--output", "json"]);
    run.assert_ok("teardown --discover");
    let events = run.events();
    let e = not_ours(&events, "task_role").unwrap_or_else(|| panic!("no not_ours event:\n{}", run.stdout));
    assert_eq!(e["id"], ROLE);
    assert!(e["why"].as_str().is_some_and(|w| w.contains("ironplan:stack")), "{e}");
    assert!(!events.iter().any(|e| e["event"] == "adopted" || e["event"] == "deleting"), "{}", run.stdout);
    assert_untouched(&ctx, ROLE).await;

    // In text: what was found, and why it was left.
    let text = env.ironplan(&["teardown", PLAN, "--discover"]);
    text.assert_ok("teardown --discover (text)");
    assert!(text.stderr.contains(&format!("not ours task_role: iam:Role `{ROLE}` exists but")), "{}", text.stderr);
    assert!(text.stderr.contains("left as they are, not this stack's: task_role"), "{}", text.stderr);
    assert_untouched(&ctx, ROLE).await;
}

/// A deploy whose role name is taken by a look-alike fails on that role, rolls back what it
/// made, and leaves the look-alike exactly as it was.
#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_that_collides_with_a_look_alike_leaves_it_alone() {
    let env = Env::start();
    let ctx = env.ctx().await;
    look_alike_role(&ctx, ROLE).await;

    let run = env.ironplan(&["deploy", PLAN, "--output", "json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let failed = run.events().into_iter().find(|e| e["event"] == "failed" && e["resource"] == "task_role");
    let failed = failed.unwrap_or_else(|| panic!("task_role did not fail:\n{}", run.stdout));
    assert_eq!(failed["operation"], "CreateRole", "{failed}");
    assert_untouched(&ctx, ROLE).await;

    env.ironplan(&["teardown", PLAN]).assert_ok("teardown");
    assert_untouched(&ctx, ROLE).await;
}

/// A deploy dies after recording its intent for a role but before its CreateRole lands; a
/// colleague then makes a role of that name by hand. The next deploy must not take it for the
/// one the dead run made: it refuses, naming the resource and why, and touches nothing of it.
#[tokio::test(flavor = "multi_thread")]
async fn a_resumed_deploy_does_not_adopt_a_look_alike_of_its_intent() {
    let env = Env::with_proxy();
    let ctx = env.ctx().await;
    // Every CreateRole is held, then its connection reset: none reaches the emulator, so the
    // name of any role whose intent is recorded is free for the look-alike.
    env.proxy().rules(json!([{ "op": "CreateRole", "delay_ms": 20000, "reset": true, "count": -1 }]));
    let mut child = env.spawn(&["deploy", PLAN, "--output", "json"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (resource, role_name) = loop {
        assert!(Instant::now() < deadline, "no role intent was recorded");
        if let Ok(text) = std::fs::read_to_string(env.state_path(STACK))
            && let Ok(state) = serde_json::from_str::<Value>(&text)
            && let Some((name, r)) = state["resources"]
                .as_object()
                .and_then(|m| m.iter().find(|(_, r)| r["type"] == "iam:Role" && r["status"] == "creating"))
        {
            break (name.clone(), r["props"]["role_name"].as_str().expect("role_name").to_string());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().expect("kill -9");
    let _ = child.wait();
    env.proxy().rules(json!([]));
    look_alike_role(&ctx, &role_name).await;

    let run = env.ironplan(&["deploy", PLAN, "--output", "json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let events = run.events();
    assert!(!events.iter().any(|e| e["event"] == "adopted" && e["resource"] == resource.as_str()), "{}", run.stdout);
    let failed = events.iter().find(|e| e["event"] == "failed" && e["resource"] == resource.as_str());
    let failed = failed.unwrap_or_else(|| panic!("{resource} did not fail:\n{}", run.stdout));
    assert_eq!(failed["code"], "NotOurs", "{failed}");
    assert!(failed["message"].as_str().is_some_and(|m| m.contains(&role_name) && m.contains("ironplan:stack")));
    assert_untouched(&ctx, &role_name).await;

    env.ironplan(&["teardown", PLAN]).assert_ok("teardown");
    assert_untouched(&ctx, &role_name).await;
}
