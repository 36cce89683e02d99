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
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod location;
pub mod s3;

pub use location::{Location, S3Location};

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
    /// An update in place is about to be made or under way: `props` holds the new values,
    /// `previous` the old ones (a rollback restores them; a resumed deploy applies `props`).
    Updating,
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
    /// While `updating`: the properties before the update (sensitive ones as digests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<serde_json::Map<String, Value>>,
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

/// The longest stack name a state file may be named after: file names have 255 bytes, and
/// `.json`, `.lock` and the temporary files' suffixes need room.
pub const MAX_STACK_BYTES: usize = 200;

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
    #[error("stack name {stack:?} cannot name a state file: {reason}")]
    InvalidStack { stack: String, reason: &'static str },
    #[error("{} is a symbolic link; ironplan does not follow links to its state and lock files", path.display())]
    Symlink { path: PathBuf },
    #[error("{} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error("lock file {} can be written by other users (mode {mode:04o}) and is not ours to make private", path.display())]
    SharedLock { path: PathBuf, mode: u32 },
    /// A compare-and-swap write of the S3 state, refused: someone else wrote it.
    #[error("state {url} was not written: {reason}")]
    Conflict { url: String, reason: String },
    /// An S3 call of the state backend failed (after its retries).
    #[error("{operation} on {url} failed: {code}: {message}")]
    Remote { url: String, operation: &'static str, code: String, message: String, hint: Option<String> },
    #[error("stack `{stack}` is not locked ({url} does not exist)")]
    NotLocked { stack: String, url: String },
    #[error("stack `{stack}` is not locked with ID {given:?}: it is held by {holder}")]
    WrongLockId { stack: String, given: String, holder: String },
    /// What the OS said, and to what.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StateError {
    /// What the user should do.
    pub fn hint(&self) -> String {
        match self {
            StateError::Locked { holder, .. } if holder.contains("lock ID") => {
                "wait for it to finish; if that run is gone, its lease runs out and the next run takes the lock \
                 over; to break it now, make sure the holder is gone and run `ironplan unlock LOCK_ID` with the \
                 same plan and --state"
                    .into()
            }
            StateError::Locked { .. } => {
                "wait for it to finish; if that process is gone, the lock is released with it".into()
            }
            StateError::Conflict { .. } => "nothing was overwritten: another ironplan took this stack over (its lock \
                 had run out?). Let it finish, then run the same command again: it starts from the state as written"
                .into(),
            StateError::Remote { hint: Some(h), .. } => h.clone(),
            StateError::Remote { code, .. } => match code.as_str() {
                "NoSuchBucket" => "create the state bucket first (plans/state-bucket.toml), or check --state".into(),
                "AccessDenied" | "Forbidden" => {
                    "the credentials need s3:GetObject, s3:PutObject and s3:DeleteObject on the prefix and \
                     s3:ListBucket on the bucket"
                        .into()
                }
                _ => "nothing was lost: the state in S3 is as the last successful write left it; run the same \
                      command again"
                    .into(),
            },
            StateError::NotLocked { .. } => "nothing to unlock".into(),
            StateError::WrongLockId { .. } => {
                "nothing was changed: pass the lock ID printed above, and only if that holder is gone".into()
            }
            StateError::Corrupt { path, .. } => format!(
                "nothing was called and the file was left as it is; restore {} from a backup, or move it \
                 aside and run `ironplan teardown --discover` with the same plan and --var: it finds the \
                 stack's resources in AWS by name and tag and deletes them",
                path.display()
            ),
            StateError::TooNew { .. } => "upgrade ironplan".into(),
            StateError::WrongStack { .. } => "check --state-dir and the plan's name".into(),
            StateError::InvalidStack { .. } => {
                "name the plan and its environment_suffix with lowercase letters, digits and `-`".into()
            }
            StateError::Symlink { path } | StateError::NotAFile { path } => format!(
                "put the file itself at {} (or remove what is there if it is not yours); a link could make \
                 ironplan overwrite another file",
                path.display()
            ),
            StateError::SharedLock { path, .. } => {
                format!(
                    "remove {} (it holds no data) or ask its owner to; ironplan creates it mode 0600",
                    path.display()
                )
            }
            StateError::Io { path, source, .. } => {
                let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                match source.kind() {
                    std::io::ErrorKind::PermissionDenied => {
                        format!("check the permissions of {} and of the file", dir.display())
                    }
                    std::io::ErrorKind::ReadOnlyFilesystem => {
                        "the file system is read-only: pass a writable directory with --state-dir".into()
                    }
                    std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                        "free some disk space and run the same command again; the state file on disk is \
                         unchanged (every write replaces it whole or not at all)"
                            .into()
                    }
                    std::io::ErrorKind::InvalidFilename => {
                        "the path is too long or not a valid file name: pass a shorter --state-dir".into()
                    }
                    _ => format!("check --state-dir ({})", dir.display()),
                }
            }
        }
    }
}

/// Refuses a stack name that could not be a file name inside the state directory: the plan
/// checks names too, but a name must never lead a file outside the directory.
pub fn check_stack_name(stack: &str) -> Result<(), StateError> {
    let reason = if stack.is_empty() {
        Some("it is empty")
    } else if stack.len() > MAX_STACK_BYTES {
        Some("it is longer than 200 bytes")
    } else if stack.contains(['/', '\\']) {
        Some("it contains a path separator")
    } else if stack.starts_with('.') {
        Some("it starts with `.`")
    } else if stack.chars().any(char::is_control) {
        Some("it contains a control character")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(StateError::InvalidStack { stack: stack.to_string(), reason }),
        None => Ok(()),
    }
}

/// The state of one stack, locked for this process, written on every change.
#[derive(Debug)]
pub struct StateStore {
    /// The state file, or the S3 object's URL (for messages).
    path: PathBuf,
    state: State,
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    /// Held for the life of the store: the OS releases it if the process dies.
    Local { _lock: File },
    /// Released when the store is dropped (or its lease runs out).
    S3(Box<s3::S3Store>),
}

impl StateStore {
    /// The state file of `stack` in `dir`.
    pub fn path_for(dir: &Path, stack: &str) -> PathBuf {
        dir.join(format!("{stack}.json"))
    }

    /// Reads the state without locking (for `outputs`); a missing file is an empty state.
    pub fn read(dir: &Path, stack: &str) -> Result<State, StateError> {
        check_stack_name(stack)?;
        let path = Self::path_for(dir, stack);
        read_state(&path, stack)
    }

    /// Locks the stack and reads its state (empty if there is none yet).
    ///
    /// The directory is created mode 0700, the lock file mode 0600 (whatever the umask); a
    /// symbolic link or anything but a regular file in place of the lock or the state is
    /// refused, never followed. A lock file left writable by others is made 0600, or refused
    /// when it is another user's.
    pub fn open(dir: &Path, stack: &str) -> Result<StateStore, StateError> {
        check_stack_name(stack)?;
        create_private_dir(dir).map_err(io("create the state directory", dir))?;
        let lock_path = dir.join(format!("{stack}.lock"));
        let mut lock = open_private(&lock_path, true)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = (&lock).take(4096).read_to_string(&mut holder);
                let holder =
                    if holder.trim().is_empty() { "unknown process".to_string() } else { holder.trim().to_string() };
                return Err(StateError::Locked { stack: stack.to_string(), holder });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io("lock", &lock_path)(e)),
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let holder = format!("pid {} on {}, started {}", std::process::id(), host.trim(), humantime_now());
        lock.set_len(0).map_err(io("write the lock file", &lock_path))?;
        lock.write_all(holder.as_bytes()).map_err(io("write the lock file", &lock_path))?;
        let path = Self::path_for(dir, stack);
        let state = read_state(&path, stack)?;
        Ok(StateStore { path, state, backend: Backend::Local { _lock: lock } })
    }

    /// Locks the stack and reads its state wherever it lives.
    pub fn open_at(
        loc: &Location,
        stack: &str,
        connect: &crate::aws::Connect,
        opts: &s3::LockOptions,
    ) -> Result<StateStore, StateError> {
        match loc {
            Location::Dir(dir) => Self::open(dir, stack),
            Location::S3(l) => {
                check_stack_name(stack)?;
                let (store, state) = s3::S3Store::open(l, stack, connect, opts)?;
                Ok(Self::on_s3(l, stack, store, state))
            }
        }
    }

    /// The S3 store `store` (opened by [`s3::S3Store::open_on`] in the tests).
    pub fn on_s3(loc: &S3Location, stack: &str, store: s3::S3Store, state: State) -> StateStore {
        StateStore {
            path: PathBuf::from(loc.url(&loc.key(stack, "json"))),
            state,
            backend: Backend::S3(Box::new(store)),
        }
    }

    /// Reads the state wherever it lives, without locking (`plan`, `drift`, `outputs`).
    pub fn read_at(loc: &Location, stack: &str, connect: &crate::aws::Connect) -> Result<State, StateError> {
        match loc {
            Location::Dir(dir) => Self::read(dir, stack),
            Location::S3(l) => {
                check_stack_name(stack)?;
                let (key, stack) = (l.key(stack, "json"), stack.to_string());
                s3::with_objects(l, connect, move |objs| async move {
                    s3::StateObject::read(objs, &key, &stack).await.map(|(_, st)| st)
                })
            }
        }
    }

    /// The S3 lease: `Some` on S3, to stop the run when the lease is lost.
    pub fn lease_watch(&self) -> Option<tokio::sync::watch::Receiver<bool>> {
        match &self.backend {
            Backend::S3(s) => Some(s.lease_watch()),
            Backend::Local { .. } => None,
        }
    }

    /// The lock this run holds on S3.
    pub fn lock_info(&self) -> Option<s3::LockInfo> {
        match &self.backend {
            Backend::S3(s) => s.lock_info(),
            Backend::Local { .. } => None,
        }
    }

    /// Deletes the stack's state (after it moved elsewhere); the lock stays held until drop.
    pub fn delete_state(&mut self) -> Result<(), StateError> {
        match &self.backend {
            Backend::Local { .. } => match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("remove the state file", &self.path)(e)),
                _ => Ok(()),
            },
            Backend::S3(s) => s.delete_state(),
        }
    }

    /// Releases the lock now (on S3: after the last write, conditional on the lock's ETag).
    pub fn close(mut self) -> Result<(), StateError> {
        match &mut self.backend {
            Backend::S3(s) => s.release(),
            Backend::Local { .. } => Ok(()),
        }
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

    /// Moves the entry `from` to the key `to` (a replaced resource kept until its successor is
    /// ready) and writes the file.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), StateError> {
        self.update(|s| {
            if let Some(r) = s.resources.remove(from) {
                s.resources.insert(to.to_string(), r);
            }
        })
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
        if let Backend::S3(s) = &self.backend {
            return s.write(state_text(&self.state).into_bytes());
        }
        let io = io("write the state file", &self.path);
        let dir = self.path.parent().unwrap_or(Path::new("."));
        // tempfile creates the file 0600, exclusively (never through a link); it replaces the
        // state by a rename, which replaces a link rather than writing through it.
        let mut tmp = tempfile::Builder::new().prefix(".state-").tempfile_in(dir).map_err(&io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(&io)?;
        }
        tmp.write_all(state_text(&self.state).as_bytes()).map_err(&io)?;
        tmp.as_file().sync_all().map_err(&io)?;
        tmp.persist(&self.path).map_err(|e| io(e.error))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Maps an I/O error to [`StateError::Io`], keeping what the OS said.
fn io(action: &'static str, path: &Path) -> impl Fn(std::io::Error) -> StateError {
    let path = path.to_owned();
    move |source| StateError::Io { action, path: path.clone(), source }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Opens `path` without following a symbolic link (the open fails instead), without blocking
/// on a FIFO, and checks that it is a regular file; `lock` creates it, mode 0600, and makes an
/// existing one that others can read or write private.
fn open_private(path: &Path, lock: bool) -> Result<File, StateError> {
    let action = if lock { "open the lock file" } else { "read the state file" };
    let mut options = OpenOptions::new();
    options.read(true);
    if lock {
        options.write(true).create(true).truncate(false);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return StateError::Symlink { path: path.to_owned() };
        }
        io(action, path)(e)
    })?;
    let meta = file.metadata().map_err(io(action, path))?;
    if !meta.is_file() {
        return Err(StateError::NotAFile { path: path.to_owned() });
    }
    #[cfg(unix)]
    if lock {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 && file.set_permissions(std::fs::Permissions::from_mode(0o600)).is_err() {
            return Err(StateError::SharedLock { path: path.to_owned(), mode });
        }
    }
    Ok(file)
}

fn read_state(path: &Path, stack: &str) -> Result<State, StateError> {
    let mut file = match open_private(path, false) {
        Ok(f) => f,
        Err(StateError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(State::new(stack));
        }
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io("read the state file", path))?;
    parse_state(&bytes, path, stack)
}

/// The state in `bytes`, checked: JSON of this version or older, of this stack.
fn parse_state(bytes: &[u8], path: &Path, stack: &str) -> Result<State, StateError> {
    let state: State = serde_json::from_slice(bytes)
        .map_err(|e| StateError::Corrupt { path: path.to_owned(), reason: e.to_string() })?;
    if state.version > STATE_VERSION {
        return Err(StateError::TooNew { path: path.to_owned(), found: state.version });
    }
    if state.stack != stack {
        return Err(StateError::WrongStack { path: path.to_owned(), found: state.stack, expected: stack.to_string() });
    }
    Ok(state)
}

/// The state as it is written.
fn state_text(state: &State) -> String {
    let mut text = serde_json::to_string_pretty(state).unwrap_or_default();
    text.push('\n');
    text
}

/// Seconds since the epoch, as text: enough to tell holders apart without a date crate.
fn humantime_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("at unix time {secs}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ready resource with this ID (also for the S3 backend's tests).
    pub(super) fn res(id: &str) -> ResourceState {
        ResourceState {
            type_name: "ec2:Vpc".into(),
            status: Status::Ready,
            id: id.into(),
            outputs: Default::default(),
            props: Default::default(),
            depends_on: vec![],
            delete_secs: 1.0,
            run_id: "r1".into(),
            previous: None,
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

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::symlink_metadata(path).map(|m| m.permissions().mode() & 0o7777).unwrap_or(0)
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_lock_is_refused_and_its_target_left_intact() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious.txt");
        std::fs::write(&target, "keep me").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("demo-dev.lock")).unwrap();
        let err = StateStore::open(dir.path(), "demo-dev").unwrap_err();
        assert!(matches!(err, StateError::Symlink { .. }), "{err}");
        assert!(err.to_string().contains("demo-dev.lock is a symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_state_file_is_refused_by_open_and_read() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let real = elsewhere.path().join("state.json");
        std::fs::write(&real, serde_json::to_string(&State::new("demo-dev")).unwrap()).unwrap();
        std::os::unix::fs::symlink(&real, StateStore::path_for(dir.path(), "demo-dev")).unwrap();
        let err = StateStore::open(dir.path(), "demo-dev").unwrap_err();
        assert!(matches!(err, StateError::Symlink { .. }), "{err}");
        let err = StateStore::read(dir.path(), "demo-dev").unwrap_err();
        assert!(matches!(err, StateError::Symlink { .. }), "{err}");
        assert!(err.hint().contains("link"), "{}", err.hint());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_in_place_of_the_state_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = StateStore::path_for(dir.path(), "demo-dev");
        let status = std::process::Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(status.success());
        let err = StateStore::read(dir.path(), "demo-dev").unwrap_err();
        assert!(matches!(err, StateError::NotAFile { .. }), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn the_lock_and_the_directory_are_private() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("state");
        let _s = StateStore::open(&dir, "demo-dev").unwrap();
        assert_eq!(mode(&dir.join("demo-dev.lock")), 0o600);
        assert_eq!(mode(&dir), 0o700);
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_file_others_can_write_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("demo-dev.lock");
        std::fs::write(&lock, "").unwrap();
        std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o666)).unwrap();
        let _s = StateStore::open(dir.path(), "demo-dev").unwrap();
        assert_eq!(mode(&lock), 0o600);
    }

    #[test]
    fn stack_names_that_could_leave_the_directory_are_refused() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("state");
        let long = "a".repeat(MAX_STACK_BYTES + 1);
        for (stack, reason) in [
            ("../escape", "path separator"),
            ("a/b", "path separator"),
            ("a\\b", "path separator"),
            ("..", "starts with `.`"),
            (".", "starts with `.`"),
            ("", "empty"),
            ("a\0b", "control character"),
            ("a\nb", "control character"),
            ("a\u{1b}[2Jb", "control character"),
            (long.as_str(), "longer than 200 bytes"),
        ] {
            for err in [StateStore::open(&dir, stack).unwrap_err(), StateStore::read(&dir, stack).unwrap_err()] {
                assert!(matches!(err, StateError::InvalidStack { .. }), "{stack:?}: {err}");
                assert!(err.to_string().contains(reason), "{stack:?}: {err}");
                // Control characters are shown escaped, never sent to the terminal.
                assert!(!err.to_string().chars().any(char::is_control), "{err:?}");
            }
        }
        assert!(!dir.exists(), "nothing was created for a refused name");
        assert!(!parent.path().join("escape.lock").exists());
        assert!(StateStore::open(&dir, &"a".repeat(MAX_STACK_BYTES)).is_ok());
    }

    #[test]
    fn io_errors_say_what_the_os_said() {
        let parent = tempfile::tempdir().unwrap();
        // A directory name longer than the file system allows.
        let dir = parent.path().join("d".repeat(300));
        let err = StateStore::open(&dir, "demo-dev").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("cannot create the state directory "), "{text}");
        assert!(text.contains("File name too long"), "{text}");
        assert!(err.hint().contains("--state-dir"), "{}", err.hint());
        // The messages of the errors that cannot be made here at will.
        for (errno, said, hint) in [
            (libc::ENOSPC, "No space left on device", "free some disk space"),
            (libc::EROFS, "Read-only file system", "read-only"),
            (libc::EACCES, "Permission denied", "permissions"),
        ] {
            let err = io("write the state file", Path::new("s/x.json"))(std::io::Error::from_raw_os_error(errno));
            assert!(err.to_string().starts_with("cannot write the state file s/x.json: "), "{err}");
            assert!(err.to_string().contains(said), "{err}");
            assert!(err.hint().contains(hint), "{}", err.hint());
        }
    }
}
