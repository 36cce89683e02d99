//! Adapter for `applicationautoscaling:*` types: scalable targets and their scaling policies.
//!
//! Both are identified by AWS through (service namespace, resource ID, scalable dimension), so
//! the outputs keep the three for the describe and delete calls.

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ScalableTarget, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use serde_json::json;

use super::{AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, out_str, poll, sdk_err};

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

/// Finds what an interrupted create made, by the keys AWS identifies it with: the target by
/// (namespace, resource ID, dimension), the policy by its name and its target's keys. The
/// target is ours with both identity tags (RegisterScalableTarget carries them); a policy
/// carries no tags and is ours on a target of this stack ([`owner`]).
pub(super) async fn adopt(ctx: &Ctx, ty: &str, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    match ty {
        "applicationautoscaling:ScalableTarget" => adopt_target(ctx, p, who).await,
        "applicationautoscaling:ScalingPolicy" => adopt_policy(ctx, p, who).await,
        _ => Err(AwsError::input("Adopt", format!("unknown type `{ty}`"))),
    }
}

async fn adopt_target(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    const OP: &str = "DescribeScalableTargets";
    p.for_op(OP);
    let key = Key {
        service_namespace: p.str("service_namespace")?,
        resource_id: p.str("resource_id")?,
        scalable_dimension: p.str("scalable_dimension")?,
    };
    let _tags = p.tags()?;
    let Some(t) = find_target(ctx, &key).await? else { return Ok(Found::Nothing) };
    let arn = t.scalable_target_arn().map(str::to_owned);
    let mut outputs = key_outputs(&key);
    outputs.insert("id".into(), json!(key.resource_id));
    if let Some(arn) = &arn {
        outputs.insert("arn".into(), json!(arn));
    }
    let created = Created { id: key.resource_id.clone(), outputs };
    Ok(match owner(ctx, arn.as_deref(), &key).await? {
        Owner::Own(tags) => who.claim(created, pairs(&tags)),
        Owner::Parent(what, tags) => who.claim_by_parent(created, &what, pairs(&tags)),
    })
}

async fn find_target(ctx: &Ctx, key: &Key) -> Result<Option<ScalableTarget>, AwsError> {
    const OP: &str = "DescribeScalableTargets";
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
        Err(e) => return absent(sdk_err(OP, e)).map(|_| None),
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
            let r = ctx
                .ecs
                .describe_services()
                .cluster(cluster)
                .services(service)
                .include(aws_sdk_ecs::types::ServiceField::Tags)
                .send()
                .await
                .map_err(|e| sdk_err("DescribeServices", e))?;
            let tags = r
                .services()
                .iter()
                .flat_map(|s| s.tags())
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                .collect();
            return Ok(Owner::Parent(format!("ECS service `{cluster}/{service}`"), tags));
        }
    }
    let Some(arn) = arn else { return Ok(Owner::Own(Vec::new())) };
    let r = match ctx.applicationautoscaling.list_tags_for_resource().resource_arn(arn).send().await {
        Ok(r) => r,
        Err(e) => {
            let e = not_found_by_message(sdk_err("ListTagsForResource", e));
            return if e.is_not_found() { Ok(Owner::Own(Vec::new())) } else { Err(e) };
        }
    };
    Ok(Owner::Own(r.tags().into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect()))
}

async fn adopt_policy(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    const OP: &str = "DescribeScalingPolicies";
    p.for_op(OP);
    let name = p.str("policy_name")?;
    let key = Key {
        service_namespace: p.str("service_namespace")?,
        resource_id: p.str("resource_id")?,
        scalable_dimension: p.str("scalable_dimension")?,
    };
    let r = match ctx
        .applicationautoscaling
        .describe_scaling_policies()
        .policy_names(&name)
        .service_namespace(key.namespace())
        .resource_id(&key.resource_id)
        .scalable_dimension(key.dimension())
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => return absent(sdk_err(OP, e)),
    };
    let Some(policy) = r.scaling_policies().iter().find(|x| {
        x.policy_name() == name && x.resource_id() == key.resource_id && x.scalable_dimension() == &key.dimension()
    }) else {
        return Ok(Found::Nothing);
    };
    let arn = policy.policy_arn().to_string();
    let mut outputs = key_outputs(&key);
    outputs.insert("id".into(), json!(arn));
    outputs.insert("arn".into(), json!(arn));
    outputs.insert("name".into(), json!(name));
    let created = Created { id: arn, outputs };
    // A policy carries no tags: its target's owner is its owner.
    let Some(target) = find_target(ctx, &key).await? else { return Ok(Found::Nothing) };
    Ok(match owner(ctx, target.scalable_target_arn(), &key).await? {
        Owner::Own(tags) => {
            who.claim_by_parent(created, &format!("scalable target `{}`", key.resource_id), pairs(&tags))
        }
        Owner::Parent(what, tags) => who.claim_by_parent(created, &what, pairs(&tags)),
    })
}

/// Inside a lookup: "not found" means nothing to adopt.
fn absent(e: AwsError) -> Result<Found, AwsError> {
    let e = not_found_by_message(e);
    if e.is_not_found() { Ok(Found::Nothing) } else { Err(e) }
}

#[cfg(test)]
mod adopt_tests {
    use crate::aws::testing::{assert_not_ours, ctx, find, props, tags};
    use serde_json::{Value, json};

    use crate::aws::{Created, Ctx, Found, create, delete, wait_deleted};
    use crate::emulator::Moto;

    fn assert_same(created: &Created, adopted: &Created) {
        assert_eq!(adopted.id, created.id);
        assert_eq!(adopted.outputs, created.outputs);
    }

    async fn remove(ctx: &Ctx, ty: &str, c: &Created) {
        delete(ctx, ty, &c.id, &c.outputs).await.expect("delete");
        wait_deleted(ctx, ty, &c.id, &c.outputs).await.expect("wait_deleted");
    }

    const RESOURCE: &str = "service/c1/web";
    const DIMENSION: &str = "ecs:service:DesiredCount";

    fn target(resource: &str) -> Value {
        json!({
            "service_namespace": "ecs",
            "resource_id": resource,
            "scalable_dimension": DIMENSION,
            "min_capacity": 1,
            "max_capacity": 4,
            "tags": tags("s-dev", "target"),
        })
    }

    fn policy(resource: &str, name: &str) -> Value {
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

    /// The ECS service a target scales (moto checks that it exists), with `service_tags`.
    async fn ecs_service(ctx: &Ctx, cluster: &str, service_tags: serde_json::Value) {
        create(ctx, "ecs:Cluster", &mut props(json!({"cluster_name": cluster}))).await.unwrap();
        let td = create(
            ctx,
            "ecs:TaskDefinition",
            &mut props(
                json!({"family": "web", "container_definitions": [{"name": "app", "image": "nginx:1", "memory": 512}]}),
            ),
        )
        .await
        .unwrap();
        let service = json!({"cluster": cluster, "service_name": "web", "task_definition": td.id, "desired_count": 1,
            "tags": service_tags});
        create(ctx, "ecs:Service", &mut props(service)).await.unwrap();
    }

    fn adopted(found: Found) -> Created {
        found.ours().expect("adopted")
    }

    #[tokio::test]
    async fn scalable_target_and_policy() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        ecs_service(&ctx, "c1", tags("s-dev", "service")).await;
        let (tt, pt) = ("applicationautoscaling:ScalableTarget", "applicationautoscaling:ScalingPolicy");

        assert!(matches!(find(&ctx, tt, &target(RESOURCE)).await, Found::Nothing));
        assert!(matches!(find(&ctx, pt, &policy(RESOURCE, "cpu")).await, Found::Nothing));
        let t = create(&ctx, tt, &mut props(target(RESOURCE))).await.unwrap();
        assert_same(&t, &adopted(find(&ctx, tt, &target(RESOURCE)).await));

        assert!(matches!(find(&ctx, pt, &policy(RESOURCE, "cpu")).await, Found::Nothing));
        let p = create(&ctx, pt, &mut props(policy(RESOURCE, "cpu"))).await.unwrap();
        assert_same(&p, &adopted(find(&ctx, pt, &policy(RESOURCE, "cpu")).await));
        assert!(matches!(find(&ctx, pt, &policy(RESOURCE, "memory")).await, Found::Nothing), "another name");

        remove(&ctx, pt, &p).await;
        assert!(matches!(find(&ctx, pt, &policy(RESOURCE, "cpu")).await, Found::Nothing));
        remove(&ctx, tt, &t).await;
        assert!(matches!(find(&ctx, tt, &target(RESOURCE)).await, Found::Nothing));
    }

    /// A target (and its policy) registered outside ironplan for a service that is not this
    /// stack's is left alone. On the emulator the proof is the service's tags (moto keeps no
    /// tags for targets); on AWS the target's own.
    #[tokio::test]
    async fn a_target_of_a_service_that_is_not_ours_is_left_alone() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        ecs_service(&ctx, "manual", json!({})).await;
        let (tt, pt) = ("applicationautoscaling:ScalableTarget", "applicationautoscaling:ScalingPolicy");
        let resource = "service/manual/web";
        create(&ctx, tt, &mut props(target(resource))).await.unwrap();
        create(&ctx, pt, &mut props(policy(resource, "cpu"))).await.unwrap();
        assert_not_ours(&find(&ctx, tt, &target(resource)).await, "ECS service `manual/web` has no `ironplan:stack`");
        assert_not_ours(&find(&ctx, pt, &policy(resource, "cpu")).await, "has no `ironplan:stack` tag");
    }
}
