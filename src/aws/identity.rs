//! Whose a resource is: the one ownership guard of every lookup (the adoption after a crash,
//! `teardown --discover`).
//!
//! API, in order of use:
//! - [`Identity`]: the stack and plan resource a lookup is for (the tags every create carries).
//! - [`Identity::judge`]: the tags of a resource found by its name or keys, against ours.
//! - [`Identity::judge_parent`]: for a type that carries no tags, the tags of its parent.
//! - [`Found`]: what a lookup returns: nothing, ours (with the proof), or not ours (with why).
//!
//! **Invariant:** a resource is ours only with proof: both identity tags (`ironplan:stack`,
//! `ironplan:resource`) carrying this stack's and this resource's values, or, for a type that
//! cannot carry tags, a parent whose `ironplan:stack` tag is this stack's. A name alone is
//! never proof: an untagged resource, or one tagged for another stack or another resource, is
//! never adopted, changed or deleted. The few emulator gaps (moto drops some tags) are named
//! where they are accepted, and only when `Ctx::emulator` is set.

use super::Created;
use crate::schema::{RESOURCE_TAG, STACK_TAG};

/// The stack and plan resource a lookup is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub stack: String,
    pub resource: String,
}

/// What a lookup found.
#[derive(Debug, Clone)]
pub enum Found {
    /// Nothing that a create with these properties made.
    Nothing,
    /// This stack's resource, and how that is known.
    Ours { created: Created, proof: String },
    /// Something a create with these properties would collide with (same name, same keys),
    /// without proof that it is this stack's: it is left exactly as it is.
    NotOurs { id: String, why: String },
}

impl Found {
    /// The created resource, if it is ours.
    pub fn ours(self) -> Option<Created> {
        match self {
            Found::Ours { created, .. } => Some(created),
            _ => None,
        }
    }
}

impl Identity {
    pub fn new(stack: impl Into<String>, resource: impl Into<String>) -> Identity {
        Identity { stack: stack.into(), resource: resource.into() }
    }

    /// The identity a create's tags carry, if they carry both identity tags.
    pub fn from_tags<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Identity> {
        match identity_tags(tags) {
            (Some(stack), Some(resource)) => Some(Identity::new(stack, resource)),
            _ => None,
        }
    }

    /// The proof that a resource with these tags is ours, or why it is not.
    pub fn judge<'a>(&self, tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<String, String> {
        let (stack, resource) = identity_tags(tags);
        match (stack, resource) {
            (None, _) => Err(format!("it has no `{STACK_TAG}` tag: ironplan did not create it")),
            (Some(s), _) if s != self.stack => Err(format!("it belongs to stack `{s}` (tag `{STACK_TAG}`)")),
            (Some(_), None) => Err(format!("it has no `{RESOURCE_TAG}` tag: ironplan did not create it")),
            (Some(_), Some(r)) if r != self.resource => {
                Err(format!("it is this stack's `{r}` (tag `{RESOURCE_TAG}`), not `{}`", self.resource))
            }
            (Some(_), Some(_)) => {
                Ok(format!("tagged `{STACK_TAG}` = `{}`, `{RESOURCE_TAG}` = `{}`", self.stack, self.resource))
            }
        }
    }

    /// For a type that carries no tags: the proof that its parent (`what`, e.g. "role `x`") is
    /// this stack's, or why it is not. Any resource of this stack may be the parent.
    pub fn judge_parent<'a>(
        &self,
        what: &str,
        tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<String, String> {
        match identity_tags(tags).0 {
            None => Err(format!("its {what} has no `{STACK_TAG}` tag: ironplan did not create it")),
            Some(s) if s != self.stack => Err(format!("its {what} belongs to stack `{s}`")),
            Some(_) => Ok(format!("its {what} is tagged `{STACK_TAG}` = `{}`", self.stack)),
        }
    }

    /// A resource found by name or keys, judged by its own tags.
    pub fn claim<'a>(&self, created: Created, tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Found {
        verdict(created, self.judge(tags))
    }

    /// A resource that carries no tags, judged by its parent's.
    pub fn claim_by_parent<'a>(
        &self,
        created: Created,
        what: &str,
        tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Found {
        verdict(created, self.judge_parent(what, tags))
    }
}

/// `Ours` with the proof, or `NotOurs` with the reason.
pub fn verdict(created: Created, judged: Result<String, String>) -> Found {
    match judged {
        Ok(proof) => Found::Ours { created, proof },
        Err(why) => Found::NotOurs { id: created.id, why },
    }
}

fn identity_tags<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> (Option<&'a str>, Option<&'a str>) {
    let (mut stack, mut resource) = (None, None);
    for (k, v) in tags {
        match k {
            STACK_TAG => stack = Some(v),
            RESOURCE_TAG => resource = Some(v),
            _ => {}
        }
    }
    (stack, resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who() -> Identity {
        Identity::new("hc-dev", "db_role")
    }

    fn created() -> Created {
        Created { id: "hc-dev-db".into(), outputs: Default::default() }
    }

    #[test]
    fn both_tags_with_our_values_are_the_only_proof() {
        let ours = [(STACK_TAG, "hc-dev"), (RESOURCE_TAG, "db_role"), ("ManagedBy", "ironplan")];
        assert!(matches!(who().claim(created(), ours), Found::Ours { .. }));

        let cases: [(&[(&str, &str)], &str); 5] = [
            (&[], "no `ironplan:stack` tag"),
            (&[("ManagedBy", "ironplan"), ("Name", "hc-dev-db")], "no `ironplan:stack` tag"),
            (&[(STACK_TAG, "hc-prod"), (RESOURCE_TAG, "db_role")], "belongs to stack `hc-prod`"),
            (&[(STACK_TAG, "hc-dev")], "no `ironplan:resource` tag"),
            (&[(STACK_TAG, "hc-dev"), (RESOURCE_TAG, "app_role")], "this stack's `app_role`"),
        ];
        for (tags, why) in cases {
            match who().claim(created(), tags.iter().copied()) {
                Found::NotOurs { id, why: got } => {
                    assert_eq!(id, "hc-dev-db");
                    assert!(got.contains(why), "{tags:?}: {got}");
                }
                other => panic!("{tags:?} was taken: {other:?}"),
            }
        }
    }

    #[test]
    fn a_parent_needs_our_stack_tag() {
        let w = who();
        assert!(w.judge_parent("role `r`", [(STACK_TAG, "hc-dev"), (RESOURCE_TAG, "other")]).is_ok());
        assert!(w.judge_parent("role `r`", [(RESOURCE_TAG, "db_role")]).is_err());
        assert!(w.judge_parent("role `r`", [(STACK_TAG, "hc-prod")]).unwrap_err().contains("hc-prod"));
        assert!(matches!(w.claim_by_parent(created(), "role `r`", []), Found::NotOurs { .. }));
    }
}
