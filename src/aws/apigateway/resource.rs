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
    calls: "CreateResource (rest_api_id, parent_id, path_part)",
    props: &[
        REST_API_ID,
        // Neither in UPDATES: moto 5.2.5 has no UpdateResource (500), so a move is untested.
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

    use super::super::tests::{create, reads_back, s, start, tags};

    #[tokio::test]
    async fn resource_reads_back() {
        let (_moto, ctx) = start().await;
        let api = create(&ctx, "apigateway:RestApi", &json!({"name": "a", "tags": tags("s-dev", "api")})).await;
        let v = json!({"rest_api_id": api.id, "parent_id": s(&api, "root_resource_id"), "path_part": "{id}"});
        let live = reads_back(&ctx, "apigateway:Resource", &v).await;
        assert_eq!(live.outputs["path"], json!("/{id}"));
    }
}
