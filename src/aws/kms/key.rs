//! `kms:Key`: a customer-managed KMS key.
//!
//! A key is never deleted outright: teardown schedules its deletion with the shortest window
//! AWS allows (7 days) and counts it gone once it is `PendingDeletion`. Rotation is enabled in
//! `ready`, so that `create` makes one call and a failure after it never leaves a key behind
//! that state does not know. A key has no name: a lookup finds it by its identity tags.

use async_trait::async_trait;
use aws_sdk_kms::types::{KeyMetadata, KeySpec, KeyState, KeyUsageType, Tag};
use serde_json::{Map, Value, json};

use super::{NOT_FOUND, describe, is_pending_deletion, key_tags, list_tags, pairs, read_tags};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, poll, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

/// AWS's minimum waiting period before a scheduled key is deleted.
const PENDING_WINDOW_DAYS: i32 = 7;

pub static SPEC: TypeSpec = TypeSpec {
    name: "kms:Key",
    aliases: &["AWS::KMS::Key", "aws_kms_key", "aws:kms/key:Key"],
    summary: "A customer-managed KMS key",
    calls: "CreateKey (description, key_usage, key_spec, policy, tags); EnableKeyRotation once the key is enabled, \
            when the ironplan property `enable_key_rotation` is true; teardown: ScheduleKeyDeletion (7 days)",
    props: &[
        // UpdateKeyDescription.
        Prop::opt("description", Kind::Str, "what the key is for").in_place(),
        Prop::opt(
            "key_usage",
            Kind::Str,
            "ENCRYPT_DECRYPT (default), SIGN_VERIFY, GENERATE_VERIFY_MAC or KEY_AGREEMENT",
        ),
        Prop::opt("key_spec", Kind::Str, "SYMMETRIC_DEFAULT (default), RSA_2048, ECC_NIST_P256, HMAC_256..."),
        // PutKeyPolicy.
        Prop::opt("policy", Kind::Document, "the key policy; AWS's default policy (account root) when absent")
            .in_place(),
        // EnableKeyRotation / DisableKeyRotation.
        Prop::opt("enable_key_rotation", Kind::Bool, "rotate the key material yearly (EnableKeyRotation)").in_place(),
        Prop::opt("tags", Kind::Tags, "tags of the key"),
    ],
    attrs: &[
        attr("id", "the key ID (a UUID)"),
        attr("arn", "the key ARN, as policies and other services' kms_key_id want it"),
    ],
    taggable: true,
    holds_data: true,
    create_secs: 3,
    delete_secs: 2,
    implied: &[],
};

pub struct Key;

/// What a create reads.
pub struct Input {
    description: Option<String>,
    key_usage: Option<String>,
    key_spec: Option<String>,
    policy: Option<String>,
    rotation: bool,
    tags: Vec<Tag>,
}

#[async_trait]
impl Lifecycle for Key {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = NOT_FOUND;
    const TAGS_BY_ARN: bool = true;
    const UPDATES: &'static [&'static str] = &["description", "policy", "enable_key_rotation", "tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateKey");
        Ok(Input {
            description: p.opt_str("description")?,
            key_usage: p.opt_str("key_usage")?,
            key_spec: p.opt_str("key_spec")?,
            policy: p.document("policy")?,
            rotation: p.opt_bool("enable_key_rotation")?.unwrap_or(false),
            tags: p
                .tags()?
                .into_iter()
                .map(|(k, v)| {
                    let tag = Tag::builder().tag_key(k).tag_value(v).build();
                    tag.map_err(|e| AwsError::input("CreateKey", e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?,
        })
    }

    async fn create(ctx: &Ctx, k: &Input) -> Result<Created, AwsError> {
        let out = ctx
            .kms
            .create_key()
            .set_description(k.description.clone())
            .set_key_usage(k.key_usage.as_deref().map(KeyUsageType::from))
            .set_key_spec(k.key_spec.as_deref().map(KeySpec::from))
            .set_policy(k.policy.clone())
            .set_tags((!k.tags.is_empty()).then(|| k.tags.clone()))
            .send()
            .await
            .map_err(|e| sdk_err("CreateKey", e))?;
        let meta = out.key_metadata().ok_or_else(|| AwsError::malformed("CreateKey", "no key metadata"))?;
        Ok(created(meta, k.rotation))
    }

    /// The key (not pending deletion) whose identity tags are this resource's: ListKeys, then
    /// ListResourceTags on each (CreateKey carries them).
    async fn find(ctx: &Ctx, k: &Input, who: &Identity) -> Result<Found, AwsError> {
        let mut best: Option<(KeyMetadata, String)> = None;
        let mut keys = ctx.kms.list_keys().into_paginator().items().send();
        while let Some(entry) = keys.try_next().await.map_err(|e| sdk_err("ListKeys", e))? {
            let Some(key_id) = entry.key_id() else { continue };
            let Some(tags) = key_tags(ctx, key_id).await? else { continue };
            let Ok(proof) = who.judge(pairs(&tags)) else { continue };
            let Some(meta) = describe(ctx, key_id).await? else { continue };
            if is_pending_deletion(meta.key_state()) {
                continue;
            }
            // Two matches only if CreateKey was sent twice (an SDK retry): adopt the newest.
            if best.as_ref().is_none_or(|(b, _)| b.creation_date() <= meta.creation_date()) {
                best = Some((meta, proof));
            }
        }
        let Some((meta, proof)) = best else { return Ok(Found::Nothing) };
        Ok(Found::Ours { created: created(&meta, k.rotation), proof })
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        let meta = poll(ctx, "DescribeKey", &format!("key {id} to be enabled"), || async move {
            let meta = describe(ctx, id).await?;
            Ok(meta.filter(|m| m.key_state() == Some(&KeyState::Enabled)))
        })
        .await?;
        if out.get("enable_key_rotation").and_then(Value::as_bool) == Some(true) {
            ctx.kms.enable_key_rotation().key_id(id).send().await.map_err(|e| sdk_err("EnableKeyRotation", e))?;
        }
        Ok(outputs(id, &meta, out))
    }

    /// The key's properties; a key pending deletion is gone. KMS reports no description as
    /// an empty one, and the plan says none by leaving it out: so does `read`. Rotation is
    /// reported for symmetric encryption keys only (KMS rotates no other kind).
    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let Some(meta) = describe(ctx, id).await? else { return Ok(None) };
        if is_pending_deletion(meta.key_state()) {
            return Ok(None);
        }
        let mut props = Map::new();
        if let Some(d) = meta.description().filter(|d| !d.is_empty()) {
            props.insert("description".into(), json!(d));
        }
        if let Some(u) = meta.key_usage() {
            props.insert("key_usage".into(), json!(u.as_str()));
        }
        if let Some(s) = meta.key_spec() {
            props.insert("key_spec".into(), json!(s.as_str()));
        }
        let policy = ctx.kms.get_key_policy().key_id(id).policy_name("default").send().await;
        if let Some(text) = policy.map_err(|e| sdk_err("GetKeyPolicy", e))?.policy() {
            // Key policies are JSON: a text that is not stays text.
            let doc = serde_json::from_str(text).unwrap_or_else(|_| json!(text));
            props.insert("policy".into(), doc);
        }
        if meta.key_spec().is_none_or(|s| *s == KeySpec::SymmetricDefault) {
            let status = ctx.kms.get_key_rotation_status().key_id(id).send().await;
            let enabled = status.map_err(|e| sdk_err("GetKeyRotationStatus", e))?.key_rotation_enabled();
            props.insert("enable_key_rotation".into(), json!(enabled));
        }
        let tags = read_tags(ctx, id, meta.arn()).await?;
        props.insert("tags".into(), Value::Object(pairs(&tags).map(|(k, v)| (k.into(), json!(v))).collect()));
        Ok(Some(Live { props, outputs: outputs(id, &meta, out) }))
    }

    /// UpdateKeyDescription, PutKeyPolicy, Enable/DisableKeyRotation, TagResource and
    /// UntagResource. A policy the plan no longer gives is refused: KMS has no "back to the
    /// default policy" call, and guessing one could lock the account out of its key.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, k: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        let has = |p: &str| changed.iter().any(|c| c == p);
        if has("policy") {
            let Some(policy) = &k.policy else {
                return Err(AwsError::input(
                    "PutKeyPolicy",
                    "the plan no longer gives the key a policy; give the policy it should have (KMS keeps one always)",
                ));
            };
            let req = ctx.kms.put_key_policy().key_id(id).policy_name("default").policy(policy);
            req.send().await.map_err(|e| sdk_err("PutKeyPolicy", e))?;
        }
        if has("description") {
            let req =
                ctx.kms.update_key_description().key_id(id).description(k.description.clone().unwrap_or_default());
            req.send().await.map_err(|e| sdk_err("UpdateKeyDescription", e))?;
        }
        if has("enable_key_rotation") {
            if k.rotation {
                ctx.kms.enable_key_rotation().key_id(id).send().await.map_err(|e| sdk_err("EnableKeyRotation", e))?;
            } else {
                ctx.kms.disable_key_rotation().key_id(id).send().await.map_err(|e| sdk_err("DisableKeyRotation", e))?;
            }
        }
        if has("tags") {
            let dropped: Vec<String> = list_tags(ctx, id)
                .await?
                .iter()
                .map(|t| t.tag_key().to_string())
                .filter(|key| !k.tags.iter().any(|t| t.tag_key() == key))
                .collect();
            if !dropped.is_empty() {
                let req = ctx.kms.untag_resource().key_id(id).set_tag_keys(Some(dropped));
                req.send().await.map_err(|e| sdk_err("UntagResource", e))?;
            }
            let req = ctx.kms.tag_resource().key_id(id).set_tags(Some(k.tags.clone()));
            req.send().await.map_err(|e| sdk_err("TagResource", e))?;
        }
        let mut outputs = out.clone();
        outputs.insert("enable_key_rotation".into(), json!(k.rotation));
        Ok(outputs)
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
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

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(describe(ctx, id).await?.is_none_or(|m| is_pending_deletion(m.key_state())))
    }
}

/// What `create` returns; `ready` enables rotation from `enable_key_rotation`.
fn created(meta: &KeyMetadata, rotation: bool) -> Created {
    let id = meta.key_id().to_string();
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(id));
    outputs.insert("arn".into(), json!(meta.arn().unwrap_or_default()));
    outputs.insert("enable_key_rotation".into(), json!(rotation));
    Created { id, outputs }
}

/// The outputs once the key is enabled.
fn outputs(id: &str, meta: &KeyMetadata, out: &Outputs) -> Outputs {
    let mut outputs = out.clone();
    outputs.insert("id".into(), json!(id));
    if let Some(arn) = meta.arn() {
        outputs.insert("arn".into(), json!(arn));
    }
    outputs
}

#[cfg(test)]
mod adopt_tests {
    use super::*;
    use crate::aws::testing::{assert_not_ours, assert_reads_back, ctx, find, props};
    use crate::aws::{create, delete, wait_deleted, wait_ready};
    use crate::emulator::Moto;
    use crate::schema::{RESOURCE_TAG, STACK_TAG};

    fn keys(o: &Outputs) -> Vec<&String> {
        o.keys().collect()
    }

    fn key_props(stack: &str, resource: &str) -> Value {
        json!({
            "description": "adopt test",
            "key_usage": "ENCRYPT_DECRYPT",
            "key_spec": "SYMMETRIC_DEFAULT",
            "policy": {"Version": "2012-10-17", "Statement": [{"Sid": "root", "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]},
            "enable_key_rotation": true,
            "tags": {STACK_TAG: stack, RESOURCE_TAG: resource, "ManagedBy": "ironplan"},
        })
    }

    /// Description, policy, rotation and tags change in place and read back so; dropping the
    /// policy is refused, the key keeps the one it has.
    #[tokio::test]
    async fn update_changes_the_key_in_place() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let mut v = key_props("s-dev", "key");
        v["tags"]["Team"] = json!("a");
        let c = create(&ctx, "kms:Key", &mut props(v.clone())).await.unwrap();
        let ready = wait_ready(&ctx, "kms:Key", &c.id, &c.outputs).await.unwrap();
        v["description"] = json!("changed");
        v["policy"]["Statement"][0]["Sid"] = json!("owner");
        v["enable_key_rotation"] = json!(false);
        v["tags"].as_object_mut().map(|t| t.remove("Team"));
        let all: Vec<String> = Key::UPDATES.iter().map(|k| k.to_string()).collect();
        let out =
            crate::aws::update(&ctx, "kms:Key", &c.id, &ready, &mut props(v.clone()), &all).await.expect("update");
        assert_reads_back(&ctx, "kms:Key", &v, &c.id, &out).await;
        let live = crate::aws::read(&ctx, "kms:Key", &c.id, &out).await.unwrap().expect("the key");
        assert_eq!(live.props["tags"].get("Team"), None);
        assert_eq!(live.props["enable_key_rotation"], json!(false));

        let mut none = v.clone();
        none.as_object_mut().map(|m| m.remove("policy"));
        let e = crate::aws::update(&ctx, "kms:Key", &c.id, &out, &mut props(none), &["policy".into()])
            .await
            .expect_err("a key without a policy");
        assert_eq!(e.operation, "PutKeyPolicy");
        assert_reads_back(&ctx, "kms:Key", &v, &c.id, &out).await;
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
        let ready = wait_ready(&ctx, "kms:Key", &found.id, &found.outputs).await.unwrap();
        assert_reads_back(&ctx, "kms:Key", &key_props("s-dev", "key"), &found.id, &ready).await;

        let alias = || json!({"alias_name": "alias/s-dev-key", "target_key_id": created.id});
        let a = create(&ctx, "kms:Alias", &mut props(alias())).await.unwrap();
        let fa = find(&ctx, "kms:Alias", &alias()).await.ours().expect("alias adopted");
        assert_eq!(fa.id, a.id);
        assert_eq!(fa.outputs, a.outputs);
        let ready_a = wait_ready(&ctx, "kms:Alias", &a.id, &a.outputs).await.unwrap();
        assert_reads_back(&ctx, "kms:Alias", &alias(), &a.id, &ready_a).await;
        // The same alias name planned for another key is not this alias.
        let elsewhere = json!({"alias_name": "alias/s-dev-key", "target_key_id": other.id});
        assert_not_ours(&find(&ctx, "kms:Alias", &elsewhere).await, "points at key");

        delete(&ctx, "kms:Alias", &a.id, &a.outputs).await.unwrap();
        wait_deleted(&ctx, "kms:Alias", &a.id, &a.outputs).await.unwrap();
        assert!(find(&ctx, "kms:Alias", &alias()).await.ours().is_none());
        assert!(crate::aws::read(&ctx, "kms:Alias", &a.id, &ready_a).await.unwrap().is_none());

        delete(&ctx, "kms:Key", &created.id, &none).await.unwrap();
        wait_deleted(&ctx, "kms:Key", &created.id, &none).await.unwrap();
        assert!(find(&ctx, "kms:Key", &key_props("s-dev", "key")).await.ours().is_none());
        assert!(crate::aws::read(&ctx, "kms:Key", &created.id, &ready).await.unwrap().is_none());
    }

    /// `read` reports what KMS has: rotation turned off and a description changed by hand.
    #[tokio::test]
    async fn read_reports_what_was_changed_by_hand() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let c = create(&ctx, "kms:Key", &mut props(key_props("s-dev", "key"))).await.unwrap();
        let ready = wait_ready(&ctx, "kms:Key", &c.id, &c.outputs).await.unwrap();
        ctx.kms.disable_key_rotation().key_id(&c.id).send().await.unwrap();
        ctx.kms.update_key_description().key_id(&c.id).description("by hand").send().await.unwrap();
        let live = crate::aws::read(&ctx, "kms:Key", &c.id, &ready).await.unwrap().expect("the key");
        assert_eq!(live.props["enable_key_rotation"], json!(false));
        assert_eq!(live.props["description"], json!("by hand"));
        assert_eq!(live.outputs["arn"], ready["arn"]);
    }
}
