//! How ironplan reaches AWS: which credentials it sends where, the emulator signal, and what
//! happens when an endpoint accepts a connection and never answers.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{Run, root};

const PLAN: &str = "plans/healthcare-pipeline.toml";

/// An endpoint on 127.0.0.1 that records the head of every request and answers each with an
/// STS error, so that the run stops at its first call.
struct Recorder {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = seen.clone();
                std::thread::spawn(move || answer(stream, &seen));
            }
        });
        Recorder { port, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }

    /// The access key IDs the requests were signed with.
    fn access_keys(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter_map(|r| r.split("Credential=").nth(1).and_then(|c| c.split('/').next()).map(str::to_string))
            .collect()
    }
}

fn answer(mut stream: TcpStream, seen: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    seen.lock().expect("requests").push(String::from_utf8_lossy(&head).into_owned());
    let body = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>\
                <Message>recorded by the test</Message></Error><RequestId>1</RequestId></ErrorResponse>";
    let _ = write!(
        stream,
        "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// `ironplan ARGS` with no credentials in the environment and AWS config files of our own
/// (`credentials`: the shared credentials file's text, empty for none).
fn ironplan(args: &[&str], endpoint: &str, credentials: &str, env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("credentials"), credentials).expect("credentials file");
    std::fs::write(dir.path().join("config"), "").expect("config file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ironplan"));
    cmd.args(args)
        .current_dir(root())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("credentials"))
        .env("AWS_CONFIG_FILE", dir.path().join("config"))
        .env("HOME", dir.path())
        .env("IRONPLAN_STATE_DIR", dir.path().join("state"))
        // No instance metadata service here; this keeps the chain from waiting for one.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("IRONPLAN_READ_TIMEOUT", "5")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("IRONPLAN_EMULATOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().expect("run ironplan"))
}

/// On a loopback address with nothing configured, the dummy credentials are used: an
/// emulator accepts any.
#[test]
fn dummy_credentials_go_only_to_a_loopback_address_when_nothing_is_configured() {
    let rec = Recorder::start();
    let run = ironplan(&["deploy", PLAN], &format!("http://127.0.0.1:{}", rec.port), "", &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(rec.access_keys(), ["testing"], "{}", run.stderr);
}

/// A name is never loopback, `localhost` included: no dummy credentials, and with no
/// credentials configured nothing is sent at all.
#[test]
fn no_dummy_credentials_for_a_name_even_localhost() {
    let rec = Recorder::start();
    for host in ["localhost", "127.0.0.1.evil.com"] {
        let run = ironplan(&["deploy", PLAN], &format!("http://{host}:{}", rec.port), "", &[]);
        assert_eq!(run.code, 1, "{host}: {}", run.stderr);
        assert!(run.stderr.contains("GetCallerIdentity"), "{host}: {}", run.stderr);
        assert!(
            run.stderr.contains("credentials"),
            "{host}: the error should say credentials are missing: {}",
            run.stderr
        );
    }
    assert!(rec.access_keys().is_empty(), "dummy credentials were sent: {:?}", rec.requests());
}

/// `--profile` and the default profile are used on a loopback endpoint too, never replaced
/// by the dummy key.
#[test]
fn a_configured_profile_is_never_replaced_by_dummy_credentials() {
    let rec = Recorder::start();
    let endpoint = format!("http://127.0.0.1:{}", rec.port);
    let creds = "[default]\naws_access_key_id = AKIADEFAULTPROFILE\naws_secret_access_key = s1\n\n\
                 [work]\naws_access_key_id = AKIAWORKPROFILE\naws_secret_access_key = s2\n";
    let run = ironplan(&["deploy", PLAN], &endpoint, creds, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let run = ironplan(&["deploy", PLAN, "--profile", "work"], &endpoint, creds, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let run = ironplan(&["deploy", PLAN], &endpoint, creds, &[("AWS_PROFILE", "work")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(rec.access_keys(), ["AKIADEFAULTPROFILE", "AKIAWORKPROFILE", "AKIAWORKPROFILE"]);
}

/// A profile that is named but has no credentials is an error, not a reason for dummy keys.
#[test]
fn a_named_profile_without_credentials_is_not_replaced_either() {
    let rec = Recorder::start();
    let run = ironplan(&["deploy", PLAN, "--profile", "nowhere"], &format!("http://127.0.0.1:{}", rec.port), "", &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(rec.access_keys().is_empty(), "dummy credentials were sent: {:?}", rec.requests());
}

/// The emulator signal is refused unless the endpoint is a loopback address, before any call.
#[test]
fn the_emulator_signal_is_refused_for_an_endpoint_that_is_not_loopback() {
    let rec = Recorder::start();
    let creds = "[default]\naws_access_key_id = AKIADEFAULTPROFILE\naws_secret_access_key = s1\n";
    for endpoint in [format!("http://localhost:{}", rec.port), format!("http://127.0.0.1:{}@localhost:{0}", rec.port)] {
        let run = ironplan(&["deploy", PLAN], &endpoint, creds, &[("IRONPLAN_EMULATOR", "moto")]);
        assert_eq!(run.code, 1, "{endpoint}: {}", run.stderr);
        assert!(run.stderr.contains("EmulatorNotLocal") && run.stderr.contains("help:"), "{endpoint}: {}", run.stderr);
    }
    assert!(rec.requests().is_empty(), "no call may be made: {:?}", rec.requests());
}

/// Waits for `child`, killing it and failing the test if it runs past `limit`.
fn wait_bounded(mut child: Child, limit: Duration) -> Run {
    let start = Instant::now();
    loop {
        match child.try_wait().expect("wait") {
            Some(_) => return Run::from(child.wait_with_output().expect("output")),
            None if start.elapsed() > limit => {
                let _ = child.kill();
                let out = child.wait_with_output().expect("output");
                panic!("ironplan still ran after {limit:?}:\n{}", String::from_utf8_lossy(&out.stderr));
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// An endpoint that accepts connections and never answers: the call times out, is retried,
/// then the run fails naming the operation, the endpoint and a hint, and releases the lock.
#[test]
fn an_endpoint_that_never_answers_times_out_and_releases_the_lock() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let held = accepted.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            held.lock().expect("held").push(s); // kept open, never answered
        }
    });
    let state = tempfile::tempdir().expect("state dir");
    let endpoint = format!("http://127.0.0.1:{port}");
    let deploy = || {
        Command::new(env!("CARGO_BIN_EXE_ironplan"))
            .args(["deploy", PLAN])
            .current_dir(root())
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("IRONPLAN_STATE_DIR", state.path())
            .env("IRONPLAN_CONNECT_TIMEOUT", "1")
            .env("IRONPLAN_READ_TIMEOUT", "1")
            .env_remove("AWS_PROFILE")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ironplan")
    };
    let run = wait_bounded(deploy(), Duration::from_secs(120));
    assert_eq!(run.code, 1, "{}", run.stderr);
    for needle in ["GetCallerIdentity", "Timeout", &endpoint, "help:", "--read-timeout"] {
        assert!(run.stderr.contains(needle), "the error should name `{needle}`:\n{}", run.stderr);
    }
    let attempts = accepted.lock().expect("held").len();
    assert!(attempts >= 2, "a timed-out call is retried: {attempts} connection(s)");
    // The stack's lock went with the process: the next run takes it (and times out the same way).
    let again = wait_bounded(deploy(), Duration::from_secs(120));
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(!again.stderr.contains("locked"), "{}", again.stderr);
    assert!(again.stderr.contains("Timeout"), "{}", again.stderr);
}
