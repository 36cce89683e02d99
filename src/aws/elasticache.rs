//! Adapter for `elasticache:*` types: `SubnetGroup`, `ReplicationGroup`.
//!
//! A replication group's endpoints exist only once it is available: `create` returns its name
//! and ARN, `wait_ready` adds the endpoints of its node group (cluster mode disabled: one).

use aws_sdk_elasticache::types::{ReplicationGroup, Tag};

use super::{AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, absent, gone, poll, put, sdk_err};

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    match ty {
        "elasticache:SubnetGroup" => create_subnet_group(ctx, p).await,
        "elasticache:ReplicationGroup" => create_replication_group(ctx, p).await,
        _ => Err(super::unknown_type(ty)),
    }
}

/// Finds what an interrupted create made, by its name (unique in the account and region): ours
/// only with both identity tags, which the create carries.
pub(super) async fn adopt(ctx: &Ctx, ty: &str, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    match ty {
        "elasticache:SubnetGroup" => {
            const OP: &str = "DescribeCacheSubnetGroups";
            let name = p.str("cache_subnet_group_name")?.to_ascii_lowercase();
            let r = match ctx.elasticache.describe_cache_subnet_groups().cache_subnet_group_name(&name).send().await {
                Ok(r) => r,
                Err(e) => return absent(sdk_err(OP, e)),
            };
            let Some(g) = r.cache_subnet_groups().first() else { return Ok(Found::Nothing) };
            let mut outputs = Outputs::new();
            outputs.insert("id".into(), name.clone().into());
            outputs.insert("name".into(), name.clone().into());
            put(&mut outputs, "arn", g.arn());
            claim(ctx, who, Created { id: name, outputs }, g.arn()).await
        }
        "elasticache:ReplicationGroup" => {
            const OP: &str = "DescribeReplicationGroups";
            let id = p.str("replication_group_id")?.to_ascii_lowercase();
            let r = match ctx.elasticache.describe_replication_groups().replication_group_id(&id).send().await {
                Ok(r) => r,
                Err(e) => return absent(sdk_err(OP, e)),
            };
            let Some(g) = r.replication_groups().first() else { return Ok(Found::Nothing) };
            let mut outputs = Outputs::new();
            group_outputs(g, &mut outputs);
            outputs.insert("id".into(), id.clone().into());
            claim(ctx, who, Created { id, outputs }, g.arn()).await
        }
        _ => Err(super::unknown_type(ty)),
    }
}

/// Judges a found resource by its tags (ListTagsForResource on its ARN).
async fn claim(ctx: &Ctx, who: &Identity, created: Created, arn: Option<&str>) -> Result<Found, AwsError> {
    let tags = match arn {
        None => Vec::new(),
        Some(arn) => match ctx.elasticache.list_tags_for_resource().resource_name(arn).send().await {
            Ok(r) => r.tag_list().to_vec(),
            Err(e) => return absent(sdk_err("ListTagsForResource", e)),
        },
    };
    Ok(who.claim(created, tags.iter().filter_map(|t| Some((t.key()?, t.value()?)))))
}

pub(super) async fn wait_ready(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    match ty {
        // A subnet group is usable once created.
        "elasticache:SubnetGroup" => Ok(out.clone()),
        "elasticache:ReplicationGroup" => wait_replication_group(ctx, id, out).await,
        _ => Err(super::unknown_type(ty)),
    }
}

pub(super) async fn delete(ctx: &Ctx, ty: &str, id: &str, _out: &Outputs) -> Result<(), AwsError> {
    match ty {
        "elasticache:SubnetGroup" => {
            match ctx.elasticache.delete_cache_subnet_group().cache_subnet_group_name(id).send().await {
                Ok(_) => Ok(()),
                Err(e) => match sdk_err("DeleteCacheSubnetGroup", e) {
                    // moto 5.2.5 does not implement the call: a 500 with an HTML page, no code.
                    e if ctx.emulator && e.code == "Unknown" => Ok(()),
                    e => Err(e),
                },
            }
        }
        "elasticache:ReplicationGroup" => {
            const OP: &str = "DeleteReplicationGroup";
            // AWS refuses the call while the group is still being created or modified (an
            // interrupted deploy): repeat it until the group settles.
            poll(ctx, OP, &format!("replication group {id} to accept deletion"), || async {
                match ctx.elasticache.delete_replication_group().replication_group_id(id).send().await {
                    Ok(_) => Ok(Some(())),
                    Err(e) => {
                        let e = sdk_err(OP, e);
                        if e.code == "InvalidReplicationGroupState" { Ok(None) } else { Err(e) }
                    }
                }
            })
            .await
        }
        _ => Err(super::unknown_type(ty)),
    }
}

pub(super) async fn wait_deleted(ctx: &Ctx, ty: &str, id: &str, _out: &Outputs) -> Result<(), AwsError> {
    match ty {
        // DeleteCacheSubnetGroup is synchronous: the group is gone when the call returns.
        "elasticache:SubnetGroup" => Ok(()),
        "elasticache:ReplicationGroup" => {
            const OP: &str = "DescribeReplicationGroups";
            poll(ctx, OP, &format!("replication group {id} to be deleted"), || async {
                match ctx.elasticache.describe_replication_groups().replication_group_id(id).send().await {
                    Ok(r) if r.replication_groups().is_empty() => Ok(Some(())),
                    // moto 5.2.5 keeps a deleted group in `deleting` for ever; AWS removes it, and
                    // its subnet group and security groups stay in use until then.
                    Ok(r) if ctx.emulator && r.replication_groups().iter().all(|g| g.status() == Some("deleting")) => {
                        Ok(Some(()))
                    }
                    Ok(_) => Ok(None),
                    Err(e) => gone(sdk_err(OP, e)),
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
async fn create_subnet_group(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    const OP: &str = "CreateCacheSubnetGroup";
    p.for_op(OP);
    let name = p.str("cache_subnet_group_name")?;
    let description = p.str("cache_subnet_group_description")?;
    let subnet_ids = p.str_list("subnet_ids")?;
    let tags = tags(p)?;
    p.finish()?;

    let r = ctx
        .elasticache
        .create_cache_subnet_group()
        .cache_subnet_group_name(&name)
        .cache_subnet_group_description(description)
        .set_subnet_ids(Some(subnet_ids))
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| sdk_err(OP, e))?;
    let group = r.cache_subnet_group();
    // ElastiCache lowercases the name; the ID is what it answers with.
    let id = group.and_then(|g| g.cache_subnet_group_name()).unwrap_or(&name).to_string();
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), id.clone().into());
    outputs.insert("name".into(), id.clone().into());
    put(&mut outputs, "arn", group.and_then(|g| g.arn()));
    Ok(Created { id, outputs })
}

async fn create_replication_group(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    const OP: &str = "CreateReplicationGroup";
    p.for_op(OP);
    let id = p.str("replication_group_id")?;
    let description = p.str("replication_group_description")?;
    let engine = p.opt_str("engine")?;
    let engine_version = p.opt_str("engine_version")?;
    let node_type = p.opt_str("cache_node_type")?;
    let num_clusters = p.opt_i32("num_cache_clusters")?;
    let failover = p.opt_bool("automatic_failover_enabled")?;
    let multi_az = p.opt_bool("multi_az_enabled")?;
    let at_rest = p.opt_bool("at_rest_encryption_enabled")?;
    let kms_key_id = p.opt_str("kms_key_id")?;
    let transit = p.opt_bool("transit_encryption_enabled")?;
    let subnet_group = p.opt_str("cache_subnet_group_name")?;
    let security_groups = p.str_list("security_group_ids")?;
    let port = p.opt_i32("port")?;
    let snapshot_retention = p.opt_i32("snapshot_retention_limit")?;
    let tags = tags(p)?;
    p.finish()?;

    let r = ctx
        .elasticache
        .create_replication_group()
        .replication_group_id(&id)
        .replication_group_description(description)
        .set_engine(engine)
        .set_engine_version(engine_version)
        .set_cache_node_type(node_type)
        .set_num_cache_clusters(num_clusters)
        .set_automatic_failover_enabled(failover)
        .set_multi_az_enabled(multi_az)
        .set_at_rest_encryption_enabled(at_rest)
        .set_kms_key_id(kms_key_id)
        .set_transit_encryption_enabled(transit)
        .set_cache_subnet_group_name(subnet_group)
        .set_security_group_ids(Some(security_groups))
        .set_port(port)
        .set_snapshot_retention_limit(snapshot_retention)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| sdk_err(OP, e))?;
    let mut outputs = Outputs::new();
    let id = match r.replication_group() {
        Some(g) => {
            group_outputs(g, &mut outputs);
            g.replication_group_id().unwrap_or(&id).to_string()
        }
        None => id,
    };
    outputs.insert("id".into(), id.clone().into());
    Ok(Created { id, outputs })
}

fn group_outputs(g: &ReplicationGroup, out: &mut Outputs) {
    put(out, "arn", g.arn());
    // Cluster mode disabled: one node group, with a primary and a reader endpoint.
    if let Some(ng) = g.node_groups().first() {
        put(out, "primary_endpoint", ng.primary_endpoint().and_then(|e| e.address()));
        put(out, "reader_endpoint", ng.reader_endpoint().and_then(|e| e.address()));
        put(out, "port", ng.primary_endpoint().and_then(|e| e.port()));
    }
}

async fn wait_replication_group(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    const OP: &str = "DescribeReplicationGroups";
    poll(ctx, OP, &format!("replication group {id} to be available"), || async {
        let r = ctx
            .elasticache
            .describe_replication_groups()
            .replication_group_id(id)
            .send()
            .await
            .map_err(|e| sdk_err(OP, e))?;
        let Some(g) = r.replication_groups().first() else { return Ok(None) };
        match g.status().unwrap_or_default() {
            "available" => {
                let mut out = out.clone();
                group_outputs(g, &mut out);
                Ok(Some(out))
            }
            "create-failed" => Err(AwsError {
                operation: OP,
                code: "ResourceFailed".into(),
                message: format!("replication group {id} is in state `create-failed`"),
                kind: ErrorKind::Fatal,
                hint: Some("see the group's events in the ElastiCache console for the cause".into()),
            }),
            _ => Ok(None),
        }
    })
    .await
}

#[cfg(test)]
mod adopt_tests {
    use serde_json::json;

    use crate::aws::testing::{assert_not_ours, ctx, find, props, tags};
    use crate::aws::{Found, create};
    use crate::emulator::Moto;

    /// A subnet group and a replication group made outside ironplan under the plan's names are
    /// not ours; the plan's own (created with the identity tags) are.
    #[tokio::test]
    async fn look_alike_subnet_and_replication_groups_are_not_ours() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let vpc = ctx.ec2.create_vpc().cidr_block("10.8.0.0/16").send().await.expect("vpc");
        let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
        let subnet = ctx.ec2.create_subnet().vpc_id(&vpc_id).cidr_block("10.8.1.0/24").send().await.expect("subnet");
        let subnet_id = subnet.subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_string();

        ctx.elasticache
            .create_cache_subnet_group()
            .cache_subnet_group_name("s-dev-cache")
            .cache_subnet_group_description("by hand")
            .subnet_ids(&subnet_id)
            .send()
            .await
            .expect("subnet group by hand");
        let sg = |name: &str| {
            json!({"cache_subnet_group_name": name, "cache_subnet_group_description": "d",
                   "subnet_ids": [subnet_id], "tags": tags("s-dev", "cache_subnets")})
        };
        assert_not_ours(&find(&ctx, "elasticache:SubnetGroup", &sg("s-dev-cache")).await, "has no `ironplan:stack`");
        create(&ctx, "elasticache:SubnetGroup", &mut props(sg("s-dev-ours"))).await.expect("ours");
        assert!(matches!(find(&ctx, "elasticache:SubnetGroup", &sg("s-dev-ours")).await, Found::Ours { .. }));

        ctx.elasticache
            .create_replication_group()
            .replication_group_id("s-dev-redis")
            .replication_group_description("by hand")
            .engine("redis")
            .cache_node_type("cache.t3.micro")
            .send()
            .await
            .expect("replication group by hand");
        let rg = |id: &str, stack: &str| {
            json!({"replication_group_id": id, "replication_group_description": "d", "engine": "redis",
                   "cache_node_type": "cache.t3.micro", "tags": tags(stack, "redis")})
        };
        let found = find(&ctx, "elasticache:ReplicationGroup", &rg("s-dev-redis", "s-dev")).await;
        assert_not_ours(&found, "has no `ironplan:stack` tag");
        create(&ctx, "elasticache:ReplicationGroup", &mut props(rg("s-prod-redis", "s-prod"))).await.expect("prod");
        let found = find(&ctx, "elasticache:ReplicationGroup", &rg("s-prod-redis", "s-dev")).await;
        assert_not_ours(&found, "stack `s-prod`");
        let found = find(&ctx, "elasticache:ReplicationGroup", &rg("s-prod-redis", "s-prod")).await;
        assert!(matches!(found, Found::Ours { .. }), "{found:?}");
    }
}
