//! References, resolved against the state: a plan value with every `${...}` substituted, a
//! resource's resolved properties (tags merged), what changed since a resource was created,
//! and the masking of sensitive values before anything is stored.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{Shared, lock};
use crate::aws::Outputs;
use crate::check::Checked;
use crate::plan::{Node, NodeKind, Part, Ref};
use crate::schema::{self, MANAGED_BY_TAG, RESOURCE_TAG, STACK_TAG};
use crate::state::StateError;

/// What references resolve against.
pub struct Scope<'a> {
    pub outputs: &'a dyn Fn(&str) -> Option<&'a Outputs>,
    pub vars: &'a BTreeMap<String, String>,
    pub region: &'a str,
    pub account_id: &'a str,
}

/// A plan value with every reference replaced by its value. A string that is exactly one
/// reference takes the referenced value as is (a list stays a list).
pub fn resolve(node: &Node, scope: &Scope<'_>) -> Result<Value, String> {
    Ok(match &node.kind {
        NodeKind::Str(t) => {
            if let Some(r) = t.as_single_ref() {
                return lookup(r, scope);
            }
            let mut out = String::new();
            for p in &t.parts {
                match p {
                    Part::Lit(s) => out.push_str(s),
                    Part::Ref(r, _) => match lookup(r, scope)? {
                        Value::String(s) => out.push_str(&s),
                        other => out.push_str(&other.to_string()),
                    },
                }
            }
            Value::String(out)
        }
        NodeKind::Int(i) => Value::from(*i),
        NodeKind::Float(f) => Value::from(*f),
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::List(items) => Value::Array(items.iter().map(|n| resolve(n, scope)).collect::<Result<_, _>>()?),
        NodeKind::Table(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, n)| Ok((k.name.clone(), resolve(n, scope)?)))
                .collect::<Result<Map<_, _>, String>>()?,
        ),
    })
}

fn lookup(r: &Ref, scope: &Scope<'_>) -> Result<Value, String> {
    match r {
        Ref::Resource { name, attr } => {
            let outs = (scope.outputs)(name).ok_or_else(|| format!("{r}: `{name}` has not been created"))?;
            outs.get(attr).cloned().ok_or_else(|| format!("{r}: `{name}` has no output `{attr}` yet"))
        }
        Ref::Var(v) => scope.vars.get(v).map(|s| Value::String(s.clone())).ok_or_else(|| format!("{r}: no value")),
        Ref::Region => Ok(Value::String(scope.region.to_string())),
        Ref::AccountId => Ok(Value::String(scope.account_id.to_string())),
    }
}

/// The resolved properties of a plan resource, tags merged for taggable types.
pub(super) fn resolved_props(
    s: &Shared,
    res: &crate::plan::Resource,
    state: &crate::state::State,
) -> Result<Map<String, Value>, String> {
    resolve_resource(&s.checked, res, state, s.cloud.region(), s.cloud.account_id())
}

/// The resolved properties of a plan resource against `state`, tags merged for taggable types.
fn resolve_resource(
    checked: &Checked,
    res: &crate::plan::Resource,
    state: &crate::state::State,
    region: &str,
    account_id: &str,
) -> Result<Map<String, Value>, String> {
    let outputs = |n: &str| state.resources.get(n).map(|r| &r.outputs);
    resolve_with(checked, res, &outputs, region, account_id)
}

/// The resolved properties of a plan resource, references looked up in `outputs`, tags merged
/// for taggable types.
pub(crate) fn resolve_with<'a>(
    checked: &'a Checked,
    res: &crate::plan::Resource,
    outputs: &'a dyn Fn(&str) -> Option<&'a Outputs>,
    region: &'a str,
    account_id: &'a str,
) -> Result<Map<String, Value>, String> {
    let scope = Scope { outputs, vars: &checked.vars, region, account_id };
    let mut props = Map::new();
    for (k, node) in &res.props {
        props.insert(k.name.clone(), resolve(node, &scope)?);
    }
    if checked.type_of(&res.name).is_some_and(|t| t.taggable) {
        let mut tags = Map::new();
        for (k, node) in &checked.plan.default_tags {
            tags.insert(k.name.clone(), resolve(node, &scope)?);
        }
        if let Some(Value::Object(own)) = props.remove("tags") {
            tags.extend(own);
        }
        tags.insert(MANAGED_BY_TAG.into(), Value::String("ironplan".into()));
        tags.insert(STACK_TAG.into(), Value::String(checked.stack()));
        tags.insert(RESOURCE_TAG.into(), Value::String(res.name.clone()));
        props.insert("tags".into(), Value::Object(tags));
    }
    Ok(props)
}

/// Sensitive values are never stored: only a digest of each, salted with the stack and the
/// value's path (so that a change is still seen, and equal values of two stacks differ).
pub(crate) fn redact(t: Option<&schema::TypeSpec>, stack: &str, mut props: Map<String, Value>) -> Map<String, Value> {
    if let Some(t) = t {
        schema::mask_sensitive(t.props, &mut props, &mut |path, v| Value::String(digest(stack, path, v)));
    }
    props
}

/// `sha256:` and the hex digest of stack, path and value.
fn digest(stack: &str, path: &str, v: &Value) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [stack.as_bytes(), b"\0", path.as_bytes(), b"\0", v.to_string().as_bytes()] {
        h.update(part);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

pub(super) fn resolve_outputs(s: &Shared) -> Result<BTreeMap<String, Value>, StateError> {
    let store = lock(&s.store);
    let state = store.state();
    let outputs = |n: &str| state.resources.get(n).map(|r| &r.outputs);
    let scope =
        Scope { outputs: &outputs, vars: &s.checked.vars, region: s.cloud.region(), account_id: s.cloud.account_id() };
    Ok(s.checked
        .plan
        .outputs
        .iter()
        .map(|(k, node)| {
            (k.name.clone(), resolve(node, &scope).unwrap_or_else(|e| Value::String(format!("(unknown: {e})"))))
        })
        .collect())
}
