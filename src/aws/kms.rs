//! Adapter for `kms:Key` and `kms:Alias`.
//!
//! A key is never deleted outright: teardown schedules its deletion with the shortest window
//! AWS allows (7 days) and counts it gone once it is `PendingDeletion`. Rotation is enabled in
//! [`wait_ready`], so that `create` makes one call and a failure after it never leaves a key
//! behind that state does not know.

use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType, Tag};
use serde_json::{Value, json};

use super::{AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, out_str, poll, sdk_err, unknown_type};
use crate::schema::{RESOURCE_TAG, STACK_TAG};

/// AWS's minimum waiting period before a scheduled key is deleted.
const PENDING_WINDOW_DAYS: i32 = 7;

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    match ty {
        "kms:Key" => create_key(ctx, p.for_op("CreateKey")).await,
        "kms:Alias" => create_alias(ctx, p.for_op("CreateAlias")).await,
        _ => Err(unknown_type(ty)),
    }
}

/// What a `kms:Key` create reads, in the order it reads it (shared with [`adopt`]).
struct KeyInput {
    description: Option<String>,
    key_usage: Option<String>,
    key_spec: Option<String>,
    policy: Option<String>,
    rotation: bool,
    tags: Vec<(String, String)>,
}

fn read_key(p: &mut Props) -> Result<KeyInput, AwsError> {
    Ok(KeyInput {
        description: p.opt_str("description")?,
        key_usage: p.opt_str("key_usage")?,
        key_spec: p.opt_str("key_spec")?,
        policy: p.document("policy")?,
        rotation: p.opt_bool("enable_key_rotation")?.unwrap_or(false),
        tags: p.tags()?,
    })
}

/// What `create` returns for a key; `wait_ready` enables rotation from `enable_key_rotation`.
fn key_created(meta: &aws_sdk_kms::types::KeyMetadata, rotation: bool) -> Created {
    let id = meta.key_id().to_string();
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(id));
    outputs.insert("arn".into(), json!(meta.arn().unwrap_or_default()));
    outputs.insert("enable_key_rotation".into(), json!(rotation));
    Created { id, outputs }
}

async fn create_key(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    let k = read_key(p)?;
    let tags = k
        .tags
        .into_iter()
        .map(|(k, v)| {
            Tag::builder().tag_key(k).tag_value(v).build().map_err(|e| AwsError::input("CreateKey", e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    p.finish()?;

    let out = ctx
        .kms
        .create_key()
        .set_description(k.description)
        .set_key_usage(k.key_usage.as_deref().map(KeyUsageType::from))
        .set_key_spec(k.key_spec.as_deref().map(KeySpec::from))
        .set_policy(k.policy)
        .set_tags((!tags.is_empty()).then_some(tags))
        .send()
        .await
        .map_err(|e| sdk_err("CreateKey", e))?;
    let meta = out.key_metadata().ok_or_else(|| bad_response("CreateKey", "no key metadata"))?;
    Ok(key_created(meta, k.rotation))
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

/// Finds what an interrupted create made. A key has no name: it is the one (not pending
/// deletion) whose identity tags are this resource's (ListKeys, then ListResourceTags on each;
/// CreateKey carries them). An alias is found by its name; it carries no tags, so it is ours
/// only if it points at the planned key and that key is this stack's.
pub(super) async fn adopt(ctx: &Ctx, ty: &str, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    match ty {
        "kms:Key" => {
            let k = read_key(p.for_op("CreateKey"))?;
            let mut best: Option<aws_sdk_kms::types::KeyMetadata> = None;
            let mut keys = ctx.kms.list_keys().into_paginator().items().send();
            while let Some(entry) = keys.try_next().await.map_err(|e| sdk_err("ListKeys", e))? {
                let Some(key_id) = entry.key_id() else { continue };
                let Some(tags) = key_tags(ctx, key_id).await? else { continue };
                if who.judge(pairs(&tags)).is_err() {
                    continue;
                }
                let Some(meta) = describe(ctx, key_id).await? else { continue };
                if is_pending_deletion(meta.key_state()) {
                    continue;
                }
                // Two matches only if CreateKey was sent twice (an SDK retry): adopt the newest.
                if best.as_ref().is_none_or(|b| b.creation_date() <= meta.creation_date()) {
                    best = Some(meta);
                }
            }
            let Some(meta) = best else { return Ok(Found::Nothing) };
            let proof = format!("tagged `{}` = `{}`, `{}` = `{}`", STACK_TAG, who.stack, RESOURCE_TAG, who.resource);
            Ok(Found::Ours { created: key_created(&meta, k.rotation), proof })
        }
        "kms:Alias" => {
            let p = p.for_op("CreateAlias");
            let alias_name = p.str("alias_name")?;
            let target_key_id = p.str("target_key_id")?;
            // DescribeKey on `alias/<name>` answers with the key the alias points at.
            let Some(aliased) = describe(ctx, &alias_name).await? else { return Ok(Found::Nothing) };
            let same = aliased.key_id() == target_key_id
                || aliased.arn() == Some(target_key_id.as_str())
                || describe(ctx, &target_key_id).await?.is_some_and(|t| t.key_id() == aliased.key_id());
            if !same {
                let why = format!("it points at key `{}`, not at the plan's key", aliased.key_id());
                return Ok(Found::NotOurs { id: alias_name, why });
            }
            let mut outputs = Outputs::new();
            outputs.insert("id".into(), json!(alias_name));
            outputs.insert("target_key_id".into(), json!(target_key_id));
            let created = Created { id: alias_name, outputs };
            let tags = key_tags(ctx, aliased.key_id()).await?.unwrap_or_default();
            Ok(who.claim_by_parent(created, &format!("key `{}`", aliased.key_id()), pairs(&tags)))
        }
        _ => Err(unknown_type(ty)),
    }
}

fn pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|t| (t.tag_key(), t.tag_value()))
}

/// The key's tags; `None` for a key whose tags cannot be read (gone meanwhile, another
/// account's, refused by its key policy): not one this stack created.
async fn key_tags(ctx: &Ctx, key_id: &str) -> Result<Option<Vec<Tag>>, AwsError> {
    let r = ctx
        .kms
        .list_resource_tags()
        .key_id(key_id)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await;
    match r.map_err(|e| sdk_err("ListResourceTags", e)) {
        Ok(tags) => Ok(Some(tags)),
        Err(e) if e.is_not_found() || UNREADABLE.contains(&e.code.as_str()) => Ok(None),
        Err(e) => Err(e),
    }
}

/// ListResourceTags errors that mean "this key is not ours to read", not a failed lookup.
const UNREADABLE: &[&str] = &["AccessDeniedException", "KMSInvalidArnException", "KMSInvalidStateException"];

#[cfg(test)]
mod adopt_tests {
    use super::*;
    use crate::aws::testing::{assert_not_ours, ctx, find, props};
    use crate::emulator::Moto;
    use serde_json::Value;

    fn keys(o: &Outputs) -> Vec<&String> {
        o.keys().collect()
    }

    fn key_props(stack: &str, resource: &str) -> Value {
        json!({
            "description": "adopt test",
            "enable_key_rotation": true,
            "tags": {STACK_TAG: stack, RESOURCE_TAG: resource, "ManagedBy": "ironplan"},
        })
    }

    #[tokio::test]
    async fn key_and_alias_are_adopted_until_deleted() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let none = Outputs::new();

        // Another stack's key with the same resource name, and an untagged key: never adopted.
        let other = create(&ctx, "kms:Key", &mut props(key_props("s-prod", "key"))).await.unwrap();
        create(&ctx, "kms:Key", &mut props(json!({"description": "untagged"}))).await.unwrap();
        assert!(find(&ctx, "kms:Key", &key_props("s-dev", "key")).await.ours().is_none());

        let created = create(&ctx, "kms:Key", &mut props(key_props("s-dev", "key"))).await.unwrap();
        let found = find(&ctx, "kms:Key", &key_props("s-dev", "key")).await.ours().expect("adopted");
        assert_eq!(found.id, created.id);
        assert_ne!(found.id, other.id);
        assert_eq!(keys(&found.outputs), keys(&created.outputs));
        assert_eq!(found.outputs, created.outputs);
        // Rotation is still enabled from the stashed value.
        wait_ready(&ctx, "kms:Key", &found.id, &found.outputs).await.unwrap();

        let alias = || json!({"alias_name": "alias/s-dev-key", "target_key_id": created.id});
        let a = create(&ctx, "kms:Alias", &mut props(alias())).await.unwrap();
        let fa = find(&ctx, "kms:Alias", &alias()).await.ours().expect("alias adopted");
        assert_eq!(fa.id, a.id);
        assert_eq!(fa.outputs, a.outputs);
        // The same alias name planned for another key is not this alias.
        let elsewhere = json!({"alias_name": "alias/s-dev-key", "target_key_id": other.id});
        assert_not_ours(&find(&ctx, "kms:Alias", &elsewhere).await, "points at key");

        delete(&ctx, "kms:Alias", &a.id, &a.outputs).await.unwrap();
        wait_deleted(&ctx, "kms:Alias", &a.id, &a.outputs).await.unwrap();
        assert!(find(&ctx, "kms:Alias", &alias()).await.ours().is_none());

        delete(&ctx, "kms:Key", &created.id, &none).await.unwrap();
        wait_deleted(&ctx, "kms:Key", &created.id, &none).await.unwrap();
        assert!(find(&ctx, "kms:Key", &key_props("s-dev", "key")).await.ours().is_none());
    }

    /// An alias made outside ironplan, on a key made outside ironplan, under a plan alias's
    /// name: an alias has no tags, and its key is not this stack's.
    #[tokio::test]
    async fn a_look_alike_alias_is_not_ours() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let key = ctx.kms.create_key().send().await.expect("key").key_metadata().map(|m| m.key_id().to_string());
        let key = key.expect("key id");
        ctx.kms.create_alias().alias_name("alias/s-dev-key").target_key_id(&key).send().await.expect("alias");
        let v = json!({"alias_name": "alias/s-dev-key", "target_key_id": key});
        assert_not_ours(&find(&ctx, "kms:Alias", &v).await, "has no `ironplan:stack` tag");
    }
}
