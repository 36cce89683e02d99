//! The lifecycle of one resource type, implemented once per type in a file of its own.
//!
//! API, in order of use:
//! - [`Lifecycle`]: what a type implements: its schema ([`Lifecycle::SPEC`]), how it reads
//!   the plan's properties into its typed input (once: create and find share it), and each
//!   step of a resource's life: `create`, `find`, `ready`, `read`, `update`, `delete`, `gone`.
//! - [`Adapter`]: the same, erased, as the registry hands it out (`crate::aws::registry`).
//! - [`Type`]: wraps a `Lifecycle` into an `Adapter`; a type's registration line is
//!   `&Type::<vpc::Vpc>::NEW`.
//! - [`Live`]: what `read` saw of one resource; [`Read`], `read`'s answer.
//! - [`by_id`]: a batched read's answers, one per item, from one describe of their IDs;
//!   [`each_listed`], the same where each resource needs a call of its own (its tags).
//!
//! **Invariant:** `input` reads every property of the schema before any AWS call, and `create`
//! fails if the plan gave one it did not read (`Props::finish`): a bad value never leaves half a
//! resource behind, and schema and adapter cannot disagree (`every_schema_property_is_consumed`).

use std::collections::HashMap;
use std::marker::PhantomData;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::{AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, poll};
use crate::schema::TypeSpec;

/// What `read` saw of one resource, by its ID.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Live {
    /// Its properties as the plan writes them (names of the schema, values in plan shape:
    /// documents as JSON, tags as a table), for those AWS reports.
    pub props: Map<String, Value>,
    /// Its attributes, as `create` and `ready` give them.
    pub outputs: Outputs,
}

/// A change AWS cannot make in place although the property is in [`Lifecycle::UPDATES`] for
/// other changes ([`Lifecycle::refuses`]): why, and what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub why: &'static str,
    pub help: &'static str,
}

/// What `read` answers for one resource: its live view, `None` if it is gone, or the error.
pub type Read = Result<Option<Live>, AwsError>;

/// One resource to read: its physical ID and its outputs (as the state keeps them).
pub type Item<'a> = (&'a str, &'a Outputs);

/// One resource type's life in AWS. Every step has the type's typed input or the resource's
/// ID and outputs (what `create` and `ready` returned, as the state keeps them).
#[async_trait]
pub trait Lifecycle: Send + Sync + 'static {
    /// The plan's properties, read once.
    type Input: Send + Sync;

    /// The type's schema: properties, attributes, typical durations, implied dependencies.
    const SPEC: &'static TypeSpec;

    /// Error codes with which this type's service says "it is not there" (beyond the generic
    /// `NotFound`, `*.NotFound` and `*NotFoundFault` that every lookup understands).
    const NOT_FOUND: &'static [&'static str];

    /// The properties [`Lifecycle::update`] changes in place. A property AWS could change in
    /// place (`Prop::in_place`) but that is not listed here is refused by `deploy`, before any
    /// call, as "ironplan cannot change it yet"; the plan shows it so.
    const UPDATES: &'static [&'static str] = &[];

    /// A change of `prop` (`old` and `new`: the resource's properties in the state and in the
    /// plan) that AWS cannot make in place although `UPDATES` lists the property (turning a
    /// setting off that AWS only turns on): `plan` shows it and `deploy` refuses it before any
    /// call. `update` must refuse it too (a resumed update does not pass through the diff).
    fn refuses(_prop: &str, _old: &Map<String, Value>, _new: &Map<String, Value>) -> Option<Refused> {
        None
    }

    /// A snapshot of what it depends on (an API Gateway deployment): any change to one of its
    /// dependencies makes a new one, and what references it moves to the new one.
    const SNAPSHOT: bool = false;

    /// A replacement can exist beside the old resource (no fixed physical name: a deployment,
    /// a task definition revision): the new one is created first, what references it moves to
    /// it, and the old one is deleted last.
    const COEXISTS: bool = false;

    /// In-place properties that attach it to the resource they reference, which AWS refuses to
    /// delete while it is attached (an internet gateway's `vpc_id`). When that resource is
    /// replaced and deleted first, this one is replaced with it (deleted before it) rather than
    /// moved to the new one afterwards, which the deletion would never wait for.
    const PINS: &'static [&'static str] = &[];

    /// Reads every property of the schema (and nothing else) into the typed input.
    fn input(p: &mut Props) -> Result<Self::Input, AwsError>;

    /// The call(s) that bring the resource into being; returns as soon as AWS accepted them,
    /// with the physical ID (the state records it before anything can fail).
    async fn create(ctx: &Ctx, input: &Self::Input) -> Result<Created, AwsError>;

    /// What a create with this input made, if it exists: by name, parent keys or the identity
    /// tags, judged by [`Identity`] (never taken on a name alone).
    async fn find(ctx: &Ctx, input: &Self::Input, who: &Identity) -> Result<Found, AwsError>;

    /// Waits until AWS says the resource is usable and finishes its configuration (the calls
    /// that need it to exist); returns its outputs, completed with what only then is known.
    /// Run again after a crash, so every call in it must tolerate "already done".
    async fn ready(_ctx: &Ctx, _id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        Ok(out.clone())
    }

    /// The live properties and outputs of the resource, or `None` if it is gone.
    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError>;

    /// How many resources one [`Lifecycle::read_many`] reads: AWS's maximum of IDs per call
    /// of the describe it makes (1: the type has no batched read).
    const READ_BATCH: usize = 1;

    /// Its tags can be read with the Resource Groups Tagging API by the ARN in its `arn` output,
    /// and its `read` takes them from [`crate::aws::tagging::tags`] when it has them: in a read
    /// run, one GetResources then serves the tags of every such resource (`aws::tagging`).
    const TAGS_BY_ARN: bool = false;

    /// [`Lifecycle::read`] of each item (at most [`Lifecycle::READ_BATCH`]), in as few calls as
    /// AWS allows: one answer per item, in their order, equal to what `read` answers. A failed
    /// batched call is the answer of each item it was for. The default reads one by one.
    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        let mut answers = Vec::with_capacity(items.len());
        for (id, out) in items {
            answers.push(Self::read(ctx, id, out).await);
        }
        answers
    }

    /// Changes `changed` properties in place to the values of `input`; returns the new
    /// outputs. A type (or property) AWS cannot change in place answers [`not_updatable`].
    async fn update(
        _ctx: &Ctx,
        _id: &str,
        _out: &Outputs,
        _input: &Self::Input,
        changed: &[String],
    ) -> Result<Outputs, AwsError> {
        Err(not_updatable(Self::SPEC.name, changed))
    }

    /// Starts deleting it (and what AWS needs done first). "Already gone" is not an error.
    async fn delete(ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError>;

    /// True once AWS no longer has it (or has it only on its way out).
    async fn gone(ctx: &Ctx, id: &str, out: &Outputs) -> Result<bool, AwsError>;
}

/// A type's lifecycle, erased: what the registry holds and the engine calls.
#[async_trait]
pub trait Adapter: Send + Sync {
    fn spec(&self) -> &'static TypeSpec;
    fn not_found(&self) -> &'static [&'static str];
    fn updates(&self) -> &'static [&'static str];
    /// [`Lifecycle::refuses`].
    fn refuses(&self, prop: &str, old: &Map<String, Value>, new: &Map<String, Value>) -> Option<Refused>;
    fn snapshot(&self) -> bool;
    fn coexists(&self) -> bool;
    fn pins(&self) -> &'static [&'static str];
    /// Reads `props` (every one: the create is refused if one is left) and creates.
    async fn create(&self, ctx: &Ctx, props: &mut Props) -> Result<Created, AwsError>;
    async fn find(&self, ctx: &Ctx, props: &mut Props, who: &Identity) -> Result<Found, AwsError>;
    async fn ready(&self, ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError>;
    async fn read(&self, ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError>;
    /// How many resources one [`Adapter::read_many`] call reads at best ([`Lifecycle::READ_BATCH`]).
    fn read_batch(&self) -> usize;
    /// [`Lifecycle::TAGS_BY_ARN`].
    fn tags_by_arn(&self) -> bool;
    /// [`Lifecycle::read_many`], in chunks of [`Adapter::read_batch`]: one answer per item, in order.
    async fn read_many(&self, ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read>;
    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        out: &Outputs,
        props: &mut Props,
        changed: &[String],
    ) -> Result<Outputs, AwsError>;
    async fn delete(&self, ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError>;
    /// Polls [`Lifecycle::gone`] on the context's poll policy until it says gone.
    async fn wait_deleted(&self, ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError>;
}

/// A [`Lifecycle`] as an [`Adapter`].
pub struct Type<T>(PhantomData<fn() -> T>);

impl<T> Type<T> {
    /// The registration of `T`.
    pub const NEW: Type<T> = Type(PhantomData);
}

#[async_trait]
impl<T: Lifecycle> Adapter for Type<T> {
    fn spec(&self) -> &'static TypeSpec {
        T::SPEC
    }

    fn not_found(&self) -> &'static [&'static str] {
        T::NOT_FOUND
    }

    fn updates(&self) -> &'static [&'static str] {
        T::UPDATES
    }

    fn refuses(&self, prop: &str, old: &Map<String, Value>, new: &Map<String, Value>) -> Option<Refused> {
        T::refuses(prop, old, new)
    }

    fn snapshot(&self) -> bool {
        T::SNAPSHOT
    }

    fn coexists(&self) -> bool {
        T::COEXISTS
    }

    fn pins(&self) -> &'static [&'static str] {
        T::PINS
    }

    async fn create(&self, ctx: &Ctx, props: &mut Props) -> Result<Created, AwsError> {
        let input = T::input(props)?;
        props.finish()?;
        T::create(ctx, &input).await
    }

    async fn find(&self, ctx: &Ctx, props: &mut Props, who: &Identity) -> Result<Found, AwsError> {
        let input = T::input(props)?;
        T::find(ctx, &input, who).await
    }

    async fn ready(&self, ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        T::ready(ctx, id, out).await
    }

    async fn read(&self, ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        T::read(ctx, id, out).await
    }

    fn read_batch(&self) -> usize {
        T::READ_BATCH.max(1)
    }

    fn tags_by_arn(&self) -> bool {
        T::TAGS_BY_ARN
    }

    async fn read_many(&self, ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        let mut answers = Vec::with_capacity(items.len());
        for chunk in items.chunks(self.read_batch()) {
            let mut got = T::read_many(ctx, chunk).await;
            // One answer per item, whatever an implementation returned.
            got.resize_with(chunk.len(), || Err(AwsError::malformed("ReadMany", "an answer for every resource")));
            answers.extend(got);
        }
        answers
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        out: &Outputs,
        props: &mut Props,
        changed: &[String],
    ) -> Result<Outputs, AwsError> {
        // A property the type's update does not apply must never be taken as applied.
        let unsupported: Vec<String> = changed.iter().filter(|c| !T::UPDATES.contains(&c.as_str())).cloned().collect();
        if !unsupported.is_empty() {
            return Err(not_updatable(T::SPEC.name, &unsupported));
        }
        let input = T::input(props)?;
        props.finish()?;
        T::update(ctx, id, out, &input, changed).await
    }

    async fn delete(&self, ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError> {
        match T::delete(ctx, id, out).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        }
    }

    async fn wait_deleted(&self, ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError> {
        let what = format!("{} {id} to be deleted", T::SPEC.name);
        poll(ctx, "WaitDeleted", &what, || async {
            match T::gone(ctx, id, out).await {
                Ok(true) => Ok(Some(())),
                Ok(false) => Ok(None),
                Err(e) if e.is_not_found() => Ok(Some(())),
                Err(e) => Err(e),
            }
        })
        .await
    }
}

/// The answers of a batched read, one per item in their order, from what one describe of their
/// IDs `listed` (`id_of` gives each listed resource's ID; `live` is the conversion the type's
/// single `read` uses, so that both agree; `None`: gone): an item AWS did not list is gone, and a failed
/// describe is every item's error.
pub fn by_id<T>(
    items: &[Item<'_>],
    listed: Result<Vec<T>, AwsError>,
    id_of: impl Fn(&T) -> Option<&str>,
    live: impl Fn(&T, &str, &Outputs) -> Option<Live>,
) -> Vec<Read> {
    let listed = match listed {
        Ok(l) => l,
        Err(e) => return items.iter().map(|_| Err(e.clone())).collect(),
    };
    let by_id: HashMap<&str, &T> = listed.iter().filter_map(|x| Some((id_of(x)?, x))).collect();
    items.iter().map(|(id, out)| Ok(by_id.get(id).and_then(|x| live(x, id, out)))).collect()
}

/// [`by_id`] for a type whose `read` needs one more call per resource (its tags, where the API
/// takes one ARN): `live` makes it for each item that `listed` holds, one after the other.
pub async fn each_listed<T, Fut>(
    items: &[Item<'_>],
    listed: Result<Vec<T>, AwsError>,
    id_of: impl Fn(&T) -> Option<&str>,
    live: impl Fn(T, String, Outputs) -> Fut,
) -> Vec<Read>
where
    T: Clone,
    Fut: std::future::Future<Output = Result<Live, AwsError>>,
{
    let listed = match listed {
        Ok(l) => l,
        Err(e) => return items.iter().map(|_| Err(e.clone())).collect(),
    };
    let mut answers = Vec::with_capacity(items.len());
    for (id, out) in items {
        answers.push(match listed.iter().find(|x| id_of(x) == Some(id)) {
            Some(x) => live(x.clone(), id.to_string(), (*out).clone()).await.map(Some),
            None => Ok(None),
        });
    }
    answers
}

/// The answer of a type (or property) AWS cannot change in place.
pub fn not_updatable(type_name: &str, changed: &[String]) -> AwsError {
    AwsError {
        operation: "Update",
        code: "NotUpdatable".into(),
        message: format!("{type_name} cannot change {} in place", changed.join(", ")),
        kind: ErrorKind::Input,
        hint: Some("the resource must be replaced (deleted and created again) for this change".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(name: &str) -> Live {
        let mut props = Map::new();
        props.insert("name".into(), Value::from(name));
        Live { props, outputs: Outputs::new() }
    }

    /// One answer per item in the items' order, whatever order AWS listed them in; what it did
    /// not list is gone; a failed call is every item's error.
    #[test]
    fn a_batched_read_answers_each_item_in_order() {
        let out = Outputs::new();
        let items: [Item<'_>; 3] = [("a", &out), ("b", &out), ("c", &out)];
        let listed: Result<Vec<&str>, AwsError> = Ok(vec!["c", "x", "a"]);
        let answers = by_id(&items, listed, |x| Some(*x), |x, _, _| Some(live(x)));
        let names: Vec<Option<String>> = answers
            .into_iter()
            .map(|r| r.ok().flatten().and_then(|l| l.props["name"].as_str().map(str::to_owned)))
            .collect();
        assert_eq!(names, [Some("a".to_string()), None, Some("c".to_string())]);

        let failed: Result<Vec<&str>, AwsError> = Err(AwsError::malformed("DescribeThings", "things"));
        let answers = by_id(&items, failed, |x| Some(*x), |x, _, _| Some(live(x)));
        assert_eq!(answers.len(), 3);
        assert!(answers.iter().all(|r| r.as_ref().is_err_and(|e| e.operation == "DescribeThings")));
    }
}
