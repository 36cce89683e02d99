//! The state file: what exists in AWS for one stack (plan name + environment suffix).
//!
//! API, in order of use:
//! - [`StateStore::open`]: takes the stack's lock (refused, naming the holder, if another
//!   ironplan holds it) and reads the state (refused if corrupt: it is never overwritten then).
//! - [`StateStore::record`] / [`StateStore::remove`]: change one resource and write the file.
//! - [`State`]: the data.
//!
//! **Invariant:** every write is atomic (temp file in the same directory, fsync, rename), the
//! file is mode 0600, and no secret is ever in it: properties marked sensitive are stored as a
//! digest only, and outputs never carry secret values (only ARNs of secrets).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const STATE_VERSION: u32 = 1;

/// Where a resource is in its life, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The create call is about to be made (intent); the resource may or may not exist.
    Creating,
    /// AWS accepted the create call; not yet known to be usable.
    Created,
    /// Usable.
    Ready,
    /// Deletion started.
    Deleting,
}

/// One resource in the state.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResourceState {
    #[serde(rename = "type")]
    pub type_name: String,
    pub status: Status,
    /// The physical ID (empty while `creating`).
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub outputs: serde_json::Map<String, Value>,
    /// The resolved properties it was created with (sensitive ones as digests).
    #[serde(default)]
    pub props: serde_json::Map<String, Value>,
    /// The resources it depends on, so teardown can order deletions without the plan.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Seconds each of its delete and create took typically (for teardown ordering).
    #[serde(default)]
    pub delete_secs: f64,
    /// The run that created it (rollback deletes only what its own run created).
    #[serde(default)]
    pub run_id: String,
}

/// The whole state of a stack.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct State {
    pub version: u32,
    pub stack: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub account_id: String,
    #[serde(default)]
    pub resources: BTreeMap<String, ResourceState>,
    /// The plan's `[outputs]`, resolved after the last successful deploy.
    #[serde(default)]
    pub outputs: BTreeMap<String, Value>,
}

impl State {
    pub fn new(stack: &str) -> State {
        State {
            version: STATE_VERSION,
            stack: stack.to_string(),
            region: String::new(),
            account_id: String::new(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
        }
    }
}

/// Why the state cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("stack `{stack}` is locked by another ironplan: {holder}")]
    Locked { stack: String, holder: String },
    #[error("state file {} is corrupt: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("state file {} was written by a newer ironplan (version {found})", path.display())]
    TooNew { path: PathBuf, found: u32 },
    #[error("state file {} belongs to stack `{found}`, not `{expected}`", path.display())]
    WrongStack { path: PathBuf, found: String, expected: String },
    #[error("cannot access {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StateError {
    /// What the user should do.
    pub fn hint(&self) -> String {
        match self {
            StateError::Locked { .. } => {
                "wait for it to finish; if that process is gone, the lock is released with it".into()
            }
            StateError::Corrupt { path, .. } => format!(
                "nothing was called and the file was left as it is; restore {} from a backup, \
                 or use `teardown --discover` to find the stack's resources by tag",
                path.display()
            ),
            StateError::TooNew { .. } => "upgrade ironplan".into(),
            StateError::WrongStack { .. } => "check --state-dir and the plan's name".into(),
            StateError::Io { .. } => "check the directory's permissions".into(),
        }
    }
}

/// The state of one stack, locked for this process, written on every change.
#[derive(Debug)]
pub struct StateStore {
    path: PathBuf,
    state: State,
    /// Held for the life of the store: the OS releases it if the process dies.
    _lock: File,
}

impl StateStore {
    /// The state file of `stack` in `dir`.
    pub fn path_for(dir: &Path, stack: &str) -> PathBuf {
        dir.join(format!("{stack}.json"))
    }

    /// Reads the state without locking (for `outputs`); a missing file is an empty state.
    pub fn read(dir: &Path, stack: &str) -> Result<State, StateError> {
        let path = Self::path_for(dir, stack);
        read_state(&path, stack)
    }

    /// Locks the stack and reads its state (empty if there is none yet).
    pub fn open(dir: &Path, stack: &str) -> Result<StateStore, StateError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| StateError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join(format!("{stack}.lock"));
        let mut lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&lock_path).unwrap_or_default();
                let holder =
                    if holder.trim().is_empty() { "unknown process".to_string() } else { holder.trim().to_string() };
                return Err(StateError::Locked { stack: stack.to_string(), holder });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(StateError::Io { path: lock_path, source: e }),
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let holder = format!("pid {} on {}, started {}", std::process::id(), host.trim(), humantime_now());
        lock.set_len(0).map_err(io(&lock_path))?;
        lock.write_all(holder.as_bytes()).map_err(io(&lock_path))?;
        let path = Self::path_for(dir, stack);
        let state = read_state(&path, stack)?;
        Ok(StateStore { path, state, _lock: lock })
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Changes the state with `f` and writes it.
    pub fn update(&mut self, f: impl FnOnce(&mut State)) -> Result<(), StateError> {
        f(&mut self.state);
        self.write()
    }

    /// Sets one resource and writes the file.
    pub fn record(&mut self, name: &str, res: ResourceState) -> Result<(), StateError> {
        self.update(|s| {
            s.resources.insert(name.to_string(), res);
        })
    }

    /// Removes one resource and writes the file.
    pub fn remove(&mut self, name: &str) -> Result<(), StateError> {
        self.update(|s| {
            s.resources.remove(name);
        })
    }

    fn write(&self) -> Result<(), StateError> {
        let io = |source| StateError::Io { path: self.path.clone(), source };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::Builder::new().prefix(".state-").tempfile_in(dir).map_err(io)?;
        // tempfile creates the file 0600 already; say it explicitly, it is a rule here.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
        let text = serde_json::to_string_pretty(&self.state).map_err(|e| io(std::io::Error::other(e)))?;
        tmp.write_all(text.as_bytes()).map_err(io)?;
        tmp.write_all(b"\n").map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(&self.path).map_err(|e| io(e.error))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

fn read_state(path: &Path, stack: &str) -> Result<State, StateError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::new(stack)),
        Err(source) => return Err(StateError::Io { path: path.to_owned(), source }),
    };
    let state: State = serde_json::from_str(&text)
        .map_err(|e| StateError::Corrupt { path: path.to_owned(), reason: e.to_string() })?;
    if state.version > STATE_VERSION {
        return Err(StateError::TooNew { path: path.to_owned(), found: state.version });
    }
    if state.stack != stack {
        return Err(StateError::WrongStack { path: path.to_owned(), found: state.stack, expected: stack.to_string() });
    }
    Ok(state)
}

/// Seconds since the epoch, as text: enough to tell holders apart without a date crate.
fn humantime_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("at unix time {secs}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(id: &str) -> ResourceState {
        ResourceState {
            type_name: "ec2:Vpc".into(),
            status: Status::Ready,
            id: id.into(),
            outputs: Default::default(),
            props: Default::default(),
            depends_on: vec![],
            delete_secs: 1.0,
            run_id: "r1".into(),
        }
    }

    #[test]
    fn records_survive_a_reopen_and_the_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut s = StateStore::open(dir.path(), "demo-dev").unwrap();
            s.record("vpc", res("vpc-1")).unwrap();
        }
        let s = StateStore::open(dir.path(), "demo-dev").unwrap();
        assert_eq!(s.state().resources["vpc"].id, "vpc-1");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(s.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_second_open_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let _first = StateStore::open(dir.path(), "demo-dev").unwrap();
        let err = StateStore::open(dir.path(), "demo-dev").unwrap_err();
        match err {
            StateError::Locked { holder, .. } => assert!(holder.contains(&format!("pid {}", std::process::id()))),
            other => panic!("expected Locked, got {other}"),
        }
    }

    #[test]
    fn a_truncated_state_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = StateStore::path_for(dir.path(), "demo-dev");
        std::fs::write(&path, "{\"version\": 1, \"stack\": \"demo-d").unwrap();
        let err = StateStore::open(dir.path(), "demo-dev").unwrap_err();
        assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"version\": 1, \"stack\": \"demo-d");
    }
}
