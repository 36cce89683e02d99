//! The harness: a moto server per test on a free loopback port, the ironplan binary run as a
//! user would, and SDK clients on the same endpoint to check what really exists.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ironplan::aws::{Connect, Ctx};
use ironplan::emulator::Moto;
use serde_json::Value;

pub const REGION: &str = "us-east-1";

pub struct Env {
    pub moto: Moto,
    /// When set, ironplan's calls go through it (the checks in tests go straight to moto).
    pub proxy: Option<Proxy>,
    pub state_dir: tempfile::TempDir,
}

impl Env {
    pub fn start() -> Env {
        let moto = Moto::start().unwrap_or_else(|e| panic!("{e}"));
        Env { moto, proxy: None, state_dir: tempfile::tempdir().expect("temp dir") }
    }

    /// moto behind the fault-injecting proxy.
    pub fn with_proxy() -> Env {
        let mut env = Env::start();
        env.proxy = Some(Proxy::start(&env.moto.endpoint()));
        env
    }

    pub fn proxy(&self) -> &Proxy {
        self.proxy.as_ref().expect("started with_proxy")
    }

    /// Runs `ironplan ARGS` from the crate root against this emulator.
    pub fn ironplan(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().expect("run ironplan");
        Run::from(out)
    }

    /// Starts `ironplan ARGS` without waiting for it.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start ironplan")
    }

    /// Runs `sh -c SCRIPT sh ARGS...` as `ironplan` would be run, with the binary first on
    /// PATH: for what a user types (a hint's commands, a umask before the command).
    pub fn shell(&self, script: &str, args: &[&str]) -> Run {
        let bin = Path::new(env!("CARGO_BIN_EXE_ironplan"));
        let dir = bin.parent().map(|d| d.display().to_string()).unwrap_or_default();
        let path = format!("{dir}:{}", std::env::var("PATH").unwrap_or_default());
        let mut cmd = self.command_of("sh", &[]);
        cmd.arg("-c").arg(script).arg("sh").args(args).env("PATH", path);
        Run::from(cmd.output().expect("run sh"))
    }

    /// The command `ironplan ARGS` against this emulator, to add to before running it.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_of(env!("CARGO_BIN_EXE_ironplan"), args)
    }

    fn command_of(&self, program: &str, args: &[&str]) -> Command {
        let endpoint = self.proxy.as_ref().map_or_else(|| self.moto.endpoint(), Proxy::endpoint);
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(root())
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("IRONPLAN_STATE_DIR", self.state_dir.path())
            // The explicit signal that the endpoint is moto: adapters may accept its documented gaps.
            .env("IRONPLAN_EMULATOR", "moto")
            .env_remove("AWS_PROFILE");
        cmd
    }

    pub async fn ctx(&self) -> Ctx {
        Ctx::new(&Connect { region: Some(REGION.into()), ..self.moto.connect() }).await.expect("SDK clients")
    }

    pub fn state_path(&self, stack: &str) -> PathBuf {
        self.state_dir.path().join(format!("{stack}.json"))
    }

    pub fn state(&self, stack: &str) -> Value {
        let text = std::fs::read_to_string(self.state_path(stack)).expect("state file");
        serde_json::from_str(&text).expect("state JSON")
    }
}

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What a run printed, and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// The JSON events of `--output json`, in order.
    pub fn events(&self) -> Vec<Value> {
        self.stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    pub fn assert_ok(&self, what: &str) -> &Self {
        assert_eq!(self.code, 0, "{what} failed:\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

/// Runs ironplan without an emulator (plan, types, rules).
pub fn offline(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_ironplan"))
        .args(args)
        .current_dir(root())
        .env_remove("AWS_ENDPOINT_URL")
        // No stack state, whatever the checkout's .ironplan holds: the dry run of a new stack.
        .env("IRONPLAN_STATE_DIR", root().join("target/no-state"))
        .output()
        .expect("run ironplan");
    Run::from(out)
}

/// The fault-injecting proxy (scripts/faultproxy.py) between the SDK and moto.
pub struct Proxy {
    child: std::process::Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Proxy {
    pub fn start(upstream: &str) -> Proxy {
        let dir = tempfile::tempdir().expect("temp dir");
        let port_file = dir.path().join("port");
        let child = Command::new(root().join(".venv/bin/python"))
            .arg(root().join("scripts/faultproxy.py"))
            .args(["--listen", "127.0.0.1:0", "--upstream", upstream, "--seed", "7", "--port-file"])
            .arg(&port_file)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start scripts/faultproxy.py (run `make venv`)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let port = loop {
            if let Some(p) = std::fs::read_to_string(&port_file).ok().and_then(|s| s.trim().parse().ok()) {
                break p;
            }
            assert!(std::time::Instant::now() < deadline, "faultproxy did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        Proxy { child, port, _dir: dir }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn control(&self, path: &str) -> String {
        format!("{}/__faultproxy/{path}", self.endpoint())
    }

    /// Replaces the fault rules.
    pub fn rules(&self, rules: Value) {
        ureq::post(&self.control("rules")).send_json(&rules).expect("set proxy rules");
    }

    /// Says which S3 buckets live in another region (`{BUCKET: REGION}`): calls for them signed
    /// for another region are answered as S3 does (301 or 400 with `x-amz-bucket-region`).
    pub fn bucket_regions(&self, regions: Value) {
        ureq::post(&self.control("s3-bucket-regions")).send_json(&regions).expect("set the proxy's bucket regions");
    }

    /// Every call so far: `{op, service, region, status, fault, ...}`.
    pub fn log(&self) -> Vec<Value> {
        let mut resp = ureq::get(&self.control("log")).call().expect("proxy log");
        let v: Value = resp.body_mut().read_json().expect("log JSON");
        v.get("entries").and_then(Value::as_array).cloned().or_else(|| v.as_array().cloned()).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
