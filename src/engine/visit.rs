//! One resource's step of a run: its create (or the adoption of what a dead run created), its
//! discovery, its delete. Each reports progress as events and records the state before and
//! after each call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::event::{fail, not_ours, resource_error, state_err};
use super::resolve::{redact, resolved_props};
use super::retry::{ADOPT_GRACE, retry};
use super::{Event, ResourceError, Shared, Updated, lock};
use crate::aws::{AwsError, Found, Identity, Outputs};
use crate::plan::Ref;
use crate::state::{ResourceState, StateError, Status};
use serde_json::Value;

/// A type's typical duration on the run's time scale, for the waiter.
pub(super) fn expected(s: &Shared, secs: f64) -> Duration {
    Duration::from_secs_f64((secs * s.opts.time_scale).max(0.0))
}

pub(super) async fn create_one(s: &Arc<Shared>, name: &str) -> Result<(), ResourceError> {
    let t0 = Instant::now();
    let Some(t) = s.checked.type_of(name) else {
        return Err(ResourceError {
            resource: name.into(),
            type_name: String::new(),
            operation: "Plan".into(),
            code: "UnknownType".into(),
            message: "no type".into(),
            hint: None,
        });
    };
    let res = s
        .checked
        .plan
        .resource(name)
        .ok_or_else(|| resource_error(name, t.name, AwsError::input("Plan", "resource vanished")))?;
    let deps: Vec<String> = {
        let g = &s.checked.graph;
        g.index(name).map(|i| g.dependencies(i).map(|(d, _)| g.name(d).to_string()).collect()).unwrap_or_default()
    };
    // A teardown that died while deleting it may have stopped before its delete call: finish
    // the deletion before creating anew, or the old one would be left behind, untracked.
    let mut prior = lock(&s.store).state().resources.get(name).cloned();
    if prior.as_ref().is_some_and(|p| p.status == Status::Deleting) {
        delete_one(s, name).await?;
        prior = None;
    }
    if let Some(p) = prior.take_if(|p| matches!(p.status, Status::Ready | Status::Updating)) {
        return update_one(s, name, t, res, p).await;
    }
    // A run that died after the create call left the ID: wait for it rather than create again.
    let props = {
        let store = lock(&s.store);
        resolved_props(s, res, store.state()).map_err(|e| fail(s, name, t.name, AwsError::input("Resolve", e)))?
    };
    let record = |status, id: String, outputs: Outputs| ResourceState {
        type_name: t.name.to_string(),
        status,
        id,
        outputs,
        props: redact(Some(t), &s.checked.stack(), props.clone()),
        depends_on: deps.clone(),
        delete_secs: f64::from(t.delete_secs),
        run_id: s.run_id.clone(),
        previous: None,
    };
    let (id, outputs) = match prior {
        Some(p) if p.status == Status::Created => (p.id, p.outputs),
        prior => {
            // A run that died after recording its intent may have created it: adopt, don't duplicate.
            let who = Identity::new(s.checked.stack(), name);
            let adopted = if prior.is_some_and(|p| p.status == Status::Creating) {
                let find = || retry(s, name, || s.cloud.find(t.name, props.clone(), &who));
                match find().await.map_err(|e| fail(s, name, t.name, e))? {
                    Found::Nothing => {
                        // The dead run's create call may still be landing: look once more
                        // before creating, or the two would make a duplicate.
                        tokio::time::sleep(ADOPT_GRACE).await;
                        find().await.map_err(|e| fail(s, name, t.name, e))?
                    }
                    found => found,
                }
            } else {
                Found::Nothing
            };
            let created = match adopted {
                Found::Ours { created: c, proof } => {
                    let _ = s.events.send(Event::Adopted {
                        resource: name.into(),
                        type_name: t.name.into(),
                        id: c.id.clone(),
                        proof,
                    });
                    c
                }
                Found::NotOurs { id, why } => {
                    // What is there is not what the dead run made: its create never landed.
                    let _ = lock(&s.store).remove(name);
                    let what = format!("{} `{id}`", t.name);
                    return Err(fail(s, name, t.name, AwsError::not_ours("FindExisting", &what, &why)));
                }
                Found::Nothing => {
                    let _ = s.events.send(Event::Started { resource: name.into(), type_name: t.name.into() });
                    // The intent, with the names and tags the create will use, goes first.
                    lock(&s.store)
                        .record(name, record(Status::Creating, String::new(), Outputs::new()))
                        .map_err(|e| state_err(name, t.name, e))?;
                    let created = retry(s, name, || s.cloud.create(t.name, props.clone())).await;
                    match created {
                        Ok(c) => c,
                        Err(e) => {
                            // Nothing was created: forget the intent.
                            let _ = lock(&s.store).remove(name);
                            return Err(fail(s, name, t.name, e));
                        }
                    }
                }
            };
            lock(&s.store)
                .record(name, record(Status::Created, created.id.clone(), created.outputs.clone()))
                .map_err(|e| state_err(name, t.name, e))?;
            let _ = s.events.send(Event::Created {
                resource: name.into(),
                type_name: t.name.into(),
                id: created.id.clone(),
            });
            (created.id, created.outputs)
        }
    };
    let exp = expected(s, f64::from(t.create_secs));
    let ready =
        retry(s, name, || s.cloud.ready(t.name, &id, &outputs, exp)).await.map_err(|e| fail(s, name, t.name, e))?;
    {
        let mut store = lock(&s.store);
        let mut rec = store.state().resources.get(name).cloned().ok_or_else(|| {
            state_err(
                name,
                t.name,
                StateError::Corrupt { path: store.path().to_owned(), reason: format!("`{name}` vanished") },
            )
        })?;
        rec.status = Status::Ready;
        rec.outputs = ready;
        store.record(name, rec).map_err(|e| state_err(name, t.name, e))?;
    }
    let _ = s.events.send(Event::Ready {
        resource: name.into(),
        type_name: t.name.into(),
        id,
        elapsed_secs: t0.elapsed().as_secs_f64(),
    });
    Ok(())
}

/// Applies the plan's changed properties to a resource that exists, in place. The intent (new
/// properties, and the old ones in `previous`) is in the state before the call: a run killed
/// during it resumes the update, a rollback restores the old values.
async fn update_one(
    s: &Arc<Shared>,
    name: &str,
    t: &'static crate::schema::TypeSpec,
    res: &crate::plan::Resource,
    prior: ResourceState,
) -> Result<(), ResourceError> {
    let t0 = Instant::now();
    let props = {
        let store = lock(&s.store);
        resolved_props(s, res, store.state()).map_err(|e| fail(s, name, t.name, AwsError::input("Resolve", e)))?
    };
    let new = redact(Some(t), &s.checked.stack(), props.clone());
    let old = prior.previous.clone().unwrap_or_else(|| prior.props.clone());
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let changed: Vec<String> = keys.into_iter().filter(|k| old.get(*k) != new.get(*k)).cloned().collect();
    if changed.is_empty() {
        if prior.status == Status::Updating {
            let rec = ResourceState { status: Status::Ready, previous: None, props: new, ..prior.clone() };
            lock(&s.store).record(name, rec).map_err(|e| state_err(name, t.name, e))?;
        }
        lock(&s.untouched).push(name.to_string());
        let _ = s.events.send(Event::Exists { resource: name.into(), type_name: t.name.into(), id: prior.id });
        return Ok(());
    }
    let intent =
        ResourceState { status: Status::Updating, previous: Some(old.clone()), props: new.clone(), ..prior.clone() };
    lock(&s.store).record(name, intent.clone()).map_err(|e| state_err(name, t.name, e))?;
    lock(&s.updated).push(Updated { name: name.to_string(), changed: changed.clone(), old });
    let _ = s.events.send(Event::Updating {
        resource: name.into(),
        type_name: t.name.into(),
        id: prior.id.clone(),
        properties: changed.clone(),
    });
    let outputs = retry(s, name, || s.cloud.update(t.name, &prior.id, &prior.outputs, props.clone(), &changed))
        .await
        .map_err(|e| fail(s, name, t.name, e))?;
    let rec = ResourceState { status: Status::Ready, previous: None, outputs, ..intent };
    lock(&s.store).record(name, rec).map_err(|e| state_err(name, t.name, e))?;
    let _ = s.events.send(Event::Updated {
        resource: name.into(),
        type_name: t.name.into(),
        id: prior.id,
        elapsed_secs: t0.elapsed().as_secs_f64(),
    });
    Ok(())
}

/// Puts the old values back on a resource this run updated (the rollback of an update): the
/// plan's properties with the changed ones as the state recorded them before. A sensitive old
/// value is only a digest in the state: that resource is left as it is, and said so.
pub(super) async fn restore_one(s: &Arc<Shared>, u: &Updated) -> Result<bool, ResourceError> {
    let (name, changed, old) = (u.name.as_str(), u.changed.as_slice(), u.old.clone());
    let Some(rec) = lock(&s.store).state().resources.get(name).cloned() else { return Ok(false) };
    let (Some(t), Some(res)) = (s.checked.type_of(name), s.checked.plan.resource(name)) else { return Ok(false) };
    let mut props = {
        let store = lock(&s.store);
        resolved_props(s, res, store.state()).map_err(|e| fail(s, name, t.name, AwsError::input("Resolve", e)))?
    };
    for k in changed {
        let mut one = serde_json::Map::new();
        one.insert(k.clone(), old.get(k).cloned().unwrap_or(Value::Null));
        let mut secret = false;
        crate::schema::mask_sensitive(t.props, &mut one, &mut |_, v| {
            secret = true;
            v.clone()
        });
        if secret {
            return Ok(false);
        }
        match old.get(k) {
            Some(v) => props.insert(k.clone(), v.clone()),
            None => props.remove(k),
        };
    }
    let _ = s.events.send(Event::Updating {
        resource: name.into(),
        type_name: t.name.into(),
        id: rec.id.clone(),
        properties: changed.to_vec(),
    });
    let outputs = retry(s, name, || s.cloud.update(t.name, &rec.id, &rec.outputs, props.clone(), changed))
        .await
        .map_err(|e| fail(s, name, t.name, e))?;
    let back = ResourceState { status: Status::Ready, previous: None, props: old, outputs, ..rec.clone() };
    lock(&s.store).record(name, back).map_err(|e| state_err(name, t.name, e))?;
    let _ = s.events.send(Event::Updated {
        resource: name.into(),
        type_name: t.name.into(),
        id: rec.id,
        elapsed_secs: 0.0,
    });
    Ok(true)
}

/// The attributes of `name` that the plan's other resources and outputs reference.
fn referenced_attrs(plan: &crate::plan::Plan, name: &str) -> std::collections::BTreeSet<String> {
    plan.resources
        .iter()
        .flat_map(|r| r.props.iter().map(|(_, n)| n))
        .chain(plan.outputs.iter().map(|(_, n)| n))
        .flat_map(|n| n.refs())
        .filter_map(|(r, _)| match r {
            Ref::Resource { name: n, attr } if n == name => Some(attr.clone()),
            _ => None,
        })
        .collect()
}

/// Finds one plan resource in AWS and records it. Never fails the walk: what cannot be found
/// (or resolved, because what it references was not found) is simply not there.
pub(super) async fn discover_one(s: &Arc<Shared>, name: &str) -> Result<(), ResourceError> {
    if lock(&s.store).state().resources.contains_key(name) {
        return Ok(());
    }
    let (Some(t), Some(res)) = (s.checked.type_of(name), s.checked.plan.resource(name)) else { return Ok(()) };
    let Ok(props) = resolved_props(s, res, lock(&s.store).state()) else { return Ok(()) };
    let who = Identity::new(s.checked.stack(), name);
    let found = retry(s, name, || s.cloud.find(t.name, props.clone(), &who)).await;
    let (created, proof) = match found {
        Ok(Found::Ours { created, proof }) => (created, proof),
        Ok(Found::Nothing) => return Ok(()),
        Ok(Found::NotOurs { id, why }) => {
            not_ours(s, name, t.name, &id, &why);
            return Ok(());
        }
        Err(e) => {
            fail(s, name, t.name, e);
            return Ok(());
        }
    };
    let mut created = created;
    // Some attributes only exist once the resource is ready (an ARN read back by `wait_ready`):
    // if what references it needs one, wait for it as a deploy would have.
    let needed = referenced_attrs(&s.checked.plan, name);
    if needed.iter().any(|a| !created.outputs.contains_key(a)) {
        let exp = expected(s, f64::from(t.create_secs));
        match retry(s, name, || s.cloud.ready(t.name, &created.id, &created.outputs, exp)).await {
            Ok(outputs) => created.outputs = outputs,
            Err(e) => {
                fail(s, name, t.name, e);
            }
        }
    }
    let deps = s
        .checked
        .graph
        .index(name)
        .map(|i| s.checked.graph.dependencies(i).map(|(d, _)| s.checked.graph.name(d).to_string()).collect())
        .unwrap_or_default();
    let rec = ResourceState {
        type_name: t.name.to_string(),
        status: Status::Ready,
        id: created.id.clone(),
        outputs: created.outputs,
        props: redact(Some(t), &s.checked.stack(), props),
        depends_on: deps,
        delete_secs: f64::from(t.delete_secs),
        run_id: s.run_id.clone(),
        previous: None,
    };
    lock(&s.store).record(name, rec).map_err(|e| state_err(name, t.name, e))?;
    let _ = s.events.send(Event::Adopted { resource: name.into(), type_name: t.name.into(), id: created.id, proof });
    Ok(())
}

pub(super) async fn delete_one(s: &Arc<Shared>, name: &str) -> Result<(), ResourceError> {
    let t0 = Instant::now();
    let Some(mut rec) = lock(&s.store).state().resources.get(name).cloned() else { return Ok(()) };
    let type_name = rec.type_name.clone();
    if rec.id.is_empty() {
        // Only the intent was recorded: the run died around the create call. If AWS has it
        // (proven ours), delete it too; otherwise there is nothing of ours to delete.
        let stack = lock(&s.store).state().stack.clone();
        let who = Identity::new(stack, name);
        let found = retry(s, name, || s.cloud.find(&type_name, rec.props.clone(), &who))
            .await
            .map_err(|e| fail(s, name, &type_name, e))?;
        match found {
            Found::Ours { created, .. } => {
                rec.id = created.id;
                rec.outputs = created.outputs;
            }
            Found::NotOurs { id, why } => {
                not_ours(s, name, &type_name, &id, &why);
                lock(&s.store).remove(name).map_err(|e| state_err(name, &type_name, e))?;
                return Ok(());
            }
            Found::Nothing => {
                lock(&s.store).remove(name).map_err(|e| state_err(name, &type_name, e))?;
                return Ok(());
            }
        }
    }
    let _ = s.events.send(Event::Deleting { resource: name.into(), type_name: type_name.clone(), id: rec.id.clone() });
    let before = rec.clone();
    rec.status = Status::Deleting;
    lock(&s.store).record(name, rec.clone()).map_err(|e| state_err(name, &type_name, e))?;
    if let Err(e) = retry(s, name, || s.cloud.delete(&type_name, &rec.id, &rec.outputs)).await {
        // AWS refused the delete (a bucket that is not empty): the resource is there as it was,
        // and so is its entry, so that a deploy can change it (force_destroy) before the next
        // teardown. A delete that may have landed (throttled, timed out) stays `deleting`.
        if e.kind == crate::aws::ErrorKind::Fatal {
            lock(&s.store).record(name, before).map_err(|e| state_err(name, &type_name, e))?;
        }
        return Err(fail(s, name, &type_name, e));
    }
    let exp = expected(s, rec.delete_secs);
    retry(s, name, || s.cloud.wait_deleted(&type_name, &rec.id, &rec.outputs, exp))
        .await
        .map_err(|e| fail(s, name, &type_name, e))?;
    lock(&s.store).remove(name).map_err(|e| state_err(name, &type_name, e))?;
    let _ =
        s.events.send(Event::Deleted { resource: name.into(), type_name, elapsed_secs: t0.elapsed().as_secs_f64() });
    Ok(())
}
