//! `elasticache:*` types: a Redis (or Valkey) replication group and its subnet group.
//!
//! The replication group's text field is `replication_group_description`, as the AWS SDK for
//! Rust names it (other tools call it `description`; the plan checker suggests the right name).
//!
//! Shared here: the service's name rules, its "not there" codes, and tags (the describe calls
//! answer without them: ListTagsForResource on the ARN).

mod replication_group;
mod subnet_group;

use aws_sdk_elasticache::types::Tag;

use super::adapter::{Adapter, Type};
use super::{AwsError, Created, Ctx, Found, Identity, absent, found, sdk_err};
use crate::schema::{Kind, NameRule};

pub(super) const TYPES: &[&dyn Adapter] =
    &[&Type::<subnet_group::SubnetGroup>::NEW, &Type::<replication_group::ReplicationGroup>::NEW];

/// How ElastiCache says "it is not there" (DescribeCacheClusters answers `CacheClusterNotFound`).
const NOT_FOUND: &[&str] = &["ReplicationGroupNotFoundFault", "CacheSubnetGroupNotFoundFault", "CacheClusterNotFound"];

const STR_LIST: Kind = Kind::List(&Kind::Str);

/// Stored in lowercase, like RDS identifiers: ironplan asks for lowercase.
pub const REPLICATION_GROUP_ID: NameRule =
    NameRule::new("ElastiCache replication group ID", "CreateReplicationGroup ReplicationGroupId", 1, 40, "a-z0-9-")
        .first("a-z")
        .not_last("-")
        .no_double_hyphen();
pub const CACHE_SUBNET_GROUP_NAME: NameRule =
    NameRule::new("ElastiCache subnet group name", "CreateCacheSubnetGroup CacheSubnetGroupName", 1, 255, "a-z0-9-");

/// The plan's tags as ElastiCache takes them.
fn tags(tags: Vec<(String, String)>) -> Vec<Tag> {
    tags.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

fn pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().filter_map(|t| Some((t.key()?, t.value()?)))
}

/// The tags of `arn` (ListTagsForResource).
async fn list_tags(ctx: &Ctx, arn: Option<&str>) -> Result<Vec<Tag>, AwsError> {
    let Some(arn) = arn else { return Ok(Vec::new()) };
    let r = ctx.elasticache.list_tags_for_resource().resource_name(arn).send().await;
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
/// dropped, AddTagsToResource for the rest.
async fn retag(ctx: &Ctx, arn: &str, want: &[Tag]) -> Result<(), AwsError> {
    let dropped: Vec<String> = list_tags(ctx, Some(arn))
        .await?
        .iter()
        .filter_map(|t| t.key())
        .filter(|k| !k.starts_with("aws:") && !want.iter().any(|w| w.key() == Some(*k)))
        .map(str::to_owned)
        .collect();
    if !dropped.is_empty() {
        let r = ctx.elasticache.remove_tags_from_resource().resource_name(arn).set_tag_keys(Some(dropped)).send().await;
        r.map_err(|e| sdk_err("RemoveTagsFromResource", e))?;
    }
    let r = ctx.elasticache.add_tags_to_resource().resource_name(arn).set_tags(Some(want.to_vec())).send().await;
    r.map_err(|e| sdk_err("AddTagsToResource", e))?;
    Ok(())
}

/// Judges a found resource by its tags (ListTagsForResource on its ARN).
async fn claim(ctx: &Ctx, who: &Identity, created: Created, arn: Option<&str>) -> Result<Found, AwsError> {
    match list_tags(ctx, arn).await {
        Ok(tags) => Ok(who.claim(created, pairs(&tags))),
        Err(e) => absent(e),
    }
}

#[cfg(test)]
mod testing {
    use crate::aws::Ctx;

    /// A VPC and one subnet in it: their IDs.
    pub async fn subnet(ctx: &Ctx, vpc_cidr: &str, cidr: &str) -> (String, String) {
        let vpc = ctx.ec2.create_vpc().cidr_block(vpc_cidr).send().await.expect("vpc");
        let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
        let subnet = ctx.ec2.create_subnet().vpc_id(&vpc_id).cidr_block(cidr).send().await.expect("subnet");
        let subnet_id = subnet.subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_string();
        (vpc_id, subnet_id)
    }
}
