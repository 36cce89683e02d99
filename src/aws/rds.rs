//! Adapter for `rds:*` types: `DbSubnetGroup`, `DbCluster`, `DbInstance`.
//!
//! No password passes through here: a cluster with a master user must set
//! `manage_master_user_password`, and only the secret's ARN is kept. The cluster's teardown
//! choice (`skip_final_snapshot`, `final_db_snapshot_identifier`) is checked at create time and
//! kept in its outputs for `DeleteDBCluster`.

use aws_sdk_rds::types::{ServerlessV2ScalingConfiguration, Tag};
use serde_json::Value;

use super::{
    AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, absent, gone, out_str, poll, put, sdk_err,
};

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    match ty {
        "rds:DbSubnetGroup" => create_subnet_group(ctx, p).await,
        "rds:DbCluster" => create_cluster(ctx, p).await,
        "rds:DbInstance" => create_instance(ctx, p).await,
        _ => Err(super::unknown_type(ty)),
    }
}

/// Finds what an interrupted create made, by its identifier (unique in the account and
/// region): ours only with both identity tags, which the create carries.
pub(super) async fn adopt(ctx: &Ctx, ty: &str, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    match ty {
        "rds:DbSubnetGroup" => {
            const OP: &str = "DescribeDBSubnetGroups";
            let name = p.str("db_subnet_group_name")?.to_ascii_lowercase();
            let r = match ctx.rds.describe_db_subnet_groups().db_subnet_group_name(&name).send().await {
                Ok(r) => r,
                Err(e) => return absent(sdk_err(OP, e)),
            };
            let Some(g) = r.db_subnet_groups().first() else { return Ok(Found::Nothing) };
            let mut outputs = Outputs::new();
            outputs.insert("id".into(), name.clone().into());
            outputs.insert("name".into(), name.clone().into());
            put(&mut outputs, "arn", g.db_subnet_group_arn());
            // DescribeDBSubnetGroups answers without tags.
            let tags = match g.db_subnet_group_arn() {
                None => Vec::new(),
                Some(arn) => match ctx.rds.list_tags_for_resource().resource_name(arn).send().await {
                    Ok(r) => r.tag_list().to_vec(),
                    Err(e) => return absent(sdk_err("ListTagsForResource", e)),
                },
            };
            Ok(who.claim(Created { id: name, outputs }, pairs(&tags)))
        }
        "rds:DbCluster" => {
            const OP: &str = "DescribeDBClusters";
            let id = p.str("db_cluster_identifier")?;
            let skip = p.opt_bool("skip_final_snapshot")?;
            let final_snapshot = p.opt_str("final_db_snapshot_identifier")?;
            let r = match ctx.rds.describe_db_clusters().db_cluster_identifier(&id).send().await {
                Ok(r) => r,
                Err(e) => return absent(sdk_err(OP, e)),
            };
            let Some(c) = r.db_clusters().first() else { return Ok(Found::Nothing) };
            let mut outputs = Outputs::new();
            put(&mut outputs, "skip_final_snapshot", skip);
            put(&mut outputs, "final_db_snapshot_identifier", final_snapshot);
            cluster_outputs(c, &mut outputs);
            outputs.insert("id".into(), id.clone().into());
            Ok(who.claim(Created { id, outputs }, pairs(c.tag_list())))
        }
        "rds:DbInstance" => {
            const OP: &str = "DescribeDBInstances";
            let id = p.str("db_instance_identifier")?;
            let r = match ctx.rds.describe_db_instances().db_instance_identifier(&id).send().await {
                Ok(r) => r,
                Err(e) => return absent(sdk_err(OP, e)),
            };
            let Some(i) = r.db_instances().first() else { return Ok(Found::Nothing) };
            let mut outputs = Outputs::new();
            instance_outputs(i, &mut outputs);
            outputs.insert("id".into(), id.clone().into());
            Ok(who.claim(Created { id, outputs }, pairs(i.tag_list())))
        }
        _ => Err(super::unknown_type(ty)),
    }
}

fn pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().filter_map(|t| Some((t.key()?, t.value()?)))
}

pub(super) async fn wait_ready(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    match ty {
        // A subnet group is usable once created.
        "rds:DbSubnetGroup" => Ok(out.clone()),
        "rds:DbCluster" => wait_cluster(ctx, id, out).await,
        "rds:DbInstance" => wait_instance(ctx, id, out).await,
        _ => Err(super::unknown_type(ty)),
    }
}

pub(super) async fn delete(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<(), AwsError> {
    match ty {
        "rds:DbSubnetGroup" => {
            ctx.rds
                .delete_db_subnet_group()
                .db_subnet_group_name(id)
                .send()
                .await
                .map_err(|e| sdk_err("DeleteDBSubnetGroup", e))?;
            Ok(())
        }
        "rds:DbCluster" => delete_cluster(ctx, id, out).await,
        "rds:DbInstance" => {
            // A cluster member has no snapshot of its own: no final snapshot options. AWS refuses
            // the call while the instance is still being created or modified (a rollback).
            when_settled(ctx, "DeleteDBInstance", id, "InvalidDBInstanceState", || async {
                ctx.rds
                    .delete_db_instance()
                    .db_instance_identifier(id)
                    .send()
                    .await
                    .map_err(|e| sdk_err("DeleteDBInstance", e))
                    .map(|_| ())
            })
            .await
        }
        _ => Err(super::unknown_type(ty)),
    }
}

pub(super) async fn wait_deleted(ctx: &Ctx, ty: &str, id: &str, _out: &Outputs) -> Result<(), AwsError> {
    match ty {
        // DeleteDBSubnetGroup is synchronous: the group is gone when the call returns.
        "rds:DbSubnetGroup" => Ok(()),
        "rds:DbCluster" => {
            poll(ctx, "DescribeDBClusters", &format!("DB cluster {id} to be deleted"), || async {
                match ctx.rds.describe_db_clusters().db_cluster_identifier(id).send().await {
                    Ok(r) if r.db_clusters().is_empty() => Ok(Some(())),
                    Ok(_) => Ok(None),
                    Err(e) => gone(sdk_err("DescribeDBClusters", e)),
                }
            })
            .await
        }
        "rds:DbInstance" => {
            poll(ctx, "DescribeDBInstances", &format!("DB instance {id} to be deleted"), || async {
                match ctx.rds.describe_db_instances().db_instance_identifier(id).send().await {
                    Ok(r) if r.db_instances().is_empty() => Ok(Some(())),
                    Ok(_) => Ok(None),
                    Err(e) => gone(sdk_err("DescribeDBInstances", e)),
                }
            })
            .await
        }
        _ => Err(super::unknown_type(ty)),
    }
}

fn tags(p: &mut Props) -> Result<Vec<Tag>, AwsError> {
    Ok(p.tags()?.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect())
}

/// Inside a wait for deletion: "not found" is the answer we wait for.
/// Values that AWS would refuse together (with this code), found before any call.
fn combination(operation: &'static str, message: &str) -> AwsError {
    AwsError {
        operation,
        code: "InvalidParameterCombination".into(),
        message: message.into(),
        kind: ErrorKind::Fatal,
        hint: None,
    }
}

/// A state in which the resource will never become available on its own.
fn failed(operation: &'static str, what: &str, status: &str) -> AwsError {
    AwsError {
        operation,
        code: "ResourceFailed".into(),
        message: format!("{what} is in state `{status}`"),
        kind: ErrorKind::Fatal,
        hint: Some("see the resource's events in the RDS console for the cause".into()),
    }
}

/// Runs a delete call, repeating it while AWS answers `busy_code` (the resource is still being
/// created or modified, as after an interrupted deploy).
async fn when_settled<F, Fut>(
    ctx: &Ctx,
    operation: &'static str,
    id: &str,
    busy_code: &str,
    call: F,
) -> Result<(), AwsError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), AwsError>>,
{
    poll(ctx, operation, &format!("{id} to accept deletion"), || async {
        match call().await {
            Ok(()) => Ok(Some(())),
            Err(e) if e.code == busy_code && !e.message.to_ascii_lowercase().contains("instances") => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await
}

async fn create_subnet_group(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("CreateDBSubnetGroup");
    let name = p.str("db_subnet_group_name")?;
    let description = p.str("db_subnet_group_description")?;
    let subnet_ids = p.str_list("subnet_ids")?;
    let tags = tags(p)?;
    p.finish()?;

    let r = ctx
        .rds
        .create_db_subnet_group()
        .db_subnet_group_name(&name)
        .db_subnet_group_description(description)
        .set_subnet_ids(Some(subnet_ids))
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| sdk_err("CreateDBSubnetGroup", e))?;
    let group = r.db_subnet_group();
    // RDS lowercases the name; the ID is what it answers with.
    let id = group.and_then(|g| g.db_subnet_group_name()).unwrap_or(&name).to_string();
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), id.clone().into());
    outputs.insert("name".into(), id.clone().into());
    put(&mut outputs, "arn", group.and_then(|g| g.db_subnet_group_arn()));
    Ok(Created { id, outputs })
}

async fn create_cluster(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    const OP: &str = "CreateDBCluster";
    p.for_op(OP);
    let id = p.str("db_cluster_identifier")?;
    let engine = p.str("engine")?;
    let engine_version = p.opt_str("engine_version")?;
    let database_name = p.opt_str("database_name")?;
    let master_username = p.opt_str("master_username")?;
    let manage_password = p.opt_bool("manage_master_user_password")?;
    let secret_kms_key_id = p.opt_str("master_user_secret_kms_key_id")?;
    let storage_encrypted = p.opt_bool("storage_encrypted")?;
    let kms_key_id = p.opt_str("kms_key_id")?;
    let subnet_group = p.opt_str("db_subnet_group_name")?;
    let security_groups = p.str_list("vpc_security_group_ids")?;
    let backup_retention = p.opt_i32("backup_retention_period")?;
    let log_exports = p.str_list("enable_cloudwatch_logs_exports")?;
    let deletion_protection = p.opt_bool("deletion_protection")?;
    let copy_tags = p.opt_bool("copy_tags_to_snapshot")?;
    let scaling = match p.opt_struct("serverless_v2_scaling_configuration")? {
        Some(mut s) => {
            let min = s.opt_f64("min_capacity")?;
            let max = s.opt_f64("max_capacity")?;
            s.finish()?;
            Some(ServerlessV2ScalingConfiguration::builder().set_min_capacity(min).set_max_capacity(max).build())
        }
        None => None,
    };
    let skip_final_snapshot = p
        .opt_bool("skip_final_snapshot")?
        .ok_or_else(|| AwsError::input(OP, "required property `skip_final_snapshot` is missing"))?;
    let final_snapshot = p.opt_str("final_db_snapshot_identifier")?;
    let tags = tags(p)?;
    p.finish()?;

    // Checked now, not at teardown: a choice DeleteDBCluster would refuse must not be found
    // only when the stack is being torn down.
    match (skip_final_snapshot, &final_snapshot) {
        (false, None) => {
            return Err(combination(OP, "skip_final_snapshot = false needs final_db_snapshot_identifier")
                .with_hint("name the final snapshot, or set skip_final_snapshot = true"));
        }
        (true, Some(_)) => {
            return Err(combination(OP, "final_db_snapshot_identifier is set but skip_final_snapshot = true")
                .with_hint("remove final_db_snapshot_identifier, or set skip_final_snapshot = false"));
        }
        _ => {}
    }
    if master_username.is_some() && manage_password != Some(true) {
        return Err(combination(OP, "a master user needs manage_master_user_password = true").with_hint(
            "ironplan never handles a database password: RDS keeps it in Secrets Manager, read it through master_user_secret_arn",
        ));
    }

    let r = ctx
        .rds
        .create_db_cluster()
        .db_cluster_identifier(&id)
        .engine(engine)
        .set_engine_version(engine_version)
        .set_database_name(database_name)
        .set_master_username(master_username)
        .set_manage_master_user_password(manage_password)
        .set_master_user_secret_kms_key_id(secret_kms_key_id)
        .set_storage_encrypted(storage_encrypted)
        .set_kms_key_id(kms_key_id)
        .set_db_subnet_group_name(subnet_group)
        .set_vpc_security_group_ids(Some(security_groups))
        .set_backup_retention_period(backup_retention)
        .set_enable_cloudwatch_logs_exports(Some(log_exports))
        .set_deletion_protection(deletion_protection)
        .set_copy_tags_to_snapshot(copy_tags)
        .set_serverless_v2_scaling_configuration(scaling)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| sdk_err(OP, e))?;
    let mut outputs = Outputs::new();
    outputs.insert("skip_final_snapshot".into(), skip_final_snapshot.into());
    put(&mut outputs, "final_db_snapshot_identifier", final_snapshot);
    let id = match r.db_cluster() {
        Some(c) => {
            cluster_outputs(c, &mut outputs);
            c.db_cluster_identifier().unwrap_or(&id).to_string()
        }
        None => id,
    };
    outputs.insert("id".into(), id.clone().into());
    Ok(Created { id, outputs })
}

fn cluster_outputs(c: &aws_sdk_rds::types::DbCluster, out: &mut Outputs) {
    put(out, "arn", c.db_cluster_arn());
    put(out, "endpoint", c.endpoint());
    put(out, "reader_endpoint", c.reader_endpoint());
    put(out, "port", c.port());
    put(out, "master_user_secret_arn", c.master_user_secret().and_then(|s| s.secret_arn()));
    put(out, "resource_id", c.db_cluster_resource_id());
}

async fn wait_cluster(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    const OP: &str = "DescribeDBClusters";
    let what = format!("DB cluster {id} to be available");
    poll(ctx, OP, &what, || async {
        let r = ctx.rds.describe_db_clusters().db_cluster_identifier(id).send().await.map_err(|e| sdk_err(OP, e))?;
        let Some(c) = r.db_clusters().first() else { return Ok(None) };
        let status = c.status().unwrap_or_default();
        if FAILED_STATES.contains(&status) {
            return Err(failed(OP, &format!("DB cluster {id}"), status));
        }
        // The master secret is created alongside the cluster; the ECS task reads it.
        let secret_ready = c.master_user_secret().and_then(|s| s.secret_status()) != Some("creating");
        if status != "available" || !secret_ready {
            return Ok(None);
        }
        let mut out = out.clone();
        cluster_outputs(c, &mut out);
        Ok(Some(out))
    })
    .await
}

/// Cluster and instance states that need a person (RDS documents them as terminal).
const FAILED_STATES: &[&str] = &[
    "failed",
    "inaccessible-encryption-credentials",
    "incompatible-network",
    "incompatible-parameters",
    "incompatible-restore",
    "restore-error",
    "storage-full",
];

async fn delete_cluster(ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError> {
    const OP: &str = "DeleteDBCluster";
    let skip = out
        .get("skip_final_snapshot")
        .and_then(Value::as_bool)
        .ok_or_else(|| AwsError::input(OP, "state lacks output `skip_final_snapshot`"))?;
    let final_snapshot = if skip { None } else { Some(out_str(out, "final_db_snapshot_identifier", OP)?.to_string()) };
    // Retried while the cluster is still being created or modified (an interrupted deploy); not
    // while it holds instances ironplan did not delete, which only a person can resolve.
    when_settled(ctx, OP, id, "InvalidDBClusterStateFault", || async {
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

async fn create_instance(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    const OP: &str = "CreateDBInstance";
    p.for_op(OP);
    let id = p.str("db_instance_identifier")?;
    let cluster = p.str("db_cluster_identifier")?;
    let class = p.str("db_instance_class")?;
    let engine = p.str("engine")?;
    let public = p.opt_bool("publicly_accessible")?;
    let auto_minor = p.opt_bool("auto_minor_version_upgrade")?;
    let tags = tags(p)?;
    p.finish()?;

    let r = ctx
        .rds
        .create_db_instance()
        .db_instance_identifier(&id)
        .db_cluster_identifier(cluster)
        .db_instance_class(class)
        .engine(engine)
        .set_publicly_accessible(public)
        .set_auto_minor_version_upgrade(auto_minor)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| sdk_err(OP, e))?;
    let mut outputs = Outputs::new();
    let id = match r.db_instance() {
        Some(i) => {
            instance_outputs(i, &mut outputs);
            i.db_instance_identifier().unwrap_or(&id).to_string()
        }
        None => id,
    };
    outputs.insert("id".into(), id.clone().into());
    Ok(Created { id, outputs })
}

fn instance_outputs(i: &aws_sdk_rds::types::DbInstance, out: &mut Outputs) {
    put(out, "arn", i.db_instance_arn());
    put(out, "endpoint", i.endpoint().and_then(|e| e.address()));
}

async fn wait_instance(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    const OP: &str = "DescribeDBInstances";
    let what = format!("DB instance {id} to be available");
    poll(ctx, OP, &what, || async {
        let r = ctx.rds.describe_db_instances().db_instance_identifier(id).send().await.map_err(|e| sdk_err(OP, e))?;
        let Some(i) = r.db_instances().first() else { return Ok(None) };
        let status = i.db_instance_status().unwrap_or_default();
        if FAILED_STATES.contains(&status) {
            return Err(failed(OP, &format!("DB instance {id}"), status));
        }
        if status != "available" {
            return Ok(None);
        }
        let mut out = out.clone();
        instance_outputs(i, &mut out);
        Ok(Some(out))
    })
    .await
}

#[cfg(test)]
mod adopt_tests {
    use serde_json::json;

    use crate::aws::testing::{assert_not_ours, ctx, find, props, tags};
    use crate::aws::{Found, create};
    use crate::emulator::Moto;

    /// A subnet group, a cluster and an instance made outside ironplan under the plan's
    /// identifiers are not ours; the plan's own are.
    #[tokio::test]
    async fn look_alike_subnet_group_cluster_and_instance_are_not_ours() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let vpc = ctx.ec2.create_vpc().cidr_block("10.7.0.0/16").send().await.expect("vpc");
        let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
        let mut subnets = Vec::new();
        for (cidr, az) in [("10.7.1.0/24", "us-east-1a"), ("10.7.2.0/24", "us-east-1b")] {
            let s = ctx.ec2.create_subnet().vpc_id(&vpc_id).cidr_block(cidr).availability_zone(az).send().await;
            subnets.push(s.expect("subnet").subnet().and_then(|s| s.subnet_id()).expect("id").to_string());
        }
        ctx.rds
            .create_db_subnet_group()
            .db_subnet_group_name("s-dev-db")
            .db_subnet_group_description("by hand")
            .set_subnet_ids(Some(subnets.clone()))
            .send()
            .await
            .expect("subnet group by hand");
        let sg = |name: &str| {
            json!({"db_subnet_group_name": name, "db_subnet_group_description": "d", "subnet_ids": subnets,
                   "tags": tags("s-dev", "db_subnets")})
        };
        assert_not_ours(&find(&ctx, "rds:DbSubnetGroup", &sg("s-dev-db")).await, "has no `ironplan:stack` tag");
        create(&ctx, "rds:DbSubnetGroup", &mut props(sg("s-dev-ours"))).await.expect("ours");
        assert!(matches!(find(&ctx, "rds:DbSubnetGroup", &sg("s-dev-ours")).await, Found::Ours { .. }));

        ctx.rds
            .create_db_cluster()
            .db_cluster_identifier("s-dev-aurora")
            .engine("aurora-postgresql")
            .master_username("admin_user")
            .manage_master_user_password(true)
            .send()
            .await
            .expect("cluster by hand");
        let cluster = json!({"db_cluster_identifier": "s-dev-aurora", "engine": "aurora-postgresql",
                             "tags": tags("s-dev", "db")});
        assert_not_ours(&find(&ctx, "rds:DbCluster", &cluster).await, "has no `ironplan:stack` tag");
        ctx.rds
            .create_db_instance()
            .db_instance_identifier("s-dev-aurora-1")
            .db_cluster_identifier("s-dev-aurora")
            .db_instance_class("db.serverless")
            .engine("aurora-postgresql")
            .send()
            .await
            .expect("instance by hand");
        let instance = json!({"db_instance_identifier": "s-dev-aurora-1", "db_cluster_identifier": "s-dev-aurora",
                              "db_instance_class": "db.serverless", "engine": "aurora-postgresql",
                              "tags": tags("s-dev", "db_writer")});
        assert_not_ours(&find(&ctx, "rds:DbInstance", &instance).await, "has no `ironplan:stack` tag");
    }
}
