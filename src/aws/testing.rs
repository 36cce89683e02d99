//! Helpers shared by the adapters' tests against moto.

use serde_json::{Value, json};

use super::{Ctx, Props};
use crate::emulator::Moto;

/// SDK clients on the emulator, with the explicit emulator signal (`Ctx::emulator`).
pub async fn ctx(moto: &Moto) -> Ctx {
    let ctx = Ctx::new(&moto.connect()).await.expect("ctx");
    assert!(ctx.emulator, "the adapter tests run with the emulator signal");
    ctx
}

/// Properties from a JSON object.
pub fn props(v: Value) -> Props {
    let Value::Object(m) = v else { unreachable!("props are a JSON object") };
    Props::new(m)
}

/// The identity tags a create carries.
pub fn tags(stack: &str, resource: &str) -> Value {
    json!({"ironplan:stack": stack, "ironplan:resource": resource, "ManagedBy": "ironplan"})
}
