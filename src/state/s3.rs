//! The state on S3: one object for the state (`PREFIX/STACK.json`, which is also the intent
//! journal: every intent is written to it before its call), one for the lock
//! (`PREFIX/STACK.lock`).
//!
//! API, in order of use: [`Objects`] (the four conditional object calls, on S3 or in memory for
//! the tests) · [`Lease::acquire`] / [`Lease::renew`] / [`Lease::release`] (the lock) ·
//! [`StateObject`] (compare-and-swap reads and writes of the state) · [`S3Store`] (all of it
//! for the synchronous [`super::StateStore`], with the heartbeat).
//!
//! **Invariants** (each has a test):
//! - Acquire is one conditional create (`If-None-Match: *`). An expired lock is taken over only by
//!   a write conditional on the stale lock's ETag, never by delete-then-create; the new holder then
//!   rewrites the state (compare-and-swap) so that the old holder's next write is refused.
//! - The lease is renewed by a write conditional on the lock's own ETag; a renewal refused, or
//!   impossible until the lease runs out, marks the lease lost ([`S3Store::lease_lost`]).
//! - Release is a delete conditional on the run's own lock ETag, after the last state write.
//! - Every state write is conditional on the ETag read or written last (`If-Match`; the first
//!   `If-None-Match: *`). A refused write is an error and never overwrites. A write whose answer was
//!   lost and that the SDK retried is recognised (the object holds exactly what was written).
//! - Throttling, 5xx and timeouts are retried (the SDK's attempts, then [`RETRIES`] more here).
//!
//! Expiry compares the holder's `expires` (its clock) with the reader's clock: clocks are assumed
//! within seconds of each other (NTP). A skewed early takeover cannot lose a write: whichever
//! run writes the state second with a stale ETag is refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::location::S3Location;
use super::{State, StateError};
use crate::aws::{AwsError, Connect, ErrorKind};

/// Extra tries of a throttled or transient object call, beyond the SDK's own three attempts.
pub const RETRIES: u32 = 6;

/// What a conditional call answered.
#[derive(Debug, Clone)]
pub enum ObjError {
    /// The condition did not hold (412), or a concurrent conditional write won (409).
    Precondition,
    Failed(AwsError),
}

/// A write's condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// `If-None-Match: *`: only if there is no object.
    Absent,
    /// `If-Match: ETAG`: only if the object is still this one.
    Matches(String),
}

/// One object and its ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub body: Vec<u8>,
    pub etag: String,
}

/// The object calls the state and its lock need, each conditional where it writes.
#[async_trait]
pub trait Objects: Send + Sync + 'static {
    async fn get(&self, key: &str) -> Result<Option<Object>, AwsError>;
    /// Writes `body` if `cond` holds; returns the new ETag.
    async fn put(&self, key: &str, body: Vec<u8>, cond: &Cond) -> Result<String, ObjError>;
    /// Deletes the object if it is still `etag` ("already gone" is success).
    async fn delete(&self, key: &str, etag: &str) -> Result<(), ObjError>;
    /// `s3://bucket/key`, for messages.
    fn url(&self, key: &str) -> String;
}

/// Retries throttled and transient failures with jittered exponential backoff.
async fn retried<T, F, Fut>(mut op: F) -> Result<T, ObjError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ObjError>>,
{
    let mut attempt = 0u32;
    loop {
        match op().await {
            Err(ObjError::Failed(e))
                if matches!(e.kind, ErrorKind::Throttling | ErrorKind::Transient) && attempt < RETRIES =>
            {
                attempt += 1;
                tracing::warn!(operation = e.operation, code = %e.code, attempt, "state call retried");
                let delay = 0.1 * 2f64.powi(attempt as i32) * (0.5 + crate::engine::jitter());
                tokio::time::sleep(Duration::from_secs_f64(delay.min(5.0))).await;
            }
            other => return other,
        }
    }
}

fn failed(e: ObjError, url: String) -> StateError {
    match e {
        ObjError::Precondition => StateError::Conflict { url, reason: "a conditional request was refused".into() },
        ObjError::Failed(e) => {
            StateError::Remote { url, operation: e.operation, code: e.code, message: e.message, hint: e.hint }
        }
    }
}

fn remote(e: AwsError, url: String) -> StateError {
    failed(ObjError::Failed(e), url)
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// What the lock object says: who holds the stack, for which run, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Random; `ironplan unlock` needs it.
    pub id: String,
    pub user: String,
    pub host: String,
    pub pid: u32,
    /// `deploy`, `teardown`, `state migrate`.
    pub operation: String,
    /// Unix seconds.
    pub since: u64,
    /// Unix seconds: the lease runs out then unless renewed.
    pub expires: u64,
    pub lease_secs: u64,
}

impl LockInfo {
    /// A lock for this process.
    pub fn new(operation: &str, lease: Duration) -> LockInfo {
        let now = now();
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default().trim().to_string();
        let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
        LockInfo {
            id: random_id(),
            user,
            host,
            pid: std::process::id(),
            operation: operation.to_string(),
            since: now,
            expires: now + lease.as_secs(),
            lease_secs: lease.as_secs(),
        }
    }

    /// The holder, in words, with its lock ID.
    pub fn holder(&self, now: u64) -> String {
        let lease = if now >= self.expires {
            format!("its lease ran out {} s ago", now - self.expires)
        } else {
            format!("lease renewed until {} s from now", self.expires - now)
        };
        format!(
            "{}@{} (pid {}), `{}` since unix time {} ({lease}); lock ID {}",
            crate::diag::quote(&self.user, 40),
            crate::diag::quote(&self.host, 64),
            self.pid,
            crate::diag::quote(&self.operation, 20),
            self.since,
            crate::diag::quote(&self.id, 40)
        )
    }

    fn body(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

/// 16 random hex digits (the kernel's generator; a time-and-pid digest if it cannot be read).
fn random_id() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 8];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        use sha2::Digest;
        let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        bytes.copy_from_slice(&sha2::Sha256::digest(seed.as_bytes())[..8]);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The lock object as read: what it says, or that it cannot be read.
pub fn parse_lock(obj: &Object) -> Option<LockInfo> {
    serde_json::from_slice(&obj.body).ok()
}

/// A held lock.
pub struct Lease {
    objs: Arc<dyn Objects>,
    key: String,
    stack: String,
    pub info: LockInfo,
    etag: String,
    /// The expired lock this acquire took over.
    pub took_over: Option<LockInfo>,
}

impl Lease {
    /// Takes the lock of `stack` at `key`, or says who holds it.
    pub async fn acquire(objs: Arc<dyn Objects>, key: &str, stack: &str, info: LockInfo) -> Result<Lease, StateError> {
        let url = objs.url(key);
        let mut lease = Lease {
            objs: objs.clone(),
            key: key.to_string(),
            stack: stack.into(),
            info,
            etag: String::new(),
            took_over: None,
        };
        let body = lease.info.body();
        // A few rounds: the lock may be released or taken by someone else between two calls.
        for _ in 0..5 {
            match retried(|| objs.put(key, body.clone(), &Cond::Absent)).await {
                Ok(etag) => {
                    lease.etag = etag;
                    return Ok(lease);
                }
                Err(ObjError::Precondition) => {}
                Err(e) => return Err(failed(e, url)),
            }
            let Some(cur) = retried(|| async { objs.get(key).await.map_err(ObjError::Failed) })
                .await
                .map_err(|e| failed(e, url.clone()))?
            else {
                continue; // released in between
            };
            let Some(held) = parse_lock(&cur) else {
                return Err(StateError::Locked {
                    stack: stack.into(),
                    holder: format!("an unreadable lock object at {url} (not written by ironplan?)"),
                });
            };
            if held.id == lease.info.id {
                // Our own create landed and its answer was lost; the SDK retried it.
                lease.etag = cur.etag;
                return Ok(lease);
            }
            if now() < held.expires {
                return Err(StateError::Locked { stack: stack.into(), holder: held.holder(now()) });
            }
            // Expired: taken over only if it is still exactly that stale lock.
            let stale = Cond::Matches(cur.etag.clone());
            match retried(|| objs.put(key, body.clone(), &stale)).await {
                Ok(etag) => {
                    tracing::warn!(stale = %held.holder(now()), "took over an expired lock");
                    lease.etag = etag;
                    lease.took_over = Some(held);
                    return Ok(lease);
                }
                Err(ObjError::Precondition) => {}
                Err(e) => return Err(failed(e, url)),
            }
        }
        Err(StateError::Locked { stack: stack.into(), holder: format!("other runs that keep taking {url}") })
    }

    /// Extends the lease; `Err(true)` means the lock is no longer ours.
    pub async fn renew(&mut self, lease: Duration) -> Result<(), bool> {
        let mut next = self.info.clone();
        next.expires = now() + lease.as_secs();
        let body = next.body();
        let mine = Cond::Matches(self.etag.clone());
        match retried(|| self.objs.put(&self.key, body.clone(), &mine)).await {
            Ok(etag) => {
                self.etag = etag;
                self.info = next;
                Ok(())
            }
            Err(ObjError::Precondition) => match self.objs.get(&self.key).await {
                // A renewal that landed, retried by the SDK.
                Ok(Some(cur)) if cur.body == body => {
                    self.etag = cur.etag;
                    self.info = next;
                    Ok(())
                }
                _ => Err(true),
            },
            Err(ObjError::Failed(e)) => {
                tracing::warn!(code = %e.code, message = %e.message, "lease renewal failed");
                Err(false)
            }
        }
    }

    /// Deletes the lock if it is still ours. A lock taken over meanwhile is left to its holder.
    pub async fn release(&self) -> Result<(), StateError> {
        match retried(|| self.objs.delete(&self.key, &self.etag)).await {
            Ok(()) => Ok(()),
            Err(ObjError::Precondition) => {
                match self.objs.get(&self.key).await {
                    Ok(None) => Ok(()), // our delete landed, retried
                    _ => {
                        tracing::warn!(stack = %self.stack, "the lock is no longer ours: left to its holder");
                        Ok(())
                    }
                }
            }
            Err(e) => Err(failed(e, self.objs.url(&self.key))),
        }
    }
}

/// The state object, written compare-and-swap.
pub struct StateObject {
    objs: Arc<dyn Objects>,
    key: String,
    /// What was read or written last; `None`: there is no state object yet.
    etag: Option<String>,
}

impl StateObject {
    /// Reads the state (an empty one if there is none yet) and remembers its ETag.
    pub async fn read(objs: Arc<dyn Objects>, key: &str, stack: &str) -> Result<(StateObject, State), StateError> {
        let url = objs.url(key);
        let got = retried(|| async { objs.get(key).await.map_err(ObjError::Failed) })
            .await
            .map_err(|e| failed(e, url.clone()))?;
        let (state, etag) = match got {
            None => (State::new(stack), None),
            Some(obj) => (super::parse_state(&obj.body, std::path::Path::new(&url), stack)?, Some(obj.etag)),
        };
        Ok((StateObject { objs, key: key.to_string(), etag }, state))
    }

    /// Writes `body` only over what was read or written last.
    pub async fn write(&mut self, body: Vec<u8>) -> Result<(), StateError> {
        let cond = self.etag.clone().map_or(Cond::Absent, Cond::Matches);
        let url = self.objs.url(&self.key);
        match retried(|| self.objs.put(&self.key, body.clone(), &cond)).await {
            Ok(etag) => {
                self.etag = Some(etag);
                Ok(())
            }
            Err(ObjError::Precondition) => match self.objs.get(&self.key).await {
                // This very write landed and its answer was lost; the SDK sent it again.
                Ok(Some(cur)) if cur.body == body => {
                    self.etag = Some(cur.etag);
                    Ok(())
                }
                _ => Err(StateError::Conflict {
                    url,
                    reason: "another run wrote it since this run read it (its lock had expired and was taken over?)"
                        .into(),
                }),
            },
            Err(e) => Err(failed(e, url)),
        }
    }

    /// Deletes the state object if it is still what this run read or wrote.
    pub async fn delete(&mut self) -> Result<(), StateError> {
        let Some(etag) = self.etag.clone() else { return Ok(()) };
        let url = self.objs.url(&self.key);
        match retried(|| self.objs.delete(&self.key, &etag)).await {
            Ok(()) => {
                self.etag = None;
                Ok(())
            }
            Err(e) => Err(failed(e, url)),
        }
    }
}

/// How a run holds the S3 state: the lease length and what it is doing.
#[derive(Debug, Clone)]
pub struct LockOptions {
    pub lease: Duration,
    pub operation: String,
}

impl Default for LockOptions {
    fn default() -> Self {
        LockOptions { lease: Duration::from_secs(DEFAULT_LEASE_SECS), operation: "deploy".into() }
    }
}

/// A lock's default lease: a holder killed without releasing blocks others this long.
pub const DEFAULT_LEASE_SECS: u64 = 120;

/// The S3 state of one stack, locked, for the synchronous store: the calls run on a runtime of
/// their own thread (the engine writes state from inside its runtime and waits for the answer;
/// a state write is never skipped or reordered), and a heartbeat renews the lease there.
pub struct S3Store {
    worker: Worker,
    lease: Arc<tokio::sync::Mutex<Lease>>,
    state: Arc<tokio::sync::Mutex<StateObject>>,
    lost: Arc<AtomicBool>,
    lost_rx: tokio::sync::watch::Receiver<bool>,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
    released: bool,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store").field("lost", &self.lost.load(Ordering::SeqCst)).finish()
    }
}

impl S3Store {
    /// Connects, finds the bucket's region, takes the lock and reads the state.
    pub fn open(
        loc: &S3Location,
        stack: &str,
        connect: &Connect,
        opts: &LockOptions,
    ) -> Result<(S3Store, State), StateError> {
        let worker = Worker::start()?;
        let (loc2, connect) = (loc.clone(), connect.clone());
        let objs = worker.block(async move { S3Objects::connect(&loc2, &connect).await })??;
        Self::open_with(worker, Arc::new(objs), loc, stack, opts)
    }

    /// The same on any [`Objects`] (the tests' in-memory bucket).
    pub fn open_on(
        objs: Arc<dyn Objects>,
        loc: &S3Location,
        stack: &str,
        opts: &LockOptions,
    ) -> Result<(S3Store, State), StateError> {
        Self::open_with(Worker::start()?, objs, loc, stack, opts)
    }

    fn open_with(
        worker: Worker,
        objs: Arc<dyn Objects>,
        loc: &S3Location,
        stack: &str,
        opts: &LockOptions,
    ) -> Result<(S3Store, State), StateError> {
        let (lock_key, state_key, stack_s) = (loc.key(stack, "lock"), loc.key(stack, "json"), stack.to_string());
        let info = LockInfo::new(&opts.operation, opts.lease);
        let o = objs.clone();
        let lease = worker.block(async move { Lease::acquire(o, &lock_key, &stack_s, info).await })??;
        let o = objs.clone();
        let stack_s = stack.to_string();
        let read = worker.block(async move { StateObject::read(o, &state_key, &stack_s).await })?;
        let took_over = lease.took_over.is_some();
        let lease = Arc::new(tokio::sync::Mutex::new(lease));
        let (mut obj, state) = match read {
            Ok(r) => r,
            Err(e) => {
                let l = lease.clone();
                let _ = worker.block(async move { l.lock().await.release().await });
                return Err(e);
            }
        };
        if took_over && obj.etag.is_some() {
            // Fence: the stale holder's next write is refused from now on.
            let body = super::state_text(&state).into_bytes();
            let fenced = worker.block(async move {
                let r = obj.write(body).await;
                (obj, r)
            })?;
            obj = fenced.0;
            fenced.1?;
        }
        let state_obj = Arc::new(tokio::sync::Mutex::new(obj));
        let lost = Arc::new(AtomicBool::new(false));
        let (lost_tx, lost_rx) = tokio::sync::watch::channel(false);
        let heartbeat = {
            let (lease, lost, every, length) = (lease.clone(), lost.clone(), opts.lease / 4, opts.lease);
            worker.handle.spawn(async move {
                loop {
                    tokio::time::sleep(every.max(Duration::from_millis(250))).await;
                    let mut l = lease.lock().await;
                    match l.renew(length).await {
                        Ok(()) => {}
                        Err(gone) if gone || now() >= l.info.expires => {
                            tracing::error!("the state lock's lease is lost: no new work starts");
                            lost.store(true, Ordering::SeqCst);
                            let _ = lost_tx.send(true);
                            return;
                        }
                        Err(_) => {}
                    }
                }
            })
        };
        Ok((
            S3Store { worker, lease, state: state_obj, lost, lost_rx, heartbeat: Some(heartbeat), released: false },
            state,
        ))
    }

    /// Writes the whole state, compare-and-swap.
    pub fn write(&self, body: Vec<u8>) -> Result<(), StateError> {
        let s = self.state.clone();
        self.worker.block(async move { s.lock().await.write(body).await })?
    }

    /// Deletes the state object (after a migration away).
    pub fn delete_state(&self) -> Result<(), StateError> {
        let s = self.state.clone();
        self.worker.block(async move { s.lock().await.delete().await })?
    }

    /// True once the lease could not be renewed: the run must start nothing new.
    pub fn lease_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Resolves when the lease is lost (for the CLI's stopper).
    pub fn lease_watch(&self) -> tokio::sync::watch::Receiver<bool> {
        self.lost_rx.clone()
    }

    /// The lock this run holds.
    pub fn lock_info(&self) -> Option<LockInfo> {
        let l = self.lease.clone();
        self.worker.block(async move { l.lock().await.info.clone() }).ok()
    }

    /// Stops the heartbeat and deletes the lock (conditional on its ETag).
    pub fn release(&mut self) -> Result<(), StateError> {
        if self.released {
            return Ok(());
        }
        self.released = true;
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
        let l = self.lease.clone();
        self.worker.block(async move { l.lock().await.release().await })?
    }
}

impl Drop for S3Store {
    fn drop(&mut self) {
        if let Err(e) = self.release() {
            tracing::warn!(error = %e, "could not release the state lock: it runs out with its lease");
        }
    }
}

/// A thread with a runtime of its own: the S3 calls and the heartbeat run there.
struct Worker {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    fn start() -> Result<Worker, StateError> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| StateError::Io {
            action: "start the state worker",
            path: "s3".into(),
            source: e,
        })?;
        let handle = rt.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("ironplan-state".into())
            .spawn(move || {
                rt.block_on(async {
                    let _ = stopped.await;
                });
            })
            .map_err(|e| StateError::Io { action: "start the state worker", path: "s3".into(), source: e })?;
        Ok(Worker { handle, stop: Some(stop), thread: Some(thread) })
    }

    /// Runs `fut` on the worker and waits for it, from any thread (inside a runtime or not).
    fn block<T: Send + 'static>(
        &self,
        fut: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Result<T, StateError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.handle.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().map_err(|_| StateError::Io {
            action: "reach the state worker",
            path: "s3".into(),
            source: std::io::Error::other("the state worker stopped"),
        })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// [`Objects`] on S3.
#[derive(Clone)]
pub struct S3Objects {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Objects {
    /// A client in the bucket's own region (found with HeadBucket before any lock call).
    pub async fn connect(loc: &S3Location, connect: &Connect) -> Result<S3Objects, StateError> {
        let url = loc.to_string();
        let (config, region) = connect.load().await.map_err(|e| remote(e, url.clone()))?;
        let client = crate::aws::s3_client(&config, connect.emulator);
        let found = bucket_region(&client, &loc.bucket).await.map_err(|e| remote(e, url.clone()))?;
        let client = match found {
            Some(r) if r != region => {
                tracing::info!(bucket = %loc.bucket, region = %r, "the state bucket is in another region");
                let config = config.into_builder().region(aws_config::Region::new(r)).build();
                crate::aws::s3_client(&config, connect.emulator)
            }
            _ => client,
        };
        Ok(S3Objects { client, bucket: loc.bucket.clone() })
    }
}

/// The bucket's region, from HeadBucket's `x-amz-bucket-region`. S3 sends it with a 200, and
/// also when the request was signed for another region: with a 301 (PermanentRedirect, no body:
/// HEAD) or a 400 (AuthorizationHeaderMalformed); a 307 (a new bucket's temporary redirect) too.
async fn bucket_region(client: &aws_sdk_s3::Client, bucket: &str) -> Result<Option<String>, AwsError> {
    use aws_smithy_runtime_api::client::result::SdkError;
    match client.head_bucket().bucket(bucket).send().await {
        Ok(out) => Ok(out.bucket_region().map(str::to_string)),
        Err(SdkError::ServiceError(se))
            if matches!(se.raw().status().as_u16(), 301 | 307 | 400)
                && se.raw().headers().get("x-amz-bucket-region").is_some_and(|r| !r.is_empty()) =>
        {
            Ok(se.raw().headers().get("x-amz-bucket-region").map(str::to_string))
        }
        Err(e) => {
            let status = match &e {
                SdkError::ServiceError(se) => se.raw().status().as_u16(),
                _ => 0,
            };
            let mut err = crate::aws::sdk_err("HeadBucket", e);
            match status {
                404 => {
                    err.code = "NoSuchBucket".into();
                    err.message = format!("there is no bucket `{bucket}`");
                }
                403 => {
                    err.code = "AccessDenied".into();
                    err.message = format!("access to bucket `{bucket}` is denied");
                }
                _ => {}
            }
            Err(err)
        }
    }
}

fn is_precondition<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(
    e: &aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> bool {
    use aws_smithy_runtime_api::client::result::SdkError;
    use aws_smithy_types::error::metadata::ProvideErrorMetadata as _;
    match e {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            status == 412 || (status == 409 && e.code() == Some("ConditionalRequestConflict"))
        }
        _ => false,
    }
}

#[async_trait]
impl Objects for S3Objects {
    async fn get(&self, key: &str) -> Result<Option<Object>, AwsError> {
        use aws_sdk_s3::operation::get_object::GetObjectError;
        match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => {
                // Without it no later write could be conditional on what was read.
                let etag = out.e_tag().filter(|e| !e.is_empty());
                let etag = etag.ok_or_else(|| AwsError::malformed("GetObject", "an ETag"))?.to_string();
                let body = out.body.collect().await.map_err(|e| AwsError {
                    operation: "GetObject",
                    code: "ResponseError".into(),
                    message: e.to_string(),
                    kind: ErrorKind::Transient,
                    hint: None,
                })?;
                Ok(Some(Object { body: body.into_bytes().to_vec(), etag }))
            }
            Err(e) if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => Ok(None),
            Err(e) => Err(crate::aws::sdk_err("GetObject", e)),
        }
    }

    async fn put(&self, key: &str, body: Vec<u8>, cond: &Cond) -> Result<String, ObjError> {
        let req =
            self.client.put_object().bucket(&self.bucket).key(key).content_type("application/json").body(body.into());
        let req = match cond {
            Cond::Absent => req.if_none_match("*"),
            Cond::Matches(etag) => req.if_match(etag),
        };
        match req.send().await {
            // Without it the next write could not be conditional on this one: never go on with
            // an empty ETag (every later `If-Match` would be refused as a conflict).
            Ok(out) => match out.e_tag() {
                Some(etag) if !etag.is_empty() => Ok(etag.to_string()),
                _ => Err(ObjError::Failed(AwsError {
                    hint: Some(format!(
                        "`s3://{}/{key}` may have been written: check what sits between ironplan and S3 \
                         (a proxy or gateway that drops the ETag header), then run again",
                        self.bucket
                    )),
                    ..AwsError::malformed("PutObject", "an ETag")
                })),
            },
            Err(e) if is_precondition(&e) => Err(ObjError::Precondition),
            Err(e) => Err(ObjError::Failed(crate::aws::sdk_err("PutObject", e))),
        }
    }

    async fn delete(&self, key: &str, etag: &str) -> Result<(), ObjError> {
        match self.client.delete_object().bucket(&self.bucket).key(key).if_match(etag).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_precondition(&e) => Err(ObjError::Precondition),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(()),
            Err(e) => Err(ObjError::Failed(crate::aws::sdk_err("DeleteObject", e))),
        }
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// Reads the lock of a stack without taking it (for `ironplan unlock`).
pub async fn read_lock(objs: &dyn Objects, key: &str) -> Result<Option<(Object, Option<LockInfo>)>, StateError> {
    let got = objs.get(key).await.map_err(|e| remote(e, objs.url(key)))?;
    Ok(got.map(|o| {
        let info = parse_lock(&o);
        (o, info)
    }))
}

/// Breaks the lock at `key` if its ID is `id`; returns who held it.
pub async fn unlock(objs: &dyn Objects, key: &str, stack: &str, id: &str) -> Result<LockInfo, StateError> {
    let url = objs.url(key);
    let Some((obj, info)) = read_lock(objs, key).await? else {
        return Err(StateError::NotLocked { stack: stack.into(), url });
    };
    let Some(info) = info else {
        return Err(StateError::WrongLockId {
            stack: stack.into(),
            given: id.into(),
            holder: format!("an unreadable lock object at {url}"),
        });
    };
    if info.id != id {
        return Err(StateError::WrongLockId { stack: stack.into(), given: id.into(), holder: info.holder(now()) });
    }
    match objs.delete(key, &obj.etag).await {
        Ok(()) => Ok(info),
        Err(ObjError::Precondition) => Err(StateError::WrongLockId {
            stack: stack.into(),
            given: id.into(),
            holder: "a holder that renewed or replaced the lock meanwhile: read it again".into(),
        }),
        Err(e) => Err(failed(e, url)),
    }
}

/// Runs `f` on the objects of `loc`, with no lock taken (`ironplan unlock`, reading the state).
pub fn with_objects<T, F, Fut>(loc: &S3Location, connect: &Connect, f: F) -> Result<T, StateError>
where
    T: Send + 'static,
    F: FnOnce(Arc<dyn Objects>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, StateError>> + Send,
{
    let worker = Worker::start()?;
    let (loc, connect) = (loc.clone(), connect.clone());
    worker.block(async move {
        let objs: Arc<dyn Objects> = Arc::new(S3Objects::connect(&loc, &connect).await?);
        f(objs).await
    })?
}

#[cfg(test)]
mod tests;
