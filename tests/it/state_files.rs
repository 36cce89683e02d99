//! The state directory as a hostile place: a symbolic link in place of the lock or the
//! state, a permissive umask, a directory ironplan cannot write, and a corrupt state whose
//! hint must name commands that work.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::{Env, Run};
use crate::inventory::{added, inventory};

const PLAN: &str = "examples/audited-network.toml";
const STACK: &str = "audited-network-dev";

/// Runs ironplan without the permission overrides root has (CAP_DAC_OVERRIDE and friends),
/// so that a directory's mode binds it as it binds any user.
const UNPRIVILEGED: &str = r#"if [ "$(id -u)" = 0 ]; then
  exec setpriv --bounding-set -dac_override,-dac_read_search,-fowner ironplan "$@"
fi
exec ironplan "$@""#;

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).map(|m| m.permissions().mode() & 0o7777).unwrap_or(0)
}

fn refused(run: &Run, what: &str) {
    assert_eq!(run.code, 4, "{what}: expected exit 4\nstdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
}

/// A `.lock` that is a symbolic link used to be truncated and written through: the file it
/// points at was overwritten. It is refused now, and its target left as it was.
#[test]
fn a_symlinked_lock_is_refused_and_its_target_stays_intact() {
    let env = Env::start();
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let victim = elsewhere.path().join("precious.txt");
    std::fs::write(&victim, "precious data\n").expect("write");
    std::os::unix::fs::symlink(&victim, env.state_dir.path().join(format!("{STACK}.lock"))).expect("symlink");
    for cmd in ["deploy", "teardown"] {
        let run = env.ironplan(&[cmd, PLAN]);
        refused(&run, cmd);
        assert!(run.stderr.contains(&format!("{STACK}.lock is a symbolic link")), "{}", run.stderr);
        assert!(run.stderr.contains("help: "), "{}", run.stderr);
    }
    assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "precious data\n");
}

/// A state file that is a symbolic link is refused by every command that reads it.
#[test]
fn a_symlinked_state_file_is_refused() {
    let env = Env::start();
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let real = elsewhere.path().join("state.json");
    std::fs::write(&real, format!("{{\"version\": 1, \"stack\": \"{STACK}\", \"resources\": {{}}}}")).expect("write");
    std::os::unix::fs::symlink(&real, env.state_path(STACK)).expect("symlink");
    for cmd in ["deploy", "teardown", "outputs"] {
        let run = env.ironplan(&[cmd, PLAN]);
        refused(&run, cmd);
        assert!(run.stderr.contains(&format!("{STACK}.json is a symbolic link")), "{cmd}: {}", run.stderr);
    }
}

/// Under umask 000 the lock file used to be created world-writable (another user could then
/// hold the lock); it is 0600 and a new state directory 0700, whatever the umask.
#[test]
fn the_lock_and_a_new_state_directory_are_private_under_umask_000() {
    let env = Env::start();
    let dir = env.state_dir.path().join("fresh");
    let dir_arg = dir.to_string_lossy().into_owned();
    let run = env.shell(r#"umask 000; exec ironplan "$@""#, &["teardown", PLAN, "--state-dir", &dir_arg]);
    run.assert_ok("teardown of nothing under umask 000");
    assert_eq!(mode(&dir.join(format!("{STACK}.lock"))), 0o600);
    assert_eq!(mode(&dir), 0o700);
}

/// I/O errors on the state say what the OS said, not only "check permissions".
#[test]
fn state_io_errors_say_what_the_os_said() {
    let env = Env::start();
    let ro = env.state_dir.path().join("read-only");
    std::fs::create_dir(&ro).expect("dir");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let ro_arg = ro.to_string_lossy().into_owned();
    let run = env.shell(UNPRIVILEGED, &["teardown", PLAN, "--state-dir", &ro_arg]);
    refused(&run, "read-only state directory");
    assert!(
        run.stderr.contains(&format!("error: cannot open the lock file {ro_arg}/{STACK}.lock: Permission denied")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(&format!("help: check the permissions of {ro_arg}")), "{}", run.stderr);

    let long = env.state_dir.path().join("d".repeat(300));
    let long_arg = long.to_string_lossy().into_owned();
    let run = env.ironplan(&["teardown", PLAN, "--state-dir", &long_arg]);
    refused(&run, "a state directory name too long");
    assert!(run.stderr.contains("cannot create the state directory"), "{}", run.stderr);
    assert!(run.stderr.contains("File name too long"), "{}", run.stderr);
}

/// A corrupt state is refused, and its hint's commands, run exactly as printed, delete the
/// stack; it can then be deployed anew and torn down.
#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_state_hint_gives_commands_that_work() {
    let env = Env::start();
    let ctx = env.ctx().await;
    let before = inventory(&ctx).await;
    env.ironplan(&["deploy", PLAN]).assert_ok("deploy");
    assert!(!added(&before, &inventory(&ctx).await).is_empty(), "the deploy made nothing");
    let path = env.state_path(STACK);
    let text = std::fs::read_to_string(&path).expect("state");
    let broken = &text[..text.len() / 2];
    std::fs::write(&path, broken).expect("corrupt the state");

    let mut hints = Vec::new();
    for cmd in ["deploy", "teardown"] {
        let run = env.ironplan(&[cmd, PLAN]);
        refused(&run, cmd);
        assert!(run.stderr.contains("is corrupt"), "{}", run.stderr);
        let commands: Vec<String> =
            run.stderr.lines().filter(|l| l.starts_with("  ")).map(|l| l.trim().to_string()).collect();
        assert_eq!(commands.len(), 2, "{cmd}: the hint names two commands:\n{}", run.stderr);
        assert!(commands[0].starts_with("mv "), "{}", run.stderr);
        assert!(commands[1].starts_with("ironplan teardown ") && commands[1].contains("--discover"), "{}", run.stderr);
        hints.push(commands);
    }
    assert_eq!(hints[0], hints[1], "deploy and teardown give the same way out");
    assert_eq!(std::fs::read_to_string(&path).expect("state"), broken, "the refused state is untouched");

    for command in &hints[0] {
        env.shell(command, &[]).assert_ok(command);
    }
    let left = added(&before, &inventory(&ctx).await);
    assert!(left.is_empty(), "the hint's teardown left {left:?}");
    let aside = path.with_extension("json.corrupt");
    assert_eq!(std::fs::read_to_string(&aside).expect("the file moved aside"), broken);

    env.ironplan(&["deploy", PLAN]).assert_ok("deploy after the way out");
    env.ironplan(&["teardown", PLAN]).assert_ok("teardown");
    let left = added(&before, &inventory(&ctx).await);
    assert!(left.is_empty(), "left behind: {left:?}");
}
