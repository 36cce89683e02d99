//! `ec2:Vpc`: a VPC. CreateVpc takes no DNS attributes: they are stashed in the outputs and
//! `ready` sets them (ModifyVpcAttribute, one attribute per call).

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Tenancy, Vpc as Described, VpcAttributeName, VpcState};
use serde_json::{Value, json};

use super::{ID, TAGS, identity_filters, is_ours, live, one, pairs, retag, tag_specs};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, poll, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "ec2:Vpc",
    aliases: &["AWS::EC2::VPC", "aws_vpc", "aws:ec2/vpc:Vpc"],
    summary: "a VPC",
    calls: "CreateVpc (cidr_block, instance_tenancy, tags); \
            ModifyVpcAttribute, one call per attribute (enable_dns_support, enable_dns_hostnames)",
    props: &[
        Prop::req("cidr_block", Kind::Str, "the IPv4 range, e.g. 10.0.0.0/16"),
        // ModifyVpcTenancy goes only from dedicated to default: the other way is a new VPC.
        Prop::opt("instance_tenancy", Kind::Str, "default or dedicated"),
        Prop::opt("enable_dns_support", Kind::Bool, "resolve DNS through the Amazon-provided server").in_place(),
        Prop::opt("enable_dns_hostnames", Kind::Bool, "give instances public DNS hostnames").in_place(),
        TAGS,
    ],
    attrs: &[ID, attr("cidr_block", "the IPv4 range")],
    taggable: true,
    holds_data: false,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

pub struct Vpc;

/// What a create reads.
pub struct Input {
    cidr_block: String,
    tenancy: Option<String>,
    dns_support: Option<bool>,
    dns_hostnames: Option<bool>,
    tags: Vec<(String, String)>,
}

#[async_trait]
impl Lifecycle for Vpc {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = &["InvalidVpcID.NotFound"];
    const UPDATES: &'static [&'static str] = &["enable_dns_support", "enable_dns_hostnames", "tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateVpc");
        Ok(Input {
            cidr_block: p.str("cidr_block")?,
            tenancy: p.opt_str("instance_tenancy")?,
            dns_support: p.opt_bool("enable_dns_support")?,
            dns_hostnames: p.opt_bool("enable_dns_hostnames")?,
            tags: p.tags()?,
        })
    }

    async fn create(ctx: &Ctx, v: &Input) -> Result<Created, AwsError> {
        let resp = ctx
            .ec2
            .create_vpc()
            .cidr_block(&v.cidr_block)
            .set_instance_tenancy(v.tenancy.as_deref().map(Tenancy::from))
            .set_tag_specifications(tag_specs(ResourceType::Vpc, &v.tags))
            .send()
            .await
            .map_err(|e| sdk_err("CreateVpc", e))?;
        Ok(created(required(resp.vpc().and_then(|v| v.vpc_id()), "CreateVpc", "VpcId")?, v))
    }

    /// The VPC of that CIDR block with both identity tags.
    async fn find(ctx: &Ctx, v: &Input, who: &Identity) -> Result<Found, AwsError> {
        const OP: &str = "DescribeVpcs";
        let r = ctx
            .ec2
            .describe_vpcs()
            .set_filters(Some(identity_filters(who)))
            .send()
            .await
            .map_err(|e| sdk_err(OP, e))?;
        let Some(found) =
            r.vpcs().iter().find(|x| x.cidr_block() == Some(v.cidr_block.as_str()) && is_ours(who, x.tags()))
        else {
            return Ok(Found::Nothing);
        };
        Ok(who.claim(created(required(found.vpc_id(), OP, "VpcId")?, v), pairs(found.tags())))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        poll(ctx, "DescribeVpcs", &format!("VPC {id} to be available"), || async {
            Ok(describe(ctx, id).await?.filter(|v| v.state() == Some(&VpcState::Available)).map(|_| ()))
        })
        .await?;
        let flag = |key: &str| {
            out.get(key).and_then(Value::as_bool).map(|on| AttributeBooleanValue::builder().value(on).build())
        };
        // ModifyVpcAttribute takes one attribute per call.
        for (support, hostnames) in [(flag("enable_dns_support"), None), (None, flag("enable_dns_hostnames"))] {
            if support.is_none() && hostnames.is_none() {
                continue;
            }
            ctx.ec2
                .modify_vpc_attribute()
                .vpc_id(id)
                .set_enable_dns_support(support)
                .set_enable_dns_hostnames(hostnames)
                .send()
                .await
                .map_err(|e| sdk_err("ModifyVpcAttribute", e))?;
        }
        Ok(out.clone())
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let Some(v) = describe(ctx, id).await? else { return Ok(None) };
        let (Some(dns_support), Some(dns_hostnames)) = (
            attribute(ctx, id, VpcAttributeName::EnableDnsSupport).await?,
            attribute(ctx, id, VpcAttributeName::EnableDnsHostnames).await?,
        ) else {
            return Ok(None);
        };
        let props = json!({
            "cidr_block": v.cidr_block(),
            "instance_tenancy": v.instance_tenancy().map(Tenancy::as_str),
            "enable_dns_support": dns_support,
            "enable_dns_hostnames": dns_hostnames,
        });
        Ok(Some(live(props, Some(v.tags()), out, json!({ "id": id, "cidr_block": v.cidr_block() }))))
    }

    /// The DNS attributes (ModifyVpcAttribute, as `ready`) and the tags.
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
        // The DNS attributes as `ready` sets them, from the plan's values.
        let mut want = out.clone();
        want.extend(created(id.to_string(), input).outputs);
        Self::ready(ctx, id, &want).await
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        ctx.ec2.delete_vpc().vpc_id(id).send().await.map_err(|e| sdk_err("DeleteVpc", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(describe(ctx, id).await?.is_none())
    }
}

/// What `create` returns: `ready` sets the DNS attributes from the outputs.
fn created(id: String, v: &Input) -> Created {
    let outputs = super::obj(json!({
        "id": id,
        "cidr_block": v.cidr_block,
        "enable_dns_support": v.dns_support,
        "enable_dns_hostnames": v.dns_hostnames,
    }));
    Created { id, outputs }
}

async fn describe(ctx: &Ctx, id: &str) -> Result<Option<Described>, AwsError> {
    one(ctx.ec2.describe_vpcs().vpc_ids(id).send().await.map(|r| r.vpcs).map_err(|e| sdk_err("DescribeVpcs", e)))
}

/// One DNS attribute of the VPC (`None`: the VPC is gone). DescribeVpcAttribute answers the
/// attribute asked for and no other.
async fn attribute(ctx: &Ctx, id: &str, name: VpcAttributeName) -> Result<Option<Option<bool>>, AwsError> {
    let r = ctx.ec2.describe_vpc_attribute().vpc_id(id).attribute(name).send().await;
    let r = super::present(r.map_err(|e| sdk_err("DescribeVpcAttribute", e)))?;
    Ok(r.map(|r| r.enable_dns_support().or(r.enable_dns_hostnames()).and_then(|a| a.value())))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::aws::Found;

    #[tokio::test]
    async fn vpc_is_adopted_read_back_and_deleted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let vpc_p = tagged(
            json!({"cidr_block": "10.0.0.0/16", "instance_tenancy": "default",
                   "enable_dns_support": true, "enable_dns_hostnames": true}),
            "s-dev",
            "vpc",
        );
        let vpc = round_trip(ctx, "ec2:Vpc", &vpc_p).await;
        let attrs = ctx
            .ec2
            .describe_vpc_attribute()
            .vpc_id(&vpc.id)
            .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
            .send()
            .await
            .expect("attribute");
        assert_eq!(attrs.enable_dns_hostnames().and_then(|a| a.value()), Some(true), "wait_ready of the adopted VPC");
        assert_reads_back(ctx, "ec2:Vpc", &vpc_p, &vpc.id, &vpc.outputs).await;
        remove(ctx, "ec2:Vpc", &vpc_p, &vpc).await;
    }

    /// The VPC's DNS attributes and tags, a subnet's public-IP attribute and tags, an Elastic
    /// IP's tags: each changed in place and read back as the new plan.
    #[tokio::test]
    async fn vpc_subnet_and_eip_update_in_place() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let update = |ty: &'static str,
                      id: String,
                      out: crate::aws::Outputs,
                      v: serde_json::Value,
                      keys: &'static [&'static str]| async move {
            let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            let out = crate::aws::update(ctx, ty, &id, &out, &mut crate::aws::testing::props(v.clone()), &keys)
                .await
                .unwrap_or_else(|e| panic!("update {ty}: {e}"));
            assert_reads_back(ctx, ty, &v, &id, &out).await;
        };
        let mut vpc_p = tagged(
            json!({"cidr_block": "10.0.0.0/16", "instance_tenancy": "default",
                   "enable_dns_support": true, "enable_dns_hostnames": false}),
            "s-dev",
            "vpc",
        );
        let vpc = round_trip(ctx, "ec2:Vpc", &vpc_p).await;
        vpc_p["enable_dns_hostnames"] = json!(true);
        vpc_p["tags"]["Team"] = json!("net");
        update("ec2:Vpc", vpc.id.clone(), vpc.outputs.clone(), vpc_p, &["enable_dns_hostnames", "tags"]).await;

        let mut subnet_p = tagged(
            json!({"vpc_id": vpc.id, "cidr_block": "10.0.1.0/24", "availability_zone": "us-east-1a",
                   "map_public_ip_on_launch": false}),
            "s-dev",
            "subnet",
        );
        let subnet = round_trip(ctx, "ec2:Subnet", &subnet_p).await;
        let zones = ctx.ec2.describe_availability_zones().zone_names("us-east-1a").send().await.expect("zones");
        subnet_p["availability_zone_id"] = json!(zones.availability_zones()[0].zone_id());
        subnet_p["map_public_ip_on_launch"] = json!(true);
        subnet_p["tags"]["Tier"] = json!("public");
        update("ec2:Subnet", subnet.id.clone(), subnet.outputs.clone(), subnet_p, &["map_public_ip_on_launch", "tags"])
            .await;

        let mut eip_p = tagged(json!({"domain": "vpc"}), "s-dev", "eip");
        let eip = round_trip(ctx, "ec2:Eip", &eip_p).await;
        eip_p["tags"]["Use"] = json!("nat");
        update("ec2:Eip", eip.id.clone(), eip.outputs.clone(), eip_p, &["tags"]).await;
    }

    /// Another stack's VPC, another plan resource's, and one made by hand are not adopted.
    #[tokio::test]
    async fn another_stacks_vpc_is_not_adopted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let vpc_p = |stack: &str| tagged(json!({"cidr_block": "10.2.0.0/16"}), stack, "vpc");
        make(ctx, "ec2:Vpc", &vpc_p("s-other")).await;
        assert!(find(ctx, "ec2:Vpc", &vpc_p("s-dev")).await.is_none(), "VPC");
        // Same stack, another plan resource.
        assert!(find(ctx, "ec2:Vpc", &tagged(json!({"cidr_block": "10.2.0.0/16"}), "s-other", "vpc2")).await.is_none());

        // Found only by tags: one without them is simply not found.
        ctx.ec2.create_vpc().cidr_block("10.3.0.0/16").send().await.expect("vpc");
        let vpc_p = tagged(json!({"cidr_block": "10.3.0.0/16"}), "s-dev", "vpc");
        assert!(matches!(crate::aws::testing::find(ctx, "ec2:Vpc", &vpc_p).await, Found::Nothing));
    }
}
