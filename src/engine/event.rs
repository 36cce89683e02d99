//! What a run reports: an [`Event`] per step of each resource (the `--output json` lines), and
//! the [`ResourceError`] of a resource that failed.

use serde::Serialize;

use super::{Shared, lock};
use crate::aws::AwsError;
use crate::state::StateError;

/// Progress of a run, one per step of one resource. Serialized as one JSON object per line
/// with `--output json` (a documented, stable schema: the `event` field names the variant).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The create call is being made.
    Started {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
    },
    /// AWS accepted it; its ID is in the state; now waiting until it is usable.
    Created {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        id: String,
    },
    /// Usable.
    Ready {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        id: String,
        elapsed_secs: f64,
    },
    /// Found in AWS, proven to be this stack's (after an earlier run died between the create
    /// call and the state write, or by `teardown --discover`): adopted instead of created again.
    Adopted {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        id: String,
        /// How it is known to be this stack's (its identity tags, or its parent's).
        proof: String,
    },
    /// Found in AWS where the plan resource would be (same name or keys), but not provably this
    /// stack's: never adopted, changed or deleted.
    NotOurs {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        id: String,
        why: String,
    },
    /// Already in the state from an earlier run: nothing to do.
    Exists {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        id: String,
    },
    /// An update in place is being made: these properties change (values are in the plan's
    /// diff, never in events).
    Updating {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        id: String,
        properties: Vec<String>,
    },
    /// The update was applied.
    Updated {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        id: String,
        elapsed_secs: f64,
    },
    /// A call failed in a way that is retried.
    Retrying { resource: String, operation: String, code: String, attempt: u32, delay_secs: f64 },
    /// Failed for good.
    Failed {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        operation: String,
        code: String,
        message: String,
        hint: Option<String>,
    },
    /// Deletion started.
    Deleting {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        id: String,
    },
    /// Gone, and removed from the state.
    Deleted {
        resource: String,
        #[serde(rename = "type")]
        type_name: String,
        elapsed_secs: f64,
    },
}

/// A failure of one resource, with everything the user needs to act on it.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{resource} ({type_name}): {operation} failed: {code}: {message}")]
pub struct ResourceError {
    pub resource: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub operation: String,
    pub code: String,
    pub message: String,
    pub hint: Option<String>,
}

pub(super) fn resource_error(name: &str, type_name: &str, e: AwsError) -> ResourceError {
    ResourceError {
        resource: name.to_string(),
        type_name: type_name.to_string(),
        operation: e.operation.to_string(),
        code: e.code,
        message: e.message,
        hint: e.hint,
    }
}

pub(super) fn fail(s: &Shared, name: &str, type_name: &str, e: AwsError) -> ResourceError {
    let err = resource_error(name, type_name, e);
    let _ = s.events.send(Event::Failed {
        resource: err.resource.clone(),
        type_name: err.type_name.clone(),
        operation: err.operation.clone(),
        code: err.code.clone(),
        message: err.message.clone(),
        hint: err.hint.clone(),
    });
    err
}

/// Reports a resource that exists where the plan's would be but is not this stack's.
pub(super) fn not_ours(s: &Shared, name: &str, type_name: &str, id: &str, why: &str) {
    lock(&s.not_ours).push(name.to_string());
    let _ = s.events.send(Event::NotOurs {
        resource: name.into(),
        type_name: type_name.into(),
        id: id.into(),
        why: why.into(),
    });
}

pub(super) fn state_err(name: &str, type_name: &str, e: StateError) -> ResourceError {
    ResourceError {
        resource: name.to_string(),
        type_name: type_name.to_string(),
        operation: "WriteState".into(),
        code: "StateError".into(),
        message: e.to_string(),
        hint: Some(e.hint()),
    }
}
