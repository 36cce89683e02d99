//! `elasticache:*` types: a Redis (or Valkey) replication group and its subnet group.
//!
//! The replication group's text field is `replication_group_description`, as the AWS SDK for
//! Rust names it (other tools call it `description`; the plan checker suggests the right name).

use super::{Attr, Kind, NameRule, Prop, TypeSpec, attr};

const STR_LIST: Kind = Kind::List(&Kind::Str);

pub const TYPES: &[&TypeSpec] = &[&SUBNET_GROUP, &REPLICATION_GROUP];

/// Stored in lowercase, like RDS identifiers: ironplan asks for lowercase.
pub const REPLICATION_GROUP_ID: NameRule =
    NameRule::new("ElastiCache replication group ID", "CreateReplicationGroup ReplicationGroupId", 1, 40, "a-z0-9-")
        .first("a-z")
        .not_last("-")
        .no_double_hyphen();
pub const CACHE_SUBNET_GROUP_NAME: NameRule =
    NameRule::new("ElastiCache subnet group name", "CreateCacheSubnetGroup CacheSubnetGroupName", 1, 255, "a-z0-9-");

pub static SUBNET_GROUP: TypeSpec = TypeSpec {
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
        Prop::req("cache_subnet_group_description", Kind::Str, "description of the group"),
        Prop::req("subnet_ids", STR_LIST, "subnets of the group"),
        Prop::opt("tags", Kind::Tags, "tags of the group"),
    ],
    attrs: &[attr("id", "name of the group"), attr("name", "name of the group"), attr("arn", "ARN of the group")],
    taggable: true,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

pub static REPLICATION_GROUP: TypeSpec = TypeSpec {
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
        Prop::req("replication_group_description", Kind::Str, "description of the group"),
        Prop::opt("engine", Kind::Str, "`redis` or `valkey`"),
        Prop::opt("engine_version", Kind::Str, "engine version, such as `7.1`"),
        Prop::opt("cache_node_type", Kind::Str, "node type, such as `cache.t4g.micro`"),
        Prop::opt("num_cache_clusters", Kind::Int, "number of nodes: the primary and its replicas").range(1, 6),
        Prop::opt("automatic_failover_enabled", Kind::Bool, "promote a replica when the primary fails"),
        Prop::opt("multi_az_enabled", Kind::Bool, "place the replicas in other availability zones"),
        Prop::opt("at_rest_encryption_enabled", Kind::Bool, "encrypt data on disk"),
        Prop::opt("kms_key_id", Kind::Str, "KMS key for at-rest encryption"),
        Prop::opt("transit_encryption_enabled", Kind::Bool, "require TLS between clients and nodes"),
        Prop::opt("cache_subnet_group_name", Kind::Str, "subnet group of the nodes")
            .name_rule(&CACHE_SUBNET_GROUP_NAME),
        Prop::opt("security_group_ids", STR_LIST, "VPC security groups of the nodes"),
        Prop::opt("port", Kind::Int, "port the nodes listen on (6379 by default)").range(1, 65535),
        Prop::opt("snapshot_retention_limit", Kind::Int, "days automatic snapshots are kept (0: none)").range(0, 35),
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
    create_secs: 450,
    delete_secs: 360,
    implied: &[],
};
