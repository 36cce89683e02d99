//! `apigateway:*` types: REST APIs (API Gateway v1) and the region's API Gateway account setting.
//!
//! A REST API is built from many small resources that AWS identifies by their parents
//! (`rest_api_id`, `resource_id`, `http_method`, `status_code`) rather than by an ID of their own,
//! so the implied rules match those properties across the plan: AWS answers 404 to an
//! integration response put before its integration, and refuses to deploy an API whose methods
//! have no integration.
//!
//! Every create is synchronous in AWS: the resource is usable once the call returns, so `ready`
//! only finishes what needs the resource to exist first (a stage's access logs, the account
//! setting). Methods, integrations and responses have no ID of their own; their outputs keep
//! `rest_api_id`, `resource_id`, `http_method` and `status_code` ([`MethodKey`]), which is all
//! reading and deleting them needs.
//!
//! Ownership: the API and its stages carry the identity tags; what lives inside an API carries
//! none and is ours only in an API of this stack ([`api_verdict`]); the account setting only
//! when it points at a role of this stack.
//!
//! Deletes are synchronous (the Delete call answers once the resource is gone, and a Get right
//! after answers 404; Terraform's provider has no deletion waiter for these either), so `gone`
//! is one `read`. On moto, gets of deleted sub-resources answer 500 or 200 (ARCHITECTURE.md):
//! what lives in a method is read from GetMethod's maps and deployments from GetDeployments,
//! which answer rightly on AWS and moto alike.

/// Every item of a paginated API Gateway listing `$req` (of operation `$op`); `None`: what
/// it lists in (the API) is gone.
macro_rules! listed {
    ($req:expr, $op:literal) => {
        crate::aws::apigateway::found(
            $req.limit(500)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| crate::aws::sdk_err($op, e)),
        )
    };
}

/// A method's [`MethodKey`] on an SDK request builder: every method-level call takes all three.
macro_rules! keyed {
    ($req:expr, $key:expr) => {
        $req.rest_api_id(&$key.rest_api_id).resource_id(&$key.resource_id).http_method(&$key.http_method)
    };
}

mod account;
mod deployment;
mod integration;
mod integration_response;
mod method;
mod method_response;
mod resource;
mod rest_api;
mod stage;

use std::collections::HashMap;

use aws_sdk_apigateway::operation::get_method::GetMethodOutput;
use aws_sdk_apigateway::types::{Method as ApiMethod, Op, PatchOperation};
use serde_json::{Map, Value, json};

use super::adapter::{Adapter, Item, Lifecycle, Live, Read, Type};
pub(super) use super::found;
use super::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, out_str, partition, sdk_err};
use crate::plan::Resource;
use crate::schema::{Form, Kind, NameRule, PlanView, Prop};

pub(super) const TYPES: &[&dyn Adapter] = &[
    &Type::<account::Account>::NEW,
    &Type::<rest_api::RestApi>::NEW,
    &Type::<resource::ApiResource>::NEW,
    &Type::<method::Method>::NEW,
    &Type::<integration::Integration>::NEW,
    &Type::<method_response::MethodResponse>::NEW,
    &Type::<integration_response::IntegrationResponse>::NEW,
    &Type::<deployment::Deployment>::NEW,
    &Type::<stage::Stage>::NEW,
];

/// The codes with which API Gateway says "it is not there".
const NOT_FOUND: &[&str] = &["NotFoundException"];

/// AWS documents no limit on a REST API's name: ironplan only refuses control and invisible
/// formatting characters (as in every name) and an empty one.
pub const REST_API_NAME: NameRule = NameRule::new("REST API name", "CreateRestApi name", 1, usize::MAX, "");
pub const STAGE_NAME: NameRule =
    NameRule::new("API Gateway stage name", "CreateStage stageName", 1, 128, "a-zA-Z0-9_-");
/// AWS's message: "Resource's path part only allow a-zA-Z0-9._- and curly braces at the
/// beginning and the end" (an optional `+` before the closing one); `:` is accepted too.
pub const PATH_PART: NameRule =
    NameRule::new("API Gateway path part", "CreateResource pathPart", 1, usize::MAX, "a-zA-Z0-9._:-")
        .form(Form::PathPart);

const REST_API_ID: Prop = Prop::req("rest_api_id", Kind::Str, "the REST API's ID");
const RESOURCE_ID: Prop = Prop::req("resource_id", Kind::Str, "the ID of the API resource (path) the method is on");
const HTTP_METHOD: Prop = Prop::req("http_method", Kind::Str, "the method's HTTP verb (GET, POST, ..., or ANY)");
const STATUS_CODE: Prop = Prop::req("status_code", Kind::Str, "the HTTP status code of the response (\"200\")");

const SAME_METHOD: &[(&str, &str)] =
    &[("rest_api_id", "rest_api_id"), ("resource_id", "resource_id"), ("http_method", "http_method")];

/// The implied rule of what AWS only accepts once its method exists.
fn wait_for_method(v: &PlanView<'_>, res: &Resource) -> Vec<String> {
    v.matching(res, method::SPEC.name, SAME_METHOD)
}

// ---- what lives in a method ----

/// What identifies a method (and, with a status code, its responses).
pub(super) struct MethodKey {
    rest_api_id: String,
    resource_id: String,
    http_method: String,
}

impl MethodKey {
    /// Reads `rest_api_id`, `resource_id`, `http_method` from the plan.
    fn input(p: &mut Props) -> Result<Self, AwsError> {
        Ok(MethodKey {
            rest_api_id: p.str("rest_api_id")?,
            resource_id: p.str("resource_id")?,
            http_method: p.str("http_method")?,
        })
    }

    /// The key a create stored in the outputs.
    fn from_outputs(out: &Outputs, op: &'static str) -> Result<Self, AwsError> {
        Ok(MethodKey {
            rest_api_id: out_str(out, "rest_api_id", op)?.into(),
            resource_id: out_str(out, "resource_id", op)?.into(),
            http_method: out_str(out, "http_method", op)?.into(),
        })
    }

    /// What a create of a method-level resource returns: its ID (the key, then `parts`), and
    /// outputs that keep the key (and the status code of a response) for reading and deleting.
    fn created(&self, parts: &[&str], status_code: Option<&str>) -> Created {
        let MethodKey { rest_api_id, resource_id, http_method } = self;
        let mut id = format!("{rest_api_id}/{resource_id}/{http_method}");
        for part in parts {
            id.push('/');
            id.push_str(part);
        }
        let mut outputs = outputs([
            ("id", &id),
            ("rest_api_id", rest_api_id),
            ("resource_id", resource_id),
            ("http_method", http_method),
        ]);
        if let Some(code) = status_code {
            outputs.insert("status_code".into(), json!(code));
        }
        Created { id, outputs }
    }
}

/// The method with its integration and responses (`None`: the method, its resource or its API
/// is gone). The response maps of GetMethod answer for the responses and the integration too:
/// moto answers 500 to GetMethodResponse of a missing response and 200 to GetIntegration of a
/// deleted integration.
async fn get_method(ctx: &Ctx, key: &MethodKey) -> Result<Option<ApiMethod>, AwsError> {
    let r = found(keyed!(ctx.apigateway.get_method(), key).send().await.map_err(|e| sdk_err("GetMethod", e)))?;
    Ok(r.map(method_of))
}

/// GetMethod's answer as the method GetResources embeds: one shape for the single and the
/// batched read.
fn method_of(m: GetMethodOutput) -> ApiMethod {
    ApiMethod::builder()
        .set_http_method(m.http_method)
        .set_authorization_type(m.authorization_type)
        .set_authorizer_id(m.authorizer_id)
        .set_api_key_required(m.api_key_required)
        .set_request_validator_id(m.request_validator_id)
        .set_operation_name(m.operation_name)
        .set_request_parameters(m.request_parameters)
        .set_request_models(m.request_models)
        .set_method_responses(m.method_responses)
        .set_method_integration(m.method_integration)
        .set_authorization_scopes(m.authorization_scopes)
        .build()
}

/// `find` of what lives in a method: there when `present` sees it in GetMethod's answer, and
/// ours when the API is this stack's.
async fn find_in_method(
    ctx: &Ctx,
    who: &Identity,
    key: &MethodKey,
    created: Created,
    present: impl FnOnce(&ApiMethod) -> bool,
) -> Result<Found, AwsError> {
    match get_method(ctx, key).await? {
        Some(m) if present(&m) => api_verdict(ctx, who, &key.rest_api_id, created).await,
        _ => Ok(Found::Nothing),
    }
}

/// `read` of what lives in a method, from GetMethod's answer: `live` adds the properties it
/// finds there to the key's, or answers false when it is not there.
async fn read_in_method(
    ctx: &Ctx,
    out: &Outputs,
    live: impl Fn(&ApiMethod, &mut Map<String, Value>) -> bool,
) -> Result<Option<Live>, AwsError> {
    let key = MethodKey::from_outputs(out, "GetMethod")?;
    let Some(m) = get_method(ctx, &key).await? else { return Ok(None) };
    Ok(live_in_method(&key, out, &m, &live))
}

/// [`read_many_in_method`] of a method's responses (method or integration): `live` of each
/// item's own status code, which its outputs (in `props` already) hold.
async fn read_many_by_status(
    ctx: &Ctx,
    items: &[Item<'_>],
    live: impl Fn(&str, &ApiMethod, &mut Map<String, Value>) -> bool,
) -> Vec<Read> {
    read_many_in_method(ctx, items, |m, props| {
        let Some(code) = props.get("status_code").and_then(Value::as_str).map(str::to_owned) else { return false };
        live(&code, m, props)
    })
    .await
}

/// [`read_in_method`] of each item, from one GetResources (methods embedded) per API, shared by
/// every type that lives in a method during a read run ([`Ctx::for_reads`]).
async fn read_many_in_method(
    ctx: &Ctx,
    items: &[Item<'_>],
    live: impl Fn(&ApiMethod, &mut Map<String, Value>) -> bool,
) -> Vec<Read> {
    let run = ctx.in_read_run();
    let ctx = run.as_ref();
    let mut answers = Vec::with_capacity(items.len());
    for (_, out) in items {
        answers.push(
            async {
                let key = MethodKey::from_outputs(out, "GetResources")?;
                let Some(resources) = resources_with_methods(ctx, &key.rest_api_id).await? else { return Ok(None) };
                let m = resources
                    .iter()
                    .find(|r| r.id() == Some(key.resource_id.as_str()))
                    .and_then(|r| r.resource_methods()?.get(&key.http_method));
                Ok(m.and_then(|m| live_in_method(&key, out, m, &live)))
            }
            .await,
        );
    }
    answers
}

/// The one conversion of a method's answer into the live properties of what lives in it:
/// `None` when `live` does not find it there.
fn live_in_method(
    key: &MethodKey,
    out: &Outputs,
    m: &ApiMethod,
    live: &impl Fn(&ApiMethod, &mut Map<String, Value>) -> bool,
) -> Option<Live> {
    let mut props = Map::new();
    props.insert("rest_api_id".into(), json!(key.rest_api_id));
    props.insert("resource_id".into(), json!(key.resource_id));
    props.insert("http_method".into(), json!(key.http_method));
    if let Some(code) = out.get("status_code") {
        props.insert("status_code".into(), code.clone());
    }
    live(m, &mut props).then(|| Live { props, outputs: out.clone() })
}

/// How many method-level resources one `read_many` takes: any number, as each API's
/// GetResources is made once in a read run whatever asks for it.
const IN_API_BATCH: usize = 100;

/// Every resource of an API with its methods embedded (`embed=methods`: each method with its
/// integration, integration responses and method responses), made once per API in a read run
/// ([`Ctx::shared`]); `None`: the API is gone.
async fn resources_with_methods(
    ctx: &Ctx,
    rest_api_id: &str,
) -> Result<Option<Vec<aws_sdk_apigateway::types::Resource>>, AwsError> {
    ctx.shared(format!("GetResources restApiId={rest_api_id} embed=methods"), || async {
        listed!(ctx.apigateway.get_resources().rest_api_id(rest_api_id).embed("methods"), "GetResources")
    })
    .await
}

// ---- helpers of every type ----

/// What lives inside an API carries no tags: it is ours when the API is this stack's.
async fn api_verdict(ctx: &Ctx, who: &Identity, rest_api_id: &str, created: Created) -> Result<Found, AwsError> {
    let r = ctx.apigateway.get_rest_api().rest_api_id(rest_api_id).send().await.map_err(|e| sdk_err("GetRestApi", e));
    let Some(api) = found(r)? else { return Ok(Found::Nothing) };
    Ok(who.claim_by_parent(created, &format!("REST API `{rest_api_id}`"), pairs(api.tags())))
}

/// The resources of an API (`None`: the API is gone).
async fn api_resources(
    ctx: &Ctx,
    rest_api_id: &str,
) -> Result<Option<Vec<aws_sdk_apigateway::types::Resource>>, AwsError> {
    listed!(ctx.apigateway.get_resources().rest_api_id(rest_api_id), "GetResources")
}

/// True once `read` of the resource finds nothing: API Gateway deletes synchronously.
async fn gone_unless_read<T: Lifecycle>(ctx: &Ctx, id: &str, out: &Outputs) -> Result<bool, AwsError> {
    Ok(T::read(ctx, id, out).await?.is_none())
}

/// Tags as pairs, for the ownership guard.
fn pairs(tags: Option<&HashMap<String, String>>) -> impl Iterator<Item = (&str, &str)> {
    tags.into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// A table AWS reported, in plan shape; an empty (or absent) one is left out, as a create does
/// not send one.
fn table(m: Option<&HashMap<String, String>>) -> Option<Value> {
    m.filter(|m| !m.is_empty()).map(|m| json!(m))
}

fn replace(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder().op(Op::Replace).path(path).value(value).build()
}

/// A key as one segment of a patch path (a JSON Pointer, RFC 6901): `~` as `~0`, `/` as `~1`,
/// as API Gateway's PatchOperation documents (`/responseModels/application~1json`).
fn pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The patch operations that take the table AWS has under `root` (`/responseModels`) to the
/// plan's: `add` for a key it lacks, `replace` for another value, `remove` for a key the plan
/// dropped; in key order, and none when they already match (a resumed update's work is done).
fn table_ops(root: &str, live: Option<&HashMap<String, String>>, want: &[(String, String)]) -> Vec<PatchOperation> {
    let live: std::collections::BTreeMap<&str, &str> =
        live.into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let want: std::collections::BTreeMap<&str, &str> = want.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let path = |k: &str| format!("{root}/{}", pointer(k));
    let mut ops = Vec::new();
    for (k, v) in &want {
        match live.get(k) {
            None => ops.push(PatchOperation::builder().op(Op::Add).path(path(k)).value(*v).build()),
            Some(old) if old != v => ops.push(replace(&path(k), v)),
            Some(_) => {}
        }
    }
    for k in live.keys().filter(|k| !want.contains_key(*k)) {
        ops.push(PatchOperation::builder().op(Op::Remove).path(path(k)).build());
    }
    ops
}

/// Sets the tags of the API Gateway resource `arn` (a REST API, a stage) from `live`, what AWS
/// has now, to `want`: UntagResource for the keys the plan dropped (never AWS's own `aws:`
/// tags), TagResource for the keys it lacks or has with another value. Only what differs is
/// sent, so a resumed update sends nothing the dead run already did. Every API Gateway type's
/// update of `tags`.
async fn retag(
    ctx: &Ctx,
    arn: &str,
    live: Option<&HashMap<String, String>>,
    want: &[(String, String)],
) -> Result<(), AwsError> {
    let live = live.cloned().unwrap_or_default();
    let mut dropped: Vec<String> =
        live.keys().filter(|k| !k.starts_with("aws:") && !want.iter().any(|(w, _)| w == *k)).cloned().collect();
    dropped.sort();
    if !dropped.is_empty() {
        let req = ctx.apigateway.untag_resource().resource_arn(arn).set_tag_keys(Some(dropped));
        req.send().await.map_err(|e| sdk_err("UntagResource", e))?;
    }
    let changed: Vec<(String, String)> = want.iter().filter(|(k, v)| live.get(k) != Some(v)).cloned().collect();
    if !changed.is_empty() {
        let req = ctx.apigateway.tag_resource().resource_arn(arn).set_tags(str_map(changed));
        req.send().await.map_err(|e| sdk_err("TagResource", e))?;
    }
    Ok(())
}

/// A table for the SDK; an empty table is not sent.
fn str_map(pairs: Vec<(String, String)>) -> Option<HashMap<String, String>> {
    if pairs.is_empty() { None } else { Some(pairs.into_iter().collect()) }
}

fn outputs<const N: usize>(pairs: [(&str, &str); N]) -> Outputs {
    pairs.into_iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect()
}

fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" }
}

#[cfg(test)]
pub(super) mod tests {
    //! Helpers of the types' tests against moto, the tests of what lives in an API together,
    //! and of the implied rules.

    use serde_json::{Value, json};

    use crate::aws::testing::{assert_not_ours, assert_reads_back, find};
    use crate::aws::{Created, Ctx, Live, Outputs};
    use crate::emulator::Moto;
    use crate::plan::Plan;
    use crate::schema::implied_of as implied;

    pub(super) async fn start() -> (Moto, Ctx) {
        let moto = Moto::start().expect("moto");
        let ctx = crate::aws::testing::ctx(&moto).await;
        (moto, ctx)
    }

    pub(super) async fn create(ctx: &Ctx, ty: &str, v: &Value) -> Created {
        let mut props = crate::aws::testing::props(v.clone());
        crate::aws::create(ctx, ty, &mut props).await.unwrap_or_else(|e| panic!("create {ty}: {e}"))
    }

    pub(super) async fn ready(ctx: &Ctx, ty: &str, c: &Created) -> Outputs {
        crate::aws::wait_ready(ctx, ty, &c.id, &c.outputs).await.unwrap_or_else(|e| panic!("wait_ready {ty}: {e}"))
    }

    pub(super) async fn adopt(ctx: &Ctx, ty: &str, v: &Value) -> Option<Created> {
        find(ctx, ty, v).await.ours()
    }

    /// Adopting finds exactly what create returned.
    pub(super) async fn adopts_as_created(ctx: &Ctx, ty: &str, v: &Value, created: &Created) {
        let a = adopt(ctx, ty, v).await.unwrap_or_else(|| panic!("{ty} not adopted"));
        assert_eq!(a.id, created.id, "{ty}");
        assert_eq!(a.outputs, created.outputs, "{ty}");
    }

    pub(super) async fn delete(ctx: &Ctx, ty: &str, c: &Created) {
        crate::aws::delete(ctx, ty, &c.id, &c.outputs).await.unwrap_or_else(|e| panic!("delete {ty}: {e}"));
        crate::aws::wait_deleted(ctx, ty, &c.id, &c.outputs).await.unwrap();
    }

    pub(super) fn tags(stack: &str, resource: &str) -> Value {
        crate::aws::testing::tags(stack, resource)
    }

    pub(super) use crate::aws::testing::wired;

    /// Updates `id` to `planned` (the properties `changed`), panicking on an error.
    pub(super) async fn update(ctx: &Ctx, ty: &str, c: &Created, planned: &Value, changed: &[&str]) -> Outputs {
        let changed: Vec<String> = changed.iter().map(|c| c.to_string()).collect();
        let mut props = crate::aws::testing::props(planned.clone());
        crate::aws::update(ctx, ty, &c.id, &c.outputs, &mut props, &changed)
            .await
            .unwrap_or_else(|e| panic!("update {ty} ({}): {e}", changed.join(", ")))
    }

    /// The JSON body of a request the wire recorded.
    pub(super) fn body(sent: &crate::aws::testing::Sent) -> Value {
        serde_json::from_str(&sent.body).unwrap_or_else(|e| panic!("{} body is not JSON ({e}): {}", sent.op, sent.body))
    }

    pub(super) fn s(c: &Created, key: &str) -> String {
        c.outputs[key].as_str().unwrap().to_string()
    }

    /// Creates `v`, waits until it is ready, asserts that it reads back as planned, deletes it
    /// and asserts that it then reads as gone; returns what the read saw.
    pub(super) async fn reads_back(ctx: &Ctx, ty: &str, v: &Value) -> Live {
        let created = create(ctx, ty, v).await;
        let out = ready(ctx, ty, &created).await;
        assert_reads_back(ctx, ty, v, &created.id, &out).await;
        let live = crate::aws::read(ctx, ty, &created.id, &out).await.expect("read").expect("there");
        delete(ctx, ty, &created).await;
        let after = crate::aws::read(ctx, ty, &created.id, &out).await.expect("read");
        assert!(after.is_none(), "{ty} reads as gone once deleted: {after:?}");
        live
    }

    /// A tagged API with a resource `/p`: the key of its GET method (not made).
    pub(super) async fn api_with_resource(ctx: &Ctx) -> Value {
        let api = create(ctx, "apigateway:RestApi", &json!({"name": "a", "tags": tags("s-dev", "api")})).await;
        let res_v = json!({"rest_api_id": api.id, "parent_id": s(&api, "root_resource_id"), "path_part": "p"});
        let res = create(ctx, "apigateway:Resource", &res_v).await;
        json!({"rest_api_id": api.id, "resource_id": res.id, "http_method": "GET"})
    }

    /// As [`api_with_resource`], with the GET method made.
    pub(super) async fn method(ctx: &Ctx) -> Value {
        let key = api_with_resource(ctx).await;
        let mut v = key.clone();
        v["authorization_type"] = json!("NONE");
        create(ctx, "apigateway:Method", &v).await;
        key
    }

    /// An API that can be deployed (a method with a mock integration): its ID.
    pub(super) async fn integrated_api(ctx: &Ctx) -> String {
        let key = method(ctx).await;
        let mut integration = key.clone();
        integration["integration_type"] = json!("MOCK");
        create(ctx, "apigateway:Integration", &integration).await;
        key["rest_api_id"].as_str().expect("id").to_string()
    }

    #[tokio::test]
    async fn resource_method_integration_and_responses() {
        let (_moto, ctx) = start().await;
        let api = create(&ctx, "apigateway:RestApi", &json!({"name": "a", "tags": tags("s-dev", "api")})).await;
        let api_id = api.id.clone();
        let res_v = json!({"rest_api_id": api_id, "parent_id": s(&api, "root_resource_id"), "path_part": "patients"});
        assert!(adopt(&ctx, "apigateway:Resource", &res_v).await.is_none());
        let res = create(&ctx, "apigateway:Resource", &res_v).await;
        adopts_as_created(&ctx, "apigateway:Resource", &res_v, &res).await;

        let key = json!({"rest_api_id": api_id, "resource_id": res.id, "http_method": "GET"});
        let with = |extra: Value| {
            let mut v = key.clone();
            v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            v
        };
        let types_and_props = [
            ("apigateway:Method", with(json!({"authorization_type": "NONE", "api_key_required": false}))),
            (
                "apigateway:Integration",
                with(
                    json!({"integration_type": "MOCK", "request_templates": {"application/json": "{\"statusCode\": 200}"}}),
                ),
            ),
            (
                "apigateway:MethodResponse",
                with(json!({"status_code": "200", "response_models": {"application/json": "Empty"}})),
            ),
            ("apigateway:IntegrationResponse", with(json!({"status_code": "200", "selection_pattern": ""}))),
        ];
        let mut made = Vec::new();
        for (ty, v) in &types_and_props {
            assert!(adopt(&ctx, ty, v).await.is_none(), "{ty} before create");
            made.push(create(&ctx, ty, v).await);
        }
        for ((ty, v), c) in types_and_props.iter().zip(&made) {
            adopts_as_created(&ctx, ty, v, c).await;
        }
        // A response of another status code is not adopted.
        let other = with(json!({"status_code": "500"}));
        assert!(adopt(&ctx, "apigateway:MethodResponse", &other).await.is_none());
        assert!(adopt(&ctx, "apigateway:IntegrationResponse", &other).await.is_none());
        // Children first, as teardown does; each is gone once deleted.
        for ((ty, v), c) in types_and_props.iter().zip(&made).rev() {
            delete(&ctx, ty, c).await;
            assert!(adopt(&ctx, ty, v).await.is_none(), "{ty} after delete");
        }
        delete(&ctx, "apigateway:Resource", &res).await;
        assert!(adopt(&ctx, "apigateway:Resource", &res_v).await.is_none());
        // The same children in an API made outside ironplan (no tags) or by another stack:
        // they carry no tags of their own, and their API is not this stack's.
        for (api_tags, why) in [(json!({}), "has no `ironplan:stack` tag"), (tags("s-other", "api"), "stack `s-other`")]
        {
            let foreign = create(&ctx, "apigateway:RestApi", &json!({"name": "a", "tags": api_tags})).await;
            let res_v =
                json!({"rest_api_id": foreign.id, "parent_id": s(&foreign, "root_resource_id"), "path_part": "p"});
            create(&ctx, "apigateway:Resource", &res_v).await;
            assert_not_ours(&find(&ctx, "apigateway:Resource", &res_v).await, why);
            let key = json!({"rest_api_id": foreign.id, "resource_id": s(&foreign, "root_resource_id"),
                "http_method": "GET", "authorization_type": "NONE"});
            create(&ctx, "apigateway:Method", &key).await;
            assert_not_ours(&find(&ctx, "apigateway:Method", &key).await, why);
            let deployment = json!({"rest_api_id": foreign.id});
            let mut integration = key.clone();
            integration["integration_type"] = json!("MOCK");
            integration.as_object_mut().unwrap().remove("authorization_type");
            create(&ctx, "apigateway:Integration", &integration).await;
            assert_not_ours(&find(&ctx, "apigateway:Integration", &integration).await, why);
            create(&ctx, "apigateway:Deployment", &deployment).await;
            assert_not_ours(&find(&ctx, "apigateway:Deployment", &deployment).await, why);
        }
        // The API gone: its children are not found either.
        delete(&ctx, "apigateway:RestApi", &api).await;
        assert!(adopt(&ctx, "apigateway:Resource", &res_v).await.is_none());
        assert!(adopt(&ctx, "apigateway:Method", &types_and_props[0].1).await.is_none());
    }

    /// What lives in an API read in one batch per type (one live, one deleted since) answers what
    /// each single read does; in a read run, the five types share one GetResources of the API.
    #[tokio::test]
    async fn batched_reads_of_what_lives_in_an_api_agree_with_single_reads() {
        let (_moto, ctx) = start().await;
        let api = create(&ctx, "apigateway:RestApi", &json!({"name": "a", "tags": tags("s-dev", "api")})).await;
        let root = s(&api, "root_resource_id");
        let children = |res: &str, part: &str| {
            let key = json!({"rest_api_id": api.id, "resource_id": res, "http_method": "GET"});
            let with = |extra: Value| {
                let mut v = key.clone();
                v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
                v
            };
            [
                ("apigateway:Method", with(json!({"authorization_type": "NONE", "api_key_required": false}))),
                (
                    "apigateway:Integration",
                    with(json!({"integration_type": "MOCK", "request_templates": {"application/json": part}})),
                ),
                (
                    "apigateway:MethodResponse",
                    with(json!({"status_code": "200", "response_models": {"application/json": "Empty"}})),
                ),
                ("apigateway:IntegrationResponse", with(json!({"status_code": "200", "selection_pattern": part}))),
            ]
        };
        let mut made: Vec<(String, Vec<Created>)> = Vec::new();
        let mut kept = Vec::new();
        for part in ["kept", "gone"] {
            let res_v = json!({"rest_api_id": api.id, "parent_id": root, "path_part": part});
            let res = create(&ctx, "apigateway:Resource", &res_v).await;
            let mine = children(&res.id, part);
            let mut created = vec![("apigateway:Resource".to_string(), res)];
            for (ty, v) in &mine {
                created.push((ty.to_string(), create(&ctx, ty, v).await));
            }
            if part == "gone" {
                // Children first, as teardown does, then the resource.
                for (ty, c) in created.iter().rev() {
                    delete(&ctx, ty, c).await;
                }
            }
            kept.push(created);
        }
        for ((ty, live), (_, gone)) in kept[0].iter().zip(&kept[1]) {
            made.push((ty.clone(), vec![live.clone(), gone.clone()]));
        }
        // Without a read run (every call made), then in one (the answer shared).
        let run = ctx.for_reads();
        for c in [&ctx, &run] {
            for (ty, items) in &made {
                crate::aws::testing::assert_reads_many(c, ty, items).await;
            }
        }
        let cache = run.reads.as_ref().expect("a read run has its cache");
        assert_eq!(cache.calls(), 1, "one GetResources of the API for the five types");
        assert!(ctx.reads.is_none(), "the deploy's context shares nothing");
        // Drift is seen through the shared answer: a read run started after a change sees it.
        let ir = &made[4].1[0];
        ctx.apigateway
            .put_integration_response()
            .rest_api_id(&api.id)
            .resource_id(s(ir, "resource_id"))
            .http_method("GET")
            .status_code("200")
            .selection_pattern("changed")
            .send()
            .await
            .expect("put integration response");
        let items = [(ir.id.as_str(), &ir.outputs)];
        let after = crate::aws::read_many(&ctx.for_reads(), "apigateway:IntegrationResponse", &items).await;
        let live = after.into_iter().next().expect("an answer").expect("read").expect("there");
        assert_eq!(live.props["selection_pattern"], json!("changed"));
    }

    /// A method's authorization, its integration's backend and a stage moved to a new
    /// deployment with new settings and tags: each changed in place and read back so.
    #[tokio::test]
    async fn method_integration_and_stage_update_in_place() {
        let (_moto, ctx) = start().await;
        let key = method(&ctx).await;
        let api_id = key["rest_api_id"].as_str().expect("id").to_string();
        let update =
            |ty: &'static str, id: String, out: crate::aws::Outputs, v: Value, keys: &'static [&'static str]| {
                let ctx = &ctx;
                async move {
                    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
                    let out = crate::aws::update(ctx, ty, &id, &out, &mut crate::aws::testing::props(v.clone()), &keys)
                        .await
                        .unwrap_or_else(|e| panic!("update {ty}: {e}"));
                    assert_reads_back(ctx, ty, &v, &id, &out).await;
                    out
                }
            };
        let mut m = key.clone();
        m["authorization_type"] = json!("NONE");
        let mc = create(&ctx, "apigateway:Method", &m).await;
        m["authorization_type"] = json!("AWS_IAM");
        m["api_key_required"] = json!(true);
        update("apigateway:Method", mc.id.clone(), mc.outputs.clone(), m, &["authorization_type", "api_key_required"])
            .await;

        let mut i = key.clone();
        i["integration_type"] = json!("HTTP");
        i["integration_http_method"] = json!("GET");
        i["uri"] = json!("https://example.com/a");
        let ic = create(&ctx, "apigateway:Integration", &i).await;
        i["uri"] = json!("https://example.com/b");
        update("apigateway:Integration", ic.id.clone(), ic.outputs.clone(), i, &["uri"]).await;

        let d1 = create(&ctx, "apigateway:Deployment", &json!({"rest_api_id": api_id})).await;
        let d2 = create(&ctx, "apigateway:Deployment", &json!({"rest_api_id": api_id, "description": "v2"})).await;
        let mut st = json!({"rest_api_id": api_id, "stage_name": "prod", "deployment_id": d1.id,
                            "tracing_enabled": false, "tags": tags("s-dev", "stage")});
        let sc = create(&ctx, "apigateway:Stage", &st).await;
        let out = ready(&ctx, "apigateway:Stage", &sc).await;
        st["deployment_id"] = json!(d2.id);
        st["tracing_enabled"] = json!(true);
        st["description"] = json!("moved");
        st["tags"]["Team"] = json!("api");
        let out = update(
            "apigateway:Stage",
            sc.id.clone(),
            out,
            st.clone(),
            &["deployment_id", "tracing_enabled", "description", "tags"],
        )
        .await;
        // A tag the plan drops is untagged (the shared `retag`), and reads back gone.
        st["tags"].as_object_mut().expect("tags").remove("Team");
        update("apigateway:Stage", sc.id.clone(), out, st, &["tags"]).await;
    }

    #[tokio::test]
    async fn deployment_and_stage() {
        let (_moto, ctx) = start().await;
        let api = create(&ctx, "apigateway:RestApi", &json!({"name": "a", "tags": tags("s-dev", "api")})).await;
        let api_id = api.id.clone();
        let key = json!({"rest_api_id": api_id, "resource_id": s(&api, "root_resource_id"), "http_method": "GET"});
        let mut method = key.clone();
        method["authorization_type"] = json!("NONE");
        create(&ctx, "apigateway:Method", &method).await;
        let mut integration = key.clone();
        integration["integration_type"] = json!("MOCK");
        create(&ctx, "apigateway:Integration", &integration).await;

        const DEP: &str = "apigateway:Deployment";
        let v1 = json!({"rest_api_id": api_id, "description": "v1"});
        let plain = json!({"rest_api_id": api_id});
        assert!(adopt(&ctx, DEP, &v1).await.is_none());
        let d1 = create(&ctx, DEP, &v1).await;
        // Only a deployment with another description: not the one a plain create made.
        assert!(adopt(&ctx, DEP, &plain).await.is_none());
        let d0 = create(&ctx, DEP, &plain).await;
        adopts_as_created(&ctx, DEP, &v1, &d1).await;
        adopts_as_created(&ctx, DEP, &plain, &d0).await;

        const STAGE: &str = "apigateway:Stage";
        let stage = json!({
            "rest_api_id": api_id, "stage_name": "prod", "deployment_id": d1.id, "tracing_enabled": false,
            "access_log_settings": {"destination_arn": "arn:aws:logs:us-east-1:123456789012:log-group:l", "format": "$context.requestId"},
            "tags": tags("s-dev", "stage"),
        });
        assert!(adopt(&ctx, STAGE, &stage).await.is_none());
        let st = create(&ctx, STAGE, &stage).await;
        adopts_as_created(&ctx, STAGE, &stage, &st).await;
        // A stage another stack tagged as its own, or one made outside ironplan, is not adopted.
        let mut theirs = stage.clone();
        theirs["stage_name"] = json!("other");
        theirs["tags"] = tags("s-other", "stage");
        create(&ctx, STAGE, &theirs).await;
        theirs["tags"] = tags("s-dev", "stage");
        assert_not_ours(&find(&ctx, STAGE, &theirs).await, "stack `s-other`");
        let mut untagged = stage.clone();
        untagged["stage_name"] = json!("manual");
        untagged.as_object_mut().unwrap().remove("tags");
        create(&ctx, STAGE, &untagged).await;
        untagged["tags"] = tags("s-dev", "stage");
        assert_not_ours(&find(&ctx, STAGE, &untagged).await, "has no `ironplan:stack` tag");

        delete(&ctx, STAGE, &st).await;
        assert!(adopt(&ctx, STAGE, &stage).await.is_none());
        delete(&ctx, DEP, &d0).await;
        assert!(adopt(&ctx, DEP, &plain).await.is_none());
        adopts_as_created(&ctx, DEP, &v1, &d1).await;
        delete(&ctx, "apigateway:RestApi", &api).await;
        assert!(adopt(&ctx, DEP, &v1).await.is_none());
        assert!(adopt(&ctx, STAGE, &stage).await.is_none());
    }

    // api <- patients <- get <- {mock, ok} <- mock_ok ; deployment after all of them
    const PLAN: &str = r#"
[plan]
name = "t"

[resources.acct]
type = "apigateway:Account"
cloudwatch_role_arn = "arn:aws:iam::1:role/r"

[resources.api]
type = "apigateway:RestApi"
name = "a"

[resources.patients]
type = "apigateway:Resource"
rest_api_id = "${api.id}"
parent_id = "${api.root_resource_id}"
path_part = "patients"

[resources.get]
type = "apigateway:Method"
rest_api_id = "${api.id}"
resource_id = "${patients.id}"
http_method = "GET"
authorization_type = "AWS_IAM"

[resources.post]
type = "apigateway:Method"
rest_api_id = "${api.id}"
resource_id = "${patients.id}"
http_method = "POST"
authorization_type = "AWS_IAM"

[resources.mock]
type = "apigateway:Integration"
rest_api_id = "${api.id}"
resource_id = "${patients.id}"
http_method = "${get.http_method}"
integration_type = "MOCK"

[resources.ok]
type = "apigateway:MethodResponse"
rest_api_id = "${api.id}"
resource_id = "${patients.id}"
http_method = "GET"
status_code = "200"

[resources.mock_ok]
type = "apigateway:IntegrationResponse"
rest_api_id = "${api.id}"
resource_id = "${patients.id}"
http_method = "${get.http_method}"
status_code = "200"

[resources.dep]
type = "apigateway:Deployment"
rest_api_id = "${api.id}"

[resources.prod]
type = "apigateway:Stage"
rest_api_id = "${api.id}"
stage_name = "prod"
deployment_id = "${dep.id}"
access_log_settings = { destination_arn = "arn", format = "$context.requestId" }

[resources.test]
type = "apigateway:Stage"
rest_api_id = "${api.id}"
stage_name = "test"
deployment_id = "${dep.id}"
"#;

    #[test]
    fn integration_response_waits_for_its_integration_and_method_response() {
        let plan = Plan::parse(std::path::Path::new("t.toml"), PLAN).expect("plan");
        assert_eq!(implied(&plan, "mock_ok"), ["mock", "ok"]);
        assert_eq!(implied(&plan, "mock"), ["get"]);
        assert_eq!(implied(&plan, "ok"), ["get"]);
    }

    #[test]
    fn deployment_waits_for_every_path_method_and_response_of_its_api() {
        let plan = Plan::parse(std::path::Path::new("t.toml"), PLAN).expect("plan");
        assert_eq!(implied(&plan, "dep"), ["get", "mock", "mock_ok", "ok", "patients", "post"]);
    }

    #[test]
    fn only_a_logging_stage_waits_for_the_account() {
        let plan = Plan::parse(std::path::Path::new("t.toml"), PLAN).expect("plan");
        assert_eq!(implied(&plan, "prod"), ["acct"]);
        assert!(implied(&plan, "test").is_empty());
    }
}
