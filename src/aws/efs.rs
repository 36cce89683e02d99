//! Adapter for `efs:*` types: `FileSystem`, `MountTarget`.
//!
//! The file system's `creation_token` makes its creation idempotent. A mount target holds a
//! network interface in its subnet; its deletion is only over once DescribeMountTargets no
//! longer knows it, and only then can the subnet, the security groups and the file system go.

use std::time::Duration;

use aws_sdk_efs::types::{LifeCycleState, PerformanceMode, Tag, ThroughputMode};

use super::{AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, absent, poll, sdk_err};

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    match ty {
        "efs:FileSystem" => create_file_system(ctx, p).await,
        "efs:MountTarget" => create_mount_target(ctx, p).await,
        _ => Err(super::unknown_type(ty)),
    }
}

/// Finds what an interrupted create made: the file system by its creation token (ours with
/// both identity tags, which CreateFileSystem carries), the mount target by its file system and
/// subnet (one per availability zone; it carries no tags: ours on a file system of this stack).
pub(super) async fn adopt(ctx: &Ctx, ty: &str, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    match ty {
        "efs:FileSystem" => {
            const OP: &str = "DescribeFileSystems";
            let token = p.str("creation_token")?;
            let r = ctx.efs.describe_file_systems().creation_token(token).send().await.map_err(|e| sdk_err(OP, e))?;
            // A file system being deleted cannot be used, nor can its token be taken again.
            let Some(f) = r
                .file_systems()
                .iter()
                .find(|f| !matches!(f.life_cycle_state(), LifeCycleState::Deleting | LifeCycleState::Deleted))
            else {
                return Ok(Found::Nothing);
            };
            let id = f.file_system_id().to_string();
            let mut outputs = Outputs::new();
            outputs.insert("id".into(), id.clone().into());
            if let Some(arn) = f.file_system_arn() {
                outputs.insert("arn".into(), arn.into());
            }
            Ok(who.claim(Created { id, outputs }, pairs(f.tags())))
        }
        "efs:MountTarget" => {
            const OP: &str = "DescribeMountTargets";
            let file_system_id = p.str("file_system_id")?;
            let subnet_id = p.str("subnet_id")?;
            let r = match ctx.efs.describe_mount_targets().file_system_id(&file_system_id).send().await {
                Ok(r) => r,
                Err(e) => return absent(sdk_err(OP, e)),
            };
            let Some(m) = r.mount_targets().iter().find(|m| {
                m.subnet_id() == subnet_id
                    && !matches!(m.life_cycle_state(), LifeCycleState::Deleting | LifeCycleState::Deleted)
            }) else {
                return Ok(Found::Nothing);
            };
            let id = m.mount_target_id().to_string();
            let mut outputs = Outputs::new();
            outputs.insert("id".into(), id.clone().into());
            let created = Created { id, outputs };
            let fs = match ctx.efs.describe_file_systems().file_system_id(&file_system_id).send().await {
                Ok(r) => r,
                Err(e) => return absent(sdk_err("DescribeFileSystems", e)),
            };
            let tags = fs.file_systems().first().map(|f| f.tags()).unwrap_or_default();
            Ok(who.claim_by_parent(created, &format!("file system `{file_system_id}`"), pairs(tags)))
        }
        _ => Err(super::unknown_type(ty)),
    }
}

fn pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|t| (t.key(), t.value()))
}

pub(super) async fn wait_ready(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    let kind = match ty {
        "efs:FileSystem" => Kind::FileSystem,
        "efs:MountTarget" => Kind::MountTarget,
        _ => return Err(super::unknown_type(ty)),
    };
    wait_state(ctx, id, kind, |s| s == &LifeCycleState::Available).await?;
    Ok(out.clone())
}

pub(super) async fn delete(ctx: &Ctx, ty: &str, id: &str, _out: &Outputs) -> Result<(), AwsError> {
    match ty {
        "efs:FileSystem" => {
            const OP: &str = "DeleteFileSystem";
            // EFS may still count a mount target for a moment after DescribeMountTargets stopped
            // listing it: retry `FileSystemInUse` briefly, not for the whole poll timeout (a mount
            // target ironplan does not manage would keep it in use for good).
            let mut brief = ctx.clone();
            brief.poll.timeout = brief.poll.timeout.min(Duration::from_secs(120));
            poll(&brief, OP, &format!("file system {id} to accept deletion"), || async {
                match ctx.efs.delete_file_system().file_system_id(id).send().await {
                    Ok(_) => Ok(Some(())),
                    Err(e) => {
                        let e = sdk_err(OP, e);
                        if matches!(e.code.as_str(), "FileSystemInUse" | "IncorrectFileSystemLifeCycleState") {
                            Ok(None)
                        } else {
                            Err(e)
                        }
                    }
                }
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
        "efs:MountTarget" => {
            const OP: &str = "DeleteMountTarget";
            // Refused while the mount target is still being created (an interrupted deploy).
            poll(ctx, OP, &format!("mount target {id} to accept deletion"), || async {
                match ctx.efs.delete_mount_target().mount_target_id(id).send().await {
                    Ok(_) => Ok(Some(())),
                    Err(e) => {
                        let e = sdk_err(OP, e);
                        if e.code == "IncorrectMountTargetState" { Ok(None) } else { Err(e) }
                    }
                }
            })
            .await
        }
        _ => Err(super::unknown_type(ty)),
    }
}

pub(super) async fn wait_deleted(ctx: &Ctx, ty: &str, id: &str, _out: &Outputs) -> Result<(), AwsError> {
    let kind = match ty {
        "efs:FileSystem" => Kind::FileSystem,
        "efs:MountTarget" => Kind::MountTarget,
        _ => return Err(super::unknown_type(ty)),
    };
    // Not found (the usual end) or a `deleted` state both mean gone.
    match wait_state(ctx, id, kind, |s| s == &LifeCycleState::Deleted).await {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

#[derive(Clone, Copy)]
enum Kind {
    FileSystem,
    MountTarget,
}

/// Polls the life cycle state of a file system or mount target until `done` holds. The `error`
/// state ends the wait with a failure.
async fn wait_state(ctx: &Ctx, id: &str, kind: Kind, done: impl Fn(&LifeCycleState) -> bool) -> Result<(), AwsError> {
    let (op, what) = match kind {
        Kind::FileSystem => ("DescribeFileSystems", format!("file system {id}")),
        Kind::MountTarget => ("DescribeMountTargets", format!("mount target {id}")),
    };
    let done = &done;
    let what = &what;
    poll(ctx, op, &format!("{what} to change state"), || async move {
        let state = match kind {
            Kind::FileSystem => {
                let r = ctx.efs.describe_file_systems().file_system_id(id).send().await.map_err(|e| sdk_err(op, e))?;
                r.file_systems().first().map(|f| f.life_cycle_state().clone())
            }
            Kind::MountTarget => {
                let r =
                    ctx.efs.describe_mount_targets().mount_target_id(id).send().await.map_err(|e| sdk_err(op, e))?;
                r.mount_targets().first().map(|m| m.life_cycle_state().clone())
            }
        };
        match state {
            Some(s) if done(&s) => Ok(Some(())),
            Some(LifeCycleState::Error) => Err(AwsError {
                operation: op,
                code: "ResourceFailed".into(),
                message: format!("{what} is in state `error`"),
                kind: ErrorKind::Fatal,
                hint: None,
            }),
            Some(_) => Ok(None),
            // An empty answer for an ID means it is gone.
            None => Err(AwsError {
                operation: op,
                code: "NotFound".into(),
                message: format!("{what} does not exist"),
                kind: ErrorKind::NotFound,
                hint: None,
            }),
        }
    })
    .await
}

async fn create_file_system(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    const OP: &str = "CreateFileSystem";
    p.for_op(OP);
    let token = p.str("creation_token")?;
    let encrypted = p.opt_bool("encrypted")?;
    let kms_key_id = p.opt_str("kms_key_id")?;
    let performance_mode = p.opt_str("performance_mode")?.map(|s| PerformanceMode::from(s.as_str()));
    let throughput_mode = p.opt_str("throughput_mode")?.map(|s| ThroughputMode::from(s.as_str()));
    let tags = p
        .tags()?
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| AwsError::input(OP, e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    p.finish()?;

    let r = ctx
        .efs
        .create_file_system()
        .creation_token(token)
        .set_encrypted(encrypted)
        .set_kms_key_id(kms_key_id)
        .set_performance_mode(performance_mode)
        .set_throughput_mode(throughput_mode)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| sdk_err(OP, e))?;
    let id = r.file_system_id().to_string();
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), id.clone().into());
    if let Some(arn) = r.file_system_arn() {
        outputs.insert("arn".into(), arn.into());
    }
    Ok(Created { id, outputs })
}

async fn create_mount_target(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    const OP: &str = "CreateMountTarget";
    p.for_op(OP);
    let file_system_id = p.str("file_system_id")?;
    let subnet_id = p.str("subnet_id")?;
    let security_groups = p.str_list("security_groups")?;
    p.finish()?;

    let r = ctx
        .efs
        .create_mount_target()
        .file_system_id(file_system_id)
        .subnet_id(subnet_id)
        .set_security_groups(if security_groups.is_empty() { None } else { Some(security_groups) })
        .send()
        .await
        .map_err(|e| sdk_err(OP, e))?;
    let id = r.mount_target_id().to_string();
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), id.clone().into());
    Ok(Created { id, outputs })
}

#[cfg(test)]
mod adopt_tests {
    use serde_json::json;

    use crate::aws::testing::{assert_not_ours, ctx, find, props, tags};
    use crate::aws::{Found, create};
    use crate::emulator::Moto;

    /// A file system made outside ironplan with a plan's creation token, and a mount target in
    /// it: neither is ours (the file system is untagged; the mount target carries no tags and
    /// its file system is not this stack's). The plan's own are.
    #[tokio::test]
    async fn look_alike_file_system_and_mount_target_are_not_ours() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let vpc = ctx.ec2.create_vpc().cidr_block("10.9.0.0/16").send().await.expect("vpc");
        let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
        let subnet = ctx.ec2.create_subnet().vpc_id(&vpc_id).cidr_block("10.9.1.0/24").send().await.expect("subnet");
        let subnet_id = subnet.subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_string();

        let fs = ctx.efs.create_file_system().creation_token("s-dev-data").send().await.expect("by hand");
        let mt = json!({"file_system_id": fs.file_system_id(), "subnet_id": subnet_id});
        create(&ctx, "efs:MountTarget", &mut props(mt.clone())).await.expect("mount target");
        let planned = json!({"creation_token": "s-dev-data", "tags": tags("s-dev", "data")});
        assert_not_ours(&find(&ctx, "efs:FileSystem", &planned).await, "has no `ironplan:stack` tag");
        let why = format!("file system `{}` has no `ironplan:stack` tag", fs.file_system_id());
        assert_not_ours(&find(&ctx, "efs:MountTarget", &mt).await, &why);

        let ours = json!({"creation_token": "s-dev-other", "encrypted": true, "tags": tags("s-dev", "data")});
        let made = create(&ctx, "efs:FileSystem", &mut props(ours.clone())).await.expect("ours");
        assert!(matches!(find(&ctx, "efs:FileSystem", &ours).await, Found::Ours { .. }));
        let mt = json!({"file_system_id": made.id, "subnet_id": subnet_id});
        create(&ctx, "efs:MountTarget", &mut props(mt.clone())).await.expect("our mount target");
        assert!(matches!(find(&ctx, "efs:MountTarget", &mt).await, Found::Ours { .. }));
    }
}
