//! A fake cloud for the engine's unit tests: resources live in memory, keyed by the identity
//! tags their create carried; each step takes the type's typical duration on tokio's paused
//! clock; faults fail chosen calls of chosen resources with chosen error kinds. Every call is
//! logged, so a test can assert what was called, for which resource, in which order.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::Provider;
use crate::aws::{AwsError, Created, ErrorKind, Found, Identity, Outputs};
use crate::schema::{RESOURCE_TAG, STACK_TAG};

/// One call the engine made: the operation and the plan resource it was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub op: &'static str,
    pub resource: String,
}

/// Fails the next `times` calls of `op` for `resource` with an error of `kind`.
#[derive(Debug, Clone)]
pub struct Fault {
    pub op: &'static str,
    pub resource: String,
    pub kind: ErrorKind,
    pub times: u32,
}

#[derive(Debug, Default)]
struct Cloud {
    next: u64,
    /// ID → (type, stack, plan resource).
    live: BTreeMap<String, (String, String, String)>,
    /// ID → plan resource, also after a delete (for the log of a wait).
    names: BTreeMap<String, String>,
    calls: Vec<Call>,
    faults: Vec<Fault>,
    /// ID → the properties the updates set.
    props: BTreeMap<String, Map<String, Value>>,
    /// How many resources one `read_many` call reads (0: one, as without batched reads).
    read_batch: usize,
}

/// The fake cloud; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Fake(Arc<Mutex<Cloud>>);

impl Fake {
    fn cloud(&self) -> std::sync::MutexGuard<'_, Cloud> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads `n` resources of a type in one `ReadMany` call.
    pub fn batch_reads(&self, n: usize) {
        self.cloud().read_batch = n;
    }

    pub fn fail(&self, op: &'static str, resource: &str, kind: ErrorKind, times: u32) {
        self.cloud().faults.push(Fault { op, resource: resource.into(), kind, times });
    }

    /// A resource that exists without this run having made it (a dead run's create that
    /// landed, or a look-alike of another stack): returns its ID.
    pub fn put(&self, type_name: &str, stack: &str, resource: &str) -> String {
        let mut c = self.cloud();
        c.next += 1;
        let id = format!("fake-{}", c.next);
        c.live.insert(id.clone(), (type_name.into(), stack.into(), resource.into()));
        c.names.insert(id.clone(), resource.into());
        id
    }

    /// The properties the updates set on the resource `resource`.
    pub fn props_of(&self, resource: &str) -> Map<String, Value> {
        let c = self.cloud();
        let id = c.names.iter().find(|(_, r)| *r == resource).map(|(id, _)| id.clone()).unwrap_or_default();
        c.props.get(&id).cloned().unwrap_or_default()
    }

    pub fn calls(&self) -> Vec<Call> {
        self.cloud().calls.clone()
    }

    /// The calls of `op`, as plan resource names, in order.
    pub fn calls_of(&self, op: &str) -> Vec<String> {
        self.calls().into_iter().filter(|c| c.op == op).map(|c| c.resource).collect()
    }

    /// The plan resources that exist, sorted.
    pub fn live(&self) -> Vec<String> {
        let mut v: Vec<String> = self.cloud().live.values().map(|(_, _, r)| r.clone()).collect();
        v.sort();
        v
    }

    fn resource_of_id(&self, id: &str) -> String {
        self.cloud().names.get(id).cloned().unwrap_or_else(|| id.to_string())
    }

    /// Logs the call; fails it if a fault says so.
    fn call(&self, op: &'static str, resource: &str) -> Result<(), AwsError> {
        let mut c = self.cloud();
        c.calls.push(Call { op, resource: resource.into() });
        let Some(f) = c.faults.iter_mut().find(|f| f.op == op && f.resource == resource && f.times > 0) else {
            return Ok(());
        };
        f.times -= 1;
        Err(AwsError {
            operation: op,
            code: format!("Injected{:?}", f.kind),
            message: "injected by the test".into(),
            kind: f.kind,
            hint: None,
        })
    }
}

fn tag<'a>(props: &'a Map<String, Value>, key: &str) -> &'a str {
    props.get("tags").and_then(|t| t.get(key)).and_then(Value::as_str).unwrap_or_default()
}

pub fn outputs(id: &str) -> Outputs {
    let Value::Object(m) = json!({"id": id, "arn": format!("arn:fake:{id}")}) else { unreachable!() };
    m
}

#[async_trait]
impl Provider for Fake {
    fn region(&self) -> &str {
        "us-east-1"
    }

    fn account_id(&self) -> &str {
        "123456789012"
    }

    async fn create(&self, type_name: &str, props: Map<String, Value>) -> Result<Created, AwsError> {
        let resource = tag(&props, RESOURCE_TAG);
        self.call("Create", resource)?;
        let id = self.put(type_name, tag(&props, STACK_TAG), resource);
        Ok(Created { outputs: outputs(&id), id })
    }

    async fn find(&self, type_name: &str, props: Map<String, Value>, who: &Identity) -> Result<Found, AwsError> {
        self.call("Find", &who.resource)?;
        let _ = props;
        let c = self.cloud();
        let hit = c.live.iter().find(|(_, (t, _, r))| t == type_name && *r == who.resource);
        Ok(match hit {
            None => Found::Nothing,
            Some((id, (_, stack, _))) if *stack == who.stack => {
                Found::Ours { created: Created { id: id.clone(), outputs: outputs(id) }, proof: "fake tags".into() }
            }
            Some((id, (_, stack, _))) => {
                Found::NotOurs { id: id.clone(), why: format!("it belongs to stack `{stack}`") }
            }
        })
    }

    async fn ready(&self, _type_name: &str, id: &str, out: &Outputs, expected: Duration) -> Result<Outputs, AwsError> {
        self.call("Ready", &self.resource_of_id(id))?;
        tokio::time::sleep(expected).await;
        Ok(out.clone())
    }

    async fn update(
        &self,
        _type_name: &str,
        id: &str,
        out: &Outputs,
        props: Map<String, Value>,
        changed: &[String],
    ) -> Result<Outputs, AwsError> {
        let resource = self.resource_of_id(id);
        self.call("Update", &resource)?;
        let mut c = self.cloud();
        let live = c.props.entry(id.to_string()).or_default();
        for k in changed {
            live.insert(k.clone(), props.get(k).cloned().unwrap_or(Value::Null));
        }
        Ok(out.clone())
    }

    async fn read(&self, _type_name: &str, id: &str, out: &Outputs) -> Result<Option<crate::aws::Live>, AwsError> {
        self.call("Read", &self.resource_of_id(id))?;
        let c = self.cloud();
        Ok(c.live
            .contains_key(id)
            .then(|| crate::aws::Live { props: c.props.get(id).cloned().unwrap_or_default(), outputs: out.clone() }))
    }

    fn read_batch(&self, _type_name: &str) -> usize {
        self.cloud().read_batch.max(1)
    }

    /// One `ReadMany` call, logged for the batch's first resource (a fault on it fails the
    /// whole batch).
    async fn read_many(&self, _type_name: &str, items: &[crate::aws::Item<'_>]) -> Vec<crate::aws::Read> {
        let first = items.first().map(|(id, _)| self.resource_of_id(id)).unwrap_or_default();
        if let Err(e) = self.call("ReadMany", &first) {
            return items.iter().map(|_| Err(e.clone())).collect();
        }
        let c = self.cloud();
        let live = |id: &str, out: &Outputs| crate::aws::Live {
            props: c.props.get(id).cloned().unwrap_or_default(),
            outputs: out.clone(),
        };
        items.iter().map(|(id, out)| Ok(c.live.contains_key(*id).then(|| live(id, out)))).collect()
    }

    async fn delete(&self, _type_name: &str, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        let resource = self.resource_of_id(id);
        self.call("Delete", &resource)?;
        self.cloud().live.remove(id);
        Ok(())
    }

    async fn wait_deleted(
        &self,
        _type_name: &str,
        id: &str,
        _out: &Outputs,
        expected: Duration,
    ) -> Result<(), AwsError> {
        self.call("WaitDeleted", &self.resource_of_id(id))?;
        tokio::time::sleep(expected).await;
        Ok(())
    }
}
