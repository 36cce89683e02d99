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
    pub state_dir: tempfile::TempDir,
}

impl Env {
    pub fn start() -> Env {
        let moto = Moto::start().unwrap_or_else(|e| panic!("{e}"));
        Env { moto, state_dir: tempfile::tempdir().expect("temp dir") }
    }

    /// Runs `ironplan ARGS` from the crate root against this emulator.
    pub fn ironplan(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_ironplan"))
            .args(args)
            .current_dir(root())
            .env("AWS_ENDPOINT_URL", self.moto.endpoint())
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("IRONPLAN_STATE_DIR", self.state_dir.path())
            .env_remove("AWS_PROFILE")
            .output()
            .expect("run ironplan");
        Run::from(out)
    }

    pub async fn ctx(&self) -> Ctx {
        let connect = Connect { region: Some(REGION.into()), endpoint_url: Some(self.moto.endpoint()), profile: None };
        Ctx::new(&connect).await.expect("SDK clients")
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
        .output()
        .expect("run ironplan");
    Run::from(out)
}
