//! Every check that runs before an AWS call: the stack name and variables (`stack.rs`), types,
//! properties, value types, names and numbers against AWS's documented rules (`values.rs`),
//! references, cycles, implied dependencies and the HIPAA policy. All problems are collected
//! and reported together.
//!
//! API, in order of use:
//! - [`Options`]: `--var` values and `--allow`ed policy rules.
//! - [`check`]: a parsed [`Plan`] in, a [`Checked`] plan (with its sealed [`Graph`]) or every
//!   [`Problem`] out.
//! - `policy::RULES`: the policy rules and their stable IDs.

pub mod policy;
mod stack;
mod values;

pub use stack::SUFFIX_VAR;

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Problem, Problems, did_you_mean, nearest};
use crate::graph::{Cycle, Graph, GraphBuilder, Node as GraphNode, Reason};
use crate::plan::{Node, NodeKind, Plan, Ref, Resource, Span};
use crate::schema::{self, Kind, PlanView, Prop, TypeSpec};

/// Inputs to the checks that do not come from the plan file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--var name=value`.
    pub vars: BTreeMap<String, String>,
    /// `--allow RULE_ID`: policy rules waived for this run.
    pub allow: BTreeSet<String>,
}

/// A plan that passed every check.
#[derive(Debug, Clone)]
pub struct Checked {
    pub plan: Plan,
    pub graph: Graph,
    /// The type of every resource, by name.
    pub types: BTreeMap<String, &'static TypeSpec>,
    /// Variable values after defaults and `--var`.
    pub vars: BTreeMap<String, String>,
    pub policy: Vec<policy::Outcome>,
}

impl Checked {
    pub fn type_of(&self, name: &str) -> Option<&'static TypeSpec> {
        self.types.get(name).copied()
    }

    /// The stack's identity: plan name and environment suffix, as used in tags and state.
    /// Both were checked (`[a-z0-9]` in single-hyphen groups, at most 63 characters in all):
    /// it is a safe file name.
    pub fn stack(&self) -> String {
        match self.vars.get(SUFFIX_VAR) {
            Some(s) => format!("{}-{s}", self.plan.name),
            None => self.plan.name.clone(),
        }
    }
}

/// Runs every check.
pub fn check(plan: Plan, opts: &Options) -> Result<Checked, Problems> {
    check_with(plan, Vec::new(), opts)
}

/// Reads, parses and checks a plan file, reporting parse and check problems together.
pub fn load(path: &std::path::Path, opts: &Options) -> Result<Checked, crate::plan::LoadError> {
    let text = Plan::read(path)?;
    let (plan, problems) = Plan::parse_partial(path, &text);
    // A TOML syntax error leaves too little to check.
    if problems.iter().any(|p| p.code == "toml-syntax") {
        return Err(crate::plan::LoadError::Invalid(Problems::new(path, plan.source, problems)));
    }
    check_with(plan, problems, opts).map_err(crate::plan::LoadError::Invalid)
}

/// Runs every check, adding to problems found earlier (by the parser).
pub fn check_with(plan: Plan, mut problems: Vec<Problem>, opts: &Options) -> Result<Checked, Problems> {
    let vars = resolve_vars(&plan, opts, &mut problems);
    // The stack name first: it becomes a file name and ends physical names.
    let refused = stack::check_variables(&plan, opts, &vars, &mut problems);
    let known = values::Known { vars: &vars, refused: &refused };

    let mut types = BTreeMap::new();
    for res in &plan.resources {
        if let Some(t) = check_type(res, &mut problems) {
            types.insert(res.name.clone(), t);
            check_props(&plan, &known, res, t, &mut problems);
        } else {
            // Still report broken references: all problems at once.
            for (_, node) in &res.props {
                check_refs(&plan, node, &mut problems);
            }
        }
        for dep in &res.depends_on {
            if dep.name == res.name {
                problems.push(
                    Problem::new("cycle", dep.span, format!("`{}` depends on itself", res.name))
                        .label("here")
                        .help("remove this entry"),
                );
            } else if plan.resource(&dep.name).is_none() {
                problems.push(unknown_resource(&plan, &dep.name, dep.span));
            }
        }
    }
    for (key, node) in plan.outputs.iter().chain(plan.default_tags.iter()) {
        check_refs(&plan, node, &mut problems);
        if !matches!(node.kind, NodeKind::Str(_)) {
            problems.push(
                Problem::new("wrong-value-type", node.span, format!("`{}` must be a string", key.name))
                    .label(format!("found {}", node.kind.describe())),
            );
        }
    }

    let (policy, policy_problems) = policy::evaluate(&plan, &types, &vars, &opts.allow);
    problems.extend(policy_problems);
    for id in &opts.allow {
        if !policy::RULES.iter().any(|r| r.id == id) {
            let mut p =
                Problem::new("unknown-rule", Span::default(), format!("--allow {id}: no policy rule has this ID"))
                    .label("from the command line");
            p.help = Some(
                did_you_mean(&nearest(id, policy::RULES.iter().map(|r| r.id)))
                    .unwrap_or_else(|| "`ironplan rules` lists the rule IDs".into()),
            );
            problems.push(p);
        }
    }

    // The graph needs known resources; with broken references it would only add noise.
    let graph = if problems.iter().any(|p| p.code != "cycle" && !p.code.starts_with("policy/")) {
        None
    } else {
        match build_graph(&plan, &types) {
            Ok(g) => Some(g),
            Err(cycles) => {
                problems.extend(cycles.iter().map(|c| cycle_problem(&plan, c)));
                None
            }
        }
    };
    match graph {
        Some(graph) if problems.is_empty() => Ok(Checked { plan, graph, types, vars, policy }),
        _ => Err(Problems::new(&plan.path, plan.source.clone(), problems)),
    }
}

fn resolve_vars(plan: &Plan, opts: &Options, problems: &mut Vec<Problem>) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for (name, v) in &plan.variables {
        match opts.vars.get(name).or(v.default.as_ref()) {
            Some(value) => {
                vars.insert(name.clone(), value.clone());
            }
            None => problems.push(
                Problem::new("missing-variable", v.span, format!("variable `{name}` has no value"))
                    .label("declared here without a default")
                    .help(format!("pass `--var {name}=VALUE`, or give it a `default`")),
            ),
        }
    }
    for name in opts.vars.keys() {
        if !plan.variables.contains_key(name) {
            let mut p = Problem::new(
                "unknown-variable",
                Span::default(),
                format!("--var {name}: the plan declares no variable `{name}`"),
            )
            .label("from the command line");
            p.help = did_you_mean(&nearest(name, plan.variables.keys().map(String::as_str)))
                .or_else(|| Some(format!("declare it under `[variables.{name}]`")));
            problems.push(p);
        }
    }
    vars
}

fn check_type(res: &Resource, problems: &mut Vec<Problem>) -> Option<&'static TypeSpec> {
    if let Some(t) = schema::find(&res.type_name) {
        return Some(t);
    }
    let mut p = Problem::new("unknown-type", res.type_span, format!("unknown resource type `{}`", res.type_name))
        .label("not a type ironplan knows");
    p.help = match schema::type_hint(&res.type_name) {
        Some(h) => Some(h),
        None if !res.type_name.contains(':') => {
            Some("a type is written `<service>:<Type>`, e.g. `ec2:Vpc`; `ironplan types` lists them".into())
        }
        None => Some(format!(
            "ironplan knows the services {}; `ironplan types` lists every type",
            schema::services().join(", ")
        )),
    };
    problems.push(p);
    None
}

fn check_props(
    plan: &Plan,
    known: &values::Known<'_>,
    res: &Resource,
    t: &'static TypeSpec,
    problems: &mut Vec<Problem>,
) {
    check_fields(plan, known, &res.name, t.name, t.props, &res.props, res.name_span, problems);
}

/// Checks a table of `entries` against `fields`: unknown names, missing required ones, value
/// types, and each value against what AWS documents for it.
#[allow(clippy::too_many_arguments)]
fn check_fields(
    plan: &Plan,
    known: &values::Known<'_>,
    owner: &str,
    type_name: &str,
    fields: &'static [Prop],
    entries: &[(crate::plan::Key, Node)],
    owner_span: Span,
    problems: &mut Vec<Problem>,
) {
    for (key, node) in entries {
        match fields.iter().find(|p| p.name == key.name) {
            Some(prop) => {
                let path = format!("{owner}.{}", key.name);
                check_value(plan, known, &path, &prop.kind, node, problems);
                values::check_prop(known, &path, prop, node, problems);
            }
            None => {
                let mut p = Problem::new(
                    "unknown-property",
                    key.span,
                    format!("`{}` is not a property of `{type_name}`", key.name),
                )
                .label("unknown property");
                p.help = did_you_mean(&nearest(&key.name, fields.iter().map(|f| f.name))).or_else(|| {
                    Some(format!(
                        "`{type_name}` accepts {}",
                        fields.iter().map(|f| format!("`{}`", f.name)).collect::<Vec<_>>().join(", ")
                    ))
                });
                problems.push(p);
                check_refs(plan, node, problems);
            }
        }
    }
    for f in fields.iter().filter(|f| f.required) {
        if !entries.iter().any(|(k, _)| k.name == f.name) {
            problems.push(
                Problem::new(
                    "missing-property",
                    owner_span,
                    format!("`{owner}` lacks the required property `{}`", f.name),
                )
                .label(format!("`{type_name}` requires `{}`", f.name))
                .help(format!("add `{} = ...`: {}", f.name, f.doc)),
            );
        }
    }
}

fn check_value(
    plan: &Plan,
    known: &values::Known<'_>,
    path: &str,
    kind: &Kind,
    node: &Node,
    problems: &mut Vec<Problem>,
) {
    check_refs(plan, node, problems);
    let single_ref = match &node.kind {
        NodeKind::Str(t) => t.as_single_ref(),
        _ => None,
    };
    // A string that is exactly one reference takes the referenced value's type.
    if let Some(r) = single_ref {
        if let Some(found) = ref_kind(plan, r)
            && !kinds_compatible(kind, &found)
        {
            problems.push(
                Problem::new(
                    "wrong-value-type",
                    node.span,
                    format!("`{path}` must be {}, but {r} is {}", kind.describe(), found.describe()),
                )
                .label("wrong type"),
            );
        }
        return;
    }
    let ok = match (kind, &node.kind) {
        (Kind::Str, NodeKind::Str(_)) => true,
        (Kind::Int, NodeKind::Int(_)) => true,
        (Kind::Float, NodeKind::Int(_) | NodeKind::Float(_)) => true,
        (Kind::Bool, NodeKind::Bool(_)) => true,
        (Kind::List(inner), NodeKind::List(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_value(plan, known, &format!("{path}[{i}]"), inner, item, problems);
            }
            true
        }
        (Kind::Struct(fields), NodeKind::Table(entries)) => {
            check_fields(plan, known, path, path, fields, entries, node.span, problems);
            true
        }
        (Kind::Tags | Kind::StrMap, NodeKind::Table(entries)) => {
            for (k, v) in entries {
                if !matches!(v.kind, NodeKind::Str(_)) {
                    problems.push(
                        Problem::new("wrong-value-type", v.span, format!("`{path}.{}` must be a string", k.name))
                            .label(format!("found {}", v.kind.describe())),
                    );
                }
            }
            true
        }
        (Kind::Document, NodeKind::Table(_)) => true,
        _ => false,
    };
    if !ok {
        let mut p = Problem::new(
            "wrong-value-type",
            node.span,
            format!("`{path}` must be {}, found {}", kind.describe(), node.kind.describe()),
        )
        .label(format!("expected {}", kind.describe()));
        p.help = match (kind, &node.kind) {
            (Kind::Str, NodeKind::Int(n)) => Some(format!("quote it: `\"{n}\"`")),
            (Kind::Int, NodeKind::Str(t)) if t.as_literal().is_some_and(|s| s.parse::<i64>().is_ok()) => {
                Some("remove the quotes".into())
            }
            (Kind::Int, NodeKind::Float(f)) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 => {
                Some(format!("write it without a fractional part: `{}`", *f as i64))
            }
            (Kind::Int, NodeKind::Float(_)) => Some("AWS takes a whole number here".into()),
            (Kind::Bool, NodeKind::Str(t)) if matches!(t.as_literal(), Some("true" | "false")) => {
                Some("remove the quotes".into())
            }
            (Kind::List(_), _) => Some("wrap it in `[ ]`".into()),
            _ => None,
        };
        problems.push(p);
    }
}

fn kinds_compatible(expected: &Kind, found: &Kind) -> bool {
    match (expected, found) {
        (Kind::List(a), Kind::List(b)) => kinds_compatible(a, b),
        // A scalar reference is text once resolved; numbers and booleans are parsed at deploy.
        (Kind::Str | Kind::Int | Kind::Float | Kind::Bool, Kind::Str | Kind::Int | Kind::Float | Kind::Bool) => true,
        (Kind::List(_), _) | (_, Kind::List(_)) => false,
        _ => true,
    }
}

/// The type of the value a reference resolves to, if the reference is valid.
fn ref_kind(plan: &Plan, r: &Ref) -> Option<Kind> {
    match r {
        Ref::Resource { name, attr } => {
            let t = schema::find(&plan.resource(name)?.type_name)?;
            t.attr(attr).map(|a| a.kind)
        }
        Ref::Var(_) | Ref::Region | Ref::AccountId => Some(Kind::Str),
    }
}

/// Checks that every reference in `node` names a known resource, attribute or variable.
fn check_refs(plan: &Plan, node: &Node, problems: &mut Vec<Problem>) {
    for (r, span) in node.refs() {
        match r {
            Ref::Resource { name, attr } => {
                let Some(target) = plan.resource(name) else {
                    problems.push(unknown_resource(plan, name, span));
                    continue;
                };
                let Some(t) = schema::find(&target.type_name) else { continue };
                if t.attr(attr).is_none() {
                    let mut p = Problem::new(
                        "unknown-attribute",
                        span,
                        format!("`{name}` ({}) has no attribute `{attr}`", t.name),
                    )
                    .label("unknown attribute");
                    p.help = did_you_mean(&nearest(attr, t.attrs.iter().map(|a| a.name))).or_else(|| {
                        Some(format!(
                            "`{}` outputs {}",
                            t.name,
                            t.attrs.iter().map(|a| format!("`{}`", a.name)).collect::<Vec<_>>().join(", ")
                        ))
                    });
                    problems.push(p);
                }
            }
            Ref::Var(v) => {
                if !plan.variables.contains_key(v) {
                    let mut p = Problem::new("unknown-variable", span, format!("no variable `{v}` is declared"))
                        .label("unknown variable");
                    p.help = did_you_mean(&nearest(v, plan.variables.keys().map(String::as_str)))
                        .or_else(|| Some(format!("declare it under `[variables.{v}]`")));
                    problems.push(p);
                }
            }
            Ref::Region | Ref::AccountId => {}
        }
    }
}

fn unknown_resource(plan: &Plan, name: &str, span: Span) -> Problem {
    let mut p = Problem::new("unknown-resource", span, format!("no resource named `{name}` in this plan"))
        .label("unknown resource");
    p.help = did_you_mean(&nearest(name, plan.resources.iter().map(|r| r.name.as_str())))
        .or_else(|| Some(format!("declare it as `[resources.{name}]`, or reference one of this plan's resources")));
    p
}

/// Why a resource that uses a role waits for the role's inline policies.
pub const ROLE_POLICY_WHY: &str = "IAM attaches inline policies separately from the role: whatever uses the role waits for them, or its first calls are denied";

fn build_graph(plan: &Plan, types: &BTreeMap<String, &'static TypeSpec>) -> Result<Graph, Vec<Cycle>> {
    let mut b = GraphBuilder::new();
    for res in &plan.resources {
        let t = types.get(&res.name);
        b.node(GraphNode {
            name: res.name.clone(),
            create_secs: t.map_or(0.0, |t| f64::from(t.create_secs)),
            delete_secs: t.map_or(0.0, |t| f64::from(t.delete_secs)),
        });
    }
    let view = PlanView::new(plan);
    let idx = |b: &GraphBuilder, n: &str| b.index(n);
    // The inline policies of each role, found once (not once per resource: plans are large).
    let mut policies_by_role: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for policy in view.of_type("iam:RolePolicy") {
        for role in view.referenced_by(policy, "role_name") {
            policies_by_role.entry(role.name.as_str()).or_default().push(policy.name.as_str());
        }
    }
    for res in &plan.resources {
        let Some(from) = idx(&b, &res.name) else { continue };
        for (_, node) in &res.props {
            for (r, _) in node.refs() {
                if let Ref::Resource { name, attr } = r
                    && let Some(to) = idx(&b, name)
                {
                    b.depends(from, to, Reason::Reference { attr: attr.clone() });
                }
            }
        }
        for dep in &res.depends_on {
            if let Some(to) = idx(&b, &dep.name).filter(|to| *to != from) {
                b.depends(from, to, Reason::Explicit);
            }
        }
        if let Some(t) = types.get(&res.name) {
            for rule in t.implied {
                for target in (rule.find)(&view, res) {
                    if let Some(to) = idx(&b, &target).filter(|to| *to != from) {
                        b.depends(from, to, Reason::Implied { why: rule.why.to_string() });
                    }
                }
            }
        }
        // Cross-cutting rule: using a role means waiting for its inline policies.
        if res.type_name != "iam:RolePolicy" {
            let roles: BTreeSet<&str> = res
                .props
                .iter()
                .flat_map(|(_, n)| n.refs())
                .filter_map(|(r, _)| match r {
                    Ref::Resource { name, .. } => Some(name.as_str()),
                    _ => None,
                })
                .filter(|n| plan.resource(n).is_some_and(|r| r.type_name == "iam:Role"))
                .collect();
            for role in &roles {
                for policy in policies_by_role.get(role).into_iter().flatten() {
                    if *policy != res.name
                        && let Some(to) = idx(&b, policy)
                    {
                        b.depends(from, to, Reason::Implied { why: ROLE_POLICY_WHY.to_string() });
                    }
                }
            }
        }
    }
    b.build()
}

fn cycle_problem(plan: &Plan, c: &Cycle) -> Problem {
    let span = plan.resource(&c.members[0]).map_or(Span::default(), |r| r.name_span);
    let mut chain = c.members.clone();
    chain.push(c.members[0].clone());
    let cuts: Vec<String> = c
        .edges
        .iter()
        .map(|(f, t, why)| {
            let kinds: Vec<&str> = why.iter().map(Reason::kind).collect();
            format!("{f} → {t} ({})", kinds.join(", "))
        })
        .collect();
    Problem::new("cycle", span, format!("dependency cycle: {}", chain.join(" → ")))
        .label("this resource is on a cycle")
        .help(format!(
            "each resource on a cycle waits for the next, so none can start; remove one of these edges: {}",
            cuts.join("; ")
        ))
}
