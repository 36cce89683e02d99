//! The resource types ironplan knows, as plain data: each type's properties (named as the AWS
//! SDK for Rust's builder methods, in snake_case), the attributes it outputs, the dependencies
//! AWS needs that no reference expresses, and its typical AWS durations.
//!
//! API, in order of use:
//! - [`find`] / [`all`]: look a type up by its `<service>:<Type>` name.
//! - [`TypeSpec`], [`Prop`], [`Kind`], [`Attr`]: what a type accepts and outputs.
//! - [`Implied`] and [`PlanView`]: the rules that add edges no reference expresses.
//!
//! This module knows no SDK type: `crate::aws` implements each type, and a test there checks
//! that every property declared here is consumed by the adapter and vice versa.

mod apigateway;
mod applicationautoscaling;
mod cloudwatch;
mod ec2;
mod ecs;
mod efs;
mod elasticache;
mod iam;
mod kinesis;
mod kms;
mod logs;
mod rds;

use crate::plan::{Node, NodeKind, Plan, Ref, Resource};

/// The type of a property value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Str,
    Int,
    Float,
    Bool,
    List(&'static Kind),
    /// A nested structure with known fields.
    Struct(&'static [Prop]),
    /// `{ Key = "value" }` tags; the tool adds the stack's standard tags.
    Tags,
    /// A free-form table rendered to JSON (an IAM policy document).
    Document,
    /// A string-to-string map (not tags).
    StrMap,
}

impl Kind {
    pub fn describe(&self) -> String {
        match self {
            Kind::Str => "a string".into(),
            Kind::Int => "an integer".into(),
            Kind::Float => "a number".into(),
            Kind::Bool => "a boolean".into(),
            Kind::List(k) => format!("a list of {}", k.describe().trim_start_matches("a ").trim_start_matches("an ")),
            Kind::Struct(_) => "a table".into(),
            Kind::Tags => "a table of tags".into(),
            Kind::Document => "a policy document table".into(),
            Kind::StrMap => "a table of strings".into(),
        }
    }
}

/// One property of a type (or one field of a nested structure).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prop {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// Never stored in state or printed: only a hash of it is kept.
    pub sensitive: bool,
    pub doc: &'static str,
}

impl Prop {
    pub const fn req(name: &'static str, kind: Kind, doc: &'static str) -> Prop {
        Prop { name, kind, required: true, sensitive: false, doc }
    }

    pub const fn opt(name: &'static str, kind: Kind, doc: &'static str) -> Prop {
        Prop { name, kind, required: false, sensitive: false, doc }
    }

    pub const fn sensitive(mut self) -> Prop {
        self.sensitive = true;
        self
    }
}

/// An output of a type, referable as `${name.attr}`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attr {
    pub name: &'static str,
    pub kind: Kind,
    pub doc: &'static str,
}

pub const fn attr(name: &'static str, doc: &'static str) -> Attr {
    Attr { name, kind: Kind::Str, doc }
}

/// A dependency AWS needs that no reference expresses.
pub struct Implied {
    /// Why the edge exists; printed by the dry run.
    pub why: &'static str,
    /// The names of the resources `res` must wait for.
    pub find: fn(&PlanView<'_>, &Resource) -> Vec<String>,
}

impl std::fmt::Debug for Implied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Implied").field("why", &self.why).finish()
    }
}

/// A resource type: `<service>:<Type>`.
#[derive(Debug)]
pub struct TypeSpec {
    pub name: &'static str,
    pub summary: &'static str,
    /// The SDK operations the type calls, and which properties feed which call.
    pub calls: &'static str,
    pub props: &'static [Prop],
    pub attrs: &'static [Attr],
    /// The type has a `tags` property: the stack's default and identity tags are added to it.
    pub taggable: bool,
    /// Typical real-AWS durations in seconds, from creation call to usable and from deletion
    /// call to gone (the spec's figures; used for the critical path and the latency model).
    pub create_secs: u32,
    pub delete_secs: u32,
    pub implied: &'static [Implied],
}

impl TypeSpec {
    pub fn prop(&self, name: &str) -> Option<&'static Prop> {
        self.props.iter().find(|p| p.name == name)
    }

    pub fn attr(&self, name: &str) -> Option<&'static Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    /// The AWS service of the type (`ec2` in `ec2:Vpc`).
    pub fn service(&self) -> &'static str {
        self.name.split(':').next().unwrap_or(self.name)
    }
}

/// Every known type, sorted by name.
pub fn all() -> &'static [&'static TypeSpec] {
    static ALL: std::sync::OnceLock<Vec<&'static TypeSpec>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<&'static TypeSpec> = [
            apigateway::TYPES,
            applicationautoscaling::TYPES,
            cloudwatch::TYPES,
            ec2::TYPES,
            ecs::TYPES,
            efs::TYPES,
            elasticache::TYPES,
            iam::TYPES,
            kinesis::TYPES,
            kms::TYPES,
            logs::TYPES,
            rds::TYPES,
        ]
        .iter()
        .flat_map(|types| types.iter().copied())
        .collect();
        v.sort_by_key(|t| t.name);
        v
    })
}

pub fn find(name: &str) -> Option<&'static TypeSpec> {
    all().iter().copied().find(|t| t.name == name)
}

/// The services ironplan can call, as written before the `:` of a type.
pub fn services() -> Vec<&'static str> {
    let mut s: Vec<_> = all().iter().map(|t| t.service()).collect();
    s.dedup();
    s
}

/// What implied-dependency rules may look at: the plan, read-only, with type lookups.
pub struct PlanView<'a> {
    pub plan: &'a Plan,
}

impl<'a> PlanView<'a> {
    pub fn new(plan: &'a Plan) -> Self {
        PlanView { plan }
    }

    pub fn of_type(&self, type_name: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.plan.resources.iter().filter(move |r| r.type_name == type_name)
    }

    /// A value in a form that two resources can be compared by: a reference to another
    /// resource's attribute that is also one of its literal properties (`${get_patients.http_method}`)
    /// becomes that literal; anything else is its source text.
    pub fn canonical(&self, node: Option<&Node>) -> Option<String> {
        let node = node?;
        if let NodeKind::Str(t) = &node.kind {
            if let Some(Ref::Resource { name, attr }) = t.as_single_ref()
                && let Some(lit) = self.plan.resource(name).and_then(|r| r.prop(attr)).and_then(Node::as_literal_str)
            {
                return Some(lit.to_string());
            }
            return Some(t.source_text());
        }
        Some(format!("{:?}", node.kind))
    }

    /// The resources a property of `res` refers to.
    pub fn referenced_by(&self, res: &Resource, prop: &str) -> Vec<&'a Resource> {
        let Some(node) = res.prop(prop) else { return Vec::new() };
        node.refs()
            .into_iter()
            .filter_map(|(r, _)| match r {
                Ref::Resource { name, .. } => self.plan.resource(name),
                _ => None,
            })
            .collect()
    }

    /// Resources of `type_name` whose listed properties equal those of `res`, pairwise
    /// (`(prop of res, prop of other)`), compared by [`PlanView::canonical`].
    pub fn matching(&self, res: &Resource, type_name: &'a str, pairs: &[(&str, &str)]) -> Vec<String> {
        self.of_type(type_name)
            .filter(|other| {
                pairs.iter().all(|(mine, theirs)| {
                    let a = self.canonical(res.prop(mine));
                    a.is_some() && a == self.canonical(other.prop(theirs))
                })
            })
            .map(|r| r.name.clone())
            .collect()
    }
}

/// The sorted names a resource's implied rules add (for the types' tests).
#[cfg(test)]
pub(crate) fn implied_of(plan: &Plan, name: &str) -> Vec<String> {
    let view = PlanView::new(plan);
    let res = plan.resource(name).expect("resource");
    let ty = find(&res.type_name).expect("type");
    let mut out: Vec<String> = ty.implied.iter().flat_map(|i| (i.find)(&view, res)).collect();
    out.sort();
    out
}

/// Replaces each sensitive value among a resource's properties (a JSON object shaped by
/// `props`), at any depth, with `mask(path, value)`; `path` is dotted, with list indexes
/// (`container_definitions.0.environment.1.value`). The schema marks what is sensitive; a test
/// keeps every property named like a secret ([`looks_secret`]) marked.
pub fn mask_sensitive(
    props: &[Prop],
    values: &mut serde_json::Map<String, serde_json::Value>,
    mask: &mut dyn FnMut(&str, &serde_json::Value) -> serde_json::Value,
) {
    mask_in(props, values, "", mask);
}

fn mask_in(
    props: &[Prop],
    values: &mut serde_json::Map<String, serde_json::Value>,
    prefix: &str,
    mask: &mut dyn FnMut(&str, &serde_json::Value) -> serde_json::Value,
) {
    use serde_json::Value;
    for (key, value) in values.iter_mut() {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        let prop = props.iter().find(|p| p.name == key);
        if prop.is_some_and(|p| p.sensitive) {
            if !value.is_null() {
                *value = mask(&path, value);
            }
            continue;
        }
        match (prop.map(|p| p.kind), value) {
            (Some(Kind::Struct(fields)), Value::Object(m)) => mask_in(fields, m, &path, mask),
            (Some(Kind::List(Kind::Struct(fields))), Value::Array(items)) => {
                for (i, item) in items.iter_mut().enumerate() {
                    if let Value::Object(m) = item {
                        mask_in(fields, m, &format!("{path}.{i}"), mask);
                    }
                }
            }
            _ => {}
        }
    }
}

/// A name that says "secret" (`password`, `db_token`, `ApiKey`...), except those that only
/// point at one or name where it comes from (`*_arn`, `*_id`, `*_source`, `value_from`, the
/// `secrets` references of a container) and idempotency tokens (`creation_token`), which
/// adoption needs to read back.
pub fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace(['-', '_'], "");
    let points_at = ["arn", "id", "source", "valuefrom"].iter().any(|s| n.ends_with(s))
        || n == "secrets"
        || ["creationtoken", "clienttoken"].contains(&n.as_str());
    !points_at
        && ["password", "passwd", "secret", "token", "credential", "apikey", "privatekey", "accesskey"]
            .iter()
            .any(|w| n.contains(w))
}

/// The standard tags every taggable resource gets, besides the plan's `default_tags`.
pub const STACK_TAG: &str = "ironplan:stack";
pub const RESOURCE_TAG: &str = "ironplan:resource";
pub const MANAGED_BY_TAG: &str = "ManagedBy";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_service_colon_upper_camel_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for t in all() {
            let (svc, ty) = t.name.split_once(':').expect("service:Type");
            assert!(svc.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()), "{}", t.name);
            assert!(ty.starts_with(|c: char| c.is_ascii_uppercase()), "{}", t.name);
            assert!(seen.insert(t.name), "duplicate {}", t.name);
        }
    }

    #[test]
    fn property_names_are_snake_case_and_unique_per_type() {
        fn check(owner: &str, props: &[Prop]) {
            let mut seen = std::collections::BTreeSet::new();
            for p in props {
                assert!(
                    p.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                    "{owner}.{}",
                    p.name
                );
                assert!(p.name != "type" && p.name != "depends_on", "{owner}.{} is reserved", p.name);
                assert!(seen.insert(p.name), "duplicate {owner}.{}", p.name);
                match p.kind {
                    Kind::Struct(fields) | Kind::List(&Kind::Struct(fields)) => {
                        check(&format!("{owner}.{}", p.name), fields)
                    }
                    _ => {}
                }
            }
        }
        for t in all() {
            check(t.name, t.props);
            assert_eq!(t.taggable, t.prop("tags").is_some(), "{}: taggable iff it has `tags`", t.name);
            assert!(t.attr("id").is_some(), "{} outputs no `id`", t.name);
        }
    }

    /// Every property whose name says "secret" is marked sensitive (or is a flag, or only
    /// points at a secret), so that nothing relies on the name heuristic alone.
    #[test]
    fn properties_named_like_secrets_are_sensitive() {
        fn check(owner: &str, props: &[Prop], bad: &mut Vec<String>) {
            for p in props {
                if looks_secret(p.name) && !p.sensitive && p.kind != Kind::Bool {
                    bad.push(format!("{owner}.{}", p.name));
                }
                if let Kind::Struct(fields) | Kind::List(&Kind::Struct(fields)) = p.kind {
                    check(&format!("{owner}.{}", p.name), fields, bad);
                }
            }
        }
        let mut bad = Vec::new();
        for t in all() {
            check(t.name, t.props, &mut bad);
        }
        assert!(bad.is_empty(), "named like secrets but not sensitive: {bad:?}");
        assert!(looks_secret("DB_PASSWORD") && looks_secret("apiKey") && looks_secret("auth_token"));
        for name in
            ["master_user_secret_arn", "value_from", "kms_key_id", "api_key_source", "secrets", "creation_token"]
        {
            assert!(!looks_secret(name), "{name}");
        }
    }

    #[test]
    fn sensitive_values_are_masked_at_any_depth() {
        use serde_json::json;
        let td = find("ecs:TaskDefinition").expect("type");
        let serde_json::Value::Object(mut v) = json!({
            "family": "web",
            "container_definitions": [{"name": "app", "image": "i",
                "environment": [{"name": "MODE", "value": "fast"}, {"name": "API_TOKEN", "value": "s3cr3t"}]}],
        }) else {
            unreachable!()
        };
        let mut seen = Vec::new();
        mask_sensitive(td.props, &mut v, &mut |path, _| {
            seen.push(path.to_string());
            json!("(masked)")
        });
        assert_eq!(
            seen,
            ["container_definitions.0.environment.0.value", "container_definitions.0.environment.1.value"]
        );
        let text = serde_json::Value::Object(v).to_string();
        assert!(!text.contains("s3cr3t") && !text.contains("fast") && text.contains("API_TOKEN"), "{text}");
    }

    #[test]
    fn the_seed_types_live_in_their_real_services() {
        assert!(find("applicationautoscaling:ScalableTarget").is_some());
        assert!(find("applicationautoscaling:ScalingPolicy").is_some());
        assert!(find("ecs:ScalableTarget").is_none());
        let rg = find("elasticache:ReplicationGroup").expect("replication group");
        assert!(rg.prop("replication_group_description").is_some());
        assert!(rg.prop("description").is_none());
    }
}
