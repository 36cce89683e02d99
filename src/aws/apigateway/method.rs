//! `apigateway:Method`: an HTTP method on a REST API resource, identified by its
//! [`MethodKey`]. It carries no tags: it is ours when its API is this stack's.

use async_trait::async_trait;
use aws_sdk_apigateway::types::Method as ApiMethod;
use serde_json::{Map, Value};

use super::{HTTP_METHOD, MethodKey, RESOURCE_ID, REST_API_ID, find_in_method, gone_unless_read, read_in_method};
use crate::aws::adapter::{Item, Lifecycle, Live, Read};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, put, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "apigateway:Method",
    aliases: &["AWS::ApiGateway::Method", "aws_api_gateway_method", "aws:apigateway/method:Method"],
    summary: "An HTTP method on a REST API resource",
    calls: "PutMethod (rest_api_id, resource_id, http_method, authorization_type, api_key_required)",
    props: &[
        REST_API_ID,
        RESOURCE_ID,
        HTTP_METHOD,
        Prop::req("authorization_type", Kind::Str, "NONE, AWS_IAM, CUSTOM or COGNITO_USER_POOLS").in_place(),
        Prop::opt("api_key_required", Kind::Bool, "whether callers must send an API key").in_place(),
    ],
    attrs: &[attr("id", "`<rest_api_id>/<resource_id>/<http_method>`"), attr("http_method", "the HTTP verb")],
    taggable: false,
    holds_data: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

pub struct Method;

/// What a create reads.
pub struct Input {
    key: MethodKey,
    authorization_type: String,
    api_key_required: Option<bool>,
}

#[async_trait]
impl Lifecycle for Method {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = super::NOT_FOUND;
    const UPDATES: &'static [&'static str] = &["authorization_type", "api_key_required"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("PutMethod");
        Ok(Input {
            key: MethodKey::input(p)?,
            authorization_type: p.str("authorization_type")?,
            api_key_required: p.opt_bool("api_key_required")?,
        })
    }

    async fn create(ctx: &Ctx, m: &Input) -> Result<Created, AwsError> {
        keyed!(ctx.apigateway.put_method(), m.key)
            .authorization_type(&m.authorization_type)
            .set_api_key_required(m.api_key_required)
            .send()
            .await
            .map_err(|e| sdk_err("PutMethod", e))?;
        Ok(m.key.created(&[], None))
    }

    async fn find(ctx: &Ctx, m: &Input, who: &Identity) -> Result<Found, AwsError> {
        find_in_method(ctx, who, &m.key, m.key.created(&[], None), |_| true).await
    }

    /// UpdateMethod, one `replace` patch operation per changed property (PutMethod refuses an
    /// existing method).
    async fn update(ctx: &Ctx, _id: &str, out: &Outputs, m: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        if ctx.emulator {
            // moto 5.2.5 has no UpdateMethod (HTTP 500); its PutMethod overwrites the method.
            Self::create(ctx, m).await?;
            return Ok(out.clone());
        }
        let mut req = keyed!(ctx.apigateway.update_method(), m.key);
        if changed.iter().any(|c| c == "authorization_type") {
            req = req.patch_operations(super::replace("/authorizationType", &m.authorization_type));
        }
        if changed.iter().any(|c| c == "api_key_required") {
            let on = m.api_key_required.unwrap_or(false).to_string();
            req = req.patch_operations(super::replace("/apiKeyRequired", &on));
        }
        req.send().await.map_err(|e| sdk_err("UpdateMethod", e))?;
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
        let key = MethodKey::from_outputs(out, "DeleteMethod")?;
        keyed!(ctx.apigateway.delete_method(), key).send().await.map_err(|e| sdk_err("DeleteMethod", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, out: &Outputs) -> Result<bool, AwsError> {
        gone_unless_read::<Self>(ctx, id, out).await
    }
}

/// The method's live properties.
fn live(m: &ApiMethod, props: &mut Map<String, Value>) -> bool {
    put(props, "authorization_type", m.authorization_type());
    put(props, "api_key_required", m.api_key_required());
    true
}

#[cfg(test)]
mod adopt_tests {
    use serde_json::json;

    use super::super::tests::{api_with_resource, reads_back, start};

    #[tokio::test]
    async fn method_reads_back() {
        let (_moto, ctx) = start().await;
        let mut v = api_with_resource(&ctx).await;
        v["authorization_type"] = json!("AWS_IAM");
        v["api_key_required"] = json!(true);
        reads_back(&ctx, "apigateway:Method", &v).await;
    }
}
