//! `ec2:*` types: the VPC network of a stack (VPC, internet and NAT gateways, subnets, route
//! tables and their associations, flow logs, security groups).
//!
//! Each `create` makes only the call that brings the resource into being and returns at once,
//! so the engine records it before anything else can fail. The calls that configure it
//! afterwards (DNS attributes, the gateway attachment, `map_public_ip_on_launch`, routes,
//! ingress rules) are stashed in the outputs and made by `ready`; each tolerates the "already
//! done" answer ([`done_unless`]), so a wait that is run again after a crash does no harm.
//!
//! Most EC2 resources have no name: the VPC, internet gateway, elastic IP, NAT gateway and route
//! table are found by the `ironplan:stack` and `ironplan:resource` tags their create carried
//! (and their parent: the NAT gateway's subnet, the route table's VPC). The others by their
//! keys: subnet by VPC and CIDR block, security group by name and VPC, route table association
//! by route table and subnet, flow log by resource and destination. Every create carries the
//! identity tags (TagSpecifications), so whatever lacks them is not ours ([`Identity`]); an
//! association carries no tags and is ours only in a route table of this stack.
//!
//! No client tokens: EC2 remembers a token after the resource is deleted, so a deploy after a
//! teardown would be answered with the deleted NAT gateway or route table.

mod eip;
mod flow_log;
mod internet_gateway;
mod nat_gateway;
mod route_table;
pub(crate) mod route_table_association;
mod security_group;
mod subnet;
mod vpc;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use serde_json::Value;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::adapter::{Adapter, Item, Live, Read, Type, by_id};
use super::{AwsError, Identity, Outputs};
use crate::schema::{Attr, Kind, NameRule, Prop, RESOURCE_TAG, STACK_TAG, attr};

pub(super) const TYPES: &[&dyn Adapter] = &[
    &Type::<vpc::Vpc>::NEW,
    &Type::<internet_gateway::InternetGateway>::NEW,
    &Type::<subnet::Subnet>::NEW,
    &Type::<eip::Eip>::NEW,
    &Type::<nat_gateway::NatGateway>::NEW,
    &Type::<route_table::RouteTable>::NEW,
    &Type::<route_table_association::RouteTableAssociation>::NEW,
    &Type::<flow_log::FlowLog>::NEW,
    &Type::<security_group::SecurityGroup>::NEW,
];

/// CreateSecurityGroup's valid characters: a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*
const SG_CHARS: &str = "a-zA-Z0-9 ._:/()#,@[]+=&;{}!$*-";
pub const SECURITY_GROUP_NAME: NameRule =
    NameRule::new("security group name", "CreateSecurityGroup GroupName", 1, 255, SG_CHARS).reserved_prefixes(&["sg-"]);
pub const SECURITY_GROUP_DESCRIPTION: NameRule =
    NameRule::new("security group description", "CreateSecurityGroup GroupDescription", 0, 255, SG_CHARS);
pub const RULE_DESCRIPTION: NameRule =
    NameRule::new("security group rule description", "IpRange / UserIdGroupPair Description", 0, 255, SG_CHARS);

/// The `tags` property of every taggable EC2 type.
const TAGS: Prop = Prop::opt("tags", Kind::Tags, "tags, set through TagSpecifications on create");

const ID: Attr = attr("id", "the resource's EC2 ID");

/// Tags as EC2's TagSpecifications (none when there are no tags: AWS rejects an empty list).
fn tag_specs(resource_type: ResourceType, tags: &[(String, String)]) -> Option<Vec<TagSpecification>> {
    if tags.is_empty() {
        return None;
    }
    let tags = tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
    Some(vec![TagSpecification::builder().resource_type(resource_type).set_tags(Some(tags)).build()])
}

/// Sets an EC2 resource's tags to `tags`, as an update: DeleteTags for the keys it has
/// (DescribeTags) and the plan no longer gives (never AWS's own `aws:` tags), then CreateTags
/// (which overwrites). Every taggable EC2 type's update of `tags`.
async fn retag(ctx: &super::Ctx, id: &str, tags: &[(String, String)]) -> Result<(), AwsError> {
    let live = ctx.ec2.describe_tags().filters(filter("resource-id", id)).into_paginator().items().send();
    let live: Vec<_> = live.collect::<Result<_, _>>().await.map_err(|e| super::sdk_err("DescribeTags", e))?;
    let dropped: Vec<Tag> = live
        .iter()
        .filter_map(|t| t.key())
        .filter(|k| !k.starts_with("aws:") && !tags.iter().any(|(t, _)| t == k))
        .map(|k| Tag::builder().key(k).build())
        .collect();
    if !dropped.is_empty() {
        let r = ctx.ec2.delete_tags().resources(id).set_tags(Some(dropped)).send().await;
        r.map_err(|e| super::sdk_err("DeleteTags", e))?;
    }
    let tags: Vec<Tag> = tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
    let r = ctx.ec2.create_tags().resources(id).set_tags(Some(tags)).send().await;
    r.map_err(|e| super::sdk_err("CreateTags", e))?;
    Ok(())
}

/// `tag:` filters selecting resources with both of `who`'s identity tags.
fn identity_filters(who: &Identity) -> Vec<Filter> {
    vec![filter(&format!("tag:{STACK_TAG}"), &who.stack), filter(&format!("tag:{RESOURCE_TAG}"), &who.resource)]
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// How many resources one batched describe reads: AWS documents no maximum of filter values,
/// and 200 keeps a request small (and the answer one page in practice; the paginator takes the
/// rest).
const READ_BATCH: usize = 200;

/// The filter `name` (`subnet-id`, `group-id`...) on every item's ID, for a batched read. A
/// describe by filter lists what exists and leaves the rest out, where one by a list of IDs
/// fails whole for one missing ID (`Invalid*.NotFound`): what it does not list is gone.
fn ids_filter(name: &str, items: &[Item<'_>]) -> Filter {
    Filter::builder().name(name).set_values(Some(items.iter().map(|(id, _)| id.to_string()).collect())).build()
}

/// A batched read's answers ([`by_id`]) from the pages of an EC2 describe (`operation`).
fn listed<T, E>(
    items: &[Item<'_>],
    operation: &'static str,
    pages: Result<Vec<T>, SdkError<E, HttpResponse>>,
    id_of: impl Fn(&T) -> Option<&str>,
    live: impl Fn(&T, &str, &Outputs) -> Option<Live>,
) -> Vec<Read>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    by_id(items, pages.map_err(|e| super::sdk_err(operation, e)), id_of, live)
}

/// The route tables of a read run, for both route table types: those it reads and those its
/// associations are in (their `route_table_id` output), in one DescribeRouteTables (by
/// `route-table-id` filter, [`READ_BATCH`] IDs a call) made once in the run ([`Ctx::shared`]).
/// `None` unless the run reads every table `wanted` names (outside a read run, or an
/// association whose state has no `route_table_id`): the type then makes its own describe.
async fn run_route_tables(
    ctx: &super::Ctx,
    wanted: &[Option<&str>],
) -> Option<Result<std::sync::Arc<Vec<aws_sdk_ec2::types::RouteTable>>, AwsError>> {
    let cache = ctx.reads.as_ref()?;
    let tables = cache.run_of("ec2:RouteTable").map(|(id, _)| Some(id));
    let associated = cache.run_of("ec2:RouteTableAssociation").map(|(_, out)| out_id(out, "route_table_id"));
    let mut ids: Vec<&str> = tables.chain(associated).flatten().collect();
    ids.sort_unstable();
    ids.dedup();
    if !wanted.iter().all(|w| w.is_some_and(|w| ids.binary_search(&w).is_ok())) {
        return None;
    }
    let key = format!("DescribeRouteTables route-table-id={}", ids.join(","));
    Some(
        ctx.shared(key, || async {
            let mut all = Vec::new();
            for chunk in ids.chunks(READ_BATCH) {
                let f = Filter::builder()
                    .name("route-table-id")
                    .set_values(Some(chunk.iter().map(|s| s.to_string()).collect()));
                let pages = ctx.ec2.describe_route_tables().filters(f.build()).into_paginator().items().send();
                let got: Result<Vec<_>, _> = pages.collect().await;
                all.extend(got.map_err(|e| super::sdk_err("DescribeRouteTables", e))?);
            }
            Ok(std::sync::Arc::new(all))
        })
        .await,
    )
}

/// A string output, if the state has it.
fn out_id<'a>(out: &'a Outputs, key: &str) -> Option<&'a str> {
    out.get(key).and_then(Value::as_str)
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

/// `r`, with AWS's "it is not there" as `None`.
fn present<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The resource a describe by its ID answered: `None` when AWS lists nothing or says there is
/// no such ID (both mean gone).
fn one<T>(listed: Result<Option<Vec<T>>, AwsError>) -> Result<Option<T>, AwsError> {
    Ok(present(listed)?.flatten().and_then(|items| items.into_iter().next()))
}

/// A follow-up call's result, with AWS's answer `code` (it is already done: a `ready` run
/// again after a crash, a gateway already detached) counted as success.
fn done_unless<T>(r: Result<T, AwsError>, code: &str) -> Result<(), AwsError> {
    match r {
        Err(e) if e.code != code => Err(e),
        _ => Ok(()),
    }
}

/// What `read` saw: `props` in plan shape ([`plan_shape`]), with the tags as a table for a
/// taggable type, and the outputs `out` (as `ready` gave them) with `attrs` as AWS reports them.
fn live(props: Value, tags: Option<&[Tag]>, out: &Outputs, attrs: Value) -> Live {
    let mut props = obj(plan_shape(props));
    if let Some(tags) = tags {
        let table = pairs(tags).map(|(k, v)| (k.to_string(), Value::from(v))).collect();
        props.insert("tags".into(), Value::Object(table));
    }
    let mut outputs = out.clone();
    outputs.extend(obj(attrs));
    Live { props, outputs }
}

/// A value as a plan writes it: what AWS did not report (null) or reports as an empty list is
/// left out, at any depth.
fn plan_shape(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
                .map(|(k, v)| (k, plan_shape(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(plan_shape).collect()),
        v => v,
    }
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
    use serde_json::json;

    #[test]
    fn no_tags_means_no_tag_specifications() {
        assert!(tag_specs(ResourceType::Vpc, &[]).is_none());
        let specs = tag_specs(ResourceType::Vpc, &[("Name".into(), "x".into())]).expect("specs");
        assert_eq!(specs[0].tags()[0].key(), Some("Name"));
    }

    /// What AWS leaves unset is left out of what `read` reports, as a plan leaves it out.
    #[test]
    fn unset_values_are_left_out_at_any_depth() {
        let v = json!({"a": null, "b": [], "c": [{"d": null, "e": 1, "f": []}], "g": {}, "h": false});
        assert_eq!(plan_shape(v), json!({"c": [{"e": 1}], "g": {}, "h": false}));
    }
}

/// Helpers of the types' tests against moto: `find` with the props of a create finds what it
/// made (same ID, same outputs, so `ready` completes it), finds nothing once it is deleted,
/// and never takes what another stack tagged.
#[cfg(test)]
mod testing {
    pub(super) use crate::aws::testing::{assert_not_ours, tags};
    pub(super) use crate::emulator::Moto;
    pub(super) use serde_json::json;

    use super::obj;
    use crate::aws::{Created, Ctx, Outputs, Props, create, delete, read, wait_deleted, wait_ready};
    use serde_json::Value;

    pub(super) async fn moto() -> (Moto, Ctx) {
        let moto = Moto::start().expect("moto");
        let connect = moto.connect();
        let mut ctx = Ctx::new(&connect).await.expect("ctx");
        ctx.poll.initial = std::time::Duration::from_millis(50);
        (moto, ctx)
    }

    /// `props` with the identity tags of `resource` in stack `stack`.
    pub(super) fn tagged(props: Value, stack: &str, resource: &str) -> Value {
        let mut m = obj(props);
        m.insert("tags".into(), tags(stack, resource));
        Value::Object(m)
    }

    /// Creates and waits.
    pub(super) async fn make(ctx: &Ctx, ty: &str, props: &Value) -> Created {
        let c = create(ctx, ty, &mut Props::new(obj(props.clone()))).await.expect(ty);
        let outputs = wait_ready(ctx, ty, &c.id, &c.outputs).await.expect(ty);
        Created { id: c.id, outputs }
    }

    pub(super) async fn find(ctx: &Ctx, ty: &str, props: &Value) -> Option<Created> {
        crate::aws::testing::find(ctx, ty, props).await.ours()
    }

    /// Creates, adopts (and completes the adopted one with wait_ready), deletes, adopts again.
    /// Returns the created resource's outputs after its wait, for what depends on it.
    pub(super) async fn round_trip(ctx: &Ctx, ty: &str, props: &Value) -> Created {
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

    /// Deletes, waits, and checks that neither `find` nor `read` sees it any more.
    pub(super) async fn remove(ctx: &Ctx, ty: &str, props: &Value, c: &Created) {
        delete(ctx, ty, &c.id, &c.outputs).await.expect(ty);
        wait_deleted(ctx, ty, &c.id, &c.outputs).await.expect(ty);
        assert!(find(ctx, ty, props).await.is_none(), "{ty} adopted after its deletion");
        assert!(read(ctx, ty, &c.id, &c.outputs).await.expect(ty).is_none(), "{ty} read after its deletion");
    }

    /// `read` gives back what the plan said ([`crate::aws::testing::assert_reads_back`]), and
    /// every property the plan gave: the fixtures give each property AWS reports.
    pub(super) async fn assert_reads_back(ctx: &Ctx, ty: &str, planned: &Value, id: &str, outputs: &Outputs) {
        crate::aws::testing::assert_reads_back(ctx, ty, planned, id, outputs).await;
        let live = read(ctx, ty, id, outputs).await.expect(ty).expect(ty);
        let keys = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<std::collections::BTreeSet<_>>();
        assert_eq!(keys(&live.props), keys(&obj(planned.clone())), "{ty}: the properties read");
        assert_eq!(live.outputs, *outputs, "{ty}: the outputs read are those of wait_ready");
    }

    /// After `gone` was deleted: `read_many` of it among resources made from `others` answers
    /// what `read` answers of each ([`crate::aws::testing::assert_reads_many`]).
    pub(super) async fn assert_reads_many_with(ctx: &Ctx, ty: &str, gone: Created, others: &[Value]) {
        let mut made = Vec::new();
        for p in others {
            made.push(make(ctx, ty, p).await);
        }
        made.insert(made.len().min(1), gone);
        crate::aws::testing::assert_reads_many(ctx, ty, &made).await;
    }

    /// A VPC of stack `s-dev`, made and ready, for the types that live in one.
    pub(super) async fn vpc(ctx: &Ctx, cidr_block: &str) -> Created {
        make(ctx, "ec2:Vpc", &tagged(json!({ "cidr_block": cidr_block }), "s-dev", "vpc")).await
    }

    /// A subnet of stack `s-dev` in `vpc`, made and ready.
    pub(super) async fn subnet(ctx: &Ctx, vpc: &Created, cidr_block: &str) -> Created {
        make(ctx, "ec2:Subnet", &tagged(json!({"vpc_id": vpc.id, "cidr_block": cidr_block}), "s-dev", "public_a")).await
    }
}
