//! Helpers shared by the adapters' tests against moto.

use serde_json::{Value, json};

use super::{Connect, Ctx, Props};
use crate::emulator::Moto;

/// SDK clients on the emulator.
pub async fn ctx(moto: &Moto) -> Ctx {
    let connect = Connect { region: Some("us-east-1".into()), endpoint_url: Some(moto.endpoint()), profile: None };
    Ctx::new(&connect).await.expect("ctx")
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
