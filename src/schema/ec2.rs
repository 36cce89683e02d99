//! `ec2:*` types: the VPC network of a stack (VPC, internet and NAT gateways, subnets, route
//! tables and their associations, flow logs, security groups).
//!
//! Follow-up calls that configure a resource after its create call (DNS attributes, the
//! internet gateway attachment, routes, ingress rules) happen in the adapter's wait step, so
//! that the resource is in state before any call that could fail.

use super::{Attr, Implied, Kind, NameRule, PlanView, Prop, TypeSpec, attr};
use crate::plan::Resource;

pub const TYPES: &[&TypeSpec] = &[
    &VPC,
    &INTERNET_GATEWAY,
    &SUBNET,
    &EIP,
    &NAT_GATEWAY,
    &ROUTE_TABLE,
    &ROUTE_TABLE_ASSOCIATION,
    &FLOW_LOG,
    &SECURITY_GROUP,
];

/// CreateSecurityGroup's valid characters: a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*
const SG_CHARS: &str = "a-zA-Z0-9 ._:/()#,@[]+=&;{}!$*-";
pub const SECURITY_GROUP_NAME: NameRule =
    NameRule::new("security group name", "CreateSecurityGroup GroupName", 1, 255, SG_CHARS).reserved_prefixes(&["sg-"]);
pub const SECURITY_GROUP_DESCRIPTION: NameRule =
    NameRule::new("security group description", "CreateSecurityGroup GroupDescription", 0, 255, SG_CHARS);
pub const RULE_DESCRIPTION: NameRule =
    NameRule::new("security group rule description", "IpRange / UserIdGroupPair Description", 0, 255, SG_CHARS);

const TAGS: Prop = Prop::opt("tags", Kind::Tags, "tags, set through TagSpecifications on create");

const ID: Attr = attr("id", "the resource's EC2 ID");

pub static VPC: TypeSpec = TypeSpec {
    name: "ec2:Vpc",
    aliases: &["AWS::EC2::VPC", "aws_vpc", "aws:ec2/vpc:Vpc"],
    summary: "a VPC",
    calls: "CreateVpc (cidr_block, instance_tenancy, tags); \
            ModifyVpcAttribute, one call per attribute (enable_dns_support, enable_dns_hostnames)",
    props: &[
        Prop::req("cidr_block", Kind::Str, "the IPv4 range, e.g. 10.0.0.0/16"),
        Prop::opt("instance_tenancy", Kind::Str, "default or dedicated"),
        Prop::opt("enable_dns_support", Kind::Bool, "resolve DNS through the Amazon-provided server"),
        Prop::opt("enable_dns_hostnames", Kind::Bool, "give instances public DNS hostnames"),
        TAGS,
    ],
    attrs: &[ID, attr("cidr_block", "the IPv4 range")],
    taggable: true,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

pub static INTERNET_GATEWAY: TypeSpec = TypeSpec {
    name: "ec2:InternetGateway",
    aliases: &["AWS::EC2::InternetGateway", "aws_internet_gateway", "aws:ec2/internetGateway:InternetGateway"],
    summary: "an internet gateway, attached to a VPC",
    calls: "CreateInternetGateway (tags); AttachInternetGateway (vpc_id); \
            teardown detaches it, then deletes it",
    props: &[Prop::req("vpc_id", Kind::Str, "the VPC to attach the gateway to"), TAGS],
    attrs: &[ID, attr("vpc_id", "the VPC it is attached to")],
    taggable: true,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

pub static SUBNET: TypeSpec = TypeSpec {
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
        Prop::opt("map_public_ip_on_launch", Kind::Bool, "give network interfaces launched here a public IP"),
        TAGS,
    ],
    attrs: &[
        ID,
        attr("availability_zone", "the zone name"),
        attr("vpc_id", "the VPC"),
        attr("cidr_block", "the IPv4 range"),
    ],
    taggable: true,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

pub static EIP: TypeSpec = TypeSpec {
    name: "ec2:Eip",
    aliases: &["AWS::EC2::EIP", "aws_eip", "aws:ec2/eip:Eip"],
    summary: "an Elastic IP address",
    calls: "AllocateAddress (domain, tags); teardown: ReleaseAddress",
    props: &[Prop::opt("domain", Kind::Str, "vpc"), TAGS],
    attrs: &[attr("id", "the allocation ID"), attr("public_ip", "the public IPv4 address")],
    taggable: true,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

pub static NAT_GATEWAY: TypeSpec = TypeSpec {
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
        .filter(|subnet| subnet.type_name == SUBNET.name)
        .flat_map(|subnet| view.matching(subnet, INTERNET_GATEWAY.name, &[("vpc_id", "vpc_id")]))
        .collect();
    found.sort();
    found.dedup();
    found
}

const ROUTE: &[Prop] = &[
    Prop::req("destination_cidr_block", Kind::Str, "the IPv4 destination, e.g. 0.0.0.0/0"),
    Prop::opt("gateway_id", Kind::Str, "target: an internet gateway"),
    Prop::opt("nat_gateway_id", Kind::Str, "target: a NAT gateway"),
];

pub static ROUTE_TABLE: TypeSpec = TypeSpec {
    name: "ec2:RouteTable",
    aliases: &["AWS::EC2::RouteTable", "aws_route_table", "aws:ec2/routeTable:RouteTable"],
    summary: "a route table of a VPC, with its routes",
    calls: "CreateRouteTable (vpc_id, tags); CreateRoute, one call per entry of `routes` \
            (destination_cidr_block, gateway_id, nat_gateway_id)",
    props: &[
        Prop::req("vpc_id", Kind::Str, "the VPC"),
        Prop::opt("routes", Kind::List(&Kind::Struct(ROUTE)), "routes besides the VPC's local one"),
        TAGS,
    ],
    attrs: &[ID, attr("vpc_id", "the VPC")],
    taggable: true,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

pub static ROUTE_TABLE_ASSOCIATION: TypeSpec = TypeSpec {
    name: "ec2:RouteTableAssociation",
    aliases: &[
        "AWS::EC2::SubnetRouteTableAssociation",
        "aws_route_table_association",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
    ],
    summary: "a route table associated with a subnet",
    calls: "AssociateRouteTable (route_table_id, subnet_id); teardown: DisassociateRouteTable",
    props: &[
        Prop::req("route_table_id", Kind::Str, "the route table"),
        Prop::req("subnet_id", Kind::Str, "the subnet"),
    ],
    attrs: &[
        attr("id", "the association ID"),
        attr("route_table_id", "the route table"),
        attr("subnet_id", "the subnet"),
    ],
    taggable: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

pub static FLOW_LOG: TypeSpec = TypeSpec {
    name: "ec2:FlowLog",
    aliases: &["AWS::EC2::FlowLog", "aws_flow_log", "aws:ec2/flowLog:FlowLog"],
    summary: "a flow log of a VPC, subnet or network interface",
    calls: "CreateFlowLogs (resource_ids, resource_type, traffic_type, log_destination_type, log_group_name, \
            log_destination, deliver_logs_permission_arn, log_format, max_aggregation_interval, tags); \
            a resource whose flow log AWS lists as unsuccessful is an error",
    props: &[
        Prop::req(
            "resource_ids",
            Kind::List(&Kind::Str),
            "the one VPC, subnet or interface to log (one flow log per resource)",
        ),
        Prop::req("resource_type", Kind::Str, "VPC, Subnet or NetworkInterface"),
        Prop::opt("traffic_type", Kind::Str, "ACCEPT, REJECT or ALL"),
        Prop::opt("log_destination_type", Kind::Str, "cloud-watch-logs (default), s3 or kinesis-data-firehose"),
        Prop::opt("log_group_name", Kind::Str, "the CloudWatch Logs group (or use log_destination)")
            .name_rule(&crate::aws::logs::LOG_GROUP_NAME),
        Prop::opt("log_destination", Kind::Str, "the destination ARN"),
        Prop::opt("deliver_logs_permission_arn", Kind::Str, "the role AWS assumes to write to CloudWatch Logs"),
        Prop::opt("log_format", Kind::Str, "the record format (default: AWS's)"),
        Prop::opt("max_aggregation_interval", Kind::Int, "60 or 600 seconds").one_of(&[60, 600]),
        TAGS,
    ],
    attrs: &[attr("id", "the flow log ID"), attr("resource_id", "the resource it logs")],
    taggable: true,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

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

pub static SECURITY_GROUP: TypeSpec = TypeSpec {
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
        Prop::opt(
            "ingress",
            Kind::List(&Kind::Struct(IP_PERMISSION)),
            "inbound rules (the SDK's ip_permissions of AuthorizeSecurityGroupIngress)",
        ),
        TAGS,
    ],
    attrs: &[
        attr("id", "the group ID"),
        attr("arn", "the group ARN"),
        attr("name", "the group name"),
        attr("vpc_id", "the VPC"),
    ],
    taggable: true,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

#[cfg(test)]
mod tests {
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
        let rule = &NAT_GATEWAY.implied[0];
        assert_eq!((rule.find)(&view, nat), vec!["igw".to_string()]);
        let igw = plan.resource("igw").expect("igw");
        assert!((rule.find)(&view, igw).is_empty());
    }
}
