//! `rds:*` types: an Aurora cluster, its subnet group and its instances.
//!
//! The master password never passes through ironplan: a cluster with a master user must let RDS
//! manage the password in Secrets Manager (`manage_master_user_password = true`), and only the
//! secret's ARN comes back. The teardown choice about a final snapshot is an explicit plan
//! property of the cluster, named as `DeleteDBCluster` names it.

use super::{Attr, Implied, Kind, NameRule, PlanView, Prop, TypeSpec, attr};
use crate::plan::{NodeKind, Resource};

const STR_LIST: Kind = Kind::List(&Kind::Str);

pub const TYPES: &[&TypeSpec] = &[&DB_SUBNET_GROUP, &DB_CLUSTER, &DB_INSTANCE];

/// RDS identifiers: letters, digits and hyphens, a letter first, no trailing hyphen, no `--`.
/// RDS stores them in lowercase, and reports them so (in `${aurora.id}`, in the log group
/// names it exports to): ironplan asks for lowercase, so that the plan's names are AWS's.
const fn rds_identifier(what: &'static str, source: &'static str, max: usize) -> NameRule {
    NameRule::new(what, source, 1, max, "a-z0-9-").first("a-z").not_last("-").no_double_hyphen()
}

/// 1-63 for an Aurora cluster (1-52 for a Multi-AZ DB cluster, which ironplan does not make).
pub const DB_CLUSTER_IDENTIFIER: NameRule =
    rds_identifier("RDS DB cluster identifier", "CreateDBCluster DBClusterIdentifier", 63);
pub const DB_INSTANCE_IDENTIFIER: NameRule =
    rds_identifier("RDS DB instance identifier", "CreateDBInstance DBInstanceIdentifier", 63);
pub const FINAL_SNAPSHOT_IDENTIFIER: NameRule = NameRule::new(
    "RDS DB cluster snapshot identifier",
    "DeleteDBCluster FinalDBSnapshotIdentifier",
    1,
    255,
    "a-zA-Z0-9-",
)
.first("a-zA-Z")
.not_last("-")
.no_double_hyphen();
/// Stored in lowercase, like the identifiers.
pub const DB_SUBNET_GROUP_NAME: NameRule =
    NameRule::new("RDS DB subnet group name", "CreateDBSubnetGroup DBSubnetGroupName", 1, 255, "a-z0-9._ -")
        .first("a-z")
        .reserved(&["default"]);
/// "up to 64 alphanumeric characters" (Aurora PostgreSQL also allows `_`, and 63 at most;
/// the union is checked, so that no valid name is refused).
pub const DATABASE_NAME: NameRule =
    NameRule::new("Aurora database name", "CreateDBCluster DatabaseName", 1, 64, "a-zA-Z0-9_").first("a-zA-Z");

pub static DB_SUBNET_GROUP: TypeSpec = TypeSpec {
    name: "rds:DbSubnetGroup",
    aliases: &["AWS::RDS::DBSubnetGroup", "aws_db_subnet_group", "aws:rds/subnetGroup:SubnetGroup"],
    summary: "The subnets an RDS cluster or instance may place its network interfaces in",
    calls: "CreateDBSubnetGroup (all properties); DeleteDBSubnetGroup",
    props: &[
        Prop::req("db_subnet_group_name", Kind::Str, "name of the group (lowercase in AWS)")
            .name_rule(&DB_SUBNET_GROUP_NAME),
        Prop::req("db_subnet_group_description", Kind::Str, "description of the group"),
        Prop::req("subnet_ids", STR_LIST, "subnets, in at least two availability zones"),
        Prop::opt("tags", Kind::Tags, "tags of the group"),
    ],
    attrs: &[attr("id", "name of the group"), attr("name", "name of the group"), attr("arn", "ARN of the group")],
    taggable: true,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

pub static DB_CLUSTER: TypeSpec = TypeSpec {
    name: "rds:DbCluster",
    aliases: &["AWS::RDS::DBCluster", "aws_rds_cluster", "aws:rds/cluster:Cluster"],
    summary: "An Aurora DB cluster (storage, endpoints, backups); its compute is rds:DbInstance",
    calls: "CreateDBCluster (all properties but skip_final_snapshot and final_db_snapshot_identifier); \
            DeleteDBCluster (skip_final_snapshot, final_db_snapshot_identifier, kept in state until teardown)",
    props: &[
        Prop::req("db_cluster_identifier", Kind::Str, "name of the cluster").name_rule(&DB_CLUSTER_IDENTIFIER),
        Prop::req("engine", Kind::Str, "`aurora-postgresql` or `aurora-mysql`"),
        Prop::opt("engine_version", Kind::Str, "engine version, such as `16.4`"),
        Prop::opt("database_name", Kind::Str, "name of the database created with the cluster")
            .name_rule(&DATABASE_NAME),
        Prop::opt("master_username", Kind::Str, "name of the master user"),
        Prop::opt(
            "manage_master_user_password",
            Kind::Bool,
            "let RDS generate and rotate the master password in Secrets Manager (ironplan requires it with a master user)",
        ),
        Prop::opt("master_user_secret_kms_key_id", Kind::Str, "KMS key that encrypts the master user secret"),
        Prop::opt("storage_encrypted", Kind::Bool, "encrypt the cluster's storage"),
        Prop::opt("kms_key_id", Kind::Str, "KMS key that encrypts the storage"),
        Prop::opt("db_subnet_group_name", Kind::Str, "subnet group of the cluster").name_rule(&DB_SUBNET_GROUP_NAME),
        Prop::opt("vpc_security_group_ids", STR_LIST, "security groups of the cluster"),
        Prop::opt("backup_retention_period", Kind::Int, "days automated backups are kept (1-35)").range(1, 35),
        Prop::opt("enable_cloudwatch_logs_exports", STR_LIST, "logs exported to CloudWatch Logs, such as `postgresql`"),
        Prop::opt("deletion_protection", Kind::Bool, "refuse DeleteDBCluster while on"),
        Prop::opt("copy_tags_to_snapshot", Kind::Bool, "copy the cluster's tags to its snapshots"),
        Prop::opt(
            "serverless_v2_scaling_configuration",
            Kind::Struct(&[
                Prop::req("min_capacity", Kind::Float, "minimum Aurora capacity units (0 to 256, steps of 0.5)")
                    .number_range(0.0, 256.0, 0.5),
                Prop::req("max_capacity", Kind::Float, "maximum Aurora capacity units (1 to 256, steps of 0.5)")
                    .number_range(1.0, 256.0, 0.5),
            ]),
            "capacity range of the cluster's db.serverless instances",
        ),
        Prop::req(
            "skip_final_snapshot",
            Kind::Bool,
            "on teardown, delete without a final snapshot (false needs final_db_snapshot_identifier)",
        ),
        Prop::opt(
            "final_db_snapshot_identifier",
            Kind::Str,
            "name of the snapshot taken on teardown when skip_final_snapshot is false",
        )
        .name_rule(&FINAL_SNAPSHOT_IDENTIFIER),
        Prop::opt("tags", Kind::Tags, "tags of the cluster"),
    ],
    attrs: &[
        attr("id", "identifier of the cluster"),
        attr("arn", "ARN of the cluster"),
        attr("endpoint", "writer endpoint host name"),
        attr("reader_endpoint", "reader endpoint host name"),
        Attr { name: "port", kind: Kind::Int, doc: "port the database listens on" },
        attr("master_user_secret_arn", "ARN of the Secrets Manager secret holding the master credentials"),
        attr("resource_id", "region-unique, immutable resource ID (`cluster-...`), used in IAM policies"),
    ],
    taggable: true,
    create_secs: 45,
    delete_secs: 60,
    implied: &[Implied {
        why: "RDS creates the log group itself, unencrypted and without retention, if it does not exist when logs are exported",
        find: cluster_log_groups,
    }],
};

/// The `logs:LogGroup`s named `/aws/rds/cluster/<db_cluster_identifier>/<export>`, compared as
/// template source text so that `${var.environment_suffix}` on both sides matches.
fn cluster_log_groups(view: &PlanView<'_>, res: &Resource) -> Vec<String> {
    let Some(cluster) = view.canonical(res.prop("db_cluster_identifier")) else { return Vec::new() };
    let Some(NodeKind::List(exports)) = res.prop("enable_cloudwatch_logs_exports").map(|n| &n.kind) else {
        return Vec::new();
    };
    let wanted: Vec<String> = exports
        .iter()
        .filter_map(|e| view.canonical(Some(e)))
        .map(|e| format!("/aws/rds/cluster/{cluster}/{e}"))
        .collect();
    view.of_type("logs:LogGroup")
        .filter(|lg| view.canonical(lg.prop("log_group_name")).is_some_and(|n| wanted.contains(&n)))
        .map(|lg| lg.name.clone())
        .collect()
}

pub static DB_INSTANCE: TypeSpec = TypeSpec {
    name: "rds:DbInstance",
    aliases: &[
        "AWS::RDS::DBInstance",
        "aws_rds_cluster_instance",
        "aws_db_instance",
        "aws:rds/clusterInstance:ClusterInstance",
        "aws:rds/instance:Instance",
    ],
    summary: "An instance of an Aurora cluster (db.serverless for Serverless v2)",
    calls: "CreateDBInstance (all properties); DeleteDBInstance (a cluster member: no final snapshot options)",
    props: &[
        Prop::req("db_instance_identifier", Kind::Str, "name of the instance").name_rule(&DB_INSTANCE_IDENTIFIER),
        Prop::req(
            "db_cluster_identifier",
            Kind::Str,
            "the Aurora cluster the instance joins (ironplan supports cluster members only)",
        )
        .name_rule(&DB_CLUSTER_IDENTIFIER),
        Prop::req("db_instance_class", Kind::Str, "instance class, such as `db.serverless` or `db.r6g.large`"),
        Prop::req("engine", Kind::Str, "the cluster's engine, such as `aurora-postgresql`"),
        Prop::opt("publicly_accessible", Kind::Bool, "give the instance a public address"),
        Prop::opt("auto_minor_version_upgrade", Kind::Bool, "apply minor engine upgrades in the maintenance window"),
        Prop::opt("tags", Kind::Tags, "tags of the instance"),
    ],
    attrs: &[
        attr("id", "identifier of the instance"),
        attr("arn", "ARN of the instance"),
        attr("endpoint", "host name of the instance"),
    ],
    taggable: true,
    create_secs: 540,
    delete_secs: 720,
    implied: &[],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;
    use crate::schema::implied_of as implied;

    // aurora -> pg_logs (same name, through the same variable); other_logs and audit_logs are
    // not the cluster's postgresql export; quiet exports nothing.
    const PLAN: &str = r#"
[plan]
name = "t"

[variables.environment_suffix]
default = "dev"

[resources.aurora]
type = "rds:DbCluster"
db_cluster_identifier = "healthcare-aurora-${var.environment_suffix}"
engine = "aurora-postgresql"
enable_cloudwatch_logs_exports = ["postgresql"]
skip_final_snapshot = true

[resources.quiet]
type = "rds:DbCluster"
db_cluster_identifier = "healthcare-aurora-${var.environment_suffix}"
engine = "aurora-postgresql"
skip_final_snapshot = true

[resources.pg_logs]
type = "logs:LogGroup"
log_group_name = "/aws/rds/cluster/healthcare-aurora-${var.environment_suffix}/postgresql"

[resources.other_logs]
type = "logs:LogGroup"
log_group_name = "/aws/rds/cluster/healthcare-aurora-dev/postgresql"

[resources.audit_logs]
type = "logs:LogGroup"
log_group_name = "/aws/rds/cluster/healthcare-aurora-${var.environment_suffix}/audit"
"#;

    #[test]
    fn a_cluster_exporting_logs_waits_for_the_log_group_of_that_name() {
        let plan = Plan::parse(std::path::Path::new("t.toml"), PLAN).expect("plan");
        assert_eq!(implied(&plan, "aurora"), ["pg_logs"]);
        assert!(implied(&plan, "quiet").is_empty());
    }

    #[test]
    fn the_cluster_has_no_password_property() {
        assert!(DB_CLUSTER.prop("master_user_password").is_none());
        assert!(DB_CLUSTER.prop("skip_final_snapshot").is_some_and(|p| p.required));
    }
}
