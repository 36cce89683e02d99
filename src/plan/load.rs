//! TOML text to [`Plan`]: structure only (which tables exist, which keys are reserved).
//! Types, properties and references are checked later, against the schema.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::raw::RawString;
use super::{Key, Node, NodeKind, Plan, Resource, Span, Template, Variable};
use crate::diag::{Problem, Problems, did_you_mean, nearest};

fn span_of<T>(s: &Spanned<T>) -> Span {
    let r = s.span();
    Span::new(r.start, r.end)
}

impl Plan {
    /// Reads and parses a plan file. An unreadable file is an I/O error; everything else wrong
    /// with it is reported as [`Problems`].
    pub fn load(path: &Path) -> Result<Plan, LoadError> {
        let text = Plan::read(path)?;
        Plan::parse(path, &text).map_err(LoadError::Invalid)
    }

    /// Reads a plan file's text, at most [`MAX_PLAN_BYTES`] of it: a larger file (or one that
    /// never ends, such as `/dev/zero`) is refused before it is parsed. The bound is counted
    /// while reading; the file's reported size is not trusted (`/dev/zero` reports 0).
    pub fn read(path: &Path) -> Result<String, LoadError> {
        use std::io::Read;
        let io = |source| LoadError::Io { path: path.to_owned(), source };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(MAX_PLAN_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(io)?;
        if bytes.len() > MAX_PLAN_BYTES {
            return Err(LoadError::TooLarge { path: path.to_owned(), limit: MAX_PLAN_BYTES });
        }
        String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            io(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not UTF-8 text (byte {at})")))
        })
    }

    /// Parses plan text; `path` only names the file in messages.
    pub fn parse(path: &Path, text: &str) -> Result<Plan, Problems> {
        let (plan, problems) = Plan::parse_partial(path, text);
        if problems.is_empty() { Ok(plan) } else { Err(Problems::new(path, plan.source, problems)) }
    }

    /// Parses as much as it can: the plan (without the parts that were wrong) and every
    /// problem, so that later checks can add theirs and all are reported at once.
    pub fn parse_partial(path: &Path, text: &str) -> (Plan, Vec<Problem>) {
        let source: Arc<str> = Arc::from(text);
        let mut problems = Vec::new();
        let plan = parse_inner(path, source, &mut problems);
        (plan, problems)
    }
}

/// The largest plan file ironplan reads: 8 MiB, about 100 times the 56-resource pipeline and
/// room for tens of thousands of resources; a bound on the memory a hostile file can take.
pub const MAX_PLAN_BYTES: usize = 8 * 1024 * 1024;

/// Why a plan could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read plan {}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("plan {} is larger than {} MiB", path.display(), limit / (1024 * 1024))]
    TooLarge { path: std::path::PathBuf, limit: usize },
    #[error("{0}")]
    Invalid(Problems),
}

fn parse_inner(path: &Path, source: Arc<str>, problems: &mut Vec<Problem>) -> Plan {
    let mut plan = Plan {
        path: path.to_owned(),
        source: source.clone(),
        name: String::new(),
        description: None,
        variables: BTreeMap::new(),
        default_tags: Vec::new(),
        resources: Vec::new(),
        outputs: Vec::new(),
        state: None,
    };
    let src: &str = &source;
    let (doc, errors) = DeTable::parse_recoverable(src);
    for e in errors {
        let span = e.span().map_or(Span::default(), |r| Span::new(r.start, r.end));
        problems.push(
            Problem::new("toml-syntax", span, format!("invalid TOML: {}", e.message().trim().trim_end_matches('.')))
                .label("here")
                .help("fix the TOML syntax here; nothing else was checked"),
        );
    }
    let doc = doc.into_inner();
    let mut saw_plan = false;
    for (key, value) in doc.iter() {
        let kspan = span_of(key);
        match key.get_ref().as_ref() {
            "plan" => {
                saw_plan = true;
                parse_plan_table(src, &mut plan, value, problems);
            }
            "variables" => {
                for (k, v) in table_entries(value, "variables", problems) {
                    let mut var = Variable {
                        name: k.name.clone(),
                        span: k.span,
                        default: None,
                        default_span: k.span,
                        description: None,
                    };
                    for (field, fv) in table_entries(v, &format!("variables.{}", k.name), problems) {
                        match (field.name.as_str(), fv.get_ref()) {
                            ("default", DeValue::String(s)) => {
                                var.default = Some(s.to_string());
                                var.default_span = span_of(fv);
                            }
                            ("description", DeValue::String(s)) => var.description = Some(s.to_string()),
                            ("default" | "description", other) => problems.push(
                                Problem::new(
                                    "wrong-value-type",
                                    span_of(fv),
                                    format!("`{}` of variable `{}` must be a string", field.name, k.name),
                                )
                                .label(format!("found {}", other.type_str())),
                            ),
                            (other, _) => problems.push(
                                Problem::new("unknown-key", field.span, format!("unknown key `{other}` in a variable"))
                                    .label("not a variable field")
                                    .help("a variable has `default` and `description`"),
                            ),
                        }
                    }
                    plan.variables.insert(k.name, var);
                }
            }
            "resources" => {
                for (k, v) in table_entries(value, "resources", problems) {
                    if let Some(r) = parse_resource(src, k, v, problems) {
                        plan.resources.push(r);
                    }
                }
            }
            "outputs" => {
                for (k, v) in table_entries(value, "outputs", problems) {
                    let node = to_node(src, v, problems);
                    plan.outputs.push((k, node));
                }
            }
            "state" => {
                for (k, v) in table_entries(value, "state", problems) {
                    match (k.name.as_str(), v.get_ref()) {
                        ("location", DeValue::String(s)) => match crate::state::Location::parse(s) {
                            Ok(_) => plan.state = Some(s.to_string()),
                            Err(why) => problems.push(
                                Problem::new("invalid-state-location", span_of(v), why)
                                    .label("here")
                                    .help("write `s3://BUCKET/PREFIX` or a directory; --state overrides it"),
                            ),
                        },
                        ("location", other) => problems.push(
                            Problem::new("wrong-value-type", span_of(v), "`state.location` must be a string")
                                .label(format!("found {}", other.type_str())),
                        ),
                        (other, _) => problems.push(
                            Problem::new("unknown-key", k.span, format!("unknown key `{other}` in `[state]`"))
                                .label("not a state field")
                                .help("`[state]` has `location` (`s3://BUCKET/PREFIX` or a directory)"),
                        ),
                    }
                }
            }
            other => {
                let hint = did_you_mean(&nearest(other, ["plan", "variables", "resources", "outputs", "state"]));
                let mut p = Problem::new("unknown-key", kspan, format!("unknown top-level table `{other}`"))
                    .label("not part of a plan");
                p.help =
                    Some(hint.unwrap_or_else(|| {
                        "a plan has `plan`, `variables`, `resources`, `outputs` and `state`".into()
                    }));
                problems.push(p);
            }
        }
    }
    if !saw_plan && problems.is_empty() {
        problems.push(
            Problem::new("missing-key", Span::new(0, 0), "the plan has no `[plan]` table")
                .label("expected `[plan]` with a `name`")
                .help("start the file with\n[plan]\nname = \"my-stack\""),
        );
    }
    plan.resources.sort_by(|a, b| a.name.cmp(&b.name));
    plan
}

fn parse_plan_table(src: &str, plan: &mut Plan, value: &Spanned<DeValue<'_>>, problems: &mut Vec<Problem>) {
    let mut saw_name = false;
    for (k, v) in table_entries(value, "plan", problems) {
        match (k.name.as_str(), v.get_ref()) {
            ("name", DeValue::String(s)) => {
                saw_name = true;
                if !is_stack_name(s) {
                    problems.push(
                        Problem::new(
                            "invalid-name",
                            span_of(v),
                            format!("plan name `{}` is not a valid stack name", crate::diag::quote(s, 70)),
                        )
                        .label("here")
                        .help(format!(
                            "use at most {STACK_NAME_MAX} lowercase letters, digits and single `-`, starting with a letter \
                             and not ending with `-`: the plan name starts the stack name, its state file and its tags"
                        )),
                    );
                }
                plan.name = s.to_string();
            }
            ("description", DeValue::String(s)) => plan.description = Some(s.to_string()),
            ("default_tags", DeValue::Table(_)) => {
                for (tk, tv) in table_entries(v, "plan.default_tags", problems) {
                    let node = to_node(src, tv, problems);
                    plan.default_tags.push((tk, node));
                }
            }
            ("name" | "description", other) => problems.push(
                Problem::new("wrong-value-type", span_of(v), format!("`plan.{}` must be a string", k.name))
                    .label(format!("found {}", other.type_str())),
            ),
            ("default_tags", other) => problems.push(
                Problem::new("wrong-value-type", span_of(v), "`plan.default_tags` must be a table")
                    .label(format!("found {}", other.type_str())),
            ),
            (other, _) => problems.push(
                Problem::new("unknown-key", k.span, format!("unknown key `{other}` in `[plan]`"))
                    .label("not a plan field")
                    .help("`[plan]` has `name`, `description` and `default_tags`"),
            ),
        }
    }
    if !saw_name {
        problems.push(
            Problem::new("missing-key", span_of(value), "`[plan]` has no `name`")
                .label("here")
                .help("add `name = \"my-stack\"`: it names the stack, its state file and its tags"),
        );
    }
}

fn parse_resource(src: &str, key: Key, value: &Spanned<DeValue<'_>>, problems: &mut Vec<Problem>) -> Option<Resource> {
    if !is_plan_name(&key.name) {
        problems.push(
            Problem::new("invalid-name", key.span, format!("resource name `{}` is not snake_case", key.name))
                .label("here")
                .help("use lowercase letters, digits and `_`, starting with a letter"),
        );
    }
    let DeValue::Table(_) = value.get_ref() else {
        problems.push(
            Problem::new("wrong-value-type", span_of(value), format!("resource `{}` must be a table", key.name))
                .label(format!("found {}", value.get_ref().type_str())),
        );
        return None;
    };
    let mut res = Resource {
        name: key.name.clone(),
        name_span: key.span,
        type_name: String::new(),
        type_span: key.span,
        depends_on: Vec::new(),
        props: Vec::new(),
    };
    let mut saw_type = false;
    for (k, v) in table_entries(value, &key.name, problems) {
        match k.name.as_str() {
            "type" => match v.get_ref() {
                DeValue::String(s) => {
                    saw_type = true;
                    res.type_name = s.to_string();
                    res.type_span = span_of(v);
                }
                other => problems.push(
                    Problem::new("wrong-value-type", span_of(v), format!("`type` of `{}` must be a string", key.name))
                        .label(format!("found {}", other.type_str()))
                        .help("write the type as `<service>:<Type>`, e.g. `ec2:Vpc`"),
                ),
            },
            "depends_on" => match v.get_ref() {
                DeValue::Array(items) => {
                    for item in items.iter() {
                        match item.get_ref() {
                            DeValue::String(s) => res.depends_on.push(Key { name: s.to_string(), span: span_of(item) }),
                            other => problems.push(
                                Problem::new("wrong-value-type", span_of(item), "`depends_on` lists resource names")
                                    .label(format!("found {}", other.type_str())),
                            ),
                        }
                    }
                }
                other => problems.push(
                    Problem::new("wrong-value-type", span_of(v), "`depends_on` must be a list of resource names")
                        .label(format!("found {}", other.type_str()))
                        .help("write `depends_on = [\"vpc\"]`"),
                ),
            },
            _ => {
                let node = to_node(src, v, problems);
                res.props.push((k, node));
            }
        }
    }
    if !saw_type {
        problems.push(
            Problem::new("missing-key", key.span, format!("resource `{}` has no `type`", key.name))
                .label("here")
                .help("add `type = \"<service>:<Type>\"`, e.g. `type = \"ec2:Vpc\"`"),
        );
        return None;
    }
    Some(res)
}

/// The entries of a table value, or a problem saying it should be a table.
fn table_entries<'a, 'i>(
    value: &'a Spanned<DeValue<'i>>,
    what: &str,
    problems: &mut Vec<Problem>,
) -> Vec<(Key, &'a Spanned<DeValue<'i>>)> {
    match value.get_ref() {
        DeValue::Table(t) => {
            t.iter().map(|(k, v)| (Key { name: k.get_ref().to_string(), span: span_of(k) }, v)).collect()
        }
        other => {
            problems.push(
                Problem::new("wrong-value-type", span_of(value), format!("`{what}` must be a table"))
                    .label(format!("found {}", other.type_str())),
            );
            Vec::new()
        }
    }
}

fn to_node(src: &str, value: &Spanned<DeValue<'_>>, problems: &mut Vec<Problem>) -> Node {
    let span = span_of(value);
    let kind = match value.get_ref() {
        DeValue::String(s) => {
            // References are found in the decoded text; their spans are mapped back to the raw
            // token (escapes, `"""` strings, line-ending backslashes, CRLF).
            let raw = RawString::map(src, span, s);
            match Template::parse_with(s, |start, end| raw.span(start, end)) {
                Ok(t) => NodeKind::Str(t),
                Err(e) => {
                    problems.push(Problem::new("invalid-reference", e.span, e.message).label("here").help(e.help));
                    NodeKind::Str(Template::default())
                }
            }
        }
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => NodeKind::Int(n),
            Err(_) => {
                problems.push(Problem::new("wrong-value-type", span, "integer out of range").label("here"));
                NodeKind::Int(0)
            }
        },
        DeValue::Float(f) => NodeKind::Float(f.as_str().replace('_', "").parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => NodeKind::Bool(*b),
        DeValue::Datetime(_) => {
            problems.push(
                Problem::new("wrong-value-type", span, "dates are not plan values")
                    .label("here")
                    .help("quote it to pass it as a string"),
            );
            NodeKind::Str(Template::default())
        }
        DeValue::Array(items) => NodeKind::List(items.iter().map(|v| to_node(src, v, problems)).collect()),
        DeValue::Table(t) => NodeKind::Table(
            t.iter()
                .map(|(k, v)| (Key { name: k.get_ref().to_string(), span: span_of(k) }, to_node(src, v, problems)))
                .collect(),
        ),
    };
    Node { span, kind }
}

fn is_plan_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The longest stack name (`<plan name>-<environment_suffix>`): the longest RDS identifier and
/// DNS label, short enough for a state file name and a tag value with room to spare.
pub const STACK_NAME_MAX: usize = 63;

/// A stack name, or a plan name (which starts one): `[a-z][a-z0-9]*(-[a-z0-9]+)*`, at most
/// [`STACK_NAME_MAX`] characters.
pub fn is_stack_name(s: &str) -> bool {
    s.len() <= STACK_NAME_MAX
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.ends_with('-')
        && !s.contains("--")
}

#[cfg(test)]
mod stack_name_tests {
    use super::*;

    #[test]
    fn a_plan_name_is_a_stack_name() {
        for ok in ["healthcare-pipeline", "t", "a1-b2"] {
            assert!(is_stack_name(ok), "{ok}");
        }
        let long = "a".repeat(STACK_NAME_MAX + 1);
        for bad in ["", "1a", "A", "a-", "a--b", "a_b", "a/b", "a\nb", long.as_str()] {
            assert!(!is_stack_name(bad), "{bad:?}");
        }
        let text = "[plan]\nname = \"ops\\u202E-x\"\n";
        let problems = Plan::parse(Path::new("t.toml"), text).expect_err("invalid").problems;
        assert_eq!(problems[0].code, "invalid-name");
        assert_eq!(problems[0].message, "plan name `ops\\u{202E}-x` is not a valid stack name");
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use super::*;
    use crate::check::{self, Options};

    /// Every problem the loader and the checks find in `text`, rendered both ways; panics
    /// (the failure these tests look for) surface here.
    fn load(text: &str) -> Option<Problems> {
        let (plan, problems) = Plan::parse_partial(Path::new("p.toml"), text);
        let problems = match check::check_with(plan, problems, &Options::default()) {
            Ok(_) => return None,
            Err(p) => p,
        };
        let _ = problems.render_plain();
        let _ = serde_json::to_string(&problems.to_json());
        Some(problems)
    }

    /// The (line, column) JSON gives for the first problem with `code`, and the text header.
    fn place(text: &str, code: &str) -> ((usize, usize), String) {
        let problems = load(text).unwrap_or_else(|| panic!("no problem in {text:?}"));
        let i = problems.problems.iter().position(|p| p.code == code).unwrap_or_else(|| {
            panic!("no `{code}` in {:?}", problems.problems.iter().map(|p| &p.code).collect::<Vec<_>>())
        });
        let json = &problems.to_json()[i];
        let only = Problems { problems: vec![problems.problems[i].clone()], ..problems.clone() };
        ((json.line, json.column), only.render_plain())
    }

    const HEAD: &str = "[plan]\nname = \"p\"\n[resources.k]\ntype = \"kms:Key\"\n";

    #[test]
    fn the_reported_reproducer_neither_panics_nor_misplaces() {
        // `plan --format json` used to panic here: the span was in the middle of `€`.
        let text = format!("{HEAD}description = \"\\u00e9€€${{bad\"\n");
        let ((line, column), rendered) = place(&text, "invalid-reference");
        assert_eq!((line, column), (5, 24), "`${{bad` starts at character 24 of line 5");
        assert!(rendered.contains("[p.toml:5:24]"), "{rendered}");
    }

    #[test]
    fn references_after_escapes_point_at_what_was_written() {
        for (value, column) in [
            (r#""\t\"${bad""#, 20),
            (r#""\\\\${bad""#, 20),
            (r#""\U0001F600${bad""#, 26),
            (r#""ok ${nope}""#, 19),
            (r#"'C:\${bad'"#, 19),
        ] {
            let text = format!("{HEAD}description = {value}\n");
            let ((line, col), rendered) = place(&text, "invalid-reference");
            assert_eq!((line, col), (5, column), "{value}");
            assert!(rendered.contains(&format!("[p.toml:5:{column}]")), "{value}: {rendered}");
        }
    }

    #[test]
    fn references_in_multi_line_strings_point_at_their_line() {
        // The newline after `"""` is not part of the value; it still is a line of the file.
        let text = format!("{HEAD}description = \"\"\"\nfirst\n  then ${{bad\n\"\"\"\n");
        assert_eq!(place(&text, "invalid-reference").0, (7, 8));
        // A line-ending backslash joins lines in the value, not in the file.
        let text = format!("{HEAD}description = \"\"\"one \\\n    two ${{bad\"\"\"\n");
        assert_eq!(place(&text, "invalid-reference").0, (6, 9));
        let text = format!("{HEAD}description = '''\nraw \\n ${{bad'''\n");
        assert_eq!(place(&text, "invalid-reference").0, (6, 8));
    }

    #[test]
    fn crlf_files_report_the_same_places() {
        let lf = format!("{HEAD}description = \"\"\"\nfirst\n  then ${{bad\n\"\"\"\n");
        let crlf = lf.replace('\n', "\r\n");
        let (at_lf, _) = place(&lf, "invalid-reference");
        let (at_crlf, rendered) = place(&crlf, "invalid-reference");
        assert_eq!(at_lf, at_crlf);
        assert!(rendered.contains("then ${bad"), "{rendered}");
        let unknown = format!("{HEAD}[resources.v]\ntype = \"ec2:Vppc\"\n").replace('\n', "\r\n");
        assert_eq!(place(&unknown, "unknown-type").0, (6, 8));
    }

    #[test]
    fn a_plan_over_the_size_limit_is_refused_naming_the_file_and_the_limit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("big.toml");
        let mut text = String::from("[plan]\nname = \"big\"\n");
        while text.len() <= MAX_PLAN_BYTES {
            text.push_str("# padding padding padding padding padding padding padding padding\n");
        }
        std::fs::write(&path, &text).expect("write");
        let err = Plan::load(&path).expect_err("too large");
        assert!(matches!(err, LoadError::TooLarge { .. }), "{err}");
        assert_eq!(err.to_string(), format!("plan {} is larger than 8 MiB", path.display()));
        // Exactly at the limit is fine (and parses).
        text.truncate(MAX_PLAN_BYTES);
        let cut = text.rfind('\n').map_or(0, |i| i + 1);
        text.truncate(cut);
        text.push_str(&"#".repeat(MAX_PLAN_BYTES - text.len()));
        std::fs::write(&path, &text).expect("write");
        assert!(Plan::load(&path).is_ok());
    }

    #[test]
    fn a_file_that_never_ends_is_refused_without_reading_it_all() {
        let err = Plan::read(Path::new("/dev/zero")).expect_err("endless");
        assert!(matches!(err, LoadError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn a_plan_that_is_not_utf8_is_an_unreadable_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("latin1.toml");
        std::fs::write(&path, b"[plan]\nname = \"caf\xe9\"\n").expect("write");
        let err = Plan::load(&path).expect_err("not UTF-8");
        assert!(err.to_string().contains("not UTF-8 text (byte 18)"), "{err}");
    }

    /// Pieces plan files are made of, including the ones that broke spans: escapes, `"""`,
    /// CRLF, multi-byte characters, references.
    const PIECES: &[&str] = &[
        "[plan]\n",
        "name = \"p\"\n",
        "[resources.a]\n",
        "type = \"ec2:Vpc\"\n",
        "[resources.b]\n",
        "type = \"kms:Key\"\n",
        "[outputs]\n",
        "[variables.environment_suffix]\n",
        "x = ",
        "description = ",
        "tags = { Name = ",
        "}",
        "[",
        "]",
        "\"",
        "\"\"\"",
        "'",
        "'''",
        "\\",
        "\\u00e9",
        "\\U0001F600",
        "\\n",
        "\\\"",
        "\\\\",
        "\\x41",
        "\\e",
        "${",
        "${a.id}",
        "${var.environment_suffix}",
        "$${",
        "${bad",
        "}",
        "é",
        "€€",
        "😀",
        "\n",
        "\r\n",
        "\r",
        "\t",
        " ",
        "=",
        ",",
        "1",
        "1e3",
        "true",
        "#",
        "\u{0}",
        "\u{7f}",
        "a",
        ".",
        "depends_on = [",
    ];

    fn plain_char() -> impl Strategy<Value = char> {
        any::<char>().prop_filter("not part of a reference", |c| !matches!(c, '$' | '{' | '}'))
    }

    fn plan_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PIECES), 0..40).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        /// No input makes the loader, the checks or either renderer panic, and every place
        /// reported is inside the file.
        #[test]
        fn no_plan_text_panics(text in plan_text()) {
            if let Some(problems) = load(&text) {
                let lines = crate::plan::LineIndex::new(&text).lines();
                for p in problems.to_json() {
                    prop_assert!(p.line >= 1 && p.line <= lines, "{p:?} outside {lines} lines");
                    prop_assert!(p.column >= 1);
                }
            }
        }

        /// Whatever is written before it in a string (escapes of any character, literal text,
        /// a `"""` string over several lines, CRLF or LF), an unclosed reference is reported
        /// where its `${` was written.
        #[test]
        fn a_reference_is_reported_where_it_was_written(
            before in proptest::collection::vec(
                prop_oneof![
                    // Any character but the three a reference is made of, as a long or short escape.
                    plain_char().prop_map(|c| format!("\\U{:08X}", c as u32)),
                    plain_char().prop_filter("in the BMP", |c| (*c as u32) <= 0xFFFF).prop_map(|c| format!("\\u{:04X}", c as u32)),
                    proptest::sample::select(&["a", "é", "€", "😀", " ", "\\n", "\\t", "\\\\", "\\\"", "\\e", "\\x7f", "$${"][..]).prop_map(str::to_string),
                ],
                0..12,
            ),
            multi_line in any::<bool>(),
            crlf in any::<bool>(),
        ) {
            let body = before.concat();
            let value = if multi_line { format!("\"\"\"\n{body}\n{body}${{bad\"\"\"") } else { format!("\"{body}${{bad\"") };
            let mut text = format!("{HEAD}description = {value}\n");
            if crlf {
                text = text.replace('\n', "\r\n");
            }
            let at = text.rfind("${bad").unwrap_or_default();
            let problems = load(&text).expect("an unclosed reference");
            let p = problems.problems.iter().find(|p| p.code == "invalid-reference").expect("invalid-reference");
            prop_assert_eq!(p.span.start, at);
            prop_assert_eq!(p.span.end, at + "${bad".len());
        }
    }
}
