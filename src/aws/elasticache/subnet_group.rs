//! `elasticache:SubnetGroup`: the subnets an ElastiCache cluster may place its nodes in.
//!
//! Usable once created, and gone once DeleteCacheSubnetGroup returns (both calls are
//! synchronous). ElastiCache lowercases the name; the ID is the name it answers with.

use async_trait::async_trait;
use aws_sdk_elasticache::types::{CacheSubnetGroup as Group, Tag};
use serde_json::{Map, json};

use super::{CACHE_SUBNET_GROUP_NAME, STR_LIST, claim, found, pairs, read_tags};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, put, sdk_err, tag_table};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "elasticache:SubnetGroup",
    aliases: &[
        "AWS::ElastiCache::SubnetGroup",
        "aws_elasticache_subnet_group",
        "aws:elasticache/subnetGroup:SubnetGroup",
    ],
    summary: "The subnets an ElastiCache cluster may place its nodes in",
    calls: "CreateCacheSubnetGroup (all properties); DeleteCacheSubnetGroup",
    props: &[
        Prop::req("cache_subnet_group_name", Kind::Str, "name of the group").name_rule(&CACHE_SUBNET_GROUP_NAME),
        Prop::req("cache_subnet_group_description", Kind::Str, "description of the group").in_place(),
        Prop::req("subnet_ids", STR_LIST, "subnets of the group").in_place(),
        Prop::opt("tags", Kind::Tags, "tags of the group"),
    ],
    attrs: &[attr("id", "name of the group"), attr("name", "name of the group"), attr("arn", "ARN of the group")],
    taggable: true,
    holds_data: false,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

pub struct SubnetGroup;

/// What a create reads.
pub struct Input {
    name: String,
    description: String,
    subnet_ids: Vec<String>,
    tags: Vec<Tag>,
}

#[async_trait]
impl Lifecycle for SubnetGroup {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = super::NOT_FOUND;
    const TAGS_BY_ARN: bool = true;
    const UPDATES: &'static [&'static str] = &["cache_subnet_group_description", "subnet_ids", "tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateCacheSubnetGroup");
        Ok(Input {
            name: p.str("cache_subnet_group_name")?,
            description: p.str("cache_subnet_group_description")?,
            subnet_ids: p.str_list("subnet_ids")?,
            tags: super::tags(p.tags()?),
        })
    }

    async fn create(ctx: &Ctx, g: &Input) -> Result<Created, AwsError> {
        let r = ctx
            .elasticache
            .create_cache_subnet_group()
            .cache_subnet_group_name(&g.name)
            .cache_subnet_group_description(&g.description)
            .set_subnet_ids(Some(g.subnet_ids.clone()))
            .set_tags(Some(g.tags.clone()))
            .send()
            .await
            .map_err(|e| sdk_err("CreateCacheSubnetGroup", e))?;
        let group = r.cache_subnet_group();
        // ElastiCache lowercases the name; the ID is what it answers with.
        let id = group.and_then(|g| g.cache_subnet_group_name()).unwrap_or(&g.name).to_string();
        Ok(Created { outputs: outputs(&id, group), id })
    }

    /// The group of that name (unique in the account and region): ours only with both
    /// identity tags, which the create carries.
    async fn find(ctx: &Ctx, g: &Input, who: &Identity) -> Result<Found, AwsError> {
        let name = g.name.to_ascii_lowercase();
        let Some(group) = describe(ctx, &name).await? else { return Ok(Found::Nothing) };
        claim(ctx, who, Created { outputs: outputs(&name, Some(&group)), id: name }, group.arn()).await
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let Some(group) = describe(ctx, id).await? else { return Ok(None) };
        let tags = read_tags(ctx, group.arn()).await?;
        let mut props = Map::new();
        props.insert("cache_subnet_group_name".into(), json!(id));
        put(&mut props, "cache_subnet_group_description", group.cache_subnet_group_description());
        let subnets: Vec<&str> = group.subnets().iter().filter_map(|s| s.subnet_identifier()).collect();
        props.insert("subnet_ids".into(), json!(subnets));
        props.insert("tags".into(), tag_table(pairs(&tags)));
        let mut outputs = out.clone();
        outputs.extend(self::outputs(id, Some(&group)));
        Ok(Some(Live { props, outputs }))
    }

    /// ModifyCacheSubnetGroup (description, subnets); the tags.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, g: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        if changed.iter().any(|c| c != "tags") {
            let req = ctx.elasticache.modify_cache_subnet_group().cache_subnet_group_name(id);
            let req = req.cache_subnet_group_description(&g.description).set_subnet_ids(Some(g.subnet_ids.clone()));
            req.send().await.map_err(|e| sdk_err("ModifyCacheSubnetGroup", e))?;
        }
        if changed.iter().any(|c| c == "tags") {
            let arn = crate::aws::out_str(out, "arn", "AddTagsToResource")?;
            super::retag(ctx, arn, &g.tags).await?;
        }
        Ok(out.clone())
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        match ctx.elasticache.delete_cache_subnet_group().cache_subnet_group_name(id).send().await {
            Ok(_) => Ok(()),
            Err(e) => match sdk_err("DeleteCacheSubnetGroup", e) {
                // moto 5.2.5 does not implement the call: a 500 with an HTML page, no code.
                e if ctx.emulator && e.code == "Unknown" => Ok(()),
                e => Err(e),
            },
        }
    }

    /// Gone once DescribeCacheSubnetGroups no longer knows it; on the emulator at once, since
    /// moto 5.2.5 cannot delete it (see `delete`).
    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(ctx.emulator || describe(ctx, id).await?.is_none())
    }
}

fn outputs(id: &str, group: Option<&Group>) -> Outputs {
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(id));
    outputs.insert("name".into(), json!(id));
    put(&mut outputs, "arn", group.and_then(|g| g.arn()));
    outputs
}

/// The group named `name`, if it exists.
async fn describe(ctx: &Ctx, name: &str) -> Result<Option<Group>, AwsError> {
    let r = ctx.elasticache.describe_cache_subnet_groups().cache_subnet_group_name(name).send().await;
    let r = found(r.map_err(|e| sdk_err("DescribeCacheSubnetGroups", e)))?;
    Ok(r.and_then(|r| r.cache_subnet_groups.unwrap_or_default().into_iter().next()))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::testing::subnet;
    use crate::aws::rds::testing::reads_back;
    use crate::aws::testing::{assert_not_ours, ctx, find, props, tags};
    use crate::aws::{Found, create, read};
    use crate::emulator::Moto;

    fn planned(name: &str, subnet_id: &str) -> Value {
        json!({"cache_subnet_group_name": name, "cache_subnet_group_description": "d",
               "subnet_ids": [subnet_id], "tags": tags("s-dev", "cache_subnets")})
    }

    /// A subnet group made outside ironplan under the plan's name is not ours; the plan's own
    /// (created with the identity tags) is.
    #[tokio::test]
    async fn a_look_alike_subnet_group_is_not_ours() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let (_, subnet_id) = subnet(&ctx, "10.8.0.0/16", "10.8.1.0/24").await;
        ctx.elasticache
            .create_cache_subnet_group()
            .cache_subnet_group_name("s-dev-cache")
            .cache_subnet_group_description("by hand")
            .subnet_ids(&subnet_id)
            .send()
            .await
            .expect("subnet group by hand");
        let sg = |name: &str| planned(name, &subnet_id);
        assert_not_ours(&find(&ctx, "elasticache:SubnetGroup", &sg("s-dev-cache")).await, "has no `ironplan:stack`");
        create(&ctx, "elasticache:SubnetGroup", &mut props(sg("s-dev-ours"))).await.expect("ours");
        assert!(matches!(find(&ctx, "elasticache:SubnetGroup", &sg("s-dev-ours")).await, Found::Ours { .. }));
    }

    /// What `read` reports is what the plan said, with the outputs `wait_ready` gave. (moto
    /// cannot delete a cache subnet group: its "gone" is not tested here.)
    #[tokio::test]
    async fn a_subnet_group_reads_back_as_planned() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let (_, subnet_id) = subnet(&ctx, "10.8.0.0/16", "10.8.1.0/24").await;
        let (_, out) = reads_back(&ctx, "elasticache:SubnetGroup", &planned("s-dev-cache", &subnet_id), 0).await;
        let gone = read(&ctx, "elasticache:SubnetGroup", "s-dev-never-made", &out).await.expect("read");
        assert!(gone.is_none(), "{gone:?}");
    }
}
