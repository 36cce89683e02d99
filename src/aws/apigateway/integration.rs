//! `apigateway:Integration`: what a REST API method calls, one per method (its ID is the
//! method's [`MethodKey`] and `/integration`). It carries no tags: it is ours when its API is
//! this stack's.

use async_trait::async_trait;
use aws_sdk_apigateway::types::IntegrationType;
use aws_sdk_apigateway::types::Method as ApiMethod;
use serde_json::{Map, Value};

use super::{
    HTTP_METHOD, MethodKey, RESOURCE_ID, REST_API_ID, find_in_method, gone_unless_read, read_in_method, str_map, table,
    wait_for_method,
};
use crate::aws::adapter::{Item, Lifecycle, Live, Read};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, put, sdk_err};
use crate::schema::{Implied, Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "apigateway:Integration",
    aliases: &["aws_api_gateway_integration", "aws:apigateway/integration:Integration"],
    summary: "What a REST API method calls (a Lambda, an HTTP backend, an AWS service, or a mock)",
    calls: "PutIntegration (rest_api_id, resource_id, http_method, integration_type (the SDK's `type`), \
            integration_http_method, uri, request_templates, passthrough_behavior)",
    props: &[
        REST_API_ID,
        RESOURCE_ID,
        HTTP_METHOD,
        Prop::req("integration_type", Kind::Str, "the SDK's `type`: MOCK, HTTP, HTTP_PROXY, AWS or AWS_PROXY")
            .in_place(),
        Prop::opt("integration_http_method", Kind::Str, "the verb used to call the backend (not for MOCK)").in_place(),
        Prop::opt("uri", Kind::Str, "the backend's URI or AWS service ARN (not for MOCK)").in_place(),
        Prop::opt(
            "request_templates",
            Kind::StrMap,
            "mapping templates by content type (sensitive: they may carry credentials for the backend)",
        )
        .sensitive()
        .in_place(),
        Prop::opt("passthrough_behavior", Kind::Str, "WHEN_NO_MATCH, WHEN_NO_TEMPLATES or NEVER").in_place(),
    ],
    attrs: &[attr("id", "`<rest_api_id>/<resource_id>/<http_method>/integration`")],
    taggable: false,
    holds_data: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[Implied { why: "AWS rejects an integration until its method exists", find: wait_for_method }],
};

pub struct Integration;

/// What a create reads.
pub struct Input {
    key: MethodKey,
    integration_type: String,
    integration_http_method: Option<String>,
    uri: Option<String>,
    request_templates: Vec<(String, String)>,
    passthrough_behavior: Option<String>,
}

#[async_trait]
impl Lifecycle for Integration {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = super::NOT_FOUND;
    const UPDATES: &'static [&'static str] =
        &["integration_type", "integration_http_method", "uri", "request_templates", "passthrough_behavior"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("PutIntegration");
        Ok(Input {
            key: MethodKey::input(p)?,
            integration_type: p.str("integration_type")?,
            integration_http_method: p.opt_str("integration_http_method")?,
            uri: p.opt_str("uri")?,
            request_templates: p.str_map("request_templates")?,
            passthrough_behavior: p.opt_str("passthrough_behavior")?,
        })
    }

    async fn create(ctx: &Ctx, i: &Input) -> Result<Created, AwsError> {
        keyed!(ctx.apigateway.put_integration(), i.key)
            .r#type(IntegrationType::from(i.integration_type.as_str()))
            .set_integration_http_method(i.integration_http_method.clone())
            .set_uri(i.uri.clone())
            .set_request_templates(str_map(i.request_templates.clone()))
            .set_passthrough_behavior(i.passthrough_behavior.clone())
            .send()
            .await
            .map_err(|e| sdk_err("PutIntegration", e))?;
        Ok(created(&i.key))
    }

    /// The method's integration: an integration always has a type (moto answers an empty one
    /// for "none").
    async fn find(ctx: &Ctx, i: &Input, who: &Identity) -> Result<Found, AwsError> {
        find_in_method(ctx, who, &i.key, created(&i.key), |m| integration_type(m).is_some()).await
    }

    /// From GetMethod's `methodIntegration` (moto answers 200 to GetIntegration of a deleted
    /// integration). `request_templates` are sensitive: `read` reports them, the state keeps
    /// only their digest.
    /// PutIntegration replaces the method's integration: the create call again (a new deployment
    /// makes it live: the deployment is a snapshot of it).
    async fn update(ctx: &Ctx, _id: &str, out: &Outputs, i: &Input, _changed: &[String]) -> Result<Outputs, AwsError> {
        Self::create(ctx, i).await?;
        Ok(out.clone())
    }

    async fn read(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        read_in_method(ctx, out, live).await
    }

    const READ_BATCH: usize = super::IN_API_BATCH;

    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        super::read_many_in_method(ctx, items, live).await
    }

    async fn delete(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<(), AwsError> {
        let key = MethodKey::from_outputs(out, "DeleteIntegration")?;
        keyed!(ctx.apigateway.delete_integration(), key).send().await.map_err(|e| sdk_err("DeleteIntegration", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, out: &Outputs) -> Result<bool, AwsError> {
        gone_unless_read::<Self>(ctx, id, out).await
    }
}

fn created(key: &MethodKey) -> Created {
    key.created(&["integration"], None)
}

/// The method's integration type, if it has an integration.
fn integration_type(m: &ApiMethod) -> Option<&IntegrationType> {
    m.method_integration().and_then(|i| i.r#type())
}

/// The integration's live properties, from its method (false: it has none).
fn live(m: &ApiMethod, props: &mut Map<String, Value>) -> bool {
    let Some(kind) = integration_type(m) else { return false };
    props.insert("integration_type".into(), kind.as_str().into());
    let i = m.method_integration();
    put(props, "integration_http_method", i.and_then(|i| i.http_method()));
    put(props, "uri", i.and_then(|i| i.uri()));
    put(props, "request_templates", table(i.and_then(|i| i.request_templates())));
    put(props, "passthrough_behavior", i.and_then(|i| i.passthrough_behavior()));
    true
}

#[cfg(test)]
mod adopt_tests {
    use serde_json::json;

    use super::super::tests::{method, reads_back, start};

    #[tokio::test]
    async fn integration_reads_back() {
        let (_moto, ctx) = start().await;
        let mut v = method(&ctx).await;
        v["integration_type"] = json!("HTTP");
        v["integration_http_method"] = json!("POST");
        v["uri"] = json!("https://example.com/patients");
        v["request_templates"] = json!({"application/json": "{\"id\": \"$input.params('id')\"}"});
        v["passthrough_behavior"] = json!("NEVER");
        let live = reads_back(&ctx, "apigateway:Integration", &v).await;
        assert!(live.props.contains_key("request_templates"), "{live:?}");
    }
}
