//! `cloudwatch:*` types: metric alarms.

mod metric_alarm;

use aws_sdk_cloudwatch::types::{MetricAlarm, Tag};

use super::adapter::{Adapter, Type};
use super::{AwsError, Ctx, sdk_err};
use crate::schema::NameRule;

pub(super) const TYPES: &[&dyn Adapter] = &[&Type::<metric_alarm::MetricAlarm>::NEW];

/// How CloudWatch says "not there" (DeleteAlarms; ListTagsForResource).
const NOT_FOUND: &[&str] = &["ResourceNotFound", "ResourceNotFoundException"];

/// Any UTF-8 but ASCII control characters, says AWS.
pub const ALARM_NAME: NameRule = NameRule::new("CloudWatch alarm name", "PutMetricAlarm AlarmName", 1, 255, "");

/// PutMetricAlarm Period: 10, 20, 30, or any multiple of 60 seconds.
pub const PERIODS: &[i64] = &[10, 20, 30];

/// The metric alarm named exactly `name`, if there is one.
async fn describe_alarm(ctx: &Ctx, name: &str) -> Result<Option<MetricAlarm>, AwsError> {
    let out =
        ctx.cloudwatch.describe_alarms().alarm_names(name).send().await.map_err(|e| sdk_err("DescribeAlarms", e))?;
    Ok(out.metric_alarms().iter().find(|a| a.alarm_name() == Some(name)).cloned())
}

/// The tags of the resource `arn` (ListTagsForResource).
async fn tags_of(ctx: &Ctx, arn: &str) -> Result<Vec<Tag>, AwsError> {
    let out = ctx.cloudwatch.list_tags_for_resource().resource_arn(arn).send().await;
    Ok(out.map_err(|e| sdk_err("ListTagsForResource", e))?.tags().to_vec())
}

/// The alarm's tags for `read`: from the read run's GetResources if it has them
/// ([`tagging::tags`](crate::aws::tagging::tags)), else [`tags_of`].
async fn read_tags(ctx: &Ctx, arn: &str) -> Result<Vec<Tag>, AwsError> {
    match crate::aws::tagging::tags(ctx, arn).await? {
        Some(pairs) => Ok(pairs.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()),
        None => tags_of(ctx, arn).await,
    }
}

/// Tags as (key, value) pairs; a tag without either is no tag.
fn pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().filter_map(|t| Some((t.key()?, t.value()?)))
}
