//! Adapter for `apigateway:*` types (REST APIs, API Gateway v1).
//!
//! Every create is synchronous in AWS: the resource is usable once the call returns, so
//! `wait_ready` only finishes what needs the resource to exist first (a stage's access logs).
//! Methods, integrations and responses have no ID of their own; their outputs keep
//! `rest_api_id`, `resource_id`, `http_method` and `status_code`, which is all deletion needs.
//! The account setting is a region singleton: creation stashes the role it replaces and
//! deletion puts it back.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_apigateway::types::{
    ApiKeySourceType, EndpointConfiguration, EndpointType, IntegrationType, Op, PatchOperation,
};
use serde_json::Value;

use super::{AwsError, Created, Ctx, ErrorKind, Outputs, Props, out_str, sdk_err};

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    match ty {
        "apigateway:Account" => create_account(ctx, p).await,
        "apigateway:RestApi" => create_rest_api(ctx, p).await,
        "apigateway:Resource" => create_resource(ctx, p).await,
        "apigateway:Method" => create_method(ctx, p).await,
        "apigateway:Integration" => create_integration(ctx, p).await,
        "apigateway:MethodResponse" => create_method_response(ctx, p).await,
        "apigateway:IntegrationResponse" => create_integration_response(ctx, p).await,
        "apigateway:Deployment" => create_deployment(ctx, p).await,
        "apigateway:Stage" => create_stage(ctx, p).await,
        _ => Err(AwsError::input("Create", format!("{ty} is not implemented"))),
    }
}

pub(super) async fn wait_ready(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    match ty {
        "apigateway:Stage" => {
            configure_access_logs(ctx, id, out).await?;
            Ok(out.clone())
        }
        "apigateway:Account"
        | "apigateway:RestApi"
        | "apigateway:Resource"
        | "apigateway:Method"
        | "apigateway:Integration"
        | "apigateway:MethodResponse"
        | "apigateway:IntegrationResponse"
        | "apigateway:Deployment" => Ok(out.clone()),
        _ => Err(AwsError::input("Wait", format!("{ty} is not implemented"))),
    }
}

pub(super) async fn delete(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<(), AwsError> {
    let api = &ctx.apigateway;
    match ty {
        "apigateway:Account" => restore_account(ctx, out).await,
        "apigateway:RestApi" => {
            api.delete_rest_api().rest_api_id(id).send().await.map_err(|e| sdk_err("DeleteRestApi", e))?;
            Ok(())
        }
        "apigateway:Resource" => {
            let rest_api_id = out_str(out, "rest_api_id", "DeleteResource")?;
            api.delete_resource()
                .rest_api_id(rest_api_id)
                .resource_id(id)
                .send()
                .await
                .map_err(|e| sdk_err("DeleteResource", e))?;
            Ok(())
        }
        "apigateway:Method" => {
            let m = MethodKey::from_outputs(out, "DeleteMethod")?;
            api.delete_method()
                .rest_api_id(m.rest_api_id)
                .resource_id(m.resource_id)
                .http_method(m.http_method)
                .send()
                .await
                .map_err(|e| sdk_err("DeleteMethod", e))?;
            Ok(())
        }
        "apigateway:Integration" => {
            let m = MethodKey::from_outputs(out, "DeleteIntegration")?;
            api.delete_integration()
                .rest_api_id(m.rest_api_id)
                .resource_id(m.resource_id)
                .http_method(m.http_method)
                .send()
                .await
                .map_err(|e| sdk_err("DeleteIntegration", e))?;
            Ok(())
        }
        "apigateway:MethodResponse" => {
            let m = MethodKey::from_outputs(out, "DeleteMethodResponse")?;
            api.delete_method_response()
                .rest_api_id(m.rest_api_id)
                .resource_id(m.resource_id)
                .http_method(m.http_method)
                .status_code(out_str(out, "status_code", "DeleteMethodResponse")?)
                .send()
                .await
                .map_err(|e| sdk_err("DeleteMethodResponse", e))?;
            Ok(())
        }
        "apigateway:IntegrationResponse" => {
            let m = MethodKey::from_outputs(out, "DeleteIntegrationResponse")?;
            api.delete_integration_response()
                .rest_api_id(m.rest_api_id)
                .resource_id(m.resource_id)
                .http_method(m.http_method)
                .status_code(out_str(out, "status_code", "DeleteIntegrationResponse")?)
                .send()
                .await
                .map_err(|e| sdk_err("DeleteIntegrationResponse", e))?;
            Ok(())
        }
        "apigateway:Deployment" => {
            api.delete_deployment()
                .rest_api_id(out_str(out, "rest_api_id", "DeleteDeployment")?)
                .deployment_id(id)
                .send()
                .await
                .map_err(|e| sdk_err("DeleteDeployment", e))?;
            Ok(())
        }
        "apigateway:Stage" => {
            api.delete_stage()
                .rest_api_id(out_str(out, "rest_api_id", "DeleteStage")?)
                .stage_name(id)
                .send()
                .await
                .map_err(|e| sdk_err("DeleteStage", e))?;
            Ok(())
        }
        _ => Err(AwsError::input("Delete", format!("{ty} is not implemented"))),
    }
}

/// Nothing to wait for: API Gateway deletes synchronously (the Delete call answers once the
/// resource is gone, and a Get right after answers 404; Terraform's provider has no deletion
/// waiter for these either). The account setting was put back by `delete`.
pub(super) async fn wait_deleted(_ctx: &Ctx, ty: &str, _id: &str, _out: &Outputs) -> Result<(), AwsError> {
    match ty {
        "apigateway:Account"
        | "apigateway:RestApi"
        | "apigateway:Resource"
        | "apigateway:Method"
        | "apigateway:Integration"
        | "apigateway:MethodResponse"
        | "apigateway:IntegrationResponse"
        | "apigateway:Deployment"
        | "apigateway:Stage" => Ok(()),
        _ => Err(AwsError::input("Wait", format!("{ty} is not implemented"))),
    }
}

// ---- apigateway:Account ----

async fn create_account(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("UpdateAccount");
    let role_arn = p.str("cloudwatch_role_arn")?;
    p.finish()?;

    let current = ctx.apigateway.get_account().send().await.map_err(|e| sdk_err("GetAccount", e))?;
    let previous = current.cloudwatch_role_arn().unwrap_or_default().to_string();
    // Right after the role is created AWS answers "does not have required permissions" for a
    // few seconds; that error is classified Eventual and the executor retries this create.
    set_account_role(ctx, &role_arn).await?;
    Ok(Created {
        id: "account".into(),
        outputs: outputs([
            ("id", "account"),
            ("cloudwatch_role_arn", &role_arn),
            ("previous_cloudwatch_role_arn", &previous),
        ]),
    })
}

async fn set_account_role(ctx: &Ctx, role_arn: &str) -> Result<(), AwsError> {
    ctx.apigateway
        .update_account()
        .patch_operations(replace("/cloudwatchRoleArn", role_arn))
        .send()
        .await
        .map_err(|e| sdk_err("UpdateAccount", e))?;
    Ok(())
}

/// Puts back the role found at creation ("" clears the setting).
async fn restore_account(ctx: &Ctx, out: &Outputs) -> Result<(), AwsError> {
    let previous = out.get("previous_cloudwatch_role_arn").and_then(Value::as_str).unwrap_or_default();
    match set_account_role(ctx, previous).await {
        // The previous role was deleted or lost its trust since: API Gateway cannot use it
        // any more, so clearing the setting is the closest restore there is.
        Err(e) if !previous.is_empty() && e.code == "BadRequestException" => set_account_role(ctx, "").await,
        other => other,
    }
}

// ---- apigateway:RestApi ----

async fn create_rest_api(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("CreateRestApi");
    let name = p.str("name")?;
    let description = p.opt_str("description")?;
    let endpoint_configuration = match p.opt_struct("endpoint_configuration")? {
        None => None,
        Some(mut ec) => {
            let types: Vec<EndpointType> =
                ec.str_list("types")?.iter().map(|t| EndpointType::from(t.as_str())).collect();
            ec.finish()?;
            Some(EndpointConfiguration::builder().set_types(Some(types)).build())
        }
    };
    let api_key_source = p.opt_str("api_key_source")?.map(|s| ApiKeySourceType::from(s.as_str()));
    let disable_execute_api_endpoint = p.opt_bool("disable_execute_api_endpoint")?;
    let tags = str_map(p.tags()?);
    p.finish()?;

    let resp = ctx
        .apigateway
        .create_rest_api()
        .name(&name)
        .set_description(description)
        .set_endpoint_configuration(endpoint_configuration)
        .set_api_key_source(api_key_source)
        .set_disable_execute_api_endpoint(disable_execute_api_endpoint)
        .set_tags(tags)
        .send()
        .await
        .map_err(|e| sdk_err("CreateRestApi", e))?;
    let id = required(resp.id(), "CreateRestApi", "id")?;
    let root = required(resp.root_resource_id(), "CreateRestApi", "rootResourceId")?;
    let arn = format!("arn:{}:apigateway:{}::/restapis/{id}", partition(&ctx.region), ctx.region);
    Ok(Created { id: id.into(), outputs: outputs([("id", id), ("root_resource_id", root), ("arn", &arn)]) })
}

// ---- apigateway:Resource ----

async fn create_resource(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("CreateResource");
    let rest_api_id = p.str("rest_api_id")?;
    let parent_id = p.str("parent_id")?;
    let path_part = p.str("path_part")?;
    p.finish()?;

    let resp = ctx
        .apigateway
        .create_resource()
        .rest_api_id(&rest_api_id)
        .parent_id(&parent_id)
        .path_part(&path_part)
        .send()
        .await
        .map_err(|e| sdk_err("CreateResource", e))?;
    let id = required(resp.id(), "CreateResource", "id")?;
    let path = resp.path().unwrap_or_default();
    Ok(Created { id: id.into(), outputs: outputs([("id", id), ("path", path), ("rest_api_id", &rest_api_id)]) })
}

// ---- apigateway:Method and its children ----

/// What identifies a method (and, with a status code, its responses).
struct MethodKey<'a> {
    rest_api_id: &'a str,
    resource_id: &'a str,
    http_method: &'a str,
}

impl<'a> MethodKey<'a> {
    fn from_outputs(out: &'a Outputs, op: &'static str) -> Result<Self, AwsError> {
        Ok(MethodKey {
            rest_api_id: out_str(out, "rest_api_id", op)?,
            resource_id: out_str(out, "resource_id", op)?,
            http_method: out_str(out, "http_method", op)?,
        })
    }
}

/// Reads `rest_api_id`, `resource_id`, `http_method`.
fn method_props(p: &mut Props) -> Result<[String; 3], AwsError> {
    Ok([p.str("rest_api_id")?, p.str("resource_id")?, p.str("http_method")?])
}

/// The outputs every method-level resource keeps, so that deletion can find it.
fn method_outputs(id: &str, [api, res, method]: &[String; 3], extra: &[(&str, &str)]) -> Outputs {
    let mut out = outputs([("id", id), ("rest_api_id", api), ("resource_id", res), ("http_method", method)]);
    for (k, v) in extra {
        out.insert((*k).into(), Value::String((*v).into()));
    }
    out
}

async fn create_method(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("PutMethod");
    let key = method_props(p)?;
    let authorization_type = p.str("authorization_type")?;
    let api_key_required = p.opt_bool("api_key_required")?;
    p.finish()?;

    let [api, res, method] = &key;
    ctx.apigateway
        .put_method()
        .rest_api_id(api)
        .resource_id(res)
        .http_method(method)
        .authorization_type(authorization_type)
        .set_api_key_required(api_key_required)
        .send()
        .await
        .map_err(|e| sdk_err("PutMethod", e))?;
    let id = format!("{api}/{res}/{method}");
    Ok(Created { outputs: method_outputs(&id, &key, &[]), id })
}

async fn create_integration(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("PutIntegration");
    let key = method_props(p)?;
    let integration_type = IntegrationType::from(p.str("integration_type")?.as_str());
    let integration_http_method = p.opt_str("integration_http_method")?;
    let uri = p.opt_str("uri")?;
    let request_templates = str_map(p.str_map("request_templates")?);
    let passthrough_behavior = p.opt_str("passthrough_behavior")?;
    p.finish()?;

    let [api, res, method] = &key;
    ctx.apigateway
        .put_integration()
        .rest_api_id(api)
        .resource_id(res)
        .http_method(method)
        .r#type(integration_type)
        .set_integration_http_method(integration_http_method)
        .set_uri(uri)
        .set_request_templates(request_templates)
        .set_passthrough_behavior(passthrough_behavior)
        .send()
        .await
        .map_err(|e| sdk_err("PutIntegration", e))?;
    let id = format!("{api}/{res}/{method}/integration");
    Ok(Created { outputs: method_outputs(&id, &key, &[]), id })
}

async fn create_method_response(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("PutMethodResponse");
    let key = method_props(p)?;
    let status_code = p.str("status_code")?;
    let response_models = str_map(p.str_map("response_models")?);
    p.finish()?;

    let [api, res, method] = &key;
    ctx.apigateway
        .put_method_response()
        .rest_api_id(api)
        .resource_id(res)
        .http_method(method)
        .status_code(&status_code)
        .set_response_models(response_models)
        .send()
        .await
        .map_err(|e| sdk_err("PutMethodResponse", e))?;
    let id = format!("{api}/{res}/{method}/{status_code}");
    Ok(Created { outputs: method_outputs(&id, &key, &[("status_code", &status_code)]), id })
}

async fn create_integration_response(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("PutIntegrationResponse");
    let key = method_props(p)?;
    let status_code = p.str("status_code")?;
    let selection_pattern = p.opt_str("selection_pattern")?;
    let response_templates = str_map(p.str_map("response_templates")?);
    p.finish()?;

    let [api, res, method] = &key;
    ctx.apigateway
        .put_integration_response()
        .rest_api_id(api)
        .resource_id(res)
        .http_method(method)
        .status_code(&status_code)
        .set_selection_pattern(selection_pattern)
        .set_response_templates(response_templates)
        .send()
        .await
        .map_err(|e| {
            // AWS answers 404 "Invalid Response status code specified" when the integration
            // (or the method response) is missing: say which resource must come first.
            let e = sdk_err("PutIntegrationResponse", e);
            if e.is_not_found() {
                AwsError { kind: ErrorKind::Fatal, ..e }.with_hint(
                    "create the method's apigateway:Integration and the apigateway:MethodResponse of this status \
                     code first (same rest_api_id, resource_id and http_method)",
                )
            } else {
                e
            }
        })?;
    let id = format!("{api}/{res}/{method}/integration/{status_code}");
    Ok(Created { outputs: method_outputs(&id, &key, &[("status_code", &status_code)]), id })
}

// ---- apigateway:Deployment ----

async fn create_deployment(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("CreateDeployment");
    let rest_api_id = p.str("rest_api_id")?;
    let description = p.opt_str("description")?;
    p.finish()?;

    let resp = ctx
        .apigateway
        .create_deployment()
        .rest_api_id(&rest_api_id)
        .set_description(description)
        .send()
        .await
        .map_err(|e| sdk_err("CreateDeployment", e))?;
    let id = required(resp.id(), "CreateDeployment", "id")?;
    Ok(Created { id: id.into(), outputs: outputs([("id", id), ("rest_api_id", &rest_api_id)]) })
}

// ---- apigateway:Stage ----

async fn create_stage(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("CreateStage");
    let rest_api_id = p.str("rest_api_id")?;
    let stage_name = p.str("stage_name")?;
    let deployment_id = p.str("deployment_id")?;
    let description = p.opt_str("description")?;
    let tracing_enabled = p.opt_bool("tracing_enabled")?;
    let access_logs = match p.opt_struct("access_log_settings")? {
        None => None,
        Some(mut s) => {
            s.for_op("UpdateStage");
            let destination_arn = s.str("destination_arn")?;
            let format = s.str("format")?;
            s.finish()?;
            Some((destination_arn, format))
        }
    };
    let tags = str_map(p.tags()?);
    p.finish()?;

    ctx.apigateway
        .create_stage()
        .rest_api_id(&rest_api_id)
        .stage_name(&stage_name)
        .deployment_id(&deployment_id)
        .set_description(description)
        .set_tracing_enabled(tracing_enabled)
        .set_tags(tags)
        .send()
        .await
        .map_err(|e| sdk_err("CreateStage", e))?;

    let region = &ctx.region;
    let invoke_url = format!("https://{rest_api_id}.execute-api.{region}.{}/{stage_name}", dns_suffix(region));
    let arn = format!("arn:{}:apigateway:{region}::/restapis/{rest_api_id}/stages/{stage_name}", partition(region));
    let mut out = outputs([
        ("id", &stage_name),
        ("name", &stage_name),
        ("invoke_url", &invoke_url),
        ("arn", &arn),
        ("rest_api_id", &rest_api_id),
    ]);
    // CreateStage takes no access log settings: they are an UpdateStage, made in wait_ready
    // once the stage is in state (a failure there must not leave an unrecorded stage behind).
    if let Some((destination_arn, format)) = access_logs {
        out.insert("access_log_destination_arn".into(), Value::String(destination_arn));
        out.insert("access_log_format".into(), Value::String(format));
    }
    Ok(Created { id: stage_name, outputs: out })
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
    super::poll(ctx, "UpdateStage", "the stage's access log settings", || async {
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
            Err(e) if e.code == "BadRequestException" && e.message.to_ascii_lowercase().contains("role arn") => {
                Err(e.with_hint(
                    "set the region's API Gateway CloudWatch role first: add an apigateway:Account resource to the plan",
                ))
            }
            Err(e) => Err(e),
        }
    })
    .await
}

// ---- helpers ----

fn replace(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder().op(Op::Replace).path(path).value(value).build()
}

/// A table for the SDK; an empty table is not sent.
fn str_map(pairs: Vec<(String, String)>) -> Option<HashMap<String, String>> {
    if pairs.is_empty() { None } else { Some(pairs.into_iter().collect()) }
}

fn outputs<const N: usize>(pairs: [(&str, &str); N]) -> Outputs {
    pairs.into_iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect()
}

fn required<'a>(v: Option<&'a str>, op: &'static str, field: &str) -> Result<&'a str, AwsError> {
    v.ok_or_else(|| AwsError {
        operation: op,
        code: "MissingField".into(),
        message: format!("the response has no `{field}`"),
        kind: ErrorKind::Fatal,
        hint: None,
    })
}

fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" }
}

/// Adoption after a crash is not written for this service yet: nothing is found, so a create
/// that AWS accepted but the state never recorded is created again.
pub(super) async fn adopt(_ctx: &Ctx, _ty: &str, _p: &mut Props) -> Result<Option<Created>, AwsError> {
    Ok(None)
}
