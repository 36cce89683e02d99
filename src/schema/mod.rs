//! The resource types ironplan knows, as plain data: each type's properties (named as the AWS
//! SDK for Rust's builder methods, in snake_case), the attributes it outputs, the dependencies
//! AWS needs that no reference expresses, and its typical AWS durations.
//!
//! API, in order of use:
//! - [`find`] / [`all`]: look a type up by its `<service>:<Type>` name.
//! - [`TypeSpec`], [`Prop`], [`Kind`], [`Attr`]: what a type accepts and outputs.
//! - [`Check`] and [`NameRule`]: what AWS documents a value must be (a name's length,
//!   characters and form; a number's range), declared per property and checked by the dry run.
//! - [`Implied`] and [`PlanView`]: the rules that add edges no reference expresses.
//!
//! This module knows no SDK type: `crate::aws` implements each type, and a test there checks
//! that every property declared here is consumed by the adapter and vice versa.

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
    /// What AWS documents the value must be, beyond its kind (checked before any AWS call).
    /// Without one, an integer must still fit the SDK's `i32` and a number must be finite.
    pub check: Option<Check>,
    /// AWS can change it on the live resource (an update call, which the type's `update`
    /// makes); otherwise a new value means a new resource (a replacement). Tags always can.
    pub in_place: bool,
}

impl Prop {
    pub const fn req(name: &'static str, kind: Kind, doc: &'static str) -> Prop {
        Prop { name, kind, required: true, sensitive: false, doc, check: None, in_place: false }
    }

    pub const fn opt(name: &'static str, kind: Kind, doc: &'static str) -> Prop {
        Prop { name, kind, required: false, sensitive: false, doc, check: None, in_place: false }
    }

    pub const fn sensitive(mut self) -> Prop {
        self.sensitive = true;
        self
    }

    /// AWS can change the value in place (the type's `update` applies it).
    pub const fn in_place(mut self) -> Prop {
        self.in_place = true;
        self
    }

    /// A new value is applied to the live resource (tags always are), not by replacing it.
    pub fn changes_in_place(&self) -> bool {
        self.in_place || self.kind == Kind::Tags
    }

    /// The value becomes an AWS name: it must follow `rule` (each item, for a list).
    pub const fn name_rule(mut self, rule: &'static NameRule) -> Prop {
        self.check = Some(Check::Name(rule));
        self
    }

    /// An integer from `min` to `max`, inclusive.
    pub const fn range(mut self, min: i64, max: i64) -> Prop {
        self.check = Some(Check::Range { min, max });
        self
    }

    /// An integer from `min` up (to `i32::MAX`, the SDK's type): AWS documents no maximum,
    /// or only an account quota.
    pub const fn at_least(mut self, min: i64) -> Prop {
        self.check = Some(Check::Range { min, max: I32_MAX });
        self
    }

    /// An integer that is one of `values`.
    pub const fn one_of(mut self, values: &'static [i64]) -> Prop {
        self.check = Some(Check::Values { values, multiple_of: 0 });
        self
    }

    /// An integer that is one of `values` or a positive multiple of `multiple_of`.
    pub const fn one_of_or_multiple(mut self, values: &'static [i64], multiple_of: i64) -> Prop {
        self.check = Some(Check::Values { values, multiple_of });
        self
    }

    /// A number from `min` to `max`, inclusive, in steps of `step` from `min` (0: any step).
    pub const fn number_range(mut self, min: f64, max: f64, step: f64) -> Prop {
        self.check = Some(Check::Number { min, max, step });
        self
    }
}

/// The largest integer the AWS SDK for Rust takes (its integers are `i32`).
pub const I32_MAX: i64 = i32::MAX as i64;

/// What AWS documents a property's value must be. Data only: `crate::check` applies it to the
/// value with variables substituted, and `ironplan types TYPE` prints [`Check::describe`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    /// The value is an AWS name (or another string AWS validates the same way).
    Name(&'static NameRule),
    /// An integer from `min` to `max`, inclusive.
    Range { min: i64, max: i64 },
    /// An integer in `values`, or (when `multiple_of` is not 0) a positive multiple of it.
    Values { values: &'static [i64], multiple_of: i64 },
    /// A number from `min` to `max`, inclusive, in steps of `step` from `min` (0: any step).
    Number { min: f64, max: f64, step: f64 },
}

impl Check {
    /// One line for `ironplan types` and for hints.
    pub fn describe(&self) -> String {
        match self {
            Check::Name(rule) => rule.describe(),
            Check::Range { min, max } if *max == I32_MAX => format!("an integer of at least {min}"),
            Check::Range { min, max } => format!("an integer from {min} to {max}"),
            Check::Values { values, multiple_of } => {
                let list = values.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
                if *multiple_of == 0 {
                    format!("one of {list}")
                } else {
                    format!("{list} or a multiple of {multiple_of}")
                }
            }
            Check::Number { min, max, step } if *step > 0.0 => {
                format!("a number from {min} to {max}, in steps of {step}")
            }
            Check::Number { min, max, .. } => format!("a number from {min} to {max}"),
        }
    }
}

/// The special shapes some AWS names have, beyond length and characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Length, characters and the other fields of the rule only.
    Plain,
    /// An IAM path: `/` alone, or beginning and ending with `/`.
    IamPath,
    /// An API Gateway path part: plain characters, or a `{name}` / `{name+}` path parameter.
    PathPart,
    /// An S3 bucket name: no two adjacent periods, and not an IP address (`192.168.5.4`).
    BucketName,
}

/// What AWS documents a name must be: length, characters, first and last character, prefixes.
/// Character sets are written as in a regular expression's `[...]` class without the
/// brackets (`a-z0-9-`: ranges, single characters, a trailing `-` is literal); an empty set
/// means any character. Whatever the set, ironplan refuses control, bidirectional and invisible
/// formatting characters in every name (stricter than AWS for the few names that allow any
/// UTF-8): they make a name print as something it is not.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NameRule {
    /// What the name is, for messages: `IAM role name`.
    pub what: &'static str,
    /// Where AWS documents the rule (operation and parameter).
    pub source: &'static str,
    pub min: usize,
    /// `usize::MAX`: AWS documents no limit.
    pub max: usize,
    /// The characters allowed anywhere.
    pub chars: &'static str,
    /// The characters allowed first (empty: as `chars`).
    pub first: &'static str,
    /// Characters the name may not end with.
    pub not_last: &'static str,
    /// `--` is refused (RDS and ElastiCache identifiers).
    pub no_double_hyphen: bool,
    /// The name must start with this (`alias/`).
    pub prefix: &'static str,
    /// The name may not start with any of these (`alias/aws/`, `sg-`).
    pub reserved_prefixes: &'static [&'static str],
    /// The name may not end with any of these (`-s3alias`).
    pub reserved_suffixes: &'static [&'static str],
    /// Whole names AWS refuses (`default`).
    pub reserved: &'static [&'static str],
    pub form: Form,
}

impl NameRule {
    pub const fn new(what: &'static str, source: &'static str, min: usize, max: usize, chars: &'static str) -> Self {
        NameRule {
            what,
            source,
            min,
            max,
            chars,
            first: "",
            not_last: "",
            no_double_hyphen: false,
            prefix: "",
            reserved_prefixes: &[],
            reserved_suffixes: &[],
            reserved: &[],
            form: Form::Plain,
        }
    }

    pub const fn first(mut self, chars: &'static str) -> Self {
        self.first = chars;
        self
    }

    pub const fn not_last(mut self, chars: &'static str) -> Self {
        self.not_last = chars;
        self
    }

    pub const fn no_double_hyphen(mut self) -> Self {
        self.no_double_hyphen = true;
        self
    }

    pub const fn prefix(mut self, prefix: &'static str) -> Self {
        self.prefix = prefix;
        self
    }

    pub const fn reserved_prefixes(mut self, prefixes: &'static [&'static str]) -> Self {
        self.reserved_prefixes = prefixes;
        self
    }

    pub const fn reserved_suffixes(mut self, suffixes: &'static [&'static str]) -> Self {
        self.reserved_suffixes = suffixes;
        self
    }

    pub const fn reserved(mut self, names: &'static [&'static str]) -> Self {
        self.reserved = names;
        self
    }

    pub const fn form(mut self, form: Form) -> Self {
        self.form = form;
        self
    }

    /// Whether `c` is in a character set written as a class (`a-z0-9_-`); an empty set holds
    /// every character.
    pub fn class_contains(class: &str, c: char) -> bool {
        if class.is_empty() {
            return true;
        }
        let chars: Vec<char> = class.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if i + 2 < chars.len() && chars[i + 1] == '-' {
                if (chars[i]..=chars[i + 2]).contains(&c) {
                    return true;
                }
                i += 3;
            } else {
                if chars[i] == c {
                    return true;
                }
                i += 1;
            }
        }
        false
    }

    /// The rule in one sentence: `IAM role name: 1-64 characters of [a-zA-Z0-9_+=,.@-] (CreateRole RoleName)`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let len = match (self.min, self.max) {
            (min, usize::MAX) => format!("at least {min} character{}", if min == 1 { "" } else { "s" }),
            (min, max) if min == max => format!("{min} characters"),
            (min, max) => format!("{min}-{max} characters"),
        };
        parts.push(if self.chars.is_empty() { len } else { format!("{len} of [{}]", self.chars) });
        if !self.prefix.is_empty() {
            parts.push(format!("starts with `{}`", self.prefix));
        }
        if !self.first.is_empty() {
            parts.push(format!("starts with [{}]", self.first));
        }
        for p in self.reserved_prefixes {
            parts.push(format!("does not start with `{p}`"));
        }
        if !self.not_last.is_empty() {
            parts.push(format!("does not end with [{}]", self.not_last));
        }
        for s in self.reserved_suffixes {
            parts.push(format!("does not end with `{s}`"));
        }
        if self.no_double_hyphen {
            parts.push("has no `--`".into());
        }
        match self.form {
            Form::Plain => {}
            Form::IamPath => parts.push("is `/` or begins and ends with `/`".into()),
            Form::PathPart => parts.push("or is a `{name}` or `{name+}` path parameter".into()),
            Form::BucketName => parts.push("has no `..` and is not an IP address".into()),
        }
        for r in self.reserved {
            parts.push(format!("is not `{r}`"));
        }
        format!("{}: {} ({})", self.what, parts.join(", "), self.source)
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
    /// The names other tools give the type (CloudFormation `AWS::…`, Terraform `aws_…`, Pulumi
    /// `aws:…` tokens): an unknown type written one of those ways gets this type as its hint.
    pub aliases: &'static [&'static str],
    pub summary: &'static str,
    /// The SDK operations the type calls, and which properties feed which call.
    pub calls: &'static str,
    pub props: &'static [Prop],
    pub attrs: &'static [Attr],
    /// The type has a `tags` property: the stack's default and identity tags are added to it.
    pub taggable: bool,
    /// It keeps data that a replacement or delete loses (a database, a cache, a file system, a
    /// stream, a KMS key): ironplan replaces or deletes it only when the user names it.
    pub holds_data: bool,
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

/// Every known type, sorted by name (the registry: `crate::aws::registry`).
pub fn all() -> &'static [&'static TypeSpec] {
    crate::aws::registry::specs()
}

/// The type another tool's name (`AWS::EC2::VPC`, `aws_vpc`, `aws:ec2/vpc:Vpc`) stands for,
/// or, for a `service:Name` ironplan does not know, the type that other tools call `Name`
/// (the seed's `ecs:Policy`: an ECS service scales through Application Auto Scaling, whose
/// policy Pulumi calls `appautoscaling.Policy`). Case does not matter.
pub fn alias_of(name: &str) -> Option<(&'static TypeSpec, &'static str)> {
    let lower = name.to_ascii_lowercase();
    let types = all();
    if let Some(hit) =
        types.iter().find_map(|t| t.aliases.iter().find(|a| a.to_ascii_lowercase() == lower).map(|a| (*t, *a)))
    {
        return Some(hit);
    }
    // `service:Name`: the resource name of a Pulumi token (`aws:appautoscaling/policy:Policy`)
    // or the last part of a CloudFormation one.
    let (_, short) = name.split_once(':').or_else(|| name.split_once('.'))?;
    let short = short.to_ascii_lowercase();
    let mut hits = types.iter().filter_map(|t| {
        t.aliases
            .iter()
            .find(|a| a.rsplit([':', '/']).next().is_some_and(|last| last.to_ascii_lowercase() == short))
            .map(|a| (*t, *a))
    });
    let first = hits.next()?;
    // Only an unambiguous name is a hint.
    hits.all(|(t, _)| t.name == first.0.name).then_some(first)
}

/// The hint for an unknown type: another tool's name for a known one first, then the nearest
/// name ironplan knows.
pub fn type_hint(name: &str) -> Option<String> {
    let near = crate::diag::nearest(name, all().iter().map(|t| t.name));
    match alias_of(name) {
        Some((t, alias)) if alias.eq_ignore_ascii_case(name) => {
            Some(format!("`{alias}` is another tool's name for ironplan's `{}`: write `type = \"{}\"`", t.name, t.name))
        }
        Some((t, alias)) if near != [t.name] => {
            Some(format!("did you mean `{}`? (another tool calls it `{alias}`)", t.name))
        }
        _ => crate::diag::did_you_mean(&near),
    }
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

    /// Another tool's name for a type, or the seed's `ecs:Policy`, gets the exact type.
    #[test]
    fn other_tools_names_point_at_the_type() {
        let hint = |n: &str| alias_of(n).map(|(t, _)| t.name);
        assert_eq!(hint("ecs:Policy"), Some("applicationautoscaling:ScalingPolicy"));
        assert_eq!(hint("ecs:Target"), Some("applicationautoscaling:ScalableTarget"));
        assert_eq!(hint("aws_appautoscaling_target"), Some("applicationautoscaling:ScalableTarget"));
        assert_eq!(hint("AWS::EC2::VPC"), Some("ec2:Vpc"));
        assert_eq!(hint("aws:ec2/vpc:Vpc"), Some("ec2:Vpc"));
        assert_eq!(hint("aws_cloudwatch_log_group"), Some("logs:LogGroup"));
        // Ambiguous or unknown: no alias hint (the nearest name still applies).
        assert_eq!(hint("ec2:Banana"), None);
        assert!(type_hint("ecs:Policy").is_some_and(|h| h.contains("applicationautoscaling:ScalingPolicy")));
        for t in all() {
            assert!(!t.aliases.is_empty(), "{} registers no name of another tool", t.name);
            for a in t.aliases {
                assert_eq!(hint(a), Some(t.name), "{a}");
            }
        }
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
