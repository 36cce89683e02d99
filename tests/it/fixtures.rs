//! One fixture per failure class under tests/fixtures/invalid, named `<code>__<case>.toml`:
//! the check must report a problem with that code, and the whole diagnostic is snapshotted.
//! Fixtures under tests/fixtures/valid must pass.

use ironplan::check::{self, Options};
use ironplan::plan::LoadError;

use crate::common::root;

/// Tests run from the crate root: relative paths keep the snapshots machine-independent.
fn relative(path: &std::path::Path) -> std::path::PathBuf {
    path.strip_prefix(root()).map(|p| p.to_path_buf()).unwrap_or_else(|_| path.to_path_buf())
}

#[test]
fn every_invalid_fixture_reports_its_problem() {
    let mut count = 0;
    insta::glob!("../fixtures/invalid", "*.toml", |path| {
        count += 1;
        let rel = relative(path);
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let code = name.split("__").next().unwrap_or_default().replace("policy-", "policy/");
        let problems = match check::load(&rel, &Options::default()) {
            Err(LoadError::Invalid(p)) => p,
            Ok(_) => panic!("{} passed every check", rel.display()),
            Err(e) => panic!("{}: {e}", rel.display()),
        };
        assert!(
            problems.problems.iter().any(|p| p.code == code),
            "{}: expected a `{code}` problem, got {:?}",
            rel.display(),
            problems.problems.iter().map(|p| &p.code).collect::<Vec<_>>()
        );
        for p in &problems.problems {
            assert!(p.help.is_some(), "{}: `{}` has no hint", rel.display(), p.message);
        }
        insta::assert_snapshot!(problems.render_plain());
    });
    assert!(count >= 15, "only {count} invalid fixtures");
}

#[test]
fn valid_fixtures_pass() {
    insta::glob!("../fixtures/valid", "*.toml", |path| {
        if let Err(e) = check::load(path, &Options::default()) {
            match e {
                LoadError::Invalid(p) => panic!("{}", p.render_plain()),
                other => panic!("{other}"),
            }
        }
    });
}
