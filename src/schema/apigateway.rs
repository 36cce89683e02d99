//! `apigateway:*` types: REST APIs (API Gateway v1) and the region's API Gateway account setting.
//!
//! A REST API is built from many small resources that AWS identifies by their parents
//! (`rest_api_id`, `resource_id`, `http_method`, `status_code`) rather than by an ID of their own,
//! so the implied rules here match those properties across the plan: AWS answers 404 to an
//! integration response put before its integration, and refuses to deploy an API whose methods
//! have no integration.

use super::{Form, Implied, Kind, NameRule, PlanView, Prop, TypeSpec, attr};
use crate::plan::Resource;

pub const TYPES: &[&TypeSpec] = &[
    &ACCOUNT,
    &REST_API,
    &RESOURCE,
    &METHOD,
    &INTEGRATION,
    &METHOD_RESPONSE,
    &INTEGRATION_RESPONSE,
    &DEPLOYMENT,
    &STAGE,
];

/// AWS documents no limit on a REST API's name: ironplan only refuses control and invisible
/// formatting characters (as in every name) and an empty one.
pub const REST_API_NAME: NameRule = NameRule::new("REST API name", "CreateRestApi name", 1, usize::MAX, "");
pub const STAGE_NAME: NameRule =
    NameRule::new("API Gateway stage name", "CreateStage stageName", 1, 128, "a-zA-Z0-9_-");
/// AWS's message: "Resource's path part only allow a-zA-Z0-9._- and curly braces at the
/// beginning and the end" (an optional `+` before the closing one); `:` is accepted too.
pub const PATH_PART: NameRule =
    NameRule::new("API Gateway path part", "CreateResource pathPart", 1, usize::MAX, "a-zA-Z0-9._:-")
        .form(Form::PathPart);

const REST_API_ID: Prop = Prop::req("rest_api_id", Kind::Str, "the REST API's ID");
const RESOURCE_ID: Prop = Prop::req("resource_id", Kind::Str, "the ID of the API resource (path) the method is on");
const HTTP_METHOD: Prop = Prop::req("http_method", Kind::Str, "the method's HTTP verb (GET, POST, ..., or ANY)");
const STATUS_CODE: Prop = Prop::req("status_code", Kind::Str, "the HTTP status code of the response (\"200\")");

static ACCOUNT: TypeSpec = TypeSpec {
    name: "apigateway:Account",
    aliases: &["AWS::ApiGateway::Account", "aws_api_gateway_account", "aws:apigateway/account:Account"],
    summary: "The region's API Gateway account setting: the IAM role API Gateway writes CloudWatch logs with",
    calls: "GetAccount (reads the current role, restored at teardown); UpdateAccount (cloudwatch_role_arn, the \
            Account's field name, sent as the patch operation `replace /cloudwatchRoleArn`). A region singleton: \
            teardown puts back the role found at creation (or clears it if there was none)",
    props: &[Prop::req(
        "cloudwatch_role_arn",
        Kind::Str,
        "ARN of a role trusted by apigateway.amazonaws.com that may push logs to CloudWatch",
    )],
    attrs: &[
        attr("id", "always `account`: there is one per region"),
        attr("cloudwatch_role_arn", "the role ARN that was set"),
    ],
    taggable: false,
    create_secs: 5,
    delete_secs: 2,
    implied: &[],
};

static REST_API: TypeSpec = TypeSpec {
    name: "apigateway:RestApi",
    aliases: &["AWS::ApiGateway::RestApi", "aws_api_gateway_rest_api", "aws:apigateway/restApi:RestApi"],
    summary: "A REST API",
    calls: "CreateRestApi (name, description, endpoint_configuration, api_key_source, disable_execute_api_endpoint, \
            tags)",
    props: &[
        Prop::req("name", Kind::Str, "the API's name").name_rule(&REST_API_NAME),
        Prop::opt("description", Kind::Str, "a description"),
        Prop::opt(
            "endpoint_configuration",
            Kind::Struct(&[Prop::req(
                "types",
                Kind::List(&Kind::Str),
                "endpoint type: one of REGIONAL, EDGE, PRIVATE",
            )]),
            "where the API is reachable from (AWS's default is EDGE)",
        ),
        Prop::opt("api_key_source", Kind::Str, "where API keys are read from: HEADER or AUTHORIZER"),
        Prop::opt("disable_execute_api_endpoint", Kind::Bool, "turn off the default execute-api endpoint"),
        Prop::opt("tags", Kind::Tags, "tags"),
    ],
    attrs: &[
        attr("id", "the REST API's ID"),
        attr("root_resource_id", "the ID of the root resource `/`"),
        attr("arn", "the API's ARN (arn:aws:apigateway:<region>::/restapis/<id>)"),
    ],
    taggable: true,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

static RESOURCE: TypeSpec = TypeSpec {
    name: "apigateway:Resource",
    aliases: &["AWS::ApiGateway::Resource", "aws_api_gateway_resource", "aws:apigateway/resource:Resource"],
    summary: "A path segment of a REST API",
    calls: "CreateResource (rest_api_id, parent_id, path_part)",
    props: &[
        REST_API_ID,
        Prop::req("parent_id", Kind::Str, "the parent resource's ID (the API's root_resource_id for `/x`)"),
        Prop::req("path_part", Kind::Str, "the last path segment (`patients`, or `{id}`)").name_rule(&PATH_PART),
    ],
    attrs: &[attr("id", "the resource's ID"), attr("path", "the full path (`/patients`)")],
    taggable: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

static METHOD: TypeSpec = TypeSpec {
    name: "apigateway:Method",
    aliases: &["AWS::ApiGateway::Method", "aws_api_gateway_method", "aws:apigateway/method:Method"],
    summary: "An HTTP method on a REST API resource",
    calls: "PutMethod (rest_api_id, resource_id, http_method, authorization_type, api_key_required)",
    props: &[
        REST_API_ID,
        RESOURCE_ID,
        HTTP_METHOD,
        Prop::req("authorization_type", Kind::Str, "NONE, AWS_IAM, CUSTOM or COGNITO_USER_POOLS"),
        Prop::opt("api_key_required", Kind::Bool, "whether callers must send an API key"),
    ],
    attrs: &[attr("id", "`<rest_api_id>/<resource_id>/<http_method>`"), attr("http_method", "the HTTP verb")],
    taggable: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

static INTEGRATION: TypeSpec = TypeSpec {
    name: "apigateway:Integration",
    aliases: &["aws_api_gateway_integration", "aws:apigateway/integration:Integration"],
    summary: "What a REST API method calls (a Lambda, an HTTP backend, an AWS service, or a mock)",
    calls: "PutIntegration (rest_api_id, resource_id, http_method, integration_type (the SDK's `type`), \
            integration_http_method, uri, request_templates, passthrough_behavior)",
    props: &[
        REST_API_ID,
        RESOURCE_ID,
        HTTP_METHOD,
        Prop::req("integration_type", Kind::Str, "the SDK's `type`: MOCK, HTTP, HTTP_PROXY, AWS or AWS_PROXY"),
        Prop::opt("integration_http_method", Kind::Str, "the verb used to call the backend (not for MOCK)"),
        Prop::opt("uri", Kind::Str, "the backend's URI or AWS service ARN (not for MOCK)"),
        Prop::opt(
            "request_templates",
            Kind::StrMap,
            "mapping templates by content type (sensitive: they may carry credentials for the backend)",
        )
        .sensitive(),
        Prop::opt("passthrough_behavior", Kind::Str, "WHEN_NO_MATCH, WHEN_NO_TEMPLATES or NEVER"),
    ],
    attrs: &[attr("id", "`<rest_api_id>/<resource_id>/<http_method>/integration`")],
    taggable: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[Implied { why: "AWS rejects an integration until its method exists", find: wait_for_method }],
};

static METHOD_RESPONSE: TypeSpec = TypeSpec {
    name: "apigateway:MethodResponse",
    aliases: &["aws_api_gateway_method_response", "aws:apigateway/methodResponse:MethodResponse"],
    summary: "A response a REST API method may return",
    calls: "PutMethodResponse (rest_api_id, resource_id, http_method, status_code, response_models)",
    props: &[
        REST_API_ID,
        RESOURCE_ID,
        HTTP_METHOD,
        STATUS_CODE,
        Prop::opt("response_models", Kind::StrMap, "model names by content type (`application/json = \"Empty\"`)"),
    ],
    attrs: &[
        attr("id", "`<rest_api_id>/<resource_id>/<http_method>/<status_code>`"),
        attr("status_code", "the status code"),
    ],
    taggable: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[Implied { why: "AWS rejects a method response until its method exists", find: wait_for_method }],
};

static INTEGRATION_RESPONSE: TypeSpec = TypeSpec {
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
        Prop::opt("selection_pattern", Kind::Str, "regex on the backend's answer that selects this response"),
        Prop::opt("response_templates", Kind::StrMap, "mapping templates by content type"),
    ],
    attrs: &[
        attr("id", "`<rest_api_id>/<resource_id>/<http_method>/integration/<status_code>`"),
        attr("status_code", "the status code"),
    ],
    taggable: false,
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

static DEPLOYMENT: TypeSpec = TypeSpec {
    name: "apigateway:Deployment",
    aliases: &["AWS::ApiGateway::Deployment", "aws_api_gateway_deployment", "aws:apigateway/deployment:Deployment"],
    summary: "A snapshot of a REST API that a stage serves",
    calls: "CreateDeployment (rest_api_id, description); the stage is a separate apigateway:Stage",
    props: &[REST_API_ID, Prop::opt("description", Kind::Str, "a description")],
    attrs: &[attr("id", "the deployment's ID")],
    taggable: false,
    create_secs: 5,
    delete_secs: 2,
    implied: &[Implied {
        why: "AWS refuses to deploy an API whose methods have no integration, and a deployment only \
              holds the methods and responses that exist when it is made",
        find: wait_for_api_contents,
    }],
};

static STAGE: TypeSpec = TypeSpec {
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
        Prop::req("deployment_id", Kind::Str, "the deployment the stage serves"),
        Prop::opt("description", Kind::Str, "a description"),
        Prop::opt("tracing_enabled", Kind::Bool, "X-Ray tracing of requests"),
        Prop::opt(
            "access_log_settings",
            Kind::Struct(&[
                Prop::req("destination_arn", Kind::Str, "the CloudWatch Logs log group ARN"),
                Prop::req("format", Kind::Str, "the log line format, with `$context` variables"),
            ]),
            "access logging (needs the region's apigateway:Account CloudWatch role)",
        ),
        Prop::opt("tags", Kind::Tags, "tags"),
    ],
    attrs: &[
        attr("id", "the stage name"),
        attr("name", "the stage name"),
        attr("invoke_url", "https://<api>.execute-api.<region>.amazonaws.com/<stage>"),
        attr("arn", "the stage's ARN (arn:aws:apigateway:<region>::/restapis/<api>/stages/<stage>)"),
    ],
    taggable: true,
    create_secs: 3,
    delete_secs: 2,
    implied: &[Implied {
        why: "a stage's access logs need the region's API Gateway CloudWatch role set",
        find: wait_for_account,
    }],
};

const SAME_METHOD: &[(&str, &str)] =
    &[("rest_api_id", "rest_api_id"), ("resource_id", "resource_id"), ("http_method", "http_method")];

fn wait_for_method(v: &PlanView<'_>, res: &Resource) -> Vec<String> {
    v.matching(res, "apigateway:Method", SAME_METHOD)
}

fn wait_for_integration(v: &PlanView<'_>, res: &Resource) -> Vec<String> {
    v.matching(res, "apigateway:Integration", SAME_METHOD)
}

fn wait_for_method_response(v: &PlanView<'_>, res: &Resource) -> Vec<String> {
    v.matching(
        res,
        "apigateway:MethodResponse",
        &[
            ("rest_api_id", "rest_api_id"),
            ("resource_id", "resource_id"),
            ("http_method", "http_method"),
            ("status_code", "status_code"),
        ],
    )
}

fn wait_for_api_contents(v: &PlanView<'_>, res: &Resource) -> Vec<String> {
    ["apigateway:Method", "apigateway:Integration", "apigateway:MethodResponse", "apigateway:IntegrationResponse"]
        .into_iter()
        .flat_map(|ty| v.matching(res, ty, &[("rest_api_id", "rest_api_id")]))
        .collect()
}

fn wait_for_account(v: &PlanView<'_>, res: &Resource) -> Vec<String> {
    if res.prop("access_log_settings").is_none() {
        return Vec::new();
    }
    v.of_type("apigateway:Account").map(|r| r.name.clone()).collect()
}

#[cfg(test)]
mod tests {
    use crate::plan::Plan;
    use crate::schema::implied_of as implied;

    // api <- patients <- get <- {mock, ok} <- mock_ok ; deployment after all of them
    const PLAN: &str = r#"
[plan]
name = "t"

[resources.acct]
type = "apigateway:Account"
cloudwatch_role_arn = "arn:aws:iam::1:role/r"

[resources.api]
type = "apigateway:RestApi"
name = "a"

[resources.patients]
type = "apigateway:Resource"
rest_api_id = "${api.id}"
parent_id = "${api.root_resource_id}"
path_part = "patients"

[resources.get]
type = "apigateway:Method"
rest_api_id = "${api.id}"
resource_id = "${patients.id}"
http_method = "GET"
authorization_type = "AWS_IAM"

[resources.post]
type = "apigateway:Method"
rest_api_id = "${api.id}"
resource_id = "${patients.id}"
http_method = "POST"
authorization_type = "AWS_IAM"

[resources.mock]
type = "apigateway:Integration"
rest_api_id = "${api.id}"
resource_id = "${patients.id}"
http_method = "${get.http_method}"
integration_type = "MOCK"

[resources.ok]
type = "apigateway:MethodResponse"
rest_api_id = "${api.id}"
resource_id = "${patients.id}"
http_method = "GET"
status_code = "200"

[resources.mock_ok]
type = "apigateway:IntegrationResponse"
rest_api_id = "${api.id}"
resource_id = "${patients.id}"
http_method = "${get.http_method}"
status_code = "200"

[resources.dep]
type = "apigateway:Deployment"
rest_api_id = "${api.id}"

[resources.prod]
type = "apigateway:Stage"
rest_api_id = "${api.id}"
stage_name = "prod"
deployment_id = "${dep.id}"
access_log_settings = { destination_arn = "arn", format = "$context.requestId" }

[resources.test]
type = "apigateway:Stage"
rest_api_id = "${api.id}"
stage_name = "test"
deployment_id = "${dep.id}"
"#;

    #[test]
    fn integration_response_waits_for_its_integration_and_method_response() {
        let plan = Plan::parse(std::path::Path::new("t.toml"), PLAN).expect("plan");
        assert_eq!(implied(&plan, "mock_ok"), ["mock", "ok"]);
        assert_eq!(implied(&plan, "mock"), ["get"]);
        assert_eq!(implied(&plan, "ok"), ["get"]);
    }

    #[test]
    fn deployment_waits_for_every_method_and_response_of_its_api() {
        let plan = Plan::parse(std::path::Path::new("t.toml"), PLAN).expect("plan");
        assert_eq!(implied(&plan, "dep"), ["get", "mock", "mock_ok", "ok", "post"]);
    }

    #[test]
    fn only_a_logging_stage_waits_for_the_account() {
        let plan = Plan::parse(std::path::Path::new("t.toml"), PLAN).expect("plan");
        assert_eq!(implied(&plan, "prod"), ["acct"]);
        assert!(implied(&plan, "test").is_empty());
    }
}
