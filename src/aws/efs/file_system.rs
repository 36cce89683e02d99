//! `efs:FileSystem`: an elastic NFS file system.
//!
//! Its `creation_token` makes its creation idempotent, and is how a lookup finds it.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_efs::types::{FileSystemDescription, LifeCycleState, PerformanceMode, Tag, ThroughputMode};
use serde_json::{Map, Value, json};

use super::{CREATION_TOKEN, describe_file_system, is_gone, leaving, pairs, wait_available};
use crate::aws::adapter::{Lifecycle, Live, Refused};
use crate::aws::{AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, put, sdk_err, settle, tag_table};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "efs:FileSystem",
    aliases: &["AWS::EFS::FileSystem", "aws_efs_file_system", "aws:efs/fileSystem:FileSystem"],
    summary: "An elastic NFS file system",
    calls: "CreateFileSystem (all properties); update: UpdateFileSystem (throughput_mode, \
            provisioned_throughput_in_mibps); DeleteFileSystem",
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
        // UpdateFileSystem (moto 5.2.5 lacks it: tested on the wire). AWS allows one mode change
        // per 24 hours.
        Prop::opt("throughput_mode", Kind::Str, "`bursting` (AWS's default), `elastic` or `provisioned`").in_place(),
        Prop::opt(
            "provisioned_throughput_in_mibps",
            Kind::Float,
            "throughput to provision, in MiB/s (1-3414, by Region): required with `provisioned`, only then used",
        )
        .in_place(),
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
    provisioned_mibps: Option<f64>,
    tags: Vec<Tag>,
}

const DESCRIBE: &str = "DescribeFileSystems";

#[async_trait]
impl Lifecycle for FileSystem {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = super::NOT_FOUND;
    const UPDATES: &'static [&'static str] = &["throughput_mode", "provisioned_throughput_in_mibps", "tags"];

    /// `provisioned` without the throughput to provision (UpdateFileSystem requires it).
    fn refuses(prop: &str, _old: &Map<String, Value>, new: &Map<String, Value>) -> Option<Refused> {
        let provisioned = new.get("throughput_mode").and_then(Value::as_str) == Some("provisioned");
        let throughput = matches!(prop, "throughput_mode" | "provisioned_throughput_in_mibps");
        (throughput && provisioned && new.get("provisioned_throughput_in_mibps").is_none()).then_some(NO_MIBPS)
    }

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        const OP: &str = "CreateFileSystem";
        let p = p.for_op(OP);
        Ok(Input {
            token: p.str("creation_token")?,
            encrypted: p.opt_bool("encrypted")?,
            kms_key_id: p.opt_str("kms_key_id")?,
            performance_mode: p.opt_str("performance_mode")?.map(|s| PerformanceMode::from(s.as_str())),
            throughput_mode: p.opt_str("throughput_mode")?.map(|s| ThroughputMode::from(s.as_str())),
            provisioned_mibps: p.opt_f64("provisioned_throughput_in_mibps")?,
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
            .set_provisioned_throughput_in_mibps(f.provisioned_mibps)
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
        if fs.throughput_mode() == Some(&ThroughputMode::Provisioned) {
            put(&mut props, "provisioned_throughput_in_mibps", fs.provisioned_throughput_in_mibps());
        }
        props.insert("tags".into(), tag_table(pairs(fs.tags())));
        let mut outputs = out.clone();
        outputs.extend(self::outputs(id, fs.file_system_arn()));
        Ok(Some(Live { props, outputs }))
    }

    /// The throughput (UpdateFileSystem, with only what differs from the live file system: a
    /// resumed update finds it done), the tags (TagResource, UntagResource), then available
    /// again.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, f: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        if changed.iter().any(|k| k == "throughput_mode" || k == "provisioned_throughput_in_mibps") {
            let Some(live) = describe_file_system(ctx, id).await? else {
                return Err(AwsError::input(UPDATE, format!("file system {id} is gone")));
            };
            let (mode, mibps) = throughput_change(&live, f).map_err(|r| refused(id, r))?;
            if mode.is_some() || mibps.is_some() {
                // UpdateFileSystem is refused while the file system is not `available`.
                Self::ready(ctx, id, out).await?;
                let req = ctx.efs.update_file_system().file_system_id(id);
                let r = req.set_throughput_mode(mode).set_provisioned_throughput_in_mibps(mibps).send().await;
                r.map_err(|e| once_a_day(id, sdk_err(UPDATE, e)))?;
            }
        }
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

const UPDATE: &str = "UpdateFileSystem";

/// UpdateFileSystem needs the throughput to provision with `provisioned`.
const NO_MIBPS: Refused = Refused {
    why: "`provisioned` throughput needs the throughput to provision",
    help: "set provisioned_throughput_in_mibps (1-3414) with throughput_mode = \"provisioned\"",
};

/// What UpdateFileSystem must send to bring `live` to the plan: the mode if it differs (absent
/// from the plan: AWS's default, `bursting`), the throughput if the mode is to be `provisioned`
/// and the mode or the value differs. Both `None`: nothing to do.
fn throughput_change(
    live: &FileSystemDescription,
    f: &Input,
) -> Result<(Option<ThroughputMode>, Option<f64>), Refused> {
    let want = f.throughput_mode.clone().unwrap_or(ThroughputMode::Bursting);
    let mode = (live.throughput_mode() != Some(&want)).then(|| want.clone());
    if want != ThroughputMode::Provisioned {
        return Ok((mode, None));
    }
    let Some(mibps) = f.provisioned_mibps else { return Err(NO_MIBPS) };
    let same = live.provisioned_throughput_in_mibps() == Some(mibps);
    Ok((mode.clone(), (mode.is_some() || !same).then_some(mibps)))
}

/// The error of a refused change, before any call.
fn refused(id: &str, r: Refused) -> AwsError {
    AwsError::input(UPDATE, format!("file system {id}: {}", r.why)).with_hint(r.help)
}

/// EFS's 429 `TooManyRequests` of UpdateFileSystem is no throttling: AWS allows one change of
/// the throughput mode (or decrease of the provisioned throughput) in 24 hours, and its message
/// says when the next one is. Retrying would not help: it fails at once, saying so.
fn once_a_day(id: &str, e: AwsError) -> AwsError {
    if e.code != "TooManyRequests" {
        return e;
    }
    AwsError {
        message: format!(
            "file system {id}: AWS allows one throughput mode change (or provisioned throughput decrease) in 24 \
             hours: {}",
            e.message
        ),
        kind: ErrorKind::Fatal,
        hint: Some(
            "deploy again after the time AWS names, or keep the file system's current throughput_mode in the plan"
                .into(),
        ),
        ..e
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

    /// AWS's answer to UpdateFileSystem (202, the file system's description) for `id`.
    fn updated(id: &str, mode: &str) -> String {
        json!({"OwnerId": "123456789012", "CreationToken": "t", "FileSystemId": id,
               "FileSystemArn": format!("arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/{id}"),
               "CreationTime": 1_700_000_000, "LifeCycleState": "updating", "NumberOfMountTargets": 0,
               "SizeInBytes": {"Value": 6144}, "PerformanceMode": "generalPurpose", "Encrypted": false,
               "ThroughputMode": mode, "Tags": []})
        .to_string()
    }

    /// The throughput mode changes in place: UpdateFileSystem with the new mode (and, for
    /// `provisioned`, the throughput), nothing when the file system already has it (a resumed
    /// update); `provisioned` without a throughput is refused before any call, and AWS's "one
    /// change a day" is a failure that says so, not retried. moto has no UpdateFileSystem: the
    /// wire answers it as AWS does and the test checks what was sent.
    #[tokio::test]
    async fn the_throughput_mode_changes_in_place_with_update_file_system() {
        use crate::aws::testing::Wire;
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let (mut ctx, wire) = crate::aws::testing::wired(&ctx);
        let ty = "efs:FileSystem";
        let v = json!({"creation_token": "s-dev-data", "throughput_mode": "elastic", "tags": tags("s-dev", "data")});
        let made = create(&ctx, ty, &mut props(v.clone())).await.expect("create");
        let out = crate::aws::wait_ready(&ctx, ty, &made.id, &made.outputs).await.expect("ready");
        let lacks = ctx.efs.update_file_system().file_system_id(&made.id).throughput_mode("bursting".into()).send();
        assert!(lacks.await.is_err(), "moto has UpdateFileSystem now: assert the update through it");
        wire.answer("UpdateFileSystem", 202, "application/json", &updated(&made.id, "provisioned"));
        let keys = ["throughput_mode".to_string(), "provisioned_throughput_in_mibps".to_string()];
        let before = wire.of("UpdateFileSystem").len();

        let mut provisioned = v.clone();
        provisioned["throughput_mode"] = json!("provisioned");
        let e = crate::aws::update(&ctx, ty, &made.id, &out, &mut props(provisioned.clone()), &keys).await;
        let e = e.expect_err("provisioned without a throughput");
        assert!(e.message.contains("needs the throughput to provision"), "{e}");
        assert_eq!(wire.of("UpdateFileSystem").len(), before, "refused before any call");

        provisioned["provisioned_throughput_in_mibps"] = json!(128.0);
        crate::aws::update(&ctx, ty, &made.id, &out, &mut props(provisioned), &keys).await.expect("update");
        let sent = wire.of("UpdateFileSystem");
        assert_eq!(sent.len(), before + 1, "{:?}", wire.sent());
        assert!(sent[before].uri.ends_with(&format!("/2015-02-01/file-systems/{}", made.id)), "{}", sent[before].uri);
        let body: serde_json::Value = serde_json::from_str(&sent[before].body).expect("json");
        assert_eq!(body, json!({"ThroughputMode": "provisioned", "ProvisionedThroughputInMibps": 128.0}));

        // A file system that has the plan's mode already: nothing to send (a resumed update).
        let keys = ["throughput_mode".to_string()];
        crate::aws::update(&ctx, ty, &made.id, &out, &mut props(v.clone()), &keys).await.expect("already done");
        assert_eq!(wire.of("UpdateFileSystem").len(), before + 1, "nothing sent: {:?}", wire.sent());
        // The mode dropped from the plan is AWS's default, bursting, and only the mode is sent.
        let mut bursting = v.clone();
        bursting.as_object_mut().map(|m| m.remove("throughput_mode"));
        crate::aws::update(&ctx, ty, &made.id, &out, &mut props(bursting), &keys).await.expect("update");
        let sent = wire.of("UpdateFileSystem");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&sent[before + 1].body).expect("json"),
            json!({"ThroughputMode": "bursting"})
        );

        // AWS refuses a second mode change within 24 hours (429): said so, and not retried.
        let twice = Wire::default();
        ctx = crate::aws::testing::through(&ctx, &twice);
        let message = "You have reached the maximum number of throughput mode changes or provisioned throughput \
                       value decreases. Wait until 2026-12-04T08:00:00Z UTC and try again.";
        let body = json!({"__type": "TooManyRequests", "ErrorCode": "TooManyRequests", "Message": message});
        twice.answer("UpdateFileSystem", 429, "application/json", &body.to_string());
        let mut bursting = v.clone();
        bursting["throughput_mode"] = json!("bursting");
        let e = crate::aws::update(&ctx, ty, &made.id, &out, &mut props(bursting), &keys).await.expect_err("429");
        assert_eq!((e.code.as_str(), e.kind), ("TooManyRequests", crate::aws::ErrorKind::Fatal), "{e}");
        assert!(
            e.message.contains("provisioned throughput decrease) in 24 hours") && e.message.contains("2026-12-04"),
            "{e}"
        );
        assert_eq!(twice.of("UpdateFileSystem").len(), 1, "not retried: {:?}", twice.sent());
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("deploy again after")), "{e:?}");
        // What drift compares: the mode EFS reports (moto's, unchanged by the wire's answers).
        let live = crate::aws::read(&ctx, ty, &made.id, &out).await.expect("read").expect("there");
        assert_eq!(live.props["throughput_mode"], json!("elastic"));
    }

    /// The plan shows (and deploy refuses) `provisioned` without its throughput.
    #[test]
    fn provisioned_without_a_throughput_is_refused() {
        use crate::aws::adapter::Lifecycle;
        let m = |v: serde_json::Value| v.as_object().cloned().expect("object");
        let old = m(json!({"throughput_mode": "elastic"}));
        let bare = m(json!({"throughput_mode": "provisioned"}));
        let refused = super::FileSystem::refuses("throughput_mode", &old, &bare).expect("refused");
        assert!(refused.help.contains("provisioned_throughput_in_mibps"), "{refused:?}");
        let full = m(json!({"throughput_mode": "provisioned", "provisioned_throughput_in_mibps": 64.0}));
        assert_eq!(super::FileSystem::refuses("throughput_mode", &old, &full), None);
        assert_eq!(super::FileSystem::refuses("throughput_mode", &full, &old), None);
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
                       "performance_mode": "generalPurpose", "throughput_mode": "provisioned",
                       "provisioned_throughput_in_mibps": 64.0,
                       "tags": tags("s-dev", "data")});
        let (id, out) = reads_back(&ctx, "efs:FileSystem", &v, 0).await;
        let mut changed = v.clone();
        changed["tags"]["Team"] = json!("data");
        let out = crate::aws::testing::assert_updates(&ctx, "efs:FileSystem", &id, &out, &changed, &["tags"]).await;
        reads_gone_once_deleted(&ctx, "efs:FileSystem", &id, &out).await;
    }
}
