//! `elasticache:ReplicationGroup`: a Redis or Valkey primary with read replicas (cluster mode
//! disabled).
//!
//! Its endpoints exist only once it is available: `create` returns its name and ARN, `ready`
//! adds the endpoints of its node group (cluster mode disabled: one).

use async_trait::async_trait;
use aws_sdk_elasticache::types::{
    AutomaticFailoverStatus, CacheCluster, MultiAzStatus, ReplicationGroup as Group, Tag,
};
use serde_json::{Map, Value, json};

use super::{CACHE_SUBNET_GROUP_NAME, REPLICATION_GROUP_ID, STR_LIST, claim, found, pairs, read_tags};
use crate::aws::adapter::{Lifecycle, Live, Refused};
use crate::aws::{
    AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, out_str, poll, put, required, sdk_err, settle,
    tag_table,
};
use crate::schema::{Attr, Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "elasticache:ReplicationGroup",
    aliases: &[
        "AWS::ElastiCache::ReplicationGroup",
        "aws_elasticache_replication_group",
        "aws:elasticache/replicationGroup:ReplicationGroup",
    ],
    summary: "A Redis or Valkey primary with read replicas (cluster mode disabled)",
    calls: "CreateReplicationGroup (all properties); DeleteReplicationGroup",
    props: &[
        Prop::req("replication_group_id", Kind::Str, "name of the group (1-40 characters, lowercase)")
            .name_rule(&REPLICATION_GROUP_ID),
        Prop::req("replication_group_description", Kind::Str, "description of the group").in_place(),
        // ModifyReplicationGroup Engine: from redis to valkey only (anything else is refused).
        Prop::opt("engine", Kind::Str, "`redis` or `valkey`").in_place(),
        // ModifyReplicationGroup on AWS; refused: moto 5.2.5 ignores EngineVersion (ARCHITECTURE.md).
        Prop::opt("engine_version", Kind::Str, "engine version, such as `7.1`").in_place(),
        Prop::opt("cache_node_type", Kind::Str, "node type, such as `cache.t4g.micro`").in_place(),
        // IncreaseReplicaCount / DecreaseReplicaCount on AWS; refused: moto 5.2.5 has neither.
        Prop::opt("num_cache_clusters", Kind::Int, "number of nodes: the primary and its replicas")
            .range(1, 6)
            .in_place(),
        Prop::opt("automatic_failover_enabled", Kind::Bool, "promote a replica when the primary fails").in_place(),
        Prop::opt("multi_az_enabled", Kind::Bool, "place the replicas in other availability zones").in_place(),
        Prop::opt("at_rest_encryption_enabled", Kind::Bool, "encrypt data on disk"),
        Prop::opt("kms_key_id", Kind::Str, "KMS key for at-rest encryption"),
        // ModifyReplicationGroup on AWS; refused: moto 5.2.5 ignores TransitEncryptionEnabled.
        Prop::opt("transit_encryption_enabled", Kind::Bool, "require TLS between clients and nodes").in_place(),
        Prop::opt("cache_subnet_group_name", Kind::Str, "subnet group of the nodes")
            .name_rule(&CACHE_SUBNET_GROUP_NAME),
        Prop::opt("security_group_ids", STR_LIST, "VPC security groups of the nodes").in_place(),
        Prop::opt("port", Kind::Int, "port the nodes listen on (6379 by default)").range(1, 65535),
        Prop::opt("snapshot_retention_limit", Kind::Int, "days automatic snapshots are kept (0: none)")
            .range(0, 35)
            .in_place(),
        Prop::opt("tags", Kind::Tags, "tags of the group"),
    ],
    attrs: &[
        attr("id", "name of the group"),
        attr("arn", "ARN of the group"),
        attr("primary_endpoint", "host name of the primary (writes)"),
        attr("reader_endpoint", "host name spreading reads over the replicas"),
        Attr { name: "port", kind: Kind::Int, doc: "port of the endpoints" },
    ],
    taggable: true,
    holds_data: true,
    create_secs: 450,
    delete_secs: 360,
    implied: &[],
};

pub struct ReplicationGroup;

/// What a create reads.
pub struct Input {
    id: String,
    description: String,
    engine: Option<String>,
    engine_version: Option<String>,
    node_type: Option<String>,
    num_clusters: Option<i32>,
    failover: Option<bool>,
    multi_az: Option<bool>,
    at_rest: Option<bool>,
    kms_key_id: Option<String>,
    transit: Option<bool>,
    subnet_group: Option<String>,
    security_groups: Vec<String>,
    port: Option<i32>,
    snapshot_retention: Option<i32>,
    tags: Vec<Tag>,
}

const DESCRIBE: &str = "DescribeReplicationGroups";

#[async_trait]
impl Lifecycle for ReplicationGroup {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = super::NOT_FOUND;
    const TAGS_BY_ARN: bool = true;
    const UPDATES: &'static [&'static str] = &[
        "replication_group_description",
        "engine",
        "cache_node_type",
        "automatic_failover_enabled",
        "multi_az_enabled",
        "security_group_ids",
        "snapshot_retention_limit",
        "tags",
    ];

    /// An engine change other than redis to valkey.
    fn refuses(prop: &str, old: &Map<String, Value>, new: &Map<String, Value>) -> Option<Refused> {
        let engine = |m: &Map<String, Value>| engine_of(m.get("engine").and_then(Value::as_str));
        let (old, new) = (engine(old), engine(new));
        (prop == "engine" && old != new && !(old == "redis" && new == "valkey")).then_some(ENGINE_CHANGE)
    }

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateReplicationGroup");
        Ok(Input {
            id: p.str("replication_group_id")?,
            description: p.str("replication_group_description")?,
            engine: p.opt_str("engine")?,
            engine_version: p.opt_str("engine_version")?,
            node_type: p.opt_str("cache_node_type")?,
            num_clusters: p.opt_i32("num_cache_clusters")?,
            failover: p.opt_bool("automatic_failover_enabled")?,
            multi_az: p.opt_bool("multi_az_enabled")?,
            at_rest: p.opt_bool("at_rest_encryption_enabled")?,
            kms_key_id: p.opt_str("kms_key_id")?,
            transit: p.opt_bool("transit_encryption_enabled")?,
            subnet_group: p.opt_str("cache_subnet_group_name")?,
            security_groups: p.str_list("security_group_ids")?,
            port: p.opt_i32("port")?,
            snapshot_retention: p.opt_i32("snapshot_retention_limit")?,
            tags: super::tags(p.tags()?),
        })
    }

    async fn create(ctx: &Ctx, g: &Input) -> Result<Created, AwsError> {
        let r = ctx
            .elasticache
            .create_replication_group()
            .replication_group_id(&g.id)
            .replication_group_description(&g.description)
            .set_engine(g.engine.clone())
            .set_engine_version(g.engine_version.clone())
            .set_cache_node_type(g.node_type.clone())
            .set_num_cache_clusters(g.num_clusters)
            .set_automatic_failover_enabled(g.failover)
            .set_multi_az_enabled(g.multi_az)
            .set_at_rest_encryption_enabled(g.at_rest)
            .set_kms_key_id(g.kms_key_id.clone())
            .set_transit_encryption_enabled(g.transit)
            .set_cache_subnet_group_name(g.subnet_group.clone())
            .set_security_group_ids(Some(g.security_groups.clone()))
            .set_port(g.port)
            .set_snapshot_retention_limit(g.snapshot_retention)
            .set_tags(Some(g.tags.clone()))
            .send()
            .await
            .map_err(|e| sdk_err("CreateReplicationGroup", e))?;
        let group = r.replication_group();
        let id = group.and_then(|g| g.replication_group_id()).unwrap_or(&g.id).to_string();
        Ok(Created { outputs: outputs(Outputs::new(), &id, group), id })
    }

    /// The group of that name (unique in the account and region): ours only with both
    /// identity tags, which the create carries.
    async fn find(ctx: &Ctx, g: &Input, who: &Identity) -> Result<Found, AwsError> {
        let id = g.id.to_ascii_lowercase();
        let Some(group) = describe(ctx, &id).await? else { return Ok(Found::Nothing) };
        claim(ctx, who, Created { outputs: outputs(Outputs::new(), &id, Some(&group)), id }, group.arn()).await
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        poll(ctx, DESCRIBE, &format!("replication group {id} to be available"), || async {
            let Some(g) = describe(ctx, id).await? else { return Ok(None) };
            match required(g.status(), DESCRIBE, "ReplicationGroup.Status")?.as_str() {
                "available" => Ok(Some(outputs(out.clone(), id, Some(&g)))),
                "create-failed" => Err(AwsError {
                    operation: DESCRIBE,
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

    /// What DescribeReplicationGroups reports, and what only its nodes report (engine version,
    /// subnet group, security groups: DescribeCacheClusters on its first member, which moto
    /// 5.2.5 does not list, so there these three are not reported).
    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let Some(g) = describe(ctx, id).await? else { return Ok(None) };
        let tags = read_tags(ctx, g.arn()).await?;
        let mut props = Map::new();
        props.insert("replication_group_id".into(), json!(g.replication_group_id().unwrap_or(id)));
        put(&mut props, "replication_group_description", g.description());
        put(&mut props, "engine", g.engine());
        put(&mut props, "cache_node_type", g.cache_node_type());
        // moto 5.2.5 makes one node whatever `num_cache_clusters` says (ARCHITECTURE.md): on the
        // emulator the count is not reported.
        if !ctx.emulator {
            props.insert("num_cache_clusters".into(), json!(g.member_clusters().len()));
        }
        let failover = match g.automatic_failover() {
            Some(AutomaticFailoverStatus::Enabled | AutomaticFailoverStatus::Enabling) => Some(true),
            Some(AutomaticFailoverStatus::Disabled | AutomaticFailoverStatus::Disabling) => Some(false),
            _ => None,
        };
        put(&mut props, "automatic_failover_enabled", failover);
        let multi_az = match g.multi_az() {
            Some(MultiAzStatus::Enabled) => Some(true),
            Some(MultiAzStatus::Disabled) => Some(false),
            _ => None,
        };
        put(&mut props, "multi_az_enabled", multi_az);
        put(&mut props, "at_rest_encryption_enabled", g.at_rest_encryption_enabled());
        put(&mut props, "kms_key_id", g.kms_key_id());
        put(&mut props, "transit_encryption_enabled", g.transit_encryption_enabled());
        put(&mut props, "port", g.node_groups().first().and_then(|n| n.primary_endpoint()).and_then(|e| e.port()));
        put(&mut props, "snapshot_retention_limit", g.snapshot_retention_limit());
        if let Some(node) = first_node(ctx, &g).await? {
            put(&mut props, "engine_version", node.engine_version());
            put(&mut props, "cache_subnet_group_name", node.cache_subnet_group_name());
            let groups: Vec<&str> = node.security_groups().iter().filter_map(|s| s.security_group_id()).collect();
            props.insert("security_group_ids".into(), json!(groups));
        }
        props.insert("tags".into(), tag_table(pairs(&tags)));
        Ok(Some(Live { props, outputs: outputs(out.clone(), id, Some(&g)) }))
    }

    /// One ModifyReplicationGroup, applied immediately (a new node type resizes the nodes; a
    /// new engine, redis to valkey, upgrades them); the tags; then the group is waited for
    /// until available, as `ready` does.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, g: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        let has = |p: &str| changed.iter().any(|k| k == p);
        // Refused before any change: an engine other than valkey (unless the group has it).
        let new_engine = engine_of(g.engine.as_deref());
        let engine_changes = has("engine") && {
            let live = describe(ctx, id).await?;
            let have = engine_of(live.as_ref().and_then(|l| l.engine()));
            if have != new_engine && !(have == "redis" && new_engine == "valkey") {
                let message = format!("replication group {id}: `engine` to `{new_engine}`: {}", ENGINE_CHANGE.why);
                return Err(AwsError::input("ModifyReplicationGroup", message).with_hint(ENGINE_CHANGE.help));
            }
            have != new_engine
        };
        if changed.iter().any(|k| k != "tags") {
            let mut req = ctx.elasticache.modify_replication_group().replication_group_id(id).apply_immediately(true);
            if has("replication_group_description") {
                req = req.replication_group_description(&g.description);
            }
            if engine_changes {
                // With the plan's version, if it names one: the valkey version to upgrade to.
                req = req.set_engine(g.engine.clone()).set_engine_version(g.engine_version.clone());
            }
            if has("cache_node_type") {
                req = req.set_cache_node_type(g.node_type.clone());
            }
            if has("automatic_failover_enabled") {
                req = req.automatic_failover_enabled(g.failover.unwrap_or(false));
            }
            if has("multi_az_enabled") {
                req = req.multi_az_enabled(g.multi_az.unwrap_or(false));
            }
            if has("security_group_ids") {
                req = req.set_security_group_ids(Some(g.security_groups.clone()));
            }
            if has("snapshot_retention_limit") {
                req = req.snapshot_retention_limit(g.snapshot_retention.unwrap_or(0));
            }
            req.send().await.map_err(|e| sdk_err("ModifyReplicationGroup", e))?;
        }
        if has("tags") {
            let arn = out_str(out, "arn", "AddTagsToResource")?;
            super::retag(ctx, arn, &g.tags).await?;
        }
        Self::ready(ctx, id, out).await
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        const OP: &str = "DeleteReplicationGroup";
        // AWS refuses the call while the group is still being created or modified (an
        // interrupted deploy): repeat it until the group settles.
        let busy = |e: &AwsError| e.code == "InvalidReplicationGroupState";
        settle(ctx, OP, &format!("replication group {id}"), busy, || async {
            let r = ctx.elasticache.delete_replication_group().replication_group_id(id).send().await;
            r.map(|_| ()).map_err(|e| sdk_err(OP, e))
        })
        .await
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(match describe(ctx, id).await? {
            None => true,
            // moto 5.2.5 keeps a deleted group in `deleting` for ever; AWS removes it, and its
            // subnet group and security groups stay in use until then.
            Some(g) => ctx.emulator && g.status() == Some("deleting"),
        })
    }
}

/// The one engine change AWS makes in place is redis to valkey.
const ENGINE_CHANGE: Refused = Refused {
    why: "AWS changes the engine of a group in place only from redis to valkey",
    help: "revert `engine` in the plan; another engine needs a new group (its data is not carried over)",
};

/// The engine a group's properties name (AWS's default, redis, when none), in lowercase.
fn engine_of(engine: Option<&str>) -> String {
    engine.unwrap_or("redis").to_ascii_lowercase()
}

/// `base` with the ID and what AWS says of the group.
fn outputs(mut out: Outputs, id: &str, g: Option<&Group>) -> Outputs {
    out.insert("id".into(), json!(id));
    put(&mut out, "arn", g.and_then(|g| g.arn()));
    // Cluster mode disabled: one node group, with a primary and a reader endpoint.
    if let Some(ng) = g.and_then(|g| g.node_groups().first()) {
        put(&mut out, "primary_endpoint", ng.primary_endpoint().and_then(|e| e.address()));
        put(&mut out, "reader_endpoint", ng.reader_endpoint().and_then(|e| e.address()));
        put(&mut out, "port", ng.primary_endpoint().and_then(|e| e.port()));
    }
    out
}

/// The group of that ID, if it exists.
async fn describe(ctx: &Ctx, id: &str) -> Result<Option<Group>, AwsError> {
    let r = ctx.elasticache.describe_replication_groups().replication_group_id(id).send().await;
    let r = found(r.map_err(|e| sdk_err(DESCRIBE, e)))?;
    Ok(r.and_then(|r| r.replication_groups.unwrap_or_default().into_iter().next()))
}

/// The group's first node, if AWS lists it.
async fn first_node(ctx: &Ctx, g: &Group) -> Result<Option<CacheCluster>, AwsError> {
    let Some(member) = g.member_clusters().first() else { return Ok(None) };
    let r = ctx.elasticache.describe_cache_clusters().cache_cluster_id(member).send().await;
    let r = found(r.map_err(|e| sdk_err("DescribeCacheClusters", e)))?;
    Ok(r.and_then(|r| r.cache_clusters.unwrap_or_default().into_iter().next()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::subnet;
    use crate::aws::rds::testing::reads_back;
    use crate::aws::testing::{assert_not_ours, ctx, find, props, tags};
    use crate::aws::{Found, create, delete, read, wait_deleted};
    use crate::emulator::Moto;

    /// A replication group made outside ironplan under the plan's name is not ours, nor is
    /// another stack's; the plan's own (created with the identity tags) is.
    #[tokio::test]
    async fn look_alike_replication_groups_are_not_ours() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
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

    /// The engine changes in place from redis to valkey (ModifyReplicationGroup), and reads
    /// back so; back to redis is refused before any call, and the group stays valkey.
    #[tokio::test]
    async fn the_engine_changes_from_redis_to_valkey_only() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let ty = "elasticache:ReplicationGroup";
        let v = json!({"replication_group_id": "s-dev-redis", "replication_group_description": "d",
                       "engine": "redis", "cache_node_type": "cache.t4g.micro", "tags": tags("s-dev", "redis")});
        let made = create(&ctx, ty, &mut props(v)).await.expect("create");
        let out = crate::aws::wait_ready(&ctx, ty, &made.id, &made.outputs).await.expect("ready");
        let live = read(&ctx, ty, &made.id, &out).await.expect("read").expect("there");
        assert_eq!(live.props["engine"], json!("redis"));
        let mut v = serde_json::Value::Object(live.props);
        v["engine"] = json!("valkey");
        let out = crate::aws::testing::assert_updates(&ctx, ty, &made.id, &out, &v, &["engine"]).await;

        let mut back = v.clone();
        back["engine"] = json!("redis");
        let keys = ["engine".to_string()];
        let e = crate::aws::update(&ctx, ty, &made.id, &out, &mut props(back), &keys).await.unwrap_err();
        assert!(e.message.contains("`engine` to `redis`: AWS changes the engine"), "{e}");
        crate::aws::testing::assert_reads_back(&ctx, ty, &v, &made.id, &out).await;
    }

    /// What `read` reports is what the plan said, with the outputs `wait_ready` gave. One node:
    /// moto ignores `num_cache_clusters` (ARCHITECTURE.md).
    #[tokio::test]
    async fn a_replication_group_reads_back_as_planned() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let (vpc, subnet_id) = subnet(&ctx, "10.8.0.0/16", "10.8.1.0/24").await;
        let sg = ctx.ec2.create_security_group().group_name("redis").description("d").vpc_id(vpc).send().await;
        let sg = sg.expect("security group").group_id().expect("group id").to_string();
        let key = ctx.kms.create_key().send().await.expect("key");
        let key = key.key_metadata().and_then(|m| m.arn()).expect("key arn").to_string();
        let group = json!({"cache_subnet_group_name": "s-dev-cache", "cache_subnet_group_description": "d",
                           "subnet_ids": [subnet_id], "tags": tags("s-dev", "cache_subnets")});
        create(&ctx, "elasticache:SubnetGroup", &mut props(group)).await.expect("subnet group");

        let v = json!({
            "replication_group_id": "s-dev-redis", "replication_group_description": "sessions",
            "engine": "redis", "engine_version": "7.1", "cache_node_type": "cache.t4g.micro",
            "num_cache_clusters": 1, "automatic_failover_enabled": false, "multi_az_enabled": false,
            "at_rest_encryption_enabled": true, "kms_key_id": key, "transit_encryption_enabled": true,
            "cache_subnet_group_name": "s-dev-cache", "security_group_ids": [sg], "port": 6380,
            "snapshot_retention_limit": 3, "tags": tags("s-dev", "redis"),
        });
        // All but what only the nodes report (moto lists no nodes) and the node count (moto
        // makes one whatever it is told, so the emulator does not report it).
        let (id, out) = reads_back(&ctx, "elasticache:ReplicationGroup", &v, 4).await;
        assert!(out.get("primary_endpoint").is_some_and(|e| e.is_string()), "{out:?}");
        // The node type, retention, description and tags change in place.
        let mut changed = v.clone();
        changed["cache_node_type"] = json!("cache.t4g.small");
        changed["snapshot_retention_limit"] = json!(7);
        changed["replication_group_description"] = json!("sessions, bigger");
        changed["tags"]["Team"] = json!("web");
        let keys =
            ["cache_node_type", "snapshot_retention_limit", "replication_group_description", "tags"].map(String::from);
        let out =
            crate::aws::update(&ctx, "elasticache:ReplicationGroup", &id, &out, &mut props(changed.clone()), &keys)
                .await
                .expect("update");
        let live = read(&ctx, "elasticache:ReplicationGroup", &id, &out).await.expect("read").expect("there");
        for k in ["cache_node_type", "snapshot_retention_limit", "replication_group_description"] {
            assert_eq!(live.props.get(k), changed.get(k), "{k}");
        }
        assert_eq!(live.props["tags"]["Team"], json!("web"));
        // moto keeps a deleted group `deleting` for ever: gone on the emulator, still read.
        delete(&ctx, "elasticache:ReplicationGroup", &id, &out).await.expect("delete");
        wait_deleted(&ctx, "elasticache:ReplicationGroup", &id, &out).await.expect("gone");
        let gone = read(&ctx, "elasticache:ReplicationGroup", "s-dev-never-made", &out).await.expect("read");
        assert!(gone.is_none(), "{gone:?}");
    }
}
