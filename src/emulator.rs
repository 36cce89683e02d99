//! A local AWS emulator (moto's server) on a free loopback port, for tests, the demo and the
//! benchmarks. Nothing here is used against real AWS.
//!
//! [`Moto::start`] finds the `moto_server` of the project's virtualenv (or `IRONPLAN_MOTO`),
//! starts it on 127.0.0.1, waits until it answers, and stops it when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server, stopped on drop.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    pub port: u16,
}

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("moto_server not found at {0}\nhelp: run `make venv` to install it into .venv, or set IRONPLAN_MOTO")]
    NotInstalled(PathBuf),
    #[error("cannot start moto_server")]
    Spawn(#[source] std::io::Error),
    #[error("moto_server did not answer on 127.0.0.1:{0} within 30 s")]
    NoAnswer(u16),
}

impl Moto {
    /// The moto_server binary: `IRONPLAN_MOTO`, else `.venv/bin/moto_server` of the crate.
    pub fn binary() -> PathBuf {
        std::env::var_os("IRONPLAN_MOTO")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"))
    }

    pub fn start() -> Result<Moto, EmulatorError> {
        let bin = Self::binary();
        if !bin.exists() {
            return Err(EmulatorError::NotInstalled(bin));
        }
        let port = free_port().map_err(EmulatorError::Spawn)?;
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // moto runs no containers: it reports this many running tasks for every ECS
            // service, standing in for Fargate reaching the plan's desired count of 2.
            .env("MOTO_ECS_SERVICE_RUNNING", std::env::var("MOTO_ECS_SERVICE_RUNNING").unwrap_or_else(|_| "2".into()))
            // AttachRolePolicy needs the AWS managed policies, which moto only loads when asked.
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(EmulatorError::Spawn)?;
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(moto);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(EmulatorError::NoAnswer(port))
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How to reach this emulator: us-east-1, its endpoint, and the explicit emulator signal
    /// that lets adapters accept moto's documented gaps (`Ctx::emulator`).
    pub fn connect(&self) -> crate::aws::Connect {
        crate::aws::Connect {
            region: Some("us-east-1".into()),
            endpoint_url: Some(self.endpoint()),
            emulator: Some(crate::aws::Emulator::Moto),
            ..Default::default()
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
