//! `ec2:NatGateway`: a NAT gateway in a subnet. AWS takes about two minutes to make one and
//! lists a deleted one for about an hour, in state `deleted` (which counts as gone).

use async_trait::async_trait;
use aws_sdk_ec2::types::{ConnectivityType, NatGateway as Described, NatGatewayState, ResourceType};
use serde_json::json;

use super::{
    ID, READ_BATCH, TAGS, filter, identity_filters, ids_filter, is_ours, listed, live, obj, one, pairs, retag,
    tag_specs,
};
use crate::aws::adapter::{Item, Lifecycle, Live, Read};
use crate::aws::{AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, absent, poll, required, sdk_err};
use crate::plan::Resource;
use crate::schema::{Implied, Kind, PlanView, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "ec2:NatGateway",
    aliases: &["AWS::EC2::NatGateway", "aws_nat_gateway", "aws:ec2/natGateway:NatGateway"],
    summary: "a NAT gateway in a subnet",
    calls: "CreateNatGateway (subnet_id, allocation_id, connectivity_type, tags), then waits until available; \
            teardown: DeleteNatGateway, then waits until deleted",
    props: &[
        Prop::req("subnet_id", Kind::Str, "the (public) subnet it lives in"),
        Prop::opt("allocation_id", Kind::Str, "the Elastic IP's allocation ID (required for a public gateway)"),
        Prop::opt("connectivity_type", Kind::Str, "public (default) or private"),
        TAGS,
    ],
    attrs: &[
        ID,
        attr("subnet_id", "the subnet"),
        attr("vpc_id", "the VPC of the subnet"),
        attr("public_ip", "the public IPv4 address, once available"),
        attr("private_ip", "the private IPv4 address, once available"),
    ],
    taggable: true,
    holds_data: false,
    create_secs: 105,
    delete_secs: 60,
    implied: &[Implied {
        why: "AWS needs the VPC's internet gateway attached before a NAT gateway can route",
        find: igw_of_subnet_vpc,
    }],
};

/// The internet gateways attached to the VPC of the NAT gateway's subnet
/// (`nat.subnet_id` → that subnet's `vpc_id` = the gateway's `vpc_id`).
fn igw_of_subnet_vpc(view: &PlanView<'_>, res: &Resource) -> Vec<String> {
    let mut found: Vec<String> = view
        .referenced_by(res, "subnet_id")
        .into_iter()
        .filter(|subnet| subnet.type_name == super::subnet::SPEC.name)
        .flat_map(|subnet| view.matching(subnet, super::internet_gateway::SPEC.name, &[("vpc_id", "vpc_id")]))
        .collect();
    found.sort();
    found.dedup();
    found
}

pub struct NatGateway;

/// What a create reads.
pub struct Input {
    subnet_id: String,
    allocation_id: Option<String>,
    connectivity: Option<String>,
    tags: Vec<(String, String)>,
}

#[async_trait]
impl Lifecycle for NatGateway {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = &["NatGatewayNotFound", "InvalidNatGatewayID.NotFound"];
    const READ_BATCH: usize = READ_BATCH;
    const UPDATES: &'static [&'static str] = &["tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateNatGateway");
        Ok(Input {
            subnet_id: p.str("subnet_id")?,
            allocation_id: p.opt_str("allocation_id")?,
            connectivity: p.opt_str("connectivity_type")?,
            tags: p.tags()?,
        })
    }

    async fn create(ctx: &Ctx, n: &Input) -> Result<Created, AwsError> {
        let resp = ctx
            .ec2
            .create_nat_gateway()
            .subnet_id(&n.subnet_id)
            .set_allocation_id(n.allocation_id.clone())
            .set_connectivity_type(n.connectivity.as_deref().map(ConnectivityType::from))
            .set_tag_specifications(tag_specs(ResourceType::Natgateway, &n.tags))
            .send()
            .await
            .map_err(|e| sdk_err("CreateNatGateway", e))?;
        let nat = resp.nat_gateway();
        let id = required(nat.and_then(|n| n.nat_gateway_id()), "CreateNatGateway", "NatGatewayId")?;
        Ok(created(id, nat.and_then(|n| n.vpc_id()), n))
    }

    /// The gateway in the plan's subnet with both identity tags, unless it is on its way out.
    async fn find(ctx: &Ctx, n: &Input, who: &Identity) -> Result<Found, AwsError> {
        const OP: &str = "DescribeNatGateways";
        let r = ctx
            .ec2
            .describe_nat_gateways()
            .set_filter(Some([vec![filter("subnet-id", &n.subnet_id)], identity_filters(who)].concat()))
            .send()
            .await;
        let r = match r {
            Ok(r) => r,
            Err(e) => return absent(sdk_err(OP, e)),
        };
        // A gateway being deleted (AWS lists it for about an hour) is gone; a failed one is
        // never usable and AWS deletes it by itself: a new one is made instead.
        let Some(found) = r.nat_gateways().iter().find(|x| {
            x.subnet_id() == Some(n.subnet_id.as_str())
                && is_ours(who, x.tags())
                && !matches!(
                    x.state(),
                    Some(NatGatewayState::Deleting | NatGatewayState::Deleted | NatGatewayState::Failed)
                )
        }) else {
            return Ok(Found::Nothing);
        };
        let id = required(found.nat_gateway_id(), OP, "NatGatewayId")?;
        Ok(who.claim(created(id, found.vpc_id(), n), pairs(found.tags())))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        poll(ctx, "DescribeNatGateways", &format!("NAT gateway {id} to be available"), || async {
            let Some(n) = describe(ctx, id).await? else { return Ok(None) };
            match n.state() {
                Some(NatGatewayState::Available) => Ok(Some(outputs(&n, out))),
                Some(NatGatewayState::Failed | NatGatewayState::Deleting | NatGatewayState::Deleted) => Err(AwsError {
                    operation: "CreateNatGateway",
                    code: n.failure_code().unwrap_or("NatGatewayFailed").to_string(),
                    message: n.failure_message().map_or_else(
                        || format!("NAT gateway {id} is {}", n.state().map_or("", |s| s.as_str())),
                        str::to_owned,
                    ),
                    kind: ErrorKind::Fatal,
                    hint: None,
                }),
                _ => Ok(None),
            }
        })
        .await
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        Ok(describe(ctx, id).await?.and_then(|n| live_of(&n, id, out)))
    }

    /// AWS disassociates the gateway's Elastic IP once it is deleted. moto keeps the
    /// association, so a new gateway on that EIP (a replacement) would be refused: on the
    /// emulator, and only there, the association is removed here.
    /// Only the tags change in place (DeleteTags, CreateTags).
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, input: &Input, _: &[String]) -> Result<Outputs, AwsError> {
        retag(ctx, id, &input.tags).await.map(|()| out.clone())
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        let allocations: Vec<String> = if ctx.emulator {
            describe(ctx, id)
                .await?
                .map(|n| {
                    n.nat_gateway_addresses().iter().filter_map(|a| a.allocation_id().map(str::to_owned)).collect()
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        ctx.ec2.delete_nat_gateway().nat_gateway_id(id).send().await.map_err(|e| sdk_err("DeleteNatGateway", e))?;
        for a in allocations {
            let addrs = ctx.ec2.describe_addresses().allocation_ids(&a).send().await;
            let addrs = addrs.map_err(|e| sdk_err("DescribeAddresses", e))?;
            for assoc in addrs.addresses().iter().filter_map(|x| x.association_id()) {
                let r = ctx.ec2.disassociate_address().association_id(assoc).send().await;
                r.map_err(|e| sdk_err("DisassociateAddress", e))?;
            }
        }
        Ok(())
    }

    /// AWS lists a deleted NAT gateway for about an hour, in state `deleted`.
    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(describe(ctx, id).await?.is_none_or(|n| n.state() == Some(&NatGatewayState::Deleted)))
    }

    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        let pages = ctx.ec2.describe_nat_gateways().filter(ids_filter("nat-gateway-id", items)).into_paginator();
        listed(items, "DescribeNatGateways", pages.items().send().collect().await, Described::nat_gateway_id, live_of)
    }
}

/// What `create` returns; `ready` adds the addresses.
fn created(id: String, vpc_id: Option<&str>, n: &Input) -> Created {
    Created { outputs: obj(json!({ "id": id, "subnet_id": n.subnet_id, "vpc_id": vpc_id })), id }
}

/// The outputs of an available gateway: `out` with its VPC and addresses.
fn outputs(n: &Described, out: &Outputs) -> Outputs {
    let mut out = out.clone();
    let addr = n.nat_gateway_addresses().first();
    out.insert("vpc_id".into(), json!(n.vpc_id()));
    out.insert("public_ip".into(), json!(addr.and_then(|a| a.public_ip())));
    out.insert("private_ip".into(), json!(addr.and_then(|a| a.private_ip())));
    out
}

async fn describe(ctx: &Ctx, id: &str) -> Result<Option<Described>, AwsError> {
    let r = ctx.ec2.describe_nat_gateways().nat_gateway_ids(id).send().await;
    one(r.map(|r| r.nat_gateways).map_err(|e| sdk_err("DescribeNatGateways", e)))
}

/// What `read` (and `read_many`) report of a described gateway (`None`: it is deleted, as AWS
/// lists it for a while).
fn live_of(n: &Described, id: &str, out: &Outputs) -> Option<Live> {
    if n.state() == Some(&NatGatewayState::Deleted) {
        return None;
    }
    // The primary address holds the allocation of a public gateway (a private one has none).
    let address = n.nat_gateway_addresses().iter().find(|a| a.is_primary() != Some(false));
    let props = json!({
        "subnet_id": n.subnet_id(),
        "allocation_id": address.and_then(|a| a.allocation_id()),
        "connectivity_type": n.connectivity_type().map(ConnectivityType::as_str),
    });
    let attrs = outputs(n, &obj(json!({ "id": id, "subnet_id": n.subnet_id() })));
    Some(live(props, Some(n.tags()), out, attrs.into()))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::plan::Plan;
    use std::path::Path;

    // nat -> public_a -> vpc <- igw ; other_igw is in another VPC
    #[test]
    fn nat_waits_for_the_igw_of_its_subnets_vpc() {
        let text = r#"
            [plan]
            name = "t"
            [resources.vpc]
            type = "ec2:Vpc"
            cidr_block = "10.0.0.0/16"
            [resources.other]
            type = "ec2:Vpc"
            cidr_block = "10.1.0.0/16"
            [resources.igw]
            type = "ec2:InternetGateway"
            vpc_id = "${vpc.id}"
            [resources.other_igw]
            type = "ec2:InternetGateway"
            vpc_id = "${other.id}"
            [resources.public_a]
            type = "ec2:Subnet"
            vpc_id = "${vpc.id}"
            cidr_block = "10.0.1.0/24"
            [resources.nat]
            type = "ec2:NatGateway"
            subnet_id = "${public_a.id}"
        "#;
        let plan = Plan::parse(Path::new("t.toml"), text).expect("plan parses");
        let view = PlanView::new(&plan);
        let nat = plan.resource("nat").expect("nat");
        let rule = &SPEC.implied[0];
        assert_eq!((rule.find)(&view, nat), vec!["igw".to_string()]);
        let igw = plan.resource("igw").expect("igw");
        assert!((rule.find)(&view, igw).is_empty());
    }

    #[tokio::test]
    async fn nat_gateway_is_adopted_read_back_and_deleted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let vpc = vpc(ctx, "10.1.0.0/16").await;
        let subnet = subnet(ctx, &vpc, "10.1.0.0/24").await;
        let eip = make(ctx, "ec2:Eip", &tagged(json!({"domain": "vpc"}), "s-dev", "nat_eip")).await;

        let nat_p = tagged(
            json!({"subnet_id": subnet.id, "allocation_id": eip.id, "connectivity_type": "public"}),
            "s-dev",
            "nat",
        );
        let nat = round_trip(ctx, "ec2:NatGateway", &nat_p).await;
        assert_reads_back(ctx, "ec2:NatGateway", &nat_p, &nat.id, &nat.outputs).await;
        // moto keeps the deleted NAT gateway listed, in state `deleted` (as AWS does for an hour).
        remove(ctx, "ec2:NatGateway", &nat_p, &nat).await;
        let eip = make(ctx, "ec2:Eip", &tagged(json!({"domain": "vpc"}), "s-dev", "nat_eip_b")).await;
        let other = tagged(json!({"subnet_id": subnet.id, "allocation_id": eip.id}), "s-dev", "nat_b");
        assert_reads_many_with(ctx, "ec2:NatGateway", nat, &[other]).await;
    }

    #[tokio::test]
    async fn another_stacks_nat_gateway_is_not_adopted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let vpc = vpc(ctx, "10.2.0.0/16").await;
        let subnet = subnet(ctx, &vpc, "10.2.0.0/24").await;
        let eip = make(ctx, "ec2:Eip", &tagged(json!({"domain": "vpc"}), "s-other", "nat_eip")).await;
        let nat_p = |stack: &str| tagged(json!({"subnet_id": subnet.id, "allocation_id": eip.id}), stack, "nat");
        make(ctx, "ec2:NatGateway", &nat_p("s-other")).await;
        assert!(find(ctx, "ec2:NatGateway", &nat_p("s-dev")).await.is_none(), "NAT gateway");
    }
}
