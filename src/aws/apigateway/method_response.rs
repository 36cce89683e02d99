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
use crate::aws::{AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, out_str, put, sdk_err};
use crate::schema::{Implied, Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "apigateway:MethodResponse",
    aliases: &["aws_api_gateway_method_response", "aws:apigateway/methodResponse:MethodResponse"],
    summary: "A response a REST API method may return",
    calls: "PutMethodResponse (rest_api_id, resource_id, http_method, status_code, response_models); \
            UpdateMethodResponse (`add`/`replace`/`remove /responseModels/<content type>`, `/` as `~1`)",
    props: &[
        REST_API_ID,
        RESOURCE_ID,
        HTTP_METHOD,
        STATUS_CODE,
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
    const UPDATES: &'static [&'static str] = &["response_models"];

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

    /// UpdateMethodResponse with the patch operations that take the models AWS has now (from
    /// GetMethod) to the plan's ([`super::table_ops`]); no call when they already match, so a
    /// resumed update neither adds twice nor removes what is gone.
    async fn update(ctx: &Ctx, _id: &str, out: &Outputs, r: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        if !changed.iter().any(|c| c == "response_models") {
            return Ok(out.clone());
        }
        let m = super::get_method(ctx, &r.key).await?;
        let Some(live) = m.as_ref().and_then(|m| m.method_responses()?.get(&r.status_code)) else {
            let MethodKey { rest_api_id, resource_id, http_method } = &r.key;
            return Err(AwsError {
                operation: "GetMethod",
                code: "NotFoundException".into(),
                message: format!(
                    "method response {} of {http_method} on resource `{resource_id}` of REST API `{rest_api_id}` \
                     does not exist",
                    r.status_code
                ),
                kind: ErrorKind::NotFound,
                hint: Some(
                    "it was deleted outside ironplan: run `ironplan deploy --refresh` to create it again".into(),
                ),
            });
        };
        let ops = super::table_ops("/responseModels", live.response_models(), &r.response_models);
        if !ops.is_empty() {
            keyed!(ctx.apigateway.update_method_response(), r.key)
                .status_code(&r.status_code)
                .set_patch_operations(Some(ops))
                .send()
                .await
                .map_err(|e| sdk_err("UpdateMethodResponse", e))?;
        }
        Ok(out.clone())
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

    use super::super::tests::{body, create, method, reads_back, start, update, wired};

    const TY: &str = "apigateway:MethodResponse";

    #[tokio::test]
    async fn method_response_reads_back() {
        let (_moto, ctx) = start().await;
        let mut v = method(&ctx).await;
        v["status_code"] = json!("404");
        v["response_models"] = json!({"application/json": "Error"});
        let live = reads_back(&ctx, "apigateway:MethodResponse", &v).await;
        assert!(live.props.contains_key("response_models"), "{live:?}");
    }

    /// The patch takes AWS's models to the plan's: `add` a new content type, `replace` another
    /// model, `remove` a dropped one, each content type a JSON Pointer segment (`/` as `~1`,
    /// `~` as `~0`); nothing for what already matches.
    #[test]
    fn models_patch_adds_replaces_and_removes_only_what_differs() {
        let live: std::collections::HashMap<String, String> =
            [("application/json", "Empty"), ("application/xml", "Same"), ("text/plain", "Old")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into();
        let want = [("application/xml", "Same"), ("application/vnd.a~b+json", "New"), ("application/json", "Error")]
            .map(|(k, v)| (k.to_string(), v.to_string()));
        let ops: Vec<_> = super::super::table_ops("/responseModels", Some(&live), &want)
            .iter()
            .map(|o| {
                (o.op().map(|o| o.as_str().to_string()), o.path().map(str::to_owned), o.value().map(str::to_owned))
            })
            .collect();
        let op = |op: &str, path: &str, value: Option<&str>| {
            (Some(op.to_string()), Some(path.to_string()), value.map(str::to_owned))
        };
        assert_eq!(
            ops,
            [
                op("replace", "/responseModels/application~1json", Some("Error")),
                op("add", "/responseModels/application~1vnd.a~0b+json", Some("New")),
                op("remove", "/responseModels/text~1plain", None),
            ]
        );
        let same: Vec<(String, String)> = live.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        assert!(super::super::table_ops("/responseModels", Some(&live), &same).is_empty());
    }

    /// A change of models is one UpdateMethodResponse with the patch from what AWS has to the
    /// plan; a response that already has the plan's models (a resumed update) gets no call, and
    /// one that is gone is an error that names it. moto lacks UpdateMethodResponse: the wire
    /// answers as AWS documents (201, the MethodResponse), and the test asserts the request.
    #[tokio::test]
    async fn method_response_models_update_in_place() {
        let (_moto, ctx) = start().await;
        let key = method(&ctx).await;
        let with = |code: &str, models: serde_json::Value| {
            let mut v = key.clone();
            v["status_code"] = json!(code);
            v["response_models"] = models;
            v
        };
        let old = json!({"application/json": "Empty", "application/xml": "Same", "text/plain": "Old"});
        let new = json!({"application/json": "Error", "application/xml": "Same", "application/vnd.a+json": "New"});
        let ok = create(&ctx, TY, &with("200", old)).await;
        let done = create(&ctx, TY, &with("404", new.clone())).await;
        let (ctx, wire) = wired(&ctx);
        let (api, res) = (key["rest_api_id"].as_str().expect("api"), key["resource_id"].as_str().expect("res"));
        let patch = super::super::replace("/responseModels/application~1json", "Error");
        let req = ctx.apigateway.update_method_response().rest_api_id(api).resource_id(res).http_method("GET");
        let lacked = req.status_code("200").patch_operations(patch).send().await;
        assert!(lacked.is_err(), "moto has UpdateMethodResponse now: test the update through it instead");
        let answer = json!({"statusCode": "200", "responseModels": new});
        wire.answer("UpdateMethodResponse", 201, "application/json", &answer.to_string());

        let before = wire.of("UpdateMethodResponse").len();
        let out = update(&ctx, TY, &ok, &with("200", new.clone()), &["response_models"]).await;
        assert_eq!(out, ok.outputs);
        let sent = wire.of("UpdateMethodResponse");
        assert_eq!(sent.len(), before + 1, "one call: {:?}", wire.sent());
        let sent = &sent[before];
        assert_eq!(sent.method, "PATCH");
        assert!(
            sent.uri.ends_with(&format!("/restapis/{api}/resources/{res}/methods/GET/responses/200")),
            "{}",
            sent.uri
        );
        assert_eq!(
            body(sent),
            json!({"patchOperations": [
                {"op": "replace", "path": "/responseModels/application~1json", "value": "Error"},
                {"op": "add", "path": "/responseModels/application~1vnd.a+json", "value": "New"},
                {"op": "remove", "path": "/responseModels/text~1plain"},
            ]})
        );

        update(&ctx, TY, &done, &with("404", new.clone()), &["response_models"]).await;
        assert_eq!(wire.of("UpdateMethodResponse").len(), before + 1, "nothing left to do: no call");

        let mut gone = ok.clone();
        gone.outputs["status_code"] = json!("500");
        let mut props = crate::aws::testing::props(with("500", new));
        let err = crate::aws::update(&ctx, TY, &gone.id, &gone.outputs, &mut props, &["response_models".to_string()])
            .await
            .expect_err("a response that is not there");
        assert!(err.is_not_found() && err.message.contains("method response 500"), "{err}");
        assert_eq!(wire.of("UpdateMethodResponse").len(), before + 1);
    }
}
