//! `apigateway:IntegrationResponse`: how an integration's answer maps to a method response,
//! identified by the method's [`MethodKey`] and its status code. It carries no tags: it is ours
//! when its API is this stack's.

use async_trait::async_trait;
use aws_sdk_apigateway::types::Method as ApiMethod;
use serde_json::{Map, Value};

use super::{
    HTTP_METHOD, MethodKey, RESOURCE_ID, REST_API_ID, SAME_METHOD, STATUS_CODE, find_in_method, gone_unless_read,
    read_in_method, str_map, table,
};
use crate::aws::adapter::{Item, Lifecycle, Live, Read};
use crate::aws::{AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, out_str, put, sdk_err};
use crate::plan::Resource;
use crate::schema::{Implied, Kind, PlanView, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "apigateway:IntegrationResponse",
    aliases: &["aws_api_gateway_integration_response", "aws:apigateway/integrationResponse:IntegrationResponse"],
    summary: "How an integration's answer maps to a method response",
    calls: "PutIntegrationResponse (rest_api_id, resource_id, http_method, status_code, selection_pattern, \
            response_templates)",
    props: &[
        REST_API_ID,
        RESOURCE_ID,
        HTTP_METHOD,
        STATUS_CODE,
        Prop::opt("selection_pattern", Kind::Str, "regex on the backend's answer that selects this response")
            .in_place(),
        Prop::opt("response_templates", Kind::StrMap, "mapping templates by content type").in_place(),
    ],
    attrs: &[
        attr("id", "`<rest_api_id>/<resource_id>/<http_method>/integration/<status_code>`"),
        attr("status_code", "the status code"),
    ],
    taggable: false,
    holds_data: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[
        Implied {
            why: "AWS answers 404 to an integration response put before its method's integration exists",
            find: wait_for_integration,
        },
        Implied {
            why: "AWS rejects an integration response until the method response of its status code exists",
            find: wait_for_method_response,
        },
    ],
};

fn wait_for_integration(v: &PlanView<'_>, res: &Resource) -> Vec<String> {
    v.matching(res, super::integration::SPEC.name, SAME_METHOD)
}

fn wait_for_method_response(v: &PlanView<'_>, res: &Resource) -> Vec<String> {
    v.matching(
        res,
        super::method_response::SPEC.name,
        &[
            ("rest_api_id", "rest_api_id"),
            ("resource_id", "resource_id"),
            ("http_method", "http_method"),
            ("status_code", "status_code"),
        ],
    )
}

pub struct IntegrationResponse;

/// What a create reads.
pub struct Input {
    key: MethodKey,
    status_code: String,
    selection_pattern: Option<String>,
    response_templates: Vec<(String, String)>,
}

#[async_trait]
impl Lifecycle for IntegrationResponse {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = super::NOT_FOUND;
    const UPDATES: &'static [&'static str] = &["selection_pattern", "response_templates"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("PutIntegrationResponse");
        Ok(Input {
            key: MethodKey::input(p)?,
            status_code: p.str("status_code")?,
            selection_pattern: p.opt_str("selection_pattern")?,
            response_templates: p.str_map("response_templates")?,
        })
    }

    async fn create(ctx: &Ctx, r: &Input) -> Result<Created, AwsError> {
        keyed!(ctx.apigateway.put_integration_response(), r.key)
            .status_code(&r.status_code)
            .set_selection_pattern(r.selection_pattern.clone())
            .set_response_templates(str_map(r.response_templates.clone()))
            .send()
            .await
            .map_err(|e| {
                // AWS answers 404 "Invalid Response status code specified" when the integration
                // (or the method response) is missing: say which resource must come first.
                let e = sdk_err("PutIntegrationResponse", e);
                if e.is_not_found() {
                    AwsError { kind: ErrorKind::Fatal, ..e }.with_hint(format!(
                        "create the method's {} and the {} of this status code first (same rest_api_id, \
                         resource_id and http_method)",
                        super::integration::SPEC.name,
                        super::method_response::SPEC.name
                    ))
                } else {
                    e
                }
            })?;
        Ok(created(r))
    }

    /// The response of this status code among the `integrationResponses` of GetMethod's
    /// integration.
    async fn find(ctx: &Ctx, r: &Input, who: &Identity) -> Result<Found, AwsError> {
        let present = |m: &ApiMethod| {
            m.method_integration()
                .and_then(|i| i.integration_responses())
                .is_some_and(|rs| rs.contains_key(&r.status_code))
        };
        find_in_method(ctx, who, &r.key, created(r), present).await
    }

    /// From GetMethod's integration (moto answers 500 to GetIntegrationResponse of a deleted
    /// response). An empty selection pattern (the default response) is reported as AWS gives
    /// it: moto leaves it out.
    /// PutIntegrationResponse replaces the response: the create call again.
    async fn update(ctx: &Ctx, _id: &str, out: &Outputs, r: &Input, _changed: &[String]) -> Result<Outputs, AwsError> {
        Self::create(ctx, r).await?;
        Ok(out.clone())
    }

    async fn read(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let status_code = out_str(out, "status_code", "GetMethod")?;
        read_in_method(ctx, out, live(status_code)).await
    }

    const READ_BATCH: usize = super::IN_API_BATCH;

    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        super::read_many_by_status(ctx, items, |code, m, props| live(code)(m, props)).await
    }

    async fn delete(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<(), AwsError> {
        let key = MethodKey::from_outputs(out, "DeleteIntegrationResponse")?;
        keyed!(ctx.apigateway.delete_integration_response(), key)
            .status_code(out_str(out, "status_code", "DeleteIntegrationResponse")?)
            .send()
            .await
            .map_err(|e| sdk_err("DeleteIntegrationResponse", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, out: &Outputs) -> Result<bool, AwsError> {
        gone_unless_read::<Self>(ctx, id, out).await
    }
}

/// The integration response's live properties, from its method (false: it is not there).
fn live(status_code: &str) -> impl Fn(&ApiMethod, &mut Map<String, Value>) -> bool + '_ {
    move |m, props| {
        let responses = m.method_integration().and_then(|i| i.integration_responses());
        let Some(r) = responses.and_then(|rs| rs.get(status_code)) else { return false };
        put(props, "selection_pattern", r.selection_pattern());
        put(props, "response_templates", table(r.response_templates()));
        true
    }
}

fn created(r: &Input) -> Created {
    r.key.created(&["integration", &r.status_code], Some(&r.status_code))
}

#[cfg(test)]
mod adopt_tests {
    use serde_json::json;

    use super::super::tests::{create, method, reads_back, start};

    #[tokio::test]
    async fn integration_response_reads_back() {
        let (_moto, ctx) = start().await;
        let key = method(&ctx).await;
        let mut integration = key.clone();
        integration["integration_type"] = json!("MOCK");
        create(&ctx, "apigateway:Integration", &integration).await;
        let mut v = key.clone();
        v["status_code"] = json!("404");
        create(&ctx, "apigateway:MethodResponse", &v).await;
        v["selection_pattern"] = json!(".*not found.*");
        v["response_templates"] = json!({"application/json": "{\"error\": \"not found\"}"});
        let live = reads_back(&ctx, "apigateway:IntegrationResponse", &v).await;
        assert!(live.props.contains_key("selection_pattern"), "{live:?}");
    }
}
