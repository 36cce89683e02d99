//! Adapter for `applicationautoscaling:*` types: scalable targets and their scaling policies.
//!
//! Both are identified by AWS through (service namespace, resource ID, scalable dimension), so
//! the outputs keep the three for the describe and delete calls.

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use serde_json::json;

use super::{AwsError, Created, Ctx, ErrorKind, Outputs, Props, out_str, poll, sdk_err};

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    match ty {
        "applicationautoscaling:ScalableTarget" => create_target(ctx, p).await,
        "applicationautoscaling:ScalingPolicy" => create_policy(ctx, p).await,
        _ => Err(AwsError::input("Create", format!("unknown type `{ty}`"))),
    }
}

pub(super) async fn wait_ready(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    let what = match ty {
        "applicationautoscaling:ScalableTarget" => "the scalable target to be listed",
        "applicationautoscaling:ScalingPolicy" => "the scaling policy to be listed",
        _ => return Err(AwsError::input("Wait", format!("unknown type `{ty}`"))),
    };
    let key = Key::from_outputs(out, "Describe")?;
    poll(ctx, "Describe", what, || async { Ok(exists(ctx, ty, id, &key, out).await?.then(|| out.clone())) }).await
}

pub(super) async fn delete(ctx: &Ctx, ty: &str, _id: &str, out: &Outputs) -> Result<(), AwsError> {
    let key = Key::from_outputs(out, "Delete")?;
    match ty {
        "applicationautoscaling:ScalableTarget" => {
            ctx.applicationautoscaling
                .deregister_scalable_target()
                .service_namespace(key.namespace())
                .resource_id(&key.resource_id)
                .scalable_dimension(key.dimension())
                .send()
                .await
                .map_err(|e| not_found_by_message(sdk_err("DeregisterScalableTarget", e)))?;
        }
        "applicationautoscaling:ScalingPolicy" => {
            ctx.applicationautoscaling
                .delete_scaling_policy()
                .policy_name(out_str(out, "name", "DeleteScalingPolicy")?)
                .service_namespace(key.namespace())
                .resource_id(&key.resource_id)
                .scalable_dimension(key.dimension())
                .send()
                .await
                .map_err(|e| not_found_by_message(sdk_err("DeleteScalingPolicy", e)))?;
        }
        _ => return Err(AwsError::input("Delete", format!("unknown type `{ty}`"))),
    }
    Ok(())
}

pub(super) async fn wait_deleted(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<(), AwsError> {
    let key = Key::from_outputs(out, "Describe")?;
    poll(ctx, "Describe", "the scaling resource to be gone", || async {
        Ok((!exists(ctx, ty, id, &key, out).await?).then_some(()))
    })
    .await
}

/// What identifies a scalable target (and, with a name, a scaling policy) to AWS.
struct Key {
    service_namespace: String,
    resource_id: String,
    scalable_dimension: String,
}

impl Key {
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
}

/// Whether AWS lists the target or policy.
async fn exists(ctx: &Ctx, ty: &str, _id: &str, key: &Key, out: &Outputs) -> Result<bool, AwsError> {
    if ty == "applicationautoscaling:ScalableTarget" {
        let r = ctx
            .applicationautoscaling
            .describe_scalable_targets()
            .service_namespace(key.namespace())
            .resource_ids(&key.resource_id)
            .scalable_dimension(key.dimension())
            .send()
            .await
            .map_err(|e| sdk_err("DescribeScalableTargets", e))?;
        Ok(r.scalable_targets().iter().any(|t| t.resource_id() == key.resource_id))
    } else {
        let name = out_str(out, "name", "DescribeScalingPolicies")?;
        let r = ctx
            .applicationautoscaling
            .describe_scaling_policies()
            .policy_names(name)
            .service_namespace(key.namespace())
            .resource_id(&key.resource_id)
            .scalable_dimension(key.dimension())
            .send()
            .await
            .map_err(|e| sdk_err("DescribeScalingPolicies", e))?;
        Ok(r.scaling_policies().iter().any(|p| p.policy_name() == name))
    }
}

async fn create_target(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("RegisterScalableTarget");
    let key = Key {
        service_namespace: p.str("service_namespace")?,
        resource_id: p.str("resource_id")?,
        scalable_dimension: p.str("scalable_dimension")?,
    };
    let min = p.opt_i32("min_capacity")?;
    let max = p.opt_i32("max_capacity")?;
    let tags = p.tags()?;
    p.finish()?;

    let r = ctx
        .applicationautoscaling
        .register_scalable_target()
        .service_namespace(key.namespace())
        .resource_id(&key.resource_id)
        .scalable_dimension(key.dimension())
        .set_min_capacity(min)
        .set_max_capacity(max)
        .set_tags((!tags.is_empty()).then(|| tags.into_iter().collect()))
        .send()
        .await
        .map_err(|e| sdk_err("RegisterScalableTarget", e))?;
    let mut outputs = key_outputs(&key);
    outputs.insert("id".into(), json!(key.resource_id));
    if let Some(arn) = r.scalable_target_arn() {
        outputs.insert("arn".into(), json!(arn));
    }
    Ok(Created { id: key.resource_id, outputs })
}

async fn create_policy(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("PutScalingPolicy");
    let name = p.str("policy_name")?;
    let key = Key {
        service_namespace: p.str("service_namespace")?,
        resource_id: p.str("resource_id")?,
        scalable_dimension: p.str("scalable_dimension")?,
    };
    let policy_type = p.opt_str("policy_type")?.map(|t| PolicyType::from(t.as_str()));
    let target_tracking = match p.opt_struct("target_tracking_scaling_policy_configuration")? {
        None => None,
        Some(mut t) => {
            let target_value = t.opt_f64("target_value")?.ok_or_else(|| {
                AwsError::input(
                    "PutScalingPolicy",
                    "required property `target_tracking_scaling_policy_configuration.target_value` is missing",
                )
            })?;
            let predefined = match t.opt_struct("predefined_metric_specification")? {
                None => None,
                Some(mut m) => {
                    let spec = PredefinedMetricSpecification::builder()
                        .predefined_metric_type(MetricType::from(m.str("predefined_metric_type")?.as_str()))
                        .set_resource_label(m.opt_str("resource_label")?)
                        .build()
                        .map_err(|e| AwsError::input("PutScalingPolicy", e.to_string()))?;
                    m.finish()?;
                    Some(spec)
                }
            };
            let config = TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(target_value)
                .set_predefined_metric_specification(predefined)
                .set_scale_in_cooldown(t.opt_i32("scale_in_cooldown")?)
                .set_scale_out_cooldown(t.opt_i32("scale_out_cooldown")?)
                .set_disable_scale_in(t.opt_bool("disable_scale_in")?)
                .build()
                .map_err(|e| AwsError::input("PutScalingPolicy", e.to_string()))?;
            t.finish()?;
            Some(config)
        }
    };
    p.finish()?;

    let r = ctx
        .applicationautoscaling
        .put_scaling_policy()
        .policy_name(&name)
        .service_namespace(key.namespace())
        .resource_id(&key.resource_id)
        .scalable_dimension(key.dimension())
        .set_policy_type(policy_type)
        .set_target_tracking_scaling_policy_configuration(target_tracking)
        .send()
        .await
        .map_err(|e| sdk_err("PutScalingPolicy", e))?;
    let arn = r.policy_arn().to_string();
    let mut outputs = key_outputs(&key);
    outputs.insert("id".into(), json!(arn));
    outputs.insert("arn".into(), json!(arn));
    outputs.insert("name".into(), json!(name));
    Ok(Created { id: arn, outputs })
}

fn key_outputs(key: &Key) -> Outputs {
    let mut o = Outputs::new();
    o.insert("service_namespace".into(), json!(key.service_namespace));
    o.insert("resource_id".into(), json!(key.resource_id));
    o.insert("scalable_dimension".into(), json!(key.scalable_dimension));
    o
}

/// AWS answers a delete of what is gone with `ObjectNotFoundException`; moto (and some older
/// endpoints) with a `ValidationException` of the same message. Both mean "already gone".
fn not_found_by_message(mut e: AwsError) -> AwsError {
    if e.message.starts_with("No scaling policy found") || e.message.starts_with("No scalable target found") {
        e.kind = ErrorKind::NotFound;
    }
    e
}

/// Adoption after a crash is not written for this service yet: nothing is found, so a create
/// that AWS accepted but the state never recorded is created again.
pub(super) async fn adopt(_ctx: &Ctx, _ty: &str, _p: &mut Props) -> Result<Option<Created>, AwsError> {
    Ok(None)
}
