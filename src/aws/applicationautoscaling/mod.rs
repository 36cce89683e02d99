//! `applicationautoscaling:*` types: what scales an ECS service (and other services' capacity).
//!
//! ECS itself has no scaling API: a service scales through a scalable target registered with
//! Application Auto Scaling and a scaling policy on that target. Both are identified by AWS
//! through (service namespace, resource ID, scalable dimension), so the outputs keep the three
//! for the describe and delete calls ([`Key`]).

mod scalable_target;
mod scaling_policy;

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ScalableTarget, ServiceNamespace};
use serde_json::json;

use super::adapter::{Adapter, Type};
use super::{AwsError, Ctx, ErrorKind, Outputs, Props, out_str, sdk_err};
use crate::schema::NameRule;

pub(super) const TYPES: &[&dyn Adapter] =
    &[&Type::<scalable_target::ScalableTarget>::NEW, &Type::<scaling_policy::ScalingPolicy>::NEW];

/// How Application Auto Scaling says "it is not there" (moto: a `ValidationException`, see
/// [`not_found_by_message`]).
const NOT_FOUND: &[&str] = &["ObjectNotFoundException"];

/// 1-256 printable characters.
pub const POLICY_NAME: NameRule = NameRule::new("scaling policy name", "PutScalingPolicy PolicyName", 1, 256, "");

/// `$request` (an SDK request builder) for the target of `$key`: its namespace, resource ID
/// and dimension, which every call on a target or its policies names.
macro_rules! keyed {
    ($request:expr, $key:expr) => {
        $request.service_namespace($key.namespace()).resource_id(&$key.resource_id).scalable_dimension($key.dimension())
    };
}
use keyed;

/// What identifies a scalable target (and, with a name, a scaling policy) to AWS.
struct Key {
    service_namespace: String,
    resource_id: String,
    scalable_dimension: String,
}

impl Key {
    /// The plan's `service_namespace`, `resource_id` and `scalable_dimension`.
    fn input(p: &mut Props) -> Result<Key, AwsError> {
        Ok(Key {
            service_namespace: p.str("service_namespace")?,
            resource_id: p.str("resource_id")?,
            scalable_dimension: p.str("scalable_dimension")?,
        })
    }

    fn from_outputs(out: &Outputs, operation: &'static str) -> Result<Key, AwsError> {
        Ok(Key {
            service_namespace: out_str(out, "service_namespace", operation)?.to_string(),
            resource_id: out_str(out, "resource_id", operation)?.to_string(),
            scalable_dimension: out_str(out, "scalable_dimension", operation)?.to_string(),
        })
    }

    fn namespace(&self) -> ServiceNamespace {
        ServiceNamespace::from(self.service_namespace.as_str())
    }

    fn dimension(&self) -> ScalableDimension {
        ScalableDimension::from(self.scalable_dimension.as_str())
    }

    /// The three as outputs (and as the plan writes them).
    fn outputs(&self) -> Outputs {
        let mut o = Outputs::new();
        o.insert("service_namespace".into(), json!(self.service_namespace));
        o.insert("resource_id".into(), json!(self.resource_id));
        o.insert("scalable_dimension".into(), json!(self.scalable_dimension));
        o
    }
}

/// AWS answers a delete of what is gone with `ObjectNotFoundException`; moto (and some older
/// endpoints) with a `ValidationException` of the same message. Both mean "already gone".
fn not_found_by_message(mut e: AwsError) -> AwsError {
    if e.message.starts_with("No scaling policy found") || e.message.starts_with("No scalable target found") {
        e.kind = ErrorKind::NotFound;
    }
    e
}

/// Inside a lookup: "not found" (by code or by message) means nothing there.
fn nothing<T>(e: AwsError) -> Result<Option<T>, AwsError> {
    let e = not_found_by_message(e);
    if e.is_not_found() { Ok(None) } else { Err(e) }
}

/// The scalable target of `key`, or `None`.
async fn find_target(ctx: &Ctx, key: &Key) -> Result<Option<ScalableTarget>, AwsError> {
    let r = match ctx
        .applicationautoscaling
        .describe_scalable_targets()
        .service_namespace(key.namespace())
        .resource_ids(&key.resource_id)
        .scalable_dimension(key.dimension())
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => return nothing(sdk_err("DescribeScalableTargets", e)),
    };
    Ok(r.scalable_targets()
        .iter()
        .find(|t| t.resource_id() == key.resource_id && t.scalable_dimension() == &key.dimension())
        .cloned())
}

/// Whose tags prove who owns a scalable target.
enum Owner {
    /// The target's own tags.
    Own(Vec<(String, String)>),
    /// Another resource's tags (what it is, its tags).
    Parent(String, Vec<(String, String)>),
}

fn pairs(tags: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// The target's tags (ListTagsForResource). moto 5.2.5 implements no ListTagsForResource here
/// and drops RegisterScalableTarget's tags: on the emulator (only), the proof is the ECS
/// service the target scales (`service/<cluster>/<service>`), which does keep its tags.
async fn owner(ctx: &Ctx, arn: Option<&str>, key: &Key) -> Result<Owner, AwsError> {
    if ctx.emulator {
        let mut parts = key.resource_id.splitn(3, '/');
        if let (Some("service"), Some(cluster), Some(service)) = (parts.next(), parts.next(), parts.next()) {
            let svc = super::ecs::describe_service(ctx, cluster, service).await?;
            let tags = svc
                .iter()
                .flat_map(|s| s.tags())
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                .collect();
            return Ok(Owner::Parent(format!("ECS service `{cluster}/{service}`"), tags));
        }
    }
    let Some(arn) = arn else { return Ok(Owner::Own(Vec::new())) };
    Ok(Owner::Own(target_tags(ctx, arn).await?))
}

/// The tags of the scalable target `arn` (none if it is gone).
async fn target_tags(ctx: &Ctx, arn: &str) -> Result<Vec<(String, String)>, AwsError> {
    let r = match ctx.applicationautoscaling.list_tags_for_resource().resource_arn(arn).send().await {
        Ok(r) => r,
        Err(e) => return Ok(nothing(sdk_err("ListTagsForResource", e))?.unwrap_or_default()),
    };
    Ok(r.tags().into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// Sets the tags of the scalable target `arn` to `want`, as an update: UntagResource for the
/// keys the plan dropped, TagResource for the rest (which overwrites: a resumed update repeats
/// it harmlessly).
async fn retag(ctx: &Ctx, arn: &str, want: &[(String, String)]) -> Result<(), AwsError> {
    let dropped: Vec<String> = target_tags(ctx, arn)
        .await?
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| !k.starts_with("aws:") && !want.iter().any(|(w, _)| w == k))
        .collect();
    if !dropped.is_empty() {
        let req = ctx.applicationautoscaling.untag_resource().resource_arn(arn).set_tag_keys(Some(dropped));
        req.send().await.map_err(|e| sdk_err("UntagResource", e))?;
    }
    let req =
        ctx.applicationautoscaling.tag_resource().resource_arn(arn).set_tags(Some(want.iter().cloned().collect()));
    req.send().await.map_err(|e| sdk_err("TagResource", e))?;
    Ok(())
}

/// Fixtures of the Application Auto Scaling types' tests.
#[cfg(test)]
mod testing {
    use serde_json::{Value, json};

    use crate::aws::testing::tags;

    pub const RESOURCE: &str = "service/c1/web";
    pub const DIMENSION: &str = "ecs:service:DesiredCount";

    pub fn target(resource: &str) -> Value {
        json!({
            "service_namespace": "ecs",
            "resource_id": resource,
            "scalable_dimension": DIMENSION,
            "min_capacity": 1,
            "max_capacity": 4,
            "tags": tags("s-dev", "target"),
        })
    }

    pub fn policy(resource: &str, name: &str) -> Value {
        json!({
            "policy_name": name,
            "service_namespace": "ecs",
            "resource_id": resource,
            "scalable_dimension": DIMENSION,
            "policy_type": "TargetTrackingScaling",
            "target_tracking_scaling_policy_configuration": {
                "target_value": 60.0,
                "predefined_metric_specification": {"predefined_metric_type": "ECSServiceAverageCPUUtilization"},
                "scale_in_cooldown": 60,
                "scale_out_cooldown": 60,
            },
        })
    }
}
