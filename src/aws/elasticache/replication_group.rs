//! `elasticache:ReplicationGroup`: a Redis or Valkey primary with read replicas (cluster mode
//! disabled).
//!
//! Its endpoints exist only once it is available: `create` returns its name and ARN, `ready`
//! adds the endpoints of its node group (cluster mode disabled: one).

use async_trait::async_trait;
use aws_sdk_elasticache::types::{
    AutomaticFailoverStatus, CacheCluster, MultiAzStatus, ReplicationGroup as Group, Tag, TransitEncryptionMode,
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
    calls: "CreateReplicationGroup (all properties); update: ModifyReplicationGroup, \
            IncreaseReplicaCount / DecreaseReplicaCount (num_cache_clusters); DeleteReplicationGroup",
    props: &[
        Prop::req("replication_group_id", Kind::Str, "name of the group (1-40 characters, lowercase)")
            .name_rule(&REPLICATION_GROUP_ID),
        Prop::req("replication_group_description", Kind::Str, "description of the group").in_place(),
        // ModifyReplicationGroup Engine: from redis to valkey only (anything else is refused).
        Prop::opt("engine", Kind::Str, "`redis` or `valkey`").in_place(),
        // ModifyReplicationGroup EngineVersion (upgrades only; moto 5.2.5 ignores it: tested on the wire).
        Prop::opt("engine_version", Kind::Str, "engine version, such as `7.1`").in_place(),
        Prop::opt("cache_node_type", Kind::Str, "node type, such as `cache.t4g.micro`").in_place(),
        // IncreaseReplicaCount / DecreaseReplicaCount (moto 5.2.5 has neither: tested on the wire).
        Prop::opt("num_cache_clusters", Kind::Int, "number of nodes: the primary and its replicas")
            .range(1, 6)
            .in_place(),
        Prop::opt("automatic_failover_enabled", Kind::Bool, "promote a replica when the primary fails").in_place(),
        Prop::opt("multi_az_enabled", Kind::Bool, "place the replicas in other availability zones").in_place(),
        Prop::opt("at_rest_encryption_enabled", Kind::Bool, "encrypt data on disk"),
        Prop::opt("kms_key_id", Kind::Str, "KMS key for at-rest encryption"),
        // ModifyReplicationGroup TransitEncryptionEnabled/Mode, through `preferred` (moto 5.2.5
        // ignores both: tested on the wire).
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
        "engine_version",
        "cache_node_type",
        "num_cache_clusters",
        "transit_encryption_enabled",
        "automatic_failover_enabled",
        "multi_az_enabled",
        "security_group_ids",
        "snapshot_retention_limit",
        "tags",
    ];

    /// An engine change other than redis to valkey; an older engine version than the group's
    /// (AWS only upgrades); transit encryption turned on or off on an engine version older than
    /// AWS's minimum for doing so in place.
    fn refuses(prop: &str, old: &Map<String, Value>, new: &Map<String, Value>) -> Option<Refused> {
        let engine = |m: &Map<String, Value>| engine_of(m.get("engine").and_then(Value::as_str));
        let version = |m: &Map<String, Value>| m.get("engine_version").and_then(Value::as_str).map(str::to_owned);
        let transit = |m: &Map<String, Value>| m.get("transit_encryption_enabled") == Some(&Value::Bool(true));
        match prop {
            "engine" => {
                let (old, new) = (engine(old), engine(new));
                (old != new && !(old == "redis" && new == "valkey")).then_some(ENGINE_CHANGE)
            }
            // A new engine (redis to valkey) takes the version with it: no downgrade to judge.
            "engine_version" if engine(old) == engine(new) => match (version(old), version(new)) {
                (Some(have), Some(want)) if downgrade(&want, &have) => Some(DOWNGRADE),
                _ => None,
            },
            "transit_encryption_enabled" if transit(old) != transit(new) => {
                // A new engine (redis to valkey) runs the plan's version of it, not the old one.
                let v = if engine(old) == engine(new) { version(new).or_else(|| version(old)) } else { version(new) }?;
                (!transit_capable(&engine(new), &v)).then_some(TRANSIT_TOO_OLD)
            }
            _ => None,
        }
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

    /// Once the group is available (a resumed update may find it still modifying), what differs
    /// from the live group, each step applied immediately and waited for until the group is
    /// available again: one ModifyReplicationGroup of the settings (a new node type resizes
    /// the nodes; a new engine, redis to valkey, or a newer engine version upgrades them); the
    /// transit encryption, through mode `preferred` as AWS requires ([`transit_steps`]); the node
    /// count (IncreaseReplicaCount / DecreaseReplicaCount); the tags. What the live group
    /// already has is not sent again, so a resumed update finishes what the dead one started.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, g: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        let has = |p: &str| changed.iter().any(|k| k == p);
        let live = if changed.iter().any(|k| k != "tags") {
            Self::ready(ctx, id, out).await?;
            let Some(live) = describe(ctx, id).await? else {
                return Err(AwsError::input("ModifyReplicationGroup", format!("replication group {id} is gone")));
            };
            Some(live)
        } else {
            None
        };
        // Refused before any change: an engine other than valkey (unless the group has it), an
        // older engine version, transit encryption on an engine too old for it.
        let new_engine = engine_of(g.engine.as_deref());
        let have_engine = engine_of(live.as_ref().and_then(|l| l.engine()));
        let engine_changes = has("engine") && have_engine != new_engine;
        if engine_changes && !(have_engine == "redis" && new_engine == "valkey") {
            return Err(refused(id, "engine", &new_engine, ENGINE_CHANGE));
        }
        let node = match &live {
            Some(l) if has("engine_version") || has("transit_encryption_enabled") => first_node(ctx, l).await?,
            _ => None,
        };
        let have_version = node.as_ref().and_then(|n| n.engine_version());
        let new_version = match (&g.engine_version, have_version) {
            (Some(want), Some(have)) if has("engine_version") && !engine_changes => {
                if downgrade(want, have) {
                    return Err(refused(id, "engine_version", want, DOWNGRADE));
                }
                (!same_version(want, have)).then_some(want.as_str())
            }
            // The live version unknown (its node not listed): the plan's, which AWS judges.
            (Some(want), None) if has("engine_version") && !engine_changes => Some(want.as_str()),
            _ => None,
        };
        let transit = match &live {
            Some(l) if has("transit_encryption_enabled") => {
                let enabled = l.transit_encryption_enabled().unwrap_or(false);
                transit_steps(enabled, l.transit_encryption_mode(), g.transit.unwrap_or(false))
            }
            _ => Vec::new(),
        };
        if !transit.is_empty() {
            // The version the group will run: what this update upgrades it to (a new engine: the
            // plan's version of it, if any), or its own.
            let version = if engine_changes {
                g.engine_version.as_deref()
            } else {
                new_version.or(have_version).or(g.engine_version.as_deref())
            };
            if let Some(v) = version.filter(|v| !transit_capable(&new_engine, v)) {
                let value = format!("{}` on engine version `{v}", g.transit.unwrap_or(false));
                return Err(refused(id, "transit_encryption_enabled", &value, TRANSIT_TOO_OLD));
            }
        }

        let mut req = ctx.elasticache.modify_replication_group().replication_group_id(id).apply_immediately(true);
        let mut modify = false;
        if has("replication_group_description") {
            req = req.replication_group_description(&g.description);
            modify = true;
        }
        if engine_changes {
            // With the plan's version, if it names one: the valkey version to upgrade to.
            req = req.set_engine(g.engine.clone()).set_engine_version(g.engine_version.clone());
            modify = true;
        }
        if let Some(v) = new_version {
            req = req.engine_version(v);
            modify = true;
        }
        if has("cache_node_type") {
            req = req.set_cache_node_type(g.node_type.clone());
            modify = true;
        }
        if has("automatic_failover_enabled") {
            req = req.automatic_failover_enabled(g.failover.unwrap_or(false));
            modify = true;
        }
        if has("multi_az_enabled") {
            req = req.multi_az_enabled(g.multi_az.unwrap_or(false));
            modify = true;
        }
        if has("security_group_ids") {
            req = req.set_security_group_ids(Some(g.security_groups.clone()));
            modify = true;
        }
        if has("snapshot_retention_limit") {
            req = req.snapshot_retention_limit(g.snapshot_retention.unwrap_or(0));
            modify = true;
        }
        if modify {
            req.send().await.map_err(|e| sdk_err("ModifyReplicationGroup", e))?;
            Self::ready(ctx, id, out).await?;
        }
        for (enabled, mode) in transit {
            let req = ctx.elasticache.modify_replication_group().replication_group_id(id).apply_immediately(true);
            let req = req.set_transit_encryption_enabled(enabled).set_transit_encryption_mode(mode);
            req.send().await.map_err(|e| sdk_err("ModifyReplicationGroup", e))?;
            Self::ready(ctx, id, out).await?;
        }
        if let Some(l) = live.as_ref().filter(|_| has("num_cache_clusters")) {
            let (have, want) = (l.member_clusters().len(), g.num_clusters.unwrap_or(1));
            resize(ctx, id, have, want).await?;
            Self::ready(ctx, id, out).await?;
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

/// AWS upgrades an engine in place, never downgrades it.
const DOWNGRADE: Refused = Refused {
    why: "AWS upgrades the engine version of a group in place, never to an older version",
    help: "keep the group's engine_version (or a newer one) in the plan; an older version needs a new group \
           (restored from a backup)",
};
/// ModifyReplicationGroup changes transit encryption only from Redis OSS 7.0 (Valkey 7.2) on.
const TRANSIT_TOO_OLD: Refused = Refused {
    why: "AWS changes transit encryption of a live group only from Redis OSS 7.0 (Valkey 7.2) on",
    help: "upgrade engine_version to 7.0 or later first (a deploy of its own), then change \
           transit_encryption_enabled",
};

/// The error of a change refused before any call: the property, its new value, why, what to do.
fn refused(id: &str, prop: &str, value: &str, r: Refused) -> AwsError {
    let message = format!("replication group {id}: `{prop}` to `{value}`: {}", r.why);
    AwsError::input("ModifyReplicationGroup", message).with_hint(r.help)
}

/// The numbers of an engine version (`7.1` is [7, 1]; `6.x` is [6]); empty if it does not
/// start with a number.
fn version_numbers(v: &str) -> Vec<u32> {
    v.split('.').map_while(|p| p.parse().ok()).collect()
}

/// The numbers compared with the shorter padded with zeros (`7.1` = `7.1.0`).
fn version_cmp(a: &[u32], b: &[u32]) -> std::cmp::Ordering {
    let at = |v: &[u32], i: usize| v.get(i).copied().unwrap_or(0);
    (0..a.len().max(b.len())).map(|i| at(a, i).cmp(&at(b, i))).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
}

/// The plan's version `want` names the live `have` (`7.1` of `7.1.0`, `6.x` of `6.2.6`, `7.1.0`
/// of `7.1`): nothing to change.
fn same_version(want: &str, have: &str) -> bool {
    let (w, h) = (version_numbers(want), version_numbers(have));
    if w.is_empty() || h.is_empty() { want == have } else { h.starts_with(&w) || version_cmp(&w, &h).is_eq() }
}

/// `want` is older than `have` (what AWS refuses); unknown forms are never taken for one.
fn downgrade(want: &str, have: &str) -> bool {
    let (w, h) = (version_numbers(want), version_numbers(have));
    !w.is_empty() && !h.is_empty() && !same_version(want, have) && version_cmp(&w, &h).is_lt()
}

/// Transit encryption can be turned on or off on a live group of `engine` at `version`:
/// Redis OSS 7.0 and later, Valkey 7.2 and later (ElastiCache's online TLS migration).
fn transit_capable(engine: &str, version: &str) -> bool {
    let v = version_numbers(version);
    let min: &[u32] = if engine == "valkey" { &[7, 2] } else { &[7] };
    v.is_empty() || version_cmp(&v, min).is_ge()
}

/// The ModifyReplicationGroup calls (TransitEncryptionEnabled, TransitEncryptionMode) that take
/// a group from `enabled` in `mode` to `want`, in order. AWS turns it on in two steps: on in
/// mode `preferred` (clients may still connect without TLS), then mode `required` (the plan's
/// "require TLS"); off in two too: mode `preferred`, then off. A step the group has made
/// already is not repeated (a mode-less enabled group is `required`, AWS's mode at create).
fn transit_steps(
    enabled: bool,
    mode: Option<&TransitEncryptionMode>,
    want: bool,
) -> Vec<(Option<bool>, Option<TransitEncryptionMode>)> {
    let preferred = enabled && mode == Some(&TransitEncryptionMode::Preferred);
    match (want, enabled) {
        (true, false) => {
            vec![(Some(true), Some(TransitEncryptionMode::Preferred)), (None, Some(TransitEncryptionMode::Required))]
        }
        (true, true) if preferred => vec![(None, Some(TransitEncryptionMode::Required))],
        (false, true) if preferred => vec![(Some(false), None)],
        (false, true) => vec![(None, Some(TransitEncryptionMode::Preferred)), (Some(false), None)],
        _ => Vec::new(),
    }
}

/// IncreaseReplicaCount or DecreaseReplicaCount to `want` nodes (the primary and `want - 1`
/// replicas) from `have`, applied immediately; nothing if the group has them.
async fn resize(ctx: &Ctx, id: &str, have: usize, want: i32) -> Result<(), AwsError> {
    let have = i32::try_from(have).unwrap_or(i32::MAX);
    let replicas = want - 1;
    if want > have {
        let r = ctx.elasticache.increase_replica_count().replication_group_id(id).new_replica_count(replicas);
        r.apply_immediately(true).send().await.map(drop).map_err(|e| sdk_err("IncreaseReplicaCount", e))
    } else if want < have {
        let r = ctx.elasticache.decrease_replica_count().replication_group_id(id).new_replica_count(replicas);
        r.apply_immediately(true).send().await.map(drop).map_err(|e| sdk_err("DecreaseReplicaCount", e))
    } else {
        Ok(())
    }
}

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
    use super::{DESCRIBE, describe};
    use crate::aws::rds::testing::reads_back;
    use crate::aws::testing::{Wire, assert_not_ours, ctx, find, props, tags};
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

    /// A form-encoded Query request's fields (the values here need no decoding).
    fn form(body: &str) -> std::collections::BTreeMap<String, String> {
        body.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.into(), v.into())).collect()
    }

    /// The fields of the `n`th-last `op` request the wire saw, without `Action` and `Version`.
    fn fields(wire: &Wire, op: &str, n: usize) -> std::collections::BTreeMap<String, String> {
        let sent = wire.of(op);
        let mut f = form(&sent[sent.len() - n].body);
        f.remove("Action");
        f.remove("Version");
        f
    }

    fn map(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// A context whose every client goes through `wire`.
    async fn wired(moto: &Moto, wire: &Wire) -> crate::aws::Ctx {
        crate::aws::testing::through(&ctx(moto).await, wire)
    }

    /// A group of the plan, created and available: its outputs.
    async fn group(ctx: &crate::aws::Ctx, v: &serde_json::Value) -> crate::aws::Outputs {
        let made = create(ctx, TY, &mut props(v.clone())).await.expect("create");
        crate::aws::wait_ready(ctx, TY, &made.id, &made.outputs).await.expect("ready")
    }

    const TY: &str = "elasticache:ReplicationGroup";

    fn planned(id: &str, version: &str) -> serde_json::Value {
        json!({"replication_group_id": id, "replication_group_description": "d", "engine": "redis",
               "engine_version": version, "cache_node_type": "cache.t4g.micro", "tags": tags("s-dev", "redis")})
    }

    /// A newer engine version is one ModifyReplicationGroup with EngineVersion, applied
    /// immediately, and nothing else. moto takes the call but ignores the version, and lists no
    /// node of the group to read one from: `read` reports none there, so the wire shows the call.
    #[tokio::test]
    async fn a_newer_engine_version_is_one_modify_replication_group() {
        let moto = Moto::start().expect("moto");
        let wire = Wire::default();
        let ctx = wired(&moto, &wire).await;
        let v = planned("s-dev-redis", "6.2");
        let out = group(&ctx, &v).await;
        let mut newer = v.clone();
        newer["engine_version"] = json!("7.1");
        let keys = ["engine_version".to_string()];
        crate::aws::update(&ctx, TY, "s-dev-redis", &out, &mut props(newer), &keys).await.expect("upgrade");
        assert_eq!(wire.of("ModifyReplicationGroup").len(), 1, "{:?}", wire.sent());
        let want =
            map(&[("ReplicationGroupId", "s-dev-redis"), ("ApplyImmediately", "true"), ("EngineVersion", "7.1")]);
        assert_eq!(fields(&wire, "ModifyReplicationGroup", 1), want);
        let live = read(&ctx, TY, "s-dev-redis", &out).await.expect("read").expect("there");
        assert_eq!(live.props.get("engine_version"), None, "moto lists the group's nodes now: read the version back");
    }

    /// Transit encryption is turned on in AWS's two steps (on in mode `preferred`, then mode
    /// `required`) and off in two (mode `preferred`, then off); on an engine older than 7.0 it
    /// is refused before any call. moto ignores both fields (the group keeps what it was
    /// created with): the wire shows the calls.
    #[tokio::test]
    async fn transit_encryption_changes_through_mode_preferred() {
        let moto = Moto::start().expect("moto");
        let wire = Wire::default();
        let ctx = wired(&moto, &wire).await;
        let keys = ["transit_encryption_enabled".to_string()];
        let mut v = planned("s-dev-plain", "7.1");
        v["transit_encryption_enabled"] = json!(false);
        let out = group(&ctx, &v).await;
        v["transit_encryption_enabled"] = json!(true);
        crate::aws::update(&ctx, TY, "s-dev-plain", &out, &mut props(v.clone()), &keys).await.expect("on");
        let id = ("ReplicationGroupId", "s-dev-plain");
        let now = ("ApplyImmediately", "true");
        assert_eq!(wire.of("ModifyReplicationGroup").len(), 2, "{:?}", wire.sent());
        let on = [id, now, ("TransitEncryptionEnabled", "true"), ("TransitEncryptionMode", "preferred")];
        assert_eq!(fields(&wire, "ModifyReplicationGroup", 2), map(&on));
        assert_eq!(fields(&wire, "ModifyReplicationGroup", 1), map(&[id, now, ("TransitEncryptionMode", "required")]));
        let live = describe(&ctx, "s-dev-plain").await.expect("describe").expect("there");
        assert_eq!(live.transit_encryption_enabled(), Some(false), "moto applies TransitEncryptionEnabled now");

        let mut tls = planned("s-dev-tls", "7.1");
        tls["transit_encryption_enabled"] = json!(true);
        let out = group(&ctx, &tls).await;
        tls["transit_encryption_enabled"] = json!(false);
        crate::aws::update(&ctx, TY, "s-dev-tls", &out, &mut props(tls), &keys).await.expect("off");
        let id = ("ReplicationGroupId", "s-dev-tls");
        assert_eq!(wire.of("ModifyReplicationGroup").len(), 4, "{:?}", wire.sent());
        assert_eq!(fields(&wire, "ModifyReplicationGroup", 2), map(&[id, now, ("TransitEncryptionMode", "preferred")]));
        assert_eq!(fields(&wire, "ModifyReplicationGroup", 1), map(&[id, now, ("TransitEncryptionEnabled", "false")]));

        let mut old = planned("s-dev-old", "6.2");
        old["transit_encryption_enabled"] = json!(false);
        let out = group(&ctx, &old).await;
        old["transit_encryption_enabled"] = json!(true);
        let e = crate::aws::update(&ctx, TY, "s-dev-old", &out, &mut props(old), &keys).await.expect_err("6.2");
        assert!(e.message.contains("`true` on engine version `6.2`: AWS changes transit encryption"), "{e}");
        assert!(e.message.contains("only from Redis OSS 7.0"), "{e}");
        assert_eq!(wire.of("ModifyReplicationGroup").len(), 4, "refused before any call");
    }

    /// AWS's answer to `op` (IncreaseReplicaCount, DecreaseReplicaCount: the group, `modifying`;
    /// DescribeReplicationGroups: a list of it, `available`) for a group of `nodes` nodes.
    fn group_xml(op: &str, id: &str, nodes: usize, status: &str) -> String {
        let members: String = (1..=nodes).map(|n| format!("<ClusterId>{id}-00{n}</ClusterId>")).collect();
        let group = format!(
            "<ReplicationGroup><ReplicationGroupId>{id}</ReplicationGroupId><Description>d</Description>\
             <Status>{status}</Status><MemberClusters>{members}</MemberClusters><Engine>redis</Engine>\
             <ARN>arn:aws:elasticache:us-east-1:123456789012:replicationgroup:{id}</ARN></ReplicationGroup>"
        );
        let result = if op == "DescribeReplicationGroups" {
            format!("<ReplicationGroups>{group}</ReplicationGroups>")
        } else {
            group
        };
        format!(
            "<{op}Response xmlns=\"http://elasticache.amazonaws.com/doc/2015-02-02/\"><{op}Result>{result}</{op}Result>\
             <ResponseMetadata><RequestId>wire</RequestId></ResponseMetadata></{op}Response>"
        )
    }

    /// The node count changes by IncreaseReplicaCount (more nodes) or DecreaseReplicaCount
    /// (fewer), NewReplicaCount being the nodes but the primary, applied immediately, and the
    /// group is waited for until available; a group that has the count already gets no call (a
    /// resumed update). moto has neither call (and makes one node whatever it is told): the
    /// wire answers them with AWS's documented XML.
    #[tokio::test]
    async fn the_node_count_changes_by_increase_and_decrease_replica_count() {
        let moto = Moto::start().expect("moto");
        let wire = Wire::default();
        let ctx = wired(&moto, &wire).await;
        let keys = ["num_cache_clusters".to_string()];
        let mut v = planned("s-dev-redis", "7.1");
        v["num_cache_clusters"] = json!(1);
        let out = group(&ctx, &v).await;
        let sdk = &ctx.elasticache;
        let lacks = sdk.increase_replica_count().replication_group_id("s-dev-redis").new_replica_count(2);
        assert!(lacks.apply_immediately(true).send().await.is_err(), "moto has IncreaseReplicaCount now");
        let lacks = sdk.decrease_replica_count().replication_group_id("s-dev-redis").new_replica_count(0);
        assert!(lacks.apply_immediately(true).send().await.is_err(), "moto has DecreaseReplicaCount now");
        let xml = "text/xml";
        wire.answer(
            "IncreaseReplicaCount",
            200,
            xml,
            &group_xml("IncreaseReplicaCount", "s-dev-redis", 3, "modifying"),
        );
        let calls = wire.of("IncreaseReplicaCount").len();

        // moto's group has its one node: nothing to send.
        crate::aws::update(&ctx, TY, "s-dev-redis", &out, &mut props(v.clone()), &keys).await.expect("done");
        assert_eq!(wire.of("IncreaseReplicaCount").len(), calls, "nothing sent for the count the group has");
        v["num_cache_clusters"] = json!(3);
        let before = wire.sent().len();
        crate::aws::update(&ctx, TY, "s-dev-redis", &out, &mut props(v.clone()), &keys).await.expect("increase");
        let want = [("ReplicationGroupId", "s-dev-redis"), ("NewReplicaCount", "2"), ("ApplyImmediately", "true")];
        assert_eq!(fields(&wire, "IncreaseReplicaCount", 1), map(&want));
        let ops: Vec<String> = wire.sent()[before..].iter().map(|s| s.op.clone()).collect();
        let last_increase = ops.iter().rposition(|o| o == "IncreaseReplicaCount").expect("sent");
        assert!(ops[last_increase + 1..].iter().any(|o| o == DESCRIBE), "waited for the group: {ops:?}");
        assert!(!ops.iter().any(|o| o == "ModifyReplicationGroup" || o == "DecreaseReplicaCount"), "{ops:?}");

        // A group of three nodes (as AWS would list it) down to two.
        let three = Wire::default();
        let ctx = wired(&moto, &three).await;
        three.answer(DESCRIBE, 200, xml, &group_xml(DESCRIBE, "s-dev-redis", 3, "available"));
        three.answer(
            "DecreaseReplicaCount",
            200,
            xml,
            &group_xml("DecreaseReplicaCount", "s-dev-redis", 2, "modifying"),
        );
        v["num_cache_clusters"] = json!(2);
        crate::aws::update(&ctx, TY, "s-dev-redis", &out, &mut props(v), &keys).await.expect("decrease");
        let want = [("ReplicationGroupId", "s-dev-redis"), ("NewReplicaCount", "1"), ("ApplyImmediately", "true")];
        assert_eq!(fields(&three, "DecreaseReplicaCount", 1), map(&want));
        assert!(three.of("IncreaseReplicaCount").is_empty());
    }

    /// Only an older version is a downgrade (`7.1` names `7.1.0`, `6.x` names `6.2.6`); transit
    /// encryption changes in place from Redis OSS 7.0, Valkey 7.2; its steps skip what is done.
    #[test]
    fn versions_compare_by_their_numbers() {
        use super::{TransitEncryptionMode as Mode, downgrade, same_version, transit_capable, transit_steps};
        assert!(downgrade("6.2", "7.1") && downgrade("7.0", "7.1.0") && downgrade("6", "7.1"));
        assert!(!downgrade("7.1", "7.1.0") && !downgrade("7.2", "7.1") && !downgrade("6.x", "6.2.6"));
        assert!(!downgrade("latest", "7.1"), "an unknown form is AWS's to judge");
        assert!(same_version("7.1", "7.1.0") && same_version("7.1.0", "7.1") && same_version("6.x", "6.2.6"));
        assert!(!same_version("7.1", "7.2.4") && !same_version("7.0", "7.1"));
        assert!(transit_capable("redis", "7.0") && transit_capable("redis", "7.1") && !transit_capable("redis", "6.2"));
        assert!(!transit_capable("valkey", "7.1") && transit_capable("valkey", "8.0"));
        assert_eq!(transit_steps(true, Some(&Mode::Required), true), vec![]);
        assert_eq!(transit_steps(true, Some(&Mode::Preferred), true), vec![(None, Some(Mode::Required))]);
        assert_eq!(transit_steps(true, Some(&Mode::Preferred), false), vec![(Some(false), None)]);
        assert_eq!(transit_steps(true, None, false), vec![(None, Some(Mode::Preferred)), (Some(false), None)]);
        assert_eq!(transit_steps(false, None, false), vec![]);
    }
}
