//! `ec2:FlowLog`: a flow log of one VPC, subnet or network interface. CreateFlowLogs answers
//! 200 and lists what it could not log as unsuccessful ([`unsuccessful`]): that is an error.

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    FlowLog as Described, FlowLogsResourceType, LogDestinationType, ResourceType, TrafficType, UnsuccessfulItem,
};
use serde_json::json;

use super::{READ_BATCH, TAGS, filter, ids_filter, listed, live, obj, one, pairs, retag, tag_specs};
use crate::aws::adapter::{Item, Lifecycle, Live, Read};
use crate::aws::{AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, poll, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "ec2:FlowLog",
    aliases: &["AWS::EC2::FlowLog", "aws_flow_log", "aws:ec2/flowLog:FlowLog"],
    summary: "a flow log of a VPC, subnet or network interface",
    calls: "CreateFlowLogs (resource_ids, resource_type, traffic_type, log_destination_type, log_group_name, \
            log_destination, deliver_logs_permission_arn, log_format, max_aggregation_interval, tags); \
            a resource whose flow log AWS lists as unsuccessful is an error",
    // No call changes a flow log: every property makes a new one.
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
    holds_data: false,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

pub struct FlowLog;

/// What a create reads.
pub struct Input {
    resource_ids: Vec<String>,
    resource_type: String,
    traffic_type: Option<String>,
    destination_type: Option<String>,
    log_group_name: Option<String>,
    log_destination: Option<String>,
    role_arn: Option<String>,
    log_format: Option<String>,
    max_interval: Option<i32>,
    tags: Vec<(String, String)>,
}

impl Input {
    /// The one resource to log: one physical ID per plan resource, where several resources
    /// would make several flow logs.
    fn resource_id(&self) -> Option<&str> {
        match self.resource_ids.as_slice() {
            [id] => Some(id),
            _ => None,
        }
    }
}

#[async_trait]
impl Lifecycle for FlowLog {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = &["InvalidFlowLogId.NotFound"];
    const READ_BATCH: usize = READ_BATCH;
    const UPDATES: &'static [&'static str] = &["tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateFlowLogs");
        Ok(Input {
            resource_ids: p.str_list("resource_ids")?,
            resource_type: p.str("resource_type")?,
            traffic_type: p.opt_str("traffic_type")?,
            destination_type: p.opt_str("log_destination_type")?,
            log_group_name: p.opt_str("log_group_name")?,
            log_destination: p.opt_str("log_destination")?,
            role_arn: p.opt_str("deliver_logs_permission_arn")?,
            log_format: p.opt_str("log_format")?,
            max_interval: p.opt_i32("max_aggregation_interval")?,
            tags: p.tags()?,
        })
    }

    async fn create(ctx: &Ctx, f: &Input) -> Result<Created, AwsError> {
        let Some(resource_id) = f.resource_id() else {
            return Err(AwsError::input(
                "CreateFlowLogs",
                format!("`resource_ids` must hold exactly one ID, got {}", f.resource_ids.len()),
            )
            .with_hint(format!("declare one {} per VPC, subnet or network interface", SPEC.name)));
        };
        let resp = ctx
            .ec2
            .create_flow_logs()
            .resource_ids(resource_id)
            .resource_type(FlowLogsResourceType::from(f.resource_type.as_str()))
            .set_traffic_type(f.traffic_type.as_deref().map(TrafficType::from))
            .set_log_destination_type(f.destination_type.as_deref().map(LogDestinationType::from))
            .set_log_group_name(f.log_group_name.clone())
            .set_log_destination(f.log_destination.clone())
            .set_deliver_logs_permission_arn(f.role_arn.clone())
            .set_log_format(f.log_format.clone())
            .set_max_aggregation_interval(f.max_interval)
            .set_tag_specifications(tag_specs(ResourceType::VpcFlowLog, &f.tags))
            .send()
            .await
            .map_err(|e| sdk_err("CreateFlowLogs", e))?;
        // AWS answers 200 and lists the resources it could not log (a role not yet assumable,
        // a log group that does not exist) as unsuccessful.
        if let Some(e) = unsuccessful("CreateFlowLogs", resp.unsuccessful()) {
            return Err(e);
        }
        let id = required(resp.flow_log_ids().first().map(String::as_str), "CreateFlowLogs", "FlowLogIds")?;
        Ok(created(id, resource_id))
    }

    /// AWS keeps one flow log per resource, destination and traffic type: another one there
    /// blocks the create.
    async fn find(ctx: &Ctx, f: &Input, who: &Identity) -> Result<Found, AwsError> {
        const OP: &str = "DescribeFlowLogs";
        // The create refuses anything but one resource: nothing was made.
        let Some(resource_id) = f.resource_id() else { return Ok(Found::Nothing) };
        let mut q = ctx.ec2.describe_flow_logs().filter(filter("resource-id", resource_id));
        if let Some(g) = &f.log_group_name {
            q = q.filter(filter("log-group-name", g));
        }
        let r = q.send().await.map_err(|e| sdk_err(OP, e))?;
        let Some(found) = r.flow_logs().iter().find(|x| {
            x.resource_id() == Some(resource_id)
                && f.log_group_name.as_deref().is_none_or(|g| x.log_group_name() == Some(g))
                && f.log_destination.as_deref().is_none_or(|d| x.log_destination() == Some(d))
                && f.traffic_type.as_deref().is_none_or(|t| x.traffic_type().map(TrafficType::as_str) == Some(t))
        }) else {
            return Ok(Found::Nothing);
        };
        let id = required(found.flow_log_id(), OP, "FlowLogId")?;
        Ok(who.claim(created(id, resource_id), pairs(found.tags())))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        // flow_log_status is ACTIVE from the start; delivery problems show later in
        // deliver_logs_status and do not make the resource unusable.
        poll(ctx, "DescribeFlowLogs", &format!("flow log {id}"), || async {
            Ok(describe(ctx, id).await?.map(|_| out.clone()))
        })
        .await
    }

    /// DescribeFlowLogs does not say what type of resource is logged: its ID does (`vpc-`,
    /// `subnet-`, `eni-`). For a CloudWatch Logs destination AWS reports the group's name and
    /// its ARN as `log_destination`: only the name is reported, as a plan gives one or the other.
    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        Ok(describe(ctx, id).await?.and_then(|f| live_of(&f, id, out)))
    }

    /// Only the tags change in place (DeleteTags, CreateTags).
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, input: &Input, _: &[String]) -> Result<Outputs, AwsError> {
        retag(ctx, id, &input.tags).await.map(|()| out.clone())
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        let resp =
            ctx.ec2.delete_flow_logs().flow_log_ids(id).send().await.map_err(|e| sdk_err("DeleteFlowLogs", e))?;
        match unsuccessful("DeleteFlowLogs", resp.unsuccessful()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(describe(ctx, id).await?.is_none())
    }

    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        let pages = ctx.ec2.describe_flow_logs().filter(ids_filter("flow-log-id", items)).into_paginator();
        listed(items, "DescribeFlowLogs", pages.items().send().collect().await, Described::flow_log_id, live_of)
    }
}

fn created(id: String, resource_id: &str) -> Created {
    Created { outputs: obj(json!({ "id": id, "resource_id": resource_id })), id }
}

async fn describe(ctx: &Ctx, id: &str) -> Result<Option<Described>, AwsError> {
    let r = ctx.ec2.describe_flow_logs().flow_log_ids(id).send().await;
    one(r.map(|r| r.flow_logs).map_err(|e| sdk_err("DescribeFlowLogs", e)))
}

/// The first unsuccessful item of a batch answer, as an error classified like a failed call.
fn unsuccessful(operation: &'static str, items: &[UnsuccessfulItem]) -> Option<AwsError> {
    let item = items.first()?;
    let code = item.error().and_then(|e| e.code()).unwrap_or("Unsuccessful").to_string();
    let message = format!(
        "{}: {}",
        item.resource_id().unwrap_or("resource"),
        item.error().and_then(|e| e.message()).unwrap_or("AWS did not say why")
    );
    let mut kind = crate::aws::classify(&code, &message, 400);
    // A role created seconds ago: AWS lists the resource as unsuccessful with
    // `InvalidParameter: Unable to assume given IAM role` until IAM has propagated it.
    if kind == ErrorKind::Fatal && code == "InvalidParameter" && crate::aws::is_eventual_message(&code, &message) {
        kind = ErrorKind::Eventual;
    }
    Some(AwsError { operation, hint: crate::aws::hint_for(&code, &message), code, message, kind })
}

/// What `read` (and `read_many`) report of a described flow log.
fn live_of(f: &Described, id: &str, out: &Outputs) -> Option<Live> {
    let resource_type = f.resource_id().and_then(|r| {
        [("vpc-", "VPC"), ("subnet-", "Subnet"), ("eni-", "NetworkInterface")]
            .iter()
            .find_map(|(prefix, ty)| r.starts_with(prefix).then_some(*ty))
    });
    let props = json!({
        "resource_ids": f.resource_id().map(|r| vec![r]),
        "resource_type": resource_type,
        "traffic_type": f.traffic_type().map(TrafficType::as_str),
        "log_destination_type": f.log_destination_type().map(LogDestinationType::as_str),
        "log_group_name": f.log_group_name(),
        "log_destination": f.log_group_name().is_none().then(|| f.log_destination()).flatten(),
        "deliver_logs_permission_arn": f.deliver_logs_permission_arn(),
        "log_format": f.log_format(),
        "max_aggregation_interval": f.max_aggregation_interval(),
    });
    Some(live(props, Some(f.tags()), out, json!({ "id": id, "resource_id": f.resource_id() })))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

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

    #[tokio::test]
    async fn flow_log_is_adopted_read_back_and_deleted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let vpc = vpc(ctx, "10.1.0.0/16").await;
        let fl_p = tagged(
            json!({"resource_ids": [vpc.id], "resource_type": "VPC", "traffic_type": "ALL",
                   "log_destination_type": "cloud-watch-logs", "log_group_name": "/s-dev/flow",
                   "deliver_logs_permission_arn": "arn:aws:iam::123456789012:role/s-dev-flow",
                   "log_format": "${version} ${srcaddr} ${dstaddr} ${action}",
                   "max_aggregation_interval": 60}),
            "s-dev",
            "flow",
        );
        let fl = round_trip(ctx, "ec2:FlowLog", &fl_p).await;
        assert_reads_back(ctx, "ec2:FlowLog", &fl_p, &fl.id, &fl.outputs).await;
        remove(ctx, "ec2:FlowLog", &fl_p, &fl).await;
        let mut other = fl_p.clone();
        other["log_group_name"] = json!("/s-dev/flow-b");
        assert_reads_many_with(ctx, "ec2:FlowLog", fl, &[other]).await;
    }

    /// Another stack's flow log, and one made by hand, of the plan's VPC and log group are
    /// not ours.
    #[tokio::test]
    async fn another_stacks_flow_log_is_not_adopted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let other_vpc = make(ctx, "ec2:Vpc", &tagged(json!({"cidr_block": "10.2.0.0/16"}), "s-other", "vpc")).await;
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

        let r = ctx.ec2.create_vpc().cidr_block("10.3.0.0/16").send().await.expect("vpc");
        let vpc_id = r.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
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
