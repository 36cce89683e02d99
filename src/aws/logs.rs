//! Adapter for `logs:LogGroup`.
//!
//! `create` makes only the CreateLogGroup call; the retention policy is set in [`wait_ready`]
//! (PutRetentionPolicy is idempotent), so that a refused retention value leaves a log group
//! that state knows and teardown removes. The ARN comes from DescribeLogGroups, without the
//! `:*` suffix that its older `arn` field carries (IAM policies add `:*` themselves).

use serde_json::{Value, json};

use super::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, absent, poll, sdk_err, unknown_type};

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    if ty != "logs:LogGroup" {
        return Err(unknown_type(ty));
    }
    let g = read_group(p.for_op("CreateLogGroup"))?;
    p.finish()?;

    let mut req = ctx.logs.create_log_group().log_group_name(&g.name).set_kms_key_id(g.kms_key_id);
    for (k, v) in g.tags {
        req = req.tags(k, v);
    }
    req.send().await.map_err(|e| sdk_err("CreateLogGroup", e))?;
    Ok(created(g.name, g.retention))
}

/// What a create reads, in the order it reads it (shared with [`adopt`]).
struct GroupInput {
    name: String,
    kms_key_id: Option<String>,
    retention: Option<i32>,
    tags: Vec<(String, String)>,
}

fn read_group(p: &mut Props) -> Result<GroupInput, AwsError> {
    Ok(GroupInput {
        name: p.str("log_group_name")?,
        kms_key_id: p.opt_str("kms_key_id")?,
        retention: p.opt_i32("retention_in_days")?,
        tags: p.tags()?,
    })
}

/// What `create` returns: `wait_ready` sets the retention from `retention_in_days`.
fn created(name: String, retention: Option<i32>) -> Created {
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(name));
    outputs.insert("name".into(), json!(name));
    if let Some(days) = retention {
        outputs.insert("retention_in_days".into(), json!(days));
    }
    Created { id: name, outputs }
}

/// Finds what an interrupted create made: the log group of that name; ours only with both
/// identity tags, which CreateLogGroup carries.
pub(super) async fn adopt(ctx: &Ctx, ty: &str, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    if ty != "logs:LogGroup" {
        return Err(unknown_type(ty));
    }
    let g = read_group(p.for_op("CreateLogGroup"))?;
    let Some(group) = find(ctx, &g.name).await? else { return Ok(Found::Nothing) };
    let tags = match ctx.logs.list_tags_for_resource().resource_arn(group_arn(&group)).send().await {
        Ok(out) => out.tags().cloned().unwrap_or_default(),
        Err(e) => return absent(sdk_err("ListTagsForResource", e)),
    };
    Ok(who.claim(created(g.name, g.retention), tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
}

/// The log group's ARN, without the `:*` suffix of the older `arn` field.
fn group_arn(group: &aws_sdk_cloudwatchlogs::types::LogGroup) -> &str {
    group.log_group_arn().or(group.arn().map(|a| a.trim_end_matches(":*"))).unwrap_or_default()
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
    let arn = group_arn(&group);
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

#[cfg(test)]
mod adopt_tests {
    use super::*;
    use crate::aws::testing::{assert_not_ours, ctx, find as lookup};
    use crate::emulator::Moto;
    use crate::schema::{RESOURCE_TAG, STACK_TAG};

    fn props(name: &str, stack: &str) -> Props {
        crate::aws::testing::props(value(name, stack))
    }

    fn value(name: &str, stack: &str) -> Value {
        json!({
            "log_group_name": name,
            "retention_in_days": 7,
            "tags": {STACK_TAG: stack, RESOURCE_TAG: "logs", "ManagedBy": "ironplan"},
        })
    }

    #[tokio::test]
    async fn log_group_is_adopted_until_deleted() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;

        assert!(lookup(&ctx, "logs:LogGroup", &value("/s-dev/app", "s-dev")).await.ours().is_none());
        let created = create(&ctx, "logs:LogGroup", &mut props("/s-dev/app", "s-dev")).await.unwrap();
        let found = lookup(&ctx, "logs:LogGroup", &value("/s-dev/app", "s-dev")).await.ours().expect("adopted");
        assert_eq!(found.id, created.id);
        assert_eq!(found.outputs, created.outputs);
        // The retention stashed for wait_ready is set by it.
        wait_ready(&ctx, "logs:LogGroup", &found.id, &found.outputs).await.unwrap();
        assert_eq!(find(&ctx, &found.id).await.unwrap().unwrap().retention_in_days(), Some(7));

        // Another stack's log group of that name is not adopted.
        create(&ctx, "logs:LogGroup", &mut props("/s-prod/app", "s-prod")).await.unwrap();
        assert!(lookup(&ctx, "logs:LogGroup", &value("/s-prod/app", "s-dev")).await.ours().is_none());

        delete(&ctx, "logs:LogGroup", &created.id, &created.outputs).await.unwrap();
        wait_deleted(&ctx, "logs:LogGroup", &created.id, &created.outputs).await.unwrap();
        assert!(lookup(&ctx, "logs:LogGroup", &value("/s-dev/app", "s-dev")).await.ours().is_none());
    }

    /// A log group made outside ironplan under a plan group's name is not ours.
    #[tokio::test]
    async fn a_look_alike_log_group_is_not_ours() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        ctx.logs.create_log_group().log_group_name("/s-dev/app").send().await.expect("by hand");
        let v = value("/s-dev/app", "s-dev");
        assert_not_ours(&lookup(&ctx, "logs:LogGroup", &v).await, "has no `ironplan:stack` tag");
    }
}
