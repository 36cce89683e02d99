//! Adapter for `kinesis:Stream`.
//!
//! Retention and encryption can only be changed while the stream is ACTIVE, and each change
//! makes it UPDATING for a while: `create` stashes those values in the outputs, and
//! [`wait_ready`] waits for ACTIVE, makes each change that is still needed, and waits again.
//! A stream that is CREATING or UPDATING refuses DeleteStream (ResourceInUseException), so
//! [`delete`] retries until it is accepted.
//!
//! Tags go with CreateStream, so the stream carries its identity tags from birth; emulators that
//! drop them there (moto 5.2.5) get them through AddTagsToStream while waiting, which finds
//! nothing missing on AWS.

use aws_sdk_kinesis::types::{
    EncryptionType, StreamDescriptionSummary, StreamMode, StreamModeDetails, StreamStatus, Tag,
};
use serde_json::{Value, json};

use super::{AwsError, Created, Ctx, Outputs, Props, poll, sdk_err, unknown_type};

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    if ty != "kinesis:Stream" {
        return Err(unknown_type(ty));
    }
    let p = p.for_op("CreateStream");
    let name = p.str("stream_name")?;
    let shard_count = p.opt_i32("shard_count")?;
    let mode = match p.opt_struct("stream_mode_details")? {
        Some(mut d) => {
            let mode = d.str("stream_mode")?;
            d.finish()?;
            Some(
                StreamModeDetails::builder()
                    .stream_mode(StreamMode::from(mode.as_str()))
                    .build()
                    .map_err(|e| AwsError::input("CreateStream", e.to_string()))?,
            )
        }
        None => None,
    };
    let retention = p.opt_i32("retention_period_hours")?;
    let encryption_type = p.opt_str("encryption_type")?;
    let key_id = p.opt_str("key_id")?;
    let tags = p.tags()?;
    p.finish()?;
    // Caught here rather than after the stream exists: StartStreamEncryption needs both.
    if encryption_type.as_deref().is_some_and(|t| t != "NONE") && key_id.is_none() {
        return Err(AwsError::input("CreateStream", "`encryption_type` needs `key_id`, the KMS key to encrypt with"));
    }

    let mut req =
        ctx.kinesis.create_stream().stream_name(&name).set_shard_count(shard_count).set_stream_mode_details(mode);
    for (k, v) in &tags {
        req = req.tags(k, v);
    }
    req.send().await.map_err(|e| sdk_err("CreateStream", e))?;
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(name));
    outputs.insert("name".into(), json!(name));
    if !tags.is_empty() {
        outputs.insert("tags".into(), Value::Object(tags.into_iter().map(|(k, v)| (k, json!(v))).collect()));
    }
    if let Some(h) = retention {
        outputs.insert("retention_period_hours".into(), json!(h));
    }
    if let (Some(t), Some(k)) = (encryption_type, key_id) {
        outputs.insert("encryption_type".into(), json!(t));
        outputs.insert("key_id".into(), json!(k));
    }
    Ok(Created { id: name, outputs })
}

pub(super) async fn wait_ready(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    if ty != "kinesis:Stream" {
        return Err(unknown_type(ty));
    }
    let mut s = wait_active(ctx, id).await?;
    if let Some(Value::Object(want)) = out.get("tags") {
        add_missing_tags(ctx, id, want).await?;
    }
    if let Some(want) = out.get("retention_period_hours").and_then(Value::as_i64).and_then(|h| i32::try_from(h).ok()) {
        let have = s.retention_period_hours();
        if want > have {
            ctx.kinesis
                .increase_stream_retention_period()
                .stream_name(id)
                .retention_period_hours(want)
                .send()
                .await
                .map_err(|e| sdk_err("IncreaseStreamRetentionPeriod", e))?;
            s = wait_active(ctx, id).await?;
        } else if want < have {
            ctx.kinesis
                .decrease_stream_retention_period()
                .stream_name(id)
                .retention_period_hours(want)
                .send()
                .await
                .map_err(|e| sdk_err("DecreaseStreamRetentionPeriod", e))?;
            s = wait_active(ctx, id).await?;
        }
    }
    let encryption = out.get("encryption_type").and_then(Value::as_str).filter(|t| *t != "NONE");
    let key_id = out.get("key_id").and_then(Value::as_str);
    if let (Some(t), Some(k)) = (encryption, key_id) {
        if matches!(s.encryption_type(), None | Some(EncryptionType::None)) {
            ctx.kinesis
                .start_stream_encryption()
                .stream_name(id)
                .encryption_type(EncryptionType::from(t))
                .key_id(k)
                .send()
                .await
                .map_err(|e| sdk_err("StartStreamEncryption", e))?;
            s = wait_active(ctx, id).await?;
        }
    }
    let mut outputs = out.clone();
    outputs.insert("id".into(), json!(id));
    outputs.insert("name".into(), json!(id));
    outputs.insert("arn".into(), json!(s.stream_arn()));
    Ok(outputs)
}

pub(super) async fn delete(ctx: &Ctx, ty: &str, id: &str, _out: &Outputs) -> Result<(), AwsError> {
    if ty != "kinesis:Stream" {
        return Err(unknown_type(ty));
    }
    poll(ctx, "DeleteStream", &format!("stream {id} to accept deletion"), || async move {
        let r = ctx.kinesis.delete_stream().stream_name(id).enforce_consumer_deletion(true).send().await;
        match r.map_err(|e| sdk_err("DeleteStream", e)) {
            Ok(_) => Ok(Some(())),
            // CREATING or UPDATING: try again once the change is done.
            Err(e) if e.code == "ResourceInUseException" => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await
}

pub(super) async fn wait_deleted(ctx: &Ctx, ty: &str, id: &str, _out: &Outputs) -> Result<(), AwsError> {
    if ty != "kinesis:Stream" {
        return Err(unknown_type(ty));
    }
    poll(ctx, "DescribeStreamSummary", &format!("stream {id} to be deleted"), || async move {
        Ok(summary(ctx, id).await?.is_none().then_some(()))
    })
    .await
}

/// Adds the tags of `want` that the stream lacks (AddTagsToStream takes 10 at a time).
async fn add_missing_tags(ctx: &Ctx, name: &str, want: &serde_json::Map<String, Value>) -> Result<(), AwsError> {
    let have: Vec<Tag> = ctx
        .kinesis
        .list_tags_for_stream()
        .stream_name(name)
        .send()
        .await
        .map_err(|e| sdk_err("ListTagsForStream", e))?
        .tags()
        .to_vec();
    let missing: Vec<(&String, &str)> = want
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k, v)))
        .filter(|(k, v)| !have.iter().any(|t| t.key() == k.as_str() && t.value() == Some(*v)))
        .collect();
    for chunk in missing.chunks(10) {
        let mut req = ctx.kinesis.add_tags_to_stream().stream_name(name);
        for (k, v) in chunk {
            req = req.tags(*k, *v);
        }
        req.send().await.map_err(|e| sdk_err("AddTagsToStream", e))?;
    }
    Ok(())
}

async fn wait_active(ctx: &Ctx, name: &str) -> Result<StreamDescriptionSummary, AwsError> {
    poll(ctx, "DescribeStreamSummary", &format!("stream {name} to be ACTIVE"), || async move {
        Ok(summary(ctx, name).await?.filter(|s| s.stream_status() == &StreamStatus::Active))
    })
    .await
}

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

/// Adoption after a crash is not written for this service yet: nothing is found, so a create
/// that AWS accepted but the state never recorded is created again.
pub(super) async fn adopt(_ctx: &Ctx, _ty: &str, _p: &mut Props) -> Result<Option<Created>, AwsError> {
    Ok(None)
}
