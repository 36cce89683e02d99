//! `ecs:*` types: the cluster, the Fargate task definition and the service that runs it.
//!
//! Auto scaling of a service is not ECS's: see `applicationautoscaling`. Each create carries
//! the identity tags, so each type is ours only with both of them (`Identity::claim`).

mod cluster;
mod service;
mod task_definition;

use aws_sdk_ecs::types::{ServiceField, Tag};
use serde_json::Value;

use super::adapter::{Adapter, Type};
use super::{AwsError, Ctx, ErrorKind, Outputs, sdk_err};
use crate::schema::NameRule;

pub(super) const TYPES: &[&dyn Adapter] =
    &[&Type::<cluster::Cluster>::NEW, &Type::<task_definition::TaskDefinition>::NEW, &Type::<service::Service>::NEW];

/// How ECS says "it is not there" (an unknown task definition is a `ClientException`: see
/// [`task_definition_err`]).
const NOT_FOUND: &[&str] = &["ClusterNotFoundException", "ServiceNotFoundException"];

/// ECS names: "up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens".
const fn ecs_name(what: &'static str, source: &'static str) -> NameRule {
    NameRule::new(what, source, 1, 255, "a-zA-Z0-9_-")
}

pub const CLUSTER_NAME: NameRule = ecs_name("ECS cluster name", "CreateCluster clusterName");
pub const SERVICE_NAME: NameRule = ecs_name("ECS service name", "CreateService serviceName");
pub const FAMILY: NameRule = ecs_name("ECS task definition family", "RegisterTaskDefinition family");
pub const CONTAINER_NAME: NameRule = ecs_name("ECS container name", "ContainerDefinition name");
pub const VOLUME_NAME: NameRule = ecs_name("ECS volume name", "Volume name");

/// The plan's tags as ECS tags.
fn ecs_tags(tags: &[(String, String)]) -> Option<Vec<Tag>> {
    non_empty(tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect())
}

/// ECS tags as pairs, for the ownership guard.
fn pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().filter_map(|t| Some((t.key()?, t.value()?)))
}

/// ECS tags as the plan writes them: a table.
fn tag_table(tags: &[Tag]) -> Value {
    Value::Object(pairs(tags).map(|(k, v)| (k.to_string(), Value::from(v))).collect())
}

/// `None` for an empty list: AWS rejects some empty lists where it accepts an absent one.
fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// Sets `key` in `m` to the list `items`, unless it is empty (AWS reports an absent list as
/// an empty one).
fn put_list(m: &mut serde_json::Map<String, Value>, key: &str, items: Vec<Value>) {
    if !items.is_empty() {
        m.insert(key.into(), Value::Array(items));
    }
}

/// A JSON object as outputs.
fn outputs(v: Value) -> Outputs {
    match v {
        Value::Object(m) => m,
        _ => Outputs::new(),
    }
}

/// A resource AWS reports as failed (not a malformed answer: see [`AwsError::malformed`]).
fn failed(operation: &'static str, message: impl Into<String>) -> AwsError {
    AwsError { operation, code: "ResourceFailed".into(), message: message.into(), kind: ErrorKind::Fatal, hint: None }
}

/// ECS reports an unknown task definition as a generic `ClientException`; make it a NotFound.
fn task_definition_err<E>(
    operation: &'static str,
    err: aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> AwsError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut e = sdk_err(operation, err);
    let m = e.message.to_ascii_lowercase();
    if e.code == "ClientException"
        && (m.contains("unable to describe task definition")
            || m.contains("does not exist")
            || m.contains("revision is missing"))
    {
        e.kind = ErrorKind::NotFound;
    }
    e
}

/// The service `service` (name or ARN) of `cluster`, with its tags, or `None` if ECS reports
/// it missing. A missing cluster is a NotFound error (`ClusterNotFoundException`). Also the
/// proof of ownership of a scalable target on the emulator (`applicationautoscaling::owner`).
pub(super) async fn describe_service(
    ctx: &Ctx,
    cluster: &str,
    service: &str,
) -> Result<Option<aws_sdk_ecs::types::Service>, AwsError> {
    let r = ctx
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .include(ServiceField::Tags)
        .send()
        .await
        .map_err(|e| sdk_err("DescribeServices", e))?;
    Ok(r.services().first().cloned())
}

/// Sets the tags of the ECS resource `arn` to `want`, as an update: UntagResource for the keys
/// the plan dropped, TagResource for the rest.
async fn retag(ctx: &Ctx, arn: &str, want: &[(String, String)]) -> Result<(), AwsError> {
    let live = ctx.ecs.list_tags_for_resource().resource_arn(arn).send().await;
    let live = live.map_err(|e| sdk_err("ListTagsForResource", e))?;
    let dropped: Vec<String> = live
        .tags()
        .iter()
        .filter_map(|t| t.key())
        .filter(|k| !k.starts_with("aws:") && !want.iter().any(|(w, _)| w == k))
        .map(str::to_owned)
        .collect();
    if !dropped.is_empty() {
        let req = ctx.ecs.untag_resource().resource_arn(arn).set_tag_keys(Some(dropped));
        req.send().await.map_err(|e| sdk_err("UntagResource", e))?;
    }
    let tags = want.iter().map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build());
    let req = ctx.ecs.tag_resource().resource_arn(arn).set_tags(Some(tags.collect()));
    req.send().await.map_err(|e| sdk_err("TagResource", e))?;
    Ok(())
}

/// Helpers of the ECS types' tests (and of the services' that need an ECS service).
#[cfg(test)]
pub(super) mod testing {
    use serde_json::{Value, json};

    use crate::aws::testing::{find, props, tags};
    use crate::aws::{Created, Ctx, create, delete, read, wait_deleted, wait_ready};

    pub fn assert_same(created: &Created, adopted: &Created) {
        assert_eq!(adopted.id, created.id);
        assert_eq!(adopted.outputs, created.outputs);
    }

    pub async fn adopt(ctx: &Ctx, ty: &str, v: &Value) -> Option<Created> {
        find(ctx, ty, v).await.ours()
    }

    pub async fn make(ctx: &Ctx, ty: &str, v: &Value) -> Created {
        create(ctx, ty, &mut props(v.clone())).await.unwrap_or_else(|e| panic!("create {ty}: {e}"))
    }

    /// Deletes `c` and waits until it is gone; `read` then finds nothing.
    pub async fn remove(ctx: &Ctx, ty: &str, c: &Created) {
        delete(ctx, ty, &c.id, &c.outputs).await.expect("delete");
        wait_deleted(ctx, ty, &c.id, &c.outputs).await.expect("wait_deleted");
        let live = read(ctx, ty, &c.id, &c.outputs).await.unwrap_or_else(|e| panic!("read {ty}: {e}"));
        assert!(live.is_none(), "{ty} {} reads back after its deletion: {live:?}", c.id);
    }

    /// `read` gives back the planned properties (`assert_reads_back`), every one of them but
    /// `unread` (what the emulator cannot report), and the outputs `ready` gave.
    async fn assert_reads(
        ctx: &Ctx,
        ty: &str,
        planned: &Value,
        unread: &[&str],
        id: &str,
        ready: &crate::aws::Outputs,
    ) {
        crate::aws::testing::assert_reads_back(ctx, ty, planned, id, ready).await;
        let live = read(ctx, ty, id, ready).await.expect("read").expect("live");
        let planned = planned.as_object().expect("planned props are a table");
        for k in planned.keys().filter(|k| !unread.contains(&k.as_str())) {
            assert!(live.props.contains_key(k), "{ty}: read did not report `{k}`");
        }
        assert_eq!(&live.outputs, ready, "{ty}: read's outputs");
    }

    /// Creates `planned`, waits until it is ready, asserts that `read` gives it back
    /// ([`assert_reads`]), and removes it ([`remove`]).
    pub async fn assert_round_trip(ctx: &Ctx, ty: &str, planned: &Value, unread: &[&str]) {
        let c = make(ctx, ty, planned).await;
        let ready = wait_ready(ctx, ty, &c.id, &c.outputs).await.unwrap_or_else(|e| panic!("ready {ty}: {e}"));
        assert_reads(ctx, ty, planned, unread, &c.id, &ready).await;
        remove(ctx, ty, &c).await;
    }

    pub fn task_definition(family: &str, image: &str, stack: &str) -> Value {
        json!({
            "family": family,
            "requires_compatibilities": ["FARGATE"],
            "network_mode": "awsvpc",
            "cpu": "256",
            "memory": "512",
            "container_definitions": [
                {"name": "app", "image": image, "essential": true, "port_mappings": [{"container_port": 80}]},
                {"name": "sidecar", "image": "busybox:1"},
            ],
            "tags": tags(stack, "task"),
        })
    }

    /// An ECS service `<cluster>/web` (what a scalable target scales: moto checks that it
    /// exists), tagged `service_tags`.
    pub async fn ecs_service(ctx: &Ctx, cluster: &str, service_tags: Value) {
        make(ctx, "ecs:Cluster", &json!({"cluster_name": cluster})).await;
        let td = make(
            ctx,
            "ecs:TaskDefinition",
            &json!({"family": "web", "container_definitions": [{"name": "app", "image": "nginx:1", "memory": 512}]}),
        )
        .await;
        let service = json!({"cluster": cluster, "service_name": "web", "task_definition": td.id, "desired_count": 1,
            "tags": service_tags});
        make(ctx, "ecs:Service", &service).await;
    }
}
