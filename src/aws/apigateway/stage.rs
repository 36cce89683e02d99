//! `apigateway:Stage`: a named, invokable stage of a REST API deployment.
//!
//! CreateStage takes no access log settings: they are an UpdateStage, made in `ready` once the
//! stage is in state (a failure there must not leave an unrecorded stage behind), from the
//! values `create` stashed in the outputs.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::{
    REST_API_ID, STAGE_NAME, dns_suffix, found, gone_unless_read, outputs, pairs, partition, replace, str_map,
};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, out_str, poll, put, sdk_err};
use crate::plan::Resource;
use crate::schema::{Implied, Kind, PlanView, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "apigateway:Stage",
    aliases: &["AWS::ApiGateway::Stage", "aws_api_gateway_stage", "aws:apigateway/stage:Stage"],
    summary: "A named, invokable stage of a REST API deployment",
    calls: "CreateStage (rest_api_id, stage_name, deployment_id, description, tracing_enabled, tags); \
            UpdateStage (access_log_settings {destination_arn, format}, the Stage's field names, sent as \
            `replace /accessLogSettings/destinationArn` and `/accessLogSettings/format` patch operations)",
    props: &[
        REST_API_ID,
        Prop::req("stage_name", Kind::Str, "the stage's name, the first path segment of its URL (`prod`)")
            .name_rule(&STAGE_NAME),
        Prop::req("deployment_id", Kind::Str, "the deployment the stage serves").in_place(),
        Prop::opt("description", Kind::Str, "a description").in_place(),
        Prop::opt("tracing_enabled", Kind::Bool, "X-Ray tracing of requests").in_place(),
        Prop::opt(
            "access_log_settings",
            Kind::Struct(&[
                Prop::req("destination_arn", Kind::Str, "the CloudWatch Logs log group ARN").in_place(),
                Prop::req("format", Kind::Str, "the log line format, with `$context` variables").in_place(),
            ]),
            "access logging (needs the region's apigateway:Account CloudWatch role)",
        )
        .in_place(),
        Prop::opt("tags", Kind::Tags, "tags"),
    ],
    attrs: &[
        attr("id", "the stage name"),
        attr("name", "the stage name"),
        attr("invoke_url", "https://<api>.execute-api.<region>.amazonaws.com/<stage>"),
        attr("arn", "the stage's ARN (arn:aws:apigateway:<region>::/restapis/<api>/stages/<stage>)"),
    ],
    taggable: true,
    holds_data: false,
    create_secs: 3,
    delete_secs: 2,
    implied: &[Implied {
        why: "a stage's access logs need the region's API Gateway CloudWatch role set",
        find: wait_for_account,
    }],
};

fn wait_for_account(v: &PlanView<'_>, res: &Resource) -> Vec<String> {
    if res.prop("access_log_settings").is_none() {
        return Vec::new();
    }
    v.of_type(super::account::SPEC.name).map(|r| r.name.clone()).collect()
}

pub struct Stage;

/// What a create reads.
pub struct Input {
    rest_api_id: String,
    stage_name: String,
    deployment_id: String,
    description: Option<String>,
    tracing_enabled: Option<bool>,
    /// `destination_arn` and `format`.
    access_logs: Option<(String, String)>,
    tags: Vec<(String, String)>,
}

#[async_trait]
impl Lifecycle for Stage {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = super::NOT_FOUND;
    const UPDATES: &'static [&'static str] =
        &["deployment_id", "description", "tracing_enabled", "access_log_settings", "tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateStage");
        let rest_api_id = p.str("rest_api_id")?;
        let stage_name = p.str("stage_name")?;
        let deployment_id = p.str("deployment_id")?;
        let description = p.opt_str("description")?;
        let tracing_enabled = p.opt_bool("tracing_enabled")?;
        let access_logs = match p.opt_struct("access_log_settings")? {
            None => None,
            Some(mut s) => {
                s.for_op("UpdateStage");
                let logs = (s.str("destination_arn")?, s.str("format")?);
                s.finish()?;
                Some(logs)
            }
        };
        Ok(Input { rest_api_id, stage_name, deployment_id, description, tracing_enabled, access_logs, tags: p.tags()? })
    }

    async fn create(ctx: &Ctx, s: &Input) -> Result<Created, AwsError> {
        ctx.apigateway
            .create_stage()
            .rest_api_id(&s.rest_api_id)
            .stage_name(&s.stage_name)
            .deployment_id(&s.deployment_id)
            .set_description(s.description.clone())
            .set_tracing_enabled(s.tracing_enabled)
            .set_tags(str_map(s.tags.clone()))
            .send()
            .await
            .map_err(|e| sdk_err("CreateStage", e))?;
        Ok(created(ctx, s))
    }

    /// GetStage by name: a stage name is unique in its API, so another stage of that name
    /// blocks the create.
    async fn find(ctx: &Ctx, s: &Input, who: &Identity) -> Result<Found, AwsError> {
        let Some(live) = get(ctx, &s.rest_api_id, &s.stage_name).await? else { return Ok(Found::Nothing) };
        // As create: `ready` (run again after adoption) applies the access logs.
        Ok(who.claim(created(ctx, s), pairs(live.tags())))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        configure_access_logs(ctx, id, out).await?;
        Ok(out.clone())
    }

    /// The stage's properties; its description only when it has one (moto answers "" for
    /// none), the tags as a table.
    /// UpdateStage with a `replace` patch operation per changed setting (a new deployment moves
    /// the stage to it), the access logs as `ready` sets them, the tags by TagResource and
    /// UntagResource.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, s: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        let has = |p: &str| changed.iter().any(|c| c == p);
        let mut ops = Vec::new();
        if has("deployment_id") {
            ops.push(super::replace("/deploymentId", &s.deployment_id));
        }
        if has("description") {
            ops.push(super::replace("/description", s.description.as_deref().unwrap_or_default()));
        }
        if has("tracing_enabled") {
            ops.push(super::replace("/tracingEnabled", &s.tracing_enabled.unwrap_or(false).to_string()));
        }
        if has("access_log_settings") && s.access_logs.is_none() {
            let op = aws_sdk_apigateway::types::PatchOperation::builder().op(aws_sdk_apigateway::types::Op::Remove);
            ops.push(op.path("/accessLogSettings").build());
        }
        if !ops.is_empty() {
            let req = ctx.apigateway.update_stage().rest_api_id(&s.rest_api_id).stage_name(id);
            req.set_patch_operations(Some(ops)).send().await.map_err(|e| sdk_err("UpdateStage", e))?;
        }
        let new = created(ctx, s).outputs;
        if has("tags") {
            let arn = out_str(&new, "arn", "TagResource")?;
            let live = ctx.apigateway.get_tags().resource_arn(arn).send().await.map_err(|e| sdk_err("GetTags", e))?;
            super::retag(ctx, arn, live.tags(), &s.tags).await?;
        }
        let mut outputs = out.clone();
        outputs.extend(new);
        // The access logs as `ready` sets them.
        Self::ready(ctx, id, &outputs).await
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let rest_api_id = out_str(out, "rest_api_id", "GetStage")?;
        let Some(s) = get(ctx, rest_api_id, id).await? else { return Ok(None) };
        let mut props = Map::new();
        props.insert("rest_api_id".into(), json!(rest_api_id));
        props.insert("stage_name".into(), json!(id));
        put(&mut props, "deployment_id", s.deployment_id());
        put(&mut props, "description", s.description().filter(|d| !d.is_empty()));
        props.insert("tracing_enabled".into(), json!(s.tracing_enabled()));
        let logs = s.access_log_settings();
        if let (Some(destination_arn), Some(format)) =
            (logs.and_then(|l| l.destination_arn()), logs.and_then(|l| l.format()))
        {
            props.insert("access_log_settings".into(), json!({"destination_arn": destination_arn, "format": format}));
        }
        props.insert("tags".into(), json!(s.tags().cloned().unwrap_or_default()));
        Ok(Some(Live { props, outputs: out.clone() }))
    }

    async fn delete(ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError> {
        ctx.apigateway
            .delete_stage()
            .rest_api_id(out_str(out, "rest_api_id", "DeleteStage")?)
            .stage_name(id)
            .send()
            .await
            .map_err(|e| sdk_err("DeleteStage", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, out: &Outputs) -> Result<bool, AwsError> {
        gone_unless_read::<Self>(ctx, id, out).await
    }
}

/// What `create` (and `find`) return: the URL and ARN, the API's ID, and the access log
/// settings for `ready` to apply.
fn created(ctx: &Ctx, s: &Input) -> Created {
    let (api, stage, region) = (&s.rest_api_id, &s.stage_name, &ctx.region);
    let invoke_url = format!("https://{api}.execute-api.{region}.{}/{stage}", dns_suffix(region));
    let arn = format!("arn:{}:apigateway:{region}::/restapis/{api}/stages/{stage}", partition(region));
    let mut out =
        outputs([("id", stage), ("name", stage), ("invoke_url", &invoke_url), ("arn", &arn), ("rest_api_id", api)]);
    if let Some((destination_arn, format)) = &s.access_logs {
        out.insert("access_log_destination_arn".into(), json!(destination_arn));
        out.insert("access_log_format".into(), json!(format));
    }
    Created { id: stage.clone(), outputs: out }
}

/// The stage (`None`: it or its API is gone).
async fn get(
    ctx: &Ctx,
    rest_api_id: &str,
    stage_name: &str,
) -> Result<Option<aws_sdk_apigateway::operation::get_stage::GetStageOutput>, AwsError> {
    let r = ctx
        .apigateway
        .get_stage()
        .rest_api_id(rest_api_id)
        .stage_name(stage_name)
        .send()
        .await
        .map_err(|e| sdk_err("GetStage", e));
    found(r)
}

/// How long a stage's access log update may keep failing because the account's CloudWatch
/// role, just set, is not yet visible to it.
const ACCOUNT_ROLE_PROPAGATION: Duration = Duration::from_secs(60);

async fn configure_access_logs(ctx: &Ctx, stage_name: &str, out: &Outputs) -> Result<(), AwsError> {
    let (Some(destination_arn), Some(format)) = (
        out.get("access_log_destination_arn").and_then(Value::as_str),
        out.get("access_log_format").and_then(Value::as_str),
    ) else {
        return Ok(());
    };
    let rest_api_id = out_str(out, "rest_api_id", "UpdateStage")?;
    let start = tokio::time::Instant::now();
    poll(ctx, "UpdateStage", "the stage's access log settings", || async {
        let r = ctx
            .apigateway
            .update_stage()
            .rest_api_id(rest_api_id)
            .stage_name(stage_name)
            .patch_operations(replace("/accessLogSettings/destinationArn", destination_arn))
            .patch_operations(replace("/accessLogSettings/format", format))
            .send()
            .await
            .map_err(|e| sdk_err("UpdateStage", e));
        match r {
            Ok(_) => Ok(Some(())),
            // "CloudWatch Logs role ARN must be set in account settings to enable logging":
            // the apigateway:Account this stage waited for may take a moment to apply.
            Err(e)
                if e.code == "BadRequestException"
                    && e.message.to_ascii_lowercase().contains("role arn must be set")
                    && start.elapsed() < ACCOUNT_ROLE_PROPAGATION =>
            {
                Ok(None)
            }
            Err(e) if e.code == "BadRequestException" && e.message.to_ascii_lowercase().contains("role arn") => Err(e
                .with_hint(format!(
                    "set the region's API Gateway CloudWatch role first: add an {} resource to the plan",
                    super::account::SPEC.name
                ))),
            Err(e) => Err(e),
        }
    })
    .await
}

#[cfg(test)]
mod adopt_tests {
    use serde_json::json;

    use super::super::tests::{create, integrated_api, reads_back, start, tags};

    #[tokio::test]
    async fn stage_reads_back() {
        let (_moto, ctx) = start().await;
        let api_id = integrated_api(&ctx).await;
        let d = create(&ctx, "apigateway:Deployment", &json!({"rest_api_id": api_id})).await;
        let v = json!({
            "rest_api_id": api_id, "stage_name": "prod", "deployment_id": d.id, "description": "production",
            "tracing_enabled": true,
            "access_log_settings": {"destination_arn": "arn:aws:logs:us-east-1:123456789012:log-group:l", "format": "$context.requestId"},
            "tags": tags("s-dev", "stage"),
        });
        let live = reads_back(&ctx, "apigateway:Stage", &v).await;
        assert!(live.props.contains_key("access_log_settings"), "ready applied the access logs: {live:?}");
    }
}
