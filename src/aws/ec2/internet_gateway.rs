//! `ec2:InternetGateway`: an internet gateway, attached to a VPC. CreateInternetGateway takes
//! no VPC: `ready` attaches it; `delete` detaches it first (AWS refuses to delete an attached
//! gateway).

use async_trait::async_trait;
use aws_sdk_ec2::types::{InternetGateway as Described, ResourceType};
use serde_json::json;

use super::{
    ID, READ_BATCH, TAGS, done_unless, identity_filters, ids_filter, is_ours, listed, live, obj, one, pairs, retag,
    tag_specs,
};
use crate::aws::adapter::{Item, Lifecycle, Live, Read};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, out_str, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "ec2:InternetGateway",
    aliases: &["AWS::EC2::InternetGateway", "aws_internet_gateway", "aws:ec2/internetGateway:InternetGateway"],
    summary: "an internet gateway, attached to a VPC",
    calls: "CreateInternetGateway (tags); AttachInternetGateway (vpc_id); a new vpc_id: DetachInternetGateway \
            from the old VPC, then AttachInternetGateway; teardown detaches it, then deletes it",
    // Detach and Attach move the gateway to another VPC; it keeps its ID.
    props: &[Prop::req("vpc_id", Kind::Str, "the VPC to attach the gateway to").in_place(), TAGS],
    attrs: &[ID, attr("vpc_id", "the VPC it is attached to")],
    taggable: true,
    holds_data: false,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

pub struct InternetGateway;

/// What a create reads.
pub struct Input {
    vpc_id: String,
    tags: Vec<(String, String)>,
}

#[async_trait]
impl Lifecycle for InternetGateway {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = &["InvalidInternetGatewayID.NotFound"];
    const READ_BATCH: usize = READ_BATCH;
    const UPDATES: &'static [&'static str] = &["vpc_id", "tags"];
    // AWS refuses to delete a VPC with a gateway attached: a replaced VPC takes it along.
    const PINS: &'static [&'static str] = &["vpc_id"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateInternetGateway");
        Ok(Input { vpc_id: p.str("vpc_id")?, tags: p.tags()? })
    }

    async fn create(ctx: &Ctx, g: &Input) -> Result<Created, AwsError> {
        let resp = ctx
            .ec2
            .create_internet_gateway()
            .set_tag_specifications(tag_specs(ResourceType::InternetGateway, &g.tags))
            .send()
            .await
            .map_err(|e| sdk_err("CreateInternetGateway", e))?;
        let id = required(
            resp.internet_gateway().and_then(|g| g.internet_gateway_id()),
            "CreateInternetGateway",
            "InternetGatewayId",
        )?;
        Ok(created(id, g))
    }

    /// The gateway with both identity tags, unattached or attached to the plan's VPC.
    async fn find(ctx: &Ctx, g: &Input, who: &Identity) -> Result<Found, AwsError> {
        const OP: &str = "DescribeInternetGateways";
        let r = ctx
            .ec2
            .describe_internet_gateways()
            .set_filters(Some(identity_filters(who)))
            .send()
            .await
            .map_err(|e| sdk_err(OP, e))?;
        // The crash may have come before the attachment (made by wait_ready) or after it; a
        // gateway attached to another VPC is not the one this create made.
        let Some(found) = r
            .internet_gateways()
            .iter()
            .find(|x| is_ours(who, x.tags()) && x.attachments().iter().all(|a| a.vpc_id() == Some(g.vpc_id.as_str())))
        else {
            return Ok(Found::Nothing);
        };
        let id = required(found.internet_gateway_id(), OP, "InternetGatewayId")?;
        Ok(who.claim(created(id, g), pairs(found.tags())))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        let vpc_id = out_str(out, "vpc_id", "AttachInternetGateway")?;
        let attached = ctx.ec2.attach_internet_gateway().internet_gateway_id(id).vpc_id(vpc_id).send().await;
        // Already attached: a wait run again after a crash.
        done_unless(attached.map_err(|e| sdk_err("AttachInternetGateway", e)), "Resource.AlreadyAssociated")?;
        Ok(out.clone())
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        Ok(describe(ctx, id).await?.and_then(|g| live_of(&g, id, out)))
    }

    /// The tags (DeleteTags, CreateTags); a new VPC: detached from every VPC DescribeInternetGateways
    /// shows it on (the old one), then attached to the new one. Each step tolerates "already
    /// done", so an update run again after a crash finishes the move.
    async fn update(
        ctx: &Ctx,
        id: &str,
        out: &Outputs,
        input: &Input,
        changed: &[String],
    ) -> Result<Outputs, AwsError> {
        let mut outputs = out.clone();
        if changed.iter().any(|c| c == "vpc_id") {
            // A gateway gone since: the attach below says so (InvalidInternetGatewayID.NotFound).
            let g = describe(ctx, id).await?;
            let attached = g.iter().flat_map(|g| g.attachments()).filter_map(|a| a.vpc_id());
            for old in attached.filter(|v| *v != input.vpc_id) {
                let r = ctx.ec2.detach_internet_gateway().internet_gateway_id(id).vpc_id(old).send().await;
                let r = r.map_err(|e| detach_err(sdk_err("DetachInternetGateway", e), id, old));
                done_unless(r, "Gateway.NotAttached")?;
            }
            outputs.insert("vpc_id".into(), json!(input.vpc_id));
            outputs = Self::ready(ctx, id, &outputs).await?;
        }
        if changed.iter().any(|c| c == "tags") {
            retag(ctx, id, &input.tags).await?;
        }
        Ok(outputs)
    }

    async fn delete(ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError> {
        // AWS refuses to delete an attached gateway.
        let vpc_id = out_str(out, "vpc_id", "DetachInternetGateway")?;
        let detached = ctx.ec2.detach_internet_gateway().internet_gateway_id(id).vpc_id(vpc_id).send().await;
        done_unless(detached.map_err(|e| sdk_err("DetachInternetGateway", e)), "Gateway.NotAttached")?;
        ctx.ec2
            .delete_internet_gateway()
            .internet_gateway_id(id)
            .send()
            .await
            .map_err(|e| sdk_err("DeleteInternetGateway", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(describe(ctx, id).await?.is_none())
    }

    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        let filter = ids_filter("internet-gateway-id", items);
        let pages = ctx.ec2.describe_internet_gateways().filters(filter).into_paginator().items();
        listed(items, "DescribeInternetGateways", pages.send().collect().await, Described::internet_gateway_id, live_of)
    }
}

/// A failed DetachInternetGateway, with what to do when AWS refuses because the VPC still uses
/// the gateway.
fn detach_err(e: AwsError, id: &str, vpc_id: &str) -> AwsError {
    if e.code != "DependencyViolation" {
        return e;
    }
    e.with_hint(format!(
        "VPC {vpc_id} still has public addresses (Elastic IPs, NAT gateways, instances) that use internet \
         gateway {id}: release or move them first, then deploy again"
    ))
}

/// What `create` returns: `ready` attaches the gateway to `vpc_id`.
fn created(id: String, g: &Input) -> Created {
    Created { outputs: obj(json!({ "id": id, "vpc_id": g.vpc_id })), id }
}

async fn describe(ctx: &Ctx, id: &str) -> Result<Option<Described>, AwsError> {
    let r = ctx.ec2.describe_internet_gateways().internet_gateway_ids(id).send().await;
    one(r.map(|r| r.internet_gateways).map_err(|e| sdk_err("DescribeInternetGateways", e)))
}

/// What `read` (and `read_many`) report of a described gateway. An unattached gateway reports no VPC
/// (and keeps the planned one in its outputs).
fn live_of(g: &Described, id: &str, out: &Outputs) -> Option<Live> {
    let vpc_id = g.attachments().first().and_then(|a| a.vpc_id());
    let mut attrs = json!({ "id": id });
    if let Some(v) = vpc_id {
        attrs["vpc_id"] = json!(v);
    }
    Some(live(json!({ "vpc_id": vpc_id }), Some(g.tags()), out, attrs))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::aws::Created;

    #[tokio::test]
    async fn internet_gateway_is_adopted_read_back_and_deleted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let vpc = vpc(ctx, "10.0.0.0/16").await;
        let igw_p = tagged(json!({"vpc_id": vpc.id}), "s-dev", "igw");
        let igw = round_trip(ctx, "ec2:InternetGateway", &igw_p).await;
        // Attached by the adopted one's wait: still found.
        assert_eq!(find(ctx, "ec2:InternetGateway", &igw_p).await.map(|c| c.id), Some(igw.id.clone()));
        assert_reads_back(ctx, "ec2:InternetGateway", &igw_p, &igw.id, &igw.outputs).await;
        remove(ctx, "ec2:InternetGateway", &igw_p, &igw).await;
        let (a, b) = (
            super::super::testing::vpc(ctx, "10.1.0.0/16").await,
            super::super::testing::vpc(ctx, "10.2.0.0/16").await,
        );
        let other = |vpc_id: &str| tagged(json!({ "vpc_id": vpc_id }), "s-dev", "igw");
        assert_reads_many_with(ctx, "ec2:InternetGateway", igw, &[other(&a.id), other(&b.id)]).await;
    }

    /// Moved to another VPC with new tags: detached from the old VPC, attached to the new one,
    /// as DescribeInternetGateways shows; an update run again (a crash after the move) changes
    /// nothing; teardown then detaches it from the new VPC.
    #[tokio::test]
    async fn internet_gateway_moves_to_another_vpc_in_place() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        const TY: &str = "ec2:InternetGateway";
        let (a, b) = (vpc(ctx, "10.1.0.0/16").await, vpc(ctx, "10.2.0.0/16").await);
        let mut p = tagged(json!({"vpc_id": a.id}), "s-dev", "igw");
        let igw = make(ctx, TY, &p).await;
        let attached = |vpc_id: String| async move {
            let f = aws_sdk_ec2::types::Filter::builder().name("attachment.vpc-id").values(vpc_id).build();
            let r = ctx.ec2.describe_internet_gateways().filters(f).send().await.expect("DescribeInternetGateways");
            r.internet_gateways().iter().filter_map(|g| g.internet_gateway_id().map(String::from)).collect::<Vec<_>>()
        };
        assert_eq!(attached(a.id.clone()).await, [igw.id.as_str()]);
        p["vpc_id"] = json!(b.id);
        p["tags"]["Team"] = json!("net");
        let out = crate::aws::testing::assert_updates(ctx, TY, &igw.id, &igw.outputs, &p, &["vpc_id", "tags"]).await;
        assert_reads_back(ctx, TY, &p, &igw.id, &out).await;
        assert_eq!(attached(a.id.clone()).await, Vec::<String>::new(), "detached from the old VPC");
        assert_eq!(attached(b.id.clone()).await, [igw.id.as_str()], "attached to the new one");
        let again = crate::aws::testing::assert_updates(ctx, TY, &igw.id, &igw.outputs, &p, &["vpc_id"]).await;
        assert_eq!(again, out, "a second run of the update finds it done");
        assert_eq!(attached(b.id.clone()).await, [igw.id.as_str()]);
        // Back to the first VPC (a rollback's update), then deleted from there.
        p["vpc_id"] = json!(a.id);
        let back = crate::aws::testing::assert_updates(ctx, TY, &igw.id, &out, &p, &["vpc_id"]).await;
        assert_eq!(attached(a.id.clone()).await, [igw.id.as_str()]);
        remove(ctx, TY, &p, &Created { id: igw.id.clone(), outputs: back }).await;
    }

    #[tokio::test]
    async fn another_stacks_internet_gateway_is_not_adopted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let other_vpc = make(ctx, "ec2:Vpc", &tagged(json!({"cidr_block": "10.2.0.0/16"}), "s-other", "vpc")).await;
        let igw_p = |stack: &str| tagged(json!({"vpc_id": other_vpc.id}), stack, "igw");
        make(ctx, "ec2:InternetGateway", &igw_p("s-other")).await;
        assert!(find(ctx, "ec2:InternetGateway", &igw_p("s-dev")).await.is_none(), "internet gateway");
    }
}
