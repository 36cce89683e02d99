//! Adapter for `elasticache:*` types. (Not written yet.)

use super::{AwsError, Created, Ctx, Outputs, Props};

pub(super) async fn create(_ctx: &Ctx, ty: &str, _p: &mut Props) -> Result<Created, AwsError> {
    Err(AwsError::input("Create", format!("{ty} is not implemented")))
}

pub(super) async fn wait_ready(_ctx: &Ctx, ty: &str, _id: &str, _out: &Outputs) -> Result<Outputs, AwsError> {
    Err(AwsError::input("Wait", format!("{ty} is not implemented")))
}

pub(super) async fn delete(_ctx: &Ctx, ty: &str, _id: &str, _out: &Outputs) -> Result<(), AwsError> {
    Err(AwsError::input("Delete", format!("{ty} is not implemented")))
}

pub(super) async fn wait_deleted(_ctx: &Ctx, ty: &str, _id: &str, _out: &Outputs) -> Result<(), AwsError> {
    Err(AwsError::input("Wait", format!("{ty} is not implemented")))
}

/// Adoption after a crash is not written for this service yet: nothing is found, so a create
/// that AWS accepted but the state never recorded is created again.
pub(super) async fn adopt(_ctx: &Ctx, _ty: &str, _p: &mut Props) -> Result<Option<Created>, AwsError> {
    Ok(None)
}
