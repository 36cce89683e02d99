//! Adapter for `cloudwatch:MetricAlarm`.
//!
//! PutMetricAlarm creates or replaces the alarm in one call; its ARN comes from DescribeAlarms.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricAlarm, Statistic, Tag};
use serde_json::json;

use super::{AwsError, Created, Ctx, Outputs, Props, poll, sdk_err, unknown_type};

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    if ty != "cloudwatch:MetricAlarm" {
        return Err(unknown_type(ty));
    }
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
    let period = p.opt_i32("period")?;
    let evaluation_periods = p.i32("evaluation_periods")?;
    let datapoints_to_alarm = p.opt_i32("datapoints_to_alarm")?;
    let threshold = p.opt_f64("threshold")?;
    let comparison_operator = p.str("comparison_operator")?;
    let treat_missing_data = p.opt_str("treat_missing_data")?;
    let alarm_actions = p.str_list("alarm_actions")?;
    let ok_actions = p.str_list("ok_actions")?;
    let tags: Vec<Tag> = p.tags()?.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
    p.finish()?;

    ctx.cloudwatch
        .put_metric_alarm()
        .alarm_name(&name)
        .set_alarm_description(description)
        .set_namespace(namespace)
        .set_metric_name(metric_name)
        .set_statistic(statistic.as_deref().map(Statistic::from))
        .set_dimensions((!dimensions.is_empty()).then_some(dimensions))
        .set_period(period)
        .evaluation_periods(evaluation_periods)
        .set_datapoints_to_alarm(datapoints_to_alarm)
        .set_threshold(threshold)
        .comparison_operator(ComparisonOperator::from(comparison_operator.as_str()))
        .set_treat_missing_data(treat_missing_data)
        .set_alarm_actions((!alarm_actions.is_empty()).then_some(alarm_actions))
        .set_ok_actions((!ok_actions.is_empty()).then_some(ok_actions))
        .set_tags((!tags.is_empty()).then_some(tags))
        .send()
        .await
        .map_err(|e| sdk_err("PutMetricAlarm", e))?;
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(name));
    outputs.insert("name".into(), json!(name));
    Ok(Created { id: name, outputs })
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

/// Adoption after a crash is not written for this service yet: nothing is found, so a create
/// that AWS accepted but the state never recorded is created again.
pub(super) async fn adopt(_ctx: &Ctx, _ty: &str, _p: &mut Props) -> Result<Option<Created>, AwsError> {
    Ok(None)
}
