//! `efs:MountTarget`: an NFS endpoint of a file system in one subnet.
//!
//! It carries no tags: a lookup finds it by its file system and subnet (one per availability
//! zone), and it is ours when its file system is this stack's.

use async_trait::async_trait;
use aws_sdk_efs::types::{LifeCycleState, MountTargetDescription};
use serde_json::{Map, Value, json};

use super::{describe_file_system, found, is_gone, leaving, pairs, wait_available};
use crate::aws::adapter::{Lifecycle, Live, Refused};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, absent, sdk_err, settle};
use crate::plan::Resource;
use crate::schema::{Implied, Kind, PlanView, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "efs:MountTarget",
    aliases: &["AWS::EFS::MountTarget", "aws_efs_mount_target", "aws:efs/mountTarget:MountTarget"],
    summary: "An NFS endpoint of a file system in one subnet",
    calls: "CreateMountTarget (all properties); DeleteMountTarget",
    props: &[
        Prop::req("file_system_id", Kind::Str, "the file system"),
        Prop::req("subnet_id", Kind::Str, "subnet of the mount target (one per availability zone)"),
        // ModifyMountTargetSecurityGroups.
        Prop::opt("security_groups", Kind::List(&Kind::Str), "security groups of its network interface (up to 5)")
            .in_place(),
    ],
    attrs: &[attr("id", "mount target ID (`fsmt-...`)")],
    taggable: false,
    holds_data: false,
    create_secs: 90,
    delete_secs: 90,
    implied: &[Implied {
        why: "EFS creates the mount targets of one file system one at a time",
        find: earlier_mount_targets,
    }],
};

/// The other mount targets of the same file system whose plan name sorts before this one.
fn earlier_mount_targets(view: &PlanView<'_>, res: &Resource) -> Vec<String> {
    view.matching(res, SPEC.name, &[("file_system_id", "file_system_id")])
        .into_iter()
        .filter(|name| name.as_str() < res.name.as_str())
        .collect()
}

pub struct MountTarget;

/// What a create reads.
pub struct Input {
    file_system_id: String,
    subnet_id: String,
    security_groups: Vec<String>,
}

const DESCRIBE: &str = "DescribeMountTargets";

#[async_trait]
impl Lifecycle for MountTarget {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = super::NOT_FOUND;
    const UPDATES: &'static [&'static str] = &["security_groups"];

    /// No security group at all: a mount target keeps at least one.
    fn refuses(prop: &str, _old: &Map<String, Value>, new: &Map<String, Value>) -> Option<Refused> {
        let none = new.get("security_groups").and_then(Value::as_array).is_none_or(Vec::is_empty);
        (prop == "security_groups" && none).then_some(NO_GROUPS)
    }

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateMountTarget");
        Ok(Input {
            file_system_id: p.str("file_system_id")?,
            subnet_id: p.str("subnet_id")?,
            security_groups: p.str_list("security_groups")?,
        })
    }

    async fn create(ctx: &Ctx, m: &Input) -> Result<Created, AwsError> {
        let groups = &m.security_groups;
        let r = ctx
            .efs
            .create_mount_target()
            .file_system_id(&m.file_system_id)
            .subnet_id(&m.subnet_id)
            .set_security_groups(if groups.is_empty() { None } else { Some(groups.clone()) })
            .send()
            .await
            .map_err(|e| sdk_err("CreateMountTarget", e))?;
        Ok(created(r.mount_target_id()))
    }

    /// The mount target of that file system in that subnet, not being deleted: it carries no
    /// tags, so it is ours on a file system of this stack.
    async fn find(ctx: &Ctx, m: &Input, who: &Identity) -> Result<Found, AwsError> {
        let r = match ctx.efs.describe_mount_targets().file_system_id(&m.file_system_id).send().await {
            Ok(r) => r,
            Err(e) => return absent(sdk_err(DESCRIBE, e)),
        };
        let Some(mt) =
            r.mount_targets().iter().find(|mt| mt.subnet_id() == m.subnet_id && !leaving(mt.life_cycle_state()))
        else {
            return Ok(Found::Nothing);
        };
        let created = created(mt.mount_target_id());
        let Some(fs) = describe_file_system(ctx, &m.file_system_id).await? else { return Ok(Found::Nothing) };
        Ok(who.claim_by_parent(created, &format!("file system `{}`", m.file_system_id), pairs(fs.tags())))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        wait_available(ctx, DESCRIBE, &format!("mount target {id}"), || async {
            Ok(describe(ctx, id).await?.map(|m| m.life_cycle_state().clone()))
        })
        .await?;
        Ok(out.clone())
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let Some(mt) = read_describe(ctx, id).await? else { return Ok(None) };
        if mt.life_cycle_state() == &LifeCycleState::Deleted {
            return Ok(None);
        }
        let groups = ctx.efs.describe_mount_target_security_groups().mount_target_id(id).send().await;
        let Some(groups) = found(groups.map_err(|e| sdk_err("DescribeMountTargetSecurityGroups", e)))? else {
            return Ok(None);
        };
        let mut props = Map::new();
        props.insert("file_system_id".into(), json!(mt.file_system_id()));
        props.insert("subnet_id".into(), json!(mt.subnet_id()));
        props.insert("security_groups".into(), json!(groups.security_groups()));
        let mut outputs = out.clone();
        outputs.insert("id".into(), json!(id));
        Ok(Some(Live { props, outputs }))
    }

    /// ModifyMountTargetSecurityGroups replaces the groups of the mount target's network
    /// interface. An empty list is refused before the call: AWS keeps at least one group (the
    /// VPC's default when the create named none), so "none" cannot be put back in place.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, m: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        const OP: &str = "ModifyMountTargetSecurityGroups";
        if changed.iter().any(|c| c == "security_groups") {
            if m.security_groups.is_empty() {
                let message = format!("mount target {id}: `security_groups`: {}", NO_GROUPS.why);
                return Err(AwsError::input(OP, message).with_hint(NO_GROUPS.help));
            }
            let req = ctx.efs.modify_mount_target_security_groups().mount_target_id(id);
            req.set_security_groups(Some(m.security_groups.clone())).send().await.map_err(|e| sdk_err(OP, e))?;
        }
        Self::ready(ctx, id, out).await
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        const OP: &str = "DeleteMountTarget";
        // Refused while the mount target is still being created (an interrupted deploy).
        let busy = |e: &AwsError| e.code == "IncorrectMountTargetState";
        settle(ctx, OP, &format!("mount target {id}"), busy, || async {
            ctx.efs.delete_mount_target().mount_target_id(id).send().await.map(|_| ()).map_err(|e| sdk_err(OP, e))
        })
        .await
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        let state = describe(ctx, id).await?.map(|m| m.life_cycle_state().clone());
        is_gone(DESCRIBE, &format!("mount target {id}"), state)
    }
}

/// ModifyMountTargetSecurityGroups cannot leave a mount target without a group.
const NO_GROUPS: Refused = Refused {
    why: "cannot be emptied, a mount target keeps at least one security group",
    help: "name the security groups it should have (such as the VPC's default group)",
};

fn created(id: &str) -> Created {
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(id));
    Created { id: id.to_string(), outputs }
}

/// The mount target of ID `id`, if it exists.
async fn describe(ctx: &Ctx, id: &str) -> Result<Option<MountTargetDescription>, AwsError> {
    let r = ctx.efs.describe_mount_targets().mount_target_id(id).send().await;
    let r = found(r.map_err(|e| sdk_err(DESCRIBE, e)))?;
    Ok(r.and_then(|r| r.mount_targets.unwrap_or_default().into_iter().next()))
}

/// The mount target `id` for `read`: in a read run, from one DescribeMountTargets by
/// `FileSystemId` of each file system the run reads (made once in the run, shared by all its
/// mount targets); else, or when none of them lists it, [`describe`].
async fn read_describe(ctx: &Ctx, id: &str) -> Result<Option<MountTargetDescription>, AwsError> {
    if let Some(cache) = &ctx.reads {
        let mut systems: Vec<&str> = cache.run_of("efs:FileSystem").map(|(fs, _)| fs).collect();
        systems.sort_unstable();
        systems.dedup();
        for fs in systems {
            let listed = ctx
                .shared(format!("DescribeMountTargets FileSystemId={fs}"), || async {
                    let pages = ctx.efs.describe_mount_targets().file_system_id(fs).into_paginator().items().send();
                    let all = pages.collect::<Result<Vec<_>, _>>().await.map_err(|e| sdk_err(DESCRIBE, e));
                    // A file system deleted since lists no mount target.
                    Ok(found(all)?.unwrap_or_default())
                })
                .await?;
            if let Some(mt) = listed.iter().find(|m| m.mount_target_id() == id) {
                return Ok(Some(mt.clone()));
            }
        }
    }
    describe(ctx, id).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::subnet;
    use super::*;
    use crate::aws::create;
    use crate::aws::rds::testing::{reads_back, reads_gone_once_deleted};
    use crate::aws::testing::{assert_not_ours, ctx, find as lookup, props, tags};
    use crate::emulator::Moto;
    use crate::plan::Plan;

    // fs: mount_a <- mount_b <- mount_c ; other_fs: other_mount waits for none of them
    const PLAN: &str = r#"
[plan]
name = "t"

[resources.fs]
type = "efs:FileSystem"
creation_token = "fs"

[resources.other_fs]
type = "efs:FileSystem"
creation_token = "other"

[resources.mount_c]
type = "efs:MountTarget"
file_system_id = "${fs.id}"
subnet_id = "subnet-c"

[resources.mount_a]
type = "efs:MountTarget"
file_system_id = "${fs.id}"
subnet_id = "subnet-a"

[resources.mount_b]
type = "efs:MountTarget"
file_system_id = "${fs.id}"
subnet_id = "subnet-b"

[resources.other_mount]
type = "efs:MountTarget"
file_system_id = "${other_fs.id}"
subnet_id = "subnet-a"
"#;

    fn implied(plan: &Plan, name: &str) -> Vec<String> {
        let view = PlanView::new(plan);
        let res = plan.resource(name).expect("resource");
        let mut out: Vec<String> = SPEC.implied.iter().flat_map(|i| (i.find)(&view, res)).collect();
        out.sort();
        out
    }

    #[test]
    fn mount_targets_of_one_file_system_are_created_in_name_order() {
        let plan = Plan::parse(std::path::Path::new("t.toml"), PLAN).expect("plan");
        assert!(implied(&plan, "mount_a").is_empty());
        assert_eq!(implied(&plan, "mount_b"), ["mount_a"]);
        assert_eq!(implied(&plan, "mount_c"), ["mount_a", "mount_b"]);
        assert!(implied(&plan, "other_mount").is_empty());
    }

    /// A mount target in a file system made outside ironplan is not ours (it carries no tags
    /// and its file system is not this stack's); one in the plan's own file system is.
    #[tokio::test]
    async fn a_look_alike_mount_target_is_not_ours() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let (subnet_id, _) = subnet(&ctx).await;
        let fs = ctx.efs.create_file_system().creation_token("s-dev-data").send().await.expect("by hand");
        let mt = json!({"file_system_id": fs.file_system_id(), "subnet_id": subnet_id});
        create(&ctx, "efs:MountTarget", &mut props(mt.clone())).await.expect("mount target");
        let why = format!("file system `{}` has no `ironplan:stack` tag", fs.file_system_id());
        assert_not_ours(&lookup(&ctx, "efs:MountTarget", &mt).await, &why);

        let ours = json!({"creation_token": "s-dev-other", "encrypted": true, "tags": tags("s-dev", "data")});
        let made = create(&ctx, "efs:FileSystem", &mut props(ours.clone())).await.expect("ours");
        let mt = json!({"file_system_id": made.id, "subnet_id": subnet_id});
        create(&ctx, "efs:MountTarget", &mut props(mt.clone())).await.expect("our mount target");
        assert!(matches!(lookup(&ctx, "efs:MountTarget", &mt).await, Found::Ours { .. }));
    }

    /// In a read run that reads their file system, one DescribeMountTargets by its ID serves
    /// its mount targets, each reading what `read` answers; one deleted since (absent from the
    /// list) makes its own describe and reads gone.
    #[tokio::test]
    async fn mount_targets_of_a_file_system_share_one_describe_in_a_read_run() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let vpc = ctx.ec2.create_vpc().cidr_block("10.7.0.0/16").send().await.expect("vpc");
        let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
        let fs = json!({"creation_token": "s-dev-data", "tags": tags("s-dev", "data")});
        let fs = create(&ctx, "efs:FileSystem", &mut props(fs)).await.expect("file system");
        let mut mts = Vec::new();
        for (i, az) in ["us-east-1a", "us-east-1b", "us-east-1c"].iter().enumerate() {
            let cidr = format!("10.7.{i}.0/24");
            let s = ctx.ec2.create_subnet().vpc_id(&vpc_id).cidr_block(cidr).availability_zone(*az).send().await;
            let subnet_id = s.expect("subnet").subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_string();
            let v = json!({"file_system_id": fs.id, "subnet_id": subnet_id});
            mts.push(create(&ctx, "efs:MountTarget", &mut props(v)).await.expect("mount target"));
        }
        ctx.efs.delete_mount_target().mount_target_id(&mts[2].id).send().await.expect("delete");

        let mut run = vec![("efs:FileSystem", (fs.id.as_str(), &fs.outputs))];
        run.extend(mts.iter().map(|m| ("efs:MountTarget", (m.id.as_str(), &m.outputs))));
        let (wired, wire) = crate::aws::testing::wired(&ctx);
        let run = wired.for_reads_of(&run);
        for (i, m) in mts.iter().enumerate() {
            let one = crate::aws::read(&ctx, "efs:MountTarget", &m.id, &m.outputs).await.expect("read");
            assert_eq!(one.is_some(), i < 2, "{}: two exist, one is deleted", m.id);
            let got = crate::aws::read(&run, "efs:MountTarget", &m.id, &m.outputs).await.expect("read in the run");
            assert_eq!(got, one, "{}", m.id);
        }
        let sent = wire.of("DescribeMountTargets");
        let by_fs = sent.iter().filter(|s| s.uri.contains("FileSystemId=")).count();
        assert_eq!((by_fs, sent.len()), (1, 2), "one by the file system, one for the deleted: {sent:?}");
    }

    /// What `read` reports is what the plan said, with the outputs `wait_ready` gave; once
    /// deleted, it reports the mount target gone.
    #[tokio::test]
    async fn a_mount_target_reads_back_as_planned_until_deleted() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let (subnet_id, sg) = subnet(&ctx).await;
        let fs = json!({"creation_token": "s-dev-data", "tags": tags("s-dev", "data")});
        let fs = create(&ctx, "efs:FileSystem", &mut props(fs)).await.expect("file system");
        let v = json!({"file_system_id": fs.id, "subnet_id": subnet_id, "security_groups": [sg]});
        let (id, out) = reads_back(&ctx, "efs:MountTarget", &v, 0).await;
        reads_gone_once_deleted(&ctx, "efs:MountTarget", &id, &out).await;
    }

    /// The security groups change in place (ModifyMountTargetSecurityGroups): the mount target
    /// keeps its ID and reads back with the new groups; an empty list is refused, and the
    /// groups stay as they were.
    #[tokio::test]
    async fn security_groups_change_in_place() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let (subnet_id, sg) = subnet(&ctx).await;
        let vpc = ctx.ec2.describe_subnets().subnet_ids(&subnet_id).send().await.expect("subnet");
        let vpc = vpc.subnets()[0].vpc_id().expect("vpc id").to_string();
        let other = ctx.ec2.create_security_group().group_name("nfs-2").description("d").vpc_id(vpc).send().await;
        let other = other.expect("security group").group_id().expect("group id").to_string();
        let fs = json!({"creation_token": "s-dev-data", "tags": tags("s-dev", "data")});
        let fs = create(&ctx, "efs:FileSystem", &mut props(fs)).await.expect("file system");
        let mut v = json!({"file_system_id": fs.id, "subnet_id": subnet_id, "security_groups": [sg]});
        let (id, out) = reads_back(&ctx, "efs:MountTarget", &v, 0).await;

        v["security_groups"] = json!([other]);
        let out =
            crate::aws::testing::assert_updates(&ctx, "efs:MountTarget", &id, &out, &v, &["security_groups"]).await;
        let groups = ctx.efs.describe_mount_target_security_groups().mount_target_id(&id).send().await.expect("groups");
        assert_eq!(groups.security_groups(), std::slice::from_ref(&other));

        let mut none = v.clone();
        none["security_groups"] = json!([]);
        let keys = ["security_groups".to_string()];
        let e = crate::aws::update(&ctx, "efs:MountTarget", &id, &out, &mut props(none), &keys).await.unwrap_err();
        assert!(e.message.contains("cannot be emptied"), "{e}");
        crate::aws::testing::assert_reads_back(&ctx, "efs:MountTarget", &v, &id, &out).await;
    }
}
