//! `rds:DbCluster`: an Aurora DB cluster (storage, endpoints, backups); its compute is
//! `rds:DbInstance`.
//!
//! No password passes through here: a cluster with a master user must set
//! `manage_master_user_password`, and only the secret's ARN is kept. The teardown choice
//! (`skip_final_snapshot`, `final_db_snapshot_identifier`) is checked at create time and kept in
//! the outputs for `DeleteDBCluster`.

use async_trait::async_trait;
use aws_sdk_rds::types::{DbCluster as Cluster, ServerlessV2ScalingConfiguration, Tag};
use serde_json::{Map, Value, json};

use super::{
    DATABASE_NAME, DB_CLUSTER_IDENTIFIER, DB_SUBNET_GROUP_NAME, FINAL_SNAPSHOT_IDENTIFIER, STR_LIST, busy,
    check_status, combination, found, pairs,
};
use crate::aws::adapter::{Lifecycle, Live, Refused};
use crate::aws::{
    AwsError, Created, Ctx, Found, Identity, Outputs, Props, out_str, poll, put, required, sdk_err, settle, tag_table,
};
use crate::plan::{NodeKind, Resource};
use crate::schema::{Attr, Implied, Kind, PlanView, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "rds:DbCluster",
    aliases: &["AWS::RDS::DBCluster", "aws_rds_cluster", "aws:rds/cluster:Cluster"],
    summary: "An Aurora DB cluster (storage, endpoints, backups); its compute is rds:DbInstance",
    calls: "CreateDBCluster (all properties but skip_final_snapshot and final_db_snapshot_identifier); \
            DeleteDBCluster (skip_final_snapshot, final_db_snapshot_identifier, kept in state until teardown)",
    props: &[
        Prop::req("db_cluster_identifier", Kind::Str, "name of the cluster").name_rule(&DB_CLUSTER_IDENTIFIER),
        Prop::req("engine", Kind::Str, "`aurora-postgresql` or `aurora-mysql`"),
        Prop::opt("engine_version", Kind::Str, "engine version, such as `16.4`").in_place(),
        Prop::opt("database_name", Kind::Str, "name of the database created with the cluster")
            .name_rule(&DATABASE_NAME),
        Prop::opt("master_username", Kind::Str, "name of the master user"),
        Prop::opt(
            "manage_master_user_password",
            Kind::Bool,
            "let RDS generate and rotate the master password in Secrets Manager (ironplan requires it with a master user)",
        )
        .in_place(),
        Prop::opt("master_user_secret_kms_key_id", Kind::Str, "KMS key that encrypts the master user secret")
            .in_place(),
        Prop::opt("storage_encrypted", Kind::Bool, "encrypt the cluster's storage"),
        Prop::opt("kms_key_id", Kind::Str, "KMS key that encrypts the storage"),
        Prop::opt("db_subnet_group_name", Kind::Str, "subnet group of the cluster").name_rule(&DB_SUBNET_GROUP_NAME),
        Prop::opt("vpc_security_group_ids", STR_LIST, "security groups of the cluster").in_place(),
        Prop::opt("backup_retention_period", Kind::Int, "days automated backups are kept (1-35)")
            .range(1, 35)
            .in_place(),
        Prop::opt("enable_cloudwatch_logs_exports", STR_LIST, "logs exported to CloudWatch Logs, such as `postgresql`")
            .in_place(),
        Prop::opt("deletion_protection", Kind::Bool, "refuse DeleteDBCluster while on").in_place(),
        Prop::opt("copy_tags_to_snapshot", Kind::Bool, "copy the cluster's tags to its snapshots").in_place(),
        Prop::opt(
            "serverless_v2_scaling_configuration",
            Kind::Struct(&[
                Prop::req("min_capacity", Kind::Float, "minimum Aurora capacity units (0 to 256, steps of 0.5)")
                    .number_range(0.0, 256.0, 0.5),
                Prop::req("max_capacity", Kind::Float, "maximum Aurora capacity units (1 to 256, steps of 0.5)")
                    .number_range(1.0, 256.0, 0.5),
            ]),
            "capacity range of the cluster's db.serverless instances",
        )
        .in_place(),
        // The teardown choice lives in the state, not in AWS: a new value changes only that.
        Prop::req(
            "skip_final_snapshot",
            Kind::Bool,
            "on teardown, delete without a final snapshot (false needs final_db_snapshot_identifier)",
        )
        .in_place(),
        Prop::opt(
            "final_db_snapshot_identifier",
            Kind::Str,
            "name of the snapshot taken on teardown when skip_final_snapshot is false",
        )
        .name_rule(&FINAL_SNAPSHOT_IDENTIFIER)
        .in_place(),
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
    holds_data: true,
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
    view.of_type(crate::aws::logs::log_group::SPEC.name)
        .filter(|lg| view.canonical(lg.prop("log_group_name")).is_some_and(|n| wanted.contains(&n)))
        .map(|lg| lg.name.clone())
        .collect()
}

pub struct DbCluster;

/// What a create reads.
pub struct Input {
    id: String,
    engine: String,
    engine_version: Option<String>,
    database_name: Option<String>,
    master_username: Option<String>,
    manage_password: Option<bool>,
    secret_kms_key_id: Option<String>,
    storage_encrypted: Option<bool>,
    kms_key_id: Option<String>,
    subnet_group: Option<String>,
    security_groups: Vec<String>,
    backup_retention: Option<i32>,
    log_exports: Vec<String>,
    deletion_protection: Option<bool>,
    copy_tags: Option<bool>,
    scaling: Option<ServerlessV2ScalingConfiguration>,
    /// Required by the schema; a lookup does without it.
    skip_final_snapshot: Option<bool>,
    final_snapshot: Option<String>,
    tags: Vec<Tag>,
}

const CREATE: &str = "CreateDBCluster";
const DESCRIBE: &str = "DescribeDBClusters";

#[async_trait]
impl Lifecycle for DbCluster {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = super::NOT_FOUND;
    const UPDATES: &'static [&'static str] = &[
        "engine_version",
        "manage_master_user_password",
        "master_user_secret_kms_key_id",
        "vpc_security_group_ids",
        "backup_retention_period",
        "deletion_protection",
        "copy_tags_to_snapshot",
        "serverless_v2_scaling_configuration",
        "enable_cloudwatch_logs_exports",
        "skip_final_snapshot",
        "final_db_snapshot_identifier",
        "tags",
    ];

    /// What ModifyDBCluster cannot do to the master secret: turn its management off, or change
    /// its key other than while turning management on.
    fn refuses(prop: &str, old: &Map<String, Value>, new: &Map<String, Value>) -> Option<Refused> {
        let managed = |m: &Map<String, Value>| m.get("manage_master_user_password") == Some(&Value::Bool(true));
        match prop {
            "manage_master_user_password" if managed(old) && !managed(new) => Some(PASSWORD_OFF),
            "master_user_secret_kms_key_id" if managed(old) => Some(SECRET_REKEYED),
            "master_user_secret_kms_key_id" if !managed(new) => Some(SECRET_KEY_UNUSED),
            _ => None,
        }
    }

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op(CREATE);
        Ok(Input {
            id: p.str("db_cluster_identifier")?,
            engine: p.str("engine")?,
            engine_version: p.opt_str("engine_version")?,
            database_name: p.opt_str("database_name")?,
            master_username: p.opt_str("master_username")?,
            manage_password: p.opt_bool("manage_master_user_password")?,
            secret_kms_key_id: p.opt_str("master_user_secret_kms_key_id")?,
            storage_encrypted: p.opt_bool("storage_encrypted")?,
            kms_key_id: p.opt_str("kms_key_id")?,
            subnet_group: p.opt_str("db_subnet_group_name")?,
            security_groups: p.str_list("vpc_security_group_ids")?,
            backup_retention: p.opt_i32("backup_retention_period")?,
            log_exports: p.str_list("enable_cloudwatch_logs_exports")?,
            deletion_protection: p.opt_bool("deletion_protection")?,
            copy_tags: p.opt_bool("copy_tags_to_snapshot")?,
            scaling: match p.opt_struct("serverless_v2_scaling_configuration")? {
                Some(mut s) => {
                    let min = s.opt_f64("min_capacity")?;
                    let max = s.opt_f64("max_capacity")?;
                    s.finish()?;
                    Some(
                        ServerlessV2ScalingConfiguration::builder().set_min_capacity(min).set_max_capacity(max).build(),
                    )
                }
                None => None,
            },
            skip_final_snapshot: p.opt_bool("skip_final_snapshot")?,
            final_snapshot: p.opt_str("final_db_snapshot_identifier")?,
            tags: super::tags(p.tags()?),
        })
    }

    async fn create(ctx: &Ctx, c: &Input) -> Result<Created, AwsError> {
        let skip_final_snapshot = c
            .skip_final_snapshot
            .ok_or_else(|| AwsError::input(CREATE, "required property `skip_final_snapshot` is missing"))?;
        // Checked now, not at teardown: a choice DeleteDBCluster would refuse must not be found
        // only when the stack is being torn down.
        match (skip_final_snapshot, &c.final_snapshot) {
            (false, None) => {
                return Err(combination(CREATE, "skip_final_snapshot = false needs final_db_snapshot_identifier")
                    .with_hint("name the final snapshot, or set skip_final_snapshot = true"));
            }
            (true, Some(_)) => {
                return Err(combination(CREATE, "final_db_snapshot_identifier is set but skip_final_snapshot = true")
                    .with_hint("remove final_db_snapshot_identifier, or set skip_final_snapshot = false"));
            }
            _ => {}
        }
        if c.master_username.is_some() && c.manage_password != Some(true) {
            return Err(combination(CREATE, "a master user needs manage_master_user_password = true").with_hint(
                "ironplan never handles a database password: RDS keeps it in Secrets Manager, read it through master_user_secret_arn",
            ));
        }

        let r = ctx
            .rds
            .create_db_cluster()
            .db_cluster_identifier(&c.id)
            .engine(&c.engine)
            .set_engine_version(c.engine_version.clone())
            .set_database_name(c.database_name.clone())
            .set_master_username(c.master_username.clone())
            .set_manage_master_user_password(c.manage_password)
            .set_master_user_secret_kms_key_id(c.secret_kms_key_id.clone())
            .set_storage_encrypted(c.storage_encrypted)
            .set_kms_key_id(c.kms_key_id.clone())
            .set_db_subnet_group_name(c.subnet_group.clone())
            .set_vpc_security_group_ids(Some(c.security_groups.clone()))
            .set_backup_retention_period(c.backup_retention)
            .set_enable_cloudwatch_logs_exports(Some(c.log_exports.clone()))
            .set_deletion_protection(c.deletion_protection)
            .set_copy_tags_to_snapshot(c.copy_tags)
            .set_serverless_v2_scaling_configuration(c.scaling.clone())
            .set_tags(Some(c.tags.clone()))
            .send()
            .await
            .map_err(|e| sdk_err(CREATE, e))?;
        let cluster = r.db_cluster();
        let id = cluster.and_then(|c| c.db_cluster_identifier()).unwrap_or(&c.id).to_string();
        Ok(Created { outputs: outputs(teardown_choice(c), &id, cluster), id })
    }

    /// The cluster of that identifier (unique in the account and region): ours only with both
    /// identity tags, which the create carries.
    async fn find(ctx: &Ctx, c: &Input, who: &Identity) -> Result<Found, AwsError> {
        let Some(cluster) = describe(ctx, &c.id).await? else { return Ok(Found::Nothing) };
        let outputs = outputs(teardown_choice(c), &c.id, Some(&cluster));
        Ok(who.claim(Created { id: c.id.clone(), outputs }, pairs(cluster.tag_list())))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        let what = format!("DB cluster {id}");
        poll(ctx, DESCRIBE, &format!("{what} to be available"), || async {
            let Some(c) = describe(ctx, id).await? else { return Ok(None) };
            let status = required(c.status(), DESCRIBE, "DBCluster.Status")?;
            check_status(DESCRIBE, &what, &status)?;
            // The master secret is created alongside the cluster; the ECS task reads it.
            let secret_ready = c.master_user_secret().and_then(|s| s.secret_status()) != Some("creating");
            Ok((status == "available" && secret_ready).then(|| outputs(out.clone(), id, Some(&c))))
        })
        .await
    }

    /// What DescribeDBClusters reports. The teardown choice is not AWS's (it is in the
    /// outputs); `kms_key_id` is reported only for encrypted storage, as AWS reports it (moto
    /// reports a placeholder otherwise), and as the key's ARN whatever the plan named it by.
    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let Some(c) = describe(ctx, id).await? else { return Ok(None) };
        let mut props = Map::new();
        props.insert("db_cluster_identifier".into(), json!(c.db_cluster_identifier().unwrap_or(id)));
        put(&mut props, "engine", c.engine());
        put(&mut props, "engine_version", c.engine_version());
        put(&mut props, "database_name", c.database_name());
        put(&mut props, "master_username", c.master_username());
        props.insert("manage_master_user_password".into(), json!(c.master_user_secret().is_some()));
        put(&mut props, "master_user_secret_kms_key_id", c.master_user_secret().and_then(|s| s.kms_key_id()));
        put(&mut props, "storage_encrypted", c.storage_encrypted());
        if c.storage_encrypted() == Some(true) {
            put(&mut props, "kms_key_id", c.kms_key_id());
        }
        put(&mut props, "db_subnet_group_name", c.db_subnet_group());
        let groups: Vec<&str> = c.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).collect();
        props.insert("vpc_security_group_ids".into(), json!(groups));
        put(&mut props, "backup_retention_period", c.backup_retention_period());
        props.insert("enable_cloudwatch_logs_exports".into(), json!(c.enabled_cloudwatch_logs_exports()));
        put(&mut props, "deletion_protection", c.deletion_protection());
        put(&mut props, "copy_tags_to_snapshot", c.copy_tags_to_snapshot());
        if let Some(s) = c.serverless_v2_scaling_configuration() {
            let mut scaling = Map::new();
            put(&mut scaling, "min_capacity", s.min_capacity());
            put(&mut scaling, "max_capacity", s.max_capacity());
            props.insert("serverless_v2_scaling_configuration".into(), Value::Object(scaling));
        }
        props.insert("tags".into(), tag_table(pairs(c.tag_list())));
        Ok(Some(Live { props, outputs: outputs(out.clone(), id, Some(&c)) }))
    }

    /// One ModifyDBCluster, applied immediately, with what changed; the tags; then the cluster
    /// is waited for until available, as `ready` does.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, c: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        let has = |p: &str| changed.iter().any(|k| k == p);
        let managed = c.manage_password == Some(true);
        if has("master_user_secret_kms_key_id") && !(has("manage_master_user_password") && managed) {
            const KEY: &str = "master_user_secret_kms_key_id";
            return Err(refused(id, KEY, if managed { SECRET_REKEYED } else { SECRET_KEY_UNUSED }));
        }
        // The teardown choice is the state's alone (`teardown_choice`): no call changes it.
        const OURS: [&str; 3] = ["tags", "skip_final_snapshot", "final_db_snapshot_identifier"];
        if changed.iter().any(|k| !OURS.contains(&k.as_str())) {
            let mut req = ctx.rds.modify_db_cluster().db_cluster_identifier(id).apply_immediately(true);
            // What the version and the secret are now: only a change is sent.
            let live = if has("engine_version") || has("manage_master_user_password") {
                describe(ctx, id).await?
            } else {
                None
            };
            if has("engine_version")
                && let Some(want) = &c.engine_version
            {
                let have = live.as_ref().and_then(|l| l.engine_version()).unwrap_or_default();
                if have != want {
                    req = req.engine_version(want);
                    if major(&c.engine, have) != major(&c.engine, want) {
                        req = req.allow_major_version_upgrade(true);
                    }
                }
            }
            let has_secret = live.as_ref().is_some_and(|l| l.master_user_secret().is_some());
            if has("manage_master_user_password") && !managed && has_secret {
                return Err(refused(id, "manage_master_user_password", PASSWORD_OFF));
            }
            if has("manage_master_user_password") && managed && !has_secret {
                // Turning it on, with the secret's key if the plan names one (AWS's
                // `aws/secretsmanager` key if not).
                req = req
                    .manage_master_user_password(true)
                    .set_master_user_secret_kms_key_id(c.secret_kms_key_id.clone());
            }
            if has("enable_cloudwatch_logs_exports") {
                let live = describe(ctx, id).await?;
                let had: Vec<String> = live.map(|c| c.enabled_cloudwatch_logs_exports().to_vec()).unwrap_or_default();
                let config = aws_sdk_rds::types::CloudwatchLogsExportConfiguration::builder()
                    .set_enable_log_types(Some(c.log_exports.iter().filter(|l| !had.contains(l)).cloned().collect()))
                    .set_disable_log_types(Some(had.iter().filter(|l| !c.log_exports.contains(l)).cloned().collect()))
                    .build();
                req = req.cloudwatch_logs_export_configuration(config);
            }
            if has("vpc_security_group_ids") {
                req = req.set_vpc_security_group_ids(Some(c.security_groups.clone()));
            }
            if has("backup_retention_period") {
                req = req.set_backup_retention_period(c.backup_retention);
            }
            if has("deletion_protection") {
                req = req.deletion_protection(c.deletion_protection.unwrap_or(false));
            }
            if has("copy_tags_to_snapshot") {
                req = req.copy_tags_to_snapshot(c.copy_tags.unwrap_or(false));
            }
            if has("serverless_v2_scaling_configuration") {
                req = req.set_serverless_v2_scaling_configuration(c.scaling.clone());
            }
            req.send().await.map_err(|e| sdk_err("ModifyDBCluster", e))?;
        }
        if has("tags") {
            let Some(cluster) = describe(ctx, id).await? else {
                return Err(AwsError::input("AddTagsToResource", format!("DB cluster {id} is gone")));
            };
            super::retag(ctx, cluster.db_cluster_arn().unwrap_or_default(), &c.tags).await?;
        }
        let mut want = out.clone();
        want.extend(teardown_choice(c));
        Self::ready(ctx, id, &want).await
    }

    async fn delete(ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError> {
        const OP: &str = "DeleteDBCluster";
        let skip = out
            .get("skip_final_snapshot")
            .and_then(Value::as_bool)
            .ok_or_else(|| AwsError::input(OP, "state lacks output `skip_final_snapshot`"))?;
        let final_snapshot =
            if skip { None } else { Some(out_str(out, "final_db_snapshot_identifier", OP)?.to_string()) };
        settle(ctx, OP, id, busy("InvalidDBClusterStateFault"), || async {
            ctx.rds
                .delete_db_cluster()
                .db_cluster_identifier(id)
                .skip_final_snapshot(skip)
                .set_final_db_snapshot_identifier(final_snapshot.clone())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    let e = sdk_err(OP, e);
                    if e.message.to_ascii_lowercase().contains("deletion protection") {
                        e.with_hint(
                            "the cluster has deletion protection on: turn it off (ModifyDBCluster), then tear down again",
                        )
                    } else {
                        e
                    }
                })
        })
        .await
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(describe(ctx, id).await?.is_none())
    }
}

/// Turning `manage_master_user_password` off needs a plaintext `MasterUserPassword`.
const PASSWORD_OFF: Refused = Refused {
    why: "turning it off needs a master password in the plan, which ironplan never handles",
    help: "keep manage_master_user_password = true; to manage the password yourself, turn it off in AWS \
           (ModifyDBCluster with MasterUserPassword), then in the plan",
};
/// ModifyDBCluster takes `MasterUserSecretKmsKeyId` only while turning management on.
const SECRET_REKEYED: Refused = Refused {
    why: "AWS cannot change the KMS key of a master secret RDS already manages",
    help: "revert master_user_secret_kms_key_id in the plan, or replace the cluster (--allow-replace) to \
           encrypt its secret with another key",
};
const SECRET_KEY_UNUSED: Refused = Refused {
    why: "the key encrypts the master secret only with manage_master_user_password = true",
    help: "set manage_master_user_password = true with it, or remove it from the plan",
};

/// The error of a refused change, before any call that changes the cluster.
fn refused(id: &str, prop: &str, r: Refused) -> AwsError {
    AwsError::input("ModifyDBCluster", format!("DB cluster {id}: `{prop}`: {}", r.why)).with_hint(r.help)
}

/// The major version of an engine version: `16` of `16.4` (PostgreSQL 10 and later), `9.6` of
/// `9.6.22`, `8.0` of `8.0.mysql_aurora.3.05.2` (MySQL's first two numbers).
fn major<'a>(engine: &str, version: &'a str) -> &'a str {
    let mut parts = version.splitn(3, '.');
    let first = parts.next().unwrap_or_default();
    let two = |second: &str| &version[..first.len() + 1 + second.len()];
    match parts.next() {
        Some(second) if engine.contains("mysql") || first.parse::<u32>().is_ok_and(|n| n < 10) => two(second),
        _ => first,
    }
}

/// The teardown choice, kept in the outputs for DeleteDBCluster.
fn teardown_choice(c: &Input) -> Outputs {
    let mut outputs = Outputs::new();
    put(&mut outputs, "skip_final_snapshot", c.skip_final_snapshot);
    put(&mut outputs, "final_db_snapshot_identifier", c.final_snapshot.clone());
    outputs
}

/// `base` with the ID and what AWS says of the cluster.
fn outputs(mut out: Outputs, id: &str, c: Option<&Cluster>) -> Outputs {
    out.insert("id".into(), json!(id));
    if let Some(c) = c {
        put(&mut out, "arn", c.db_cluster_arn());
        put(&mut out, "endpoint", c.endpoint());
        put(&mut out, "reader_endpoint", c.reader_endpoint());
        put(&mut out, "port", c.port());
        put(&mut out, "master_user_secret_arn", c.master_user_secret().and_then(|s| s.secret_arn()));
        put(&mut out, "resource_id", c.db_cluster_resource_id());
    }
    out
}

/// The cluster of identifier `id`, if it exists.
async fn describe(ctx: &Ctx, id: &str) -> Result<Option<Cluster>, AwsError> {
    let r = ctx.rds.describe_db_clusters().db_cluster_identifier(id).send().await;
    let r = found(r.map_err(|e| sdk_err(DESCRIBE, e)))?;
    Ok(r.and_then(|r| r.db_clusters.unwrap_or_default().into_iter().next()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{cluster_by_hand, reads_back, reads_gone_once_deleted, subnets};
    use super::*;
    use crate::aws::create;
    use crate::aws::testing::{assert_not_ours, ctx, find as lookup, props, tags};
    use crate::emulator::Moto;
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
        assert!(SPEC.prop("master_user_password").is_none());
        assert!(SPEC.prop("skip_final_snapshot").is_some_and(|p| p.required));
    }

    #[test]
    fn a_major_version_is_the_first_number_or_two() {
        assert_eq!(major("aurora-postgresql", "16.4"), "16");
        assert_eq!(major("aurora-postgresql", "16"), "16");
        assert_eq!(major("aurora-postgresql", "9.6.22"), "9.6");
        assert_eq!(major("aurora-mysql", "8.0.mysql_aurora.3.05.2"), "8.0");
        assert_eq!(major("aurora-mysql", "5.7.mysql_aurora.2.11.2"), "5.7");
        assert_ne!(major("aurora-postgresql", "16.4"), major("aurora-postgresql", "17.1"));
        assert_eq!(major("aurora-postgresql", "16.4"), major("aurora-postgresql", "16.6"));
    }

    /// The engine version changes in place (a minor, then a major upgrade). A cluster whose
    /// master password was set by hand gets it managed by RDS, in a secret under the plan's key;
    /// turning management off again, or changing the secret's key once managed, is refused
    /// before any call, naming the property, and the cluster stays as it was.
    #[tokio::test]
    async fn engine_version_and_password_management_change_in_place() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let ty = "rds:DbCluster";
        let key = ctx.kms.create_key().send().await.expect("key");
        let key = key.key_metadata().and_then(|m| m.arn()).expect("key arn").to_string();
        // Made by hand with a password, as a team would before adopting ironplan (ironplan's
        // create refuses a master user without a managed password).
        let mut req = ctx
            .rds
            .create_db_cluster()
            .db_cluster_identifier("s-dev-aurora")
            .engine("aurora-postgresql")
            .engine_version("16.4")
            .master_username("admin_user")
            .master_user_password("by-hand-password-1");
        for (k, v) in [(crate::schema::STACK_TAG, "s-dev"), (crate::schema::RESOURCE_TAG, "db")] {
            req = req.tags(Tag::builder().key(k).value(v).build());
        }
        req.send().await.expect("cluster by hand");
        let choice: Outputs = [("skip_final_snapshot".to_string(), json!(true))].into_iter().collect();
        let out = crate::aws::wait_ready(&ctx, ty, "s-dev-aurora", &choice).await.expect("ready");
        let live = crate::aws::read(&ctx, ty, "s-dev-aurora", &out).await.expect("read").expect("there");
        assert_eq!(live.props["manage_master_user_password"], json!(false));
        let mut v = Value::Object(live.props);

        v["engine_version"] = json!("16.6");
        let out = crate::aws::testing::assert_updates(&ctx, ty, "s-dev-aurora", &out, &v, &["engine_version"]).await;
        v["engine_version"] = json!("17.4");
        let out = crate::aws::testing::assert_updates(&ctx, ty, "s-dev-aurora", &out, &v, &["engine_version"]).await;

        v["manage_master_user_password"] = json!(true);
        v["master_user_secret_kms_key_id"] = json!(key);
        let keys = ["manage_master_user_password", "master_user_secret_kms_key_id"];
        let out = crate::aws::testing::assert_updates(&ctx, ty, "s-dev-aurora", &out, &v, &keys).await;
        assert!(out.get("master_user_secret_arn").is_some_and(|a| a.is_string()), "{out:?}");

        let mut off = v.clone();
        off["manage_master_user_password"] = json!(false);
        let keys = ["manage_master_user_password".to_string()];
        let e = crate::aws::update(&ctx, ty, "s-dev-aurora", &out, &mut props(off), &keys).await.unwrap_err();
        assert!(e.message.contains("`manage_master_user_password`: turning it off needs a master password"), "{e}");
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("keep manage_master_user_password = true")), "{e:?}");
        let other = ctx.kms.create_key().send().await.expect("key");
        let mut rekeyed = v.clone();
        rekeyed["master_user_secret_kms_key_id"] = json!(other.key_metadata().and_then(|m| m.arn()));
        let keys = ["master_user_secret_kms_key_id".to_string()];
        let e = crate::aws::update(&ctx, ty, "s-dev-aurora", &out, &mut props(rekeyed), &keys).await.unwrap_err();
        assert!(e.message.contains("`master_user_secret_kms_key_id`: AWS cannot change the KMS key"), "{e}");
        crate::aws::testing::assert_reads_back(&ctx, ty, &v, "s-dev-aurora", &out).await;
    }

    /// A cluster made outside ironplan under the plan's identifier is not ours.
    #[tokio::test]
    async fn a_look_alike_cluster_is_not_ours() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        cluster_by_hand(&ctx, "s-dev-aurora").await;
        let cluster = json!({"db_cluster_identifier": "s-dev-aurora", "engine": "aurora-postgresql",
                             "tags": tags("s-dev", "db")});
        assert_not_ours(&lookup(&ctx, "rds:DbCluster", &cluster).await, "has no `ironplan:stack` tag");
    }

    /// What `read` reports is what the plan said (every property AWS reports back), with the
    /// outputs `wait_ready` gave; once deleted, it reports the cluster gone.
    #[tokio::test]
    async fn a_cluster_reads_back_as_planned_until_deleted() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let (vpc, subnets) = subnets(&ctx).await;
        let sg = ctx.ec2.create_security_group().group_name("db").description("d").vpc_id(vpc).send().await;
        let sg = sg.expect("security group").group_id().expect("group id").to_string();
        let key = ctx.kms.create_key().send().await.expect("key");
        let key = key.key_metadata().and_then(|m| m.arn()).expect("key arn").to_string();
        let group = json!({"db_subnet_group_name": "s-dev-db", "db_subnet_group_description": "d",
                           "subnet_ids": subnets, "tags": tags("s-dev", "db_subnets")});
        create(&ctx, "rds:DbSubnetGroup", &mut props(group)).await.expect("subnet group");

        let v = json!({
            "db_cluster_identifier": "s-dev-aurora", "engine": "aurora-postgresql", "engine_version": "16.4",
            "database_name": "app", "master_username": "admin_user", "manage_master_user_password": true,
            "master_user_secret_kms_key_id": key, "storage_encrypted": true, "kms_key_id": key,
            "db_subnet_group_name": "s-dev-db", "vpc_security_group_ids": [sg], "backup_retention_period": 7,
            "enable_cloudwatch_logs_exports": ["postgresql"], "deletion_protection": false,
            "copy_tags_to_snapshot": true,
            "serverless_v2_scaling_configuration": {"min_capacity": 0.5, "max_capacity": 2.0},
            "skip_final_snapshot": true, "tags": tags("s-dev", "db"),
        });
        // All but the teardown choice, which is not AWS's.
        let (id, out) = reads_back(&ctx, "rds:DbCluster", &v, 2).await;
        assert!(out.get("master_user_secret_arn").is_some_and(|a| a.is_string()), "{out:?}");

        // Every setting the cluster updates, changed at once.
        let mut changed = v.clone();
        changed["backup_retention_period"] = json!(14);
        changed["deletion_protection"] = json!(true);
        changed["copy_tags_to_snapshot"] = json!(false);
        changed["serverless_v2_scaling_configuration"] = json!({"min_capacity": 1.0, "max_capacity": 4.0});
        changed["tags"]["Team"] = json!("data");
        let keys: Vec<String> =
            DbCluster::UPDATES.iter().filter(|k| **k != "vpc_security_group_ids").map(|k| k.to_string()).collect();
        let out = crate::aws::update(&ctx, "rds:DbCluster", &id, &out, &mut props(changed.clone()), &keys)
            .await
            .expect("update");
        let mut expected = changed.clone();
        expected.as_object_mut().map(|m| m.remove("skip_final_snapshot"));
        crate::aws::testing::assert_reads_back(&ctx, "rds:DbCluster", &expected, &id, &out).await;
        // Deletion protection off again, or the teardown below is refused.
        changed["deletion_protection"] = json!(false);
        let off = ["deletion_protection".to_string()];
        let out =
            crate::aws::update(&ctx, "rds:DbCluster", &id, &out, &mut props(changed), &off).await.expect("update");
        reads_gone_once_deleted(&ctx, "rds:DbCluster", &id, &out).await;
    }
}
