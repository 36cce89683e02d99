//! `ec2:RouteTableAssociation`: a route table associated with a subnet. It carries no tags: it
//! is ours when its route table is this stack's ([`Identity::claim_by_parent`]).

use async_trait::async_trait;
use aws_sdk_ec2::types::{RouteTableAssociation as Association, RouteTableAssociationStateCode as State};
use serde_json::json;

use super::{READ_BATCH, filter, ids_filter, listed, live, obj, out_id, pairs, run_route_tables};
use crate::aws::adapter::{Item, Lifecycle, Live, Read, by_id};
use crate::aws::{AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, absent, poll, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "ec2:RouteTableAssociation",
    aliases: &[
        "AWS::EC2::SubnetRouteTableAssociation",
        "aws_route_table_association",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
    ],
    summary: "a route table associated with a subnet",
    calls: "AssociateRouteTable (route_table_id, subnet_id); teardown: DisassociateRouteTable",
    // ReplaceRouteTableAssociation changes the route table, but answers a new association ID:
    // for ironplan that is a new resource.
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
    holds_data: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

pub struct RouteTableAssociation;

/// What a create reads.
pub struct Input {
    route_table_id: String,
    subnet_id: String,
}

#[async_trait]
impl Lifecycle for RouteTableAssociation {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = &["InvalidAssociationID.NotFound", "InvalidRouteTableID.NotFound"];
    const READ_BATCH: usize = READ_BATCH;

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("AssociateRouteTable");
        Ok(Input { route_table_id: p.str("route_table_id")?, subnet_id: p.str("subnet_id")? })
    }

    async fn create(ctx: &Ctx, a: &Input) -> Result<Created, AwsError> {
        let resp = ctx
            .ec2
            .associate_route_table()
            .route_table_id(&a.route_table_id)
            .subnet_id(&a.subnet_id)
            .send()
            .await
            .map_err(|e| sdk_err("AssociateRouteTable", e))?;
        Ok(created(required(resp.association_id(), "AssociateRouteTable", "AssociationId")?, a))
    }

    /// The plan's route table's association with the plan's subnet, ours when the table is.
    async fn find(ctx: &Ctx, a: &Input, who: &Identity) -> Result<Found, AwsError> {
        const OP: &str = "DescribeRouteTables";
        let r = match ctx.ec2.describe_route_tables().route_table_ids(&a.route_table_id).send().await {
            Ok(r) => r,
            Err(e) => return absent(sdk_err(OP, e)),
        };
        let Some(table) = r.route_tables().iter().find(|t| t.route_table_id() == Some(a.route_table_id.as_str()))
        else {
            return Ok(Found::Nothing);
        };
        let Some(found) = table.associations().iter().find(|x| {
            x.subnet_id() == Some(a.subnet_id.as_str())
                && !matches!(state(x), State::Disassociated | State::Disassociating)
        }) else {
            return Ok(Found::Nothing);
        };
        let id = required(found.route_table_association_id(), OP, "RouteTableAssociationId")?;
        Ok(who.claim_by_parent(created(id, a), &format!("route table `{}`", a.route_table_id), pairs(table.tags())))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        poll(ctx, "DescribeRouteTables", &format!("route table association {id}"), || async {
            let Some(a) = describe(ctx, id).await? else { return Ok(None) };
            match state(&a) {
                State::Associated => Ok(Some(out.clone())),
                State::Failed => Err(AwsError {
                    operation: "AssociateRouteTable",
                    code: "AssociationFailed".into(),
                    message: format!(
                        "association {id} of route table {} failed",
                        a.route_table_id().unwrap_or_default()
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
        Ok(describe(ctx, id).await?.and_then(|a| live_of(&a, id, out)))
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        ctx.ec2
            .disassociate_route_table()
            .association_id(id)
            .send()
            .await
            .map_err(|e| sdk_err("DisassociateRouteTable", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(describe(ctx, id).await?.is_none_or(|a| state(&a) == State::Disassociated))
    }

    /// From the read run's one DescribeRouteTables (shared with the route tables) when it has
    /// every item's table (its `route_table_id` output: an association keeps its table for
    /// life, ReplaceRouteTableAssociation answers a new ID), else one describe filtered by the
    /// items' association IDs.
    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        let wanted: Vec<Option<&str>> = items.iter().map(|(_, out)| out_id(out, "route_table_id")).collect();
        if let Some(tables) = run_route_tables(ctx, &wanted).await {
            let associations = tables.map(|t| t.iter().flat_map(|t| t.associations()).cloned().collect());
            return by_id(items, associations, Association::route_table_association_id, live_of);
        }
        let pages = ctx.ec2.describe_route_tables().filters(ids_filter(ASSOCIATION_ID, items)).into_paginator();
        let tables = pages.items().send().collect::<Result<Vec<_>, _>>().await;
        let associations = tables.map(|t| t.iter().flat_map(|t| t.associations()).cloned().collect());
        listed(items, "DescribeRouteTables", associations, Association::route_table_association_id, live_of)
    }
}

fn created(id: String, a: &Input) -> Created {
    let outputs = obj(json!({ "id": id, "route_table_id": a.route_table_id, "subnet_id": a.subnet_id }));
    Created { id, outputs }
}

/// DescribeRouteTables' filter on the IDs of the associations a table lists.
const ASSOCIATION_ID: &str = "association.route-table-association-id";

/// An association AWS reports without a state is in effect.
fn state(a: &Association) -> State {
    a.association_state().and_then(|s| s.state()).cloned().unwrap_or(State::Associated)
}

/// Association `id`, from the route table that lists it; `None` when no table does.
async fn describe(ctx: &Ctx, id: &str) -> Result<Option<Association>, AwsError> {
    let r = ctx
        .ec2
        .describe_route_tables()
        .filters(filter(ASSOCIATION_ID, id))
        .send()
        .await
        .map_err(|e| sdk_err("DescribeRouteTables", e));
    let Some(r) = super::present(r)? else { return Ok(None) };
    Ok(r.route_tables()
        .iter()
        .flat_map(|t| t.associations())
        .find(|a| a.route_table_association_id() == Some(id))
        .cloned())
}

/// What `read` (and `read_many`) report of an association (`None`: it is disassociated).
fn live_of(a: &Association, id: &str, out: &Outputs) -> Option<Live> {
    if state(a) == State::Disassociated {
        return None;
    }
    let props = json!({ "route_table_id": a.route_table_id(), "subnet_id": a.subnet_id() });
    let attrs = json!({ "id": id, "route_table_id": a.route_table_id(), "subnet_id": a.subnet_id() });
    Some(live(props, None, out, attrs))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[tokio::test]
    async fn route_table_association_is_adopted_read_back_and_deleted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let vpc = vpc(ctx, "10.0.0.0/16").await;
        let subnet = subnet(ctx, &vpc, "10.0.1.0/24").await;
        let rt = make(ctx, "ec2:RouteTable", &tagged(json!({"vpc_id": vpc.id}), "s-dev", "public_rt")).await;

        let assoc_p = json!({"route_table_id": rt.id, "subnet_id": subnet.id});
        let assoc = round_trip(ctx, "ec2:RouteTableAssociation", &assoc_p).await;
        assert_reads_back(ctx, "ec2:RouteTableAssociation", &assoc_p, &assoc.id, &assoc.outputs).await;
        remove(ctx, "ec2:RouteTableAssociation", &assoc_p, &assoc).await;
        let other = super::super::testing::subnet(ctx, &vpc, "10.0.2.0/24").await;
        let other_p = json!({"route_table_id": rt.id, "subnet_id": other.id});
        assert_reads_many_with(ctx, "ec2:RouteTableAssociation", assoc, &[other_p]).await;
    }

    /// An association in a route table that is not ours (made by hand) is not ours.
    #[tokio::test]
    async fn an_association_in_a_route_table_made_by_hand_is_not_ours() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let r = ctx.ec2.create_vpc().cidr_block("10.3.0.0/16").send().await.expect("vpc");
        let vpc_id = r.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
        let r = ctx.ec2.create_subnet().vpc_id(&vpc_id).cidr_block("10.3.1.0/24").send().await.expect("subnet");
        let subnet_id = r.subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_string();
        let r = ctx.ec2.create_route_table().vpc_id(&vpc_id).send().await.expect("route table");
        let rt_id = r.route_table().and_then(|t| t.route_table_id()).expect("rt id").to_string();
        ctx.ec2.associate_route_table().route_table_id(&rt_id).subnet_id(&subnet_id).send().await.expect("assoc");
        let assoc_p = json!({"route_table_id": rt_id, "subnet_id": subnet_id});
        let found = crate::aws::testing::find(ctx, "ec2:RouteTableAssociation", &assoc_p).await;
        assert_not_ours(&found, &format!("route table `{rt_id}` has no `ironplan:stack` tag"));
    }

    /// In a read run that reads a route table and its associations (one deleted since), one
    /// DescribeRouteTables serves both types, and each answers what `read` answers; a batch whose
    /// table the run does not read makes its own describe.
    #[tokio::test]
    async fn route_tables_and_associations_share_one_describe_in_a_read_run() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let vpc = vpc(ctx, "10.4.0.0/16").await;
        let (a, b) = (subnet(ctx, &vpc, "10.4.1.0/24").await, subnet(ctx, &vpc, "10.4.2.0/24").await);
        let rt = make(ctx, "ec2:RouteTable", &tagged(json!({"vpc_id": vpc.id}), "s-dev", "public_rt")).await;
        let ty = "ec2:RouteTableAssociation";
        let assoc_a = make(ctx, ty, &json!({"route_table_id": rt.id, "subnet_id": a.id})).await;
        let assoc_b_p = json!({"route_table_id": rt.id, "subnet_id": b.id});
        let assoc_b = make(ctx, ty, &assoc_b_p).await;
        remove(ctx, ty, &assoc_b_p, &assoc_b).await;

        fn item(c: &crate::aws::Created) -> crate::aws::Item<'_> {
            (c.id.as_str(), &c.outputs)
        }
        let run = [("ec2:RouteTable", item(&rt)), (ty, item(&assoc_a)), (ty, item(&assoc_b))];
        let (wired, wire) = crate::aws::testing::wired(ctx);
        let run = wired.for_reads_of(&run);
        let tables = crate::aws::read_many(&run, "ec2:RouteTable", &[item(&rt)]).await;
        let assocs = crate::aws::read_many(&run, ty, &[item(&assoc_a), item(&assoc_b)]).await;
        assert_eq!(wire.of("DescribeRouteTables").len(), 1, "one describe for both types: {:?}", wire.sent());
        async fn one(ctx: &crate::aws::Ctx, t: &str, c: &crate::aws::Created) -> Option<crate::aws::Live> {
            crate::aws::read(ctx, t, &c.id, &c.outputs).await.expect("read")
        }
        assert_eq!(tables[0].clone().expect("table"), one(ctx, "ec2:RouteTable", &rt).await);
        assert!(one(ctx, ty, &assoc_a).await.is_some(), "the association exists");
        assert_eq!(assocs[0].clone().expect("assoc a"), one(ctx, ty, &assoc_a).await);
        assert_eq!(assocs[1].clone().expect("assoc b"), None, "the deleted association is gone");

        // A run that reads no route table: the associations make their own describe.
        let alone = wired.for_reads_of(&[(ty, item(&assoc_a))]);
        let before = wire.of("DescribeRouteTables").len();
        let got = crate::aws::read_many(&alone, ty, &[item(&assoc_a)]).await;
        assert_eq!(got[0].clone().expect("assoc a"), one(ctx, ty, &assoc_a).await);
        assert_eq!(wire.of("DescribeRouteTables").len(), before + 1);
    }
}
