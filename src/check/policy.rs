//! The HIPAA baseline: policy rules with stable IDs, checked on the plan before any AWS call.
//!
//! A violation fails the plan with the rule's ID and how to fix it; `--allow RULE_ID` waives a
//! rule for one run (the dry run still lists it as waived). IDs never change meaning; a rule
//! that changes gets a new ID.
//!
//! **What a rule sees.** Values as they will be sent: `${var.NAME}` is replaced by the
//! variable's value (variables are known at check time), and enum-like words are compared
//! without regard to case (`enabled` is `ENABLED`, `none` is `NONE`, protocol `all` is `-1`).
//! A resource attribute (`${name.attr}`), `${aws.region}` and `${aws.account_id}` are known
//! only at deploy. They are treated conservatively, by what they can be:
//! - a rule that needs a value to be safe (`assign_public_ip` not `ENABLED`, an authorization
//!   type other than `NONE`, `ENABLED` transit encryption, a port) fails when the value is
//!   unknown: ironplan cannot prove it safe;
//! - a rule that looks for a wildcard, an internet-wide range or an AWS managed policy ARN
//!   treats an unknown part as what AWS generates there (an ID, ARN, name or endpoint), which is
//!   never `*`, `0.0.0.0/0` or `arn:aws:iam::aws:policy/...`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;

use crate::diag::Problem;
use crate::plan::{Node, NodeKind, Part, Plan, Ref, Resource, Span};
use crate::schema::TypeSpec;

/// One policy rule.
pub struct Rule {
    pub id: &'static str,
    pub title: &'static str,
    pub fix: &'static str,
    /// The resource types the rule looks at.
    pub types: &'static [&'static str],
    check: fn(&Ctx<'_>, &Resource) -> Vec<Finding>,
}

/// The result of one rule over the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub id: &'static str,
    pub title: &'static str,
    /// `passed`, `failed` or `waived`.
    pub status: &'static str,
    /// How many resources the rule applied to.
    pub checked: usize,
    /// The resources that violate it (waived or not).
    pub violations: Vec<String>,
}

/// Every rule, in report order.
pub const RULES: &[Rule] = &[
    Rule {
        id: "kms-cmk-at-rest",
        title: "data at rest is encrypted with a customer-managed KMS key",
        fix: "set the encryption properties and point the key property at a `kms:Key` of this plan (e.g. `${data_key.arn}`)",
        types: &["kinesis:Stream", "rds:DbCluster", "elasticache:ReplicationGroup", "efs:FileSystem", "logs:LogGroup"],
        check: cmk_at_rest,
    },
    Rule {
        id: "redis-transit-encryption",
        title: "Redis encrypts traffic in transit",
        fix: "set `transit_encryption_enabled = true`",
        types: &["elasticache:ReplicationGroup"],
        check: redis_transit,
    },
    Rule {
        id: "efs-transit-encryption",
        title: "tasks mount EFS with encryption in transit",
        fix: "set `transit_encryption = \"ENABLED\"` in the volume's `efs_volume_configuration`",
        types: &["ecs:TaskDefinition"],
        check: efs_transit,
    },
    Rule {
        id: "no-public-database",
        title: "no database instance is publicly accessible",
        fix: "set `publicly_accessible = false` explicitly",
        types: &["rds:DbInstance"],
        check: no_public_db,
    },
    Rule {
        id: "no-public-task-ip",
        title: "ECS tasks get no public IP",
        fix: "set `assign_public_ip = \"DISABLED\"` in `network_configuration.awsvpc_configuration`",
        types: &["ecs:Service"],
        check: no_public_task_ip,
    },
    Rule {
        id: "vpc-flow-logs",
        title: "every VPC has flow logs",
        fix: "add an `ec2:FlowLog` whose `resource_ids` references this VPC",
        types: &["ec2:Vpc"],
        check: vpc_flow_logs,
    },
    Rule {
        id: "log-retention",
        title: "every log group has a retention period",
        fix: "set `retention_in_days` (HIPAA asks for 6 years of audit records: 2192)",
        types: &["logs:LogGroup"],
        check: log_retention,
    },
    Rule {
        id: "api-authorization",
        title: "no API method is open without authorization",
        fix: "set `authorization_type` to `AWS_IAM`, `COGNITO_USER_POOLS` or `CUSTOM`",
        types: &["apigateway:Method"],
        check: api_authorization,
    },
    Rule {
        id: "db-password-managed",
        title: "the database master password is managed by RDS, never by the tool",
        fix: "set `manage_master_user_password = true` (RDS keeps it in Secrets Manager)",
        types: &["rds:DbCluster"],
        check: db_password_managed,
    },
    Rule {
        id: "no-internet-ingress",
        title: "no security group admits the internet, except HTTPS (TCP 443)",
        fix: "admit a security group (`user_id_group_pairs`) or a private range instead of `0.0.0.0/0` / `::/0`; from the internet, only `ip_protocol = \"tcp\", from_port = 443, to_port = 443`",
        types: &["ec2:SecurityGroup"],
        check: no_internet_ingress,
    },
    Rule {
        id: "no-wildcard-trust",
        title: "no role can be assumed by any principal",
        fix: "name the principal that assumes the role (`Service = \"ecs-tasks.amazonaws.com\"`, or an account or role ARN) instead of `*`, and use `Principal`, not `NotPrincipal`",
        types: &["iam:Role"],
        check: no_wildcard_trust,
    },
    Rule {
        id: "no-admin-policy",
        title: "no role is granted every action on every resource",
        fix: "grant the actions the role needs on the resources it needs them on (e.g. `Action = [\"kinesis:GetRecords\"]`, `Resource = \"${stream.arn}\"`), not `AdministratorAccess` or `Action = \"*\"` on `Resource = \"*\"`",
        types: &["iam:Role", "iam:RolePolicy"],
        check: no_admin_policy,
    },
    Rule {
        id: "trust-source-account",
        title: "roles that AWS services assume are limited to this account's resources",
        fix: "add `Condition = { StringEquals = { \"aws:SourceAccount\" = \"${aws.account_id}\" } }` (or an `aws:SourceArn` condition) to the trust statement",
        types: &["iam:Role"],
        check: trust_source_account,
    },
    Rule {
        id: "kms-decrypt-via-service",
        title: "roles may decrypt with KMS only through the AWS service that needs it",
        fix: "add `Condition = { StringEquals = { \"kms:ViaService\" = [\"secretsmanager.${aws.region}.amazonaws.com\"] } }` naming the services that decrypt for the role",
        types: &["iam:Role", "iam:RolePolicy"],
        check: kms_decrypt_via_service,
    },
    Rule {
        id: "efs-iam-authorization",
        title: "tasks mount EFS with their task role's IAM identity",
        fix: "set `authorization_config = { iam = \"ENABLED\" }` (with `transit_encryption = \"ENABLED\"`) in the volume's `efs_volume_configuration`, and grant the task role `elasticfilesystem:ClientMount`",
        types: &["ecs:TaskDefinition"],
        check: efs_iam_authorization,
    },
    Rule {
        id: "no-injected-secret-read",
        title: "a task's own role cannot read the secrets ECS injects into its containers",
        fix: "remove `secretsmanager:GetSecretValue` on that secret from the task role's policies: the execution role reads it and ECS passes the value to the container",
        types: &["ecs:TaskDefinition"],
        check: no_injected_secret_read,
    },
    Rule {
        id: "s3-kms-encryption",
        title: "every bucket encrypts its objects by default with a customer-managed KMS key",
        fix: "set `kms_key_id` to a `kms:Key` of this plan (e.g. `${state_key.arn}`)",
        types: &["s3:Bucket"],
        check: s3_kms_encryption,
    },
    Rule {
        id: "s3-public-access-block",
        title: "every bucket blocks public access (all four public access blocks)",
        fix: "set `block_public_access = true`",
        types: &["s3:Bucket"],
        check: s3_public_access_block,
    },
    Rule {
        id: "s3-tls-only",
        title: "every bucket refuses requests made without TLS",
        fix: "set `tls_only = true` (a bucket policy denying `s3:*` when `aws:SecureTransport` is false)",
        types: &["s3:Bucket"],
        check: s3_tls_only,
    },
    Rule {
        id: "s3-versioning",
        title: "every bucket keeps the versions of its objects",
        fix: "set `versioning = true`",
        types: &["s3:Bucket"],
        check: s3_versioning,
    },
];

/// Evaluates every rule; returns the outcomes and the problems of the rules not waived.
/// `vars` are the variables' values (defaults and `--var`): rules see `${var.NAME}` resolved.
pub fn evaluate(
    plan: &Plan,
    types: &BTreeMap<String, &'static TypeSpec>,
    vars: &BTreeMap<String, String>,
    allow: &BTreeSet<String>,
) -> (Vec<Outcome>, Vec<Problem>) {
    let ctx = Ctx { plan, vars };
    let mut outcomes = Vec::new();
    let mut problems = Vec::new();
    for rule in RULES {
        let waived = allow.contains(rule.id);
        let mut checked = 0;
        let mut violations = Vec::new();
        for res in plan.resources.iter().filter(|r| types.contains_key(&r.name)) {
            if !rule.types.contains(&res.type_name.as_str()) {
                continue;
            }
            checked += 1;
            let findings = (rule.check)(&ctx, res);
            if findings.is_empty() {
                continue;
            }
            violations.push(res.name.clone());
            if waived {
                continue;
            }
            for f in findings {
                problems.push(
                    Problem::new(
                        format!("policy/{}", rule.id),
                        f.span.unwrap_or(res.name_span),
                        format!("`{}`: {}", res.name, f.why),
                    )
                    .label(format!("violates `{}`: {}", rule.id, rule.title))
                    .help(format!("{}; or waive the rule with `--allow {}`", rule.fix, rule.id)),
                );
            }
        }
        let status = if violations.is_empty() {
            "passed"
        } else if waived {
            "waived"
        } else {
            "failed"
        };
        outcomes.push(Outcome { id: rule.id, title: rule.title, status, checked, violations });
    }
    (outcomes, problems)
}

/// One violation: why, and the value it is about (the resource's name when `None`).
struct Finding {
    why: String,
    span: Option<Span>,
}

impl Finding {
    fn at(node: &Node, why: impl Into<String>) -> Finding {
        Finding { why: why.into(), span: Some(node.span) }
    }
}

/// A finding on the resource's name, if there is one.
fn on_name(why: Option<String>) -> Vec<Finding> {
    why.map(|why| Finding { why, span: None }).into_iter().collect()
}

/// What the rules read the plan through: values with the variables resolved.
struct Ctx<'a> {
    plan: &'a Plan,
    vars: &'a BTreeMap<String, String>,
}

/// A string value as a rule sees it.
struct Text {
    /// The value with `${var.NAME}` resolved; `None` while it holds a reference known only at
    /// deploy (a resource attribute, the region or the account).
    value: Option<String>,
    /// The string as written.
    source: String,
}

impl Text {
    /// The value equals `word`, ignoring case and surrounding blanks; `None` if unknown.
    fn is(&self, word: &str) -> Option<bool> {
        self.value.as_deref().map(|v| v.trim().eq_ignore_ascii_case(word))
    }

    /// The known value, for comparisons (`None` if unknown).
    fn known(&self) -> Option<&str> {
        self.value.as_deref().map(str::trim)
    }

    /// The value for a message: as written, and what it resolves to if that differs.
    fn shown(&self) -> String {
        match &self.value {
            Some(v) if *v == self.source => format!("`{v}`"),
            Some(v) => format!("`{}` (= `{v}`)", self.source),
            None => format!("`{}` (known only at deploy)", self.source),
        }
    }
}

impl Ctx<'_> {
    /// A string value with its variables resolved; `None` if the value is not a string.
    fn text(&self, node: &Node) -> Option<Text> {
        let NodeKind::Str(t) = &node.kind else { return None };
        let mut value = Some(String::new());
        for part in &t.parts {
            match (part, value.as_mut()) {
                (_, None) => break,
                (Part::Lit(s), Some(v)) => v.push_str(s),
                (Part::Ref(Ref::Var(name), _), Some(v)) => match self.vars.get(name) {
                    Some(x) => v.push_str(x),
                    None => value = None,
                },
                (Part::Ref(..), Some(_)) => value = None,
            }
        }
        Some(Text { value, source: t.source_text() })
    }

    /// A string property's known value (`None` if absent, not a string or unknown).
    fn known(&self, node: Option<&Node>) -> Option<String> {
        node.and_then(|n| self.text(n)).and_then(|t| t.known().map(str::to_string))
    }

    /// A boolean as it will be sent: a TOML boolean, or a string that is `true` or `false`
    /// once resolved (a single reference keeps the type, and is parsed at deploy).
    fn flag(&self, node: Option<&Node>) -> Option<bool> {
        let node = node?;
        if let Some(b) = node.as_bool() {
            return Some(b);
        }
        match self.text(node)?.known()? {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// An integer as it will be sent (a TOML integer, or a string that resolves to one).
    fn int(&self, node: Option<&Node>) -> Option<i64> {
        let node = node?;
        if let NodeKind::Int(i) = node.kind {
            return Some(i);
        }
        self.text(node)?.known()?.parse().ok()
    }
}

/// The items of a list value (a lone value counts as a list of one).
fn items(node: Option<&Node>) -> Vec<&Node> {
    match node {
        Some(Node { kind: NodeKind::List(items), .. }) => items.iter().collect(),
        Some(n) => vec![n],
        None => Vec::new(),
    }
}

/// A field of a policy document table, its name compared without case.
fn field<'n>(node: &'n Node, name: &str) -> Option<&'n Node> {
    match &node.kind {
        NodeKind::Table(entries) => entries.iter().find(|(k, _)| k.name.eq_ignore_ascii_case(name)).map(|(_, v)| v),
        _ => None,
    }
}

/// The message and unknown-value wording shared by the rules that need a value to be safe.
fn unprovable(prop: &str, t: &Text, what: &str) -> String {
    format!("`{prop}` is {}: ironplan cannot prove {what}", t.shown())
}

// --- IAM policy documents ---

/// One statement of a policy document, with how to name it in a message.
struct Statement<'n> {
    node: &'n Node,
    label: String,
}

/// The statements of a policy document (`Statement` a table or a list of tables).
fn statements<'n>(ctx: &Ctx<'_>, doc: Option<&'n Node>, policy: &str) -> Vec<Statement<'n>> {
    let Some(doc) = doc else { return Vec::new() };
    items(field(doc, "Statement"))
        .into_iter()
        .filter(|s| matches!(s.kind, NodeKind::Table(_)))
        .enumerate()
        .map(|(i, node)| {
            let sid = ctx.known(field(node, "Sid")).filter(|s| !s.is_empty());
            let label = match sid {
                Some(sid) => format!("{policy} statement `{sid}`"),
                None => format!("{policy} statement {}", i + 1),
            };
            Statement { node, label }
        })
        .collect()
}

impl Statement<'_> {
    /// The statement allows (a `Deny` does not; an effect not known as `Deny` counts as `Allow`).
    fn allows(&self, ctx: &Ctx<'_>) -> bool {
        field(self.node, "Effect").and_then(|e| ctx.text(e)).and_then(|t| t.is("Deny")) != Some(true)
    }

    /// The known values of a field that holds a string or a list of strings, with their nodes.
    fn values<'n>(&'n self, ctx: &Ctx<'_>, name: &str) -> Vec<(&'n Node, String)> {
        items(field(self.node, name)).into_iter().filter_map(|n| Some((n, ctx.text(n)?.known()?.to_string()))).collect()
    }

    /// The statement grants `action` (lowercase), through an `Action` pattern, or through
    /// `NotAction` without a pattern that excludes it.
    fn grants(&self, ctx: &Ctx<'_>, action: &str) -> bool {
        let by_action = self.values(ctx, "Action").iter().any(|(_, p)| glob(&p.to_ascii_lowercase(), action));
        let by_not_action = field(self.node, "NotAction").is_some()
            && !self.values(ctx, "NotAction").iter().any(|(_, p)| glob(&p.to_ascii_lowercase(), action));
        by_action || by_not_action
    }

    /// The statement has a condition on one of `keys` (lowercase) that always applies: its
    /// operator is not `...IfExists` (which passes when the key is absent) and no value is `*`.
    fn has_condition(&self, ctx: &Ctx<'_>, keys: &[&str]) -> bool {
        let Some(NodeKind::Table(ops)) = field(self.node, "Condition").map(|c| &c.kind) else { return false };
        ops.iter().filter(|(op, _)| !op.name.to_ascii_lowercase().ends_with("ifexists")).any(|(_, block)| {
            let NodeKind::Table(entries) = &block.kind else { return false };
            entries.iter().any(|(k, v)| {
                keys.contains(&k.name.to_ascii_lowercase().as_str())
                    && !items(Some(v)).is_empty()
                    && items(Some(v)).iter().all(|n| ctx.text(n).and_then(|t| t.is("*")) != Some(true))
            })
        })
    }
}

/// Every permissions policy document of a role or role policy, with its name for messages.
fn permission_documents<'r>(ctx: &Ctx<'_>, res: &'r Resource) -> Vec<(&'r Node, String)> {
    match res.type_name.as_str() {
        "iam:RolePolicy" => res.prop("policy_document").map(|d| (d, "the policy's".to_string())).into_iter().collect(),
        "iam:Role" => items(res.prop("inline_policies"))
            .into_iter()
            .filter_map(|p| {
                let doc = p.get("policy_document")?;
                let name = ctx.known(p.get("policy_name")).unwrap_or_else(|| "?".into());
                Some((doc, format!("inline policy `{name}`")))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// IAM's wildcard match, `*` any run of characters and `?` one; both sides already lowercase.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// An `Action` pattern that matches every action of every service (`*`, `*:*`).
fn every_action(pattern: &str) -> bool {
    pattern.contains('*') && pattern.chars().all(|c| c == '*' || c == ':')
}

/// A `Resource` pattern that matches every resource: `*`, or an ARN pattern whose service,
/// region, account and resource are all `*` (`arn:aws:*:*:*:*`).
fn every_resource(pattern: &str) -> bool {
    let rest = match pattern.strip_prefix("arn:") {
        Some(arn) => arn.split_once(':').map_or("", |(_, r)| r),
        None => pattern,
    };
    rest.contains('*') && rest.chars().all(|c| c == '*' || c == ':')
}

// --- the rules ---

/// The key value names a customer-managed key: a reference to a `kms:Key` (or its alias) in
/// this plan, or a key ARN (written, or in a variable). AWS-managed keys (`alias/aws/...`) do not count.
fn is_cmk(ctx: &Ctx<'_>, node: Option<&Node>) -> bool {
    let Some(node) = node else { return false };
    let NodeKind::Str(t) = &node.kind else { return false };
    if let Some(Ref::Resource { name, .. }) = t.as_single_ref() {
        return ctx.plan.resource(name).is_some_and(|r| matches!(r.type_name.as_str(), "kms:Key" | "kms:Alias"));
    }
    ctx.known(Some(node)).is_some_and(|s| s.starts_with("arn:aws") && s.contains(":key/"))
}

fn cmk_at_rest(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    let (flag, key): (Option<(&str, Option<&str>)>, &str) = match res.type_name.as_str() {
        "kinesis:Stream" => (Some(("encryption_type", Some("KMS"))), "key_id"),
        "rds:DbCluster" => (Some(("storage_encrypted", None)), "kms_key_id"),
        "elasticache:ReplicationGroup" => (Some(("at_rest_encryption_enabled", None)), "kms_key_id"),
        "efs:FileSystem" => (Some(("encrypted", None)), "kms_key_id"),
        "logs:LogGroup" => (None, "kms_key_id"),
        _ => return Vec::new(),
    };
    if let Some((prop, want)) = flag {
        let on = match want {
            None => ctx.flag(res.prop(prop)) == Some(true),
            Some(v) => res.prop(prop).and_then(|n| ctx.text(n)).and_then(|t| t.is(v)) == Some(true),
        };
        if !on {
            let expect = want.map_or("true".to_string(), |v| format!("\"{v}\""));
            return on_name(Some(format!("encryption at rest is off (`{prop} = {expect}` is missing)")));
        }
    }
    if !is_cmk(ctx, res.prop(key)) {
        return on_name(Some(format!("`{key}` does not name a customer-managed KMS key of this plan")));
    }
    Vec::new()
}

fn redis_transit(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    on_name(
        (ctx.flag(res.prop("transit_encryption_enabled")) != Some(true)).then(|| "transit encryption is off".into()),
    )
}

/// The EFS volumes of a task definition: (volume name, its `efs_volume_configuration`).
fn efs_volumes<'r>(ctx: &Ctx<'_>, res: &'r Resource) -> Vec<(String, &'r Node)> {
    items(res.prop("volumes"))
        .into_iter()
        .filter_map(|v| {
            Some((ctx.known(v.get("name")).unwrap_or_else(|| "?".into()), v.get("efs_volume_configuration")?))
        })
        .collect()
}

fn efs_transit(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    let plain = efs_volumes(ctx, res).into_iter().find(|(_, efs)| {
        efs.get("transit_encryption").and_then(|n| ctx.text(n)).and_then(|t| t.is("ENABLED")) != Some(true)
    });
    on_name(plain.map(|(name, _)| format!("EFS volume `{name}` is mounted without transit encryption")))
}

fn no_public_db(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    let node = res.prop("publicly_accessible");
    on_name(match (ctx.flag(node), node) {
        (Some(false), _) => None,
        (Some(true), _) => Some("the instance is publicly accessible".into()),
        (None, None) => Some("`publicly_accessible` is not set, and AWS's default depends on the subnets".into()),
        (None, Some(n)) => Some(match ctx.text(n) {
            Some(t) => unprovable("publicly_accessible", &t, "the instance is private"),
            None => "`publicly_accessible` is not a boolean".into(),
        }),
    })
}

fn no_public_task_ip(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    let Some(node) = res
        .prop("network_configuration")
        .and_then(|n| n.get("awsvpc_configuration"))
        .and_then(|n| n.get("assign_public_ip"))
    else {
        return Vec::new(); // AWS's default is DISABLED
    };
    let Some(t) = ctx.text(node) else { return Vec::new() };
    match t.is("ENABLED") {
        Some(false) => Vec::new(),
        Some(true) if t.source == "ENABLED" => on_name(Some("tasks are given public IPs".into())),
        Some(true) => {
            vec![Finding::at(node, format!("tasks are given public IPs: `assign_public_ip` is {}", t.shown()))]
        }
        None => vec![Finding::at(node, unprovable("assign_public_ip", &t, "tasks get no public IP"))],
    }
}

fn vpc_flow_logs(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    let covered = ctx.plan.resources.iter().filter(|r| r.type_name == "ec2:FlowLog").any(|fl| {
        fl.prop("resource_ids")
            .map(|n| n.refs())
            .unwrap_or_default()
            .iter()
            .any(|(r, _)| matches!(r, Ref::Resource { name, .. } if *name == res.name))
    });
    on_name((!covered).then(|| "no `ec2:FlowLog` covers this VPC".into()))
}

fn log_retention(_: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    on_name(res.prop("retention_in_days").is_none().then(|| "the log group keeps logs forever, unmanaged".into()))
}

fn api_authorization(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    let Some(node) = res.prop("authorization_type") else {
        return on_name(Some("the method has authorization `NONE`".into()));
    };
    let Some(t) = ctx.text(node) else { return Vec::new() };
    match t.is("NONE") {
        Some(false) => Vec::new(),
        Some(true) if t.source == "NONE" => on_name(Some("the method has authorization `NONE`".into())),
        Some(true) => {
            vec![Finding::at(
                node,
                format!("the method has authorization {}, which is `NONE`: open to anyone", t.shown()),
            )]
        }
        None => vec![Finding::at(node, unprovable("authorization_type", &t, "the method requires authorization"))],
    }
}

fn db_password_managed(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    on_name(
        (ctx.flag(res.prop("manage_master_user_password")) != Some(true))
            .then(|| "the master password is not managed by RDS: it would pass through the tool".into()),
    )
}

/// A range that spans the internet: IPv4 wider than a /8 (every such range holds public
/// addresses; `0.0.0.0/0` and its halves), IPv6 wider than a /16 outside `fc00::/7` (private).
fn internet_wide(cidr: &str) -> bool {
    let Some((addr, len)) = cidr.split_once('/') else { return false };
    let (Ok(addr), Ok(len)) = (addr.trim().parse::<IpAddr>(), len.trim().parse::<u8>()) else { return false };
    match addr {
        IpAddr::V4(_) => len < 8,
        IpAddr::V6(a) => len < 16 && !(len >= 7 && a.segments()[0] & 0xfe00 == 0xfc00),
    }
}

fn no_internet_ingress(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, rule) in items(res.prop("ingress")).into_iter().enumerate() {
        let sources = items(rule.get("ip_ranges"))
            .into_iter()
            .filter_map(|r| r.get("cidr_ip"))
            .chain(items(rule.get("ipv6_ranges")).into_iter().filter_map(|r| r.get("cidr_ipv6")));
        for cidr in sources {
            let Some(t) = ctx.text(cidr) else { continue };
            if !t.known().is_some_and(internet_wide) {
                continue;
            }
            if let Some(what) = not_https_only(ctx, rule) {
                out.push(Finding::at(cidr, format!("ingress rule {} admits {} on {what}", i + 1, t.shown())));
            }
        }
    }
    out
}

/// What an ingress rule admits, unless it is exactly TCP 443.
fn not_https_only(ctx: &Ctx<'_>, rule: &Node) -> Option<String> {
    let Some(proto) = rule.get("ip_protocol").and_then(|n| ctx.text(n)) else {
        return Some("every protocol (no `ip_protocol`)".into());
    };
    let Some(p) = proto.known().map(str::to_ascii_lowercase) else {
        return Some(format!("protocol {}, which ironplan cannot prove is TCP", proto.shown()));
    };
    let name = match p.as_str() {
        "-1" | "all" => return Some(format!("every protocol and port (`ip_protocol = \"{p}\"`)")),
        "tcp" | "6" => "TCP",
        "udp" | "17" => "UDP",
        "icmp" | "1" => return Some("ICMP".into()),
        other => return Some(format!("protocol `{other}`")),
    };
    let (from, to) = (ctx.int(rule.get("from_port")), ctx.int(rule.get("to_port")));
    match (from, to) {
        (Some(443), Some(443)) if name == "TCP" => None,
        (Some(a), Some(b)) if a == b => Some(format!("{name} port {a}")),
        (Some(a), Some(b)) => Some(format!("{name} ports {a}-{b}")),
        _ => Some(format!("{name} ports ironplan cannot know before deploy")),
    }
}

fn no_wildcard_trust(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in statements(ctx, res.prop("assume_role_policy_document"), "trust policy") {
        if !s.allows(ctx) {
            continue;
        }
        if let Some(np) = field(s.node, "NotPrincipal") {
            out.push(Finding::at(
                np,
                format!("{} lets every principal but those in `NotPrincipal` assume the role", s.label),
            ));
        }
        let Some(principal) = field(s.node, "Principal") else { continue };
        if ctx.text(principal).and_then(|t| t.is("*")) == Some(true) {
            out.push(Finding::at(
                principal,
                format!("{} lets any principal (`Principal = \"*\"`) assume the role", s.label),
            ));
        }
        if let NodeKind::Table(entries) = &principal.kind {
            for (kind, value) in entries {
                for v in items(Some(value)) {
                    if ctx.text(v).and_then(|t| t.is("*")) == Some(true) {
                        out.push(Finding::at(
                            v,
                            format!(
                                "{} lets any principal (`{} = \"*\"`: every account) assume the role",
                                s.label, kind.name
                            ),
                        ));
                    }
                }
            }
        }
    }
    out
}

/// The AWS managed `AdministratorAccess` policy, in any partition.
fn is_admin_arn(arn: &str) -> bool {
    let arn = arn.to_ascii_lowercase();
    arn.strip_prefix("arn:")
        .and_then(|a| a.split_once(':'))
        .is_some_and(|(_, rest)| rest == "iam::aws:policy/administratoraccess")
}

fn no_admin_policy(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    let mut out = Vec::new();
    for arn in items(res.prop("policy_arns")) {
        if let Some(t) = ctx.text(arn)
            && t.known().is_some_and(is_admin_arn)
        {
            out.push(Finding::at(
                arn,
                format!("the role has the AWS managed policy {}: every action on every resource", t.shown()),
            ));
        }
    }
    for (doc, policy) in permission_documents(ctx, res) {
        for s in statements(ctx, Some(doc), &policy) {
            if !s.allows(ctx) {
                continue;
            }
            if let Some((a, r)) = admin_grant(ctx, &s) {
                out.push(Finding::at(s.node, format!("{} allows every action ({a}) on every resource ({r})", s.label)));
            }
        }
    }
    out
}

/// How a statement grants every action on every resource, if it does: what gives every
/// action (`Action = "*"`, `NotAction`) and what gives every resource.
fn admin_grant(ctx: &Ctx<'_>, s: &Statement<'_>) -> Option<(String, String)> {
    let all_actions = s
        .values(ctx, "Action")
        .iter()
        .find(|(_, a)| every_action(a))
        .map(|(_, a)| format!("`Action = \"{a}\"`"))
        .or_else(|| field(s.node, "NotAction").map(|_| "`NotAction`".to_string()))?;
    let all_resources = s
        .values(ctx, "Resource")
        .iter()
        .find(|(_, r)| every_resource(r))
        .map(|(_, r)| format!("`Resource = \"{r}\"`"))
        .or_else(|| field(s.node, "NotResource").map(|_| "`NotResource`".to_string()))?;
    Some((all_actions, all_resources))
}

/// Service principals that put `aws:SourceAccount` and `aws:SourceArn` in the request when they
/// assume a role, as their documentation says (a condition on a service that does not would
/// make the role unusable). API Gateway's CloudWatch role is not among them: its documentation
/// gives no source context for the account-level role.
pub const SOURCE_CONTEXT_SERVICES: &[&str] =
    &["ecs-tasks.amazonaws.com", "vpc-flow-logs.amazonaws.com", "monitoring.rds.amazonaws.com"];

/// Condition keys that tie a service's use of a role to this account's resources.
const SOURCE_KEYS: &[&str] = &["aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths"];

fn trust_source_account(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in statements(ctx, res.prop("assume_role_policy_document"), "trust policy") {
        if !s.allows(ctx) || s.has_condition(ctx, SOURCE_KEYS) {
            continue;
        }
        let services = field(s.node, "Principal").and_then(|p| field(p, "Service"));
        for v in items(services) {
            if let Some(svc) =
                ctx.known(Some(v)).filter(|svc| SOURCE_CONTEXT_SERVICES.iter().any(|k| svc.eq_ignore_ascii_case(k)))
            {
                out.push(Finding::at(
                    v,
                    format!(
                        "{} lets `{svc}` assume the role on behalf of any account (no `aws:SourceAccount` or `aws:SourceArn` condition: a confused deputy)",
                        s.label
                    ),
                ));
            }
        }
    }
    out
}

fn kms_decrypt_via_service(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    let mut out = Vec::new();
    for (doc, policy) in permission_documents(ctx, res) {
        for s in statements(ctx, Some(doc), &policy) {
            // Every action on every resource is `no-admin-policy`'s problem: one problem per statement.
            if s.allows(ctx)
                && s.grants(ctx, "kms:decrypt")
                && admin_grant(ctx, &s).is_none()
                && !s.has_condition(ctx, &["kms:viaservice"])
            {
                out.push(Finding::at(
                    s.node,
                    format!("{} allows `kms:Decrypt` without a `kms:ViaService` condition: the role can decrypt anything the key protects, directly", s.label),
                ));
            }
        }
    }
    out
}

fn efs_iam_authorization(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, efs) in efs_volumes(ctx, res) {
        let iam = efs.get("authorization_config").and_then(|a| a.get("iam"));
        let t = iam.and_then(|n| ctx.text(n));
        let why = match t.as_ref().map(|t| (t.is("ENABLED"), t)) {
            Some((Some(true), _)) => continue,
            None => format!(
                "EFS volume `{name}` is mounted without IAM authorization (no `authorization_config.iam`): the mount ignores the task role's `elasticfilesystem:` permissions"
            ),
            Some((Some(false), t)) => format!(
                "EFS volume `{name}` is mounted without IAM authorization (`authorization_config.iam` is {}): the mount ignores the task role's `elasticfilesystem:` permissions",
                t.shown()
            ),
            Some((None, t)) => format!(
                "EFS volume `{name}`: {}",
                unprovable("authorization_config.iam", t, "the mount uses the task role")
            ),
        };
        out.push(Finding::at(iam.unwrap_or(efs), why));
    }
    out
}

/// The role a `*_role_arn` property names, if it is a role of this plan.
fn plan_role<'p>(ctx: &Ctx<'p>, node: Option<&Node>) -> Option<&'p Resource> {
    let NodeKind::Str(t) = &node?.kind else { return None };
    let Some(Ref::Resource { name, .. }) = t.as_single_ref() else { return None };
    ctx.plan.resource(name).filter(|r| r.type_name == "iam:Role")
}

/// Every permissions policy of a plan role: its inline policies and the `iam:RolePolicy`
/// resources put on it (by reference, or by its literal name).
fn role_documents<'p>(ctx: &Ctx<'p>, role: &'p Resource) -> Vec<(&'p Node, String)> {
    let role_name = ctx.known(role.prop("role_name"));
    let mut docs: Vec<(&Node, String)> =
        permission_documents(ctx, role).into_iter().map(|(d, p)| (d, format!("`{}` {p}", role.name))).collect();
    for rp in ctx.plan.resources.iter().filter(|r| r.type_name == "iam:RolePolicy") {
        let Some(node) = rp.prop("role_name") else { continue };
        let by_ref = node.refs().iter().any(|(r, _)| matches!(r, Ref::Resource { name, .. } if *name == role.name));
        let by_name = role_name.is_some() && ctx.known(Some(node)) == role_name;
        if by_ref || by_name {
            docs.extend(rp.prop("policy_document").map(|d| (d, format!("`{}`", rp.name))));
        }
    }
    docs
}

fn no_injected_secret_read(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    let Some(role) = plan_role(ctx, res.prop("task_role_arn")) else { return Vec::new() };
    let secrets: Vec<(String, Text)> = items(res.prop("container_definitions"))
        .into_iter()
        .flat_map(|c| {
            let container = ctx.known(c.get("name")).unwrap_or_else(|| "?".into());
            items(c.get("secrets")).into_iter().filter_map(move |s| Some((container.clone(), s.get("value_from")?)))
        })
        .filter_map(|(c, n)| Some((c, ctx.text(n)?)))
        .collect();
    let mut out = Vec::new();
    for (doc, policy) in role_documents(ctx, role) {
        for s in statements(ctx, Some(doc), &policy) {
            if !s.allows(ctx) || !s.grants(ctx, "secretsmanager:getsecretvalue") {
                continue;
            }
            let resources: Vec<Text> =
                items(field(s.node, "Resource")).into_iter().filter_map(|n| ctx.text(n)).collect();
            for (container, secret) in &secrets {
                let covered = field(s.node, "NotResource").is_some()
                    || resources.iter().any(|r| {
                        r.source == secret.source
                            || r.known().is_some_and(|p| {
                                every_resource(p)
                                    || secret
                                        .known()
                                        .is_some_and(|v| glob(&p.to_ascii_lowercase(), &v.to_ascii_lowercase()))
                            })
                    });
                if covered {
                    out.push(Finding {
                        why: format!(
                            "the task role `{}` can read the secret `{}` that ECS injects into container `{container}` ({} allows `secretsmanager:GetSecretValue` on it): only the execution role needs it",
                            role.name,
                            secret.source,
                            s.label
                        ),
                        span: None,
                    });
                }
            }
        }
    }
    out
}

fn s3_kms_encryption(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    on_name((!is_cmk(ctx, res.prop("kms_key_id"))).then(|| {
        "`kms_key_id` does not name a customer-managed KMS key of this plan: objects would be encrypted with S3's own key"
            .into()
    }))
}

/// A bucket flag the rule needs to be `true`: off, absent, or not provably on.
fn s3_flag(ctx: &Ctx<'_>, res: &Resource, prop: &str, what: &str) -> Vec<Finding> {
    let node = res.prop(prop);
    match (ctx.flag(node), node) {
        (Some(true), _) => Vec::new(),
        (Some(false), _) => on_name(Some(format!("`{prop} = false`: {what}"))),
        (None, None) => on_name(Some(format!("`{prop}` is not set: {what}"))),
        (None, Some(n)) => match ctx.text(n) {
            Some(t) => vec![Finding::at(n, unprovable(prop, &t, "it is on"))],
            None => on_name(Some(format!("`{prop}` is not a boolean"))),
        },
    }
}

fn s3_public_access_block(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    s3_flag(ctx, res, "block_public_access", "a policy or an ACL could make objects public")
}

fn s3_tls_only(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    s3_flag(ctx, res, "tls_only", "the bucket accepts requests without TLS")
}

fn s3_versioning(ctx: &Ctx<'_>, res: &Resource) -> Vec<Finding> {
    s3_flag(ctx, res, "versioning", "an overwrite or a delete loses the object for good")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The policy problems of a plan made of `resources` (TOML), as (rule ID, message), with
    /// `vars` as the variables' values.
    fn problems(resources: &str, vars: &[(&str, &str)]) -> Vec<(String, String)> {
        let text = format!("[plan]\nname = \"t\"\n{resources}");
        let plan = Plan::parse(std::path::Path::new("t.toml"), &text).expect("plan parses");
        let types =
            plan.resources.iter().filter_map(|r| Some((r.name.clone(), crate::schema::find(&r.type_name)?))).collect();
        let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let (_, problems) = evaluate(&plan, &types, &vars, &BTreeSet::new());
        problems.into_iter().map(|p| (p.code.trim_start_matches("policy/").to_string(), p.message)).collect()
    }

    /// The rule IDs `resources` violates, sorted, each once.
    fn violated(resources: &str, vars: &[(&str, &str)]) -> Vec<String> {
        let mut ids: Vec<String> = problems(resources, vars).into_iter().map(|(id, _)| id).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    fn service(ip: &str) -> String {
        format!(
            r#"[resources.svc]
type = "ecs:Service"
cluster = "c"
service_name = "s"
task_definition = "td:1"
network_configuration = {{ awsvpc_configuration = {{ subnets = ["subnet-1"], assign_public_ip = {ip} }} }}
"#
        )
    }

    #[test]
    fn a_public_task_ip_is_seen_through_variables_and_in_any_case() {
        for ip in [r#""ENABLED""#, r#""enabled""#, r#""Enabled ""#, r#""${var.ip}""#] {
            assert_eq!(violated(&service(ip), &[("ip", "ENABLED")]), ["no-public-task-ip"], "{ip}");
        }
        assert_eq!(violated(&service(r#""${var.ip}""#), &[("ip", "enabled")]), ["no-public-task-ip"]);
        assert!(violated(&service(r#""${var.ip}""#), &[("ip", "DISABLED")]).is_empty());
        assert!(violated(&service(r#""disabled""#), &[]).is_empty());
        let via_var = problems(&service(r#""${var.ip}""#), &[("ip", "ENABLED")]);
        assert!(via_var[0].1.contains("`${var.ip}` (= `ENABLED`)"), "{via_var:?}");
        // A resource attribute is known only at deploy: not provably DISABLED.
        let unknown = problems(&service(r#""${other.mode}""#), &[]);
        assert_eq!(unknown.len(), 1);
        assert!(unknown[0].1.contains("cannot prove tasks get no public IP"), "{unknown:?}");
    }

    fn bucket(settings: &str) -> String {
        format!(
            "[resources.key]\ntype = \"kms:Key\"\n[resources.b]\ntype = \"s3:Bucket\"\nbucket = \"b-dev\"\n{settings}\n"
        )
    }

    /// A bucket passes the four S3 rules only with each setting provably on; each one off (or
    /// left out, or known only at deploy) fails its own rule alone.
    #[test]
    fn a_bucket_needs_every_s3_setting_on() {
        let on = "versioning = true\nkms_key_id = \"${key.arn}\"\nblock_public_access = true\ntls_only = true";
        assert!(violated(&bucket(on), &[]).is_empty(), "{:?}", problems(&bucket(on), &[]));
        assert!(violated(&bucket(&on.replace("true", "\"${var.on}\"")), &[("on", "true")]).is_empty());
        for (setting, rule) in [
            ("versioning = true", "s3-versioning"),
            ("kms_key_id = \"${key.arn}\"", "s3-kms-encryption"),
            ("block_public_access = true", "s3-public-access-block"),
            ("tls_only = true", "s3-tls-only"),
        ] {
            assert_eq!(violated(&bucket(&on.replace(setting, "")), &[]), [rule], "{setting} left out");
            let off =
                on.replace(setting, &setting.replace("true", "false").replace("\"${key.arn}\"", "\"alias/aws/s3\""));
            assert_eq!(violated(&bucket(&off), &[]), [rule], "{setting} off");
        }
        let unknown = on.replace("tls_only = true", "tls_only = \"${other.flag}\"");
        let got = problems(&bucket(&unknown), &[]);
        assert!(got.len() == 1 && got[0].1.contains("cannot prove it is on"), "{got:?}");
    }

    fn method(auth: &str) -> String {
        format!(
            "[resources.m]\ntype = \"apigateway:Method\"\nrest_api_id = \"a\"\nresource_id = \"r\"\nhttp_method = \"GET\"\nauthorization_type = {auth}\n"
        )
    }

    #[test]
    fn an_unauthenticated_method_is_caught_in_any_case_and_through_variables() {
        for auth in [r#""NONE""#, r#""none""#, r#""None""#, r#""${var.auth}""#, r#""${other.auth}""#] {
            assert_eq!(violated(&method(auth), &[("auth", "none")]), ["api-authorization"], "{auth}");
        }
        for auth in [r#""AWS_IAM""#, r#""COGNITO_USER_POOLS""#, r#""${var.auth}""#] {
            assert!(violated(&method(auth), &[("auth", "CUSTOM")]).is_empty(), "{auth}");
        }
    }

    fn group(ingress: &str) -> String {
        format!(
            "[resources.sg]\ntype = \"ec2:SecurityGroup\"\ngroup_name = \"g\"\ndescription = \"d\"\ningress = [{ingress}]\n"
        )
    }

    #[test]
    fn ingress_from_the_internet_is_refused_except_https() {
        let open = [
            r#"{ ip_protocol = "-1", ip_ranges = [{ cidr_ip = "0.0.0.0/0" }] }"#,
            r#"{ ip_protocol = "all", ip_ranges = [{ cidr_ip = "0.0.0.0/0" }] }"#,
            r#"{ ip_protocol = "ALL", ip_ranges = [{ cidr_ip = "0.0.0.0/0" }] }"#,
            r#"{ ip_protocol = "tcp", from_port = 0, to_port = 65535, ip_ranges = [{ cidr_ip = "0.0.0.0/0" }] }"#,
            r#"{ ip_protocol = "tcp", from_port = 22, to_port = 22, ip_ranges = [{ cidr_ip = "0.0.0.0/0" }] }"#,
            r#"{ ip_protocol = "tcp", from_port = 443, to_port = 444, ip_ranges = [{ cidr_ip = "0.0.0.0/0" }] }"#,
            r#"{ ip_protocol = "udp", from_port = 443, to_port = 443, ip_ranges = [{ cidr_ip = "0.0.0.0/0" }] }"#,
            r#"{ ip_protocol = "icmp", from_port = -1, to_port = -1, ip_ranges = [{ cidr_ip = "0.0.0.0/0" }] }"#,
            r#"{ ip_protocol = "tcp", from_port = 22, to_port = 22, ip_ranges = [{ cidr_ip = "0.0.0.0/1" }] }"#,
            r#"{ ip_protocol = "tcp", from_port = 22, to_port = 22, ip_ranges = [{ cidr_ip = "10.0.0.0/8" }, { cidr_ip = "::/0" }] }"#,
            r#"{ ip_protocol = "-1", ip_ranges = [{ cidr_ip = "${var.cidr}" }] }"#,
            r#"{ ip_protocol = "${var.proto}", ip_ranges = [{ cidr_ip = "0.0.0.0/0" }] }"#,
            r#"{ ip_protocol = "tcp", from_port = "${port.value}", to_port = 443, ip_ranges = [{ cidr_ip = "0.0.0.0/0" }] }"#,
        ];
        for rule in open {
            let vars = [("cidr", "0.0.0.0/0"), ("proto", "-1")];
            assert_eq!(violated(&group(rule), &vars), ["no-internet-ingress"], "{rule}");
        }
        let fine = [
            r#"{ ip_protocol = "tcp", from_port = 443, to_port = 443, ip_ranges = [{ cidr_ip = "0.0.0.0/0" }] }"#,
            r#"{ ip_protocol = "TCP", from_port = 443, to_port = 443, ip_ranges = [{ cidr_ip = "0.0.0.0/0" }] }"#,
            r#"{ ip_protocol = "6", from_port = "${var.port}", to_port = "${var.port}", ip_ranges = [{ cidr_ip = "0.0.0.0/0" }] }"#,
            r#"{ ip_protocol = "-1", ip_ranges = [{ cidr_ip = "10.0.0.0/8" }, { cidr_ip = "${var.cidr}" }] }"#,
            r#"{ ip_protocol = "-1", user_id_group_pairs = [{ group_id = "${other.id}" }] }"#,
        ];
        for rule in fine {
            assert!(violated(&group(rule), &[("port", "443"), ("cidr", "192.168.0.0/16")]).is_empty(), "{rule}");
        }
        let both = problems(&group(&format!("{}, {}", open[0], open[4])), &[]);
        assert_eq!(both.len(), 2, "one problem per open rule: {both:?}");
        assert!(both[1].1.contains("ingress rule 2 admits `0.0.0.0/0` on TCP port 22"), "{both:?}");
    }

    #[test]
    fn internet_wide_ranges() {
        for cidr in ["0.0.0.0/0", "1.2.3.4/0", "0.0.0.0/1", "128.0.0.0/1", "::/0", "2000::/3", " 0.0.0.0/0 "] {
            assert!(internet_wide(cidr), "{cidr}");
        }
        for cidr in ["10.0.0.0/8", "10.0.0.0/16", "203.0.113.7/32", "fc00::/7", "fd00::/8", "0.0.0.0", "nonsense/0"] {
            assert!(!internet_wide(cidr), "{cidr}");
        }
    }

    fn role(trust_statement: &str, rest: &str) -> String {
        format!(
            "[resources.r]\ntype = \"iam:Role\"\nrole_name = \"r\"\nassume_role_policy_document = {{ Version = \"2012-10-17\", Statement = {trust_statement} }}\n{rest}"
        )
    }

    #[test]
    fn a_trust_policy_open_to_any_principal_is_refused_in_every_form() {
        let open = [
            r#"[{ Effect = "Allow", Principal = "*", Action = "sts:AssumeRole" }]"#,
            r#"[{ Effect = "Allow", Principal = { AWS = "*" }, Action = "sts:AssumeRole" }]"#,
            r#"[{ Effect = "Allow", Principal = { AWS = ["arn:aws:iam::111122223333:root", "*"] }, Action = "sts:AssumeRole" }]"#,
            r#"[{ Effect = "allow", Principal = { aws = "*" }, Action = "sts:AssumeRole" }]"#,
            r#"[{ Effect = "Allow", Principal = { Federated = "*" }, Action = "sts:AssumeRoleWithWebIdentity" }]"#,
            r#"{ Effect = "Allow", Principal = { AWS = "${var.who}" }, Action = "sts:AssumeRole" }"#,
            r#"[{ Effect = "Allow", NotPrincipal = { AWS = "arn:aws:iam::111122223333:root" }, Action = "sts:AssumeRole" }]"#,
        ];
        for s in open {
            assert_eq!(violated(&role(s, ""), &[("who", "*")]), ["no-wildcard-trust"], "{s}");
        }
        let fine = [
            r#"[{ Effect = "Deny", Principal = "*", Action = "sts:AssumeRole" }]"#,
            r#"[{ Effect = "deny", Principal = { AWS = "*" }, Action = "sts:AssumeRole" }]"#,
            r#"[{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::${aws.account_id}:root" }, Action = "sts:AssumeRole" }]"#,
            r#"[{ Effect = "Allow", Principal = { AWS = "${other.arn}" }, Action = "sts:AssumeRole" }]"#,
        ];
        for s in fine {
            assert!(violated(&role(s, ""), &[]).is_empty(), "{s}");
        }
    }

    const TRUST_ACCOUNT: &str = r#"[{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::${aws.account_id}:root" }, Action = "sts:AssumeRole" }]"#;

    fn inline(statements: &str) -> String {
        format!(
            "inline_policies = [{{ policy_name = \"p\", policy_document = {{ Version = \"2012-10-17\", Statement = {statements} }} }}]\n"
        )
    }

    #[test]
    fn every_action_on_every_resource_is_refused_managed_or_inline() {
        let admin = [
            r#"policy_arns = ["arn:aws:iam::aws:policy/AdministratorAccess"]"#.to_string(),
            r#"policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/administratoraccess"]"#
                .to_string(),
            r#"policy_arns = ["arn:aws-us-gov:iam::aws:policy/AdministratorAccess"]"#.to_string(),
            r#"policy_arns = ["${var.policy}"]"#.to_string(),
            inline(r#"[{ Effect = "Allow", Action = "*", Resource = "*" }]"#),
            inline(r#"{ Effect = "Allow", Action = "*", Resource = "*" }"#),
            inline(r#"[{ Effect = "Allow", Action = ["s3:GetObject", "*"], Resource = ["*"] }]"#),
            inline(r#"[{ Effect = "Allow", Action = "*:*", Resource = "arn:aws:*:*:*:*" }]"#),
            inline(r#"[{ Effect = "Allow", NotAction = "iam:*", Resource = "*" }]"#),
            inline(r#"[{ Effect = "Allow", Action = "${var.action}", Resource = "*" }]"#),
        ];
        let vars = [("policy", "arn:aws:iam::aws:policy/AdministratorAccess"), ("action", "*")];
        for rest in &admin {
            assert_eq!(violated(&role(TRUST_ACCOUNT, rest), &vars), ["no-admin-policy"], "{rest}");
        }
        let fine = [
            r#"policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]"#.to_string(),
            r#"policy_arns = ["arn:aws:iam::111122223333:policy/AdministratorAccess"]"#.to_string(),
            inline(r#"[{ Effect = "Allow", Action = "*", Resource = "${stream.arn}" }]"#),
            inline(r#"[{ Effect = "Allow", Action = "kinesis:*", Resource = "*" }]"#),
            inline(r#"[{ Effect = "Deny", Action = "*", Resource = "*" }]"#),
        ];
        for rest in &fine {
            let ids = violated(&role(TRUST_ACCOUNT, rest), &[]);
            assert!(!ids.contains(&"no-admin-policy".to_string()), "{rest}: {ids:?}");
        }
        let policy = r#"[resources.p]
type = "iam:RolePolicy"
role_name = "r"
policy_name = "p"
policy_document = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["*"], Resource = "*" }] }
"#;
        assert_eq!(violated(policy, &[]), ["no-admin-policy"]);
    }

    fn service_trust(condition: &str) -> String {
        let condition = if condition.is_empty() { String::new() } else { format!(", Condition = {condition}") };
        format!(
            r#"[{{ Effect = "Allow", Principal = {{ Service = "ecs-tasks.amazonaws.com" }}, Action = "sts:AssumeRole"{condition} }}]"#
        )
    }

    #[test]
    fn a_service_trust_names_the_source_account_where_the_service_supports_it() {
        let unguarded = [
            service_trust(""),
            service_trust(r#"{ StringEqualsIfExists = { "aws:SourceAccount" = "${aws.account_id}" } }"#),
            service_trust(r#"{ StringLike = { "aws:SourceAccount" = "*" } }"#),
            service_trust(r#"{ StringEquals = { "aws:PrincipalAccount" = "${aws.account_id}" } }"#),
            r#"[{ Effect = "Allow", Principal = { Service = ["ECS-TASKS.amazonaws.com"] }, Action = "sts:AssumeRole" }]"#.into(),
            r#"[{ Effect = "Allow", Principal = { Service = "vpc-flow-logs.amazonaws.com" }, Action = "sts:AssumeRole" }]"#.into(),
        ];
        for s in &unguarded {
            assert_eq!(violated(&role(s, ""), &[]), ["trust-source-account"], "{s}");
        }
        let guarded = [
            service_trust(r#"{ StringEquals = { "aws:SourceAccount" = "${aws.account_id}" } }"#),
            service_trust(r#"{ StringEquals = { "AWS:SourceAccount" = "${var.account}" } }"#),
            service_trust(r#"{ ArnLike = { "aws:SourceArn" = "arn:aws:ecs:${aws.region}:${aws.account_id}:*" } }"#),
            // A service that documents no source context is not asked for one.
            r#"[{ Effect = "Allow", Principal = { Service = "apigateway.amazonaws.com" }, Action = "sts:AssumeRole" }]"#.into(),
        ];
        for s in &guarded {
            assert!(violated(&role(s, ""), &[("account", "111122223333")]).is_empty(), "{s}");
        }
    }

    #[test]
    fn kms_decrypt_is_allowed_only_through_a_named_service() {
        let direct = [
            r#"[{ Effect = "Allow", Action = "kms:Decrypt", Resource = "${key.arn}" }]"#,
            r#"[{ Effect = "Allow", Action = ["kinesis:GetRecords", "KMS:decrypt"], Resource = "${key.arn}" }]"#,
            r#"[{ Effect = "Allow", Action = "kms:*", Resource = "${key.arn}" }]"#,
            r#"[{ Effect = "Allow", Action = "kms:Decrypt*", Resource = "${key.arn}" }]"#,
            r#"[{ Effect = "Allow", NotAction = "s3:*", Resource = "${key.arn}" }]"#,
            r#"[{ Effect = "Allow", Action = "*", Resource = "${key.arn}" }]"#,
            r#"[{ Effect = "Allow", Action = "kms:Decrypt", Resource = "${key.arn}", Condition = { StringEqualsIfExists = { "kms:ViaService" = "kinesis.us-east-1.amazonaws.com" } } }]"#,
        ];
        for s in direct {
            assert_eq!(violated(&role(TRUST_ACCOUNT, &inline(s)), &[]), ["kms-decrypt-via-service"], "{s}");
        }
        let fine = [
            r#"[{ Effect = "Allow", Action = "kms:Decrypt", Resource = "${key.arn}", Condition = { StringEquals = { "kms:ViaService" = "kinesis.${aws.region}.amazonaws.com" } } }]"#,
            r#"[{ Effect = "Allow", Action = "kms:Decrypt", Resource = "${key.arn}", Condition = { StringEquals = { "KMS:ViaService" = ["secretsmanager.${aws.region}.amazonaws.com", "logs.${aws.region}.amazonaws.com"] } } }]"#,
            r#"[{ Effect = "Allow", Action = "kms:Encrypt", Resource = "${key.arn}" }]"#,
            r#"[{ Effect = "Allow", NotAction = "kms:*", Resource = "${key.arn}" }]"#,
            r#"[{ Effect = "Deny", Action = "kms:Decrypt", Resource = "*" }]"#,
        ];
        for s in fine {
            assert!(violated(&role(TRUST_ACCOUNT, &inline(s)), &[]).is_empty(), "{s}");
        }
    }

    fn task(volume: &str, extra: &str) -> String {
        format!(
            "[resources.td]\ntype = \"ecs:TaskDefinition\"\nfamily = \"f\"\ncontainer_definitions = [{{ name = \"app\", image = \"i\", secrets = [{{ name = \"DB\", value_from = \"${{db.master_user_secret_arn}}\" }}] }}]\nvolumes = [{{ name = \"shared\", efs_volume_configuration = {{ file_system_id = \"fs-1\", transit_encryption = \"ENABLED\"{volume} }} }}]\n{extra}"
        )
    }

    #[test]
    fn an_efs_mount_uses_the_task_role_in_any_case_and_through_variables() {
        for volume in [
            "",
            r#", authorization_config = { iam = "DISABLED" }"#,
            r#", authorization_config = { iam = "${var.iam}" }"#,
        ] {
            assert_eq!(violated(&task(volume, ""), &[("iam", "disabled")]), ["efs-iam-authorization"], "{volume}");
        }
        for volume in
            [r#", authorization_config = { iam = "ENABLED" }"#, r#", authorization_config = { iam = "enabled" }"#]
        {
            assert!(violated(&task(volume, ""), &[]).is_empty(), "{volume}");
        }
        let via_var = r#", transit_encryption = "${var.tls}", authorization_config = { iam = "${var.iam}" }"#;
        let text = task(via_var, "").replace(r#"transit_encryption = "ENABLED", "#, "");
        assert!(violated(&text, &[("tls", "enabled"), ("iam", "ENABLED")]).is_empty(), "{text}");
        assert_eq!(violated(&text, &[("tls", "disabled"), ("iam", "ENABLED")]), ["efs-transit-encryption"]);
    }

    #[test]
    fn the_task_role_cannot_read_a_secret_ecs_injects() {
        let iam = r#", authorization_config = { iam = "ENABLED" }"#;
        let with_role = |policy_statements: &str, role_prop: &str| {
            task(
                iam,
                &format!(
                    "{role_prop}\n{}\n[resources.p]\ntype = \"iam:RolePolicy\"\nrole_name = \"${{task_role.name}}\"\npolicy_name = \"p\"\npolicy_document = {{ Version = \"2012-10-17\", Statement = {policy_statements} }}\n",
                    role(TRUST_ACCOUNT, "").replace("[resources.r]", "[resources.task_role]")
                ),
            )
        };
        let task_role = "task_role_arn = \"${task_role.arn}\"";
        let reads = [
            r#"[{ Effect = "Allow", Action = "secretsmanager:GetSecretValue", Resource = "${db.master_user_secret_arn}" }]"#,
            r#"[{ Effect = "Allow", Action = ["secretsmanager:*"], Resource = ["*"] }]"#,
            r#"[{ Effect = "Allow", Action = "SecretsManager:getsecretvalue", Resource = ["${other.arn}", "${db.master_user_secret_arn}"] }]"#,
        ];
        for s in reads {
            let text = with_role(s, task_role);
            let ids = violated(&text, &[]);
            assert!(ids.contains(&"no-injected-secret-read".to_string()), "{s}: {ids:?}");
        }
        let fine = [
            r#"[{ Effect = "Allow", Action = "secretsmanager:GetSecretValue", Resource = "${other.arn}" }]"#,
            r#"[{ Effect = "Allow", Action = "kinesis:GetRecords", Resource = "${db.master_user_secret_arn}" }]"#,
        ];
        for s in fine {
            assert!(violated(&with_role(s, task_role), &[]).is_empty(), "{s}");
        }
        // The execution role is the one that reads it.
        let exec = with_role(reads[0], "execution_role_arn = \"${task_role.arn}\"");
        assert!(violated(&exec, &[]).is_empty());
        // An inline policy of the task role counts too.
        let inline_read = task(
            iam,
            &format!(
                "{task_role}\n{}",
                role(TRUST_ACCOUNT, &inline(reads[0])).replace("[resources.r]", "[resources.task_role]")
            ),
        );
        assert_eq!(violated(&inline_read, &[]), ["no-injected-secret-read"]);
    }

    #[test]
    fn the_first_rules_see_booleans_through_variables() {
        let db = "[resources.db]\ntype = \"rds:DbInstance\"\ndb_instance_identifier = \"d\"\ndb_instance_class = \"c\"\nengine = \"e\"\npublicly_accessible = \"${var.public}\"\n";
        assert_eq!(violated(db, &[("public", "true")]), ["no-public-database"]);
        assert!(violated(db, &[("public", "false")]).is_empty());
        let redis = "[resources.r]\ntype = \"elasticache:ReplicationGroup\"\nreplication_group_id = \"r\"\nreplication_group_description = \"d\"\nat_rest_encryption_enabled = true\nkms_key_id = \"arn:aws:kms:us-east-1:111122223333:key/k\"\ntransit_encryption_enabled = \"${var.tls}\"\n";
        assert!(violated(redis, &[("tls", "true")]).is_empty());
        assert_eq!(violated(redis, &[("tls", "false")]), ["redis-transit-encryption"]);
    }

    #[test]
    fn iam_wildcards_match_as_iam_matches_them() {
        assert!(glob("kms:decrypt*", "kms:decrypt"));
        assert!(glob("kms:*", "kms:decrypt"));
        assert!(glob("*", "kms:decrypt"));
        assert!(glob("kms:de?rypt", "kms:decrypt"));
        assert!(glob("*:*crypt", "kms:decrypt"));
        assert!(!glob("kms:encrypt", "kms:decrypt"));
        assert!(!glob("kms:decrypt?", "kms:decrypt"));
        assert!(!glob("s3:*", "kms:decrypt"));
        assert!(every_action("*") && every_action("*:*") && !every_action("kms:*"));
        assert!(every_resource("*") && every_resource("arn:aws:*:*:*:*") && !every_resource("arn:aws:s3:::*"));
    }
}
