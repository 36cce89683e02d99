//! Adapter for `kms:Key` and `kms:Alias`.
//!
//! A key is never deleted outright: teardown schedules its deletion with the shortest window
//! AWS allows (7 days) and counts it gone once it is `PendingDeletion`. Rotation is enabled in
//! [`wait_ready`], so that `create` makes one call and a failure after it never leaves a key
//! behind that state does not know.

use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType, Tag};
use serde_json::{Value, json};

use super::{AwsError, Created, Ctx, ErrorKind, Outputs, Props, out_str, poll, sdk_err, unknown_type};

/// AWS's minimum waiting period before a scheduled key is deleted.
const PENDING_WINDOW_DAYS: i32 = 7;

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    match ty {
        "kms:Key" => create_key(ctx, p.for_op("CreateKey")).await,
        "kms:Alias" => create_alias(ctx, p.for_op("CreateAlias")).await,
        _ => Err(unknown_type(ty)),
    }
}

async fn create_key(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    let description = p.opt_str("description")?;
    let key_usage = p.opt_str("key_usage")?;
    let key_spec = p.opt_str("key_spec")?;
    let policy = p.document("policy")?;
    let rotation = p.opt_bool("enable_key_rotation")?.unwrap_or(false);
    let tags = p
        .tags()?
        .into_iter()
        .map(|(k, v)| {
            Tag::builder().tag_key(k).tag_value(v).build().map_err(|e| AwsError::input("CreateKey", e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    p.finish()?;

    let out = ctx
        .kms
        .create_key()
        .set_description(description)
        .set_key_usage(key_usage.as_deref().map(KeyUsageType::from))
        .set_key_spec(key_spec.as_deref().map(KeySpec::from))
        .set_policy(policy)
        .set_tags((!tags.is_empty()).then_some(tags))
        .send()
        .await
        .map_err(|e| sdk_err("CreateKey", e))?;
    let meta = out.key_metadata().ok_or_else(|| bad_response("CreateKey", "no key metadata"))?;
    let id = meta.key_id().to_string();
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(id));
    outputs.insert("arn".into(), json!(meta.arn().unwrap_or_default()));
    outputs.insert("enable_key_rotation".into(), json!(rotation));
    Ok(Created { id, outputs })
}

async fn create_alias(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    let alias_name = p.str("alias_name")?;
    let target_key_id = p.str("target_key_id")?;
    p.finish()?;

    ctx.kms
        .create_alias()
        .alias_name(&alias_name)
        .target_key_id(&target_key_id)
        .send()
        .await
        .map_err(|e| sdk_err("CreateAlias", e))?;
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(alias_name));
    outputs.insert("target_key_id".into(), json!(target_key_id));
    Ok(Created { id: alias_name, outputs })
}

pub(super) async fn wait_ready(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    match ty {
        "kms:Key" => {
            let meta = poll(ctx, "DescribeKey", &format!("key {id} to be enabled"), || async move {
                let meta = describe(ctx, id).await?;
                Ok(meta.filter(|m| m.key_state() == Some(&KeyState::Enabled)))
            })
            .await?;
            if out.get("enable_key_rotation").and_then(Value::as_bool) == Some(true) {
                ctx.kms.enable_key_rotation().key_id(id).send().await.map_err(|e| sdk_err("EnableKeyRotation", e))?;
            }
            let mut outputs = out.clone();
            outputs.insert("id".into(), json!(id));
            if let Some(arn) = meta.arn() {
                outputs.insert("arn".into(), json!(arn));
            }
            Ok(outputs)
        }
        "kms:Alias" => {
            // DescribeKey accepts `alias/<name>`: it resolves once the alias exists.
            poll(ctx, "DescribeKey", &format!("alias {id} to exist"), || async move {
                Ok(describe(ctx, id).await?.map(|_| ()))
            })
            .await?;
            Ok(out.clone())
        }
        _ => Err(unknown_type(ty)),
    }
}

pub(super) async fn delete(ctx: &Ctx, ty: &str, id: &str, _out: &Outputs) -> Result<(), AwsError> {
    match ty {
        "kms:Key" => {
            let r = ctx
                .kms
                .schedule_key_deletion()
                .key_id(id)
                .pending_window_in_days(PENDING_WINDOW_DAYS)
                .send()
                .await
                .map_err(|e| sdk_err("ScheduleKeyDeletion", e));
            match r {
                Ok(_) => Ok(()),
                // A key already scheduled answers KMSInvalidStateException: that is done, not failed.
                Err(e) if e.code == "KMSInvalidStateException" => match describe(ctx, id).await? {
                    Some(m) if is_pending_deletion(m.key_state()) => Ok(()),
                    _ => Err(e),
                },
                Err(e) => Err(e),
            }
        }
        "kms:Alias" => {
            ctx.kms.delete_alias().alias_name(id).send().await.map_err(|e| sdk_err("DeleteAlias", e))?;
            Ok(())
        }
        _ => Err(unknown_type(ty)),
    }
}

pub(super) async fn wait_deleted(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<(), AwsError> {
    match ty {
        "kms:Key" => {
            poll(ctx, "DescribeKey", &format!("key {id} to be pending deletion"), || async move {
                Ok(match describe(ctx, id).await? {
                    None => Some(()),
                    Some(m) => is_pending_deletion(m.key_state()).then_some(()),
                })
            })
            .await
        }
        "kms:Alias" => {
            let alias = out_str(out, "id", "DescribeKey").unwrap_or(id);
            poll(ctx, "DescribeKey", &format!("alias {alias} to be deleted"), || async move {
                Ok(describe(ctx, alias).await?.is_none().then_some(()))
            })
            .await
        }
        _ => Err(unknown_type(ty)),
    }
}

/// The key's metadata, or `None` if no key (or alias) answers to `key_id`.
async fn describe(ctx: &Ctx, key_id: &str) -> Result<Option<aws_sdk_kms::types::KeyMetadata>, AwsError> {
    match ctx.kms.describe_key().key_id(key_id).send().await.map_err(|e| sdk_err("DescribeKey", e)) {
        Ok(out) => Ok(out.key_metadata().cloned()),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

fn is_pending_deletion(state: Option<&KeyState>) -> bool {
    matches!(state, Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion))
}

fn bad_response(operation: &'static str, what: &str) -> AwsError {
    AwsError {
        operation,
        code: "InvalidResponse".into(),
        message: format!("AWS answered without {what}"),
        kind: ErrorKind::Fatal,
        hint: None,
    }
}

/// Adoption after a crash is not written for this service yet: nothing is found, so a create
/// that AWS accepted but the state never recorded is created again.
pub(super) async fn adopt(_ctx: &Ctx, _ty: &str, _p: &mut Props) -> Result<Option<Created>, AwsError> {
    Ok(None)
}
