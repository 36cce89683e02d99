//! Adapter for `cloudwatch:MetricAlarm`.
//!
//! PutMetricAlarm creates or replaces the alarm in one call; its ARN comes from DescribeAlarms.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricAlarm, Statistic, Tag};
use serde_json::json;

use super::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, absent, poll, sdk_err, unknown_type};

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    if ty != "cloudwatch:MetricAlarm" {
        return Err(unknown_type(ty));
    }
    let a = read_alarm(p.for_op("PutMetricAlarm"))?;
    p.finish()?;
    // PutMetricAlarm replaces an alarm of the same name: never one that is not this stack's.
    // (One that is ours is an earlier attempt of this very create: replacing it is the retry.)
    if let Some(who) = Identity::from_tags(a.tags.iter().filter_map(|t| Some((t.key()?, t.value()?))))
        && let Found::NotOurs { id, why } = adopt_found(ctx, &who, a.name.clone()).await?
    {
        return Err(AwsError::not_ours("PutMetricAlarm", &format!("alarm `{id}`"), &why));
    }

    ctx.cloudwatch
        .put_metric_alarm()
        .alarm_name(&a.name)
        .set_alarm_description(a.description)
        .set_namespace(a.namespace)
        .set_metric_name(a.metric_name)
        .set_statistic(a.statistic.as_deref().map(Statistic::from))
        .set_dimensions((!a.dimensions.is_empty()).then_some(a.dimensions))
        .set_period(a.period)
        .evaluation_periods(a.evaluation_periods)
        .set_datapoints_to_alarm(a.datapoints_to_alarm)
        .set_threshold(a.threshold)
        .comparison_operator(ComparisonOperator::from(a.comparison_operator.as_str()))
        .set_treat_missing_data(a.treat_missing_data)
        .set_alarm_actions((!a.alarm_actions.is_empty()).then_some(a.alarm_actions))
        .set_ok_actions((!a.ok_actions.is_empty()).then_some(a.ok_actions))
        .set_tags((!a.tags.is_empty()).then_some(a.tags))
        .send()
        .await
        .map_err(|e| sdk_err("PutMetricAlarm", e))?;
    Ok(created(a.name))
}

/// What a create reads, in the order it reads it (shared with [`adopt`]).
struct AlarmInput {
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

fn read_alarm(p: &mut Props) -> Result<AlarmInput, AwsError> {
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
    Ok(AlarmInput {
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

fn created(name: String) -> Created {
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(name));
    outputs.insert("name".into(), json!(name));
    Created { id: name, outputs }
}

/// Finds what an interrupted create made: the alarm of that name. PutMetricAlarm would replace
/// an alarm of that name, so one that is not ours (both identity tags) must never be taken.
pub(super) async fn adopt(ctx: &Ctx, ty: &str, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    if ty != "cloudwatch:MetricAlarm" {
        return Err(unknown_type(ty));
    }
    let a = read_alarm(p.for_op("PutMetricAlarm"))?;
    adopt_found(ctx, who, a.name).await
}

async fn adopt_found(ctx: &Ctx, who: &Identity, name: String) -> Result<Found, AwsError> {
    let Some(alarm) = find(ctx, &name).await? else { return Ok(Found::Nothing) };
    let tags = match alarm.alarm_arn() {
        None => Vec::new(),
        Some(arn) => match ctx.cloudwatch.list_tags_for_resource().resource_arn(arn).send().await {
            Ok(out) => out.tags().to_vec(),
            Err(e) => return absent(sdk_err("ListTagsForResource", e)),
        },
    };
    Ok(who.claim(created(name), tags.iter().filter_map(|t| Some((t.key()?, t.value()?)))))
}

pub(super) async fn wait_ready(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    if ty != "cloudwatch:MetricAlarm" {
        return Err(unknown_type(ty));
    }
    let alarm =
        poll(ctx, "DescribeAlarms", &format!("alarm {id} to exist"), || async move { find(ctx, id).await }).await?;
    let mut outputs = out.clone();
    outputs.insert("id".into(), json!(id));
    outputs.insert("name".into(), json!(id));
    outputs.insert("arn".into(), json!(alarm.alarm_arn().unwrap_or_default()));
    Ok(outputs)
}

pub(super) async fn delete(ctx: &Ctx, ty: &str, id: &str, _out: &Outputs) -> Result<(), AwsError> {
    if ty != "cloudwatch:MetricAlarm" {
        return Err(unknown_type(ty));
    }
    ctx.cloudwatch.delete_alarms().alarm_names(id).send().await.map_err(|e| sdk_err("DeleteAlarms", e))?;
    Ok(())
}

pub(super) async fn wait_deleted(ctx: &Ctx, ty: &str, id: &str, _out: &Outputs) -> Result<(), AwsError> {
    if ty != "cloudwatch:MetricAlarm" {
        return Err(unknown_type(ty));
    }
    poll(ctx, "DescribeAlarms", &format!("alarm {id} to be deleted"), || async move {
        Ok(find(ctx, id).await?.is_none().then_some(()))
    })
    .await
}

async fn find(ctx: &Ctx, name: &str) -> Result<Option<MetricAlarm>, AwsError> {
    let out =
        ctx.cloudwatch.describe_alarms().alarm_names(name).send().await.map_err(|e| sdk_err("DescribeAlarms", e))?;
    Ok(out.metric_alarms().iter().find(|a| a.alarm_name() == Some(name)).cloned())
}

#[cfg(test)]
mod adopt_tests {
    use super::*;
    use crate::aws::testing::{assert_not_ours, ctx, find};
    use crate::emulator::Moto;
    use crate::schema::{RESOURCE_TAG, STACK_TAG};
    use serde_json::Value;

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
        wait_ready(&ctx, ty, &found.id, &found.outputs).await.unwrap();
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
    }

    /// An alarm made outside ironplan under a plan alarm's name: PutMetricAlarm would silently
    /// replace it, so neither adoption nor a create may touch it.
    #[tokio::test]
    async fn a_look_alike_alarm_is_neither_adopted_nor_replaced() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let ty = "cloudwatch:MetricAlarm";
        ctx.cloudwatch
            .put_metric_alarm()
            .alarm_name("s-dev-lag")
            .namespace("AWS/EC2")
            .metric_name("CPUUtilization")
            .statistic(Statistic::Average)
            .period(300)
            .evaluation_periods(1)
            .threshold(90.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .send()
            .await
            .expect("an alarm made by hand");
        assert_not_ours(&find(&ctx, ty, &alarm("s-dev-lag", "s-dev")).await, "has no `ironplan:stack` tag");
        let e = create(&ctx, ty, &mut props("s-dev-lag", "s-dev")).await.expect_err("replaced a hand-made alarm");
        assert_eq!(e.code, "NotOurs", "{e}");
        let left = find_alarm(&ctx, "s-dev-lag").await;
        assert_eq!(left.as_deref(), Some("CPUUtilization"), "the hand-made alarm is unchanged");
    }

    async fn find_alarm(ctx: &Ctx, name: &str) -> Option<String> {
        super::find(ctx, name).await.unwrap().and_then(|a| a.metric_name().map(str::to_owned))
    }
}
