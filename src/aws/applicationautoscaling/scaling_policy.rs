//! `applicationautoscaling:ScalingPolicy`: a scaling policy on a scalable target, by its ARN
//! (its name and its target's keys kept in the outputs). A policy carries no tags: it is ours
//! on a target of this stack.

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalingPolicy as Policy,
    TargetTrackingScalingPolicyConfiguration,
};
use serde_json::{Map, Value, json};

use super::{Key, NOT_FOUND, Owner, POLICY_NAME, find_target, keyed, not_found_by_message, nothing, owner, pairs};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, out_str, poll, put, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

const PREDEFINED_METRIC_SPECIFICATION: &[Prop] = &[
    Prop::req("predefined_metric_type", Kind::Str, "such as `ECSServiceAverageCPUUtilization`"),
    Prop::opt("resource_label", Kind::Str, "the load balancer target group, for `ALBRequestCountPerTarget`"),
];

const TARGET_TRACKING: &[Prop] = &[
    Prop::req("target_value", Kind::Float, "the metric value to keep"),
    Prop::opt("predefined_metric_specification", Kind::Struct(PREDEFINED_METRIC_SPECIFICATION), "the tracked metric"),
    Prop::opt("scale_in_cooldown", Kind::Int, "seconds after a scale-in before the next one").at_least(0),
    Prop::opt("scale_out_cooldown", Kind::Int, "seconds after a scale-out before the next one").at_least(0),
    Prop::opt("disable_scale_in", Kind::Bool, "never scale in (default false)"),
];

// In place: PutScalingPolicy with the policy's name and keys replaces its type and
// configuration.
pub static SPEC: TypeSpec = TypeSpec {
    name: "applicationautoscaling:ScalingPolicy",
    aliases: &[
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "aws_appautoscaling_policy",
        "aws:appautoscaling/policy:Policy",
    ],
    summary: "A scaling policy on a scalable target",
    calls: "PutScalingPolicy (every property)",
    props: &[
        Prop::req("policy_name", Kind::Str, "the policy's name, unique for its scalable target")
            .name_rule(&POLICY_NAME),
        Prop::req("service_namespace", Kind::Str, "the scalable target's service namespace"),
        Prop::req("resource_id", Kind::Str, "the scalable target's resource ID"),
        Prop::req("scalable_dimension", Kind::Str, "the scalable target's dimension"),
        Prop::opt("policy_type", Kind::Str, "`TargetTrackingScaling` (default) or `StepScaling`").in_place(),
        Prop::opt(
            "target_tracking_scaling_policy_configuration",
            Kind::Struct(TARGET_TRACKING),
            "the metric to track and the value to keep it at",
        )
        .in_place(),
    ],
    attrs: &[attr("id", "the policy's ARN"), attr("arn", "the policy's ARN"), attr("name", "the policy's name")],
    taggable: false,
    holds_data: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

pub struct ScalingPolicy;

/// What a PutScalingPolicy reads.
pub struct Input {
    name: String,
    key: Key,
    policy_type: Option<PolicyType>,
    target_tracking: Option<TargetTrackingScalingPolicyConfiguration>,
}

#[async_trait]
impl Lifecycle for ScalingPolicy {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = NOT_FOUND;
    const UPDATES: &'static [&'static str] = &["policy_type", "target_tracking_scaling_policy_configuration"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        p.for_op("PutScalingPolicy");
        let name = p.str("policy_name")?;
        let key = Key::input(p)?;
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
        Ok(Input { name, key, policy_type, target_tracking })
    }

    async fn create(ctx: &Ctx, p: &Input) -> Result<Created, AwsError> {
        const OP: &str = "PutScalingPolicy";
        let r = keyed!(ctx.applicationautoscaling.put_scaling_policy().policy_name(&p.name), &p.key)
            .set_policy_type(p.policy_type.clone())
            .set_target_tracking_scaling_policy_configuration(p.target_tracking.clone())
            .send()
            .await
            .map_err(|e| sdk_err(OP, e))?;
        let arn = required(Some(r.policy_arn()).filter(|a| !a.is_empty()), OP, "a policy ARN")?;
        Ok(created(&p.key, &p.name, &arn))
    }

    /// PutScalingPolicy of a policy of that name replaces its configuration: the create call again.
    async fn update(
        ctx: &Ctx,
        _id: &str,
        out: &Outputs,
        input: &Input,
        _changed: &[String],
    ) -> Result<Outputs, AwsError> {
        let put = Self::create(ctx, input).await?;
        let mut outputs = out.clone();
        outputs.extend(put.outputs);
        Ok(outputs)
    }

    /// The policy of that name on the target of these keys, ours when its target's owner is
    /// this stack ([`owner`]).
    async fn find(ctx: &Ctx, p: &Input, who: &Identity) -> Result<Found, AwsError> {
        let Some(policy) = find_policy(ctx, &p.name, &p.key).await? else { return Ok(Found::Nothing) };
        let created = created(&p.key, &p.name, policy.policy_arn());
        // A policy carries no tags: its target's owner is its owner.
        let Some(target) = find_target(ctx, &p.key).await? else { return Ok(Found::Nothing) };
        Ok(match owner(ctx, target.scalable_target_arn(), &p.key).await? {
            Owner::Own(tags) => {
                who.claim_by_parent(created, &format!("scalable target `{}`", p.key.resource_id), pairs(&tags))
            }
            Owner::Parent(what, tags) => who.claim_by_parent(created, &what, pairs(&tags)),
        })
    }

    async fn ready(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        let (name, key) = name_and_key(out)?;
        poll(ctx, "DescribeScalingPolicies", "the scaling policy to be listed", || async {
            Ok(find_policy(ctx, name, &key).await?.map(|_| out.clone()))
        })
        .await
    }

    /// The policy as the plan writes it: its name, keys, type and target tracking
    /// configuration (a step scaling or customized metric configuration is not in the schema).
    async fn read(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let (name, key) = name_and_key(out)?;
        let Some(policy) = find_policy(ctx, name, &key).await? else { return Ok(None) };
        let mut props = key.outputs();
        props.insert("policy_name".into(), json!(policy.policy_name()));
        props.insert("policy_type".into(), json!(policy.policy_type().as_str()));
        if let Some(c) = policy.target_tracking_scaling_policy_configuration() {
            let mut config = Map::new();
            config.insert("target_value".into(), json!(c.target_value()));
            if let Some(m) = c.predefined_metric_specification() {
                let mut metric = Map::new();
                metric.insert("predefined_metric_type".into(), json!(m.predefined_metric_type().as_str()));
                put(&mut metric, "resource_label", m.resource_label());
                config.insert("predefined_metric_specification".into(), Value::Object(metric));
            }
            put(&mut config, "scale_in_cooldown", c.scale_in_cooldown());
            put(&mut config, "scale_out_cooldown", c.scale_out_cooldown());
            put(&mut config, "disable_scale_in", c.disable_scale_in());
            props.insert("target_tracking_scaling_policy_configuration".into(), Value::Object(config));
        }
        Ok(Some(Live { props, outputs: created(&key, name, policy.policy_arn()).outputs }))
    }

    async fn delete(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<(), AwsError> {
        let key = Key::from_outputs(out, "DeleteScalingPolicy")?;
        let name = out_str(out, "name", "DeleteScalingPolicy")?;
        keyed!(ctx.applicationautoscaling.delete_scaling_policy().policy_name(name), &key)
            .send()
            .await
            .map_err(|e| not_found_by_message(sdk_err("DeleteScalingPolicy", e)))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<bool, AwsError> {
        let (name, key) = name_and_key(out)?;
        Ok(find_policy(ctx, name, &key).await?.is_none())
    }
}

fn created(key: &Key, name: &str, arn: &str) -> Created {
    let mut outputs = key.outputs();
    outputs.insert("id".into(), json!(arn));
    outputs.insert("arn".into(), json!(arn));
    outputs.insert("name".into(), json!(name));
    Created { id: arn.to_string(), outputs }
}

fn name_and_key(out: &Outputs) -> Result<(&str, Key), AwsError> {
    Ok((out_str(out, "name", "DescribeScalingPolicies")?, Key::from_outputs(out, "DescribeScalingPolicies")?))
}

/// The policy `name` on the target of `key`, or `None`.
async fn find_policy(ctx: &Ctx, name: &str, key: &Key) -> Result<Option<Policy>, AwsError> {
    let r = match keyed!(ctx.applicationautoscaling.describe_scaling_policies().policy_names(name), key).send().await {
        Ok(r) => r,
        Err(e) => return nothing(sdk_err("DescribeScalingPolicies", e)),
    };
    // moto ignores `policy_names` and matches the resource ID as a substring.
    Ok(r.scaling_policies()
        .iter()
        .find(|x| {
            x.policy_name() == name && x.resource_id() == key.resource_id && x.scalable_dimension() == &key.dimension()
        })
        .cloned())
}

#[cfg(test)]
mod adopt_tests {
    use super::super::testing::{RESOURCE, policy, target};
    use crate::aws::ecs::testing::{assert_round_trip, assert_same, ecs_service, make, remove};
    use crate::aws::testing::{assert_not_ours, ctx, find, props, tags};
    use serde_json::json;

    use crate::aws::{Created, Found, create};
    use crate::emulator::Moto;

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

    /// The target's bounds and the policy's target value change in place and read back so.
    #[tokio::test]
    async fn target_bounds_and_policy_configuration_update_in_place() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        ecs_service(&ctx, "c1", tags("s-dev", "service")).await;
        let (tt, pt) = ("applicationautoscaling:ScalableTarget", "applicationautoscaling:ScalingPolicy");
        let t = make(&ctx, tt, &target(RESOURCE)).await;
        let p = make(&ctx, pt, &policy(RESOURCE, "cpu")).await;
        let mut tv = target(RESOURCE);
        tv["min_capacity"] = json!(2);
        tv["max_capacity"] = json!(6);
        let keys = ["min_capacity".to_string(), "max_capacity".to_string()];
        let out = crate::aws::update(&ctx, tt, &t.id, &t.outputs, &mut props(tv.clone()), &keys).await.expect("update");
        let live = crate::aws::read(&ctx, tt, &t.id, &out).await.expect("read").expect("the target");
        assert_eq!((live.props["min_capacity"].as_i64(), live.props["max_capacity"].as_i64()), (Some(2), Some(6)));
        let mut pv = policy(RESOURCE, "cpu");
        pv["target_tracking_scaling_policy_configuration"]["target_value"] = json!(45.0);
        let keys = ["target_tracking_scaling_policy_configuration".to_string()];
        let out = crate::aws::update(&ctx, pt, &p.id, &p.outputs, &mut props(pv.clone()), &keys).await.expect("update");
        crate::aws::testing::assert_reads_back(&ctx, pt, &pv, &p.id, &out).await;
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

    /// Name, keys, type and the whole target tracking configuration read back as planned.
    #[tokio::test]
    async fn scaling_policy_reads_back() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        ecs_service(&ctx, "c1", tags("s-dev", "service")).await;
        let (tt, pt) = ("applicationautoscaling:ScalableTarget", "applicationautoscaling:ScalingPolicy");
        let t = make(&ctx, tt, &target(RESOURCE)).await;
        let planned = json!({
            "policy_name": "memory",
            "service_namespace": "ecs",
            "resource_id": RESOURCE,
            "scalable_dimension": "ecs:service:DesiredCount",
            "policy_type": "TargetTrackingScaling",
            "target_tracking_scaling_policy_configuration": {
                "target_value": 75.5,
                "predefined_metric_specification": {"predefined_metric_type": "ECSServiceAverageMemoryUtilization"},
                "scale_in_cooldown": 120,
                "scale_out_cooldown": 30,
                "disable_scale_in": true,
            },
        });
        assert_round_trip(&ctx, pt, &planned, &[]).await;
        remove(&ctx, tt, &t).await;
    }
}
