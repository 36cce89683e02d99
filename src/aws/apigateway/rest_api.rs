//! `apigateway:RestApi`: a REST API (API Gateway v1).
//!
//! Names are not unique in API Gateway: `find` takes an API only with the name and both
//! identity tags of the create (the newest if a crash left several); a same-named API without
//! them is someone else's and in nobody's way.

use async_trait::async_trait;
use aws_sdk_apigateway::operation::get_rest_api::GetRestApiOutput;
use aws_sdk_apigateway::types::{ApiKeySourceType, EndpointConfiguration, EndpointType, PatchOperation};
use serde_json::{Map, json};

use super::{REST_API_NAME, found, gone_unless_read, outputs, pairs, partition, str_map};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, out_str, put, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "apigateway:RestApi",
    aliases: &["AWS::ApiGateway::RestApi", "aws_api_gateway_rest_api", "aws:apigateway/restApi:RestApi"],
    summary: "A REST API",
    calls: "CreateRestApi (name, description, endpoint_configuration, api_key_source, disable_execute_api_endpoint, \
            tags); UpdateRestApi (`replace` patch operations; the endpoint type as \
            `replace /endpointConfiguration/types/<OLD>`); TagResource/UntagResource on its ARN",
    props: &[
        Prop::req("name", Kind::Str, "the API's name").name_rule(&REST_API_NAME).in_place(),
        Prop::opt("description", Kind::Str, "a description").in_place(),
        Prop::opt(
            "endpoint_configuration",
            Kind::Struct(&[Prop::req(
                "types",
                Kind::List(&Kind::Str),
                "endpoint type: one of REGIONAL, EDGE, PRIVATE",
            )
            .in_place()]),
            "where the API is reachable from (AWS's default is EDGE)",
        )
        .in_place(),
        Prop::opt("api_key_source", Kind::Str, "where API keys are read from: HEADER or AUTHORIZER").in_place(),
        Prop::opt("disable_execute_api_endpoint", Kind::Bool, "turn off the default execute-api endpoint").in_place(),
        Prop::opt("tags", Kind::Tags, "tags"),
    ],
    attrs: &[
        attr("id", "the REST API's ID"),
        attr("root_resource_id", "the ID of the root resource `/`"),
        attr("arn", "the API's ARN (arn:aws:apigateway:<region>::/restapis/<id>)"),
    ],
    taggable: true,
    holds_data: false,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

pub struct RestApi;

/// What a create reads.
pub struct Input {
    name: String,
    description: Option<String>,
    endpoint_types: Option<Vec<String>>,
    api_key_source: Option<String>,
    disable_execute_api_endpoint: Option<bool>,
    tags: Vec<(String, String)>,
}

#[async_trait]
impl Lifecycle for RestApi {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = super::NOT_FOUND;
    const UPDATES: &'static [&'static str] =
        &["name", "description", "endpoint_configuration", "api_key_source", "disable_execute_api_endpoint", "tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateRestApi");
        let name = p.str("name")?;
        let description = p.opt_str("description")?;
        let endpoint_types = match p.opt_struct("endpoint_configuration")? {
            None => None,
            Some(mut ec) => {
                let types = ec.str_list("types")?;
                ec.finish()?;
                Some(types)
            }
        };
        Ok(Input {
            name,
            description,
            endpoint_types,
            api_key_source: p.opt_str("api_key_source")?,
            disable_execute_api_endpoint: p.opt_bool("disable_execute_api_endpoint")?,
            tags: p.tags()?,
        })
    }

    async fn create(ctx: &Ctx, a: &Input) -> Result<Created, AwsError> {
        let endpoint_configuration = a.endpoint_types.as_ref().map(|types| {
            let types = types.iter().map(|t| EndpointType::from(t.as_str())).collect();
            EndpointConfiguration::builder().set_types(Some(types)).build()
        });
        let resp = ctx
            .apigateway
            .create_rest_api()
            .name(&a.name)
            .set_description(a.description.clone())
            .set_endpoint_configuration(endpoint_configuration)
            .set_api_key_source(a.api_key_source.as_deref().map(ApiKeySourceType::from))
            .set_disable_execute_api_endpoint(a.disable_execute_api_endpoint)
            .set_tags(str_map(a.tags.clone()))
            .send()
            .await
            .map_err(|e| sdk_err("CreateRestApi", e))?;
        let id = required(resp.id(), "CreateRestApi", "id")?;
        let root = required(resp.root_resource_id(), "CreateRestApi", "rootResourceId")?;
        Ok(created(ctx, &id, &root))
    }

    async fn find(ctx: &Ctx, a: &Input, who: &Identity) -> Result<Found, AwsError> {
        let apis = listed!(ctx.apigateway.get_rest_apis(), "GetRestApis")?.unwrap_or_default();
        let Some(api) = apis
            .into_iter()
            .filter(|api| api.name() == Some(a.name.as_str()) && who.judge(pairs(api.tags())).is_ok())
            .max_by_key(|api| api.created_date().map(|d| (d.secs(), d.subsec_nanos())))
        else {
            return Ok(Found::Nothing);
        };
        let id = required(api.id(), "GetRestApis", "id")?;
        let root = match api.root_resource_id() {
            Some(r) => r.to_string(),
            None => root_resource(ctx, &id).await?,
        };
        Ok(who.claim(created(ctx, &id, &root), pairs(api.tags())))
    }

    /// Every property (AWS reports its defaults: EDGE, HEADER, the execute-api endpoint on),
    /// the tags as a table.
    async fn read(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<Option<Live>, AwsError> {
        let r = ctx.apigateway.get_rest_api().rest_api_id(id).send().await.map_err(|e| sdk_err("GetRestApi", e));
        let Some(api) = found(r)? else { return Ok(None) };
        let mut props = Map::new();
        put(&mut props, "name", api.name());
        put(&mut props, "description", api.description());
        put(
            &mut props,
            "endpoint_configuration",
            api.endpoint_configuration().map(|ec| {
                let types: Vec<&str> = ec.types().iter().map(EndpointType::as_str).collect();
                json!({ "types": types })
            }),
        );
        put(&mut props, "api_key_source", api.api_key_source().map(ApiKeySourceType::as_str));
        props.insert("disable_execute_api_endpoint".into(), json!(api.disable_execute_api_endpoint()));
        props.insert("tags".into(), json!(api.tags().cloned().unwrap_or_default()));
        let root = match api.root_resource_id() {
            Some(r) => r.to_string(),
            None => root_resource(ctx, id).await?,
        };
        Ok(Some(Live { props, outputs: created(ctx, id, &root).outputs }))
    }

    /// UpdateRestApi with a `replace` patch operation per changed setting; the tags by
    /// TagResource and UntagResource on the API's ARN, from the tags GetRestApi reports.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, a: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        let has = |p: &str| changed.iter().any(|c| c == p);
        let live = if has("endpoint_configuration") || has("tags") {
            let r = ctx.apigateway.get_rest_api().rest_api_id(id).send().await;
            Some(r.map_err(|e| sdk_err("GetRestApi", e))?)
        } else {
            None
        };
        let mut ops = Vec::new();
        if has("name") {
            ops.push(super::replace("/name", &a.name));
        }
        if has("description") {
            ops.push(super::replace("/description", a.description.as_deref().unwrap_or_default()));
        }
        if has("api_key_source") {
            ops.push(super::replace("/apiKeySource", a.api_key_source.as_deref().unwrap_or("HEADER")));
        }
        if has("disable_execute_api_endpoint") {
            let off = a.disable_execute_api_endpoint.unwrap_or(false).to_string();
            ops.push(super::replace("/disableExecuteApiEndpoint", &off));
        }
        if let Some(live) = live.as_ref().filter(|_| has("endpoint_configuration")) {
            ops.extend(endpoint_type_change(id, a, live)?);
        }
        if !ops.is_empty() {
            let req = ctx.apigateway.update_rest_api().rest_api_id(id).set_patch_operations(Some(ops));
            req.send().await.map_err(|e| sdk_err("UpdateRestApi", e))?;
        }
        if let Some(live) = live.as_ref().filter(|_| has("tags")) {
            super::retag(ctx, out_str(out, "arn", "TagResource")?, live.tags(), &a.tags).await?;
        }
        Ok(out.clone())
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        ctx.apigateway.delete_rest_api().rest_api_id(id).send().await.map_err(|e| sdk_err("DeleteRestApi", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, out: &Outputs) -> Result<bool, AwsError> {
        gone_unless_read::<Self>(ctx, id, out).await
    }
}

/// What `create` returns.
fn created(ctx: &Ctx, id: &str, root_resource_id: &str) -> Created {
    let arn = format!("arn:{}:apigateway:{}::/restapis/{id}", partition(&ctx.region), ctx.region);
    Created { id: id.into(), outputs: outputs([("id", id), ("root_resource_id", root_resource_id), ("arn", &arn)]) }
}

/// The patch that moves the API to the plan's endpoint type (AWS's default EDGE when the plan
/// has none): `replace /endpointConfiguration/types/<OLD>`, the old type as AWS has it now
/// (`r`, GetRestApi's answer). Nothing when it already has it.
fn endpoint_type_change(id: &str, a: &Input, r: &GetRestApiOutput) -> Result<Option<PatchOperation>, AwsError> {
    const OP: &str = "UpdateRestApi";
    let new = match a.endpoint_types.as_deref() {
        None => "EDGE",
        Some([one]) => one.as_str(),
        Some(other) => {
            let msg = format!("REST API `{}`: endpoint_configuration.types has {} types", a.name, other.len());
            return Err(
                AwsError::input(OP, msg).with_hint("AWS takes exactly one endpoint type: REGIONAL, EDGE or PRIVATE")
            );
        }
    };
    let old: Vec<&str> =
        r.endpoint_configuration().map(|ec| ec.types().iter().map(EndpointType::as_str).collect()).unwrap_or_default();
    match old.as_slice() {
        [old] if *old == new => Ok(None),
        [old] => Ok(Some(super::replace(&format!("/endpointConfiguration/types/{old}"), new))),
        _ => Err(AwsError::malformed(
            "GetRestApi",
            format!("one endpoint type of REST API `{id}` (it has {})", old.len()),
        )),
    }
}

/// The ID of the API's `/`, for an answer that does not carry `rootResourceId`.
async fn root_resource(ctx: &Ctx, rest_api_id: &str) -> Result<String, AwsError> {
    let resources = super::api_resources(ctx, rest_api_id).await?.unwrap_or_default();
    let root = resources.iter().find(|r| r.path() == Some("/")).and_then(|r| r.id());
    required(root, "GetResources", "id of `/`")
}

#[cfg(test)]
mod adopt_tests {
    use serde_json::json;

    use super::super::tests::{adopt, adopts_as_created, body, create, delete, reads_back, start, tags, update, wired};

    #[tokio::test]
    async fn rest_api() {
        let (_moto, ctx) = start().await;
        const TY: &str = "apigateway:RestApi";
        let ours = json!({"name": "s-dev-api", "description": "d", "tags": tags("s-dev", "api")});
        // Same name: another stack's, an untagged one, and another resource of this stack.
        let theirs = create(&ctx, TY, &json!({"name": "s-dev-api", "tags": tags("s-other", "api")})).await;
        create(&ctx, TY, &json!({"name": "s-dev-api"})).await;
        create(&ctx, TY, &json!({"name": "s-dev-api", "tags": tags("s-dev", "api2")})).await;
        assert!(adopt(&ctx, TY, &ours).await.is_none());

        let created = create(&ctx, TY, &ours).await;
        adopts_as_created(&ctx, TY, &ours, &created).await;
        // No identity tags to tell it apart by: nothing is adopted.
        assert!(adopt(&ctx, TY, &json!({"name": "s-dev-api"})).await.is_none());
        delete(&ctx, TY, &created).await;
        assert!(adopt(&ctx, TY, &ours).await.is_none());
        let other = json!({"name": "s-dev-api", "tags": tags("s-other", "api")});
        assert_eq!(adopt(&ctx, TY, &other).await.expect("theirs").id, theirs.id);
    }

    /// Every property, AWS's defaults written out, reads back as planned; once deleted, the
    /// API reads as gone.
    #[tokio::test]
    async fn rest_api_reads_back() {
        let (_moto, ctx) = start().await;
        let v = json!({"name": "s-dev-api", "description": "d", "endpoint_configuration": {"types": ["REGIONAL"]},
            "api_key_source": "AUTHORIZER", "disable_execute_api_endpoint": true, "tags": tags("s-dev", "api")});
        let live = reads_back(&ctx, "apigateway:RestApi", &v).await;
        assert!(live.outputs["root_resource_id"].as_str().is_some_and(|r| !r.is_empty()), "{live:?}");
    }

    /// Name, description, key source and the endpoint switch change in place.
    #[tokio::test]
    async fn rest_api_updates_in_place() {
        let (_moto, ctx) = start().await;
        let mut v = json!({"name": "s-dev-api", "description": "d", "endpoint_configuration": {"types": ["REGIONAL"]},
            "api_key_source": "HEADER", "disable_execute_api_endpoint": false, "tags": tags("s-dev", "api")});
        let api = super::super::tests::create(&ctx, "apigateway:RestApi", &v).await;
        v["name"] = json!("s-dev-api-2");
        v["description"] = json!("renamed");
        v["api_key_source"] = json!("AUTHORIZER");
        v["disable_execute_api_endpoint"] = json!(true);
        let keys = ["name", "description", "api_key_source", "disable_execute_api_endpoint"];
        crate::aws::testing::assert_updates(&ctx, "apigateway:RestApi", &api.id, &api.outputs, &v, &keys).await;
    }

    /// The endpoint type moves (`replace /endpointConfiguration/types/<OLD>`) both ways, and
    /// back to AWS's default EDGE when the plan drops it.
    #[tokio::test]
    async fn rest_api_endpoint_type_updates_in_place() {
        let (_moto, ctx) = start().await;
        const TY: &str = "apigateway:RestApi";
        let mut v = json!({"name": "s-dev-api", "description": "d", "endpoint_configuration": {"types": ["REGIONAL"]},
            "api_key_source": "HEADER", "disable_execute_api_endpoint": false, "tags": tags("s-dev", "api")});
        let api = create(&ctx, TY, &v).await;
        let keys = ["endpoint_configuration"];
        for types in ["EDGE", "REGIONAL"] {
            v["endpoint_configuration"]["types"] = json!([types]);
            crate::aws::testing::assert_updates(&ctx, TY, &api.id, &api.outputs, &v, &keys).await;
        }
        let live = ctx.apigateway.get_rest_api().rest_api_id(&api.id).send().await.expect("GetRestApi");
        let types = live.endpoint_configuration().map(|e| e.types().to_vec()).unwrap_or_default();
        assert_eq!(types, [aws_sdk_apigateway::types::EndpointType::Regional]);
        v.as_object_mut().unwrap().remove("endpoint_configuration");
        let changed = vec!["endpoint_configuration".to_string()];
        let mut props = crate::aws::testing::props(v.clone());
        crate::aws::update(&ctx, TY, &api.id, &api.outputs, &mut props, &changed).await.expect("update");
        let live = ctx.apigateway.get_rest_api().rest_api_id(&api.id).send().await.expect("GetRestApi");
        let types = live.endpoint_configuration().map(|e| e.types().to_vec()).unwrap_or_default();
        assert_eq!(types, [aws_sdk_apigateway::types::EndpointType::Edge], "AWS's default once the plan drops it");
    }

    /// The tags change by UntagResource (the keys the plan dropped) and TagResource (the new
    /// and changed ones only) on the API's ARN, from what GetRestApi reports; tags AWS already
    /// has (a resumed update) send nothing. moto tags stages only (TagResource and
    /// UntagResource of an API's ARN fail): the wire answers as AWS documents (204, empty), and
    /// the test asserts the requests.
    #[tokio::test]
    async fn rest_api_tags_update_in_place() {
        const TY: &str = "apigateway:RestApi";
        let (_moto, ctx) = start().await;
        let mut v = json!({"name": "s-dev-api", "tags": tags("s-dev", "api")});
        v["tags"]["Team"] = json!("a");
        v["tags"]["Old"] = json!("x");
        let api = create(&ctx, TY, &v).await;
        let arn = api.outputs["arn"].as_str().expect("arn").to_string();
        assert_eq!(arn, format!("arn:aws:apigateway:us-east-1::/restapis/{}", api.id));
        let (ctx, wire) = wired(&ctx);
        let tagged = ctx.apigateway.tag_resource().resource_arn(&arn).tags("Team", "b").send().await;
        assert!(tagged.is_err(), "moto tags REST APIs now: test the update through it instead");
        let untagged = ctx.apigateway.untag_resource().resource_arn(&arn).tag_keys("Old").send().await;
        assert!(untagged.is_err(), "moto untags REST APIs now: test the update through it instead");
        wire.answer("TagResource", 204, "application/json", "");
        wire.answer("UntagResource", 204, "application/json", "");

        let before = wire.sent().len();
        let mut planned = v.clone();
        planned["tags"]["Team"] = json!("b");
        planned["tags"]["New"] = json!("y");
        planned["tags"].as_object_mut().expect("tags").remove("Old");
        let out = update(&ctx, TY, &api, &planned, &["tags"]).await;
        assert_eq!(out, api.outputs);
        let sent = &wire.sent()[before..];
        let ops: Vec<(&str, &str)> = sent.iter().map(|s| (s.op.as_str(), s.method.as_str())).collect();
        assert_eq!(ops, [("GetRestApi", "GET"), ("UntagResource", "DELETE"), ("TagResource", "PUT")]);
        let decoded = |uri: &str| uri.replace("%3A", ":").replace("%3a", ":").replace("%2F", "/").replace("%2f", "/");
        for s in &sent[1..] {
            assert!(decoded(&s.uri).contains(&format!("/tags/{arn}")), "{}: {}", s.op, s.uri);
        }
        assert!(sent[1].uri.ends_with("?tagKeys=Old"), "{}", sent[1].uri);
        assert_eq!(body(&sent[2]), json!({"tags": {"Team": "b", "New": "y"}}), "the new and changed tags only");

        // The tags as AWS has them already: nothing to send.
        let before = wire.sent().len();
        update(&ctx, TY, &api, &v, &["tags"]).await;
        let ops: Vec<String> = wire.sent()[before..].iter().map(|s| s.op.clone()).collect();
        assert_eq!(ops, ["GetRestApi"]);
    }
}
