//! `ec2:RouteTable`: a route table of a VPC, with its routes. CreateRouteTable takes no
//! routes: they are stashed in the outputs and `ready` makes each (CreateRoute) that is missing.

use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType, RouteOrigin, RouteTable as Described};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    ID, READ_BATCH, TAGS, done_unless, filter, identity_filters, ids_filter, is_ours, listed, live, obj, one, pairs,
    retag, run_route_tables, stashed, tag_specs,
};
use crate::aws::adapter::{Item, Lifecycle, Live, Read, by_id};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

const ROUTE: &[Prop] = &[
    Prop::req("destination_cidr_block", Kind::Str, "the IPv4 destination, e.g. 0.0.0.0/0"),
    Prop::opt("gateway_id", Kind::Str, "target: an internet gateway"),
    Prop::opt("nat_gateway_id", Kind::Str, "target: a NAT gateway"),
];

pub static SPEC: TypeSpec = TypeSpec {
    name: "ec2:RouteTable",
    aliases: &["AWS::EC2::RouteTable", "aws_route_table", "aws:ec2/routeTable:RouteTable"],
    summary: "a route table of a VPC, with its routes",
    calls: "CreateRouteTable (vpc_id, tags); CreateRoute, one call per entry of `routes` \
            (destination_cidr_block, gateway_id, nat_gateway_id)",
    props: &[
        Prop::req("vpc_id", Kind::Str, "the VPC"),
        // CreateRoute, ReplaceRoute and DeleteRoute change them one by one.
        Prop::opt("routes", Kind::List(&Kind::Struct(ROUTE)), "routes besides the VPC's local one").in_place(),
        TAGS,
    ],
    attrs: &[ID, attr("vpc_id", "the VPC")],
    taggable: true,
    holds_data: false,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

/// One entry of a route table's `routes`, kept in the outputs until the routes are made.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Route {
    destination_cidr_block: String,
    gateway_id: Option<String>,
    nat_gateway_id: Option<String>,
}

pub struct RouteTable;

/// What a create reads.
pub struct Input {
    vpc_id: String,
    routes: Vec<Route>,
    tags: Vec<(String, String)>,
}

#[async_trait]
impl Lifecycle for RouteTable {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = &["InvalidRouteTableID.NotFound"];
    const READ_BATCH: usize = READ_BATCH;
    const UPDATES: &'static [&'static str] = &["routes", "tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateRouteTable");
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
        Ok(Input { vpc_id, routes, tags: p.tags()? })
    }

    async fn create(ctx: &Ctx, t: &Input) -> Result<Created, AwsError> {
        let resp = ctx
            .ec2
            .create_route_table()
            .vpc_id(&t.vpc_id)
            .set_tag_specifications(tag_specs(ResourceType::RouteTable, &t.tags))
            .send()
            .await
            .map_err(|e| sdk_err("CreateRouteTable", e))?;
        let id = required(resp.route_table().and_then(|t| t.route_table_id()), "CreateRouteTable", "RouteTableId")?;
        Ok(created(id, t))
    }

    /// The table in the plan's VPC with both identity tags.
    async fn find(ctx: &Ctx, t: &Input, who: &Identity) -> Result<Found, AwsError> {
        const OP: &str = "DescribeRouteTables";
        let r = ctx
            .ec2
            .describe_route_tables()
            .set_filters(Some([vec![filter("vpc-id", &t.vpc_id)], identity_filters(who)].concat()))
            .send()
            .await
            .map_err(|e| sdk_err(OP, e))?;
        let Some(found) =
            r.route_tables().iter().find(|x| x.vpc_id() == Some(t.vpc_id.as_str()) && is_ours(who, x.tags()))
        else {
            return Ok(Found::Nothing);
        };
        let id = required(found.route_table_id(), OP, "RouteTableId")?;
        // The routes go to wait_ready, which makes those missing.
        Ok(who.claim(created(id, t), pairs(found.tags())))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        let routes: Vec<Route> = stashed(out, "routes", "CreateRoute")?;
        for r in &routes {
            create_route(ctx, id, r).await?;
        }
        Ok(out.clone())
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        Ok(describe(ctx, id).await?.and_then(|t| live_of(&t, id, out)))
    }

    /// The routes one by one against what the table has: ReplaceRoute for a destination whose
    /// target changed, CreateRoute for a new one, DeleteRoute for one the plan dropped (never the
    /// local or propagated routes). The tags by DeleteTags and CreateTags.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, t: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        let Some(table) = describe(ctx, id).await? else {
            return Err(AwsError::input("ReplaceRoute", format!("route table {id} is gone")));
        };
        if changed.iter().any(|c| c == "routes") {
            let made: Vec<&aws_sdk_ec2::types::Route> =
                table.routes().iter().filter(|r| r.origin() == Some(&RouteOrigin::CreateRoute)).collect();
            for r in &t.routes {
                let dest = r.destination_cidr_block.as_str();
                match made.iter().find(|m| m.destination_cidr_block() == Some(dest)) {
                    Some(m)
                        if m.gateway_id() == r.gateway_id.as_deref()
                            && m.nat_gateway_id() == r.nat_gateway_id.as_deref() => {}
                    Some(_) => {
                        let sent = ctx
                            .ec2
                            .replace_route()
                            .route_table_id(id)
                            .destination_cidr_block(dest)
                            .set_gateway_id(r.gateway_id.clone())
                            .set_nat_gateway_id(r.nat_gateway_id.clone())
                            .send()
                            .await;
                        sent.map_err(|e| sdk_err("ReplaceRoute", e))?;
                    }
                    None => create_route(ctx, id, r).await?,
                }
            }
            for m in made {
                let Some(dest) = m.destination_cidr_block() else { continue };
                if !t.routes.iter().any(|r| r.destination_cidr_block == dest) {
                    let sent = ctx.ec2.delete_route().route_table_id(id).destination_cidr_block(dest).send().await;
                    done_unless(sent.map_err(|e| sdk_err("DeleteRoute", e)), "InvalidRoute.NotFound")?;
                }
            }
        }
        if changed.iter().any(|c| c == "tags") {
            retag(ctx, id, &t.tags).await?;
        }
        let mut outputs = out.clone();
        outputs.insert("routes".into(), json!(t.routes));
        Ok(outputs)
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        ctx.ec2.delete_route_table().route_table_id(id).send().await.map_err(|e| sdk_err("DeleteRouteTable", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(describe(ctx, id).await?.is_none())
    }

    /// From the read run's one DescribeRouteTables (shared with the associations) when it has
    /// every item, else one describe of the items' IDs.
    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        let wanted: Vec<Option<&str>> = items.iter().map(|(id, _)| Some(*id)).collect();
        if let Some(tables) = run_route_tables(ctx, &wanted).await {
            return by_id(items, tables.map(|t| t.to_vec()), Described::route_table_id, live_of);
        }
        let filter = ids_filter("route-table-id", items);
        let pages = ctx.ec2.describe_route_tables().filters(filter).into_paginator().items();
        listed(items, "DescribeRouteTables", pages.send().collect().await, Described::route_table_id, live_of)
    }
}

/// What `create` returns: `ready` makes the routes from the outputs.
fn created(id: String, t: &Input) -> Created {
    Created { outputs: obj(json!({ "id": id, "vpc_id": t.vpc_id, "routes": t.routes })), id }
}

/// CreateRoute of one planned route; one that exists (made by an earlier run) is done.
async fn create_route(ctx: &Ctx, id: &str, r: &Route) -> Result<(), AwsError> {
    let made = ctx
        .ec2
        .create_route()
        .route_table_id(id)
        .destination_cidr_block(&r.destination_cidr_block)
        .set_gateway_id(r.gateway_id.clone())
        .set_nat_gateway_id(r.nat_gateway_id.clone())
        .send()
        .await;
    done_unless(made.map_err(|e| sdk_err("CreateRoute", e)), "RouteAlreadyExists")
}

async fn describe(ctx: &Ctx, id: &str) -> Result<Option<Described>, AwsError> {
    let r = ctx.ec2.describe_route_tables().route_table_ids(id).send().await;
    one(r.map(|r| r.route_tables).map_err(|e| sdk_err("DescribeRouteTables", e)))
}

/// What `read` (and `read_many`) report of a described route table: the routes made by
/// CreateRoute, in AWS's order: not the VPC's local route (made with the table), nor propagated
/// ones, nor those to a destination the schema cannot write (IPv6, prefix lists).
fn live_of(t: &Described, id: &str, out: &Outputs) -> Option<Live> {
    let routes: Vec<_> = t
        .routes()
        .iter()
        .filter(|r| r.origin() == Some(&RouteOrigin::CreateRoute) && r.destination_cidr_block().is_some())
        .map(|r| {
            json!({
                "destination_cidr_block": r.destination_cidr_block(),
                "gateway_id": r.gateway_id(),
                "nat_gateway_id": r.nat_gateway_id(),
            })
        })
        .collect();
    let props = json!({ "vpc_id": t.vpc_id(), "routes": routes });
    Some(live(props, Some(t.tags()), out, json!({ "id": id, "vpc_id": t.vpc_id() })))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::aws::Found;

    #[tokio::test]
    async fn route_table_is_adopted_read_back_and_deleted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let vpc = vpc(ctx, "10.0.0.0/16").await;
        let igw = make(ctx, "ec2:InternetGateway", &tagged(json!({"vpc_id": vpc.id}), "s-dev", "igw")).await;
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
        assert_reads_back(ctx, "ec2:RouteTable", &rt_p, &rt.id, &rt.outputs).await;

        // An update: the default route moves to another gateway, a new route appears, a tag.
        let igw2 = make(ctx, "ec2:InternetGateway", &tagged(json!({"vpc_id": vpc.id}), "s-dev", "igw2")).await;
        let mut changed = rt_p.clone();
        changed["routes"] = json!([
            {"destination_cidr_block": "0.0.0.0/0", "gateway_id": igw2.id},
            {"destination_cidr_block": "192.168.0.0/16", "gateway_id": igw.id},
        ]);
        changed["tags"]["Team"] = json!("net");
        let keys = ["routes".to_string(), "tags".to_string()];
        let out = crate::aws::update(
            ctx,
            "ec2:RouteTable",
            &rt.id,
            &rt.outputs,
            &mut crate::aws::testing::props(changed.clone()),
            &keys,
        )
        .await
        .expect("update");
        assert_reads_back(ctx, "ec2:RouteTable", &changed, &rt.id, &out).await;
        // And back: the extra route is deleted.
        let out = crate::aws::update(
            ctx,
            "ec2:RouteTable",
            &rt.id,
            &out,
            &mut crate::aws::testing::props(rt_p.clone()),
            &keys,
        )
        .await
        .expect("update back");
        assert_reads_back(ctx, "ec2:RouteTable", &rt_p, &rt.id, &out).await;
        let live = crate::aws::read(ctx, "ec2:RouteTable", &rt.id, &out).await.expect("read").expect("there");
        assert_eq!(live.props["routes"].as_array().map(Vec::len), Some(1), "{:?}", live.props["routes"]);
        assert_eq!(live.props["tags"].get("Team"), None);
        remove(ctx, "ec2:RouteTable", &rt_p, &rt).await;
        assert_reads_many_with(ctx, "ec2:RouteTable", rt, &[rt_p.clone(), rt_p.clone()]).await;
    }

    /// Another stack's route table, and one made by hand, are not found.
    #[tokio::test]
    async fn another_stacks_route_table_is_not_adopted() {
        let (_moto, ctx) = moto().await;
        let ctx = &ctx;
        let other_vpc = make(ctx, "ec2:Vpc", &tagged(json!({"cidr_block": "10.2.0.0/16"}), "s-other", "vpc")).await;
        let rt_p = |stack: &str| tagged(json!({"vpc_id": other_vpc.id}), stack, "rt");
        make(ctx, "ec2:RouteTable", &rt_p("s-other")).await;
        assert!(find(ctx, "ec2:RouteTable", &rt_p("s-dev")).await.is_none(), "route table");

        let r = ctx.ec2.create_vpc().cidr_block("10.3.0.0/16").send().await.expect("vpc");
        let vpc_id = r.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
        ctx.ec2.create_route_table().vpc_id(&vpc_id).send().await.expect("route table");
        let rt_p = tagged(json!({"vpc_id": vpc_id}), "s-dev", "rt");
        assert!(matches!(crate::aws::testing::find(ctx, "ec2:RouteTable", &rt_p).await, Found::Nothing));
    }
}
