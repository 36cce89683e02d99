//! `ec2:Subnet`: a subnet of a VPC in one availability zone. CreateSubnet takes no
//! `map_public_ip_on_launch`: `ready` sets it (ModifySubnetAttribute) once the subnet is
//! available.

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Subnet as Described, SubnetState};
use serde_json::{Value, json};

use super::{ID, READ_BATCH, TAGS, filter, ids_filter, listed, live, obj, one, pairs, retag, tag_specs};
use crate::aws::adapter::{Item, Lifecycle, Live, Read};
use crate::aws::{AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, poll, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "ec2:Subnet",
    aliases: &["AWS::EC2::Subnet", "aws_subnet", "aws:ec2/subnet:Subnet"],
    summary: "a subnet of a VPC in one availability zone",
    calls: "CreateSubnet (vpc_id, cidr_block, availability_zone, availability_zone_id, tags); \
            ModifySubnetAttribute (map_public_ip_on_launch)",
    props: &[
        Prop::req("vpc_id", Kind::Str, "the VPC"),
        Prop::req("cidr_block", Kind::Str, "the IPv4 range, inside the VPC's"),
        Prop::opt("availability_zone", Kind::Str, "the zone name, e.g. us-east-1a"),
        Prop::opt("availability_zone_id", Kind::Str, "the zone ID, e.g. use1-az1 (instead of availability_zone)"),
        Prop::opt("map_public_ip_on_launch", Kind::Bool, "give network interfaces launched here a public IP")
            .in_place(),
        TAGS,
    ],
    attrs: &[
        ID,
        attr("availability_zone", "the zone name"),
        attr("vpc_id", "the VPC"),
        attr("cidr_block", "the IPv4 range"),
    ],
    taggable: true,
    holds_data: false,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

pub struct Subnet;

/// What a create reads.
pub struct Input {
    vpc_id: String,
    cidr_block: String,
    az: Option<String>,
    az_id: Option<String>,
    map_public_ip: Option<bool>,
    tags: Vec<(String, String)>,
}

#[async_trait]
impl Lifecycle for Subnet {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = &["InvalidSubnetID.NotFound"];
    const READ_BATCH: usize = READ_BATCH;
    const UPDATES: &'static [&'static str] = &["map_public_ip_on_launch", "tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateSubnet");
        Ok(Input {
            vpc_id: p.str("vpc_id")?,
            cidr_block: p.str("cidr_block")?,
            az: p.opt_str("availability_zone")?,
            az_id: p.opt_str("availability_zone_id")?,
            map_public_ip: p.opt_bool("map_public_ip_on_launch")?,
            tags: p.tags()?,
        })
    }

    async fn create(ctx: &Ctx, s: &Input) -> Result<Created, AwsError> {
        let resp = ctx
            .ec2
            .create_subnet()
            .vpc_id(&s.vpc_id)
            .cidr_block(&s.cidr_block)
            .set_availability_zone(s.az.clone())
            .set_availability_zone_id(s.az_id.clone())
            .set_tag_specifications(tag_specs(ResourceType::Subnet, &s.tags))
            .send()
            .await
            .map_err(|e| sdk_err("CreateSubnet", e))?;
        let subnet = resp.subnet();
        let id = required(subnet.and_then(|s| s.subnet_id()), "CreateSubnet", "SubnetId")?;
        Ok(created(id, subnet.and_then(|s| s.availability_zone()), s))
    }

    /// A CIDR block is unique in its VPC: a subnet there that is not ours blocks the create.
    async fn find(ctx: &Ctx, s: &Input, who: &Identity) -> Result<Found, AwsError> {
        const OP: &str = "DescribeSubnets";
        let r = ctx
            .ec2
            .describe_subnets()
            .filters(filter("vpc-id", &s.vpc_id))
            .filters(filter("cidr-block", &s.cidr_block))
            .send()
            .await
            .map_err(|e| sdk_err(OP, e))?;
        let Some(found) = r
            .subnets()
            .iter()
            .find(|x| x.vpc_id() == Some(s.vpc_id.as_str()) && x.cidr_block() == Some(s.cidr_block.as_str()))
        else {
            return Ok(Found::Nothing);
        };
        let id = required(found.subnet_id(), OP, "SubnetId")?;
        Ok(who.claim(created(id, found.availability_zone(), s), pairs(found.tags())))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        let az = poll(ctx, "DescribeSubnets", &format!("subnet {id} to be available"), || async {
            let Some(s) = describe(ctx, id).await? else { return Ok(None) };
            match s.state() {
                Some(SubnetState::Available) => Ok(Some(s.availability_zone().map(str::to_owned))),
                Some(SubnetState::Failed | SubnetState::FailedInsufficientCapacity) => Err(AwsError {
                    operation: "CreateSubnet",
                    code: "SubnetFailed".into(),
                    message: format!("subnet {id} is in state {}", s.state().map_or("", |st| st.as_str())),
                    kind: ErrorKind::Fatal,
                    hint: None,
                }),
                _ => Ok(None),
            }
        })
        .await?;
        if let Some(on) = out.get("map_public_ip_on_launch").and_then(Value::as_bool) {
            ctx.ec2
                .modify_subnet_attribute()
                .subnet_id(id)
                .map_public_ip_on_launch(AttributeBooleanValue::builder().value(on).build())
                .send()
                .await
                .map_err(|e| sdk_err("ModifySubnetAttribute", e))?;
        }
        let mut out = out.clone();
        if let Some(az) = az {
            out.insert("availability_zone".into(), az.into());
        }
        Ok(out)
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        Ok(describe(ctx, id).await?.and_then(|s| live_of(&s, id, out)))
    }

    /// `map_public_ip_on_launch` (ModifySubnetAttribute, as `ready`) and the tags.
    async fn update(
        ctx: &Ctx,
        id: &str,
        out: &Outputs,
        input: &Input,
        changed: &[String],
    ) -> Result<Outputs, AwsError> {
        if changed.iter().any(|c| c == "tags") {
            retag(ctx, id, &input.tags).await?;
        }
        // `ready` sets the attribute from the outputs: the plan's value, or false once dropped.
        let mut want = out.clone();
        want.insert("map_public_ip_on_launch".into(), json!(input.map_public_ip.unwrap_or(false)));
        Self::ready(ctx, id, &want).await
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        ctx.ec2.delete_subnet().subnet_id(id).send().await.map_err(|e| sdk_err("DeleteSubnet", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(describe(ctx, id).await?.is_none())
    }

    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        let pages = ctx.ec2.describe_subnets().filters(ids_filter("subnet-id", items)).into_paginator().items();
        listed(items, "DescribeSubnets", pages.send().collect().await, Described::subnet_id, live_of)
    }
}

/// What `create` returns: `ready` sets `map_public_ip_on_launch` from the outputs.
fn created(id: String, az: Option<&str>, s: &Input) -> Created {
    let outputs = obj(json!({
        "id": id,
        "availability_zone": az,
        "vpc_id": s.vpc_id,
        "cidr_block": s.cidr_block,
        "map_public_ip_on_launch": s.map_public_ip,
    }));
    Created { id, outputs }
}

async fn describe(ctx: &Ctx, id: &str) -> Result<Option<Described>, AwsError> {
    one(ctx
        .ec2
        .describe_subnets()
        .subnet_ids(id)
        .send()
        .await
        .map(|r| r.subnets)
        .map_err(|e| sdk_err("DescribeSubnets", e)))
}

/// What `read` (and `read_many`) report of a described subnet. AWS reports both the zone's name
/// and its ID, whichever the plan gave.
fn live_of(s: &Described, id: &str, out: &Outputs) -> Option<Live> {
    let props = json!({
        "vpc_id": s.vpc_id(),
        "cidr_block": s.cidr_block(),
        "availability_zone": s.availability_zone(),
        "availability_zone_id": s.availability_zone_id(),
        "map_public_ip_on_launch": s.map_public_ip_on_launch(),
    });
    let attrs = json!({
        "id": id,
        "availability_zone": s.availability_zone(),
        "vpc_id": s.vpc_id(),
        "cidr_block": s.cidr_block(),
    });
    Some(live(props, Some(s.tags()), out, attrs))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[tokio::test]
    async fn subnet_is_adopted_read_back_and_deleted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let vpc = vpc(ctx, "10.0.0.0/16").await;
        let subnet_p = tagged(
            json!({"vpc_id": vpc.id, "cidr_block": "10.0.1.0/24", "availability_zone": "us-east-1a",
                   "map_public_ip_on_launch": true}),
            "s-dev",
            "public_a",
        );
        let subnet = round_trip(ctx, "ec2:Subnet", &subnet_p).await;
        // AWS reports the zone's ID too: what DescribeAvailabilityZones says it is.
        let zones = ctx.ec2.describe_availability_zones().zone_names("us-east-1a").send().await.expect("zones");
        let zone_id = zones.availability_zones()[0].zone_id().expect("zone id");
        let mut planned = subnet_p.clone();
        planned["availability_zone_id"] = json!(zone_id);
        assert_reads_back(ctx, "ec2:Subnet", &planned, &subnet.id, &subnet.outputs).await;
        remove(ctx, "ec2:Subnet", &subnet_p, &subnet).await;
        let other = |cidr: &str| tagged(json!({"vpc_id": vpc.id, "cidr_block": cidr}), "s-dev", cidr);
        assert_reads_many_with(ctx, "ec2:Subnet", subnet, &[other("10.0.2.0/24"), other("10.0.3.0/24")]).await;
    }

    /// Another stack's subnet, and one made by hand, in the plan's VPC and CIDR block are not
    /// ours.
    #[tokio::test]
    async fn another_stacks_subnet_is_not_adopted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let other_vpc = make(ctx, "ec2:Vpc", &tagged(json!({"cidr_block": "10.2.0.0/16"}), "s-other", "vpc")).await;
        let subnet_p = |stack: &str| tagged(json!({"vpc_id": other_vpc.id, "cidr_block": "10.2.0.0/24"}), stack, "a");
        make(ctx, "ec2:Subnet", &subnet_p("s-other")).await;
        assert!(find(ctx, "ec2:Subnet", &subnet_p("s-dev")).await.is_none(), "subnet");

        let vpc_id = other_vpc.id;
        ctx.ec2.create_subnet().vpc_id(&vpc_id).cidr_block("10.2.1.0/24").send().await.expect("subnet");
        let subnet_p = tagged(json!({"vpc_id": vpc_id, "cidr_block": "10.2.1.0/24"}), "s-dev", "a");
        assert_not_ours(&crate::aws::testing::find(ctx, "ec2:Subnet", &subnet_p).await, "has no `ironplan:stack` tag");
    }
}
