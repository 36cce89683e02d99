//! `efs:*` types: an EFS file system and its mount targets (one per availability zone).
//!
//! A mount target holds a network interface: its subnet and security groups cannot be deleted
//! before it is gone, which its references to them already say.

use super::{Implied, Kind, NameRule, PlanView, Prop, TypeSpec, attr};
use crate::plan::Resource;

pub const TYPES: &[&TypeSpec] = &[&FILE_SYSTEM, &MOUNT_TARGET];

/// "A string of up to 64 ASCII characters" (printable ones: ironplan refuses control characters).
pub const CREATION_TOKEN: NameRule =
    NameRule::new("EFS creation token", "CreateFileSystem CreationToken", 1, 64, " -~");

pub static FILE_SYSTEM: TypeSpec = TypeSpec {
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
        Prop::opt("throughput_mode", Kind::Str, "`bursting`, `elastic` or `provisioned`"),
        Prop::opt("tags", Kind::Tags, "tags of the file system"),
    ],
    attrs: &[attr("id", "file system ID (`fs-...`)"), attr("arn", "ARN of the file system")],
    taggable: true,
    create_secs: 5,
    delete_secs: 5,
    implied: &[],
};

pub static MOUNT_TARGET: TypeSpec = TypeSpec {
    name: "efs:MountTarget",
    aliases: &["AWS::EFS::MountTarget", "aws_efs_mount_target", "aws:efs/mountTarget:MountTarget"],
    summary: "An NFS endpoint of a file system in one subnet",
    calls: "CreateMountTarget (all properties); DeleteMountTarget",
    props: &[
        Prop::req("file_system_id", Kind::Str, "the file system"),
        Prop::req("subnet_id", Kind::Str, "subnet of the mount target (one per availability zone)"),
        Prop::opt("security_groups", Kind::List(&Kind::Str), "security groups of its network interface (up to 5)"),
    ],
    attrs: &[attr("id", "mount target ID (`fsmt-...`)")],
    taggable: false,
    create_secs: 90,
    delete_secs: 90,
    implied: &[Implied {
        why: "EFS creates the mount targets of one file system one at a time",
        find: earlier_mount_targets,
    }],
};

/// The other mount targets of the same file system whose plan name sorts before this one.
fn earlier_mount_targets(view: &PlanView<'_>, res: &Resource) -> Vec<String> {
    view.matching(res, "efs:MountTarget", &[("file_system_id", "file_system_id")])
        .into_iter()
        .filter(|name| name.as_str() < res.name.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let mut out: Vec<String> = MOUNT_TARGET.implied.iter().flat_map(|i| (i.find)(&view, res)).collect();
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
}
