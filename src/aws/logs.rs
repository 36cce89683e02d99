//! Adapter for `logs:LogGroup`.
//!
//! `create` makes only the CreateLogGroup call; the retention policy is set in [`wait_ready`]
//! (PutRetentionPolicy is idempotent), so that a refused retention value leaves a log group
//! that state knows and teardown removes. The ARN comes from DescribeLogGroups, without the
//! `:*` suffix that its older `arn` field carries (IAM policies add `:*` themselves).

use serde_json::{Value, json};

use super::{AwsError, Created, Ctx, Outputs, Props, poll, sdk_err, unknown_type};

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    if ty != "logs:LogGroup" {
        return Err(unknown_type(ty));
    }
    let p = p.for_op("CreateLogGroup");
    let name = p.str("log_group_name")?;
    let kms_key_id = p.opt_str("kms_key_id")?;
    let retention = p.opt_i32("retention_in_days")?;
    let tags = p.tags()?;
    p.finish()?;

    let mut req = ctx.logs.create_log_group().log_group_name(&name).set_kms_key_id(kms_key_id);
    for (k, v) in tags {
        req = req.tags(k, v);
    }
    req.send().await.map_err(|e| sdk_err("CreateLogGroup", e))?;
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(name));
    outputs.insert("name".into(), json!(name));
    if let Some(days) = retention {
        outputs.insert("retention_in_days".into(), json!(days));
    }
    Ok(Created { id: name, outputs })
}

pub(super) async fn wait_ready(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    if ty != "logs:LogGroup" {
        return Err(unknown_type(ty));
    }
    let group =
        poll(ctx, "DescribeLogGroups", &format!("log group {id} to exist"), || async move { find(ctx, id).await })
            .await?;
    if let Some(days) = out.get("retention_in_days").and_then(Value::as_i64) {
        let days = i32::try_from(days).map_err(|_| {
            AwsError::input("PutRetentionPolicy", format!("`retention_in_days` = {days} is out of range"))
        })?;
        ctx.logs
            .put_retention_policy()
            .log_group_name(id)
            .retention_in_days(days)
            .send()
            .await
            .map_err(|e| sdk_err("PutRetentionPolicy", e))?;
    }
    let arn = group.log_group_arn().or(group.arn().map(|a| a.trim_end_matches(":*"))).unwrap_or_default();
    let mut outputs = out.clone();
    outputs.insert("id".into(), json!(id));
    outputs.insert("name".into(), json!(id));
    outputs.insert("arn".into(), json!(arn));
    Ok(outputs)
}

pub(super) async fn delete(ctx: &Ctx, ty: &str, id: &str, _out: &Outputs) -> Result<(), AwsError> {
    if ty != "logs:LogGroup" {
        return Err(unknown_type(ty));
    }
    ctx.logs.delete_log_group().log_group_name(id).send().await.map_err(|e| sdk_err("DeleteLogGroup", e))?;
    Ok(())
}

pub(super) async fn wait_deleted(ctx: &Ctx, ty: &str, id: &str, _out: &Outputs) -> Result<(), AwsError> {
    if ty != "logs:LogGroup" {
        return Err(unknown_type(ty));
    }
    poll(ctx, "DescribeLogGroups", &format!("log group {id} to be deleted"), || async move {
        Ok(find(ctx, id).await?.is_none().then_some(()))
    })
    .await
}

/// The log group named exactly `name` (the API only filters by prefix).
async fn find(ctx: &Ctx, name: &str) -> Result<Option<aws_sdk_cloudwatchlogs::types::LogGroup>, AwsError> {
    let mut groups = ctx.logs.describe_log_groups().log_group_name_prefix(name).into_paginator().items().send();
    while let Some(g) = groups.try_next().await.map_err(|e| sdk_err("DescribeLogGroups", e))? {
        if g.log_group_name() == Some(name) {
            return Ok(Some(g));
        }
    }
    Ok(None)
}

/// Adoption after a crash is not written for this service yet: nothing is found, so a create
/// that AWS accepted but the state never recorded is created again.
pub(super) async fn adopt(_ctx: &Ctx, _ty: &str, _p: &mut Props) -> Result<Option<Created>, AwsError> {
    Ok(None)
}
