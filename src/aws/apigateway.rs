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

use super::{AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, out_str, sdk_err};

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
        "apigateway:Account" => {
            apply_account(ctx, out).await?;
            Ok(out.clone())
        }
        "apigateway:RestApi"
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

/// Reads the setting only: the role found is stashed (and so recorded in the state) before
/// `wait_ready` changes anything, so a crash can never lose the value teardown restores.
async fn create_account(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("UpdateAccount");
    let role_arn = p.str("cloudwatch_role_arn")?;
    p.finish()?;

    let current = ctx.apigateway.get_account().send().await.map_err(|e| sdk_err("GetAccount", e))?;
    let previous = current.cloudwatch_role_arn().unwrap_or_default().to_string();
    Ok(Created {
        id: "account".into(),
        outputs: outputs([
            ("id", "account"),
            ("cloudwatch_role_arn", &role_arn),
            ("previous_cloudwatch_role_arn", &previous),
        ]),
    })
}

/// Sets the region's CloudWatch role (idempotent). Right after the role is created AWS answers
/// "does not have required permissions" for a few seconds; that error is classified Eventual
/// and the engine retries.
async fn apply_account(ctx: &Ctx, out: &Outputs) -> Result<(), AwsError> {
    let role_arn = out_str(out, "cloudwatch_role_arn", "UpdateAccount")?;
    set_account_role(ctx, role_arn).await
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

// ---- adoption after a crash ----

/// Finds what an interrupted create made, from the same properties, and returns what `create`
/// would have returned:
/// - Account: the region's setting already holds `cloudwatch_role_arn` (see [`adopt_account`]);
/// - RestApi: GetRestApis, by name and the `ironplan:stack`/`ironplan:resource` tags;
/// - Resource: GetResources of the API, by `parent_id` + `path_part`;
/// - Method, Integration, MethodResponse, IntegrationResponse: GetMethod by `rest_api_id` +
///   `resource_id` + `http_method`, then the integration and the response maps it carries
///   (by `status_code`);
/// - Deployment: the API's deployment with the same description (none: one without), newest
///   first;
/// - Stage: GetStage by `rest_api_id` + `stage_name`.
///
/// The API and its stage carry the identity tags; what lives inside an API carries none and is
/// ours only in an API of this stack ([`api_verdict`]); the account setting only when it
/// points at a role of this stack.
pub(super) async fn adopt(ctx: &Ctx, ty: &str, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    match ty {
        "apigateway:Account" => adopt_account(ctx, p, who).await,
        "apigateway:RestApi" => adopt_rest_api(ctx, p, who).await,
        "apigateway:Resource" => adopt_resource(ctx, p, who).await,
        "apigateway:Method" => {
            p.for_op("PutMethod");
            let key = method_props(p)?;
            p.str("authorization_type")?;
            p.opt_bool("api_key_required")?;
            if find_method(ctx, &key).await?.is_none() {
                return Ok(Found::Nothing);
            }
            let [api, res, method] = &key;
            let id = format!("{api}/{res}/{method}");
            api_verdict(ctx, who, api, Created { outputs: method_outputs(&id, &key, &[]), id }).await
        }
        "apigateway:Integration" => {
            p.for_op("PutIntegration");
            let key = method_props(p)?;
            p.str("integration_type")?;
            p.opt_str("integration_http_method")?;
            p.opt_str("uri")?;
            p.str_map("request_templates")?;
            p.opt_str("passthrough_behavior")?;
            let Some(m) = find_method(ctx, &key).await? else { return Ok(Found::Nothing) };
            // An integration always has a type (moto answers an empty one for "none").
            if m.method_integration().and_then(|i| i.r#type()).is_none() {
                return Ok(Found::Nothing);
            }
            let [api, res, method] = &key;
            let id = format!("{api}/{res}/{method}/integration");
            api_verdict(ctx, who, api, Created { outputs: method_outputs(&id, &key, &[]), id }).await
        }
        "apigateway:MethodResponse" => {
            p.for_op("PutMethodResponse");
            let key = method_props(p)?;
            let status_code = p.str("status_code")?;
            p.str_map("response_models")?;
            let Some(m) = find_method(ctx, &key).await? else { return Ok(Found::Nothing) };
            if !m.method_responses().is_some_and(|r| r.contains_key(&status_code)) {
                return Ok(Found::Nothing);
            }
            let [api, res, method] = &key;
            let id = format!("{api}/{res}/{method}/{status_code}");
            let created = Created { outputs: method_outputs(&id, &key, &[("status_code", &status_code)]), id };
            api_verdict(ctx, who, api, created).await
        }
        "apigateway:IntegrationResponse" => {
            p.for_op("PutIntegrationResponse");
            let key = method_props(p)?;
            let status_code = p.str("status_code")?;
            p.opt_str("selection_pattern")?;
            p.str_map("response_templates")?;
            let Some(m) = find_method(ctx, &key).await? else { return Ok(Found::Nothing) };
            let found = m
                .method_integration()
                .and_then(|i| i.integration_responses())
                .is_some_and(|r| r.contains_key(&status_code));
            if !found {
                return Ok(Found::Nothing);
            }
            let [api, res, method] = &key;
            let id = format!("{api}/{res}/{method}/integration/{status_code}");
            let created = Created { outputs: method_outputs(&id, &key, &[("status_code", &status_code)]), id };
            api_verdict(ctx, who, api, created).await
        }
        "apigateway:Deployment" => adopt_deployment(ctx, p, who).await,
        "apigateway:Stage" => adopt_stage(ctx, p, who).await,
        _ => Err(AwsError::input("Adopt", format!("{ty} is not implemented"))),
    }
}

/// The region's setting is ours when it already holds the plan's role and that role is this
/// stack's (its identity tags): the UpdateAccount went through. The role it replaced is lost
/// with the crash (the intent keeps no outputs), so the adopted outputs say "the setting was
/// empty before": teardown then clears the setting rather than leave it on a role the teardown
/// deletes. A setting that points at a role that is not this stack's is never adopted.
/// `create` changes nothing (it only reads the setting), so a crash never leaves a change to
/// adopt; this matters for a lost state (`teardown --discover`).
async fn adopt_account(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    p.for_op("UpdateAccount");
    let role_arn = p.str("cloudwatch_role_arn")?;
    let current = ctx.apigateway.get_account().send().await.map_err(|e| sdk_err("GetAccount", e))?;
    if current.cloudwatch_role_arn() != Some(role_arn.as_str()) {
        return Ok(Found::Nothing);
    }
    let created = Created {
        id: "account".into(),
        outputs: outputs([("id", "account"), ("cloudwatch_role_arn", &role_arn), ("previous_cloudwatch_role_arn", "")]),
    };
    // arn:aws:iam::<account>:role/<path/>name
    let role_name = role_arn.rsplit('/').next().unwrap_or_default();
    let what = format!("CloudWatch role `{role_arn}`");
    match ctx.iam.get_role().role_name(role_name).send().await {
        Ok(r) => {
            let tags = r.role().map(|r| r.tags()).unwrap_or_default();
            Ok(who.claim_by_parent(created, &what, tags.iter().map(|t| (t.key(), t.value()))))
        }
        Err(e) => match sdk_err("GetRole", e) {
            e if e.is_not_found() => {
                Ok(Found::NotOurs { id: created.id, why: format!("its {what} does not exist in this account") })
            }
            e => Err(e),
        },
    }
}

/// Tags as pairs, for the ownership guard.
fn pairs(tags: Option<&HashMap<String, String>>) -> impl Iterator<Item = (&str, &str)> {
    tags.into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// What lives inside an API carries no tags: it is ours when the API is this stack's.
async fn api_verdict(ctx: &Ctx, who: &Identity, rest_api_id: &str, created: Created) -> Result<Found, AwsError> {
    let r = ctx.apigateway.get_rest_api().rest_api_id(rest_api_id).send().await.map_err(|e| sdk_err("GetRestApi", e));
    let Some(api) = found(r)? else { return Ok(Found::Nothing) };
    Ok(who.claim_by_parent(created, &format!("REST API `{rest_api_id}`"), pairs(api.tags())))
}

/// Names are not unique in API Gateway: an API is ours only with the name and both identity
/// tags of the create (the newest if a crash left several); a same-named API without them is
/// someone else's and in nobody's way.
async fn adopt_rest_api(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    p.for_op("CreateRestApi");
    let name = p.str("name")?;
    p.opt_str("description")?;
    if let Some(mut ec) = p.opt_struct("endpoint_configuration")? {
        ec.str_list("types")?;
    }
    p.opt_str("api_key_source")?;
    p.opt_bool("disable_execute_api_endpoint")?;
    let _tags = p.tags()?;

    let apis: Vec<_> = ctx
        .apigateway
        .get_rest_apis()
        .limit(500)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(|e| sdk_err("GetRestApis", e))?;
    let Some(a) = apis
        .into_iter()
        .filter(|a| a.name() == Some(name.as_str()) && who.judge(pairs(a.tags())).is_ok())
        .max_by_key(|a| a.created_date().map(|d| (d.secs(), d.subsec_nanos())))
    else {
        return Ok(Found::Nothing);
    };
    let id = required(a.id(), "GetRestApis", "id")?;
    let root = match a.root_resource_id() {
        Some(r) => r.to_string(),
        None => {
            let resources = api_resources(ctx, id).await?.unwrap_or_default();
            let root = resources.iter().find(|r| r.path() == Some("/")).and_then(|r| r.id());
            required(root, "GetResources", "id of `/`")?.to_string()
        }
    };
    let arn = format!("arn:{}:apigateway:{}::/restapis/{id}", partition(&ctx.region), ctx.region);
    let created = Created { id: id.into(), outputs: outputs([("id", id), ("root_resource_id", &root), ("arn", &arn)]) };
    Ok(who.claim(created, pairs(a.tags())))
}

/// The resources of an API (`None`: the API is gone).
async fn api_resources(
    ctx: &Ctx,
    rest_api_id: &str,
) -> Result<Option<Vec<aws_sdk_apigateway::types::Resource>>, AwsError> {
    let r = ctx
        .apigateway
        .get_resources()
        .rest_api_id(rest_api_id)
        .limit(500)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| sdk_err("GetResources", e));
    found(r)
}

async fn adopt_resource(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    p.for_op("CreateResource");
    let rest_api_id = p.str("rest_api_id")?;
    let parent_id = p.str("parent_id")?;
    let path_part = p.str("path_part")?;
    let Some(resources) = api_resources(ctx, &rest_api_id).await? else { return Ok(Found::Nothing) };
    let Some(r) = resources
        .iter()
        .find(|r| r.parent_id() == Some(parent_id.as_str()) && r.path_part() == Some(path_part.as_str()))
    else {
        return Ok(Found::Nothing);
    };
    let id = required(r.id(), "GetResources", "id")?;
    let path = r.path().unwrap_or_default();
    let created =
        Created { id: id.into(), outputs: outputs([("id", id), ("path", path), ("rest_api_id", &rest_api_id)]) };
    api_verdict(ctx, who, &rest_api_id, created).await
}

/// The method with its integration and responses (`None`: the method, its resource or its API
/// is gone). The response maps of GetMethod answer for the responses too: moto answers 500,
/// not 404, to GetMethodResponse/GetIntegrationResponse of a missing one.
async fn find_method(
    ctx: &Ctx,
    [api, res, method]: &[String; 3],
) -> Result<Option<aws_sdk_apigateway::operation::get_method::GetMethodOutput>, AwsError> {
    let r = ctx
        .apigateway
        .get_method()
        .rest_api_id(api)
        .resource_id(res)
        .http_method(method)
        .send()
        .await
        .map_err(|e| sdk_err("GetMethod", e));
    found(r)
}

async fn adopt_deployment(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    p.for_op("CreateDeployment");
    let rest_api_id = p.str("rest_api_id")?;
    let description = p.opt_str("description")?.unwrap_or_default();
    let r = ctx
        .apigateway
        .get_deployments()
        .rest_api_id(&rest_api_id)
        .limit(500)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| sdk_err("GetDeployments", e));
    let Some(deployments) = found(r)? else { return Ok(Found::Nothing) };
    // A create without a description makes a deployment without one: one with another
    // description is not what the crashed create made.
    let Some(d) = deployments
        .iter()
        .filter(|d| d.description().unwrap_or_default() == description)
        .max_by_key(|d| d.created_date().map(|d| (d.secs(), d.subsec_nanos())))
    else {
        return Ok(Found::Nothing);
    };
    let id = required(d.id(), "GetDeployments", "id")?;
    let created = Created { id: id.into(), outputs: outputs([("id", id), ("rest_api_id", &rest_api_id)]) };
    api_verdict(ctx, who, &rest_api_id, created).await
}

async fn adopt_stage(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    p.for_op("CreateStage");
    let rest_api_id = p.str("rest_api_id")?;
    let stage_name = p.str("stage_name")?;
    p.str("deployment_id")?;
    p.opt_str("description")?;
    p.opt_bool("tracing_enabled")?;
    let access_logs = match p.opt_struct("access_log_settings")? {
        None => None,
        Some(mut s) => {
            s.for_op("UpdateStage");
            Some((s.str("destination_arn")?, s.str("format")?))
        }
    };
    let _tags = p.tags()?;

    let r = ctx
        .apigateway
        .get_stage()
        .rest_api_id(&rest_api_id)
        .stage_name(&stage_name)
        .send()
        .await
        .map_err(|e| sdk_err("GetStage", e));
    // A stage name is unique in its API: another stage of that name blocks the create.
    let Some(s) = found(r)? else { return Ok(Found::Nothing) };
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
    // As create: wait_ready (run again after adoption) applies them.
    if let Some((destination_arn, format)) = access_logs {
        out.insert("access_log_destination_arn".into(), Value::String(destination_arn));
        out.insert("access_log_format".into(), Value::String(format));
    }
    Ok(who.claim(Created { id: stage_name, outputs: out }, pairs(s.tags())))
}

/// Inside a lookup: "not found" (of the thing or of its parent) means nothing to adopt.
fn found<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod adopt_tests {
    use serde_json::{Value, json};

    use super::super::{Created, Ctx, Props};
    use crate::aws::testing::{assert_not_ours, find};
    use crate::emulator::Moto;

    async fn start() -> (Moto, Ctx) {
        let moto = Moto::start().expect("moto");
        let connect = moto.connect();
        let ctx = Ctx::new(&connect).await.expect("ctx");
        (moto, ctx)
    }

    fn props(v: &Value) -> Props {
        Props::new(v.as_object().expect("a table").clone())
    }

    async fn create(ctx: &Ctx, ty: &str, v: &Value) -> Created {
        super::create(ctx, ty, &mut props(v)).await.unwrap_or_else(|e| panic!("create {ty}: {e}"))
    }

    async fn adopt(ctx: &Ctx, ty: &str, v: &Value) -> Option<Created> {
        find(ctx, ty, v).await.ours()
    }

    /// Adopting finds exactly what create returned.
    async fn adopts_as_created(ctx: &Ctx, ty: &str, v: &Value, created: &Created) {
        let a = adopt(ctx, ty, v).await.unwrap_or_else(|| panic!("{ty} not adopted"));
        assert_eq!(a.id, created.id, "{ty}");
        assert_eq!(a.outputs, created.outputs, "{ty}");
    }

    async fn delete(ctx: &Ctx, ty: &str, c: &Created) {
        super::delete(ctx, ty, &c.id, &c.outputs).await.unwrap_or_else(|e| panic!("delete {ty}: {e}"));
        super::wait_deleted(ctx, ty, &c.id, &c.outputs).await.unwrap();
    }

    fn tags(stack: &str, resource: &str) -> Value {
        json!({"ironplan:stack": stack, "ironplan:resource": resource, "ManagedBy": "ironplan"})
    }

    fn s(c: &Created, key: &str) -> String {
        c.outputs[key].as_str().unwrap().to_string()
    }

    #[tokio::test]
    async fn account() {
        let (_moto, ctx) = start().await;
        const TY: &str = "apigateway:Account";
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let role_props = json!({"role_name": "s-dev-apigw-logs", "assume_role_policy_document": trust,
            "tags": tags("s-dev", "apigw_role")});
        let role = super::super::create(&ctx, "iam:Role", &mut props(&role_props)).await.expect("role");
        let role = s(&role, "arn");
        let v = json!({"cloudwatch_role_arn": role});
        // Create only reads the setting; the change is made once the state holds the value
        // to restore, so there is never anything to adopt.
        let created = create(&ctx, TY, &v).await;
        assert_eq!(s(&created, "previous_cloudwatch_role_arn"), "");
        let now = ctx.apigateway.get_account().send().await.expect("GetAccount");
        assert_eq!(now.cloudwatch_role_arn().unwrap_or_default(), "", "create changed nothing");
        super::wait_ready(&ctx, TY, &created.id, &created.outputs).await.expect("wait_ready");
        let now = ctx.apigateway.get_account().send().await.expect("GetAccount");
        assert_eq!(now.cloudwatch_role_arn(), Some(role.as_str()));
        // Found pointing at the plan's role, which is this stack's (a lost state): adopted, to
        // be cleared on teardown.
        let a = adopt(&ctx, TY, &v).await.expect("adopted");
        assert_eq!(s(&a, "previous_cloudwatch_role_arn"), "");
        delete(&ctx, TY, &created).await;
        assert!(adopt(&ctx, TY, &v).await.is_none());
        let now = ctx.apigateway.get_account().send().await.expect("GetAccount");
        assert_eq!(now.cloudwatch_role_arn().unwrap_or_default(), "", "teardown restored the setting");
    }

    /// A region setting that points at a role ironplan did not create is someone else's:
    /// `teardown --discover` must not adopt it (and clear it).
    #[tokio::test]
    async fn account_on_a_role_that_is_not_ours_is_left_alone() {
        let (_moto, ctx) = start().await;
        const TY: &str = "apigateway:Account";
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        // Made outside ironplan: no identity tags.
        let out = ctx.iam.create_role().role_name("shared-apigw-logs").assume_role_policy_document(trust).send().await;
        let arn = out.expect("CreateRole").role().map(|r| r.arn().to_string()).expect("arn");
        let patch = aws_sdk_apigateway::types::PatchOperation::builder()
            .op(aws_sdk_apigateway::types::Op::Replace)
            .path("/cloudwatchRoleArn")
            .value(&arn)
            .build();
        ctx.apigateway.update_account().patch_operations(patch).send().await.expect("UpdateAccount");
        let v = json!({"cloudwatch_role_arn": arn});
        assert_not_ours(&find(&ctx, TY, &v).await, "has no `ironplan:stack` tag");
        // A role that does not exist at all proves nothing either.
        let gone = json!({"cloudwatch_role_arn": "arn:aws:iam::123456789012:role/nobody"});
        assert!(adopt(&ctx, TY, &gone).await.is_none());
    }

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
}
