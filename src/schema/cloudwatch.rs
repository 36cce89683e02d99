//! `cloudwatch:*` types: metric alarms.

use super::{Kind, NameRule, Prop, TypeSpec, attr};

pub const TYPES: &[&TypeSpec] = &[&METRIC_ALARM];

/// Any UTF-8 but ASCII control characters, says AWS.
pub const ALARM_NAME: NameRule = NameRule::new("CloudWatch alarm name", "PutMetricAlarm AlarmName", 1, 255, "");

/// PutMetricAlarm Period: 10, 20, 30, or any multiple of 60 seconds.
pub const PERIODS: &[i64] = &[10, 20, 30];

const DIMENSION: &[Prop] = &[
    Prop::req("name", Kind::Str, "the dimension's name, such as ClusterName"),
    Prop::req("value", Kind::Str, "the dimension's value"),
];

pub const METRIC_ALARM: TypeSpec = TypeSpec {
    name: "cloudwatch:MetricAlarm",
    aliases: &["AWS::CloudWatch::Alarm", "aws_cloudwatch_metric_alarm", "aws:cloudwatch/metricAlarm:MetricAlarm"],
    summary: "A CloudWatch alarm on one metric",
    calls: "PutMetricAlarm (every property); teardown: DeleteAlarms",
    props: &[
        Prop::req("alarm_name", Kind::Str, "the alarm's name, unique in the region").name_rule(&ALARM_NAME),
        Prop::opt("alarm_description", Kind::Str, "what the alarm means"),
        Prop::opt("namespace", Kind::Str, "the metric's namespace, such as AWS/ECS"),
        Prop::opt("metric_name", Kind::Str, "the metric, such as CPUUtilization"),
        Prop::opt("statistic", Kind::Str, "Average, Sum, Minimum, Maximum or SampleCount"),
        Prop::opt("dimensions", Kind::List(&Kind::Struct(DIMENSION)), "the metric's dimensions"),
        Prop::opt("period", Kind::Int, "seconds over which the statistic is taken").one_of_or_multiple(PERIODS, 60),
        Prop::req("evaluation_periods", Kind::Int, "number of periods compared to the threshold").at_least(1),
        Prop::opt("datapoints_to_alarm", Kind::Int, "breaching datapoints (of evaluation_periods) that trigger it")
            .at_least(1),
        Prop::opt("threshold", Kind::Float, "the value the statistic is compared to"),
        Prop::req("comparison_operator", Kind::Str, "GreaterThanThreshold, LessThanThreshold, ..."),
        Prop::opt("treat_missing_data", Kind::Str, "missing, notBreaching, breaching or ignore"),
        Prop::opt("alarm_actions", Kind::List(&Kind::Str), "ARNs notified when the alarm fires"),
        Prop::opt("ok_actions", Kind::List(&Kind::Str), "ARNs notified when the alarm returns to OK"),
        Prop::opt("tags", Kind::Tags, "tags of the alarm"),
    ],
    attrs: &[attr("id", "the alarm name"), attr("name", "the alarm name"), attr("arn", "the alarm ARN")],
    taggable: true,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};
