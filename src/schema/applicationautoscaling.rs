//! `applicationautoscaling:*` types: what scales an ECS service (and other services' capacity).
//!
//! ECS itself has no scaling API: a service scales through a scalable target registered with
//! Application Auto Scaling and a scaling policy on that target.

use super::{Kind, NameRule, Prop, TypeSpec, attr};

pub const TYPES: &[&TypeSpec] = &[&SCALABLE_TARGET, &SCALING_POLICY];

/// 1-256 printable characters.
pub const POLICY_NAME: NameRule = NameRule::new("scaling policy name", "PutScalingPolicy PolicyName", 1, 256, "");

pub const SCALABLE_TARGET: TypeSpec = TypeSpec {
    name: "applicationautoscaling:ScalableTarget",
    aliases: &[
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "aws_appautoscaling_target",
        "aws:appautoscaling/target:Target",
    ],
    summary: "A resource dimension that Application Auto Scaling may scale, with its bounds",
    calls: "RegisterScalableTarget (every property)",
    props: &[
        Prop::req("service_namespace", Kind::Str, "the scaled resource's service, such as `ecs`"),
        Prop::req("resource_id", Kind::Str, "the scaled resource, such as `service/<cluster>/<service>`"),
        Prop::req("scalable_dimension", Kind::Str, "what is scaled, such as `ecs:service:DesiredCount`"),
        Prop::opt("min_capacity", Kind::Int, "the lowest capacity scaling may set").at_least(0),
        Prop::opt("max_capacity", Kind::Int, "the highest capacity scaling may set").at_least(0),
        Prop::opt("tags", Kind::Tags, "tags of the scalable target"),
    ],
    attrs: &[
        attr("id", "the resource ID"),
        attr("resource_id", "the resource ID"),
        attr("scalable_dimension", "the scalable dimension"),
        attr("service_namespace", "the service namespace"),
        attr("arn", "the scalable target's ARN"),
    ],
    taggable: true,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

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

pub const SCALING_POLICY: TypeSpec = TypeSpec {
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
        Prop::opt("policy_type", Kind::Str, "`TargetTrackingScaling` (default) or `StepScaling`"),
        Prop::opt(
            "target_tracking_scaling_policy_configuration",
            Kind::Struct(TARGET_TRACKING),
            "the metric to track and the value to keep it at",
        ),
    ],
    attrs: &[attr("id", "the policy's ARN"), attr("arn", "the policy's ARN"), attr("name", "the policy's name")],
    taggable: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};
