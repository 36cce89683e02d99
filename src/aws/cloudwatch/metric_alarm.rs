//! `cloudwatch:MetricAlarm`: a CloudWatch alarm on one metric.
//!
//! PutMetricAlarm creates or replaces the alarm in one call; its ARN comes from DescribeAlarms.
//! Since it replaces silently, `create` first makes sure an alarm of that name, if any, is this
//! stack's: it never replaces an alarm that is not ours.

use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricAlarm as Alarm, Statistic, Tag};
use serde_json::{Map, Value, json};

use super::{ALARM_NAME, NOT_FOUND, PERIODS, describe_alarm, pairs, read_tags, tags_of};
use crate::aws::adapter::{Item, Lifecycle, Live, Read, each_listed};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, absent, poll, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

const DIMENSION: &[Prop] = &[
    Prop::req("name", Kind::Str, "the dimension's name, such as ClusterName"),
    Prop::req("value", Kind::Str, "the dimension's value"),
];

// PutMetricAlarm replaces the whole alarm of that name in place: every property but the name
// changes in place.
pub static SPEC: TypeSpec = TypeSpec {
    name: "cloudwatch:MetricAlarm",
    aliases: &["AWS::CloudWatch::Alarm", "aws_cloudwatch_metric_alarm", "aws:cloudwatch/metricAlarm:MetricAlarm"],
    summary: "A CloudWatch alarm on one metric",
    calls: "PutMetricAlarm (every property); teardown: DeleteAlarms",
    props: &[
        Prop::req("alarm_name", Kind::Str, "the alarm's name, unique in the region").name_rule(&ALARM_NAME),
        Prop::opt("alarm_description", Kind::Str, "what the alarm means").in_place(),
        Prop::opt("namespace", Kind::Str, "the metric's namespace, such as AWS/ECS").in_place(),
        Prop::opt("metric_name", Kind::Str, "the metric, such as CPUUtilization").in_place(),
        Prop::opt("statistic", Kind::Str, "Average, Sum, Minimum, Maximum or SampleCount").in_place(),
        Prop::opt("dimensions", Kind::List(&Kind::Struct(DIMENSION)), "the metric's dimensions").in_place(),
        Prop::opt("period", Kind::Int, "seconds over which the statistic is taken")
            .one_of_or_multiple(PERIODS, 60)
            .in_place(),
        Prop::req("evaluation_periods", Kind::Int, "number of periods compared to the threshold")
            .at_least(1)
            .in_place(),
        Prop::opt("datapoints_to_alarm", Kind::Int, "breaching datapoints (of evaluation_periods) that trigger it")
            .at_least(1)
            .in_place(),
        Prop::opt("threshold", Kind::Float, "the value the statistic is compared to").in_place(),
        Prop::req("comparison_operator", Kind::Str, "GreaterThanThreshold, LessThanThreshold, ...").in_place(),
        Prop::opt("treat_missing_data", Kind::Str, "missing, notBreaching, breaching or ignore").in_place(),
        Prop::opt("alarm_actions", Kind::List(&Kind::Str), "ARNs notified when the alarm fires").in_place(),
        Prop::opt("ok_actions", Kind::List(&Kind::Str), "ARNs notified when the alarm returns to OK").in_place(),
        Prop::opt("tags", Kind::Tags, "tags of the alarm"),
    ],
    attrs: &[attr("id", "the alarm name"), attr("name", "the alarm name"), attr("arn", "the alarm ARN")],
    taggable: true,
    holds_data: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

pub struct MetricAlarm;

/// What a create reads.
pub struct Input {
    name: String,
    description: Option<String>,
    namespace: Option<String>,
    metric_name: Option<String>,
    statistic: Option<String>,
    dimensions: Vec<Dimension>,
    period: Option<i32>,
    evaluation_periods: i32,
    datapoints_to_alarm: Option<i32>,
    threshold: Option<f64>,
    comparison_operator: String,
    treat_missing_data: Option<String>,
    alarm_actions: Vec<String>,
    ok_actions: Vec<String>,
    tags: Vec<Tag>,
}

#[async_trait]
impl Lifecycle for MetricAlarm {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = NOT_FOUND;
    /// DescribeAlarms takes at most 100 AlarmNames.
    const READ_BATCH: usize = 100;
    const TAGS_BY_ARN: bool = true;
    const UPDATES: &'static [&'static str] = &[
        "alarm_description",
        "namespace",
        "metric_name",
        "statistic",
        "dimensions",
        "period",
        "evaluation_periods",
        "datapoints_to_alarm",
        "threshold",
        "comparison_operator",
        "treat_missing_data",
        "alarm_actions",
        "ok_actions",
        "tags",
    ];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("PutMetricAlarm");
        let name = p.str("alarm_name")?;
        let description = p.opt_str("alarm_description")?;
        let namespace = p.opt_str("namespace")?;
        let metric_name = p.opt_str("metric_name")?;
        let statistic = p.opt_str("statistic")?;
        let mut dimensions = Vec::new();
        for mut d in p.structs("dimensions")? {
            let dim = Dimension::builder().name(d.str("name")?).value(d.str("value")?).build();
            d.finish()?;
            dimensions.push(dim);
        }
        Ok(Input {
            name,
            description,
            namespace,
            metric_name,
            statistic,
            dimensions,
            period: p.opt_i32("period")?,
            evaluation_periods: p.i32("evaluation_periods")?,
            datapoints_to_alarm: p.opt_i32("datapoints_to_alarm")?,
            threshold: p.opt_f64("threshold")?,
            comparison_operator: p.str("comparison_operator")?,
            treat_missing_data: p.opt_str("treat_missing_data")?,
            alarm_actions: p.str_list("alarm_actions")?,
            ok_actions: p.str_list("ok_actions")?,
            tags: p.tags()?.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect(),
        })
    }

    async fn create(ctx: &Ctx, a: &Input) -> Result<Created, AwsError> {
        // PutMetricAlarm replaces an alarm of the same name: never one that is not this stack's.
        // (One that is ours is an earlier attempt of this very create: replacing it is the retry.)
        if let Some(who) = Identity::from_tags(pairs(&a.tags))
            && let Found::NotOurs { id, why } = claim(ctx, &who, &a.name).await?
        {
            return Err(AwsError::not_ours("PutMetricAlarm", &format!("alarm `{id}`"), &why));
        }

        let some = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        ctx.cloudwatch
            .put_metric_alarm()
            .alarm_name(&a.name)
            .set_alarm_description(a.description.clone())
            .set_namespace(a.namespace.clone())
            .set_metric_name(a.metric_name.clone())
            .set_statistic(a.statistic.as_deref().map(Statistic::from))
            .set_dimensions((!a.dimensions.is_empty()).then(|| a.dimensions.clone()))
            .set_period(a.period)
            .evaluation_periods(a.evaluation_periods)
            .set_datapoints_to_alarm(a.datapoints_to_alarm)
            .set_threshold(a.threshold)
            .comparison_operator(ComparisonOperator::from(a.comparison_operator.as_str()))
            .set_treat_missing_data(a.treat_missing_data.clone())
            .set_alarm_actions(some(&a.alarm_actions))
            .set_ok_actions(some(&a.ok_actions))
            .set_tags((!a.tags.is_empty()).then(|| a.tags.clone()))
            .send()
            .await
            .map_err(|e| sdk_err("PutMetricAlarm", e))?;
        Ok(created(&a.name))
    }

    /// PutMetricAlarm sets the whole alarm: the update is the create call again (with its
    /// ownership check), all properties as the plan now says.
    /// PutMetricAlarm tags only a new alarm: the tags go by TagResource and UntagResource.
    async fn update(ctx: &Ctx, _id: &str, out: &Outputs, a: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        let put = Self::create(ctx, a).await?;
        let mut outputs = out.clone();
        outputs.extend(put.outputs);
        if changed.iter().any(|c| c == "tags") {
            let arn = crate::aws::out_str(out, "arn", "TagResource")?;
            let live = ctx.cloudwatch.list_tags_for_resource().resource_arn(arn).send().await;
            let live = live.map_err(|e| sdk_err("ListTagsForResource", e))?;
            let dropped: Vec<String> = live
                .tags()
                .iter()
                .filter_map(|t| t.key())
                .filter(|k| !a.tags.iter().any(|w| w.key() == Some(*k)))
                .map(str::to_owned)
                .collect();
            if !dropped.is_empty() {
                let req = ctx.cloudwatch.untag_resource().resource_arn(arn).set_tag_keys(Some(dropped));
                req.send().await.map_err(|e| sdk_err("UntagResource", e))?;
            }
            let req = ctx.cloudwatch.tag_resource().resource_arn(arn).set_tags(Some(a.tags.clone()));
            req.send().await.map_err(|e| sdk_err("TagResource", e))?;
        }
        Ok(outputs)
    }

    /// The alarm of that name. PutMetricAlarm would replace an alarm of that name, so one that
    /// is not ours (both identity tags) must never be taken.
    async fn find(ctx: &Ctx, a: &Input, who: &Identity) -> Result<Found, AwsError> {
        claim(ctx, who, &a.name).await
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        let alarm =
            poll(
                ctx,
                "DescribeAlarms",
                &format!("alarm {id} to exist"),
                || async move { describe_alarm(ctx, id).await },
            )
            .await?;
        outputs(id, &alarm, out)
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let Some(alarm) = describe_alarm(ctx, id).await? else { return Ok(None) };
        Ok(Some(live_of(ctx, alarm, id, out).await?))
    }

    /// One DescribeAlarms of the batch's names (at most 100), then each listed alarm's tags:
    /// ListTagsForResource takes one ARN, so an alarm costs a call whatever.
    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        let names = items.iter().map(|(id, _)| id.to_string()).collect();
        let pages = ctx.cloudwatch.describe_alarms().set_alarm_names(Some(names)).into_paginator().send();
        let listed = pages.collect::<Result<Vec<_>, _>>().await.map_err(|e| sdk_err("DescribeAlarms", e));
        let alarms = listed.map(|pages| pages.iter().flat_map(|p| p.metric_alarms().to_vec()).collect());
        let live = |alarm, id: String, out: Outputs| async move { live_of(ctx, alarm, &id, &out).await };
        each_listed(items, alarms, Alarm::alarm_name, live).await
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        ctx.cloudwatch.delete_alarms().alarm_names(id).send().await.map_err(|e| sdk_err("DeleteAlarms", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(describe_alarm(ctx, id).await?.is_none())
    }
}

/// The alarm of that name, judged by its tags.
async fn claim(ctx: &Ctx, who: &Identity, name: &str) -> Result<Found, AwsError> {
    let Some(alarm) = describe_alarm(ctx, name).await? else { return Ok(Found::Nothing) };
    let tags = match alarm.alarm_arn() {
        None => Vec::new(),
        Some(arn) => match tags_of(ctx, arn).await {
            Ok(tags) => tags,
            Err(e) => return absent(e),
        },
    };
    Ok(who.claim(created(name), pairs(&tags)))
}

fn created(name: &str) -> Created {
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(name));
    outputs.insert("name".into(), json!(name));
    Created { id: name.to_string(), outputs }
}

/// The outputs once the alarm exists.
fn outputs(id: &str, alarm: &aws_sdk_cloudwatch::types::MetricAlarm, out: &Outputs) -> Result<Outputs, AwsError> {
    let mut outputs = out.clone();
    outputs.insert("id".into(), json!(id));
    outputs.insert("name".into(), json!(id));
    outputs.insert("arn".into(), json!(required(alarm.alarm_arn(), "DescribeAlarms", "AlarmArn")?));
    Ok(outputs)
}

/// What `read` (and `read_many`) report of a described alarm: its properties, for those
/// DescribeAlarms reports (lists the alarm has empty are left out, as the plan leaves them out),
/// and its tags (the read run's GetResources, else ListTagsForResource).
async fn live_of(ctx: &Ctx, alarm: Alarm, id: &str, out: &Outputs) -> Result<Live, AwsError> {
    let outputs = outputs(id, &alarm, out)?;
    let mut props = Map::new();
    props.insert("alarm_name".into(), json!(id));
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            props.insert(k.into(), v);
        }
    };
    let list = |v: &[String]| (!v.is_empty()).then(|| json!(v));
    put("alarm_description", alarm.alarm_description().map(|v| json!(v)));
    put("namespace", alarm.namespace().map(|v| json!(v)));
    put("metric_name", alarm.metric_name().map(|v| json!(v)));
    put("statistic", alarm.statistic().map(|v| json!(v.as_str())));
    let dimensions: Vec<Value> =
        alarm.dimensions().iter().map(|d| json!({"name": d.name(), "value": d.value()})).collect();
    put("dimensions", (!dimensions.is_empty()).then(|| json!(dimensions)));
    put("period", alarm.period().map(|v| json!(v)));
    put("evaluation_periods", alarm.evaluation_periods().map(|v| json!(v)));
    put("datapoints_to_alarm", alarm.datapoints_to_alarm().map(|v| json!(v)));
    put("threshold", alarm.threshold().map(|v| json!(v)));
    put("comparison_operator", alarm.comparison_operator().map(|v| json!(v.as_str())));
    put("treat_missing_data", alarm.treat_missing_data().map(|v| json!(v)));
    put("alarm_actions", list(alarm.alarm_actions()));
    put("ok_actions", list(alarm.ok_actions()));
    let arn = required(alarm.alarm_arn(), "DescribeAlarms", "AlarmArn")?;
    let tags = read_tags(ctx, &arn).await?;
    put("tags", Some(Value::Object(pairs(&tags).map(|(k, v)| (k.into(), json!(v))).collect())));
    Ok(Live { props, outputs })
}

#[cfg(test)]
mod adopt_tests {
    use super::*;
    use crate::aws::testing::{assert_not_ours, assert_reads_back, ctx, find};
    use crate::aws::{create, delete, wait_deleted, wait_ready};
    use crate::emulator::Moto;
    use crate::schema::{RESOURCE_TAG, STACK_TAG};

    fn alarm(name: &str, stack: &str) -> Value {
        json!({
            "alarm_name": name,
            "namespace": "AWS/Kinesis",
            "metric_name": "GetRecords.IteratorAgeMilliseconds",
            "statistic": "Maximum",
            "dimensions": [{"name": "StreamName", "value": "s-dev-events"}],
            "period": 60,
            "evaluation_periods": 5,
            "threshold": 60000.0,
            "comparison_operator": "GreaterThanThreshold",
            "tags": {STACK_TAG: stack, RESOURCE_TAG: "alarm", "ManagedBy": "ironplan"},
        })
    }

    fn props(name: &str, stack: &str) -> Props {
        crate::aws::testing::props(alarm(name, stack))
    }

    #[tokio::test]
    async fn alarm_is_adopted_until_deleted() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let ty = "cloudwatch:MetricAlarm";

        assert!(matches!(find(&ctx, ty, &alarm("s-dev-lag", "s-dev")).await, Found::Nothing));
        let created = create(&ctx, ty, &mut props("s-dev-lag", "s-dev")).await.unwrap();
        let found = find(&ctx, ty, &alarm("s-dev-lag", "s-dev")).await.ours().expect("adopted");
        assert_eq!(found.id, created.id);
        assert_eq!(found.outputs, created.outputs);
        let ready = wait_ready(&ctx, ty, &found.id, &found.outputs).await.unwrap();
        assert_reads_back(&ctx, ty, &alarm("s-dev-lag", "s-dev"), &found.id, &ready).await;
        // Creating it again (a retry of a create that landed) replaces our own alarm.
        create(&ctx, ty, &mut props("s-dev-lag", "s-dev")).await.expect("a retried create");

        // Another stack's alarm of that name is not adopted, nor replaced by a create.
        create(&ctx, ty, &mut props("s-prod-lag", "s-prod")).await.unwrap();
        assert_not_ours(&find(&ctx, ty, &alarm("s-prod-lag", "s-dev")).await, "stack `s-prod`");
        let e = create(&ctx, ty, &mut props("s-prod-lag", "s-dev")).await.expect_err("replaced another stack's alarm");
        assert_eq!(e.code, "NotOurs", "{e}");

        delete(&ctx, ty, &created.id, &created.outputs).await.unwrap();
        wait_deleted(&ctx, ty, &created.id, &created.outputs).await.unwrap();
        assert!(matches!(find(&ctx, ty, &alarm("s-dev-lag", "s-dev")).await, Found::Nothing));
        assert!(crate::aws::read(&ctx, ty, &created.id, &ready).await.unwrap().is_none());

        let other = create(&ctx, ty, &mut props("s-dev-lag-b", "s-dev")).await.expect("create");
        let gone = crate::aws::Created { id: created.id, outputs: ready };
        crate::aws::testing::assert_reads_many(&ctx, ty, &[other, gone]).await;
    }

    /// An update puts the alarm again with the new threshold and periods; a property the type
    /// does not update (its name: a new alarm) is refused, not silently skipped; tags change.
    #[tokio::test]
    async fn update_changes_the_threshold_in_place() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let ty = "cloudwatch:MetricAlarm";
        let c = create(&ctx, ty, &mut props("s-dev-lag", "s-dev")).await.unwrap();
        let ready = wait_ready(&ctx, ty, &c.id, &c.outputs).await.unwrap();
        let mut changed = alarm("s-dev-lag", "s-dev");
        changed["threshold"] = json!(5000.0);
        changed["evaluation_periods"] = json!(3);
        let keys = ["threshold".to_string(), "evaluation_periods".to_string()];
        let out = crate::aws::update(&ctx, ty, &c.id, &ready, &mut crate::aws::testing::props(changed.clone()), &keys)
            .await
            .expect("update");
        assert_eq!(out["arn"], ready["arn"], "the same alarm");
        let live = crate::aws::read(&ctx, ty, &c.id, &out).await.unwrap().expect("the alarm");
        assert_eq!(
            (live.props["threshold"].as_f64(), live.props["evaluation_periods"].as_i64()),
            (Some(5000.0), Some(3))
        );
        let e = crate::aws::update(
            &ctx,
            ty,
            &c.id,
            &out,
            &mut crate::aws::testing::props(changed.clone()),
            &["alarm_name".into()],
        )
        .await
        .expect_err("a name is not updated");
        assert_eq!(e.code, "NotUpdatable", "{e}");
        changed["tags"]["Team"] = json!("ops");
        let out = crate::aws::update(
            &ctx,
            ty,
            &c.id,
            &out,
            &mut crate::aws::testing::props(changed.clone()),
            &["tags".into()],
        )
        .await
        .expect("tags");
        let live = crate::aws::read(&ctx, ty, &c.id, &out).await.unwrap().expect("the alarm");
        assert_eq!(live.props["tags"]["Team"], json!("ops"));
    }

    /// `read` reports what CloudWatch has: a threshold changed by hand.
    #[tokio::test]
    async fn read_reports_what_was_changed_by_hand() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let ty = "cloudwatch:MetricAlarm";
        let c = create(&ctx, ty, &mut props("s-dev-lag", "s-dev")).await.unwrap();
        let ready = wait_ready(&ctx, ty, &c.id, &c.outputs).await.unwrap();
        by_hand(&ctx, "AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", 1.5).await;
        let live = crate::aws::read(&ctx, ty, &c.id, &ready).await.unwrap().expect("the alarm");
        assert_eq!(live.props["threshold"], json!(1.5));
        assert_eq!(live.outputs["arn"], ready["arn"]);
    }

    /// An alarm made outside ironplan under a plan alarm's name: PutMetricAlarm would silently
    /// replace it, so neither adoption nor a create may touch it.
    #[tokio::test]
    async fn a_look_alike_alarm_is_neither_adopted_nor_replaced() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let ty = "cloudwatch:MetricAlarm";
        by_hand(&ctx, "AWS/EC2", "CPUUtilization", 90.0).await;
        assert_not_ours(&find(&ctx, ty, &alarm("s-dev-lag", "s-dev")).await, "has no `ironplan:stack` tag");
        let e = create(&ctx, ty, &mut props("s-dev-lag", "s-dev")).await.expect_err("replaced a hand-made alarm");
        assert_eq!(e.code, "NotOurs", "{e}");
        let left = find_alarm(&ctx, "s-dev-lag").await;
        assert_eq!(left.as_deref(), Some("CPUUtilization"), "the hand-made alarm is unchanged");
    }

    /// Puts alarm `s-dev-lag` as someone else would: without ironplan, without tags.
    async fn by_hand(ctx: &Ctx, namespace: &str, metric: &str, threshold: f64) {
        ctx.cloudwatch
            .put_metric_alarm()
            .alarm_name("s-dev-lag")
            .namespace(namespace)
            .metric_name(metric)
            .statistic(Statistic::Average)
            .period(300)
            .evaluation_periods(1)
            .threshold(threshold)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .send()
            .await
            .expect("an alarm put by hand");
    }

    async fn find_alarm(ctx: &Ctx, name: &str) -> Option<String> {
        describe_alarm(ctx, name).await.unwrap().and_then(|a| a.metric_name().map(str::to_owned))
    }
}
