//! The HIPAA baseline: policy rules with stable IDs, checked on the plan before any AWS call.
//!
//! A violation fails the plan with the rule's ID and how to fix it; `--allow RULE_ID` waives a
//! rule for one run (the dry run still lists it as waived). IDs never change meaning; a rule
//! that changes gets a new ID.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::diag::Problem;
use crate::plan::{Node, NodeKind, Plan, Ref, Resource};
use crate::schema::TypeSpec;

/// One policy rule.
pub struct Rule {
    pub id: &'static str,
    pub title: &'static str,
    pub fix: &'static str,
    /// The resource types the rule looks at.
    pub types: &'static [&'static str],
    check: fn(&Plan, &Resource) -> Option<String>,
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
];

/// Evaluates every rule; returns the outcomes and the problems of the rules not waived.
pub fn evaluate(
    plan: &Plan,
    types: &BTreeMap<String, &'static TypeSpec>,
    allow: &BTreeSet<String>,
) -> (Vec<Outcome>, Vec<Problem>) {
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
            if let Some(why) = (rule.check)(plan, res) {
                violations.push(res.name.clone());
                if !waived {
                    problems.push(
                        Problem::new(format!("policy/{}", rule.id), res.name_span, format!("`{}`: {why}", res.name))
                            .label(format!("violates `{}`: {}", rule.id, rule.title))
                            .help(format!("{}; or waive the rule with `--allow {}`", rule.fix, rule.id)),
                    );
                }
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

fn is_true(node: Option<&Node>) -> bool {
    node.and_then(Node::as_bool) == Some(true)
}

/// The key value names a customer-managed key: a reference to a `kms:Key` (or its alias) in
/// this plan, or a literal key ARN. AWS-managed keys (`alias/aws/...`) do not count.
fn is_cmk(plan: &Plan, node: Option<&Node>) -> bool {
    let Some(node) = node else { return false };
    let NodeKind::Str(t) = &node.kind else { return false };
    if let Some(Ref::Resource { name, .. }) = t.as_single_ref() {
        return plan.resource(name).is_some_and(|r| matches!(r.type_name.as_str(), "kms:Key" | "kms:Alias"));
    }
    t.as_literal().is_some_and(|s| s.starts_with("arn:aws") && s.contains(":key/"))
}

fn cmk_at_rest(plan: &Plan, res: &Resource) -> Option<String> {
    let (flag, key): (Option<(&str, Option<&str>)>, &str) = match res.type_name.as_str() {
        "kinesis:Stream" => (Some(("encryption_type", Some("KMS"))), "key_id"),
        "rds:DbCluster" => (Some(("storage_encrypted", None)), "kms_key_id"),
        "elasticache:ReplicationGroup" => (Some(("at_rest_encryption_enabled", None)), "kms_key_id"),
        "efs:FileSystem" => (Some(("encrypted", None)), "kms_key_id"),
        "logs:LogGroup" => (None, "kms_key_id"),
        _ => return None,
    };
    if let Some((prop, want)) = flag {
        let on = match want {
            None => is_true(res.prop(prop)),
            Some(v) => res.prop(prop).and_then(Node::as_literal_str) == Some(v),
        };
        if !on {
            let expect = want.map_or("true".to_string(), |v| format!("\"{v}\""));
            return Some(format!("encryption at rest is off (`{prop} = {expect}` is missing)"));
        }
    }
    if !is_cmk(plan, res.prop(key)) {
        return Some(format!("`{key}` does not name a customer-managed KMS key of this plan"));
    }
    None
}

fn redis_transit(_: &Plan, res: &Resource) -> Option<String> {
    (!is_true(res.prop("transit_encryption_enabled"))).then(|| "transit encryption is off".into())
}

fn efs_transit(_: &Plan, res: &Resource) -> Option<String> {
    let Some(NodeKind::List(volumes)) = res.prop("volumes").map(|n| &n.kind) else { return None };
    for v in volumes {
        if let Some(efs) = v.get("efs_volume_configuration")
            && efs.get("transit_encryption").and_then(Node::as_literal_str) != Some("ENABLED")
        {
            let name = v.get("name").and_then(Node::as_literal_str).unwrap_or("?");
            return Some(format!("EFS volume `{name}` is mounted without transit encryption"));
        }
    }
    None
}

fn no_public_db(_: &Plan, res: &Resource) -> Option<String> {
    match res.prop("publicly_accessible").and_then(Node::as_bool) {
        Some(false) => None,
        Some(true) => Some("the instance is publicly accessible".into()),
        None => Some("`publicly_accessible` is not set, and AWS's default depends on the subnets".into()),
    }
}

fn no_public_task_ip(_: &Plan, res: &Resource) -> Option<String> {
    let ip = res
        .prop("network_configuration")
        .and_then(|n| n.get("awsvpc_configuration"))
        .and_then(|n| n.get("assign_public_ip"))
        .and_then(Node::as_literal_str);
    (ip == Some("ENABLED")).then(|| "tasks are given public IPs".into())
}

fn vpc_flow_logs(plan: &Plan, res: &Resource) -> Option<String> {
    let covered = plan.resources.iter().filter(|r| r.type_name == "ec2:FlowLog").any(|fl| {
        fl.prop("resource_ids")
            .map(|n| n.refs())
            .unwrap_or_default()
            .iter()
            .any(|(r, _)| matches!(r, Ref::Resource { name, .. } if *name == res.name))
    });
    (!covered).then(|| "no `ec2:FlowLog` covers this VPC".into())
}

fn log_retention(_: &Plan, res: &Resource) -> Option<String> {
    res.prop("retention_in_days").is_none().then(|| "the log group keeps logs forever, unmanaged".into())
}

fn api_authorization(_: &Plan, res: &Resource) -> Option<String> {
    match res.prop("authorization_type").and_then(Node::as_literal_str) {
        Some("NONE") | None => Some("the method has authorization `NONE`".into()),
        _ => None,
    }
}

fn db_password_managed(_: &Plan, res: &Resource) -> Option<String> {
    (!is_true(res.prop("manage_master_user_password")))
        .then(|| "the master password is not managed by RDS: it would pass through the tool".into())
}
