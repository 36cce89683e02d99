//! The lock and compare-and-swap rules on an in-memory bucket that enforces S3's conditions,
//! with injected failures (the wire is tested against moto in `tests/it/shared_state.rs`).

use std::collections::HashMap;
use std::sync::Mutex;

use super::*;
use crate::state::StateStore;
use crate::state::tests::res;

/// What the next call does instead of its work.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// Fails with a 503 before doing anything.
    Unavailable,
    /// Throttled before doing anything.
    SlowDown,
    /// Does the work, then the answer is lost (the caller sees a timeout).
    LostAnswer,
}

#[derive(Default)]
struct Mem {
    objects: Mutex<HashMap<String, Object>>,
    next: Mutex<u64>,
    faults: Mutex<Vec<Fault>>,
    /// Every call: (operation, key, condition).
    log: Mutex<Vec<(String, String, String)>>,
}

fn err(kind: ErrorKind, code: &str) -> AwsError {
    AwsError { operation: "Mem", code: code.into(), message: "injected".into(), kind, hint: None }
}

impl Mem {
    fn fault(&self) -> Option<Fault> {
        let mut f = self.faults.lock().unwrap();
        if f.is_empty() { None } else { Some(f.remove(0)) }
    }

    fn inject(&self, faults: &[Fault]) {
        self.faults.lock().unwrap().extend_from_slice(faults);
    }

    fn body(&self, key: &str) -> Option<Vec<u8>> {
        self.objects.lock().unwrap().get(key).map(|o| o.body.clone())
    }

    fn calls(&self, op: &str) -> Vec<(String, String, String)> {
        self.log.lock().unwrap().iter().filter(|c| c.0 == op).cloned().collect()
    }
}

#[async_trait]
impl Objects for Mem {
    async fn get(&self, key: &str) -> Result<Option<Object>, AwsError> {
        self.log.lock().unwrap().push(("get".into(), key.into(), String::new()));
        Ok(self.objects.lock().unwrap().get(key).cloned())
    }

    async fn put(&self, key: &str, body: Vec<u8>, cond: &Cond) -> Result<String, ObjError> {
        self.log.lock().unwrap().push(("put".into(), key.into(), format!("{cond:?}")));
        let fault = self.fault();
        match fault {
            Some(Fault::Unavailable) => return Err(ObjError::Failed(err(ErrorKind::Transient, "ServiceUnavailable"))),
            Some(Fault::SlowDown) => return Err(ObjError::Failed(err(ErrorKind::Throttling, "SlowDown"))),
            _ => {}
        }
        let mut objects = self.objects.lock().unwrap();
        let ok = match (cond, objects.get(key)) {
            (Cond::Absent, None) => true,
            (Cond::Matches(e), Some(o)) => &o.etag == e,
            _ => false,
        };
        if !ok {
            return Err(ObjError::Precondition);
        }
        let mut n = self.next.lock().unwrap();
        *n += 1;
        let etag = format!("\"e{n}\"");
        objects.insert(key.into(), Object { body, etag: etag.clone() });
        if fault == Some(Fault::LostAnswer) {
            return Err(ObjError::Failed(err(ErrorKind::Transient, "Timeout")));
        }
        Ok(etag)
    }

    async fn delete(&self, key: &str, etag: &str) -> Result<(), ObjError> {
        self.log.lock().unwrap().push(("delete".into(), key.into(), etag.into()));
        if self.fault() == Some(Fault::Unavailable) {
            return Err(ObjError::Failed(err(ErrorKind::Transient, "ServiceUnavailable")));
        }
        let mut objects = self.objects.lock().unwrap();
        match objects.get(key) {
            None => Ok(()),
            Some(o) if o.etag == etag => {
                objects.remove(key);
                Ok(())
            }
            Some(_) => Err(ObjError::Precondition),
        }
    }

    fn url(&self, key: &str) -> String {
        format!("s3://mem/{key}")
    }
}

const KEY: &str = "p/s-dev.lock";
const STATE: &str = "p/s-dev.json";

fn loc() -> S3Location {
    S3Location { bucket: "mem".into(), prefix: "p".into() }
}

fn info(lease: u64) -> LockInfo {
    LockInfo::new("deploy", Duration::from_secs(lease))
}

#[tokio::test]
async fn a_second_acquire_is_refused_naming_the_holder_and_its_lock_id() {
    let mem: Arc<dyn Objects> = Arc::new(Mem::default());
    let first = Lease::acquire(mem.clone(), KEY, "s-dev", info(60)).await.expect("first");
    let Err(StateError::Locked { holder, .. }) = Lease::acquire(mem.clone(), KEY, "s-dev", info(60)).await else {
        panic!("the second acquire must be refused")
    };
    assert!(holder.contains(&format!("pid {}", std::process::id())), "{holder}");
    assert!(holder.contains(&format!("lock ID {}", first.info.id)), "{holder}");
    assert!(holder.contains("`deploy`"), "{holder}");
}

#[tokio::test]
async fn an_expired_lock_is_taken_over_by_a_write_conditional_on_its_etag_never_deleted() {
    let mem = Arc::new(Mem::default());
    let objs: Arc<dyn Objects> = mem.clone();
    let stale = Lease::acquire(objs.clone(), KEY, "s-dev", info(0)).await.expect("stale");
    let stale_etag = mem.objects.lock().unwrap()[KEY].etag.clone();
    let next = Lease::acquire(objs.clone(), KEY, "s-dev", info(60)).await.expect("take over");
    assert_eq!(next.took_over.as_ref().map(|i| i.id.clone()), Some(stale.info.id.clone()));
    assert!(mem.calls("delete").is_empty(), "never delete-then-create");
    let puts = mem.calls("put");
    assert_eq!(puts.last().map(|p| p.2.clone()), Some(format!("Matches({stale_etag:?})")), "{puts:?}");
    // The old holder's release leaves the new lock alone.
    stale.release().await.expect("release");
    let body = mem.body(KEY).expect("lock kept");
    assert_eq!(parse_lock(&Object { body, etag: String::new() }).map(|i| i.id), Some(next.info.id.clone()));
}

#[tokio::test]
async fn a_renewal_after_a_takeover_says_the_lock_is_lost() {
    let mem: Arc<dyn Objects> = Arc::new(Mem::default());
    let mut stale = Lease::acquire(mem.clone(), KEY, "s-dev", info(0)).await.expect("stale");
    let _next = Lease::acquire(mem.clone(), KEY, "s-dev", info(60)).await.expect("take over");
    assert_eq!(stale.renew(Duration::from_secs(60)).await, Err(true));
}

#[tokio::test(start_paused = true)]
async fn throttling_5xx_and_lost_answers_are_retried_and_recognised() {
    let mem = Arc::new(Mem::default());
    let objs: Arc<dyn Objects> = mem.clone();
    mem.inject(&[Fault::SlowDown, Fault::Unavailable, Fault::LostAnswer]);
    // The create landed on the third try but its answer was lost; the fourth is refused (the
    // lock exists), and it is recognised as ours.
    let lease = Lease::acquire(objs.clone(), KEY, "s-dev", info(60)).await.expect("acquired despite faults");
    assert!(lease.took_over.is_none());
    let (mut obj, state) = StateObject::read(objs.clone(), STATE, "s-dev").await.expect("read");
    assert!(state.resources.is_empty());
    mem.inject(&[Fault::LostAnswer, Fault::Unavailable]);
    obj.write(b"{\"one\": 1}".to_vec()).await.expect("a write whose answer was lost");
    obj.write(b"{\"two\": 2}".to_vec()).await.expect("the next write matches the ETag of the first");
    assert_eq!(mem.body(STATE).as_deref(), Some(&b"{\"two\": 2}"[..]));
    mem.inject(&[Fault::Unavailable]);
    lease.release().await.expect("release retried");
    assert!(mem.body(KEY).is_none());
}

#[tokio::test]
async fn a_stale_writer_is_refused_and_overwrites_nothing() {
    let mem = Arc::new(Mem::default());
    let objs: Arc<dyn Objects> = mem.clone();
    let (mut a, _) = StateObject::read(objs.clone(), STATE, "s-dev").await.expect("read a");
    let (mut b, _) = StateObject::read(objs.clone(), STATE, "s-dev").await.expect("read b");
    a.write(b"a1".to_vec()).await.expect("first create");
    let Err(StateError::Conflict { url, .. }) = b.write(b"b1".to_vec()).await else {
        panic!("a second `If-None-Match: *` create must be refused")
    };
    assert_eq!(url, "s3://mem/p/s-dev.json");
    let (mut b, _) = (
        StateObject {
            objs: objs.clone(),
            key: STATE.into(),
            etag: mem.objects.lock().unwrap().get(STATE).map(|o| o.etag.clone()),
        },
        (),
    );
    b.write(b"b2".to_vec()).await.expect("b wrote over what it read");
    assert!(matches!(a.write(b"a2".to_vec()).await, Err(StateError::Conflict { .. })));
    assert_eq!(mem.body(STATE).as_deref(), Some(&b"b2"[..]));
}

#[tokio::test]
async fn unlock_needs_the_holders_lock_id() {
    let mem = Arc::new(Mem::default());
    let objs: Arc<dyn Objects> = mem.clone();
    let held = Lease::acquire(objs.clone(), KEY, "s-dev", info(60)).await.expect("held");
    let Err(StateError::WrongLockId { holder, .. }) = unlock(objs.as_ref(), KEY, "s-dev", "0000").await else {
        panic!("a wrong ID must be refused")
    };
    assert!(holder.contains(&held.info.id), "the refusal names the holder: {holder}");
    assert!(mem.body(KEY).is_some(), "the lock stays");
    let was = unlock(objs.as_ref(), KEY, "s-dev", &held.info.id).await.expect("unlock");
    assert_eq!(was.id, held.info.id);
    assert!(mem.body(KEY).is_none());
    assert!(matches!(unlock(objs.as_ref(), KEY, "s-dev", &held.info.id).await, Err(StateError::NotLocked { .. })));
}

/// The store as the engine uses it (synchronously, from inside a runtime), with the heartbeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_writes_renews_and_releases_and_a_taken_over_holder_is_fenced() {
    let mem = Arc::new(Mem::default());
    let objs: Arc<dyn Objects> = mem.clone();
    let opts = LockOptions { lease: Duration::from_secs(1), operation: "deploy".into() };
    let (s3, state) = S3Store::open_on(objs.clone(), &loc(), "s-dev", &opts).expect("open");
    let mut store = StateStore::on_s3(&loc(), "s-dev", s3, state);
    store.record("vpc", res("vpc-1")).expect("record");
    let first_lock = mem.objects.lock().unwrap()[KEY].etag.clone();
    // The heartbeat renews the lease (every quarter of it) on the lock's own ETag.
    let mut renewed = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if mem.objects.lock().unwrap().get(KEY).is_some_and(|o| o.etag != first_lock) {
            renewed = true;
            break;
        }
    }
    assert!(renewed, "the lease was renewed");
    assert!(store.lease_watch().is_some_and(|w| !*w.borrow()));
    let Err(StateError::Locked { .. }) = S3Store::open_on(objs.clone(), &loc(), "s-dev", &opts) else {
        panic!("a second store must be refused while the first holds the lock")
    };
    drop(store);
    assert!(mem.body(KEY).is_none(), "dropping the store released the lock");
    assert!(String::from_utf8_lossy(&mem.body(STATE).unwrap_or_default()).contains("vpc-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_over_holder_is_fenced_and_the_new_holder_sees_its_lease_lost_when_taken() {
    let mem = Arc::new(Mem::default());
    let objs: Arc<dyn Objects> = mem.clone();
    // A holder that froze: its lease ran out, it still means to write.
    let _frozen = Lease::acquire(objs.clone(), KEY, "s-dev", info(0)).await.expect("frozen holder");
    let (mut frozen_state, _) = StateObject::read(objs.clone(), STATE, "s-dev").await.expect("read");
    frozen_state.write(crate::state::state_text(&crate::state::State::new("s-dev")).into_bytes()).await.expect("write");
    let opts = LockOptions { lease: Duration::from_secs(1), operation: "deploy".into() };
    let (s3, state) = S3Store::open_on(objs.clone(), &loc(), "s-dev", &opts).expect("take over");
    let store = StateStore::on_s3(&loc(), "s-dev", s3, state);
    assert!(
        matches!(frozen_state.write(b"{}".to_vec()).await, Err(StateError::Conflict { .. })),
        "the takeover rewrote the state: the frozen holder's next write is refused"
    );
    // Someone else replaces the lock: the heartbeat's renewal is refused and the lease lost.
    {
        let mut o = mem.objects.lock().unwrap();
        let other = info(60);
        o.insert(KEY.into(), Object { body: other.body(), etag: "\"other\"".into() });
    }
    let mut watch = store.lease_watch().expect("S3 store");
    let lost = tokio::time::timeout(Duration::from_secs(10), watch.wait_for(|lost| *lost)).await;
    assert!(matches!(lost, Ok(Ok(_))), "the lease was reported lost");
    drop(store);
    assert_eq!(mem.objects.lock().unwrap()[KEY].etag, "\"other\"", "the other holder's lock is left alone");
}

/// A loopback HTTP server that answers every request with `response` (keep-alive), for the
/// answers moto never gives: a PutObject without an ETag, a HeadBucket redirect.
fn fixed_answer(response: &'static str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                loop {
                    let (mut length, mut chunked, mut line) = (0usize, false, String::new());
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let lower = line.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        chunked |= lower.starts_with("transfer-encoding:") && lower.contains("chunked");
                        if line == "\r\n" {
                            break;
                        }
                    }
                    if chunked {
                        // Up to the last (empty) chunk and its blank line.
                        let mut seen = String::new();
                        while !seen.ends_with("0\r\n\r\n") {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            seen.push_str(&line);
                        }
                    } else {
                        let mut body = vec![0; length];
                        if reader.read_exact(&mut body).is_err() {
                            return;
                        }
                    }
                    if conn.write_all(response.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

fn client_of(url: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "test"))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// A PutObject (or GetObject) answered without an ETag is a `MalformedResponse`, never an empty
/// ETag that the next conditional write would carry: the lock is not taken, the state write fails.
#[tokio::test]
async fn an_answer_without_an_etag_is_a_malformed_response_not_an_empty_etag() {
    let url = fixed_answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nx-amz-request-id: r1\r\n\r\n");
    let objs: Arc<dyn Objects> = Arc::new(S3Objects { client: client_of(&url), bucket: "team-state".into() });
    let Err(ObjError::Failed(e)) = objs.put(STATE, b"{}".to_vec(), &Cond::Absent).await else {
        panic!("a PutObject without an ETag must fail")
    };
    assert_eq!((e.operation, e.code.as_str()), ("PutObject", "MalformedResponse"), "{e:?}");
    assert!(e.hint.as_deref().is_some_and(|h| h.contains("s3://team-state/p/s-dev.json")), "{e:?}");
    let Err(e) = objs.get(STATE).await else { panic!("a GetObject without an ETag must fail") };
    assert_eq!((e.operation, e.code.as_str()), ("GetObject", "MalformedResponse"), "{e:?}");

    let mut obj = StateObject { objs: objs.clone(), key: STATE.into(), etag: None };
    let Err(StateError::Remote { code, operation, .. }) = obj.write(b"{}".to_vec()).await else {
        panic!("the state write must fail")
    };
    assert_eq!((operation, code.as_str()), ("PutObject", "MalformedResponse"));
    assert_eq!(obj.etag, None, "nothing remembered as written");
    let Err(StateError::Remote { code, .. }) = Lease::acquire(objs, KEY, "s-dev", info(60)).await else {
        panic!("the lock is not taken on an answer without an ETag")
    };
    assert_eq!(code, "MalformedResponse");
}

/// S3 tells a HeadBucket signed for the wrong region where the bucket is, in
/// `x-amz-bucket-region`, with a 301 (no body: HEAD) or a 400; both are taken.
#[tokio::test]
async fn the_bucket_region_is_read_from_a_301_or_a_400_head_bucket() {
    for status in ["301 Moved Permanently", "400 Bad Request"] {
        let answer: &'static str = Box::leak(
            format!("HTTP/1.1 {status}\r\nx-amz-bucket-region: eu-west-1\r\nContent-Length: 0\r\n\r\n")
                .into_boxed_str(),
        );
        let found = bucket_region(&client_of(&fixed_answer(answer)), "team-state").await;
        assert_eq!(found.as_ref().ok().and_then(|r| r.as_deref()), Some("eu-west-1"), "{status}: {found:?}");
    }
    // A 400 without the header is an error, with the operation.
    let found =
        bucket_region(&client_of(&fixed_answer("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")), "b").await;
    assert!(found.as_ref().is_err_and(|e| e.operation == "HeadBucket"), "{found:?}");
}
