//! `ironplan plan` as a user runs it: the healthcare pipeline's dry run, its JSON and DOT, exit
//! codes, `--allow`, and the seed's failures caught before any AWS call.

use serde_json::Value;

use crate::common::offline;

const PLAN: &str = "plans/healthcare-pipeline.toml";

fn plan_json(args: &[&str]) -> (i32, Value) {
    let run = offline(&[&["plan", "--format", "json"], args].concat());
    let v: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    (run.code, v)
}

fn reasons<'a>(v: &'a Value, from: &str, to: &str) -> Vec<&'a str> {
    v["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["from"] == from && e["to"] == to)
        .flat_map(|e| e["reasons"].as_array().into_iter().flatten())
        .filter_map(|r| r["kind"].as_str())
        .collect()
}

#[test]
fn the_pipeline_has_56_resources_and_passes_every_check() {
    let run = offline(&["plan"]);
    run.assert_ok("plan");
    assert!(run.stdout.contains("56 resources"), "{}", run.stdout);
    insta::assert_snapshot!("healthcare_plan_text", run.stdout);
}

#[test]
fn the_pipeline_json_is_the_documented_schema() {
    let (code, v) = plan_json(&[PLAN]);
    assert_eq!(code, 0);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["valid"], true);
    assert_eq!(v["resource_count"], 56);
    assert_eq!(v["resources"].as_array().map(Vec::len), Some(56));
    let waves: usize = v["waves"].as_array().into_iter().flatten().map(|w| w.as_array().map_or(0, Vec::len)).sum();
    assert_eq!(waves, 56, "every resource is in exactly one wave");
    assert!(v["policy"].as_array().into_iter().flatten().all(|p| p["status"] == "passed"));
    // The spec's types, by plan name, including the seed's fixes.
    let type_of = |name: &str| {
        v["resources"].as_array().into_iter().flatten().find(|r| r["name"] == name).map(|r| r["type"].clone())
    };
    assert_eq!(type_of("service_scaling_target"), Some("applicationautoscaling:ScalableTarget".into()));
    assert_eq!(type_of("cpu_scaling_policy"), Some("applicationautoscaling:ScalingPolicy".into()));
    assert_eq!(type_of("redis"), Some("elasticache:ReplicationGroup".into()));
    insta::assert_snapshot!("healthcare_plan_json", serde_json::to_string_pretty(&v).unwrap_or_default());
}

/// The seed's failure 3 and the spec's other unwritten dependencies become implied edges,
/// though the plan has no `depends_on` at all.
#[test]
fn implied_dependencies_order_what_no_reference_orders() {
    let text = std::fs::read_to_string(crate::common::root().join(PLAN)).expect("plan");
    let keys = text.lines().filter(|l| l.trim_start().starts_with("depends_on")).count();
    assert_eq!(keys, 0, "the pipeline must not need depends_on");
    let (_, v) = plan_json(&[PLAN]);
    for (from, to) in [
        ("get_patients_mock_200", "get_patients_mock"),
        ("get_patients_mock_200", "get_patients_200"),
        ("api_deployment", "get_patients_mock_200"),
        ("api_deployment", "get_patients_200"),
        ("api_deployment", "patients"),
        ("nat", "igw"),
        ("prod_stage", "apigw_account"),
        ("aurora", "aurora_log_group"),
        ("vpc_flow_log", "flow_log_policy"),
        ("processor_service", "fs_mount_a"),
        ("processor_service", "private_a_rt"),
    ] {
        assert!(
            reasons(&v, from, to).contains(&"implied"),
            "{from} → {to} is not implied: {:?}",
            reasons(&v, from, to)
        );
    }
    let cp = v["critical_path"]["resources"].as_array().cloned().unwrap_or_default();
    assert!(cp.contains(&"aurora_writer".into()), "the Aurora instance is on the critical path: {cp:?}");
}

#[test]
fn dot_output_is_a_graphviz_digraph_of_every_resource_and_edge() {
    let run = offline(&["plan", "--format", "dot"]);
    run.assert_ok("plan --format dot");
    assert!(run.stdout.starts_with("digraph ironplan {"));
    assert!(run.stdout.trim_end().ends_with('}'));
    let (_, v) = plan_json(&[PLAN]);
    let nodes = run.stdout.lines().filter(|l| l.contains("[label=")).count();
    let edges = run.stdout.lines().filter(|l| l.contains(" -> ")).count();
    assert_eq!(nodes, 56);
    assert_eq!(Some(edges), v["edges"].as_array().map(Vec::len));
    assert!(run.stdout.contains("\"get_patients_mock_200\" -> \"get_patients_mock\" [style=dashed]"));
}

#[test]
fn an_invalid_plan_exits_3_and_reports_every_problem_with_its_place() {
    let fixture = "tests/fixtures/invalid/unknown-type__several_problems_at_once.toml";
    let (code, v) = plan_json(&[fixture]);
    assert_eq!(code, 3);
    assert_eq!(v["valid"], false);
    let problems = v["problems"].as_array().cloned().unwrap_or_default();
    let codes: Vec<&str> = problems.iter().filter_map(|p| p["code"].as_str()).collect();
    for c in [
        "unknown-type",
        "unknown-property",
        "wrong-value-type",
        "unknown-resource",
        "unknown-variable",
        "unknown-attribute",
    ] {
        assert!(codes.contains(&c), "{c} missing from {codes:?}");
    }
    let scaling = problems.iter().find(|p| p["code"] == "unknown-type").expect("unknown-type");
    assert_eq!((scaling["line"].as_u64(), scaling["column"].as_u64()), (Some(14), Some(8)));
    assert_eq!(scaling["help"], "did you mean `applicationautoscaling:ScalableTarget`?");
    // Text goes to stderr with the same exit code.
    let text = offline(&["plan", fixture]);
    assert_eq!(text.code, 3);
    assert!(text.stderr.contains("6 problems") || text.stderr.contains("problems in"), "{}", text.stderr);
}

#[test]
fn allow_waives_one_policy_rule_and_says_so() {
    let fixture = "tests/fixtures/invalid/policy-log-retention__kept_forever.toml";
    assert_eq!(offline(&["plan", fixture]).code, 3);
    let (code, v) = plan_json(&[fixture, "--allow", "log-retention"]);
    assert_eq!(code, 0, "{v}");
    let rule = v["policy"].as_array().into_iter().flatten().find(|p| p["id"] == "log-retention").cloned();
    assert_eq!(rule.map(|r| r["status"].clone()), Some("waived".into()));
    let (code, v) = plan_json(&[fixture, "--allow", "log-retentoin"]);
    assert_eq!(code, 3);
    assert!(v["problems"].to_string().contains("did you mean `log-retention`?"), "{v}");
}

/// Issue 11: a security review's plan (open security group, a role anyone can assume with
/// administrator rights, a method with authorization "none", a public task IP through a
/// variable) passed the first 9 rules. Each problem now fails its rule, seen through variables
/// and in any case; `ironplan rules` lists the new rules.
#[test]
fn the_security_review_plan_fails_each_rule_it_slipped_past() {
    let fixture = "tests/fixtures/invalid/policy-no-internet-ingress__open_plan_that_passed_all_nine_rules.toml";
    let codes = |v: &Value| {
        let mut c: Vec<String> = v["problems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["code"].as_str().map(String::from))
            .collect();
        c.sort();
        c.dedup();
        c
    };
    let (code, v) = plan_json(&[fixture]);
    assert_eq!(code, 3, "{v}");
    let rules =
        ["api-authorization", "no-admin-policy", "no-internet-ingress", "no-public-task-ip", "no-wildcard-trust"];
    assert_eq!(codes(&v), rules.map(|r| format!("policy/{r}")), "{v}");
    // The public IP comes from the variable: another value passes that rule.
    let (code, v) = plan_json(&[fixture, "--var", "public_ip=DISABLED"]);
    assert_eq!(code, 3);
    assert!(!codes(&v).contains(&"policy/no-public-task-ip".to_string()), "{v}");
    // Waiving the five rules leaves nothing else wrong with the plan.
    let allow: Vec<&str> = rules.iter().flat_map(|r| ["--allow", r]).collect();
    let (code, v) = plan_json(&[&[fixture][..], &allow].concat());
    assert_eq!(code, 0, "{v}");
    let listed = offline(&["rules"]);
    listed.assert_ok("rules");
    for id in rules.iter().chain(&[
        "trust-source-account",
        "kms-decrypt-via-service",
        "efs-iam-authorization",
        "no-injected-secret-read",
    ]) {
        assert!(listed.stdout.contains(id), "`ironplan rules` lacks {id}:\n{}", listed.stdout);
    }
}

#[test]
fn variables_change_names_and_unknown_ones_are_refused() {
    let (code, v) = plan_json(&[PLAN, "--var", "environment_suffix=prod"]);
    assert_eq!(code, 0);
    assert_eq!(v["plan"]["stack"], "healthcare-pipeline-prod");
    let (code, v) = plan_json(&[PLAN, "--var", "enviroment_suffix=prod"]);
    assert_eq!(code, 3);
    assert!(v["problems"].to_string().contains("did you mean `environment_suffix`?"), "{v}");
}

#[test]
fn help_answers_and_bad_usage_exits_2() {
    let run = offline(&["--help"]);
    run.assert_ok("--help");
    for word in ["plan", "deploy", "teardown", "drift", "outputs", "Exit codes", "AWS_ENDPOINT_URL"] {
        assert!(run.stdout.contains(word), "--help lacks {word}:\n{}", run.stdout);
    }
    let deploy = offline(&["deploy", "--help"]);
    for word in ["--var", "--region", "--profile", "--endpoint-url", "--on-failure", "--output"] {
        assert!(deploy.stdout.contains(word), "deploy --help lacks {word}");
    }
    assert_eq!(offline(&["plan", "--format", "yaml"]).code, 2);
    assert_eq!(offline(&["plan", "no/such/plan.toml"]).code, 2);
}

#[test]
fn the_example_plan_passes_and_the_types_command_documents_the_sdk_names() {
    offline(&["plan", "examples/audited-network.toml"]).assert_ok("example plan");
    let t = offline(&["types", "elasticache:ReplicationGroup"]);
    t.assert_ok("types");
    assert!(t.stdout.contains("replication_group_description"));
    let bad = offline(&["types", "ecs:ScalableTarget"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("applicationautoscaling:ScalableTarget"));
}

/// The security review's environment suffixes: each passed `plan` with `valid: true`, and
/// `../../../../escaped` wrote the state and lock outside the state directory.
fn bad_suffixes() -> Vec<String> {
    ["../../x", "a/b", "a\nb", "a\u{202E}b", "", &"x".repeat(300), "../../../../escaped"]
        .into_iter()
        .map(String::from)
        .collect()
}

/// The line `[variables.environment_suffix]` is on: a `--var` problem points there.
fn suffix_line() -> u64 {
    let text = std::fs::read_to_string(crate::common::root().join(PLAN)).expect("plan");
    let i = text.lines().position(|l| l.trim() == "[variables.environment_suffix]").expect("declared");
    i as u64 + 1
}

#[test]
fn a_bad_environment_suffix_is_refused_by_the_dry_run_at_the_variable() {
    for suffix in bad_suffixes() {
        let var = format!("environment_suffix={suffix}");
        let text = offline(&["plan", PLAN, "--var", &var]);
        assert_eq!(text.code, 3, "{suffix:?} passed:\n{}", text.stdout);
        assert!(text.stderr.contains("invalid-stack-name"), "{suffix:?}: {}", text.stderr);
        assert!(text.stderr.contains("from `--var environment_suffix`"), "{}", text.stderr);
        // Printed escaped: no bidirectional override, no line split by the value.
        assert!(!text.stderr.contains('\u{202E}') && !text.stderr.contains("a\nb"), "{}", text.stderr);

        let (code, v) = plan_json(&[PLAN, "--var", &var]);
        assert_eq!(code, 3);
        assert_eq!(v["valid"], false, "{v}");
        let problems = v["problems"].as_array().cloned().unwrap_or_default();
        assert_eq!(problems.len(), 1, "one bad value is one problem: {v}");
        let p = &problems[0];
        assert_eq!(p["code"], "invalid-stack-name");
        assert_eq!(p["line"].as_u64(), Some(suffix_line()), "{p}");
        let message = p["message"].as_str().unwrap_or_default();
        assert!(!message.contains(['\n', '\u{202E}']), "{message:?}");
        assert!(p["help"].as_str().is_some_and(|h| !h.is_empty()), "{p}");
    }
}

/// Every file and directory under `dir`.
fn everything_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(everything_under(&path));
        }
        out.push(path);
    }
    out
}

/// deploy and teardown refuse the suffix before opening the state (no file anywhere, in or
/// out of the state directory) and before any AWS call (the endpoint, a socket of this test,
/// is never connected to).
#[test]
fn deploy_and_teardown_refuse_a_bad_suffix_before_any_file_or_aws_call() {
    let aws = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    aws.set_nonblocking(true).expect("non-blocking");
    let endpoint = format!("http://{}", aws.local_addr().expect("address"));
    let tmp = tempfile::tempdir().expect("temp dir");
    // Four levels deep, so that even `../../../../escaped` would land inside `tmp`.
    let state_dir = tmp.path().join("a/b/c/d/state");
    for suffix in bad_suffixes() {
        for command in ["deploy", "teardown"] {
            let var = format!("environment_suffix={suffix}");
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_ironplan"))
                .args([command, PLAN, "--var", &var, "--output", "json", "--state-dir"])
                .arg(&state_dir)
                .current_dir(crate::common::root())
                .env("AWS_ENDPOINT_URL", &endpoint)
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .env_remove("AWS_PROFILE")
                .env_remove("IRONPLAN_STATE_DIR")
                .output()
                .expect("run ironplan");
            let run = crate::common::Run::from(out);
            assert_eq!(run.code, 3, "{command} {suffix:?}:\n{}\n{}", run.stdout, run.stderr);
            let v: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
            assert_eq!(v["valid"], false);
            assert_eq!(v["problems"][0]["code"], "invalid-stack-name", "{v}");
        }
    }
    let created = everything_under(tmp.path());
    assert!(created.is_empty(), "a refused run wrote {created:?}");
    match aws.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a refused run called the AWS endpoint: {other:?}"),
    }
}

/// The review's numbers: each passed the dry run and failed mid-deploy.
#[test]
fn negative_counts_and_ports_are_refused_with_their_place() {
    let fixture = "tests/fixtures/invalid/out-of-range__negative_counts_and_ports.toml";
    let (code, v) = plan_json(&[fixture]);
    assert_eq!(code, 3);
    assert_eq!(v["valid"], false);
    let found: Vec<(String, u64)> = v["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["code"] == "out-of-range")
        .map(|p| (p["message"].as_str().unwrap_or_default().to_string(), p["line"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(
        found,
        [
            ("`redis.num_cache_clusters` is -3; AWS accepts an integer from 1 to 6".to_string(), 15),
            ("`redis.port` is -1; AWS accepts an integer from 1 to 65535".to_string(), 16),
            ("`stream.shard_count` is -5; AWS accepts an integer of at least 1".to_string(), 21),
        ]
    );
}

#[test]
fn the_types_command_shows_what_each_property_is_checked_against() {
    let t = offline(&["types", "elasticache:ReplicationGroup"]);
    t.assert_ok("types");
    let line_after = |prop: &str| {
        let lines: Vec<&str> = t.stdout.lines().collect();
        let i = lines.iter().position(|l| l.trim_start().starts_with(prop)).unwrap_or_else(|| panic!("{prop}"));
        lines.get(i + 1).map(|l| l.trim().to_string()).unwrap_or_default()
    };
    assert!(
        line_after("replication_group_id").starts_with("checked: ElastiCache replication group ID: 1-40 characters")
    );
    assert_eq!(line_after("num_cache_clusters "), "checked: an integer from 1 to 6");
    assert_eq!(line_after("port "), "checked: an integer from 1 to 65535");
}

/// A plan written to a temporary file, for the input-hardening cases.
fn temp_plan(text: &[u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, text).expect("write plan");
    let path = path.to_string_lossy().into_owned();
    (dir, path)
}

/// The security review's reproducer: an escape before a broken reference used to make
/// `plan --format json` panic (exit 101) and text mode point at the wrong column.
#[test]
fn escapes_before_a_broken_reference_are_reported_where_written() {
    let text = "[plan]\nname = \"p\"\n\n[resources.key]\ntype = \"kms:Key\"\ndescription = \"\\u00e9€€${bad\"\n";
    let (_dir, path) = temp_plan(text.as_bytes());
    let (code, v) = plan_json(&[&path]);
    assert_eq!(code, 3, "{v}");
    let p = v["problems"].as_array().and_then(|p| p.iter().find(|p| p["code"] == "invalid-reference")).cloned();
    let p = p.unwrap_or_else(|| panic!("no invalid-reference: {v}"));
    assert_eq!((p["line"].as_u64(), p["column"].as_u64()), (Some(6), Some(24)), "{p}");
    let run = offline(&["plan", &path]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains(&format!("[{path}:6:24]")), "{}", run.stderr);
    assert!(run.stderr.contains("\\u00e9€€${bad"), "the line as written: {}", run.stderr);
}

/// A plan file over 8 MiB, or one that never ends, is refused with the file and the limit
/// named, exit 2 like any unreadable plan, without reading it all.
#[test]
fn an_oversized_or_endless_plan_is_refused() {
    let mut big = b"[plan]\nname = \"big\"\n".to_vec();
    big.resize(8 * 1024 * 1024 + 1, b'\n');
    let (_dir, path) = temp_plan(&big);
    for file in [path.as_str(), "/dev/zero"] {
        for format in ["text", "json"] {
            let run = offline(&["plan", file, "--format", format]);
            assert_eq!(run.code, 2, "{file}: {}", run.stderr);
            assert!(run.stderr.contains(&format!("error: plan {file} is larger than 8 MiB")), "{}", run.stderr);
            assert!(run.stderr.contains("help: "), "{}", run.stderr);
        }
    }
}
