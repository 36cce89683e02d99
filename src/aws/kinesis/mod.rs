//! `kinesis:*` types: data streams.
//!
//! Retention and encryption can only be changed once the stream is ACTIVE, and each change
//! makes it UPDATING again: the adapter makes those calls while waiting for the stream.

mod stream;

use aws_sdk_kinesis::types::{StreamDescriptionSummary, Tag};

use super::adapter::{Adapter, Type};
use super::{AwsError, Ctx, sdk_err};
use crate::schema::NameRule;

pub(super) const TYPES: &[&dyn Adapter] = &[&Type::<stream::Stream>::NEW];

/// How Kinesis says "not there".
const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

pub const STREAM_NAME: NameRule =
    NameRule::new("Kinesis stream name", "CreateStream StreamName", 1, 128, "a-zA-Z0-9_.-");

/// The stream's summary, or `None` once it is gone.
async fn summary(ctx: &Ctx, name: &str) -> Result<Option<StreamDescriptionSummary>, AwsError> {
    match ctx.kinesis.describe_stream_summary().stream_name(name).send().await {
        Ok(out) => Ok(out.stream_description_summary().cloned()),
        Err(e) => match sdk_err("DescribeStreamSummary", e) {
            e if e.is_not_found() => Ok(None),
            e => Err(e),
        },
    }
}

/// The stream's tags for `read`: from the read run's GetResources by its ARN if it has them
/// ([`tagging::tags`](crate::aws::tagging::tags)), else [`stream_tags`].
async fn read_tags(ctx: &Ctx, name: &str, arn: &str) -> Result<Vec<Tag>, AwsError> {
    match crate::aws::tagging::tags(ctx, arn).await? {
        Some(pairs) => pairs
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<_, _>>()
            .map_err(|e| AwsError::malformed("GetResources", format!("a tag of stream {name}: {e}"))),
        None => stream_tags(ctx, name).await,
    }
}

/// The stream's tags (ListTagsForStream).
async fn stream_tags(ctx: &Ctx, name: &str) -> Result<Vec<Tag>, AwsError> {
    let out = ctx.kinesis.list_tags_for_stream().stream_name(name).send().await;
    Ok(out.map_err(|e| sdk_err("ListTagsForStream", e))?.tags().to_vec())
}
