//! The service files not yet moved to one file per type: each of their types as an
//! [`Adapter`], so that the registry is the only way in while the move goes on. A service
//! leaves this file when its folder registers its types itself.

use async_trait::async_trait;

use super::adapter::{Adapter, Live};
use super::apigateway;
use super::applicationautoscaling;
use super::cloudwatch;
use super::ec2;
use super::ecs;
use super::iam;
use super::kinesis;
use super::kms;
use super::{AwsError, Created, Ctx, Found, Identity, NOT_FOUND_CODES, Outputs, Props};
use crate::schema::TypeSpec;

/// A type of a service file that has not moved yet.
pub(super) struct Legacy(pub &'static TypeSpec);

/// Every type of the services not yet moved.
pub(super) fn types() -> &'static [&'static dyn Adapter] {
    static TYPES: std::sync::OnceLock<Vec<&'static dyn Adapter>> = std::sync::OnceLock::new();
    TYPES.get_or_init(|| {
        crate::schema::legacy_types()
            .iter()
            .map(|t| {
                let a: &'static Legacy = Box::leak(Box::new(Legacy(t)));
                a as &'static dyn Adapter
            })
            .collect()
    })
}

macro_rules! dispatch {
    ($ty:expr, $f:ident ( $($arg:expr),* )) => {
        match $ty.split(':').next().unwrap_or("") {
            "apigateway" => apigateway::$f($($arg),*).await,
            "applicationautoscaling" => applicationautoscaling::$f($($arg),*).await,
            "cloudwatch" => cloudwatch::$f($($arg),*).await,
            "ec2" => ec2::$f($($arg),*).await,
            "ecs" => ecs::$f($($arg),*).await,
            "iam" => iam::$f($($arg),*).await,
            "kinesis" => kinesis::$f($($arg),*).await,
            "kms" => kms::$f($($arg),*).await,
            _ => Err(super::unknown_type($ty)),
        }
    };
}

#[async_trait]
impl Adapter for Legacy {
    fn spec(&self) -> &'static TypeSpec {
        self.0
    }

    fn not_found(&self) -> &'static [&'static str] {
        NOT_FOUND_CODES
    }

    async fn create(&self, ctx: &Ctx, props: &mut Props) -> Result<Created, AwsError> {
        let ty = self.0.name;
        dispatch!(ty, create(ctx, ty, props))
    }

    async fn find(&self, ctx: &Ctx, props: &mut Props, who: &Identity) -> Result<Found, AwsError> {
        let ty = self.0.name;
        dispatch!(ty, adopt(ctx, ty, props, who))
    }

    async fn ready(&self, ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        let ty = self.0.name;
        dispatch!(ty, wait_ready(ctx, ty, id, out))
    }

    async fn read(&self, _ctx: &Ctx, _id: &str, _out: &Outputs) -> Result<Option<Live>, AwsError> {
        Err(AwsError::input("Read", format!("{} has no `read` yet", self.0.name)))
    }

    async fn update(
        &self,
        _ctx: &Ctx,
        _id: &str,
        _out: &Outputs,
        _props: &mut Props,
        changed: &[String],
    ) -> Result<Outputs, AwsError> {
        Err(super::adapter::not_updatable(self.0.name, changed))
    }

    async fn delete(&self, ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError> {
        let ty = self.0.name;
        match dispatch!(ty, delete(ctx, ty, id, out)) {
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        }
    }

    async fn wait_deleted(&self, ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError> {
        let ty = self.0.name;
        match dispatch!(ty, wait_deleted(ctx, ty, id, out)) {
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        }
    }
}
