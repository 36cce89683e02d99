//! Helpers shared by the adapters' tests against moto.

use serde_json::{Value, json};

use super::{Created, Ctx, Props};
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

/// The identity a test's props are adopted as: their identity tags, or stack `s-dev` for the
/// types that carry none (their parent must then be `s-dev`'s).
pub fn who(v: &Value) -> super::Identity {
    let tag = |k: &str| v.get("tags").and_then(|t| t.get(k)).and_then(Value::as_str);
    match (tag("ironplan:stack"), tag("ironplan:resource")) {
        (Some(stack), Some(resource)) => super::Identity::new(stack, resource),
        _ => super::Identity::new("s-dev", "untagged"),
    }
}

/// Adopts `v` as [`who`] says, panicking on an AWS error.
pub async fn find(ctx: &Ctx, ty: &str, v: &Value) -> super::Found {
    super::adopt(ctx, ty, &mut props(v.clone()), &who(v)).await.unwrap_or_else(|e| panic!("adopt {ty}: {e}"))
}

/// Asserts that `found` is a look-alike left alone, and that the reason says `why`.
pub fn assert_not_ours(found: &super::Found, why: &str) {
    match found {
        super::Found::NotOurs { why: got, .. } => assert!(got.contains(why), "expected `{why}` in: {got}"),
        other => panic!("a look-alike was not refused ({why}): {other:?}"),
    }
}

/// `read` of the resource gives back what the plan said: every property `read` reports equals
/// the planned value (tags as a table, numbers as numbers), and it reports at least one.
pub async fn assert_reads_back(ctx: &Ctx, ty: &str, planned: &Value, id: &str, outputs: &super::Outputs) {
    let live = super::read(ctx, ty, id, outputs)
        .await
        .unwrap_or_else(|e| panic!("read {ty}: {e}"))
        .unwrap_or_else(|| panic!("read {ty}: {id} is gone"));
    assert!(!live.props.is_empty(), "{ty}: read reported no property");
    for (k, v) in &live.props {
        assert_eq!(Some(v), planned.get(k), "{ty}.{k}: read back {v}, planned {:?}", planned.get(k));
    }
}

/// Updates the resource `id` to `planned` (the properties `changed` in place) and asserts that
/// it then reads back as `planned` ([`assert_reads_back`]); returns the new outputs.
pub async fn assert_updates(
    ctx: &Ctx,
    ty: &str,
    id: &str,
    outputs: &super::Outputs,
    planned: &Value,
    changed: &[&str],
) -> super::Outputs {
    let changed: Vec<String> = changed.iter().map(|c| c.to_string()).collect();
    let out = super::update(ctx, ty, id, outputs, &mut props(planned.clone()), &changed)
        .await
        .unwrap_or_else(|e| panic!("update {ty} ({}): {e}", changed.join(", ")));
    assert_reads_back(ctx, ty, planned, id, &out).await;
    out
}

/// `read_many` of `made` (some deleted since) answers, in their order, what `read` answers of
/// each: the batched and the single read cannot disagree. The type must have a batched read,
/// and `made` must hold one resource that exists and one that is gone.
pub async fn assert_reads_many(ctx: &Ctx, ty: &str, made: &[Created]) {
    assert!(super::read_batch(ty) > 1, "{ty} has no batched read");
    let items: Vec<super::Item<'_>> = made.iter().map(|c| (c.id.as_str(), &c.outputs)).collect();
    let many = super::read_many(ctx, ty, &items).await;
    assert_eq!(many.len(), made.len(), "{ty}: one answer per resource");
    let (mut live, mut gone) = (0, 0);
    for (c, got) in made.iter().zip(many) {
        let got = got.unwrap_or_else(|e| panic!("read_many {ty}: {e}"));
        let one = super::read(ctx, ty, &c.id, &c.outputs).await.unwrap_or_else(|e| panic!("read {ty}: {e}"));
        assert_eq!(got, one, "{ty} {}: read_many and read disagree", c.id);
        if got.is_some() { live += 1 } else { gone += 1 }
    }
    assert!(live > 0 && gone > 0, "{ty}: {live} live and {gone} gone: the test needs both");
}
