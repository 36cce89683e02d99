//! Helpers shared by the adapters' tests against moto.

use serde_json::{Value, json};

use super::{Created, Ctx, Props};
use crate::emulator::Moto;

/// SDK clients on the emulator, with the explicit emulator signal (`Ctx::emulator`).
pub async fn ctx(moto: &Moto) -> Ctx {
    let ctx = Ctx::new(&moto.connect()).await.expect("ctx");
    assert!(ctx.emulator, "the adapter tests run with the emulator signal");
    ctx
}

/// Properties from a JSON object.
pub fn props(v: Value) -> Props {
    let Value::Object(m) = v else { unreachable!("props are a JSON object") };
    Props::new(m)
}

/// The identity tags a create carries.
pub fn tags(stack: &str, resource: &str) -> Value {
    json!({"ironplan:stack": stack, "ironplan:resource": resource, "ManagedBy": "ironplan"})
}

/// The identity a test's props are adopted as: their identity tags, or stack `s-dev` for the
/// types that carry none (their parent must then be `s-dev`'s).
pub fn who(v: &Value) -> super::Identity {
    let tag = |k: &str| v.get("tags").and_then(|t| t.get(k)).and_then(Value::as_str);
    match (tag("ironplan:stack"), tag("ironplan:resource")) {
        (Some(stack), Some(resource)) => super::Identity::new(stack, resource),
        _ => super::Identity::new("s-dev", "untagged"),
    }
}

/// Adopts `v` as [`who`] says, panicking on an AWS error.
pub async fn find(ctx: &Ctx, ty: &str, v: &Value) -> super::Found {
    super::adopt(ctx, ty, &mut props(v.clone()), &who(v)).await.unwrap_or_else(|e| panic!("adopt {ty}: {e}"))
}

/// Asserts that `found` is a look-alike left alone, and that the reason says `why`.
pub fn assert_not_ours(found: &super::Found, why: &str) {
    match found {
        super::Found::NotOurs { why: got, .. } => assert!(got.contains(why), "expected `{why}` in: {got}"),
        other => panic!("a look-alike was not refused ({why}): {other:?}"),
    }
}

/// `read` of the resource gives back what the plan said: every property `read` reports equals
/// the planned value (tags as a table, numbers as numbers), and it reports at least one.
pub async fn assert_reads_back(ctx: &Ctx, ty: &str, planned: &Value, id: &str, outputs: &super::Outputs) {
    let live = super::read(ctx, ty, id, outputs)
        .await
        .unwrap_or_else(|e| panic!("read {ty}: {e}"))
        .unwrap_or_else(|| panic!("read {ty}: {id} is gone"));
    assert!(!live.props.is_empty(), "{ty}: read reported no property");
    for (k, v) in &live.props {
        assert_eq!(Some(v), planned.get(k), "{ty}.{k}: read back {v}, planned {:?}", planned.get(k));
    }
}

/// Updates the resource `id` to `planned` (the properties `changed` in place) and asserts that
/// it then reads back as `planned` ([`assert_reads_back`]); returns the new outputs.
pub async fn assert_updates(
    ctx: &Ctx,
    ty: &str,
    id: &str,
    outputs: &super::Outputs,
    planned: &Value,
    changed: &[&str],
) -> super::Outputs {
    let changed: Vec<String> = changed.iter().map(|c| c.to_string()).collect();
    let out = super::update(ctx, ty, id, outputs, &mut props(planned.clone()), &changed)
        .await
        .unwrap_or_else(|e| panic!("update {ty} ({}): {e}", changed.join(", ")));
    assert_reads_back(ctx, ty, planned, id, &out).await;
    out
}

/// `read_many` of `made` (some deleted since) answers, in their order, what `read` answers of
/// each: the batched and the single read cannot disagree. The type must have a batched read,
/// and `made` must hold one resource that exists and one that is gone.
pub async fn assert_reads_many(ctx: &Ctx, ty: &str, made: &[Created]) {
    assert!(super::read_batch(ty) > 1, "{ty} has no batched read");
    let items: Vec<super::Item<'_>> = made.iter().map(|c| (c.id.as_str(), &c.outputs)).collect();
    let many = super::read_many(ctx, ty, &items).await;
    assert_eq!(many.len(), made.len(), "{ty}: one answer per resource");
    let (mut live, mut gone) = (0, 0);
    for (c, got) in made.iter().zip(many) {
        let got = got.unwrap_or_else(|e| panic!("read_many {ty}: {e}"));
        let one = super::read(ctx, ty, &c.id, &c.outputs).await.unwrap_or_else(|e| panic!("read {ty}: {e}"));
        assert_eq!(got, one, "{ty} {}: read_many and read disagree", c.id);
        if got.is_some() { live += 1 } else { gone += 1 }
    }
    assert!(live > 0 && gone > 0, "{ty}: {live} live and {gone} gone: the test needs both");
}

/// A copy of `ctx` whose every SDK client sends through one new [`Wire`] (the read run's cache,
/// if any, is shared with `ctx`).
pub fn wired(ctx: &Ctx) -> (Ctx, Wire) {
    let wire = Wire::default();
    (through(ctx, &wire), wire)
}

/// A copy of `ctx` whose every SDK client sends through `wire`: a test that needs a second,
/// fresh record (or other answers) on the same context.
pub fn through(ctx: &Ctx, wire: &Wire) -> Ctx {
    macro_rules! wire {
        ($($client:ident: $sdk:ident),* $(,)?) => {
            Ctx {
                $($client: $sdk::Client::from_conf(ctx.$client.config().to_builder().interceptor(wire.clone()).build()),)*
                ..ctx.clone()
            }
        };
    }
    wire!(
        applicationautoscaling: aws_sdk_applicationautoscaling,
        apigateway: aws_sdk_apigateway,
        cloudwatch: aws_sdk_cloudwatch,
        logs: aws_sdk_cloudwatchlogs,
        ec2: aws_sdk_ec2,
        ecs: aws_sdk_ecs,
        efs: aws_sdk_efs,
        elasticache: aws_sdk_elasticache,
        iam: aws_sdk_iam,
        kinesis: aws_sdk_kinesis,
        kms: aws_sdk_kms,
        rds: aws_sdk_rds,
        tagging: aws_sdk_resourcegroupstagging,
        s3: aws_sdk_s3,
        secretsmanager: aws_sdk_secretsmanager,
        sts: aws_sdk_sts,
    )
}

/// In a read run that reads `made` (each resource's ID and outputs as `ready` gave them, so
/// with their `arn`), `read` (and `read_many`, for a batched type) of each answers what `read`
/// answers outside one, and their tags come from one GetResources: the type's own tag call
/// `tag_op` is never made in the run. Each must have tags (else the test proves nothing).
pub async fn assert_reads_tags_batched(ctx: &Ctx, ty: &str, made: &[(String, super::Outputs)], tag_op: &str) {
    let items: Vec<super::Item<'_>> = made.iter().map(|(id, out)| (id.as_str(), out)).collect();
    let run: Vec<(&str, super::Item<'_>)> = items.iter().map(|i| (ty, *i)).collect();
    let (wired, wire) = wired(ctx);
    let run = wired.for_reads_of(&run);
    for (id, out) in made {
        let one = super::read(ctx, ty, id, out).await.unwrap_or_else(|e| panic!("read {ty}: {e}"));
        let tags = one.as_ref().and_then(|l| l.props.get("tags")).and_then(Value::as_object);
        assert!(tags.is_some_and(|t| !t.is_empty()), "{ty} {id}: the test needs a tagged resource: {one:?}");
        let batched = super::read(&run, ty, id, out).await.unwrap_or_else(|e| panic!("read {ty} in a run: {e}"));
        assert_eq!(batched, one, "{ty} {id}: read in a read run and read disagree");
    }
    if super::read_batch(ty) > 1 {
        let many = super::read_many(&run, ty, &items).await;
        for ((id, out), got) in made.iter().zip(many) {
            let one = super::read(ctx, ty, id, out).await.unwrap_or_else(|e| panic!("read {ty}: {e}"));
            assert_eq!(got.unwrap_or_else(|e| panic!("read_many {ty}: {e}")), one, "{ty} {id}: read_many and read");
        }
    }
    assert_eq!(wire.of("GetResources").len(), 1, "{ty}: one GetResources for the run: {:?}", wire.sent());
    assert!(wire.of(tag_op).is_empty(), "{ty}: {tag_op} made in the run: the tags did not come from GetResources");
}

/// One request a client sent: the SDK's operation name, the HTTP method, and the body it
/// carried (UTF-8; the query string is in `uri`).
#[derive(Debug, Clone)]
pub struct Sent {
    pub op: String,
    pub method: String,
    pub uri: String,
    pub body: String,
}

/// An interceptor for any SDK client: records every request's operation and body and, for the
/// operations given an answer, puts AWS's documented answer in place of the emulator's before
/// the SDK reads it. For a call the emulator lacks or ignores, the test then checks what a
/// user cannot see on the emulator: that the right call, with the right fields, was made.
/// Attach it with `Client::from_conf(client.config().to_builder().interceptor(wire.clone()).build())`.
#[derive(Debug, Clone, Default)]
pub struct Wire {
    sent: std::sync::Arc<std::sync::Mutex<Vec<Sent>>>,
    answers: std::sync::Arc<std::sync::Mutex<Vec<Answer>>>,
}

/// What the wire answers in the emulator's place: operation, status, content type, body.
type Answer = (String, u16, &'static str, String);

impl Wire {
    /// Answers every `op` with `status`, a `content_type` and `body`, whatever the emulator said.
    pub fn answer(&self, op: &str, status: u16, content_type: &'static str, body: &str) -> &Self {
        self.answers.lock().expect("answers").push((op.into(), status, content_type, body.into()));
        self
    }

    /// The requests sent so far, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().expect("sent").clone()
    }

    /// The requests of operation `op`, in order.
    pub fn of(&self, op: &str) -> Vec<Sent> {
        self.sent().into_iter().filter(|s| s.op == op).collect()
    }

    fn op(cfg: &aws_smithy_types::config_bag::ConfigBag) -> String {
        let meta = cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>();
        meta.map_or_else(|| "?".into(), |m| m.name().to_string())
    }
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for Wire {
    fn name(&self) -> &'static str {
        "Wire"
    }

    fn read_before_transmit(
        &self,
        ctx: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _rc: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let req = ctx.request();
        let body = req.body().bytes().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
        let sent = Sent { op: Self::op(cfg), method: req.method().to_string(), uri: req.uri().to_string(), body };
        self.sent.lock().expect("sent").push(sent);
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        ctx: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut<'_>,
        _rc: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let op = Self::op(cfg);
        let answers = self.answers.lock().expect("answers");
        if let Some((_, status, content_type, body)) = answers.iter().find(|a| a.0 == op) {
            let status = aws_smithy_runtime_api::http::StatusCode::try_from(*status)?;
            let mut resp = aws_smithy_runtime_api::http::Response::new(
                status,
                aws_smithy_types::body::SdkBody::from(body.clone()),
            );
            resp.headers_mut().insert("content-type", *content_type);
            resp.headers_mut().insert("x-amzn-requestid", "wire-answer");
            *ctx.response_mut() = resp;
        }
        Ok(())
    }
}

mod wire_tests {
    use super::*;
    use crate::emulator::Moto;

    /// The wire records what was sent and answers in the emulator's place: logs'
    /// AssociateKmsKey (moto lacks it) gets AWS's empty answer, and the call succeeds.
    #[tokio::test]
    async fn the_wire_records_requests_and_answers_for_the_emulator() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let wire = Wire::default();
        let logs =
            aws_sdk_cloudwatchlogs::Client::from_conf(ctx.logs.config().to_builder().interceptor(wire.clone()).build());
        logs.create_log_group().log_group_name("/wire/a").send().await.expect("create");
        let key = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
        let lacked = logs.associate_kms_key().log_group_name("/wire/a").kms_key_id(key).send().await;
        assert!(lacked.is_err(), "moto has AssociateKmsKey now: test the update through it instead");
        let before = wire.of("AssociateKmsKey").len();
        wire.answer("AssociateKmsKey", 200, "application/x-amz-json-1.1", "{}");
        logs.associate_kms_key().log_group_name("/wire/a").kms_key_id(key).send().await.expect("answered");
        let sent = wire.of("AssociateKmsKey");
        assert_eq!(sent.len(), before + 1, "answered at the first attempt: {:?}", wire.sent());
        let body: Value = serde_json::from_str(&sent[before].body).expect("json body");
        assert_eq!(body, json!({"logGroupName": "/wire/a", "kmsKeyId": key}));
        assert_eq!(wire.sent()[0].op, "CreateLogGroup");
        assert!(sent[before].uri.starts_with(&moto.endpoint()), "sent to the emulator: {}", sent[before].uri);
    }
}
