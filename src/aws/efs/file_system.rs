//! `efs:FileSystem`: an elastic NFS file system.
//!
//! Its `creation_token` makes its creation idempotent, and is how a lookup finds it.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_efs::types::{LifeCycleState, PerformanceMode, Tag, ThroughputMode};
use serde_json::{Map, json};

use super::{CREATION_TOKEN, describe_file_system, is_gone, leaving, pairs, wait_available};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, put, sdk_err, settle, tag_table};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "efs:FileSystem",
    aliases: &["AWS::EFS::FileSystem", "aws_efs_file_system", "aws:efs/fileSystem:FileSystem"],
    summary: "An elastic NFS file system",
    calls: "CreateFileSystem (all properties); DeleteFileSystem",
    props: &[
        Prop::req(
            "creation_token",
            Kind::Str,
            "idempotency token: a second create with the same token makes no second file system",
        )
        .name_rule(&CREATION_TOKEN),
        Prop::opt("encrypted", Kind::Bool, "encrypt data at rest"),
        Prop::opt("kms_key_id", Kind::Str, "KMS key for encryption at rest (the AWS managed key if unset)"),
        Prop::opt("performance_mode", Kind::Str, "`generalPurpose` or `maxIO`"),
        // UpdateFileSystem on AWS; refused: moto 5.2.5 has no UpdateFileSystem (ARCHITECTURE.md).
        Prop::opt("throughput_mode", Kind::Str, "`bursting`, `elastic` or `provisioned`").in_place(),
        Prop::opt("tags", Kind::Tags, "tags of the file system"),
    ],
    attrs: &[attr("id", "file system ID (`fs-...`)"), attr("arn", "ARN of the file system")],
    taggable: true,
    holds_data: true,
    create_secs: 5,
    delete_secs: 5,
    implied: &[],
};

pub struct FileSystem;

/// What a create reads.
pub struct Input {
    token: String,
    encrypted: Option<bool>,
    kms_key_id: Option<String>,
    performance_mode: Option<PerformanceMode>,
    throughput_mode: Option<ThroughputMode>,
    tags: Vec<Tag>,
}

const DESCRIBE: &str = "DescribeFileSystems";

#[async_trait]
impl Lifecycle for FileSystem {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = super::NOT_FOUND;
    // UpdateFileSystem changes the throughput mode on AWS; moto 5.2.5 lacks it (HTTP 500), so it
    // is not offered until it can be tested.
    const UPDATES: &'static [&'static str] = &["tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        const OP: &str = "CreateFileSystem";
        let p = p.for_op(OP);
        Ok(Input {
            token: p.str("creation_token")?,
            encrypted: p.opt_bool("encrypted")?,
            kms_key_id: p.opt_str("kms_key_id")?,
            performance_mode: p.opt_str("performance_mode")?.map(|s| PerformanceMode::from(s.as_str())),
            throughput_mode: p.opt_str("throughput_mode")?.map(|s| ThroughputMode::from(s.as_str())),
            tags: p
                .tags()?
                .into_iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| AwsError::input(OP, e.to_string())))
                .collect::<Result<Vec<_>, _>>()?,
        })
    }

    async fn create(ctx: &Ctx, f: &Input) -> Result<Created, AwsError> {
        let r = ctx
            .efs
            .create_file_system()
            .creation_token(&f.token)
            .set_encrypted(f.encrypted)
            .set_kms_key_id(f.kms_key_id.clone())
            .set_performance_mode(f.performance_mode.clone())
            .set_throughput_mode(f.throughput_mode.clone())
            .set_tags(Some(f.tags.clone()))
            .send()
            .await
            .map_err(|e| sdk_err("CreateFileSystem", e))?;
        let id = r.file_system_id().to_string();
        Ok(Created { outputs: outputs(&id, r.file_system_arn()), id })
    }

    /// The file system of that creation token that is not being deleted (one being deleted
    /// cannot be used, nor can its token be taken again): ours with both identity tags, which
    /// CreateFileSystem carries.
    async fn find(ctx: &Ctx, f: &Input, who: &Identity) -> Result<Found, AwsError> {
        let r =
            ctx.efs.describe_file_systems().creation_token(&f.token).send().await.map_err(|e| sdk_err(DESCRIBE, e))?;
        let Some(fs) = r.file_systems().iter().find(|fs| !leaving(fs.life_cycle_state())) else {
            return Ok(Found::Nothing);
        };
        let id = fs.file_system_id().to_string();
        Ok(who.claim(Created { outputs: outputs(&id, fs.file_system_arn()), id }, pairs(fs.tags())))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        wait_available(ctx, DESCRIBE, &format!("file system {id}"), || async {
            Ok(describe_file_system(ctx, id).await?.map(|f| f.life_cycle_state().clone()))
        })
        .await?;
        Ok(out.clone())
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let Some(fs) = describe_file_system(ctx, id).await? else { return Ok(None) };
        if fs.life_cycle_state() == &LifeCycleState::Deleted {
            return Ok(None);
        }
        let mut props = Map::new();
        props.insert("creation_token".into(), json!(fs.creation_token()));
        put(&mut props, "encrypted", fs.encrypted());
        put(&mut props, "kms_key_id", fs.kms_key_id());
        props.insert("performance_mode".into(), json!(fs.performance_mode().as_str()));
        put(&mut props, "throughput_mode", fs.throughput_mode().map(|m| m.as_str()));
        props.insert("tags".into(), tag_table(pairs(fs.tags())));
        let mut outputs = out.clone();
        outputs.extend(self::outputs(id, fs.file_system_arn()));
        Ok(Some(Live { props, outputs }))
    }

    /// The tags (TagResource, UntagResource), then available again.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, f: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        if changed.iter().any(|k| k == "tags") {
            let live = ctx.efs.list_tags_for_resource().resource_id(id).send().await;
            let live = live.map_err(|e| sdk_err("ListTagsForResource", e))?;
            let dropped: Vec<String> = live
                .tags()
                .iter()
                .map(|t| t.key().to_string())
                .filter(|k| !k.starts_with("aws:") && !f.tags.iter().any(|w| w.key() == k))
                .collect();
            if !dropped.is_empty() {
                let req = ctx.efs.untag_resource().resource_id(id).set_tag_keys(Some(dropped));
                req.send().await.map_err(|e| sdk_err("UntagResource", e))?;
            }
            let req = ctx.efs.tag_resource().resource_id(id).set_tags(Some(f.tags.clone()));
            req.send().await.map_err(|e| sdk_err("TagResource", e))?;
        }
        Self::ready(ctx, id, out).await
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        const OP: &str = "DeleteFileSystem";
        // EFS may still count a mount target for a moment after DescribeMountTargets stopped
        // listing it: retry `FileSystemInUse` briefly, not for the whole poll timeout (a mount
        // target ironplan does not manage would keep it in use for good).
        let mut brief = ctx.clone();
        brief.poll.timeout = brief.poll.timeout.min(Duration::from_secs(120));
        let busy = |e: &AwsError| matches!(e.code.as_str(), "FileSystemInUse" | "IncorrectFileSystemLifeCycleState");
        settle(&brief, OP, &format!("file system {id}"), busy, || async {
            ctx.efs.delete_file_system().file_system_id(id).send().await.map(|_| ()).map_err(|e| sdk_err(OP, e))
        })
        .await
        .map_err(|e| {
            if e.code == "FileSystemInUse" || e.code == "WaitTimeout" {
                e.with_hint(
                    "the file system still has mount targets: delete those not in the plan, then tear down again",
                )
            } else {
                e
            }
        })
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        let state = describe_file_system(ctx, id).await?.map(|f| f.life_cycle_state().clone());
        is_gone(DESCRIBE, &format!("file system {id}"), state)
    }
}

fn outputs(id: &str, arn: Option<&str>) -> Outputs {
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(id));
    put(&mut outputs, "arn", arn);
    outputs
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::aws::rds::testing::{reads_back, reads_gone_once_deleted};
    use crate::aws::testing::{assert_not_ours, ctx, find, props, tags};
    use crate::aws::{Found, create};
    use crate::emulator::Moto;

    /// A file system made outside ironplan with a plan's creation token is not ours (it is
    /// untagged); the plan's own is.
    #[tokio::test]
    async fn a_look_alike_file_system_is_not_ours() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        ctx.efs.create_file_system().creation_token("s-dev-data").send().await.expect("by hand");
        let planned = json!({"creation_token": "s-dev-data", "tags": tags("s-dev", "data")});
        assert_not_ours(&find(&ctx, "efs:FileSystem", &planned).await, "has no `ironplan:stack` tag");

        let ours = json!({"creation_token": "s-dev-other", "encrypted": true, "tags": tags("s-dev", "data")});
        create(&ctx, "efs:FileSystem", &mut props(ours.clone())).await.expect("ours");
        assert!(matches!(find(&ctx, "efs:FileSystem", &ours).await, Found::Ours { .. }));
    }

    /// What `read` reports is what the plan said, with the outputs `wait_ready` gave; once
    /// deleted, it reports the file system gone.
    #[tokio::test]
    async fn a_file_system_reads_back_as_planned_until_deleted() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let key = ctx.kms.create_key().send().await.expect("key");
        let key = key.key_metadata().and_then(|m| m.arn()).expect("key arn").to_string();
        let v = json!({"creation_token": "s-dev-data", "encrypted": true, "kms_key_id": key,
                       "performance_mode": "generalPurpose", "throughput_mode": "elastic",
                       "tags": tags("s-dev", "data")});
        let (id, out) = reads_back(&ctx, "efs:FileSystem", &v, 0).await;
        let mut changed = v.clone();
        changed["tags"]["Team"] = json!("data");
        let out = crate::aws::testing::assert_updates(&ctx, "efs:FileSystem", &id, &out, &changed, &["tags"]).await;
        reads_gone_once_deleted(&ctx, "efs:FileSystem", &id, &out).await;
    }
}
