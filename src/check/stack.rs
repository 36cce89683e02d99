//! The stack name and the variables, checked before anything else.
//!
//! The stack name is `<plan name>-<environment_suffix>` (the plan name alone without that
//! variable). It names the state file and its lock (a path: `--state-dir/<stack>.json`), is
//! the `ironplan:stack` tag, and the suffix ends the plan's physical names. So:
//!
//! - the environment suffix is groups of lowercase ASCII letters and digits joined by single
//!   hyphens (`staging`, `pr-42`, `2024`): nothing that walks a path (`/`, `..`), splits a
//!   printed line (control characters) or prints as something else (bidirectional controls,
//!   invisible characters); lowercase because RDS and ElastiCache store their identifiers in
//!   lowercase; no `_` nor `--` because RDS and ElastiCache identifiers refuse them;
//! - the stack name is at most [`STACK_NAME_MAX`] characters (the plan name is checked by the
//!   parser with the same rule);
//! - and the suffix is short enough for every name with a length limit it is part of: the
//!   tightest one is named (`healthcare-redis-${var.environment_suffix}` is an ElastiCache
//!   replication group ID, 40 characters at most, which leaves 23).
//!
//! Every other variable may hold any text but deceptive characters (control, bidirectional,
//! invisible): variables end up in names, tags and printed outputs.
//!
//! A refused variable is unknown to the value checks that follow, so one bad value is one
//! problem, reported where the value is set: at `--var` (the problem points at the variable's
//! declaration and says so) or at the default in the plan.

use std::collections::{BTreeMap, BTreeSet};

use super::Options;
use super::values::{Known, room_for, show_char};
use crate::diag::{Problem, deceptive, quote};
use crate::plan::{Plan, STACK_NAME_MAX};

/// The variable that ends the stack name.
pub const SUFFIX_VAR: &str = "environment_suffix";

/// Checks every variable's value; returns the ones refused.
pub(super) fn check_variables(
    plan: &Plan,
    opts: &Options,
    vars: &BTreeMap<String, String>,
    problems: &mut Vec<Problem>,
) -> BTreeSet<String> {
    let mut refused = BTreeSet::new();
    // The suffix last: how long it may be depends on the other variables' values.
    let order = vars.iter().filter(|(n, _)| *n != SUFFIX_VAR).chain(vars.iter().filter(|(n, _)| *n == SUFFIX_VAR));
    for (name, value) in order {
        let Some(decl) = plan.variables.get(name) else { continue };
        let from_cli = opts.vars.contains_key(name);
        let (span, from, label) = if from_cli {
            (decl.span, format!("from `--var {name}`"), format!("set by --var {name}=..."))
        } else {
            (decl.default_span, format!("from the default of variable `{name}`"), "the default".to_string())
        };
        let problem = if name == SUFFIX_VAR {
            suffix_problem(plan, vars, &refused, value).map(|(why, help)| {
                let what = if value.is_empty() {
                    format!("environment suffix {from}")
                } else {
                    format!("environment suffix `{}` {from}", quote(value, 40))
                };
                Problem::new("invalid-stack-name", span, format!("{what} {why}")).help(help)
            })
        } else {
            value.chars().find_map(|c| deceptive(c).map(|k| (c, k))).map(|(c, kind)| {
                let what = if from_cli {
                    format!("variable `{name}` from `--var {name}`")
                } else {
                    format!("the default of variable `{name}`")
                };
                Problem::new("invalid-variable", span, format!("{what} contains the {kind} U+{:04X}", u32::from(c)))
                    .help("variables end up in names, tags and printed outputs: remove the character")
            })
        };
        if let Some(p) = problem {
            problems.push(p.label(label));
            refused.insert(name.clone());
        }
    }
    refused
}

/// Why `suffix` cannot end this plan's stack name, and what to do.
fn suffix_problem(
    plan: &Plan,
    vars: &BTreeMap<String, String>,
    refused: &BTreeSet<String>,
    suffix: &str,
) -> Option<(String, String)> {
    let form = format!(
        "the stack name `{}-<{SUFFIX_VAR}>` names the state file and the `ironplan:stack` tag, and the suffix ends \
         physical names: write it with lowercase letters and digits, single hyphens inside (`staging`, `pr-42`)",
        plan.name
    );
    let bad_char = suffix.chars().find_map(|c| match deceptive(c) {
        Some(kind) => Some(format!("contains the {kind} U+{:04X}", u32::from(c))),
        None if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' => None,
        None => Some(format!("contains {}", show_char(c))),
    });
    let why = if suffix.is_empty() {
        Some("is empty".to_string())
    } else if let Some(why) = bad_char {
        Some(why)
    } else if suffix.starts_with('-') {
        Some("starts with `-`".into())
    } else if suffix.ends_with('-') {
        Some("ends with `-`".into())
    } else if suffix.contains("--") {
        Some("contains `--`".into())
    } else {
        None
    };
    if let Some(why) = why {
        return Some((why, form));
    }
    let len = suffix.chars().count();
    let stack_len = plan.name.chars().count() + 1 + len;
    if stack_len > STACK_NAME_MAX {
        let room = STACK_NAME_MAX.saturating_sub(plan.name.chars().count() + 1);
        return Some((
            format!("makes the stack name {stack_len} characters long, more than {STACK_NAME_MAX}"),
            format!("with the plan name `{}`, the suffix may have at most {room} characters", plan.name),
        ));
    }
    let known = Known { vars, refused };
    let room = room_for(plan, &known, SUFFIX_VAR)?;
    (len > room.chars).then(|| {
        (
            format!("is {len} characters, more than the {} that `{}` leaves room for", room.chars, room.path),
            format!(
                "`{}` = `{}` must fit AWS's rule: {}; shorten the suffix to at most {} characters",
                room.path,
                room.written,
                room.rule.describe(),
                room.chars
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Options, check};
    use std::path::Path;

    const PLAN: &str = r#"
[plan]
name = "shop"

[variables.environment_suffix]
default = "dev"

[variables.image]
default = "nginx"

[resources.cache]
type = "elasticache:ReplicationGroup"
replication_group_id = "shop-cache-${var.environment_suffix}"
replication_group_description = "cache"
"#;

    /// The policy is not what these tests are about.
    fn allow_all() -> BTreeSet<String> {
        crate::check::policy::RULES.iter().map(|r| r.id.to_string()).collect()
    }

    fn problems(suffix: &str) -> Vec<Problem> {
        let plan = Plan::parse(Path::new("t.toml"), PLAN).expect("plan");
        let opts = Options { vars: [(SUFFIX_VAR.to_string(), suffix.to_string())].into(), allow: allow_all() };
        match check(plan, &opts) {
            Ok(_) => Vec::new(),
            Err(p) => p.problems,
        }
    }

    #[test]
    fn the_issues_suffixes_are_refused_once_each_at_the_variable() {
        let long = "a".repeat(300);
        for (suffix, why) in [
            ("../../x", "contains `.`"),
            ("a/b", "contains `/`"),
            ("a\nb", "contains the control character U+000A"),
            ("a\u{202E}b", "contains the bidirectional control character U+202E"),
            ("a\u{200B}b", "contains the invisible formatting character U+200B"),
            ("", "is empty"),
            (long.as_str(), "makes the stack name 305 characters long, more than 63"),
            ("Prod", "contains the uppercase letter `P`"),
            ("a_b", "contains `_`"),
            ("-a", "starts with `-`"),
            ("a-", "ends with `-`"),
            ("a--b", "contains `--`"),
        ] {
            let got = problems(suffix);
            assert_eq!(got.len(), 1, "{suffix:?}: {got:?}");
            assert_eq!(got[0].code, "invalid-stack-name");
            assert!(got[0].message.ends_with(why), "{suffix:?}: {}", got[0].message);
            assert!(got[0].message.contains("--var environment_suffix"), "{}", got[0].message);
            assert!(!got[0].message.contains(['\n', '\u{202E}', '\u{200B}']));
        }
    }

    #[test]
    fn the_suffix_must_fit_the_tightest_name_it_is_part_of() {
        // `shop-cache-` is 11 of the replication group ID's 40 characters: 29 are left.
        assert!(problems(&"a".repeat(29)).is_empty());
        let got = problems(&"a".repeat(30));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].message.contains("more than the 29 that `cache.replication_group_id` leaves room for"));
        assert!(got[0].help.as_deref().is_some_and(|h| h.contains("ElastiCache replication group ID")));
    }

    #[test]
    fn valid_suffixes_pass() {
        for ok in ["dev", "pr-42", "2024", "a1-b2-c3"] {
            assert!(problems(ok).is_empty(), "{ok}: {:?}", problems(ok));
        }
    }

    #[test]
    fn a_default_is_reported_at_the_default_and_other_variables_refuse_deceptive_characters() {
        let text = PLAN.replace("default = \"dev\"", "default = \"../x\"").replace("\"nginx\"", "\"a\\nb\"");
        let plan = Plan::parse(Path::new("t.toml"), &text).expect("plan");
        let opts = Options { allow: allow_all(), ..Options::default() };
        let problems = check(plan, &opts).expect_err("invalid").problems;
        let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, ["invalid-stack-name", "invalid-variable"]);
        let at = |p: &Problem| &text[p.span.start..p.span.end];
        assert_eq!(at(&problems[0]), "\"../x\"");
        assert!(problems[0].message.contains("from the default of variable `environment_suffix`"));
        assert_eq!(at(&problems[1]), "\"a\\nb\"");
        assert_eq!(problems[1].message, "the default of variable `image` contains the control character U+000A");
    }
}
