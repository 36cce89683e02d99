//! `ec2:SecurityGroup`: a security group of a VPC. CreateSecurityGroup takes no rules: the
//! ingress rules are stashed in the outputs and `ready` authorizes them
//! (AuthorizeSecurityGroupIngress). AWS's default egress rule (all traffic out) is kept.

use async_trait::async_trait;
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, SecurityGroup as Described, UserIdGroupPair};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    READ_BATCH, RULE_DESCRIPTION, SECURITY_GROUP_DESCRIPTION, SECURITY_GROUP_NAME, TAGS, done_unless, filter,
    identity_filters, ids_filter, is_ours, listed, live, obj, one, pairs, retag, stashed, tag_specs,
};
use crate::aws::adapter::{Item, Lifecycle, Live, Read};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, absent, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

const GROUP_PAIR: &[Prop] = &[
    Prop::req("group_id", Kind::Str, "the source security group"),
    Prop::opt("description", Kind::Str, "the rule's description").name_rule(&RULE_DESCRIPTION),
];

const IP_RANGE: &[Prop] = &[
    Prop::req("cidr_ip", Kind::Str, "the source IPv4 range"),
    Prop::opt("description", Kind::Str, "the rule's description").name_rule(&RULE_DESCRIPTION),
];

const IP_PERMISSION: &[Prop] = &[
    Prop::req("ip_protocol", Kind::Str, "tcp, udp, icmp, or -1 for all"),
    // -1: every ICMP type or code, or every port with ip_protocol -1.
    Prop::opt("from_port", Kind::Int, "first port").range(-1, 65535),
    Prop::opt("to_port", Kind::Int, "last port").range(-1, 65535),
    Prop::opt("user_id_group_pairs", Kind::List(&Kind::Struct(GROUP_PAIR)), "source security groups"),
    Prop::opt("ip_ranges", Kind::List(&Kind::Struct(IP_RANGE)), "source IPv4 ranges"),
];

pub static SPEC: TypeSpec = TypeSpec {
    name: "ec2:SecurityGroup",
    aliases: &["AWS::EC2::SecurityGroup", "aws_security_group", "aws:ec2/securityGroup:SecurityGroup"],
    summary: "a security group of a VPC; AWS's default egress rule (all traffic out) is kept",
    calls: "CreateSecurityGroup (group_name, description, vpc_id, tags); \
            AuthorizeSecurityGroupIngress (ingress, passed as its ip_permissions: ip_protocol, from_port, \
            to_port, user_id_group_pairs, ip_ranges)",
    props: &[
        Prop::req("group_name", Kind::Str, "the group's name, unique in the VPC").name_rule(&SECURITY_GROUP_NAME),
        Prop::req("description", Kind::Str, "what the group is for (AWS requires it)")
            .name_rule(&SECURITY_GROUP_DESCRIPTION),
        Prop::opt("vpc_id", Kind::Str, "the VPC (default: the account's default VPC)"),
        // AuthorizeSecurityGroupIngress and RevokeSecurityGroupIngress change the rules.
        Prop::opt(
            "ingress",
            Kind::List(&Kind::Struct(IP_PERMISSION)),
            "inbound rules (the SDK's ip_permissions of AuthorizeSecurityGroupIngress)",
        )
        .in_place(),
        TAGS,
    ],
    attrs: &[
        attr("id", "the group ID"),
        attr("arn", "the group ARN"),
        attr("name", "the group name"),
        attr("vpc_id", "the VPC"),
    ],
    taggable: true,
    holds_data: false,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

/// One ingress rule, kept in the outputs until `ready` authorizes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Rule {
    ip_protocol: String,
    from_port: Option<i32>,
    to_port: Option<i32>,
    user_id_group_pairs: Vec<GroupPair>,
    ip_ranges: Vec<Range>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct GroupPair {
    group_id: String,
    description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Range {
    cidr_ip: String,
    description: Option<String>,
}

fn read_rule(r: &mut Props) -> Result<Rule, AwsError> {
    r.for_op("AuthorizeSecurityGroupIngress");
    let ip_protocol = r.str("ip_protocol")?;
    let from_port = r.opt_i32("from_port")?;
    let to_port = r.opt_i32("to_port")?;
    let mut user_id_group_pairs = Vec::new();
    for mut g in r.structs("user_id_group_pairs")? {
        user_id_group_pairs.push(GroupPair { group_id: g.str("group_id")?, description: g.opt_str("description")? });
        g.finish()?;
    }
    let mut ip_ranges = Vec::new();
    for mut c in r.structs("ip_ranges")? {
        ip_ranges.push(Range { cidr_ip: c.str("cidr_ip")?, description: c.opt_str("description")? });
        c.finish()?;
    }
    r.finish()?;
    Ok(Rule { ip_protocol, from_port, to_port, user_id_group_pairs, ip_ranges })
}

impl Rule {
    fn to_sdk(&self) -> IpPermission {
        let pairs: Vec<_> = self
            .user_id_group_pairs
            .iter()
            .map(|g| UserIdGroupPair::builder().group_id(&g.group_id).set_description(g.description.clone()).build())
            .collect();
        let ranges: Vec<_> = self
            .ip_ranges
            .iter()
            .map(|c| IpRange::builder().cidr_ip(&c.cidr_ip).set_description(c.description.clone()).build())
            .collect();
        IpPermission::builder()
            .ip_protocol(&self.ip_protocol)
            .set_from_port(self.from_port)
            .set_to_port(self.to_port)
            .set_user_id_group_pairs((!pairs.is_empty()).then_some(pairs))
            .set_ip_ranges((!ranges.is_empty()).then_some(ranges))
            .build()
    }

    /// A rule as AWS reports it, in plan shape. AWS groups the sources of rules with the same
    /// protocol and ports into one; IPv6 ranges and prefix lists are beyond the schema.
    fn live(p: &IpPermission) -> Value {
        json!({
            "ip_protocol": p.ip_protocol(),
            "from_port": p.from_port(),
            "to_port": p.to_port(),
            "user_id_group_pairs": p.user_id_group_pairs().iter()
                .map(|g| json!({ "group_id": g.group_id(), "description": g.description() }))
                .collect::<Vec<_>>(),
            "ip_ranges": p.ip_ranges().iter()
                .map(|c| json!({ "cidr_ip": c.cidr_ip(), "description": c.description() }))
                .collect::<Vec<_>>(),
        })
    }
}

pub struct SecurityGroup;

/// What a create reads.
pub struct Input {
    group_name: String,
    description: String,
    vpc_id: Option<String>,
    ingress: Vec<Rule>,
    tags: Vec<(String, String)>,
}

#[async_trait]
impl Lifecycle for SecurityGroup {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = &["InvalidGroup.NotFound"];
    const READ_BATCH: usize = READ_BATCH;
    const UPDATES: &'static [&'static str] = &["ingress", "tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateSecurityGroup");
        let group_name = p.str("group_name")?;
        let description = p.str("description")?;
        let vpc_id = p.opt_str("vpc_id")?;
        let mut ingress = Vec::new();
        for mut r in p.structs("ingress")? {
            ingress.push(read_rule(&mut r)?);
        }
        Ok(Input { group_name, description, vpc_id, ingress, tags: p.tags()? })
    }

    async fn create(ctx: &Ctx, g: &Input) -> Result<Created, AwsError> {
        let resp = ctx
            .ec2
            .create_security_group()
            .group_name(&g.group_name)
            .description(&g.description)
            .set_vpc_id(g.vpc_id.clone())
            .set_tag_specifications(tag_specs(ResourceType::SecurityGroup, &g.tags))
            .send()
            .await
            .map_err(|e| sdk_err("CreateSecurityGroup", e))?;
        let id = required(resp.group_id(), "CreateSecurityGroup", "GroupId")?;
        Ok(created(id, resp.security_group_arn(), g))
    }

    /// A group name is unique in its VPC: another group of that name there blocks the create.
    /// Without vpc_id the group went to the default VPC: its identity tags tell it from a
    /// same-named group of another VPC.
    async fn find(ctx: &Ctx, g: &Input, who: &Identity) -> Result<Found, AwsError> {
        const OP: &str = "DescribeSecurityGroups";
        let mut filters = vec![filter("group-name", &g.group_name)];
        match &g.vpc_id {
            Some(v) => filters.push(filter("vpc-id", v)),
            None => filters.extend(identity_filters(who)),
        }
        let r = match ctx.ec2.describe_security_groups().set_filters(Some(filters)).send().await {
            Ok(r) => r,
            Err(e) => return absent(sdk_err(OP, e)),
        };
        let Some(found) = r.security_groups().iter().find(|x| {
            x.group_name() == Some(g.group_name.as_str())
                && match &g.vpc_id {
                    Some(v) => x.vpc_id() == Some(v.as_str()),
                    None => is_ours(who, x.tags()),
                }
        }) else {
            return Ok(Found::Nothing);
        };
        let id = required(found.group_id(), OP, "GroupId")?;
        // The ingress rules go to wait_ready, which authorizes them (again: duplicates are fine).
        Ok(who.claim(created(id, found.security_group_arn(), g), pairs(found.tags())))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        let rules: Vec<Rule> = stashed(out, "ingress", "AuthorizeSecurityGroupIngress")?;
        if !rules.is_empty() {
            let authorized = ctx
                .ec2
                .authorize_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(Some(rules.iter().map(Rule::to_sdk).collect()))
                .send()
                .await;
            // Authorized by an earlier run of this wait.
            done_unless(
                authorized.map_err(|e| sdk_err("AuthorizeSecurityGroupIngress", e)),
                "InvalidPermission.Duplicate",
            )?;
        }
        let mut out = out.clone();
        // Without vpc_id the group went to the default VPC: report which one.
        if out.get("vpc_id").is_none_or(Value::is_null) || out.get("arn").is_none_or(Value::is_null) {
            let r = ctx
                .ec2
                .describe_security_groups()
                .group_ids(id)
                .send()
                .await
                .map_err(|e| sdk_err("DescribeSecurityGroups", e))?;
            if let Some(g) = r.security_groups().first() {
                out.insert("vpc_id".into(), json!(g.vpc_id()));
                out.insert("arn".into(), json!(g.security_group_arn()));
            }
        }
        Ok(out)
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        Ok(describe(ctx, id).await?.and_then(|g| live_of(&g, id, out)))
    }

    /// The ingress rules against what the group has: those the plan no longer has revoked first
    /// (an update never widens access, even for a moment), then the new ones authorized; the
    /// tags by DeleteTags and CreateTags.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, g: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        if changed.iter().any(|c| c == "ingress") {
            let Some(group) = describe(ctx, id).await? else {
                return Err(AwsError::input("AuthorizeSecurityGroupIngress", format!("security group {id} is gone")));
            };
            let planned: Vec<Value> = g.ingress.iter().map(|r| serde_json::to_value(r).unwrap_or_default()).collect();
            let live: Vec<Value> = group.ip_permissions().iter().map(Rule::live).collect();
            let stale: Vec<IpPermission> =
                group.ip_permissions().iter().filter(|p| !planned.contains(&Rule::live(p))).cloned().collect();
            if !stale.is_empty() {
                let r =
                    ctx.ec2.revoke_security_group_ingress().group_id(id).set_ip_permissions(Some(stale)).send().await;
                r.map_err(|e| sdk_err("RevokeSecurityGroupIngress", e))?;
            }
            let new: Vec<IpPermission> =
                g.ingress.iter().zip(&planned).filter(|(_, v)| !live.contains(v)).map(|(r, _)| r.to_sdk()).collect();
            if !new.is_empty() {
                let r =
                    ctx.ec2.authorize_security_group_ingress().group_id(id).set_ip_permissions(Some(new)).send().await;
                done_unless(r.map_err(|e| sdk_err("AuthorizeSecurityGroupIngress", e)), "InvalidPermission.Duplicate")?;
            }
        }
        if changed.iter().any(|c| c == "tags") {
            retag(ctx, id, &g.tags).await?;
        }
        let mut outputs = out.clone();
        outputs.insert("ingress".into(), json!(g.ingress));
        Ok(outputs)
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        ctx.ec2.delete_security_group().group_id(id).send().await.map_err(|e| sdk_err("DeleteSecurityGroup", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(describe(ctx, id).await?.is_none())
    }

    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        let pages = ctx.ec2.describe_security_groups().filters(ids_filter("group-id", items)).into_paginator().items();
        listed(items, "DescribeSecurityGroups", pages.send().collect().await, Described::group_id, live_of)
    }
}

/// What `create` returns: `ready` authorizes the ingress rules from the outputs.
fn created(id: String, arn: Option<&str>, g: &Input) -> Created {
    let outputs = obj(json!({
        "id": id,
        "arn": arn,
        "name": g.group_name,
        "vpc_id": g.vpc_id,
        "ingress": g.ingress,
    }));
    Created { id, outputs }
}

async fn describe(ctx: &Ctx, id: &str) -> Result<Option<Described>, AwsError> {
    let r = ctx.ec2.describe_security_groups().group_ids(id).send().await;
    one(r.map(|r| r.security_groups).map_err(|e| sdk_err("DescribeSecurityGroups", e)))
}

/// What `read` (and `read_many`) report of a described group: the ingress rules as AWS reports them
/// ([`Rule::live`]); egress rules are not in the schema.
fn live_of(g: &Described, id: &str, out: &Outputs) -> Option<Live> {
    let props = json!({
        "group_name": g.group_name(),
        "description": g.description(),
        "vpc_id": g.vpc_id(),
        "ingress": g.ip_permissions().iter().map(Rule::live).collect::<Vec<_>>(),
    });
    let attrs = json!({ "id": id, "arn": g.security_group_arn(), "name": g.group_name(), "vpc_id": g.vpc_id() });
    Some(live(props, Some(g.tags()), out, attrs))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn an_ingress_rule_round_trips_through_the_outputs() {
        let mut p = Props::new(obj(json!({
            "ip_protocol": "tcp", "from_port": 5432, "to_port": 5432,
            "user_id_group_pairs": [{"group_id": "sg-1"}],
        })));
        let rule = read_rule(&mut p).expect("rule");
        let out = obj(json!({ "ingress": [rule] }));
        let back: Vec<Rule> = stashed(&out, "ingress", "AuthorizeSecurityGroupIngress").expect("stashed");
        let sdk = back[0].to_sdk();
        assert_eq!(sdk.from_port(), Some(5432));
        assert_eq!(sdk.user_id_group_pairs()[0].group_id(), Some("sg-1"));
        assert!(sdk.ip_ranges().is_empty());
    }

    #[tokio::test]
    async fn security_group_is_adopted_read_back_and_deleted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let vpc = vpc(ctx, "10.0.0.0/16").await;
        let sg_p = tagged(
            json!({"group_name": "s-dev-app", "description": "app", "vpc_id": vpc.id,
                   "ingress": [{"ip_protocol": "tcp", "from_port": 443, "to_port": 443,
                                "ip_ranges": [{"cidr_ip": "10.0.0.0/16", "description": "the VPC"}]}]}),
            "s-dev",
            "app_sg",
        );
        let sg = round_trip(ctx, "ec2:SecurityGroup", &sg_p).await;
        assert_reads_back(ctx, "ec2:SecurityGroup", &sg_p, &sg.id, &sg.outputs).await;
        remove(ctx, "ec2:SecurityGroup", &sg_p, &sg).await;
        let named =
            |name: &str| tagged(json!({"group_name": name, "description": "d", "vpc_id": vpc.id}), "s-dev", name);
        assert_reads_many_with(ctx, "ec2:SecurityGroup", sg, &[sg_p.clone(), named("s-dev-b")]).await;
    }

    /// A new rule authorized, a dropped one revoked, a tag added: the group reads back as the
    /// new plan, with nothing else open.
    #[tokio::test]
    async fn ingress_and_tags_update_in_place() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let vpc = vpc(ctx, "10.0.0.0/16").await;
        let rule = |port: i32| {
            json!({"ip_protocol": "tcp", "from_port": port, "to_port": port,
                                      "ip_ranges": [{"cidr_ip": "10.0.0.0/16", "description": "the VPC"}]})
        };
        let mut sg_p = tagged(
            json!({"group_name": "s-dev-app", "description": "app", "vpc_id": vpc.id, "ingress": [rule(443)]}),
            "s-dev",
            "app_sg",
        );
        let sg = round_trip(ctx, "ec2:SecurityGroup", &sg_p).await;
        sg_p["ingress"] = json!([rule(8443)]);
        sg_p["tags"]["Team"] = json!("web");
        let keys = ["ingress".to_string(), "tags".to_string()];
        let out = crate::aws::update(
            ctx,
            "ec2:SecurityGroup",
            &sg.id,
            &sg.outputs,
            &mut crate::aws::testing::props(sg_p.clone()),
            &keys,
        )
        .await
        .expect("update");
        assert_reads_back(ctx, "ec2:SecurityGroup", &sg_p, &sg.id, &out).await;
        remove(ctx, "ec2:SecurityGroup", &sg_p, &sg).await;
    }

    /// Another stack's group, and one made by hand, of the plan's name in the plan's VPC are
    /// not ours.
    #[tokio::test]
    async fn another_stacks_security_group_is_not_adopted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let other_vpc = make(ctx, "ec2:Vpc", &tagged(json!({"cidr_block": "10.2.0.0/16"}), "s-other", "vpc")).await;
        let sg_p = |stack: &str| {
            tagged(json!({"group_name": "app", "description": "app", "vpc_id": other_vpc.id}), stack, "app_sg")
        };
        make(ctx, "ec2:SecurityGroup", &sg_p("s-other")).await;
        assert!(find(ctx, "ec2:SecurityGroup", &sg_p("s-dev")).await.is_none(), "security group");

        let r = ctx.ec2.create_vpc().cidr_block("10.3.0.0/16").send().await.expect("vpc");
        let vpc_id = r.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
        ctx.ec2
            .create_security_group()
            .group_name("app")
            .description("by hand")
            .vpc_id(&vpc_id)
            .send()
            .await
            .expect("sg");
        let sg_p = tagged(json!({"group_name": "app", "description": "app", "vpc_id": vpc_id}), "s-dev", "app_sg");
        assert_not_ours(
            &crate::aws::testing::find(ctx, "ec2:SecurityGroup", &sg_p).await,
            "has no `ironplan:stack` tag",
        );
    }
}
