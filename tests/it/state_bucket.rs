//! `plans/state-bucket.toml` end to end against moto: deployed with the CLI, every setting
//! checked through the SDK, in sync for drift, deployed again with nothing to do, torn down,
//! and nothing left behind; and the bucket it makes used as another stack's state backend.

use aws_sdk_s3::types::{BucketVersioningStatus, ObjectOwnership, ServerSideEncryption};
use serde_json::Value;

use crate::common::Env;
use crate::inventory::{added, inventory};

const PLAN: &str = "plans/state-bucket.toml";
const STACK: &str = "ironplan-state-it";

fn resource<'a>(state: &'a Value, name: &str, field: &str) -> &'a str {
    let r = &state["resources"][name];
    r.get(field)
        .or_else(|| r["outputs"].get(field))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {name}.{field}"))
}

/// GetBucketVersioning's status. moto 5.2.5 wraps its answer in `<GetBucketVersioningResponse>`,
/// which the SDK refuses to parse: the status is then read from the answer it did send.
async fn versioning(ctx: &ironplan::aws::Ctx, bucket: &str) -> String {
    match ctx.s3.get_bucket_versioning().bucket(bucket).send().await {
        Ok(v) => v.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        Err(e) => {
            let body = e.raw_response().and_then(|r| r.body().bytes()).map(String::from_utf8_lossy).unwrap_or_default();
            assert!(body.contains("<GetBucketVersioningResponse"), "GetBucketVersioning: {e:?}");
            body.split_once("<Status>").and_then(|(_, r)| r.split_once("</Status>")).map_or("", |(s, _)| s).to_string()
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_state_bucket_plan_deploys_every_setting_and_tears_down() {
    let env = Env::start();
    let ctx = env.ctx().await;
    let before = inventory(&ctx).await;
    let vars = ["--var", "environment_suffix=it"];
    let with = |cmd: &str, more: &[&'static str]| -> Vec<String> {
        [cmd, PLAN].iter().chain(vars.iter()).chain(more.iter()).map(|s| s.to_string()).collect()
    };
    let run = |args: Vec<String>| env.ironplan(&args.iter().map(String::as_str).collect::<Vec<_>>());

    let deploy = run(with("deploy", &["--output", "json"]));
    deploy.assert_ok("deploy");
    let state = env.state(STACK);
    let bucket = resource(&state, "state_bucket", "id").to_string();
    let key_arn = resource(&state, "state_key", "arn").to_string();
    assert_eq!(bucket, format!("ironplan-state-{}-it", ctx.account_id));
    let outputs = deploy.events().last().map(|e| e["outputs"].clone()).expect("summary");
    assert_eq!(outputs["bucket_name"], Value::from(bucket.as_str()));
    assert_eq!(outputs["kms_key_arn"], Value::from(key_arn.as_str()));
    assert_eq!(outputs["state"], Value::from(format!("s3://{bucket}/ironplan")));

    // Every setting, through the SDK.
    let s3 = &ctx.s3;
    assert_eq!(versioning(&ctx, &bucket).await, BucketVersioningStatus::Enabled.as_str());
    let enc = s3.get_bucket_encryption().bucket(&bucket).send().await.expect("encryption");
    let rules = enc.server_side_encryption_configuration().map(|c| c.rules().to_vec()).unwrap_or_default();
    assert_eq!(rules.len(), 1, "{rules:?}");
    let by_default = rules[0].apply_server_side_encryption_by_default().expect("default encryption");
    assert_eq!(by_default.sse_algorithm(), &ServerSideEncryption::AwsKms);
    assert_eq!(by_default.kms_master_key_id(), Some(key_arn.as_str()), "the plan's key");
    assert_eq!(rules[0].bucket_key_enabled(), Some(true));
    let pab = s3.get_public_access_block().bucket(&bucket).send().await.expect("public access block");
    let pab = pab.public_access_block_configuration().expect("configuration");
    assert_eq!(
        [pab.block_public_acls(), pab.ignore_public_acls(), pab.block_public_policy(), pab.restrict_public_buckets()],
        [Some(true); 4]
    );
    let own = s3.get_bucket_ownership_controls().bucket(&bucket).send().await.expect("ownership");
    let rule = own.ownership_controls().and_then(|c| c.rules().first()).expect("ownership rule");
    assert_eq!(rule.object_ownership(), &ObjectOwnership::BucketOwnerEnforced);
    let policy = s3.get_bucket_policy().bucket(&bucket).send().await.expect("policy");
    let doc: Value = serde_json::from_str(policy.policy().unwrap_or_default()).expect("policy JSON");
    let arn = format!("arn:aws:s3:::{bucket}");
    let deny = doc["Statement"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["Effect"] == "Deny"))
        .unwrap_or_else(|| panic!("no Deny statement: {doc}"));
    assert_eq!(deny["Principal"], "*");
    assert_eq!(deny["Action"], "s3:*");
    assert_eq!(deny["Resource"], serde_json::json!([arn, format!("{arn}/*")]));
    assert_eq!(deny["Condition"]["Bool"]["aws:SecureTransport"], "false");
    // And it is in force: moto evaluates bucket policies, and speaks plain HTTP only.
    let body = aws_sdk_s3::primitives::ByteStream::from_static(b"{}");
    let put = s3.put_object().bucket(&bucket).key("ironplan/probe.json").body(body).send().await;
    let status = put.as_ref().err().and_then(|e| e.raw_response()).map(|r| r.status().as_u16());
    assert_eq!(status, Some(403), "a PutObject without TLS was not denied: {put:?}");
    let tags = s3.get_bucket_tagging().bucket(&bucket).send().await.expect("tags");
    let tag = |k: &str| tags.tag_set().iter().find(|t| t.key() == k).map(|t| t.value().to_string());
    assert_eq!(tag("ironplan:stack").as_deref(), Some(STACK));
    assert_eq!(tag("ironplan:resource").as_deref(), Some("state_bucket"));
    assert_eq!(tag("Compliance").as_deref(), Some("HIPAA"));
    let rotation = ctx.kms.get_key_rotation_status().key_id(&key_arn).send().await.expect("rotation");
    assert!(rotation.key_rotation_enabled());

    // In sync, and a second deploy has nothing to do.
    let drift = run(with("drift", &[]));
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);
    assert!(drift.stdout.contains("3 resources read · 3 in sync"), "{}", drift.stdout);
    let again = run(with("deploy", &["--output", "json"]));
    again.assert_ok("second deploy");
    assert_eq!(again.events().iter().filter(|e| e["event"] == "exists").count(), 3, "{}", again.stdout);

    // Teardown: the (empty) bucket goes, the key is scheduled for deletion, nothing is left.
    let down = run(with("teardown", &["--output", "json"]));
    down.assert_ok("teardown");
    let head = s3.head_bucket().bucket(&bucket).send().await;
    assert_eq!(head.as_ref().err().and_then(|e| e.raw_response()).map(|r| r.status().as_u16()), Some(404), "{head:?}");
    let after = inventory(&ctx).await;
    assert!(added(&before, &after).is_empty(), "left behind: {:?}", added(&before, &after));
    assert_eq!(env.state(STACK)["resources"].as_object().map(|m| m.len()), Some(0));
}

/// A small stack to keep in the state bucket: a key and a log group whose tag the test changes.
const APP: &str = r#"
[plan]
name = "app"

[variables.team]
default = "platform"

[resources.key]
type = "kms:Key"
description = "app logs"
enable_key_rotation = true

[resources.logs]
type = "logs:LogGroup"
log_group_name = "/app/it"
kms_key_id = "${key.arn}"
retention_in_days = 2192
tags = { Team = "${var.team}" }
"#;

/// The state bucket as what it is for: deployed (local state) from the plan, then another
/// stack deploys with `--state s3://BUCKET/ironplan`, and its state object is versioned (each
/// write a version, the older ones readable) and encrypted with the plan's KMS key. Torn down:
/// the stack, then the bucket, refused while it holds the stack's history, deleted once the
/// state says `force_destroy`.
#[tokio::test(flavor = "multi_thread")]
async fn the_state_bucket_holds_another_stacks_state_versioned_and_kms_encrypted() {
    let env = Env::start();
    let ctx = env.ctx().await;
    let before = inventory(&ctx).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // moto evaluates bucket policies without their conditions (ARCHITECTURE.md, moto gaps): the
    // TLS-only statement (Deny when `aws:SecureTransport` is false) denies every object call,
    // TLS or not, and the tests speak plain HTTP anyway. So this copy leaves `tls_only` off; the
    // test above proves the policy is put.
    let text = std::fs::read_to_string(crate::common::root().join(PLAN)).expect("plan");
    assert!(text.contains("tls_only = true\n"), "the plan sets tls_only");
    let bucket_plan = dir.path().join("state-bucket.toml");
    std::fs::write(&bucket_plan, text.replace("tls_only = true\n", "tls_only = false\n")).expect("write");
    let bucket_plan = bucket_plan.to_string_lossy().to_string();
    let app = dir.path().join("app.toml");
    std::fs::write(&app, APP).expect("write");
    let app = app.to_string_lossy().to_string();
    let vars = ["--var", "environment_suffix=backend"];
    // The policy rule that wants TLS only is waived, as a user would for a reason they can name.
    let waive = ["--allow", "s3-tls-only"];

    let deploy = env.ironplan(&[&["deploy", &bucket_plan, "--output", "json"][..], &vars, &waive].concat());
    deploy.assert_ok("deploy the state bucket, local state");
    let local = env.state("ironplan-state-backend");
    let bucket = resource(&local, "state_bucket", "id").to_string();
    let key_arn = resource(&local, "state_key", "arn").to_string();
    let outputs = deploy.events().last().map(|e| e["outputs"].clone()).expect("summary");
    let location = outputs["state"].as_str().expect("the state output").to_string();
    assert_eq!(location, format!("s3://{bucket}/ironplan"));

    env.ironplan(&["deploy", &app, "--state", &location]).assert_ok("deploy the app, state in the bucket");
    assert!(!env.state_path("app").exists(), "nothing local for the app");
    let s3 = &ctx.s3;
    let state_key = "ironplan/app.json";
    let head = s3.head_object().bucket(&bucket).key(state_key).send().await.expect("the app's state object");
    assert_eq!(head.server_side_encryption(), Some(&ServerSideEncryption::AwsKms), "{head:?}");
    assert_eq!(head.ssekms_key_id(), Some(key_arn.as_str()), "encrypted with the plan's key");
    let versions = |out: aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput| -> Vec<String> {
        out.versions()
            .iter()
            .filter(|v| v.key() == Some(state_key))
            .filter_map(|v| v.version_id().map(str::to_owned))
            .collect()
    };
    let first = versions(s3.list_object_versions().bucket(&bucket).prefix(state_key).send().await.expect("versions"));
    assert!(!first.is_empty(), "the state object has versions");

    // A second change: one more version; the one before still holds the old value.
    env.ironplan(&["deploy", &app, "--state", &location, "--var", "team=data"]).assert_ok("change the tag");
    let after = versions(s3.list_object_versions().bucket(&bucket).prefix(state_key).send().await.expect("versions"));
    assert!(after.len() > first.len() && after.len() >= 2, "{first:?} then {after:?}");
    let body = |version: String| {
        let s3 = s3.clone();
        let bucket = bucket.clone();
        async move {
            let got = s3.get_object().bucket(&bucket).key(state_key).version_id(version).send().await.expect("version");
            let bytes = got.body.collect().await.expect("body").into_bytes();
            serde_json::from_slice::<Value>(&bytes).expect("state JSON")
        }
    };
    // ListObjectVersions lists a key's versions newest first.
    let latest = body(after[0].clone()).await;
    let earlier = body(first[0].clone()).await;
    assert_eq!(latest["resources"]["logs"]["props"]["tags"]["Team"], "data", "{latest}");
    assert_eq!(earlier["resources"]["logs"]["props"]["tags"]["Team"], "platform", "{earlier}");
    let head = s3.head_object().bucket(&bucket).key(state_key).send().await.expect("head");
    assert_eq!(head.ssekms_key_id(), Some(key_arn.as_str()), "every version encrypted with the key");

    // Teardown: the app, then the bucket, which keeps the app's history unless told.
    env.ironplan(&["teardown", &app, "--state", &location]).assert_ok("teardown the app");
    let refused = env.ironplan(&[&["teardown", &bucket_plan][..], &vars].concat());
    assert_ne!(refused.code, 0, "a state bucket with versions is kept: {}", refused.stderr);
    assert!(refused.stderr.contains("BucketNotEmpty") && refused.stderr.contains(&bucket), "{}", refused.stderr);
    assert!(s3.head_bucket().bucket(&bucket).send().await.is_ok(), "still there");
    let forced = text
        .replace("tls_only = true\n", "tls_only = false\n")
        .replace("force_destroy = false", "force_destroy = true");
    std::fs::write(&bucket_plan, forced).expect("write");
    env.ironplan(&[&["deploy", &bucket_plan][..], &vars, &waive].concat()).assert_ok("force_destroy into the state");
    env.ironplan(&[&["teardown", &bucket_plan][..], &vars].concat()).assert_ok("teardown the state bucket");
    let head = s3.head_bucket().bucket(&bucket).send().await;
    assert_eq!(head.as_ref().err().and_then(|e| e.raw_response()).map(|r| r.status().as_u16()), Some(404), "{head:?}");
    let left = inventory(&ctx).await;
    assert!(added(&before, &left).is_empty(), "left behind: {:?}", added(&before, &left));
}
