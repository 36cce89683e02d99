//! `apigateway:MethodResponse`: a response a REST API method may return, identified by the
//! method's [`MethodKey`] and its status code. It carries no tags: it is ours when its API is
//! this stack's.

use async_trait::async_trait;
use aws_sdk_apigateway::types::Method as ApiMethod;
use serde_json::{Map, Value};

use super::{
    HTTP_METHOD, MethodKey, RESOURCE_ID, REST_API_ID, STATUS_CODE, find_in_method, gone_unless_read, read_in_method,
    str_map, table, wait_for_method,
};
use crate::aws::adapter::{Item, Lifecycle, Live, Read};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, out_str, put, sdk_err};
use crate::schema::{Implied, Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "apigateway:MethodResponse",
    aliases: &["aws_api_gateway_method_response", "aws:apigateway/methodResponse:MethodResponse"],
    summary: "A response a REST API method may return",
    calls: "PutMethodResponse (rest_api_id, resource_id, http_method, status_code, response_models)",
    props: &[
        REST_API_ID,
        RESOURCE_ID,
        HTTP_METHOD,
        STATUS_CODE,
        // Not in UPDATES: moto 5.2.5 has no UpdateMethodResponse (500), so a change is untested.
        Prop::opt("response_models", Kind::StrMap, "model names by content type (`application/json = \"Empty\"`)")
            .in_place(),
    ],
    attrs: &[
        attr("id", "`<rest_api_id>/<resource_id>/<http_method>/<status_code>`"),
        attr("status_code", "the status code"),
    ],
    taggable: false,
    holds_data: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[Implied { why: "AWS rejects a method response until its method exists", find: wait_for_method }],
};

pub struct MethodResponse;

/// What a create reads.
pub struct Input {
    key: MethodKey,
    status_code: String,
    response_models: Vec<(String, String)>,
}

#[async_trait]
impl Lifecycle for MethodResponse {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = super::NOT_FOUND;

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("PutMethodResponse");
        Ok(Input {
            key: MethodKey::input(p)?,
            status_code: p.str("status_code")?,
            response_models: p.str_map("response_models")?,
        })
    }

    async fn create(ctx: &Ctx, r: &Input) -> Result<Created, AwsError> {
        keyed!(ctx.apigateway.put_method_response(), r.key)
            .status_code(&r.status_code)
            .set_response_models(str_map(r.response_models.clone()))
            .send()
            .await
            .map_err(|e| sdk_err("PutMethodResponse", e))?;
        Ok(created(r))
    }

    /// The response of this status code among GetMethod's `methodResponses`.
    async fn find(ctx: &Ctx, r: &Input, who: &Identity) -> Result<Found, AwsError> {
        let present = |m: &ApiMethod| m.method_responses().is_some_and(|rs| rs.contains_key(&r.status_code));
        find_in_method(ctx, who, &r.key, created(r), present).await
    }

    /// From GetMethod's `methodResponses` (moto answers 500 to GetMethodResponse of a
    /// deleted response).
    async fn read(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let status_code = out_str(out, "status_code", "GetMethod")?;
        read_in_method(ctx, out, live(status_code)).await
    }

    const READ_BATCH: usize = super::IN_API_BATCH;

    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        super::read_many_by_status(ctx, items, |code, m, props| live(code)(m, props)).await
    }

    async fn delete(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<(), AwsError> {
        let key = MethodKey::from_outputs(out, "DeleteMethodResponse")?;
        keyed!(ctx.apigateway.delete_method_response(), key)
            .status_code(out_str(out, "status_code", "DeleteMethodResponse")?)
            .send()
            .await
            .map_err(|e| sdk_err("DeleteMethodResponse", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, out: &Outputs) -> Result<bool, AwsError> {
        gone_unless_read::<Self>(ctx, id, out).await
    }
}

/// The response's live properties, from its method (false: the method has no such response).
fn live(status_code: &str) -> impl Fn(&ApiMethod, &mut Map<String, Value>) -> bool + '_ {
    move |m, props| {
        let Some(r) = m.method_responses().and_then(|rs| rs.get(status_code)) else { return false };
        put(props, "response_models", table(r.response_models()));
        true
    }
}

fn created(r: &Input) -> Created {
    r.key.created(&[&r.status_code], Some(&r.status_code))
}

#[cfg(test)]
mod adopt_tests {
    use serde_json::json;

    use super::super::tests::{method, reads_back, start};

    #[tokio::test]
    async fn method_response_reads_back() {
        let (_moto, ctx) = start().await;
        let mut v = method(&ctx).await;
        v["status_code"] = json!("404");
        v["response_models"] = json!({"application/json": "Error"});
        let live = reads_back(&ctx, "apigateway:MethodResponse", &v).await;
        assert!(live.props.contains_key("response_models"), "{live:?}");
    }
}
