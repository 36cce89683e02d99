//! No secret in the state, on stdout or stderr, or in the dry run: sensitive values (a
//! container's environment values, an integration's request templates) reach AWS and nothing
//! else; the state keeps a digest of each, so a change is still seen.

use crate::common::{Env, offline};

const PLAN: &str = "tests/fixtures/valid/sensitive_values.toml";
const SECRETS: [&str; 3] = ["env-value-plain-1234", "env-token-s3cr3t-5678", "tmpl-credential-4711"];

fn assert_hidden(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} shows the sensitive value `{s}`:\n{text}");
    }
}

#[test]
fn the_dry_run_never_prints_a_sensitive_value() {
    for args in [&["plan", PLAN, "--detail"][..], &["plan", PLAN, "--format", "json"][..]] {
        let run = offline(args);
        run.assert_ok("plan");
        assert_hidden("the dry run", &run.stdout);
        assert_hidden("the dry run", &run.stderr);
        assert!(run.stdout.contains("(sensitive)"), "{}", run.stdout);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sensitive_values_reach_aws_but_not_the_state_or_the_output() {
    let env = Env::start();
    let run = env.ironplan(&["deploy", PLAN, "--output", "json"]);
    run.assert_ok("deploy");
    assert_hidden("deploy's stdout", &run.stdout);
    assert_hidden("deploy's stderr", &run.stderr);
    let state = std::fs::read_to_string(env.state_path("sensitive")).expect("state");
    assert_hidden("the state", &state);
    assert!(state.contains("sha256:"), "no digest in the state:\n{state}");

    // AWS got the real values.
    let ctx = env.ctx().await;
    let td = ctx.ecs.describe_task_definition().task_definition("sensitive-task").send().await.expect("task def");
    let env_vars =
        td.task_definition().map(|t| t.container_definitions()[0].environment().to_vec()).unwrap_or_default();
    let token = env_vars.iter().find(|k| k.name() == Some("API_TOKEN")).and_then(|k| k.value());
    assert_eq!(token, Some("env-token-s3cr3t-5678"));

    // A changed secret is seen through its digest, and neither value is printed.
    let changed = std::fs::read_to_string(crate::common::root().join(PLAN))
        .expect("plan")
        .replace("env-token-s3cr3t-5678", "env-token-rotated-9999");
    let dir = tempfile::tempdir().expect("dir");
    let plan = dir.path().join("sensitive.toml");
    std::fs::write(&plan, changed).expect("write");
    let plan = plan.to_str().expect("utf-8 path");
    let diff = env.ironplan(&["plan", plan]);
    diff.assert_ok("plan");
    assert!(diff.stdout.contains("container_definitions: a sensitive value in it changed"), "{}", diff.stdout);
    assert_hidden("the plan's diff", &diff.stdout);
    assert!(!diff.stdout.contains("env-token-rotated-9999"), "{}", diff.stdout);
    // Deploying it makes a new revision with the new value; nothing prints either value.
    let run = env.ironplan(&["deploy", plan]);
    run.assert_ok("deploy the rotated secret");
    assert!(run.stderr.contains("1 replaced"), "{}", run.stderr);
    assert_hidden("the change's deploy", &run.stderr);
    assert!(!run.stderr.contains("env-token-rotated-9999") && !run.stdout.contains("env-token-rotated-9999"));
    let state = std::fs::read_to_string(env.state_path("sensitive")).expect("state");
    assert!(!state.contains("env-token-rotated-9999"), "the new secret is in the state:\n{state}");
    let td = ctx.ecs.describe_task_definition().task_definition("sensitive-task").send().await.expect("task def");
    let env_vars =
        td.task_definition().map(|t| t.container_definitions()[0].environment().to_vec()).unwrap_or_default();
    let token = env_vars.iter().find(|k| k.name() == Some("API_TOKEN")).and_then(|k| k.value());
    assert_eq!(token, Some("env-token-rotated-9999"), "the latest revision has the new value");

    env.ironplan(&["teardown", plan]).assert_ok("teardown");
}
