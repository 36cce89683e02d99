//! `rds:*` types: an Aurora cluster, its subnet group and its instances.
//!
//! The master password never passes through ironplan: a cluster with a master user must let RDS
//! manage the password in Secrets Manager (`manage_master_user_password = true`), and only the
//! secret's ARN comes back. The teardown choice about a final snapshot is an explicit plan
//! property of the cluster, named as `DeleteDBCluster` names it, checked at create time and kept
//! in the cluster's outputs until teardown.
//!
//! Shared here: the service's name rules, its "not there" codes, tag conversion, the states
//! that need a person, and the retried delete call.

mod db_cluster;
mod db_instance;
mod db_subnet_group;

use aws_sdk_rds::types::Tag;

use super::adapter::{Adapter, Type};
use super::{AwsError, Ctx, ErrorKind, found, sdk_err};
use crate::schema::{Kind, NameRule};

pub(super) const TYPES: &[&dyn Adapter] = &[
    &Type::<db_subnet_group::DbSubnetGroup>::NEW,
    &Type::<db_cluster::DbCluster>::NEW,
    &Type::<db_instance::DbInstance>::NEW,
];

/// How RDS says "it is not there" (DescribeDBInstances answers `DBInstanceNotFound`).
const NOT_FOUND: &[&str] = &["DBClusterNotFoundFault", "DBInstanceNotFound", "DBSubnetGroupNotFoundFault"];

const STR_LIST: Kind = Kind::List(&Kind::Str);

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

/// The plan's tags as RDS takes them.
fn tags(tags: Vec<(String, String)>) -> Vec<Tag> {
    tags.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// Tags as the identity guard reads them.
fn pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().filter_map(|t| Some((t.key()?, t.value()?)))
}

/// The tags of `arn` (ListTagsForResource), for what the describe calls answer without.
async fn list_tags(ctx: &Ctx, arn: Option<&str>) -> Result<Vec<Tag>, AwsError> {
    let Some(arn) = arn else { return Ok(Vec::new()) };
    let r = ctx.rds.list_tags_for_resource().resource_name(arn).send().await;
    Ok(r.map_err(|e| sdk_err("ListTagsForResource", e))?.tag_list.unwrap_or_default())
}

/// The tags of `arn` for `read`: from the read run's GetResources if it has them
/// ([`tagging::tags`](crate::aws::tagging::tags)), else [`list_tags`].
async fn read_tags(ctx: &Ctx, arn: Option<&str>) -> Result<Vec<Tag>, AwsError> {
    let Some(arn) = arn else { return Ok(Vec::new()) };
    match crate::aws::tagging::tags(ctx, arn).await? {
        Some(pairs) => Ok(tags(pairs)),
        None => list_tags(ctx, Some(arn)).await,
    }
}

/// Sets the tags of `arn` to `want`, as an update: RemoveTagsFromResource for the keys the plan
/// dropped, AddTagsToResource for the rest (which overwrites).
async fn retag(ctx: &Ctx, arn: &str, want: &[Tag]) -> Result<(), AwsError> {
    let dropped: Vec<String> = list_tags(ctx, Some(arn))
        .await?
        .iter()
        .filter_map(|t| t.key())
        .filter(|k| !k.starts_with("aws:") && !want.iter().any(|w| w.key() == Some(*k)))
        .map(str::to_owned)
        .collect();
    if !dropped.is_empty() {
        let r = ctx.rds.remove_tags_from_resource().resource_name(arn).set_tag_keys(Some(dropped)).send().await;
        r.map_err(|e| sdk_err("RemoveTagsFromResource", e))?;
    }
    let r = ctx.rds.add_tags_to_resource().resource_name(arn).set_tags(Some(want.to_vec())).send().await;
    r.map_err(|e| sdk_err("AddTagsToResource", e))?;
    Ok(())
}

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

/// `Err` for a state in which the resource will never become available on its own.
fn check_status(operation: &'static str, what: &str, status: &str) -> Result<(), AwsError> {
    if !FAILED_STATES.contains(&status) {
        return Ok(());
    }
    Err(AwsError {
        operation,
        code: "ResourceFailed".into(),
        message: format!("{what} is in state `{status}`"),
        kind: ErrorKind::Fatal,
        hint: Some("see the resource's events in the RDS console for the cause".into()),
    })
}

/// A delete refused with `code` only for now: the resource is still being created or
/// modified (an interrupted deploy); not while it holds instances ironplan did not delete,
/// which only a person can resolve.
fn busy(code: &'static str) -> impl Fn(&AwsError) -> bool {
    move |e| e.code == code && !e.message.to_ascii_lowercase().contains("instances")
}

/// Test helpers, also for the other services' adapters.
#[cfg(test)]
pub(in crate::aws) mod testing {
    use serde_json::Value;

    use crate::aws::testing::{assert_reads_back, props};
    use crate::aws::{Ctx, Outputs, adapter, create, delete, read, wait_deleted, wait_ready};

    /// Creates `planned` as a `ty` and waits for it; checks that `read` gives back what the plan
    /// said, every property but `unreported` of them, and the outputs `wait_ready` gave.
    /// Returns its ID and outputs.
    pub async fn reads_back(ctx: &Ctx, ty: &str, planned: &Value, unreported: usize) -> (String, Outputs) {
        let made = create(ctx, ty, &mut props(planned.clone())).await.unwrap_or_else(|e| panic!("create {ty}: {e}"));
        let ready = wait_ready(ctx, ty, &made.id, &made.outputs).await.unwrap_or_else(|e| panic!("ready {ty}: {e}"));
        assert_reads_back(ctx, ty, planned, &made.id, &ready).await;
        let live = read(ctx, ty, &made.id, &ready).await.expect("read").expect("exists");
        assert_eq!(live.outputs, ready, "{ty}: read gave other outputs than wait_ready");
        let declared = adapter(ty).expect("registered").spec().props.len();
        assert_eq!(live.props.len(), declared - unreported, "{ty}: {:?}", live.props);
        (made.id, ready)
    }

    /// Deletes it, waits until it is gone, and checks that `read` then says it is gone.
    pub async fn reads_gone_once_deleted(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) {
        delete(ctx, ty, id, out).await.unwrap_or_else(|e| panic!("delete {ty}: {e}"));
        wait_deleted(ctx, ty, id, out).await.unwrap_or_else(|e| panic!("wait_deleted {ty}: {e}"));
        assert!(read(ctx, ty, id, out).await.expect("read").is_none(), "{ty} {id} still reads");
    }

    /// A VPC with a subnet in each of two availability zones: its ID and theirs.
    pub async fn subnets(ctx: &Ctx) -> (String, Vec<String>) {
        let vpc = ctx.ec2.create_vpc().cidr_block("10.7.0.0/16").send().await.expect("vpc");
        let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
        let mut ids = Vec::new();
        for (cidr, az) in [("10.7.1.0/24", "us-east-1a"), ("10.7.2.0/24", "us-east-1b")] {
            let s = ctx.ec2.create_subnet().vpc_id(&vpc_id).cidr_block(cidr).availability_zone(az).send().await;
            ids.push(s.expect("subnet").subnet().and_then(|s| s.subnet_id()).expect("id").to_string());
        }
        (vpc_id, ids)
    }

    /// An Aurora cluster made outside ironplan (no tags).
    pub async fn cluster_by_hand(ctx: &Ctx, id: &str) {
        ctx.rds
            .create_db_cluster()
            .db_cluster_identifier(id)
            .engine("aurora-postgresql")
            .master_username("admin_user")
            .manage_master_user_password(true)
            .send()
            .await
            .expect("cluster by hand");
    }
}
