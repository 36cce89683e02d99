//! Drift made outside ironplan (a changed retention and tag, a deleted alarm, an extra security
//! group rule): `ironplan drift` reports each, `deploy --refresh` puts each back; all checked
//! through the SDK.

use aws_sdk_ec2::types::{IpPermission, IpRange};
use serde_json::Value;

use crate::common::Env;

const PLAN: &str = "tests/fixtures/stacks/drift.toml";
const STACK: &str = "drift-it";
const WAIVE: [&str; 2] = ["--allow", "vpc-flow-logs"];

fn verdicts(report: &Value) -> std::collections::BTreeMap<String, String> {
    report["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| (r["name"].as_str().unwrap_or("").to_string(), r["verdict"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn drifted_properties(report: &Value, name: &str) -> Vec<String> {
    let r = report["resources"].as_array().expect("resources").iter().find(|r| r["name"] == name).expect("resource");
    r["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .map(|p| p["property"].as_str().unwrap_or("").into())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_outside_ironplan_is_reported_and_put_back() {
    let env = Env::start();
    let deploy = |extra: &[&str]| env.ironplan(&[&["deploy", PLAN][..], &WAIVE, extra].concat());
    deploy(&[]).assert_ok("deploy");
    let state = env.state(STACK);
    let id = |n: &str| state["resources"][n]["id"].as_str().expect("id").to_string();

    let clean = env.ironplan(&[&["drift", PLAN][..], &WAIVE].concat());
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    assert!(clean.stdout.contains("5 resources read · 5 in sync, 0 drifted, 0 deleted"), "{}", clean.stdout);

    // Someone changes the stack by hand.
    let ctx = env.ctx().await;
    let group = id("logs");
    ctx.logs.put_retention_policy().log_group_name(&group).retention_in_days(7).send().await.expect("retention");
    let arn = state["resources"]["logs"]["outputs"]["arn"].as_str().expect("arn");
    ctx.logs.tag_resource().resource_arn(arn).tags("Team", "someone-else").send().await.expect("tag");
    ctx.cloudwatch.delete_alarms().alarm_names(id("alarm")).send().await.expect("delete alarm");
    let ssh = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(22)
        .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
        .build();
    ctx.ec2
        .authorize_security_group_ingress()
        .group_id(id("sg"))
        .ip_permissions(ssh.clone())
        .send()
        .await
        .expect("rule");

    let run = env.ironplan(&[&["drift", PLAN, "--json"][..], &WAIVE].concat());
    assert_eq!(run.code, 5, "drift has its exit code: {}{}", run.stdout, run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(report["drifted"], true);
    let v = verdicts(&report);
    assert_eq!(v["logs"], "drifted");
    assert_eq!(v["alarm"], "deleted");
    assert_eq!(v["sg"], "drifted");
    assert_eq!((v["key"].as_str(), v["vpc"].as_str()), ("in_sync", "in_sync"));
    assert_eq!(drifted_properties(&report, "logs"), ["retention_in_days", "tags"]);
    assert_eq!(drifted_properties(&report, "sg"), ["ingress"]);
    let text = env.ironplan(&[&["drift", PLAN][..], &WAIVE].concat());
    assert!(text.stdout.contains("retention_in_days: ironplan set 2192, AWS has 7"), "{}", text.stdout);
    assert!(text.stdout.contains("alarm (cloudwatch:MetricAlarm)") && text.stdout.contains("deleted outside"));

    // The plan against the state sees nothing; against AWS (--refresh), the way back.
    let stale = env.ironplan(&[&["plan", PLAN, "--detailed-exitcode"][..], &WAIVE].concat());
    assert_eq!(stale.code, 0, "{}{}", stale.stdout, stale.stderr);
    let fresh = env.ironplan(&[&["plan", PLAN, "--detailed-exitcode", "--refresh"][..], &WAIVE].concat());
    assert_eq!(fresh.code, 5, "{}{}", fresh.stdout, fresh.stderr);
    assert!(fresh.stdout.contains("retention_in_days: 7 → 2192"), "{}", fresh.stdout);
    assert!(fresh.stdout.contains("alarm") && fresh.stdout.contains("create"), "{}", fresh.stdout);

    // deploy --refresh puts it all back: the retention and tag, the alarm, the rule revoked.
    let fixed = deploy(&["--refresh"]);
    fixed.assert_ok("deploy --refresh");
    assert!(fixed.stderr.contains("1 created") && fixed.stderr.contains("2 updated"), "{}", fixed.stderr);
    let groups = ctx.ec2.describe_security_groups().group_ids(id("sg")).send().await.expect("group");
    let ports: Vec<Option<i32>> = groups.security_groups()[0].ip_permissions().iter().map(|p| p.from_port()).collect();
    assert_eq!(ports, [Some(443)], "the rule added by hand is revoked");
    let live = ctx.logs.describe_log_groups().log_group_name_prefix(&group).send().await.expect("groups");
    assert_eq!(live.log_groups()[0].retention_in_days(), Some(2192));
    let tags = ctx.logs.list_tags_for_resource().resource_arn(arn).send().await.expect("tags");
    assert_eq!(tags.tags().and_then(|t| t.get("Team")).map(String::as_str), Some("platform"));
    let alarms = ctx.cloudwatch.describe_alarms().alarm_names(id("alarm")).send().await.expect("alarms");
    assert_eq!(alarms.metric_alarms().len(), 1, "the deleted alarm is created again");
    let after = env.ironplan(&[&["drift", PLAN][..], &WAIVE].concat());
    assert_eq!(after.code, 0, "{}", after.stdout);

    env.ironplan(&[&["teardown", PLAN][..], &WAIVE].concat()).assert_ok("teardown");
    let groups = ctx.logs.describe_log_groups().log_group_name_prefix(&group).send().await.expect("groups");
    assert!(groups.log_groups().is_empty());
}

/// The reads shared across types in one run (one GetResources of the API for its five child
/// types, one authorization-details listing and one ListRoles for roles and inline policies)
/// still see each change made by hand: a role's description, an inline policy's document, an
/// integration response's selection pattern, a deleted method response.
#[tokio::test(flavor = "multi_thread")]
async fn drift_is_seen_through_the_reads_shared_across_types() {
    const PLAN: &str = "tests/fixtures/stacks/drift-shared.toml";
    let env = Env::start();
    env.ironplan(&["deploy", PLAN]).assert_ok("deploy");
    let state = env.state("drift-shared-it");
    let out = |n: &str, k: &str| state["resources"][n]["outputs"][k].as_str().expect("output").to_string();

    let clean = env.ironplan(&["drift", PLAN]);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    assert!(clean.stdout.contains("8 resources read · 8 in sync, 0 drifted, 0 deleted"), "{}", clean.stdout);

    let ctx = env.ctx().await;
    let role = out("role", "name");
    ctx.iam.update_role_description().role_name(&role).description("changed by hand").send().await.expect("role");
    let wider = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}"#;
    let put = ctx.iam.put_role_policy().role_name(&role).policy_name("read-one-stream").policy_document(wider);
    put.send().await.expect("policy");
    let (api, res) = (out("get_items_mock_200", "rest_api_id"), out("get_items_mock_200", "resource_id"));
    ctx.apigateway
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&res)
        .http_method("GET")
        .status_code("200")
        .selection_pattern("5\\d{2}")
        .send()
        .await
        .expect("integration response");
    let del = ctx.apigateway.delete_method_response().rest_api_id(&api).resource_id(&res).http_method("GET");
    del.status_code("200").send().await.expect("method response");

    let run = env.ironplan(&["drift", PLAN, "--json"]);
    assert_eq!(run.code, 5, "{}{}", run.stdout, run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let v = verdicts(&report);
    assert_eq!((v["role"].as_str(), v["policy"].as_str()), ("drifted", "drifted"), "{v:?}");
    assert_eq!(v["get_items_mock_200"], "drifted", "{v:?}");
    assert_eq!(v["get_items_200"], "deleted", "{v:?}");
    for same in ["api", "items", "get_items", "get_items_mock"] {
        assert_eq!(v[same], "in_sync", "{same}: {v:?}");
    }
    assert_eq!(drifted_properties(&report, "role"), ["description"]);
    assert_eq!(drifted_properties(&report, "policy"), ["policy_document"]);
    assert_eq!(drifted_properties(&report, "get_items_mock_200"), ["selection_pattern"]);
    let fresh = env.ironplan(&["plan", PLAN, "--detailed-exitcode", "--refresh"]);
    assert_eq!(fresh.code, 5, "{}{}", fresh.stdout, fresh.stderr);

    // The method response put back by hand before the teardown: moto answers 500 to a delete of
    // one already deleted (ARCHITECTURE.md, moto gaps), where AWS answers 404.
    let put = ctx.apigateway.put_method_response().rest_api_id(&api).resource_id(&res).http_method("GET");
    put.status_code("200").send().await.expect("method response back");
    env.ironplan(&["teardown", PLAN]).assert_ok("teardown");
}
