//! `apigateway:Resource`: a path segment of a REST API. It carries no tags: it is ours when its
//! API is this stack's.

use async_trait::async_trait;
use serde_json::{Map, json};

use super::{
    IN_API_BATCH, PATH_PART, REST_API_ID, api_resources, api_verdict, found, gone_unless_read, outputs,
    resources_with_methods,
};
use crate::aws::adapter::{Item, Lifecycle, Live, Read};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, out_str, put, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "apigateway:Resource",
    aliases: &["AWS::ApiGateway::Resource", "aws_api_gateway_resource", "aws:apigateway/resource:Resource"],
    summary: "A path segment of a REST API",
    calls: "CreateResource (rest_api_id, parent_id, path_part); UpdateResource (`replace /parentId`, \
            `replace /pathPart`)",
    props: &[
        REST_API_ID,
        Prop::req("parent_id", Kind::Str, "the parent resource's ID (the API's root_resource_id for `/x`)").in_place(),
        Prop::req("path_part", Kind::Str, "the last path segment (`patients`, or `{id}`)")
            .name_rule(&PATH_PART)
            .in_place(),
    ],
    attrs: &[attr("id", "the resource's ID"), attr("path", "the full path (`/patients`)")],
    taggable: false,
    holds_data: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

pub struct ApiResource;

/// What a create reads.
pub struct Input {
    rest_api_id: String,
    parent_id: String,
    path_part: String,
}

#[async_trait]
impl Lifecycle for ApiResource {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = super::NOT_FOUND;
    const UPDATES: &'static [&'static str] = &["parent_id", "path_part"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateResource");
        Ok(Input { rest_api_id: p.str("rest_api_id")?, parent_id: p.str("parent_id")?, path_part: p.str("path_part")? })
    }

    async fn create(ctx: &Ctx, r: &Input) -> Result<Created, AwsError> {
        let resp = ctx
            .apigateway
            .create_resource()
            .rest_api_id(&r.rest_api_id)
            .parent_id(&r.parent_id)
            .path_part(&r.path_part)
            .send()
            .await
            .map_err(|e| sdk_err("CreateResource", e))?;
        let id = required(resp.id(), "CreateResource", "id")?;
        Ok(created(&id, resp.path().unwrap_or_default(), &r.rest_api_id))
    }

    /// The API's resource with this parent and path part.
    async fn find(ctx: &Ctx, r: &Input, who: &Identity) -> Result<Found, AwsError> {
        let Some(resources) = api_resources(ctx, &r.rest_api_id).await? else { return Ok(Found::Nothing) };
        let Some(res) = resources
            .iter()
            .find(|res| res.parent_id() == Some(r.parent_id.as_str()) && res.path_part() == Some(r.path_part.as_str()))
        else {
            return Ok(Found::Nothing);
        };
        let id = required(res.id(), "GetResources", "id")?;
        api_verdict(ctx, who, &r.rest_api_id, created(&id, res.path().unwrap_or_default(), &r.rest_api_id)).await
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let rest_api_id = out_str(out, "rest_api_id", "GetResource")?;
        let r = ctx
            .apigateway
            .get_resource()
            .rest_api_id(rest_api_id)
            .resource_id(id)
            .send()
            .await
            .map_err(|e| sdk_err("GetResource", e));
        let Some(res) = found(r)? else { return Ok(None) };
        Ok(Some(live_of(id, rest_api_id, res.parent_id(), res.path_part(), res.path())))
    }

    /// UpdateResource, a `replace` of each changed field that AWS (GetResource) does not have
    /// yet: a resumed update sends only what the dead run did not. The new path (a move or a
    /// rename changes it) is read into the outputs. The new deployment the change needs is the
    /// diff's: a deployment depends on its API's resources (`wait_for_api_contents`).
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, r: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        let live = ctx.apigateway.get_resource().rest_api_id(&r.rest_api_id).resource_id(id).send().await;
        let live = live.map_err(|e| match sdk_err("GetResource", e) {
            e if e.is_not_found() => e.with_hint(format!(
                "resource `{id}` of REST API `{}` was deleted outside ironplan: run `ironplan deploy --refresh` to \
                 create it again",
                r.rest_api_id
            )),
            e => e,
        })?;
        let has = |p: &str| changed.iter().any(|c| c == p);
        let mut ops = Vec::new();
        if has("parent_id") && live.parent_id() != Some(r.parent_id.as_str()) {
            ops.push(super::replace("/parentId", &r.parent_id));
        }
        if has("path_part") && live.path_part() != Some(r.path_part.as_str()) {
            ops.push(super::replace("/pathPart", &r.path_part));
        }
        let path = if ops.is_empty() {
            live.path().map(str::to_owned)
        } else {
            let req = ctx.apigateway.update_resource().rest_api_id(&r.rest_api_id).resource_id(id);
            let resp = req.set_patch_operations(Some(ops)).send().await.map_err(|e| sdk_err("UpdateResource", e))?;
            resp.path().map(str::to_owned)
        };
        let mut outputs = out.clone();
        outputs.extend(created(id, path.as_deref().unwrap_or_default(), &r.rest_api_id).outputs);
        Ok(outputs)
    }

    const READ_BATCH: usize = IN_API_BATCH;

    /// From the API's GetResources (methods embedded), shared in a read run with what lives in
    /// its methods.
    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        let run = ctx.in_read_run();
        let mut answers = Vec::with_capacity(items.len());
        for (id, out) in items {
            answers.push(read_listed(&run, id, out).await);
        }
        answers
    }

    async fn delete(ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError> {
        ctx.apigateway
            .delete_resource()
            .rest_api_id(out_str(out, "rest_api_id", "DeleteResource")?)
            .resource_id(id)
            .send()
            .await
            .map_err(|e| sdk_err("DeleteResource", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, out: &Outputs) -> Result<bool, AwsError> {
        gone_unless_read::<Self>(ctx, id, out).await
    }
}

/// What `create` returns: the API's ID is kept for reading and deleting.
/// One resource of its API's GetResources.
async fn read_listed(ctx: &Ctx, id: &str, out: &Outputs) -> Read {
    let rest_api_id = out_str(out, "rest_api_id", "GetResources")?;
    let Some(resources) = resources_with_methods(ctx, rest_api_id).await? else { return Ok(None) };
    Ok(resources
        .iter()
        .find(|r| r.id() == Some(id))
        .map(|r| live_of(id, rest_api_id, r.parent_id(), r.path_part(), r.path())))
}

/// The one conversion of what AWS says of a resource (GetResource, or an item of GetResources).
fn live_of(id: &str, rest_api_id: &str, parent_id: Option<&str>, path_part: Option<&str>, path: Option<&str>) -> Live {
    let mut props = Map::new();
    props.insert("rest_api_id".into(), json!(rest_api_id));
    put(&mut props, "parent_id", parent_id);
    put(&mut props, "path_part", path_part);
    Live { props, outputs: created(id, path.unwrap_or_default(), rest_api_id).outputs }
}

fn created(id: &str, path: &str, rest_api_id: &str) -> Created {
    Created { id: id.into(), outputs: outputs([("id", id), ("path", path), ("rest_api_id", rest_api_id)]) }
}

#[cfg(test)]
mod adopt_tests {
    use serde_json::json;

    use super::super::tests::{body, create, reads_back, s, start, tags, update, wired};

    #[tokio::test]
    async fn resource_reads_back() {
        let (_moto, ctx) = start().await;
        let api = create(&ctx, "apigateway:RestApi", &json!({"name": "a", "tags": tags("s-dev", "api")})).await;
        let v = json!({"rest_api_id": api.id, "parent_id": s(&api, "root_resource_id"), "path_part": "{id}"});
        let live = reads_back(&ctx, "apigateway:Resource", &v).await;
        assert_eq!(live.outputs["path"], json!("/{id}"));
    }

    /// A move and a rename are one UpdateResource with a `replace` of each, and the new path
    /// from its answer in the outputs; a change of one field sends that field only, and one AWS
    /// already has (a resumed update) sends nothing. moto lacks UpdateResource: the wire answers
    /// as AWS documents (200, the Resource), and the test asserts the request.
    #[tokio::test]
    async fn resource_moves_and_renames_in_place() {
        const TY: &str = "apigateway:Resource";
        let (_moto, ctx) = start().await;
        let api = create(&ctx, "apigateway:RestApi", &json!({"name": "a", "tags": tags("s-dev", "api")})).await;
        let under = |parent: &str, part: &str| json!({"rest_api_id": api.id, "parent_id": parent, "path_part": part});
        let a = create(&ctx, TY, &under(&s(&api, "root_resource_id"), "a")).await;
        let b = create(&ctx, TY, &under(&s(&api, "root_resource_id"), "b")).await;
        let x = create(&ctx, TY, &under(&a.id, "x")).await;
        let (ctx, wire) = wired(&ctx);
        let req = ctx.apigateway.update_resource().rest_api_id(&api.id).resource_id(&x.id);
        let lacked = req.patch_operations(super::super::replace("/pathPart", "y")).send().await;
        assert!(lacked.is_err(), "moto has UpdateResource now: test the update through it instead");
        let answer = json!({"id": x.id, "parentId": b.id, "pathPart": "y", "path": "/b/y"});
        wire.answer("UpdateResource", 200, "application/json", &answer.to_string());
        let replace = |path: &str, value: &str| json!({"op": "replace", "path": path, "value": value});

        let before = wire.sent().len();
        let out = update(&ctx, TY, &x, &under(&b.id, "y"), &["parent_id", "path_part"]).await;
        assert_eq!(out["path"], json!("/b/y"), "the new path, from UpdateResource's answer");
        let sent = &wire.sent()[before..];
        let ops: Vec<&str> = sent.iter().map(|s| s.op.as_str()).collect();
        assert_eq!(ops, ["GetResource", "UpdateResource"]);
        assert_eq!(sent[1].method, "PATCH");
        assert!(sent[1].uri.ends_with(&format!("/restapis/{}/resources/{}", api.id, x.id)), "{}", sent[1].uri);
        assert_eq!(
            body(&sent[1]),
            json!({"patchOperations": [replace("/parentId", &b.id), replace("/pathPart", "y")]})
        );

        // Only the field that changed, though the plan's parent differs from moto's too.
        let before = wire.sent().len();
        update(&ctx, TY, &x, &under(&b.id, "z"), &["path_part"]).await;
        let sent = &wire.sent()[before..];
        assert_eq!(body(&sent[1]), json!({"patchOperations": [replace("/pathPart", "z")]}));

        // What AWS already has is not sent again: no call, the path as AWS has it.
        let before = wire.sent().len();
        let out = update(&ctx, TY, &x, &under(&a.id, "x"), &["parent_id", "path_part"]).await;
        let ops: Vec<String> = wire.sent()[before..].iter().map(|s| s.op.clone()).collect();
        assert_eq!(ops, ["GetResource"]);
        assert_eq!(out["path"], json!("/a/x"));
    }
}
