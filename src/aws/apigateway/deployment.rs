//! `apigateway:Deployment`: a snapshot of a REST API that a stage serves. It carries no tags:
//! it is ours when its API is this stack's.
//!
//! Deployments are looked up in GetDeployments, on AWS as on moto (whose GetDeployment answers
//! 500 for a missing one).

use async_trait::async_trait;
use aws_sdk_apigateway::types::Deployment as Snapshot;
use serde_json::{Map, json};

use super::{REST_API_ID, api_verdict, gone_unless_read, outputs};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, out_str, put, required, sdk_err};
use crate::plan::Resource;
use crate::schema::{Implied, Kind, PlanView, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "apigateway:Deployment",
    aliases: &["AWS::ApiGateway::Deployment", "aws_api_gateway_deployment", "aws:apigateway/deployment:Deployment"],
    summary: "A snapshot of a REST API that a stage serves",
    calls: "CreateDeployment (rest_api_id, description); UpdateDeployment (`replace /description`); the stage \
            is a separate apigateway:Stage",
    props: &[REST_API_ID, Prop::opt("description", Kind::Str, "a description").in_place()],
    attrs: &[attr("id", "the deployment's ID")],
    taggable: false,
    holds_data: false,
    create_secs: 5,
    delete_secs: 2,
    implied: &[Implied {
        why: "AWS refuses to deploy an API whose methods have no integration, and a deployment only \
              holds the paths, methods and responses that exist when it is made",
        find: wait_for_api_contents,
    }],
};

fn wait_for_api_contents(v: &PlanView<'_>, res: &Resource) -> Vec<String> {
    // The API's resources (paths) too: a path moved or renamed in place must make a new
    // deployment, which the diff does for a snapshot's dependencies only.
    [
        super::resource::SPEC.name,
        super::method::SPEC.name,
        super::integration::SPEC.name,
        super::method_response::SPEC.name,
        super::integration_response::SPEC.name,
    ]
    .into_iter()
    .flat_map(|ty| v.matching(res, ty, &[("rest_api_id", "rest_api_id")]))
    .collect()
}

pub struct Deployment;

/// What a create reads.
pub struct Input {
    rest_api_id: String,
    description: Option<String>,
}

#[async_trait]
impl Lifecycle for Deployment {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = super::NOT_FOUND;
    const SNAPSHOT: bool = true;
    const COEXISTS: bool = true;
    const UPDATES: &'static [&'static str] = &["description"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateDeployment");
        Ok(Input { rest_api_id: p.str("rest_api_id")?, description: p.opt_str("description")? })
    }

    async fn create(ctx: &Ctx, d: &Input) -> Result<Created, AwsError> {
        let resp = ctx
            .apigateway
            .create_deployment()
            .rest_api_id(&d.rest_api_id)
            .set_description(d.description.clone())
            .send()
            .await
            .map_err(|e| sdk_err("CreateDeployment", e))?;
        let id = required(resp.id(), "CreateDeployment", "id")?;
        Ok(created(&id, &d.rest_api_id))
    }

    /// The API's newest deployment with the same description. A create without a description
    /// makes a deployment without one: one with another description is not what the crashed
    /// create made.
    async fn find(ctx: &Ctx, d: &Input, who: &Identity) -> Result<Found, AwsError> {
        let Some(deployments) = deployments(ctx, &d.rest_api_id).await? else { return Ok(Found::Nothing) };
        let description = d.description.as_deref().unwrap_or_default();
        let Some(newest) = deployments
            .iter()
            .filter(|x| x.description().unwrap_or_default() == description)
            .max_by_key(|x| x.created_date().map(|t| (t.secs(), t.subsec_nanos())))
        else {
            return Ok(Found::Nothing);
        };
        let id = required(newest.id(), "GetDeployments", "id")?;
        api_verdict(ctx, who, &d.rest_api_id, created(&id, &d.rest_api_id)).await
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let rest_api_id = out_str(out, "rest_api_id", "GetDeployments")?;
        let Some(deployments) = deployments(ctx, rest_api_id).await? else { return Ok(None) };
        let Some(d) = deployments.iter().find(|d| d.id() == Some(id)) else { return Ok(None) };
        let mut props = Map::new();
        props.insert("rest_api_id".into(), json!(rest_api_id));
        put(&mut props, "description", d.description().filter(|s| !s.is_empty()));
        Ok(Some(Live { props, outputs: created(id, rest_api_id).outputs }))
    }

    /// UpdateDeployment, `replace /description` (an empty one for none, as a create without a
    /// description leaves it): the same call again is harmless, so a resumed update just makes it.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, d: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        if changed.iter().any(|c| c == "description") {
            ctx.apigateway
                .update_deployment()
                .rest_api_id(out_str(out, "rest_api_id", "UpdateDeployment")?)
                .deployment_id(id)
                .patch_operations(super::replace("/description", d.description.as_deref().unwrap_or_default()))
                .send()
                .await
                .map_err(|e| sdk_err("UpdateDeployment", e))?;
        }
        Ok(out.clone())
    }

    async fn delete(ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError> {
        ctx.apigateway
            .delete_deployment()
            .rest_api_id(out_str(out, "rest_api_id", "DeleteDeployment")?)
            .deployment_id(id)
            .send()
            .await
            .map_err(|e| sdk_err("DeleteDeployment", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, out: &Outputs) -> Result<bool, AwsError> {
        gone_unless_read::<Self>(ctx, id, out).await
    }
}

/// What `create` returns: the API's ID is kept for reading and deleting.
fn created(id: &str, rest_api_id: &str) -> Created {
    Created { id: id.into(), outputs: outputs([("id", id), ("rest_api_id", rest_api_id)]) }
}

/// The API's deployments (`None`: the API is gone).
async fn deployments(ctx: &Ctx, rest_api_id: &str) -> Result<Option<Vec<Snapshot>>, AwsError> {
    listed!(ctx.apigateway.get_deployments().rest_api_id(rest_api_id), "GetDeployments")
}

#[cfg(test)]
mod adopt_tests {
    use serde_json::json;

    use super::super::tests::{body, create, integrated_api, reads_back, start, update, wired};

    #[tokio::test]
    async fn deployment_reads_back() {
        let (_moto, ctx) = start().await;
        let api_id = integrated_api(&ctx).await;
        let live =
            reads_back(&ctx, "apigateway:Deployment", &json!({"rest_api_id": api_id, "description": "v1"})).await;
        assert!(live.props.contains_key("description"), "{live:?}");
        reads_back(&ctx, "apigateway:Deployment", &json!({"rest_api_id": api_id})).await;
    }

    /// A new description is UpdateDeployment's `replace /description`, and nothing else. moto
    /// lacks UpdateDeployment: the wire answers as AWS documents (200, the Deployment), and
    /// the test asserts the request.
    #[tokio::test]
    async fn deployment_description_updates_in_place() {
        const TY: &str = "apigateway:Deployment";
        let (_moto, ctx) = start().await;
        let api_id = integrated_api(&ctx).await;
        let d = create(&ctx, TY, &json!({"rest_api_id": api_id, "description": "v1"})).await;
        let (ctx, wire) = wired(&ctx);
        let patch = super::super::replace("/description", "v2");
        let req = ctx.apigateway.update_deployment().rest_api_id(&api_id).deployment_id(&d.id).patch_operations(patch);
        assert!(req.send().await.is_err(), "moto has UpdateDeployment now: test the update through it instead");
        let before = wire.sent().len();
        let answer = json!({"id": d.id, "description": "v2", "createdDate": 1_700_000_000});
        wire.answer("UpdateDeployment", 200, "application/json", &answer.to_string());

        let out = update(&ctx, TY, &d, &json!({"rest_api_id": api_id, "description": "v2"}), &["description"]).await;
        assert_eq!(out, d.outputs);
        let sent = &wire.sent()[before..];
        assert_eq!(sent.len(), 1, "one call: {sent:?}");
        assert_eq!((sent[0].op.as_str(), sent[0].method.as_str()), ("UpdateDeployment", "PATCH"));
        assert!(sent[0].uri.ends_with(&format!("/restapis/{api_id}/deployments/{}", d.id)), "{}", sent[0].uri);
        assert_eq!(
            body(&sent[0]),
            json!({"patchOperations": [{"op": "replace", "path": "/description", "value": "v2"}]})
        );
    }
}
