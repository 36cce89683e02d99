//! `make bench`: the numbers in BENCHMARKS.md, from one run.
//!
//! 1. Policy models: the pipeline's graph through the real walker with a fake provider on a
//!    paused clock (typical AWS durations, unscaled): ironplan's scheduling and waiter against
//!    a Terraform-like policy (parallelism 10, 10 s waiter delays) and a Pulumi-like one
//!    (parallelism 4 x CPUs, the same waiters: it drives the same provider). Labelled as models.
//! 2. The emulator with its latency model: ironplan's real deploy and teardown of the pipeline
//!    against moto behind scripts/faultproxy.py, whose latency model makes each type take its
//!    typical duration x SCALE and report the real intermediate states meanwhile. Makespan
//!    against the critical-path bound of the same model; API calls; throttling; CPU and memory.
//!    Then a no-op `drift` and `plan --refresh` of the deployed pipeline and of a synthetic
//!    stack of 1,000 cheap resources: time and read calls per resource.
//! 3. Scale: synthetic graphs of 1,000, 10,000 and 100,000 resources: plan (parse, check,
//!    graph), and walk with a provider that does nothing; time and peak memory, each size in a
//!    fresh process.
//! 4. Diagnostics: a plan with 1,000 and 4,000 problems, rendered as text (miette) and as
//!    JSON; the time per problem should not grow with their number.
//!
//! ```text
//! cargo run --release --example bench            # all four
//! cargo run --release --example bench -- models  # one of: models, emulator, scale, render
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ironplan::check::{self, Options};
use ironplan::exec::Direction;
use ironplan::exec::fake::{SimOptions, simulate, synthetic_plan, walk_noop};
use ironplan::plan::Plan;
use ironplan::waiter::PollPolicy;
use serde_json::Value;

const PLAN: &str = "plans/healthcare-pipeline.toml";
/// The latency model's time scale: 1/60, so Aurora's 9-minute instance takes 9 s.
const SCALE: f64 = 1.0 / 60.0;

fn main() {
    let what = std::env::args().nth(1).unwrap_or_default();
    match what.as_str() {
        "scale-one" => {
            let n = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
            scale_one(n);
        }
        "models" => models(),
        "emulator" => emulator(true),
        // Only the synthetic 1,000-resource stack (deploy at the default parallelism, drift,
        // plan --refresh, teardown).
        "synthetic" => emulator(false),
        "scale" => scale(),
        "render" => render(),
        _ => {
            models();
            emulator(true);
            scale();
            render();
        }
    }
}

fn models() {
    let checked = match check::load(Path::new(PLAN), &Options::default()) {
        Ok(c) => c,
        Err(e) => panic!("{PLAN}: {e}"),
    };
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let policies: [(&str, Option<usize>, PollPolicy); 3] = [
        ("ironplan", None, PollPolicy::default()),
        ("Terraform-like model (parallelism 10, 10 s waits)", Some(10), PollPolicy::terraform_like()),
        ("Pulumi-like model (parallelism 4 x CPUs, 10 s waits)", Some(4 * cpus), PollPolicy::terraform_like()),
    ];
    println!("\n## 1. Policy models: the pipeline's 56 resources, typical AWS durations, fake provider\n");
    println!("| policy | deploy | bound | ratio | teardown | bound | ratio | polls (deploy+teardown) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (label, parallelism, waiter) in policies {
        let up = simulate(&checked.graph, SimOptions { direction: Direction::Create, parallelism, waiter });
        let down = simulate(&checked.graph, SimOptions { direction: Direction::Delete, parallelism, waiter });
        println!(
            "| {label} | {} | {} | {:.3} | {} | {} | {:.3} | {} |",
            mmss(up.makespan_secs),
            mmss(up.bound_secs),
            up.ratio(),
            mmss(down.makespan_secs),
            mmss(down.bound_secs),
            down.ratio(),
            up.polls + down.polls
        );
    }
}

fn mmss(s: f64) -> String {
    format!("{}m{:02}s", (s / 60.0).floor() as u64, (s % 60.0).round() as u64)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => panic!("no free port: {e}"),
    }
}

fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs ironplan and returns (wall seconds, user+system CPU seconds, peak RSS KiB, stdout).
/// The child is reaped with `wait4` (for its resource usage), not `Child::wait`.
#[allow(clippy::zombie_processes)]
fn measured(bin: &Path, args: &[&str], endpoint: &str, state: &Path) -> (f64, f64, u64, String) {
    let start = Instant::now();
    let mut child = Command::new(bin)
        .args(args)
        .current_dir(root())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("IRONPLAN_STATE_DIR", state)
        // moto behind the proxy: the explicit signal that lets adapters accept moto's gaps.
        .env("IRONPLAN_EMULATOR", "moto")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ironplan");
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; the pointers are valid for the call.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    let wall = start.elapsed().as_secs_f64();
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "ironplan {args:?} failed");
    (wall, tv(usage.ru_utime) + tv(usage.ru_stime), usage.ru_maxrss as u64, out)
}

fn emulator(pipeline: bool) {
    let venv = root().join(".venv/bin");
    let bin = std::env::current_exe().ok().and_then(|p| Some(p.parent()?.parent()?.join("ironplan")));
    let Some(bin) = bin.filter(|b| b.exists()) else {
        println!("\n(skipped the emulator run: build the binary first: cargo build --release)");
        return;
    };
    let moto_port = free_port();
    let mut moto = Command::new(venv.join("moto_server"))
        .args(["-H", "127.0.0.1", "-p", &moto_port.to_string()])
        .env("MOTO_ECS_SERVICE_RUNNING", "2")
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server (make venv)");
    wait_port(moto_port);
    let dir = tempfile::tempdir().expect("temp dir");
    let port_file = dir.path().join("port");
    // The latency model takes the types' durations from the project itself.
    let types = Command::new(&bin).args(["types", "--format", "json"]).output().expect("ironplan types");
    let durations = dir.path().join("types.json");
    std::fs::write(&durations, &types.stdout).expect("types.json");
    let mut proxy = Command::new(venv.join("python"))
        .arg(root().join("scripts/faultproxy.py"))
        .args(["--upstream", &format!("http://127.0.0.1:{moto_port}"), "--latency", &SCALE.to_string(), "--port-file"])
        .arg(&port_file)
        .arg("--durations")
        .arg(&durations)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("faultproxy");
    let deadline = Instant::now() + Duration::from_secs(20);
    let proxy_port: u16 = loop {
        if let Some(p) = std::fs::read_to_string(&port_file).ok().and_then(|s| s.trim().parse().ok()) {
            break p;
        }
        assert!(Instant::now() < deadline, "faultproxy did not start");
        std::thread::sleep(Duration::from_millis(50));
    };
    let endpoint = format!("http://127.0.0.1:{proxy_port}");
    let stats = |what: &str| -> Value {
        let mut resp = ureq::get(&format!("{endpoint}/__faultproxy/{what}")).call().expect("proxy");
        resp.body_mut().read_json().unwrap_or(Value::Null)
    };
    let reset = || {
        let _ = ureq::post(&format!("{endpoint}/__faultproxy/reset")).send_json(serde_json::json!({}));
    };

    if !pipeline {
        synthetic_drift(&bin, &endpoint, dir.path());
        let _ = proxy.kill();
        let _ = proxy.wait();
        let _ = moto.kill();
        let _ = moto.wait();
        return;
    }
    // The bound of the same model: the proxy's durations for the types it delays, the others instant.
    let model = stats("latency");
    let checked = check::load(Path::new(PLAN), &Options::default()).expect("plan");
    let secs_of =
        |ty: &str, i: usize| -> f64 { model["durations"][ty].get(i).and_then(Value::as_f64).unwrap_or(0.0) * SCALE };
    let mut b = ironplan::graph::GraphBuilder::new();
    for r in &checked.plan.resources {
        b.node(ironplan::graph::Node {
            name: r.name.clone(),
            create_secs: secs_of(&r.type_name, 0),
            delete_secs: secs_of(&r.type_name, 1),
        });
    }
    for (f, t, why) in checked.graph.edge_list() {
        if let (Some(f), Some(t)) = (b.index(checked.graph.name(f)), b.index(checked.graph.name(t))) {
            for r in why {
                b.depends(f, t, r.clone());
            }
        }
    }
    let model_graph = b.build().expect("acyclic");
    let bound_up = model_graph.critical_path(|n| n.create_secs).1;
    let bound_down = model_graph.critical_delete_path().1;

    // moto loads each service's code on its first call (1-3 s each): warm it up with one
    // unmeasured deploy and teardown without the latency model.
    let set_latency = |factor: f64| {
        let _ =
            ureq::post(&format!("{endpoint}/__faultproxy/latency")).send_json(serde_json::json!({ "factor": factor }));
    };
    // Another environment: moto never forgets a deleted cache subnet group or replication group.
    set_latency(0.0);
    let warm = ["--var", "environment_suffix=warmup", "--output", "json"];
    measured(&bin, &[&["deploy", PLAN][..], &warm].concat(), &endpoint, dir.path());
    measured(&bin, &[&["teardown", PLAN][..], &warm].concat(), &endpoint, dir.path());
    set_latency(SCALE);

    let scale = SCALE.to_string();
    println!(
        "\n## 2. The emulator with the latency model (durations x {SCALE:.4}) and AWS-like rate limits: ironplan's real adapters\n"
    );
    println!(
        "| run | makespan | bound | ratio | API calls | per resource | mutating | polls/reads | throttled | CPU | peak RSS |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    // Day two, on the deployed stack: `drift` and `plan --refresh` read every resource (no-op:
    // nothing changed), then the teardown.
    let runs: [(&str, Vec<&str>, Option<f64>); 4] = [
        ("deploy", vec!["deploy", PLAN, "--time-scale", &scale, "--output", "json"], Some(bound_up)),
        ("drift (no-op)", vec!["drift", PLAN, "--json"], None),
        ("plan --refresh (no-op)", vec!["plan", PLAN, "--refresh", "--format", "json"], None),
        ("teardown", vec!["teardown", PLAN, "--time-scale", &scale, "--output", "json"], Some(bound_down)),
    ];
    for (label, args, bound) in runs {
        reset();
        aws_like_limits(&endpoint);
        let (wall, cpu, rss, out) = measured(&bin, &args, &endpoint, dir.path());
        if label.starts_with("drift") {
            let report: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
            assert_eq!(report["drifted"], false, "the emulator's fresh stack drifted: {out}");
        }
        let s = stats("stats");
        let sum = &s["summary"];
        let n = |k: &str| sum[k].as_u64().unwrap_or(0);
        let resources = checked.graph.len() as f64;
        let (bound_text, ratio) = match bound {
            Some(b) => (format!("{b:.2}s"), format!("{:.3}", wall / b.max(1e-9))),
            None => ("-".to_string(), "-".to_string()),
        };
        println!(
            "| {label} | {wall:.2}s | {bound_text} | {ratio} | {} | {:.1} | {} | {} | {} | {cpu:.2}s | {} MiB |",
            n("mutating") + n("read"),
            (n("mutating") + n("read")) as f64 / resources,
            n("mutating"),
            n("read"),
            n("throttled"),
            rss / 1024
        );
    }
    set_latency(0.0);
    synthetic_drift(&bin, &endpoint, dir.path());
    let _ = proxy.kill();
    let _ = proxy.wait();
    let _ = moto.kill();
    let _ = moto.wait();
}

/// How many resources the synthetic stack of the drift benchmark has.
const SYNTHETIC: usize = 1000;
/// The policy rules a stack of bare network pieces and log groups has no use for.
const SYNTHETIC_ALLOW: [&str; 2] = ["vpc-flow-logs", "kms-cmk-at-rest"];

/// A stack of `n` resources of the pipeline's cheap types: one VPC, then subnets, security groups,
/// route tables and log groups in turn (a quarter each), all in that VPC.
fn synthetic_stack(n: usize) -> String {
    let mut out = String::from(
        "[plan]\nname = \"synthetic-drift\"\n\n[variables.environment_suffix]\ndefault = \"bench\"\n\n\
         [resources.vpc]\ntype = \"ec2:Vpc\"\ncidr_block = \"10.0.0.0/16\"\n",
    );
    let mut subnets = 0;
    for i in 1..n {
        out.push('\n');
        out.push_str(&match i % 4 {
            0 => {
                // /26 blocks: 1,024 of them in the /16.
                let (third, fourth) = (subnets / 4, (subnets % 4) * 64);
                subnets += 1;
                format!(
                    "[resources.subnet_{i}]\ntype = \"ec2:Subnet\"\nvpc_id = \"${{vpc.id}}\"\n\
                     cidr_block = \"10.0.{third}.{fourth}/26\"\n"
                )
            }
            1 => format!(
                "[resources.sg_{i}]\ntype = \"ec2:SecurityGroup\"\n\
                 group_name = \"synthetic-${{var.environment_suffix}}-{i}\"\ndescription = \"synthetic {i}\"\n\
                 vpc_id = \"${{vpc.id}}\"\n"
            ),
            2 => format!("[resources.rt_{i}]\ntype = \"ec2:RouteTable\"\nvpc_id = \"${{vpc.id}}\"\n"),
            _ => format!(
                "[resources.logs_{i}]\ntype = \"logs:LogGroup\"\n\
                 log_group_name = \"/ironplan/synthetic-${{var.environment_suffix}}/{i}\"\nretention_in_days = 90\n"
            ),
        });
    }
    out
}

/// The synthetic stack on the emulator: deployed (unmeasured), a no-op `drift` and
/// `plan --refresh` measured (time, API calls per resource, by operation), torn down.
/// Deploy and teardown run at the default parallelism: the admission gates (`aws::limits`)
/// keep a thousand EC2 creates from queueing on the 5/s bucket inside the SDK's timeouts.
fn synthetic_drift(bin: &Path, endpoint: &str, state: &Path) {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = dir.path().join("synthetic-drift.toml");
    let text = synthetic_stack(SYNTHETIC);
    let opts = Options { allow: SYNTHETIC_ALLOW.iter().map(|r| r.to_string()).collect(), ..Options::default() };
    let parsed = Plan::parse(&plan, &text).expect("the synthetic stack parses");
    let checked = check::check(parsed, &opts).unwrap_or_else(|p| panic!("{}", p.render_plain()));
    assert_eq!(checked.graph.len(), SYNTHETIC);
    std::fs::write(&plan, &text).expect("write the synthetic plan");
    let plan = plan.to_string_lossy().into_owned();
    let allow: Vec<&str> = SYNTHETIC_ALLOW.iter().flat_map(|r| ["--allow", r]).collect();
    let run = |args: &[&str]| {
        let _ = ureq::post(&format!("{endpoint}/__faultproxy/reset")).send_json(serde_json::json!({}));
        aws_like_limits(endpoint);
        let (wall, _, _, out) = measured(bin, &[args, &allow].concat(), endpoint, state);
        let mut resp = ureq::get(&format!("{endpoint}/__faultproxy/stats")).call().expect("proxy");
        (wall, out, resp.body_mut().read_json::<Value>().unwrap_or(Value::Null))
    };
    println!(
        "\n### A synthetic stack of {SYNTHETIC} resources (1 VPC, subnets, security groups, route tables, log groups)\n"
    );
    println!("| run | time | API calls | per resource | throttled | calls by operation |");
    println!("|---|---:|---:|---:|---:|---|");
    let calls = |stats: &Value| {
        let n = |k: &str| stats["summary"][k].as_u64().unwrap_or(0);
        (n("read") + n("mutating"), n("throttled"))
    };
    let (deploy, _, deploy_stats) = run(&["deploy", &plan, "--output", "json"]);
    for (label, args) in [
        ("drift (no-op)", vec!["drift", &plan, "--json"]),
        ("plan --refresh (no-op)", vec!["plan", &plan, "--refresh", "--format", "json"]),
    ] {
        let (wall, out, stats) = run(&args);
        if label.starts_with("drift") {
            let report: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
            assert_eq!(report["drifted"], false, "the synthetic stack drifted");
        }
        let calls = stats["summary"]["read"].as_u64().unwrap_or(0) + stats["summary"]["mutating"].as_u64().unwrap_or(0);
        let mut ops: Vec<(String, u64)> = stats["operations"]
            .as_object()
            .map(|m| m.iter().map(|(op, c)| (op.clone(), c["calls"].as_u64().unwrap_or(0))).collect())
            .unwrap_or_default();
        ops.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let ops: Vec<String> = ops.iter().map(|(op, n)| format!("{op} {n}")).collect();
        println!(
            "| {label} | {wall:.2}s | {calls} | {:.3} | {} | {} |",
            calls as f64 / SYNTHETIC as f64,
            stats["summary"]["throttled"].as_u64().unwrap_or(0),
            ops.join(", ")
        );
    }
    let (teardown, _, teardown_stats) = run(&["teardown", &plan, "--output", "json"]);
    let ((up_calls, up_throttled), (down_calls, down_throttled)) = (calls(&deploy_stats), calls(&teardown_stats));
    println!(
        "\n(at the default parallelism: deploy {deploy:.1}s, {up_calls} calls, {up_throttled} throttled; \
         teardown {teardown:.1}s, {down_calls} calls, {down_throttled} throttled)"
    );
}

/// The proxy throttles what exceeds AWS's published request rates, as AWS would: the
/// `throttled` column counts the calls ironplan's own pacing did not keep under them.
fn aws_like_limits(endpoint: &str) {
    let ec2_mutating = [
        "CreateVpc",
        "ModifyVpcAttribute",
        "CreateInternetGateway",
        "AttachInternetGateway",
        "CreateSubnet",
        "ModifySubnetAttribute",
        "AllocateAddress",
        "CreateNatGateway",
        "CreateRouteTable",
        "CreateRoute",
        "AssociateRouteTable",
        "CreateFlowLogs",
        "CreateSecurityGroup",
        "AuthorizeSecurityGroupIngress",
        "CreateTags",
        "DeleteVpc",
        "DetachInternetGateway",
        "DeleteInternetGateway",
        "DeleteSubnet",
        "ReleaseAddress",
        "DeleteNatGateway",
        "DeleteRouteTable",
        "DisassociateRouteTable",
        "DeleteFlowLogs",
        "DeleteSecurityGroup",
    ];
    let limit = |rate: f64, burst: f64| serde_json::json!({ "rate": rate, "burst": burst });
    let rules = serde_json::json!([
        { "op": ec2_mutating, "service": "ec2", "throttle": true, "limit": limit(5.0, 50.0) },
        { "op": "CreateNatGateway", "service": "ec2", "throttle": true, "limit": limit(1.0, 1.0) },
        { "op": "*", "service": "ec2", "throttle": true, "limit": limit(20.0, 100.0) },
        { "op": "CreateDeployment", "service": "apigateway", "throttle": true, "limit": limit(0.2, 1.0) },
        { "op": "CreateRestApi", "service": "apigateway", "throttle": true, "limit": limit(1.0 / 3.0, 1.0) },
        { "op": "*", "service": "apigateway", "throttle": true, "limit": limit(10.0, 40.0) },
        { "op": "*", "service": "rds", "throttle": true, "limit": limit(12.0, 12.0) },
    ]);
    let resp = ureq::post(&format!("{endpoint}/__faultproxy/rules")).send_json(rules);
    assert!(resp.is_ok(), "the proxy refused the limits: {resp:?}");
}

fn scale() {
    println!("\n## 3. Scale: synthetic graphs, fake provider (each size in a fresh process)\n");
    println!("| resources | edges | plan (parse+check+graph) | walk | peak RSS |");
    println!("|---:|---:|---:|---:|---:|");
    let me = std::env::current_exe().expect("own path");
    for n in [1_000usize, 10_000, 100_000] {
        let out = Command::new(&me).args(["scale-one", &n.to_string()]).output().expect("child");
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}

fn scale_one(n: usize) {
    let text = synthetic_plan(n, 42);
    let start = Instant::now();
    let plan = Plan::parse(Path::new("synthetic.toml"), &text).expect("synthetic plan parses");
    let checked = check::check(plan, &Options::default()).expect("synthetic plan checks");
    let plan_time = start.elapsed();
    let walk = walk_noop(&checked.graph);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss_kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    println!(
        "| {n} | {} | {:.1} ms | {:.1} ms | {:.1} MiB |",
        checked.graph.edge_list().len(),
        plan_time.as_secs_f64() * 1e3,
        walk.as_secs_f64() * 1e3,
        rss_kib as f64 / 1024.0
    );
}

fn render() {
    println!("\n## 4. Diagnostics: rendering N problems of one plan\n");
    println!("| problems | plan size | text | JSON | text per problem |");
    println!("|---:|---:|---:|---:|---:|");
    for n in [1_000usize, 4_000] {
        // One unknown type per resource: n problems, spread over the whole file.
        let mut text = String::from("[plan]\nname = \"many-problems\"\n");
        for i in 0..n {
            text.push_str(&format!("\n[resources.r{i}]\ntype = \"ec2:NoSuchType{i}\"\ncidr_block = \"10.0.0.0/16\"\n"));
        }
        let problems = match Plan::parse(Path::new("many.toml"), &text).map(|p| check::check(p, &Options::default())) {
            Ok(Err(p)) => p,
            _ => panic!("the generated plan should have {n} problems"),
        };
        assert!(problems.problems.len() >= n, "{} problems", problems.problems.len());
        let start = Instant::now();
        let rendered = problems.render_plain();
        let text_time = start.elapsed();
        let start = Instant::now();
        let json = serde_json::to_string(&problems.to_json()).unwrap_or_default();
        let json_time = start.elapsed();
        assert!(rendered.len() > n && json.len() > n);
        println!(
            "| {} | {:.0} KiB | {:.1} ms | {:.1} ms | {:.0} µs |",
            problems.problems.len(),
            text.len() as f64 / 1024.0,
            text_time.as_secs_f64() * 1e3,
            json_time.as_secs_f64() * 1e3,
            text_time.as_secs_f64() * 1e6 / problems.problems.len() as f64
        );
    }
}
