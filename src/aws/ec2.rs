//! Adapter for `ec2:*` types (see `crate::schema` for their properties).
//!
//! [`create`] makes only the call that brings the resource into being and returns at once, so
//! the executor records it before anything else can fail. The calls that configure it
//! afterwards (DNS attributes, the gateway attachment, `map_public_ip_on_launch`, routes,
//! ingress rules) are stashed in the outputs and made by [`wait_ready`]; each tolerates the
//! "already done" answer, so a wait that is run again after a crash does no harm.
//! [`delete`] does what AWS needs first (detach the internet gateway), [`wait_deleted`] polls
//! until the resource is gone.
//!
//! No client tokens: EC2 remembers a token after the resource is deleted, so a deploy after a
//! teardown would be answered with the deleted NAT gateway or route table.

use aws_sdk_ec2::types::{
    AttributeBooleanValue, ConnectivityType, DomainType, Filter, FlowLogsResourceType, IpPermission, IpRange,
    LogDestinationType, NatGatewayState, ResourceType, RouteTableAssociationStateCode, SubnetState, Tag,
    TagSpecification, Tenancy, TrafficType, UserIdGroupPair, VpcState,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, absent, out_str, poll, required, sdk_err,
};
use crate::schema::{RESOURCE_TAG, STACK_TAG};

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    match ty {
        "ec2:Vpc" => create_vpc(ctx, p).await,
        "ec2:InternetGateway" => create_igw(ctx, p).await,
        "ec2:Subnet" => create_subnet(ctx, p).await,
        "ec2:Eip" => create_eip(ctx, p).await,
        "ec2:NatGateway" => create_nat(ctx, p).await,
        "ec2:RouteTable" => create_route_table(ctx, p).await,
        "ec2:RouteTableAssociation" => create_association(ctx, p).await,
        "ec2:FlowLog" => create_flow_log(ctx, p).await,
        "ec2:SecurityGroup" => create_security_group(ctx, p).await,
        _ => Err(AwsError::input("Create", format!("{ty} is not implemented"))),
    }
}

/// Finds what an interrupted create made, and returns what that create returned (with the
/// values stashed for [`wait_ready`], which then completes the configuration).
///
/// Most EC2 resources have no name: the VPC, internet gateway, elastic IP, NAT gateway and route
/// table are found by the `ironplan:stack` and `ironplan:resource` tags their create carried
/// (and their parent: the NAT gateway's subnet, the route table's VPC). The others by their
/// keys: subnet by VPC and CIDR block, security group by name and VPC, route table association
/// by route table and subnet, flow log by resource and destination. Every create carries the
/// identity tags (TagSpecifications), so whatever lacks them is not ours ([`Identity`]); an
/// association carries no tags and is ours only in a route table of this stack.
pub(super) async fn adopt(ctx: &Ctx, ty: &str, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    match ty {
        "ec2:Vpc" => adopt_vpc(ctx, p, who).await,
        "ec2:InternetGateway" => adopt_igw(ctx, p, who).await,
        "ec2:Subnet" => adopt_subnet(ctx, p, who).await,
        "ec2:Eip" => adopt_eip(ctx, p, who).await,
        "ec2:NatGateway" => adopt_nat(ctx, p, who).await,
        "ec2:RouteTable" => adopt_route_table(ctx, p, who).await,
        "ec2:RouteTableAssociation" => adopt_association(ctx, p, who).await,
        "ec2:FlowLog" => adopt_flow_log(ctx, p, who).await,
        "ec2:SecurityGroup" => adopt_security_group(ctx, p, who).await,
        _ => Err(super::unknown_type(ty)),
    }
}

pub(super) async fn wait_ready(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    match ty {
        "ec2:Vpc" => vpc_ready(ctx, id, out).await,
        "ec2:InternetGateway" => igw_ready(ctx, id, out).await,
        "ec2:Subnet" => subnet_ready(ctx, id, out).await,
        "ec2:Eip" => Ok(out.clone()),
        "ec2:NatGateway" => nat_ready(ctx, id, out).await,
        "ec2:RouteTable" => route_table_ready(ctx, id, out).await,
        "ec2:RouteTableAssociation" => association_ready(ctx, id, out).await,
        "ec2:FlowLog" => flow_log_ready(ctx, id, out).await,
        "ec2:SecurityGroup" => security_group_ready(ctx, id, out).await,
        _ => Err(AwsError::input("Wait", format!("{ty} is not implemented"))),
    }
}

pub(super) async fn delete(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<(), AwsError> {
    let ec2 = &ctx.ec2;
    match ty {
        "ec2:Vpc" => {
            ec2.delete_vpc().vpc_id(id).send().await.map_err(|e| sdk_err("DeleteVpc", e))?;
        }
        "ec2:InternetGateway" => {
            // AWS refuses to delete an attached gateway.
            let vpc_id = out_str(out, "vpc_id", "DetachInternetGateway")?;
            let detached = ec2.detach_internet_gateway().internet_gateway_id(id).vpc_id(vpc_id).send().await;
            match detached.map_err(|e| sdk_err("DetachInternetGateway", e)) {
                Err(e) if e.code != "Gateway.NotAttached" => return Err(e),
                _ => {}
            }
            ec2.delete_internet_gateway()
                .internet_gateway_id(id)
                .send()
                .await
                .map_err(|e| sdk_err("DeleteInternetGateway", e))?;
        }
        "ec2:Subnet" => {
            ec2.delete_subnet().subnet_id(id).send().await.map_err(|e| sdk_err("DeleteSubnet", e))?;
        }
        "ec2:Eip" => {
            ec2.release_address().allocation_id(id).send().await.map_err(|e| {
                let mut e = sdk_err("ReleaseAddress", e);
                // The NAT gateway that held the address lets go of it shortly after it is deleted.
                if e.code == "InvalidIPAddress.InUse" {
                    e.kind = ErrorKind::Eventual;
                }
                e
            })?;
        }
        "ec2:NatGateway" => {
            ec2.delete_nat_gateway().nat_gateway_id(id).send().await.map_err(|e| sdk_err("DeleteNatGateway", e))?;
        }
        "ec2:RouteTable" => {
            ec2.delete_route_table().route_table_id(id).send().await.map_err(|e| sdk_err("DeleteRouteTable", e))?;
        }
        "ec2:RouteTableAssociation" => {
            ec2.disassociate_route_table()
                .association_id(id)
                .send()
                .await
                .map_err(|e| sdk_err("DisassociateRouteTable", e))?;
        }
        "ec2:FlowLog" => {
            let resp =
                ec2.delete_flow_logs().flow_log_ids(id).send().await.map_err(|e| sdk_err("DeleteFlowLogs", e))?;
            if let Some(e) = unsuccessful("DeleteFlowLogs", resp.unsuccessful()) {
                return Err(e);
            }
        }
        "ec2:SecurityGroup" => {
            ec2.delete_security_group().group_id(id).send().await.map_err(|e| sdk_err("DeleteSecurityGroup", e))?;
        }
        _ => return Err(AwsError::input("Delete", format!("{ty} is not implemented"))),
    }
    Ok(())
}

pub(super) async fn wait_deleted(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<(), AwsError> {
    let ec2 = &ctx.ec2;
    let what = format!("{ty} {id} to be deleted");
    // Each check answers "gone" on an empty answer; a NotFound error ends the poll and is
    // turned into success by the caller.
    match ty {
        "ec2:Vpc" => {
            poll(ctx, "DescribeVpcs", &what, || async {
                let r = ec2.describe_vpcs().vpc_ids(id).send().await.map_err(|e| sdk_err("DescribeVpcs", e))?;
                Ok(r.vpcs().is_empty().then_some(()))
            })
            .await
        }
        "ec2:InternetGateway" => {
            poll(ctx, "DescribeInternetGateways", &what, || async {
                let r = ec2
                    .describe_internet_gateways()
                    .internet_gateway_ids(id)
                    .send()
                    .await
                    .map_err(|e| sdk_err("DescribeInternetGateways", e))?;
                Ok(r.internet_gateways().is_empty().then_some(()))
            })
            .await
        }
        "ec2:Subnet" => {
            poll(ctx, "DescribeSubnets", &what, || async {
                let r =
                    ec2.describe_subnets().subnet_ids(id).send().await.map_err(|e| sdk_err("DescribeSubnets", e))?;
                Ok(r.subnets().is_empty().then_some(()))
            })
            .await
        }
        "ec2:Eip" => {
            poll(ctx, "DescribeAddresses", &what, || async {
                let r = ec2
                    .describe_addresses()
                    .allocation_ids(id)
                    .send()
                    .await
                    .map_err(|e| sdk_err("DescribeAddresses", e))?;
                Ok(r.addresses().is_empty().then_some(()))
            })
            .await
        }
        "ec2:NatGateway" => {
            poll(ctx, "DescribeNatGateways", &what, || async {
                let r = ec2
                    .describe_nat_gateways()
                    .nat_gateway_ids(id)
                    .send()
                    .await
                    .map_err(|e| sdk_err("DescribeNatGateways", e))?;
                // AWS lists a deleted NAT gateway for about an hour, in state `deleted`.
                let gone = r.nat_gateways().iter().all(|n| n.state() == Some(&NatGatewayState::Deleted));
                Ok(gone.then_some(()))
            })
            .await
        }
        "ec2:RouteTable" => {
            poll(ctx, "DescribeRouteTables", &what, || async {
                let r = ec2
                    .describe_route_tables()
                    .route_table_ids(id)
                    .send()
                    .await
                    .map_err(|e| sdk_err("DescribeRouteTables", e))?;
                Ok(r.route_tables().is_empty().then_some(()))
            })
            .await
        }
        "ec2:RouteTableAssociation" => {
            let rt = out_str(out, "route_table_id", "DescribeRouteTables")?;
            poll(ctx, "DescribeRouteTables", &what, || async {
                let state = association_state(ctx, rt, id).await?;
                Ok(matches!(state, None | Some(RouteTableAssociationStateCode::Disassociated)).then_some(()))
            })
            .await
        }
        "ec2:FlowLog" => {
            poll(ctx, "DescribeFlowLogs", &what, || async {
                let r = ec2
                    .describe_flow_logs()
                    .flow_log_ids(id)
                    .send()
                    .await
                    .map_err(|e| sdk_err("DescribeFlowLogs", e))?;
                Ok(r.flow_logs().is_empty().then_some(()))
            })
            .await
        }
        "ec2:SecurityGroup" => {
            poll(ctx, "DescribeSecurityGroups", &what, || async {
                let r = ec2
                    .describe_security_groups()
                    .group_ids(id)
                    .send()
                    .await
                    .map_err(|e| sdk_err("DescribeSecurityGroups", e))?;
                Ok(r.security_groups().is_empty().then_some(()))
            })
            .await
        }
        _ => Err(AwsError::input("Wait", format!("{ty} is not implemented"))),
    }
}

// --- Vpc ---

async fn create_vpc(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("CreateVpc");
    let cidr_block = p.str("cidr_block")?;
    let tenancy = p.opt_str("instance_tenancy")?;
    let dns_support = p.opt_bool("enable_dns_support")?;
    let dns_hostnames = p.opt_bool("enable_dns_hostnames")?;
    let tags = p.tags()?;
    p.finish()?;

    let resp = ctx
        .ec2
        .create_vpc()
        .cidr_block(&cidr_block)
        .set_instance_tenancy(tenancy.as_deref().map(Tenancy::from))
        .set_tag_specifications(tag_specs(ResourceType::Vpc, &tags))
        .send()
        .await
        .map_err(|e| sdk_err("CreateVpc", e))?;
    let id = required(resp.vpc().and_then(|v| v.vpc_id()), "CreateVpc", "VpcId")?;
    let outputs = obj(json!({
        "id": id,
        "cidr_block": cidr_block,
        "enable_dns_support": dns_support,
        "enable_dns_hostnames": dns_hostnames,
    }));
    Ok(Created { id, outputs })
}

async fn vpc_ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    poll(ctx, "DescribeVpcs", &format!("VPC {id} to be available"), || async {
        let r = ctx.ec2.describe_vpcs().vpc_ids(id).send().await.map_err(|e| sdk_err("DescribeVpcs", e))?;
        Ok(r.vpcs().iter().any(|v| v.state() == Some(&VpcState::Available)).then_some(()))
    })
    .await?;
    // ModifyVpcAttribute takes one attribute per call.
    if let Some(on) = out.get("enable_dns_support").and_then(Value::as_bool) {
        ctx.ec2
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_support(AttributeBooleanValue::builder().value(on).build())
            .send()
            .await
            .map_err(|e| sdk_err("ModifyVpcAttribute", e))?;
    }
    if let Some(on) = out.get("enable_dns_hostnames").and_then(Value::as_bool) {
        ctx.ec2
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_hostnames(AttributeBooleanValue::builder().value(on).build())
            .send()
            .await
            .map_err(|e| sdk_err("ModifyVpcAttribute", e))?;
    }
    Ok(out.clone())
}

// --- InternetGateway ---

async fn create_igw(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("CreateInternetGateway");
    let vpc_id = p.str("vpc_id")?;
    let tags = p.tags()?;
    p.finish()?;

    let resp = ctx
        .ec2
        .create_internet_gateway()
        .set_tag_specifications(tag_specs(ResourceType::InternetGateway, &tags))
        .send()
        .await
        .map_err(|e| sdk_err("CreateInternetGateway", e))?;
    let id = required(
        resp.internet_gateway().and_then(|g| g.internet_gateway_id()),
        "CreateInternetGateway",
        "InternetGatewayId",
    )?;
    Ok(Created { outputs: obj(json!({ "id": id, "vpc_id": vpc_id })), id })
}

async fn igw_ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    let vpc_id = out_str(out, "vpc_id", "AttachInternetGateway")?;
    let attached = ctx.ec2.attach_internet_gateway().internet_gateway_id(id).vpc_id(vpc_id).send().await;
    match attached.map_err(|e| sdk_err("AttachInternetGateway", e)) {
        // Already attached: a wait run again after a crash.
        Err(e) if e.code != "Resource.AlreadyAssociated" => return Err(e),
        _ => {}
    }
    Ok(out.clone())
}

// --- Subnet ---

async fn create_subnet(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("CreateSubnet");
    let vpc_id = p.str("vpc_id")?;
    let cidr_block = p.str("cidr_block")?;
    let az = p.opt_str("availability_zone")?;
    let az_id = p.opt_str("availability_zone_id")?;
    let map_public_ip = p.opt_bool("map_public_ip_on_launch")?;
    let tags = p.tags()?;
    p.finish()?;

    let resp = ctx
        .ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block(&cidr_block)
        .set_availability_zone(az)
        .set_availability_zone_id(az_id)
        .set_tag_specifications(tag_specs(ResourceType::Subnet, &tags))
        .send()
        .await
        .map_err(|e| sdk_err("CreateSubnet", e))?;
    let subnet = resp.subnet();
    let id = required(subnet.and_then(|s| s.subnet_id()), "CreateSubnet", "SubnetId")?;
    let outputs = obj(json!({
        "id": id,
        "availability_zone": subnet.and_then(|s| s.availability_zone()),
        "vpc_id": vpc_id,
        "cidr_block": cidr_block,
        "map_public_ip_on_launch": map_public_ip,
    }));
    Ok(Created { id, outputs })
}

async fn subnet_ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    let az = poll(ctx, "DescribeSubnets", &format!("subnet {id} to be available"), || async {
        let r = ctx.ec2.describe_subnets().subnet_ids(id).send().await.map_err(|e| sdk_err("DescribeSubnets", e))?;
        let Some(s) = r.subnets().first() else { return Ok(None) };
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

// --- Eip ---

async fn create_eip(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("AllocateAddress");
    let domain = p.opt_str("domain")?;
    let tags = p.tags()?;
    p.finish()?;

    let resp = ctx
        .ec2
        .allocate_address()
        .set_domain(domain.as_deref().map(DomainType::from))
        .set_tag_specifications(tag_specs(ResourceType::ElasticIp, &tags))
        .send()
        .await
        .map_err(|e| sdk_err("AllocateAddress", e))?;
    let id = required(resp.allocation_id(), "AllocateAddress", "AllocationId")?;
    Ok(Created { outputs: obj(json!({ "id": id, "public_ip": resp.public_ip() })), id })
}

// --- NatGateway ---

async fn create_nat(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("CreateNatGateway");
    let subnet_id = p.str("subnet_id")?;
    let allocation_id = p.opt_str("allocation_id")?;
    let connectivity = p.opt_str("connectivity_type")?;
    let tags = p.tags()?;
    p.finish()?;

    let resp = ctx
        .ec2
        .create_nat_gateway()
        .subnet_id(&subnet_id)
        .set_allocation_id(allocation_id)
        .set_connectivity_type(connectivity.as_deref().map(ConnectivityType::from))
        .set_tag_specifications(tag_specs(ResourceType::Natgateway, &tags))
        .send()
        .await
        .map_err(|e| sdk_err("CreateNatGateway", e))?;
    let nat = resp.nat_gateway();
    let id = required(nat.and_then(|n| n.nat_gateway_id()), "CreateNatGateway", "NatGatewayId")?;
    let outputs = obj(json!({
        "id": id,
        "subnet_id": subnet_id,
        "vpc_id": nat.and_then(|n| n.vpc_id()),
    }));
    Ok(Created { id, outputs })
}

async fn nat_ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    poll(ctx, "DescribeNatGateways", &format!("NAT gateway {id} to be available"), || async {
        let r = ctx
            .ec2
            .describe_nat_gateways()
            .nat_gateway_ids(id)
            .send()
            .await
            .map_err(|e| sdk_err("DescribeNatGateways", e))?;
        let Some(n) = r.nat_gateways().first() else { return Ok(None) };
        match n.state() {
            Some(NatGatewayState::Available) => {
                let mut out = out.clone();
                let addr = n.nat_gateway_addresses().first();
                out.insert("vpc_id".into(), json!(n.vpc_id()));
                out.insert("public_ip".into(), json!(addr.and_then(|a| a.public_ip())));
                out.insert("private_ip".into(), json!(addr.and_then(|a| a.private_ip())));
                Ok(Some(out))
            }
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

// --- RouteTable ---

/// One entry of a route table's `routes`, kept in the outputs until the routes are made.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Route {
    destination_cidr_block: String,
    gateway_id: Option<String>,
    nat_gateway_id: Option<String>,
}

async fn create_route_table(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("CreateRouteTable");
    let vpc_id = p.str("vpc_id")?;
    let mut routes = Vec::new();
    for mut r in p.structs("routes")? {
        r.for_op("CreateRoute");
        routes.push(Route {
            destination_cidr_block: r.str("destination_cidr_block")?,
            gateway_id: r.opt_str("gateway_id")?,
            nat_gateway_id: r.opt_str("nat_gateway_id")?,
        });
        r.finish()?;
    }
    let tags = p.tags()?;
    p.finish()?;

    let resp = ctx
        .ec2
        .create_route_table()
        .vpc_id(&vpc_id)
        .set_tag_specifications(tag_specs(ResourceType::RouteTable, &tags))
        .send()
        .await
        .map_err(|e| sdk_err("CreateRouteTable", e))?;
    let id = required(resp.route_table().and_then(|t| t.route_table_id()), "CreateRouteTable", "RouteTableId")?;
    Ok(Created { outputs: obj(json!({ "id": id, "vpc_id": vpc_id, "routes": routes })), id })
}

async fn route_table_ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    let routes: Vec<Route> = stashed(out, "routes", "CreateRoute")?;
    for r in &routes {
        let made = ctx
            .ec2
            .create_route()
            .route_table_id(id)
            .destination_cidr_block(&r.destination_cidr_block)
            .set_gateway_id(r.gateway_id.clone())
            .set_nat_gateway_id(r.nat_gateway_id.clone())
            .send()
            .await;
        match made.map_err(|e| sdk_err("CreateRoute", e)) {
            // Made by an earlier run of this wait.
            Err(e) if e.code != "RouteAlreadyExists" => return Err(e),
            _ => {}
        }
    }
    Ok(out.clone())
}

// --- RouteTableAssociation ---

async fn create_association(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("AssociateRouteTable");
    let route_table_id = p.str("route_table_id")?;
    let subnet_id = p.str("subnet_id")?;
    p.finish()?;

    let resp = ctx
        .ec2
        .associate_route_table()
        .route_table_id(&route_table_id)
        .subnet_id(&subnet_id)
        .send()
        .await
        .map_err(|e| sdk_err("AssociateRouteTable", e))?;
    let id = required(resp.association_id(), "AssociateRouteTable", "AssociationId")?;
    let outputs = obj(json!({ "id": id, "route_table_id": route_table_id, "subnet_id": subnet_id }));
    Ok(Created { id, outputs })
}

/// The state of association `id` of route table `rt`; `None` when the table no longer lists it.
async fn association_state(ctx: &Ctx, rt: &str, id: &str) -> Result<Option<RouteTableAssociationStateCode>, AwsError> {
    let r = ctx
        .ec2
        .describe_route_tables()
        .route_table_ids(rt)
        .send()
        .await
        .map_err(|e| sdk_err("DescribeRouteTables", e))?;
    Ok(r.route_tables()
        .iter()
        .flat_map(|t| t.associations())
        .find(|a| a.route_table_association_id() == Some(id))
        // An association AWS reports without a state is in effect.
        .map(|a| {
            a.association_state().and_then(|s| s.state()).cloned().unwrap_or(RouteTableAssociationStateCode::Associated)
        }))
}

async fn association_ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    let rt = out_str(out, "route_table_id", "DescribeRouteTables")?;
    poll(ctx, "DescribeRouteTables", &format!("route table association {id}"), || async {
        match association_state(ctx, rt, id).await? {
            Some(RouteTableAssociationStateCode::Associated) => Ok(Some(out.clone())),
            Some(RouteTableAssociationStateCode::Failed) => Err(AwsError {
                operation: "AssociateRouteTable",
                code: "AssociationFailed".into(),
                message: format!("association {id} of route table {rt} failed"),
                kind: ErrorKind::Fatal,
                hint: None,
            }),
            _ => Ok(None),
        }
    })
    .await
}

// --- FlowLog ---

async fn create_flow_log(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("CreateFlowLogs");
    let resource_ids = p.str_list("resource_ids")?;
    let resource_type = p.str("resource_type")?;
    let traffic_type = p.opt_str("traffic_type")?;
    let destination_type = p.opt_str("log_destination_type")?;
    let log_group_name = p.opt_str("log_group_name")?;
    let log_destination = p.opt_str("log_destination")?;
    let role_arn = p.opt_str("deliver_logs_permission_arn")?;
    let log_format = p.opt_str("log_format")?;
    let max_interval = p.opt_i32("max_aggregation_interval")?;
    let tags = p.tags()?;
    p.finish()?;
    // One physical ID per plan resource: several resources would make several flow logs.
    let [resource_id] = resource_ids.as_slice() else {
        return Err(AwsError::input(
            "CreateFlowLogs",
            format!("`resource_ids` must hold exactly one ID, got {}", resource_ids.len()),
        )
        .with_hint("declare one ec2:FlowLog per VPC, subnet or network interface"));
    };

    let resp = ctx
        .ec2
        .create_flow_logs()
        .resource_ids(resource_id)
        .resource_type(FlowLogsResourceType::from(resource_type.as_str()))
        .set_traffic_type(traffic_type.as_deref().map(TrafficType::from))
        .set_log_destination_type(destination_type.as_deref().map(LogDestinationType::from))
        .set_log_group_name(log_group_name)
        .set_log_destination(log_destination)
        .set_deliver_logs_permission_arn(role_arn)
        .set_log_format(log_format)
        .set_max_aggregation_interval(max_interval)
        .set_tag_specifications(tag_specs(ResourceType::VpcFlowLog, &tags))
        .send()
        .await
        .map_err(|e| sdk_err("CreateFlowLogs", e))?;
    // AWS answers 200 and lists the resources it could not log (a role not yet assumable,
    // a log group that does not exist) as unsuccessful.
    if let Some(e) = unsuccessful("CreateFlowLogs", resp.unsuccessful()) {
        return Err(e);
    }
    let id = required(resp.flow_log_ids().first().map(String::as_str), "CreateFlowLogs", "FlowLogIds")?;
    Ok(Created { outputs: obj(json!({ "id": id, "resource_id": resource_id })), id })
}

async fn flow_log_ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    poll(ctx, "DescribeFlowLogs", &format!("flow log {id}"), || async {
        let r =
            ctx.ec2.describe_flow_logs().flow_log_ids(id).send().await.map_err(|e| sdk_err("DescribeFlowLogs", e))?;
        // flow_log_status is ACTIVE from the start; delivery problems show later in
        // deliver_logs_status and do not make the resource unusable.
        Ok((!r.flow_logs().is_empty()).then(|| out.clone()))
    })
    .await
}

/// The first unsuccessful item of a batch answer, as an error classified like a failed call.
fn unsuccessful(operation: &'static str, items: &[aws_sdk_ec2::types::UnsuccessfulItem]) -> Option<AwsError> {
    let item = items.first()?;
    let code = item.error().and_then(|e| e.code()).unwrap_or("Unsuccessful").to_string();
    let message = format!(
        "{}: {}",
        item.resource_id().unwrap_or("resource"),
        item.error().and_then(|e| e.message()).unwrap_or("AWS did not say why")
    );
    let mut kind = super::classify(&code, &message, 400);
    // A role created seconds ago: AWS lists the resource as unsuccessful with
    // `InvalidParameter: Unable to assume given IAM role` until IAM has propagated it.
    if kind == ErrorKind::Fatal && code == "InvalidParameter" && super::is_eventual_message(&code, &message) {
        kind = ErrorKind::Eventual;
    }
    Some(AwsError { operation, hint: super::hint_for(&code, &message), code, message, kind })
}

// --- SecurityGroup ---

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
}

async fn create_security_group(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("CreateSecurityGroup");
    let group_name = p.str("group_name")?;
    let description = p.str("description")?;
    let vpc_id = p.opt_str("vpc_id")?;
    let mut ingress = Vec::new();
    for mut r in p.structs("ingress")? {
        ingress.push(read_rule(&mut r)?);
    }
    let tags = p.tags()?;
    p.finish()?;

    let resp = ctx
        .ec2
        .create_security_group()
        .group_name(&group_name)
        .description(&description)
        .set_vpc_id(vpc_id.clone())
        .set_tag_specifications(tag_specs(ResourceType::SecurityGroup, &tags))
        .send()
        .await
        .map_err(|e| sdk_err("CreateSecurityGroup", e))?;
    let id = required(resp.group_id(), "CreateSecurityGroup", "GroupId")?;
    let outputs = obj(json!({
        "id": id,
        "arn": resp.security_group_arn(),
        "name": group_name,
        "vpc_id": vpc_id,
        "ingress": ingress,
    }));
    Ok(Created { id, outputs })
}

async fn security_group_ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    let rules: Vec<Rule> = stashed(out, "ingress", "AuthorizeSecurityGroupIngress")?;
    if !rules.is_empty() {
        let authorized = ctx
            .ec2
            .authorize_security_group_ingress()
            .group_id(id)
            .set_ip_permissions(Some(rules.iter().map(Rule::to_sdk).collect()))
            .send()
            .await;
        match authorized.map_err(|e| sdk_err("AuthorizeSecurityGroupIngress", e)) {
            // Authorized by an earlier run of this wait.
            Err(e) if e.code != "InvalidPermission.Duplicate" => return Err(e),
            _ => {}
        }
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

// --- adoption ---

/// `tag:` filters selecting resources with both of `who`'s identity tags.
fn identity_filters(who: &Identity) -> Vec<Filter> {
    vec![tag_filter(STACK_TAG, &who.stack), tag_filter(RESOURCE_TAG, &who.resource)]
}

/// EC2 tags as pairs, for the ownership guard.
fn pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().filter_map(|t| Some((t.key()?, t.value()?)))
}

/// True when `tags` prove the resource is `who`'s. Checked on the answer too: not every
/// DescribeX honours `tag:` filters everywhere (moto's DescribeNatGateways ignores them).
fn is_ours(who: &Identity, tags: &[Tag]) -> bool {
    who.judge(pairs(tags)).is_ok()
}

fn tag_filter(key: &str, value: &str) -> Filter {
    filter(&format!("tag:{key}"), value)
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

async fn adopt_vpc(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    const OP: &str = "DescribeVpcs";
    p.for_op(OP);
    let cidr_block = p.str("cidr_block")?;
    let _tenancy = p.opt_str("instance_tenancy")?;
    let dns_support = p.opt_bool("enable_dns_support")?;
    let dns_hostnames = p.opt_bool("enable_dns_hostnames")?;
    let _tags = p.tags()?;

    let r =
        ctx.ec2.describe_vpcs().set_filters(Some(identity_filters(who))).send().await.map_err(|e| sdk_err(OP, e))?;
    let Some(v) = r.vpcs().iter().find(|v| v.cidr_block() == Some(cidr_block.as_str()) && is_ours(who, v.tags()))
    else {
        return Ok(Found::Nothing);
    };
    let id = required(v.vpc_id(), OP, "VpcId")?;
    let outputs = obj(json!({
        "id": id,
        "cidr_block": cidr_block,
        "enable_dns_support": dns_support,
        "enable_dns_hostnames": dns_hostnames,
    }));
    Ok(who.claim(Created { id, outputs }, pairs(v.tags())))
}

async fn adopt_igw(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    const OP: &str = "DescribeInternetGateways";
    p.for_op(OP);
    let vpc_id = p.str("vpc_id")?;
    let _tags = p.tags()?;

    let r = ctx
        .ec2
        .describe_internet_gateways()
        .set_filters(Some(identity_filters(who)))
        .send()
        .await
        .map_err(|e| sdk_err(OP, e))?;
    // The crash may have come before the attachment (made by wait_ready) or after it; a gateway
    // attached to another VPC is not the one this create made.
    let Some(g) = r
        .internet_gateways()
        .iter()
        .find(|g| is_ours(who, g.tags()) && g.attachments().iter().all(|a| a.vpc_id() == Some(vpc_id.as_str())))
    else {
        return Ok(Found::Nothing);
    };
    let id = required(g.internet_gateway_id(), OP, "InternetGatewayId")?;
    Ok(who.claim(Created { outputs: obj(json!({ "id": id, "vpc_id": vpc_id })), id }, pairs(g.tags())))
}

async fn adopt_subnet(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    const OP: &str = "DescribeSubnets";
    p.for_op(OP);
    let vpc_id = p.str("vpc_id")?;
    let cidr_block = p.str("cidr_block")?;
    let _az = p.opt_str("availability_zone")?;
    let _az_id = p.opt_str("availability_zone_id")?;
    let map_public_ip = p.opt_bool("map_public_ip_on_launch")?;
    let _tags = p.tags()?;

    // A CIDR block is unique in its VPC: a subnet there that is not ours blocks the create.
    let r = ctx
        .ec2
        .describe_subnets()
        .filters(filter("vpc-id", &vpc_id))
        .filters(filter("cidr-block", &cidr_block))
        .send()
        .await
        .map_err(|e| sdk_err(OP, e))?;
    let Some(s) =
        r.subnets().iter().find(|s| s.vpc_id() == Some(vpc_id.as_str()) && s.cidr_block() == Some(cidr_block.as_str()))
    else {
        return Ok(Found::Nothing);
    };
    let id = required(s.subnet_id(), OP, "SubnetId")?;
    let outputs = obj(json!({
        "id": id,
        "availability_zone": s.availability_zone(),
        "vpc_id": vpc_id,
        "cidr_block": cidr_block,
        "map_public_ip_on_launch": map_public_ip,
    }));
    Ok(who.claim(Created { id, outputs }, pairs(s.tags())))
}

async fn adopt_eip(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    const OP: &str = "DescribeAddresses";
    p.for_op(OP);
    let _domain = p.opt_str("domain")?;
    let _tags = p.tags()?;

    let r = ctx
        .ec2
        .describe_addresses()
        .set_filters(Some(identity_filters(who)))
        .send()
        .await
        .map_err(|e| sdk_err(OP, e))?;
    let Some(a) = r.addresses().iter().find(|a| a.allocation_id().is_some() && is_ours(who, a.tags())) else {
        return Ok(Found::Nothing);
    };
    let id = required(a.allocation_id(), OP, "AllocationId")?;
    Ok(who.claim(Created { outputs: obj(json!({ "id": id, "public_ip": a.public_ip() })), id }, pairs(a.tags())))
}

async fn adopt_nat(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    const OP: &str = "DescribeNatGateways";
    p.for_op(OP);
    let subnet_id = p.str("subnet_id")?;
    let _allocation_id = p.opt_str("allocation_id")?;
    let _connectivity = p.opt_str("connectivity_type")?;
    let _tags = p.tags()?;

    let r = ctx
        .ec2
        .describe_nat_gateways()
        .set_filter(Some([vec![filter("subnet-id", &subnet_id)], identity_filters(who)].concat()))
        .send()
        .await;
    let r = match r {
        Ok(r) => r,
        Err(e) => return absent(sdk_err(OP, e)),
    };
    // A gateway being deleted (AWS lists it for about an hour) is gone; a failed one is never
    // usable and AWS deletes it by itself: a new one is made instead.
    let Some(n) = r.nat_gateways().iter().find(|n| {
        n.subnet_id() == Some(subnet_id.as_str())
            && is_ours(who, n.tags())
            && !matches!(
                n.state(),
                Some(NatGatewayState::Deleting | NatGatewayState::Deleted | NatGatewayState::Failed)
            )
    }) else {
        return Ok(Found::Nothing);
    };
    let id = required(n.nat_gateway_id(), OP, "NatGatewayId")?;
    let outputs = obj(json!({
        "id": id,
        "subnet_id": subnet_id,
        "vpc_id": n.vpc_id(),
    }));
    Ok(who.claim(Created { id, outputs }, pairs(n.tags())))
}

async fn adopt_route_table(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    const OP: &str = "DescribeRouteTables";
    p.for_op(OP);
    let vpc_id = p.str("vpc_id")?;
    let mut routes = Vec::new();
    for mut r in p.structs("routes")? {
        r.for_op("CreateRoute");
        routes.push(Route {
            destination_cidr_block: r.str("destination_cidr_block")?,
            gateway_id: r.opt_str("gateway_id")?,
            nat_gateway_id: r.opt_str("nat_gateway_id")?,
        });
    }
    let _tags = p.tags()?;

    let r = ctx
        .ec2
        .describe_route_tables()
        .set_filters(Some([vec![filter("vpc-id", &vpc_id)], identity_filters(who)].concat()))
        .send()
        .await
        .map_err(|e| sdk_err(OP, e))?;
    let Some(t) = r.route_tables().iter().find(|t| t.vpc_id() == Some(vpc_id.as_str()) && is_ours(who, t.tags()))
    else {
        return Ok(Found::Nothing);
    };
    let id = required(t.route_table_id(), OP, "RouteTableId")?;
    // The routes go to wait_ready, which makes those missing.
    let created = Created { outputs: obj(json!({ "id": id, "vpc_id": vpc_id, "routes": routes })), id };
    Ok(who.claim(created, pairs(t.tags())))
}

/// An association carries no tags: it is ours when its route table is this stack's.
async fn adopt_association(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    const OP: &str = "DescribeRouteTables";
    p.for_op(OP);
    let route_table_id = p.str("route_table_id")?;
    let subnet_id = p.str("subnet_id")?;

    let r = match ctx.ec2.describe_route_tables().route_table_ids(&route_table_id).send().await {
        Ok(r) => r,
        Err(e) => return absent(sdk_err(OP, e)),
    };
    let Some(table) = r.route_tables().iter().find(|t| t.route_table_id() == Some(route_table_id.as_str())) else {
        return Ok(Found::Nothing);
    };
    let Some(a) = table.associations().iter().find(|a| {
        a.subnet_id() == Some(subnet_id.as_str())
            && !matches!(
                a.association_state().and_then(|s| s.state()),
                Some(RouteTableAssociationStateCode::Disassociated | RouteTableAssociationStateCode::Disassociating)
            )
    }) else {
        return Ok(Found::Nothing);
    };
    let id = required(a.route_table_association_id(), OP, "RouteTableAssociationId")?;
    let outputs = obj(json!({ "id": id, "route_table_id": route_table_id, "subnet_id": subnet_id }));
    Ok(who.claim_by_parent(Created { id, outputs }, &format!("route table `{route_table_id}`"), pairs(table.tags())))
}

async fn adopt_flow_log(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    const OP: &str = "DescribeFlowLogs";
    p.for_op(OP);
    let resource_ids = p.str_list("resource_ids")?;
    let _resource_type = p.str("resource_type")?;
    let traffic_type = p.opt_str("traffic_type")?;
    let _destination_type = p.opt_str("log_destination_type")?;
    let log_group_name = p.opt_str("log_group_name")?;
    let log_destination = p.opt_str("log_destination")?;
    let _role_arn = p.opt_str("deliver_logs_permission_arn")?;
    let _log_format = p.opt_str("log_format")?;
    let _max_interval = p.opt_i32("max_aggregation_interval")?;
    let _tags = p.tags()?;
    // The create refuses anything but one resource: nothing was made.
    let [resource_id] = resource_ids.as_slice() else { return Ok(Found::Nothing) };

    let mut q = ctx.ec2.describe_flow_logs().filter(filter("resource-id", resource_id));
    if let Some(g) = &log_group_name {
        q = q.filter(filter("log-group-name", g));
    }
    let r = q.send().await.map_err(|e| sdk_err(OP, e))?;
    // AWS keeps one flow log per resource, destination and traffic type: another one there
    // blocks the create.
    let Some(f) = r.flow_logs().iter().find(|f| {
        f.resource_id() == Some(resource_id.as_str())
            && log_group_name.as_deref().is_none_or(|g| f.log_group_name() == Some(g))
            && log_destination.as_deref().is_none_or(|d| f.log_destination() == Some(d))
            && traffic_type.as_deref().is_none_or(|t| f.traffic_type().map(TrafficType::as_str) == Some(t))
    }) else {
        return Ok(Found::Nothing);
    };
    let id = required(f.flow_log_id(), OP, "FlowLogId")?;
    Ok(who.claim(Created { outputs: obj(json!({ "id": id, "resource_id": resource_id })), id }, pairs(f.tags())))
}

async fn adopt_security_group(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    const OP: &str = "DescribeSecurityGroups";
    p.for_op(OP);
    let group_name = p.str("group_name")?;
    let _description = p.str("description")?;
    let vpc_id = p.opt_str("vpc_id")?;
    let mut ingress = Vec::new();
    for mut r in p.structs("ingress")? {
        ingress.push(read_rule(&mut r)?);
    }
    let _tags = p.tags()?;

    // A group name is unique in its VPC: another group of that name there blocks the create.
    // Without vpc_id the group went to the default VPC: its identity tags tell it from a
    // same-named group of another VPC.
    let mut filters = vec![filter("group-name", &group_name)];
    match &vpc_id {
        Some(v) => filters.push(filter("vpc-id", v)),
        None => filters.extend(identity_filters(who)),
    }
    let r = match ctx.ec2.describe_security_groups().set_filters(Some(filters)).send().await {
        Ok(r) => r,
        Err(e) => return absent(sdk_err(OP, e)),
    };
    let Some(g) = r.security_groups().iter().find(|g| {
        g.group_name() == Some(group_name.as_str())
            && match &vpc_id {
                Some(v) => g.vpc_id() == Some(v.as_str()),
                None => is_ours(who, g.tags()),
            }
    }) else {
        return Ok(Found::Nothing);
    };
    let id = required(g.group_id(), OP, "GroupId")?;
    // The ingress rules go to wait_ready, which authorizes them (again: duplicates are fine).
    let outputs = obj(json!({
        "id": id,
        "arn": g.security_group_arn(),
        "name": group_name,
        "vpc_id": vpc_id,
        "ingress": ingress,
    }));
    Ok(who.claim(Created { id, outputs }, pairs(g.tags())))
}

// --- helpers ---

/// Tags as EC2's TagSpecifications (none when there are no tags: AWS rejects an empty list).
fn tag_specs(resource_type: ResourceType, tags: &[(String, String)]) -> Option<Vec<TagSpecification>> {
    if tags.is_empty() {
        return None;
    }
    let tags = tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
    Some(vec![TagSpecification::builder().resource_type(resource_type).set_tags(Some(tags)).build()])
}

fn obj(v: Value) -> Outputs {
    match v {
        Value::Object(m) => m,
        _ => Outputs::new(),
    }
}

/// Values stashed in the outputs at create time for a call made while waiting.
fn stashed<T: serde::de::DeserializeOwned>(
    out: &Outputs,
    key: &str,
    operation: &'static str,
) -> Result<Vec<T>, AwsError> {
    match out.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| AwsError::input(operation, format!("state holds a malformed `{key}`: {e}"))),
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn an_unassumable_role_is_eventual() {
        let item = aws_sdk_ec2::types::UnsuccessfulItem::builder()
            .resource_id("vpc-1")
            .error(
                aws_sdk_ec2::types::UnsuccessfulItemError::builder()
                    .code("InvalidParameter")
                    .message("Unable to assume given IAM role: 'arn:aws:iam::1:role/r'")
                    .build(),
            )
            .build();
        let e = unsuccessful("CreateFlowLogs", &[item]).expect("an error");
        assert_eq!(e.kind, ErrorKind::Eventual);
        assert!(e.message.starts_with("vpc-1: "), "{}", e.message);
        assert!(unsuccessful("CreateFlowLogs", &[]).is_none());
    }

    #[test]
    fn no_tags_means_no_tag_specifications() {
        assert!(tag_specs(ResourceType::Vpc, &[]).is_none());
        let specs = tag_specs(ResourceType::Vpc, &[("Name".into(), "x".into())]).expect("specs");
        assert_eq!(specs[0].tags()[0].key(), Some("Name"));
    }
}

#[cfg(test)]
mod adopt_tests {
    //! Against moto: `adopt` with the props of a create finds what it made (same ID, same
    //! outputs, so `wait_ready` completes it), finds nothing once it is deleted, and never
    //! takes what another stack tagged.
    use super::super::{create, delete, wait_deleted, wait_ready};
    use super::*;
    use crate::aws::testing::{assert_not_ours, tags};
    use crate::emulator::Moto;

    async fn moto() -> (Moto, Ctx) {
        let moto = Moto::start().expect("moto");
        let connect = moto.connect();
        let mut ctx = Ctx::new(&connect).await.expect("ctx");
        ctx.poll.initial = std::time::Duration::from_millis(50);
        (moto, ctx)
    }

    /// `props` with the identity tags of `resource` in stack `stack`.
    fn tagged(props: Value, stack: &str, resource: &str) -> Value {
        let mut m = obj(props);
        m.insert("tags".into(), tags(stack, resource));
        Value::Object(m)
    }

    async fn make(ctx: &Ctx, ty: &str, props: &Value) -> Created {
        let c = create(ctx, ty, &mut Props::new(obj(props.clone()))).await.expect(ty);
        let outputs = wait_ready(ctx, ty, &c.id, &c.outputs).await.expect(ty);
        Created { id: c.id, outputs }
    }

    async fn find(ctx: &Ctx, ty: &str, props: &Value) -> Option<Created> {
        crate::aws::testing::find(ctx, ty, props).await.ours()
    }

    /// Creates, adopts (and completes the adopted one with wait_ready), deletes, adopts again.
    /// Returns the created resource's outputs after its wait, for what depends on it.
    async fn round_trip(ctx: &Ctx, ty: &str, props: &Value) -> Created {
        let created = create(ctx, ty, &mut Props::new(obj(props.clone()))).await.expect(ty);
        let adopted = find(ctx, ty, props).await.unwrap_or_else(|| panic!("{ty} not adopted"));
        assert_eq!(adopted.id, created.id, "{ty}");
        let keys = |o: &Outputs| o.keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&adopted.outputs), keys(&created.outputs), "{ty}");
        for (k, v) in &created.outputs {
            // An ARN the create answer lacks is read from the description.
            if !v.is_null() {
                assert_eq!(adopted.outputs.get(k), Some(v), "{ty}: output `{k}`");
            }
        }
        let outputs = wait_ready(ctx, ty, &adopted.id, &adopted.outputs).await.expect(ty);
        Created { id: adopted.id, outputs }
    }

    async fn remove(ctx: &Ctx, ty: &str, props: &Value, c: &Created) {
        delete(ctx, ty, &c.id, &c.outputs).await.expect(ty);
        wait_deleted(ctx, ty, &c.id, &c.outputs).await.expect(ty);
        assert!(find(ctx, ty, props).await.is_none(), "{ty} adopted after its deletion");
    }

    #[tokio::test]
    async fn network_types_are_adopted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let vpc_p = tagged(json!({"cidr_block": "10.0.0.0/16", "enable_dns_hostnames": true}), "s-dev", "vpc");
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

        let igw_p = tagged(json!({"vpc_id": vpc.id}), "s-dev", "igw");
        let igw = round_trip(ctx, "ec2:InternetGateway", &igw_p).await;
        // Attached by the adopted one's wait: still found.
        assert_eq!(find(ctx, "ec2:InternetGateway", &igw_p).await.map(|c| c.id), Some(igw.id.clone()));

        let subnet_p = tagged(
            json!({"vpc_id": vpc.id, "cidr_block": "10.0.1.0/24", "map_public_ip_on_launch": true}),
            "s-dev",
            "public_a",
        );
        let subnet = round_trip(ctx, "ec2:Subnet", &subnet_p).await;

        let rt_p = tagged(
            json!({"vpc_id": vpc.id, "routes": [{"destination_cidr_block": "0.0.0.0/0", "gateway_id": igw.id}]}),
            "s-dev",
            "public_rt",
        );
        let rt = round_trip(ctx, "ec2:RouteTable", &rt_p).await;
        let routes = ctx.ec2.describe_route_tables().route_table_ids(&rt.id).send().await.expect("routes");
        assert!(
            routes.route_tables()[0].routes().iter().any(|r| r.gateway_id() == Some(igw.id.as_str())),
            "wait_ready of the adopted route table makes its routes"
        );

        let assoc_p = json!({"route_table_id": rt.id, "subnet_id": subnet.id});
        let assoc = round_trip(ctx, "ec2:RouteTableAssociation", &assoc_p).await;

        let sg_p = tagged(
            json!({"group_name": "s-dev-app", "description": "app", "vpc_id": vpc.id,
                   "ingress": [{"ip_protocol": "tcp", "from_port": 443, "to_port": 443,
                                "ip_ranges": [{"cidr_ip": "10.0.0.0/16"}]}]}),
            "s-dev",
            "app_sg",
        );
        let sg = round_trip(ctx, "ec2:SecurityGroup", &sg_p).await;

        remove(ctx, "ec2:SecurityGroup", &sg_p, &sg).await;
        remove(ctx, "ec2:RouteTableAssociation", &assoc_p, &assoc).await;
        remove(ctx, "ec2:RouteTable", &rt_p, &rt).await;
        remove(ctx, "ec2:Subnet", &subnet_p, &subnet).await;
        remove(ctx, "ec2:InternetGateway", &igw_p, &igw).await;
        remove(ctx, "ec2:Vpc", &vpc_p, &vpc).await;
    }

    #[tokio::test]
    async fn eip_nat_and_flow_log_are_adopted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let vpc = make(ctx, "ec2:Vpc", &tagged(json!({"cidr_block": "10.1.0.0/16"}), "s-dev", "vpc")).await;
        let subnet_p = tagged(json!({"vpc_id": vpc.id, "cidr_block": "10.1.0.0/24"}), "s-dev", "public_a");
        let subnet = make(ctx, "ec2:Subnet", &subnet_p).await;

        let eip_p = tagged(json!({"domain": "vpc"}), "s-dev", "nat_eip");
        let eip = round_trip(ctx, "ec2:Eip", &eip_p).await;

        let nat_p = tagged(json!({"subnet_id": subnet.id, "allocation_id": eip.id}), "s-dev", "nat");
        let nat = round_trip(ctx, "ec2:NatGateway", &nat_p).await;

        let fl_p = tagged(
            json!({"resource_ids": [vpc.id], "resource_type": "VPC", "traffic_type": "ALL",
                   "log_destination_type": "cloud-watch-logs", "log_group_name": "/s-dev/flow",
                   "deliver_logs_permission_arn": "arn:aws:iam::123456789012:role/s-dev-flow",
                   "max_aggregation_interval": 60}),
            "s-dev",
            "flow",
        );
        let fl = round_trip(ctx, "ec2:FlowLog", &fl_p).await;

        remove(ctx, "ec2:FlowLog", &fl_p, &fl).await;
        // moto keeps the deleted NAT gateway listed, in state `deleted` (as AWS does for an hour).
        remove(ctx, "ec2:NatGateway", &nat_p, &nat).await;
        remove(ctx, "ec2:Eip", &eip_p, &eip).await;
    }

    #[tokio::test]
    async fn another_stacks_resources_are_not_adopted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let vpc_p = |stack: &str| tagged(json!({"cidr_block": "10.2.0.0/16"}), stack, "vpc");
        let other_vpc = make(ctx, "ec2:Vpc", &vpc_p("s-other")).await;
        assert!(find(ctx, "ec2:Vpc", &vpc_p("s-dev")).await.is_none(), "VPC");
        // Same stack, another plan resource.
        assert!(find(ctx, "ec2:Vpc", &tagged(json!({"cidr_block": "10.2.0.0/16"}), "s-other", "vpc2")).await.is_none());

        let igw_p = |stack: &str| tagged(json!({"vpc_id": other_vpc.id}), stack, "igw");
        make(ctx, "ec2:InternetGateway", &igw_p("s-other")).await;
        assert!(find(ctx, "ec2:InternetGateway", &igw_p("s-dev")).await.is_none(), "internet gateway");

        let subnet_p = |stack: &str| tagged(json!({"vpc_id": other_vpc.id, "cidr_block": "10.2.0.0/24"}), stack, "a");
        let subnet = make(ctx, "ec2:Subnet", &subnet_p("s-other")).await;
        assert!(find(ctx, "ec2:Subnet", &subnet_p("s-dev")).await.is_none(), "subnet");

        let eip_p = |stack: &str| tagged(json!({"domain": "vpc"}), stack, "nat_eip");
        let eip = make(ctx, "ec2:Eip", &eip_p("s-other")).await;
        assert!(find(ctx, "ec2:Eip", &eip_p("s-dev")).await.is_none(), "EIP");

        let nat_p = |stack: &str| tagged(json!({"subnet_id": subnet.id, "allocation_id": eip.id}), stack, "nat");
        make(ctx, "ec2:NatGateway", &nat_p("s-other")).await;
        assert!(find(ctx, "ec2:NatGateway", &nat_p("s-dev")).await.is_none(), "NAT gateway");

        let rt_p = |stack: &str| tagged(json!({"vpc_id": other_vpc.id}), stack, "rt");
        make(ctx, "ec2:RouteTable", &rt_p("s-other")).await;
        assert!(find(ctx, "ec2:RouteTable", &rt_p("s-dev")).await.is_none(), "route table");

        let sg_p = |stack: &str| {
            tagged(json!({"group_name": "app", "description": "app", "vpc_id": other_vpc.id}), stack, "app_sg")
        };
        make(ctx, "ec2:SecurityGroup", &sg_p("s-other")).await;
        assert!(find(ctx, "ec2:SecurityGroup", &sg_p("s-dev")).await.is_none(), "security group");

        let fl_p = |stack: &str| {
            tagged(
                json!({"resource_ids": [other_vpc.id], "resource_type": "VPC", "log_group_name": "/flow",
                       "deliver_logs_permission_arn": "arn:aws:iam::123456789012:role/flow"}),
                stack,
                "flow",
            )
        };
        make(ctx, "ec2:FlowLog", &fl_p("s-other")).await;
        assert!(find(ctx, "ec2:FlowLog", &fl_p("s-dev")).await.is_none(), "flow log");
    }

    /// Look-alikes made outside ironplan (no identity tags): those that hold the plan's keys
    /// (a subnet's CIDR, a group's name, a VPC's flow log, an association in a route table that
    /// is not ours) are reported as not ours; those found only by tags are simply not found.
    #[tokio::test]
    async fn untagged_look_alikes_are_never_ours() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let r = ctx.ec2.create_vpc().cidr_block("10.3.0.0/16").send().await.expect("vpc");
        let vpc_id = r.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
        let vpc_p = tagged(json!({"cidr_block": "10.3.0.0/16"}), "s-dev", "vpc");
        assert!(matches!(crate::aws::testing::find(ctx, "ec2:Vpc", &vpc_p).await, Found::Nothing));

        let r = ctx.ec2.create_subnet().vpc_id(&vpc_id).cidr_block("10.3.1.0/24").send().await.expect("subnet");
        let subnet_id = r.subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_string();
        let subnet_p = tagged(json!({"vpc_id": vpc_id, "cidr_block": "10.3.1.0/24"}), "s-dev", "a");
        assert_not_ours(&crate::aws::testing::find(ctx, "ec2:Subnet", &subnet_p).await, "has no `ironplan:stack` tag");

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

        let r = ctx.ec2.create_route_table().vpc_id(&vpc_id).send().await.expect("route table");
        let rt_id = r.route_table().and_then(|t| t.route_table_id()).expect("rt id").to_string();
        ctx.ec2.associate_route_table().route_table_id(&rt_id).subnet_id(&subnet_id).send().await.expect("assoc");
        let assoc_p = json!({"route_table_id": rt_id, "subnet_id": subnet_id});
        let found = crate::aws::testing::find(ctx, "ec2:RouteTableAssociation", &assoc_p).await;
        assert_not_ours(&found, &format!("route table `{rt_id}` has no `ironplan:stack` tag"));
        let rt_p = tagged(json!({"vpc_id": vpc_id}), "s-dev", "rt");
        assert!(matches!(crate::aws::testing::find(ctx, "ec2:RouteTable", &rt_p).await, Found::Nothing));

        ctx.ec2
            .create_flow_logs()
            .resource_ids(&vpc_id)
            .resource_type(FlowLogsResourceType::Vpc)
            .traffic_type(TrafficType::All)
            .log_group_name("/flow")
            .deliver_logs_permission_arn("arn:aws:iam::123456789012:role/flow")
            .send()
            .await
            .expect("flow log");
        let fl_p = tagged(
            json!({"resource_ids": [vpc_id], "resource_type": "VPC", "log_group_name": "/flow",
                   "deliver_logs_permission_arn": "arn:aws:iam::123456789012:role/flow"}),
            "s-dev",
            "flow",
        );
        assert_not_ours(&crate::aws::testing::find(ctx, "ec2:FlowLog", &fl_p).await, "has no `ironplan:stack` tag");
    }
}
