//! TOML text to [`Plan`]: structure only (which tables exist, which keys are reserved).
//! Types, properties and references are checked later, against the schema.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

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

    /// Reads a plan file's text.
    pub fn read(path: &Path) -> Result<String, LoadError> {
        std::fs::read_to_string(path).map_err(|source| LoadError::Io { path: path.to_owned(), source })
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

/// Why a plan could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read plan {}", path.display())]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
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
    };
    let (doc, errors) = DeTable::parse_recoverable(&source);
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
                parse_plan_table(&mut plan, value, problems);
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
                    if let Some(r) = parse_resource(k, v, problems) {
                        plan.resources.push(r);
                    }
                }
            }
            "outputs" => {
                for (k, v) in table_entries(value, "outputs", problems) {
                    let node = to_node(v, problems);
                    plan.outputs.push((k, node));
                }
            }
            other => {
                let hint = did_you_mean(&nearest(other, ["plan", "variables", "resources", "outputs"]));
                let mut p = Problem::new("unknown-key", kspan, format!("unknown top-level table `{other}`"))
                    .label("not part of a plan");
                p.help =
                    Some(hint.unwrap_or_else(|| "a plan has `plan`, `variables`, `resources` and `outputs`".into()));
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

fn parse_plan_table(plan: &mut Plan, value: &Spanned<DeValue<'_>>, problems: &mut Vec<Problem>) {
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
                    let node = to_node(tv, problems);
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

fn parse_resource(key: Key, value: &Spanned<DeValue<'_>>, problems: &mut Vec<Problem>) -> Option<Resource> {
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
                let node = to_node(v, problems);
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

fn to_node(value: &Spanned<DeValue<'_>>, problems: &mut Vec<Problem>) -> Node {
    let span = span_of(value);
    let kind = match value.get_ref() {
        DeValue::String(s) => {
            // Spans of references assume a basic string: the text starts after the quote.
            match Template::parse(s, span.start + 1) {
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
        DeValue::Array(items) => NodeKind::List(items.iter().map(|v| to_node(v, problems)).collect()),
        DeValue::Table(t) => NodeKind::Table(
            t.iter()
                .map(|(k, v)| (Key { name: k.get_ref().to_string(), span: span_of(k) }, to_node(v, problems)))
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
mod tests {
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
