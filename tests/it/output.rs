//! What ironplan writes besides its results: the log (RUST_LOG, `-v`) never holds a
//! credential, and colour appears only on a terminal, never with NO_COLOR.

use std::process::Command;

use crate::common::{Env, Run, offline, root};

const PLAN: &str = "examples/audited-network.toml";
const INVALID: &str = "tests/fixtures/invalid/unknown-type__several_problems_at_once.toml";
const SECRET: &str = "SECRETxyzSECRETxyzSECRETxyzSECRETxyz0042";
const TOKEN: &str = "TOKENabcTOKENabcTOKENabcTOKENabcTOKENabc0042";

fn assert_no_escape(run: &Run, what: &str) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(!text.contains("\x1b["), "{what}: an escape sequence in {name}:\n{text}");
    }
}

fn assert_no_credential(run: &Run, what: &str) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(!text.contains(SECRET), "{what}: the secret key is in {name}");
        assert!(!text.contains(TOKEN), "{what}: the session token is in {name}");
        assert!(!text.contains("Signature="), "{what}: a request signature is in {name}");
    }
}

/// The most verbose log there is, through a whole deploy and teardown, shows the SDK's
/// requests but never the secret key, the session token or a signature, and no colour into
/// a pipe.
#[test]
fn the_log_shows_requests_but_never_credentials() {
    let env = Env::start();
    let run = |args: &[&str], rust_log: Option<&str>| {
        let mut cmd = env.command(args);
        cmd.env("AWS_ACCESS_KEY_ID", "AKIAIRONPLANTEST")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_SESSION_TOKEN", TOKEN);
        match rust_log {
            Some(filter) => cmd.env("RUST_LOG", filter),
            None => cmd.env_remove("RUST_LOG"),
        };
        Run::from(cmd.output().expect("run ironplan"))
    };
    let up = run(&["deploy", PLAN], Some("trace"));
    up.assert_ok("deploy with RUST_LOG=trace");
    for op in ["GetCallerIdentity", "CreateVpc", "CreateKey"] {
        assert!(up.stderr.contains(op), "RUST_LOG=trace logs each request ({op}):\n{}", up.stderr);
    }
    assert_no_credential(&up, "RUST_LOG=trace");
    assert_no_escape(&up, "RUST_LOG=trace");

    let down = run(&["-vv", "teardown", PLAN], None);
    down.assert_ok("teardown -vv");
    assert!(down.stderr.contains("DeleteVpc"), "-vv logs each request:\n{}", down.stderr);
    assert_no_credential(&down, "-vv");
    assert_no_escape(&down, "-vv");

    let again = run(&["-v", "teardown", PLAN], None);
    again.assert_ok("teardown -v");
    assert!(again.stderr.contains("GetCallerIdentity"), "-v logs each request:\n{}", again.stderr);
    assert_no_credential(&again, "-v");
}

/// Into a pipe, plan diagnostics and logs are plain text.
#[test]
fn piped_output_has_no_colour() {
    let run = offline(&["-v", "plan", INVALID]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("unknown"), "{}", run.stderr);
    assert_no_escape(&run, "plan -v of an invalid plan");
}

/// Runs `shell` on a pseudo-terminal (util-linux `script`) and returns what the terminal got.
fn on_a_terminal(shell: &str, no_color: Option<&str>) -> String {
    let mut cmd = Command::new("script");
    cmd.args(["-qec", shell, "/dev/null"]).current_dir(root()).env_remove("AWS_ENDPOINT_URL").env("TERM", "xterm");
    match no_color {
        Some(v) => cmd.env("NO_COLOR", v),
        None => cmd.env_remove("NO_COLOR"),
    };
    let out = cmd.output().expect("`script` (util-linux) runs a command on a pseudo-terminal");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// On a terminal the diagnostics are coloured; NO_COLOR (any non-empty value) turns that off.
#[test]
fn on_a_terminal_no_color_turns_colour_off() {
    let cmd = format!("{} plan {INVALID}", env!("CARGO_BIN_EXE_ironplan"));
    let coloured = on_a_terminal(&cmd, None);
    assert!(coloured.contains("unknown") && coloured.contains("\x1b["), "colour on a terminal:\n{coloured}");
    let empty = on_a_terminal(&cmd, Some(""));
    assert!(empty.contains("\x1b["), "an empty NO_COLOR does not turn colour off (no-color.org):\n{empty}");
    let plain = on_a_terminal(&cmd, Some("1"));
    assert!(plain.contains("unknown") && !plain.contains("\x1b["), "NO_COLOR=1:\n{plain}");
}

/// The demo's headings: bold on a terminal, plain into a pipe (a log file) or with NO_COLOR.
#[test]
fn the_demo_headings_are_bold_only_on_a_terminal() {
    let step = ". scripts/demo.sh && step deploying";
    let piped =
        Command::new("bash").args(["-c", step]).current_dir(root()).env_remove("NO_COLOR").output().expect("bash");
    assert!(piped.status.success(), "{}", String::from_utf8_lossy(&piped.stderr));
    assert_eq!(String::from_utf8_lossy(&piped.stdout), "\n== deploying\n");
    let bold = on_a_terminal(&format!("bash -c '{step}'"), None);
    assert!(bold.contains("\x1b[1m== deploying"), "bold on a terminal: {bold:?}");
    let plain = on_a_terminal(&format!("bash -c '{step}'"), Some("1"));
    assert!(plain.contains("== deploying") && !plain.contains("\x1b["), "NO_COLOR=1: {plain:?}");
}
