//! `ec2:Eip`: an Elastic IP address, by its allocation ID.

use async_trait::async_trait;
use aws_sdk_ec2::types::{Address, DomainType, ResourceType};
use serde_json::json;

use super::{READ_BATCH, TAGS, identity_filters, ids_filter, is_ours, listed, live, obj, one, pairs, retag, tag_specs};
use crate::aws::adapter::{Item, Lifecycle, Live, Read};
use crate::aws::{AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "ec2:Eip",
    aliases: &["AWS::EC2::EIP", "aws_eip", "aws:ec2/eip:Eip"],
    summary: "an Elastic IP address",
    calls: "AllocateAddress (domain, tags); teardown: ReleaseAddress",
    props: &[Prop::opt("domain", Kind::Str, "vpc"), TAGS],
    attrs: &[attr("id", "the allocation ID"), attr("public_ip", "the public IPv4 address")],
    taggable: true,
    holds_data: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

pub struct Eip;

/// What a create reads.
pub struct Input {
    domain: Option<String>,
    tags: Vec<(String, String)>,
}

#[async_trait]
impl Lifecycle for Eip {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = &["InvalidAllocationID.NotFound"];
    const READ_BATCH: usize = READ_BATCH;
    const UPDATES: &'static [&'static str] = &["tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("AllocateAddress");
        Ok(Input { domain: p.opt_str("domain")?, tags: p.tags()? })
    }

    async fn create(ctx: &Ctx, a: &Input) -> Result<Created, AwsError> {
        let resp = ctx
            .ec2
            .allocate_address()
            .set_domain(a.domain.as_deref().map(DomainType::from))
            .set_tag_specifications(tag_specs(ResourceType::ElasticIp, &a.tags))
            .send()
            .await
            .map_err(|e| sdk_err("AllocateAddress", e))?;
        let id = required(resp.allocation_id(), "AllocateAddress", "AllocationId")?;
        Ok(created(id, resp.public_ip()))
    }

    /// The address with both identity tags.
    async fn find(ctx: &Ctx, _a: &Input, who: &Identity) -> Result<Found, AwsError> {
        const OP: &str = "DescribeAddresses";
        let r = ctx
            .ec2
            .describe_addresses()
            .set_filters(Some(identity_filters(who)))
            .send()
            .await
            .map_err(|e| sdk_err(OP, e))?;
        let Some(found) = r.addresses().iter().find(|x| x.allocation_id().is_some() && is_ours(who, x.tags())) else {
            return Ok(Found::Nothing);
        };
        let id = required(found.allocation_id(), OP, "AllocationId")?;
        Ok(who.claim(created(id, found.public_ip()), pairs(found.tags())))
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        Ok(describe(ctx, id).await?.and_then(|a| live_of(&a, id, out)))
    }

    /// Only the tags change in place (DeleteTags, CreateTags).
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, input: &Input, _: &[String]) -> Result<Outputs, AwsError> {
        retag(ctx, id, &input.tags).await.map(|()| out.clone())
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        ctx.ec2.release_address().allocation_id(id).send().await.map_err(|e| {
            let mut e = sdk_err("ReleaseAddress", e);
            // The NAT gateway that held the address lets go of it shortly after it is deleted.
            if e.code == "InvalidIPAddress.InUse" {
                e.kind = ErrorKind::Eventual;
            }
            e
        })?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(describe(ctx, id).await?.is_none())
    }

    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        let r = ctx.ec2.describe_addresses().filters(ids_filter("allocation-id", items)).send().await;
        listed(items, "DescribeAddresses", r.map(|r| r.addresses.unwrap_or_default()), Address::allocation_id, live_of)
    }
}

fn created(id: String, public_ip: Option<&str>) -> Created {
    Created { outputs: obj(json!({ "id": id, "public_ip": public_ip })), id }
}

async fn describe(ctx: &Ctx, id: &str) -> Result<Option<Address>, AwsError> {
    let r = ctx.ec2.describe_addresses().allocation_ids(id).send().await;
    one(r.map(|r| r.addresses).map_err(|e| sdk_err("DescribeAddresses", e)))
}

/// What `read` (and `read_many`) report of a described address.
fn live_of(a: &Address, id: &str, out: &Outputs) -> Option<Live> {
    let props = json!({ "domain": a.domain().map(DomainType::as_str) });
    Some(live(props, Some(a.tags()), out, json!({ "id": id, "public_ip": a.public_ip() })))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[tokio::test]
    async fn eip_is_adopted_read_back_and_deleted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let eip_p = tagged(json!({"domain": "vpc"}), "s-dev", "nat_eip");
        let eip = round_trip(ctx, "ec2:Eip", &eip_p).await;
        assert_reads_back(ctx, "ec2:Eip", &eip_p, &eip.id, &eip.outputs).await;
        remove(ctx, "ec2:Eip", &eip_p, &eip).await;
        assert_reads_many_with(ctx, "ec2:Eip", eip, &[eip_p.clone(), eip_p.clone()]).await;
    }

    #[tokio::test]
    async fn another_stacks_eip_is_not_adopted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let eip_p = |stack: &str| tagged(json!({"domain": "vpc"}), stack, "nat_eip");
        make(ctx, "ec2:Eip", &eip_p("s-other")).await;
        assert!(find(ctx, "ec2:Eip", &eip_p("s-dev")).await.is_none(), "EIP");
    }
}
