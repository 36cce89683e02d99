//! `kms:*` types: the customer-managed key every other resource encrypts with, and its alias.
//!
//! A key cannot be deleted, only scheduled for deletion (7 days minimum): teardown schedules it
//! and counts it gone once it is `PendingDeletion`. The alias refers to the key, so teardown
//! deletes it first and the next deploy can create the alias again.

mod alias;
mod key;

use aws_sdk_kms::types::{KeyMetadata, KeyState, Tag};

use super::adapter::{Adapter, Type};
use super::{AwsError, Ctx, sdk_err};
use crate::schema::NameRule;

pub(super) const TYPES: &[&dyn Adapter] = &[&Type::<key::Key>::NEW, &Type::<alias::Alias>::NEW];

/// How KMS says "not there".
const NOT_FOUND: &[&str] = &["NotFoundException"];

pub const ALIAS_NAME: NameRule = NameRule::new("KMS alias name", "CreateAlias AliasName", 1, 256, "a-zA-Z0-9/_-")
    .prefix("alias/")
    .reserved_prefixes(&["alias/aws/"]);

/// The key's metadata, or `None` if no key (or alias) answers to `key_id`.
async fn describe(ctx: &Ctx, key_id: &str) -> Result<Option<KeyMetadata>, AwsError> {
    match ctx.kms.describe_key().key_id(key_id).send().await.map_err(|e| sdk_err("DescribeKey", e)) {
        Ok(out) => Ok(out.key_metadata().cloned()),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

fn is_pending_deletion(state: Option<&KeyState>) -> bool {
    matches!(state, Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion))
}

fn pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|t| (t.tag_key(), t.tag_value()))
}

/// The key's tags (ListResourceTags).
async fn list_tags(ctx: &Ctx, key_id: &str) -> Result<Vec<Tag>, AwsError> {
    let r = ctx.kms.list_resource_tags().key_id(key_id).into_paginator().items().send();
    r.collect::<Result<Vec<_>, _>>().await.map_err(|e| sdk_err("ListResourceTags", e))
}

/// The key's tags for `read`: from the read run's GetResources by the key's ARN if it has them
/// ([`tagging::tags`](crate::aws::tagging::tags)), else [`list_tags`].
async fn read_tags(ctx: &Ctx, key_id: &str, arn: Option<&str>) -> Result<Vec<Tag>, AwsError> {
    let batched = match arn {
        Some(arn) => crate::aws::tagging::tags(ctx, arn).await?,
        None => None,
    };
    match batched {
        Some(pairs) => pairs
            .into_iter()
            .map(|(k, v)| Tag::builder().tag_key(k).tag_value(v).build())
            .collect::<Result<_, _>>()
            .map_err(|e| AwsError::malformed("GetResources", format!("a tag of key {key_id}: {e}"))),
        None => list_tags(ctx, key_id).await,
    }
}

/// The key's tags for a lookup; `None` for a key whose tags cannot be read (gone meanwhile,
/// another account's, refused by its key policy): not one this stack created.
async fn key_tags(ctx: &Ctx, key_id: &str) -> Result<Option<Vec<Tag>>, AwsError> {
    match list_tags(ctx, key_id).await {
        Ok(tags) => Ok(Some(tags)),
        Err(e) if e.is_not_found() || UNREADABLE.contains(&e.code.as_str()) => Ok(None),
        Err(e) => Err(e),
    }
}

/// ListResourceTags errors that mean "this key is not ours to read", not a failed lookup.
const UNREADABLE: &[&str] = &["AccessDeniedException", "KMSInvalidArnException", "KMSInvalidStateException"];
