//! Drift: what changed in AWS behind ironplan's back. Every resource of the state is read
//! (`read_many` of its type: one describe of many IDs where AWS takes several, else `read` of
//! each; a few calls at a time, paced like every call) and each property ironplan set compared
//! with what AWS reports.
//!
//! **Invariant:** only what the plan set is compared: a table by the keys the plan gave (AWS
//! adds defaults; another tool may add tags), numbers by value (`4` and `4.0`), lists item by
//! item. A sensitive value, stored as a digest, is never compared and never printed.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use super::Provider;
use crate::aws::{Item, Read};
use crate::schema;
use crate::state::{ResourceState, State, Status};

/// How many reads (each of one resource, or of a batch) are in flight at once (the SDK's token
/// buckets pace them further).
const READS_IN_FLIGHT: usize = 8;

/// What one resource looks like against the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    InSync,
    Drifted,
    /// AWS no longer has it.
    Deleted,
    /// The read failed: nothing is known.
    Unknown,
    /// A run did not finish with it (`creating`, `deleting`...): `deploy` or `teardown` resumes.
    Unfinished,
}

/// One property that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drifted {
    pub property: String,
    /// What ironplan set.
    pub expected: Value,
    /// What AWS reports.
    pub actual: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceDrift {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub id: String,
    pub verdict: Verdict,
    pub properties: Vec<Drifted>,
    /// The failed read: operation, code and message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The stack against AWS.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DriftReport {
    pub stack: String,
    pub resources: Vec<ResourceDrift>,
}

impl DriftReport {
    /// Something differs or is gone.
    pub fn drifted(&self) -> bool {
        self.resources.iter().any(|r| matches!(r.verdict, Verdict::Drifted | Verdict::Deleted))
    }

    /// Some read failed.
    pub fn incomplete(&self) -> bool {
        self.resources.iter().any(|r| r.verdict == Verdict::Unknown)
    }

    pub fn count(&self, v: Verdict) -> usize {
        self.resources.iter().filter(|r| r.verdict == v).count()
    }
}

/// Reads every resource of `state` and compares it with what ironplan recorded. The `ready`
/// ones are read by type, in batches of what one call of that type's describe takes
/// ([`Provider::read_batch`]), [`READS_IN_FLIGHT`] batches at once. A batch whose call failed
/// leaves each of its resources [`Verdict::Unknown`] with that error (after the SDK's
/// retries): they are not read again one by one, which would only multiply the calls to an
/// API that is throttling or refusing. The reads run on [`Provider::for_reads`]: a call whose
/// answer serves several types (API Gateway's GetResources) is made once in the run.
pub async fn drift(cloud: Arc<dyn Provider>, state: &State) -> DriftReport {
    // One run's shared answers (a call that serves several types is made once), dropped with
    // it; told what the run reads, so that one call can serve types before they ask.
    let run: Vec<(&str, Item<'_>)> = (state.resources.values())
        .filter(|r| r.status == Status::Ready)
        .map(|r| (r.type_name.as_str(), (r.id.as_str(), &r.outputs)))
        .collect();
    let cloud = cloud.for_reads(&run).unwrap_or(cloud);
    let sem = Arc::new(tokio::sync::Semaphore::new(READS_IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    let mut results: BTreeMap<String, ResourceDrift> = BTreeMap::new();
    let mut by_type: BTreeMap<&str, Vec<(&String, &ResourceState)>> = BTreeMap::new();
    for (name, r) in &state.resources {
        if r.status == Status::Ready {
            by_type.entry(r.type_name.as_str()).or_default().push((name, r));
            continue;
        }
        let mut rd = ResourceDrift::new(name, r);
        rd.verdict = Verdict::Unfinished;
        results.insert(name.clone(), rd);
    }
    for (type_name, resources) in by_type {
        for chunk in resources.chunks(cloud.read_batch(type_name).max(1)) {
            let chunk: Vec<(String, ResourceState)> = chunk.iter().map(|(n, r)| ((*n).clone(), (*r).clone())).collect();
            let (cloud, sem, type_name) = (cloud.clone(), sem.clone(), type_name.to_string());
            tasks.spawn(async move {
                let _permit = sem.acquire_owned().await;
                let items: Vec<Item<'_>> = chunk.iter().map(|(_, r)| (r.id.as_str(), &r.outputs)).collect();
                let answers = cloud.read_many(&type_name, &items).await;
                chunk
                    .iter()
                    .zip(answers)
                    .map(|((name, r), answer)| verdict(ResourceDrift::new(name, r), r, answer))
                    .collect::<Vec<_>>()
            });
        }
    }
    while let Some(done) = tasks.join_next().await {
        for rd in done.into_iter().flatten() {
            results.insert(rd.name.clone(), rd);
        }
    }
    // A batch whose task panicked answered nothing: its resources are unknown, not left out.
    for (name, r) in &state.resources {
        results.entry(name.clone()).or_insert_with(|| ResourceDrift {
            verdict: Verdict::Unknown,
            error: Some("the read did not finish".into()),
            ..ResourceDrift::new(name, r)
        });
    }
    DriftReport { stack: state.stack.clone(), resources: results.into_values().collect() }
}

impl ResourceDrift {
    /// `r`, in sync until a read says otherwise.
    fn new(name: &str, r: &ResourceState) -> Self {
        ResourceDrift {
            name: name.to_string(),
            type_name: r.type_name.clone(),
            id: r.id.clone(),
            verdict: Verdict::InSync,
            properties: Vec::new(),
            error: None,
        }
    }
}

/// What one read says of `r`.
fn verdict(mut rd: ResourceDrift, r: &ResourceState, answer: Read) -> ResourceDrift {
    match answer {
        Ok(None) => rd.verdict = Verdict::Deleted,
        Ok(Some(live)) => {
            rd.properties = compare(&r.type_name, &r.props, &live.props);
            if !rd.properties.is_empty() {
                rd.verdict = Verdict::Drifted;
            }
        }
        Err(e) => {
            rd.verdict = Verdict::Unknown;
            rd.error = Some(format!("{}: {}: {}", e.operation, e.code, e.message));
        }
    }
    rd
}

/// The state as AWS has it: a drifted property takes the value AWS reports (so that the diff
/// shows it changing back to the plan's), a resource deleted outside ironplan leaves the state
/// (so that deploy creates it again). What could not be read stays as recorded.
pub fn refreshed(state: &State, report: &DriftReport) -> State {
    let mut out = state.clone();
    for r in &report.resources {
        match r.verdict {
            Verdict::Deleted => {
                out.resources.remove(&r.name);
            }
            Verdict::Drifted => {
                if let Some(rec) = out.resources.get_mut(&r.name) {
                    for p in &r.properties {
                        rec.props.insert(p.property.clone(), p.actual.clone());
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The planned properties that AWS reports otherwise (sensitive ones left out).
pub fn compare(type_name: &str, planned: &Map<String, Value>, live: &Map<String, Value>) -> Vec<Drifted> {
    let spec = schema::find(type_name);
    let masked = |m: &Map<String, Value>| {
        let mut m = m.clone();
        if let Some(t) = spec {
            schema::mask_sensitive(t.props, &mut m, &mut |_, _| Value::String("(sensitive)".into()));
        }
        m
    };
    let (planned, live) = (masked(planned), masked(live));
    planned
        .iter()
        .filter_map(|(k, want)| {
            let got = live.get(k)?;
            (!covers(got, want)).then(|| Drifted { property: k.clone(), expected: want.clone(), actual: got.clone() })
        })
        .collect()
}

/// The live value says what the plan said: numbers by value, tables by the keys the plan set,
/// lists item by item.
pub fn covers(live: &Value, planned: &Value) -> bool {
    match (live, planned) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| covers(x, y)),
        (Value::Object(x), Value::Object(y)) => y.iter().all(|(k, v)| x.get(k).is_some_and(|w| covers(w, v))),
        _ => live == planned,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_what_the_plan_set_is_compared() {
        let planned = json!({"retention_in_days": 30, "tags": {"ironplan:stack": "s"}, "kms_key_id": "k"});
        let live = json!({"retention_in_days": 30.0, "tags": {"ironplan:stack": "s", "Extra": "x"}, "other": 1});
        let (p, l) = (planned.as_object().cloned().unwrap_or_default(), live.as_object().cloned().unwrap_or_default());
        assert!(compare("logs:LogGroup", &p, &l).is_empty(), "numbers by value, extra keys and tags ignored");

        let live = json!({"retention_in_days": 7, "tags": {"ironplan:stack": "other"}});
        let l = live.as_object().cloned().unwrap_or_default();
        let d = compare("logs:LogGroup", &p, &l);
        assert_eq!(d.iter().map(|d| d.property.as_str()).collect::<Vec<_>>(), ["retention_in_days", "tags"]);
        assert_eq!(d[0].actual, json!(7));
    }

    #[test]
    fn a_list_with_an_extra_item_differs() {
        let want = json!([{"from_port": 443}]);
        assert!(covers(&json!([{"from_port": 443, "ip_protocol": "tcp"}]), &want));
        assert!(!covers(&json!([{"from_port": 443}, {"from_port": 22}]), &want));
    }

    #[test]
    fn sensitive_values_are_neither_compared_nor_shown() {
        let planned =
            json!({"container_definitions": [{"name": "app", "environment": [{"name": "T", "value": "sha256:aa"}]}]});
        let live =
            json!({"container_definitions": [{"name": "app", "environment": [{"name": "T", "value": "s3cr3t"}]}]});
        let (p, l) = (planned.as_object().cloned().unwrap_or_default(), live.as_object().cloned().unwrap_or_default());
        let d = compare("ecs:TaskDefinition", &p, &l);
        assert!(d.is_empty(), "{d:?}");
    }
}
