//! `efs:*` types: an EFS file system and its mount targets (one per availability zone).
//!
//! A mount target holds a network interface in its subnet: its deletion is only over once
//! DescribeMountTargets no longer knows it, and only then can the subnet, the security groups
//! and the file system go (their references to them already say so).
//!
//! Shared here: the service's "not there" codes, tags, and the life cycle states both types
//! go through.

mod file_system;
pub(crate) mod mount_target;

use aws_sdk_efs::types::{FileSystemDescription, LifeCycleState, Tag};

use super::adapter::{Adapter, Type};
use super::{AwsError, Ctx, ErrorKind, found, poll, sdk_err};
use crate::schema::NameRule;

pub(super) const TYPES: &[&dyn Adapter] =
    &[&Type::<file_system::FileSystem>::NEW, &Type::<mount_target::MountTarget>::NEW];

/// How EFS says "it is not there".
const NOT_FOUND: &[&str] = &["FileSystemNotFound", "MountTargetNotFound"];

/// "A string of up to 64 ASCII characters" (printable ones: ironplan refuses control characters).
pub const CREATION_TOKEN: NameRule =
    NameRule::new("EFS creation token", "CreateFileSystem CreationToken", 1, 64, " -~");

fn pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|t| (t.key(), t.value()))
}

/// On its way out, or out: what a lookup or a read no longer counts.
fn leaving(state: &LifeCycleState) -> bool {
    matches!(state, LifeCycleState::Deleting | LifeCycleState::Deleted)
}

/// The file system of ID `id`, if it exists.
async fn describe_file_system(ctx: &Ctx, id: &str) -> Result<Option<FileSystemDescription>, AwsError> {
    let r = ctx.efs.describe_file_systems().file_system_id(id).send().await;
    let r = found(r.map_err(|e| sdk_err("DescribeFileSystems", e)))?;
    Ok(r.and_then(|r| r.file_systems.unwrap_or_default().into_iter().next()))
}

/// The `error` state: the resource will not become available.
fn failed(operation: &'static str, what: &str) -> AwsError {
    AwsError {
        operation,
        code: "ResourceFailed".into(),
        message: format!("{what} is in state `error`"),
        kind: ErrorKind::Fatal,
        hint: None,
    }
}

/// Polls the life cycle state `state` reads until it is `available`. The `error` state, or
/// no such resource, ends the wait with a failure.
async fn wait_available<F, Fut>(ctx: &Ctx, operation: &'static str, what: &str, state: F) -> Result<(), AwsError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Option<LifeCycleState>, AwsError>>,
{
    poll(ctx, operation, &format!("{what} to change state"), || async {
        match state().await? {
            Some(LifeCycleState::Available) => Ok(Some(())),
            Some(LifeCycleState::Error) => Err(failed(operation, what)),
            Some(_) => Ok(None),
            None => Err(AwsError {
                operation,
                code: "NotFound".into(),
                message: format!("{what} does not exist"),
                kind: ErrorKind::NotFound,
                hint: None,
            }),
        }
    })
    .await
}

/// Gone: not found (the usual end) or `deleted`. The `error` state is a failure.
fn is_gone(operation: &'static str, what: &str, state: Option<LifeCycleState>) -> Result<bool, AwsError> {
    match state {
        None | Some(LifeCycleState::Deleted) => Ok(true),
        Some(LifeCycleState::Error) => Err(failed(operation, what)),
        Some(_) => Ok(false),
    }
}

#[cfg(test)]
mod testing {
    use crate::aws::Ctx;

    /// A VPC, one subnet and one security group in it: the subnet's and the group's IDs.
    pub async fn subnet(ctx: &Ctx) -> (String, String) {
        let vpc = ctx.ec2.create_vpc().cidr_block("10.9.0.0/16").send().await.expect("vpc");
        let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
        let subnet = ctx.ec2.create_subnet().vpc_id(&vpc_id).cidr_block("10.9.1.0/24").send().await.expect("subnet");
        let subnet_id = subnet.subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_string();
        let sg = ctx.ec2.create_security_group().group_name("nfs").description("d").vpc_id(vpc_id).send().await;
        (subnet_id, sg.expect("security group").group_id().expect("group id").to_string())
    }
}
