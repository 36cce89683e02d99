//! What a deploy would change in a stack that exists: the plan compared with the state, no AWS
//! call. Each resource is created, updated in place, replaced, deleted or left unchanged; a
//! replacement reaches its dependents, whose references get a new ID.
//!
//! API: [`diff`] gives a [`Diff`]; [`Diff::refusals`] what `deploy` must refuse before any call.
//!
//! **Invariant:** a property is shown as updated in place only if AWS can change it in place
//! *and* ironplan's adapter does (`Lifecycle::UPDATES`); one AWS could change but ironplan cannot
//! yet is shown as such, and `deploy` refuses it rather than replace silently.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::aws::Outputs;
use crate::check::Checked;
use crate::engine::{redact, resolve_with};
use crate::schema::{self, TypeSpec};
use crate::state::{State, Status};

/// What a reference to a resource that is created or replaced in this change resolves to.
pub const KNOWN_AFTER_DEPLOY: &str = "(known after deploy)";

/// What a deploy does to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
    Unchanged,
}

impl Action {
    pub fn word(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::Unchanged => "unchanged",
        }
    }
}

/// One property that changes (sensitive values shown as `(sensitive)`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropChange {
    pub property: String,
    pub old: Value,
    pub new: Value,
    /// AWS cannot change it in place: the resource is replaced.
    pub forces_replacement: bool,
    /// AWS could change it in place but ironplan cannot yet: `deploy` refuses it.
    pub unsupported: bool,
    /// Only a sensitive value in it changed (old and new look alike, masked).
    pub sensitive: bool,
    /// ironplan updates the property, but AWS cannot make this change in place: `deploy`
    /// refuses it (its why and help are in the refusals).
    #[serde(skip)]
    pub refused: Option<crate::aws::Refused>,
}

/// One resource's part in the change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceChange {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub action: Action,
    /// 1-based: what can start together, counting only what changes (0 when unchanged).
    pub wave: usize,
    pub changes: Vec<PropChange>,
    /// Why, in words: the property that forces a replacement, the replaced resource a reference
    /// points at, a run that was interrupted.
    pub reasons: Vec<String>,
    /// It keeps data (`TypeSpec::holds_data`): a replacement or delete needs `--allow-replace`
    /// or `--allow-delete` with its name.
    pub holds_data: bool,
    /// A replacement that is created before the old one is deleted (the type has no fixed
    /// physical name); otherwise the old one is deleted first.
    pub create_before_delete: bool,
}

/// The whole change: resources in the order a deploy visits them, deletions last.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Diff {
    pub resources: Vec<ResourceChange>,
    /// A rough wall-clock estimate of the change: the longest chain of what changes, with the
    /// types' typical durations (an update counted as [`UPDATE_SECS`]).
    pub estimated_secs: f64,
}

/// What an update in place is counted as, for the estimate (one call, one poll).
pub const UPDATE_SECS: f64 = 2.0;

/// Why `deploy` would not apply a change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refusal {
    pub resource: String,
    pub why: String,
    pub help: String,
}

impl Diff {
    /// How many resources take each action.
    pub fn counts(&self) -> BTreeMap<Action, usize> {
        let mut c = BTreeMap::new();
        for r in &self.resources {
            *c.entry(r.action).or_insert(0) += 1;
        }
        c
    }

    pub fn has_changes(&self) -> bool {
        self.resources.iter().any(|r| r.action != Action::Unchanged)
    }

    pub fn get(&self, name: &str) -> Option<&ResourceChange> {
        self.resources.iter().find(|r| r.name == name)
    }

    /// `Create 3, update 1, ...` in one line.
    pub fn summary(&self) -> String {
        let c = self.counts();
        let n = |a| c.get(&a).copied().unwrap_or(0);
        format!(
            "{} to create, {} to update in place, {} to replace, {} to delete, {} unchanged",
            n(Action::Create),
            n(Action::Update),
            n(Action::Replace),
            n(Action::Delete),
            n(Action::Unchanged)
        )
    }

    /// What `deploy` refuses before any call: a replacement or delete of a resource that holds
    /// data and that the user did not name, and a change ironplan cannot make in place yet.
    pub fn refusals(&self, allow_replace: &BTreeSet<String>, allow_delete: &BTreeSet<String>) -> Vec<Refusal> {
        let mut out = Vec::new();
        for r in &self.resources {
            match r.action {
                Action::Replace if r.holds_data && !allow_replace.contains(&r.name) => out.push(Refusal {
                    resource: r.name.clone(),
                    why: format!("{} holds data and would be replaced ({})", r.type_name, r.reasons.join("; ")),
                    help: format!("revert the change, or pass --allow-replace {} to accept losing its data", r.name),
                }),
                Action::Delete if r.holds_data && !allow_delete.contains(&r.name) => out.push(Refusal {
                    resource: r.name.clone(),
                    why: format!("{} holds data and is no longer in the plan", r.type_name),
                    help: format!("put it back in the plan, or pass --allow-delete {} to delete it", r.name),
                }),
                _ => {}
            }
            for c in r.changes.iter().filter(|c| c.unsupported) {
                out.push(Refusal {
                    resource: r.name.clone(),
                    why: format!(
                        "`{}` of {} can change in place in AWS, but ironplan cannot change it yet",
                        c.property, r.type_name
                    ),
                    help: "revert the change in the plan (or change it in AWS yourself, then in the plan)".into(),
                });
            }
            for (c, refused) in r.changes.iter().filter_map(|c| Some((c, c.refused?))) {
                out.push(Refusal {
                    resource: r.name.clone(),
                    why: format!("`{}` of {}: {}", c.property, r.type_name, refused.why),
                    help: refused.help.into(),
                });
            }
        }
        out
    }
}

/// The plan against the state. References resolve against the state's outputs, with the region
/// and account it recorded; a reference to what this change creates or replaces resolves to
/// [`KNOWN_AFTER_DEPLOY`], so its dependents show as changing too.
pub fn diff(checked: &Checked, state: &State) -> Diff {
    let g = &checked.graph;
    let stack = checked.stack();
    let mut pending: BTreeMap<String, Outputs> = BTreeMap::new();
    let mut resources = Vec::new();
    let mut wave: BTreeMap<String, usize> = BTreeMap::new();
    for &i in g.topo_order() {
        let name = g.name(i);
        let (Some(t), Some(res)) = (checked.type_of(name), checked.plan.resource(name)) else { continue };
        let mut rc = ResourceChange {
            name: name.to_string(),
            type_name: t.name.to_string(),
            action: Action::Unchanged,
            wave: 0,
            changes: Vec::new(),
            reasons: Vec::new(),
            holds_data: t.holds_data,
            create_before_delete: false,
        };
        match state.resources.get(name) {
            None => rc.action = Action::Create,
            Some(old) if !matches!(old.status, Status::Ready | Status::Updating) => {
                rc.action = Action::Create;
                rc.reasons.push(format!("an interrupted run left it `{}`: deploy resumes it", status_word(old.status)));
            }
            Some(old) => {
                let outputs = |n: &str| pending.get(n).or_else(|| state.resources.get(n).map(|r| &r.outputs));
                // An update a run was making when it died: compared with what was there before.
                let before = old.previous.as_ref().unwrap_or(&old.props);
                if old.status == Status::Updating {
                    rc.reasons.push("an interrupted run was updating it: deploy finishes the update".into());
                }
                match resolve_with(checked, res, &outputs, &state.region, &state.account_id) {
                    Ok(new) => compare(&mut rc, t, before, redact(Some(t), &stack, new)),
                    Err(e) => {
                        rc.action = Action::Replace;
                        rc.reasons.push(format!("a reference cannot be resolved against the state: {e}"));
                    }
                }
                let deps: Vec<String> = referenced(res).into_iter().filter(|d| pending.contains_key(d)).collect();
                for dep in &deps {
                    if rc.action != Action::Unchanged {
                        rc.reasons.push(format!("`{dep}` is {}", verb_of(&resources, dep)));
                    }
                }
                pinned(&mut rc, &deps, &resources);
                // A snapshot (an API deployment) of what changes is made anew.
                if crate::aws::registry::snapshot(t.name) && rc.action != Action::Replace {
                    let changed: Vec<String> = g
                        .dependencies(i)
                        .map(|(d, _)| g.name(d))
                        .filter(|d| {
                            resources.iter().any(|r: &ResourceChange| r.name == *d && r.action != Action::Unchanged)
                        })
                        .map(|d| format!("`{d}`"))
                        .collect();
                    if !changed.is_empty() {
                        rc.action = Action::Replace;
                        rc.reasons.push(format!(
                            "a snapshot of {}, which change{}: a new one is made",
                            changed.join(", "),
                            if changed.len() == 1 { "s" } else { "" }
                        ));
                    }
                }
            }
        }
        rc.create_before_delete = rc.action == Action::Replace && crate::aws::registry::coexists(t.name);
        if matches!(rc.action, Action::Create | Action::Replace) {
            let unknown = t.attrs.iter().map(|a| (a.name.to_string(), Value::String(KNOWN_AFTER_DEPLOY.into())));
            pending.insert(name.to_string(), unknown.collect());
        }
        if rc.action != Action::Unchanged {
            let w = g.dependencies(i).filter_map(|(d, _)| wave.get(g.name(d))).max().copied().unwrap_or(0) + 1;
            wave.insert(name.to_string(), w);
            rc.wave = w;
        }
        resources.push(rc);
    }
    // What the state has and the plan no longer declares, dependents first.
    let last = wave.values().max().copied().unwrap_or(0);
    let mut removed: Vec<ResourceChange> = state
        .resources
        .iter()
        .filter(|(n, _)| checked.plan.resource(n).is_none())
        .map(|(n, r)| ResourceChange {
            name: n.clone(),
            type_name: r.type_name.clone(),
            action: Action::Delete,
            wave: last + 1,
            changes: Vec::new(),
            reasons: vec!["no longer in the plan".into()],
            holds_data: schema::find(&r.type_name).is_some_and(|t| t.holds_data),
            create_before_delete: false,
        })
        .collect();
    removed.sort_by_key(|r| std::cmp::Reverse(depth(state, &r.name)));
    let estimated_secs = estimate(checked, state, &resources, &removed);
    resources.extend(removed);
    Diff { resources, estimated_secs }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Creating => "creating",
        Status::Created => "created",
        Status::Ready => "ready",
        Status::Deleting => "deleting",
        Status::Updating => "updating",
    }
}

fn verb_of(resources: &[ResourceChange], name: &str) -> &'static str {
    match resources.iter().find(|r| r.name == name).map(|r| r.action) {
        Some(Action::Create) => "created: its attributes are known after deploy",
        _ => "replaced: its ID changes",
    }
}

/// The resources `res` references.
fn referenced(res: &crate::plan::Resource) -> BTreeSet<String> {
    res.props
        .iter()
        .flat_map(|(_, n)| n.refs())
        .filter_map(|(r, _)| match r {
            crate::plan::Ref::Resource { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// Fills in the property changes of a resource that exists, and its action.
fn compare(rc: &mut ResourceChange, t: &TypeSpec, old: &Map<String, Value>, new: Map<String, Value>) {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let shown = |m: &Map<String, Value>| {
        let mut m = m.clone();
        schema::mask_sensitive(t.props, &mut m, &mut |_, _| Value::String("(sensitive)".into()));
        m
    };
    let (old_shown, new_shown) = (shown(old), shown(&new));
    for k in keys {
        let (o, n) = (old.get(k).unwrap_or(&Value::Null), new.get(k).unwrap_or(&Value::Null));
        if o == n {
            continue;
        }
        let in_place = t.prop(k).is_some_and(|p| p.changes_in_place());
        let supported = in_place && crate::aws::registry::updates(t.name, k);
        let refused = if supported { crate::aws::registry::refuses(t.name, k, old, &new) } else { None };
        let (o_shown, n_shown) =
            (old_shown.get(k).cloned().unwrap_or(Value::Null), new_shown.get(k).cloned().unwrap_or(Value::Null));
        rc.changes.push(PropChange {
            property: k.clone(),
            sensitive: o_shown == n_shown,
            old: o_shown,
            new: n_shown,
            forces_replacement: !in_place,
            unsupported: in_place && !supported,
            refused,
        });
    }
    let forcing: Vec<&str> = rc.changes.iter().filter(|c| c.forces_replacement).map(|c| c.property.as_str()).collect();
    rc.action = if !forcing.is_empty() {
        let why =
            format!("changing {} replaces it", forcing.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "));
        rc.reasons.push(why);
        // A new resource takes the new values as they are: nothing to refuse in place.
        rc.changes.iter_mut().for_each(|c| c.refused = None);
        Action::Replace
    } else if rc.changes.is_empty() {
        Action::Unchanged
    } else {
        Action::Update
    };
}

/// A resource that would be moved in place off a resource that is deleted first (its
/// replacement's old one) is replaced with it instead: AWS refuses to delete what a pinning
/// property ([`crate::aws::registry::pins`]) still attaches to it, and the deletion comes
/// before any update.
fn pinned(rc: &mut ResourceChange, deps: &[String], resources: &[ResourceChange]) {
    let deleted_first =
        |d: &String| resources.iter().any(|r| r.name == *d && r.action == Action::Replace && !r.create_before_delete);
    if rc.action != Action::Update || !deps.iter().any(deleted_first) {
        return;
    }
    let unknown = Value::String(KNOWN_AFTER_DEPLOY.into());
    let mut forcing = Vec::new();
    for c in rc.changes.iter_mut() {
        if c.new == unknown && crate::aws::registry::pins(&rc.type_name, &c.property) {
            (c.forces_replacement, c.unsupported) = (true, false);
            forcing.push(format!("`{}`", c.property));
        }
    }
    if !forcing.is_empty() {
        rc.action = Action::Replace;
        rc.reasons.push(format!(
            "{} attaches it to what is replaced, and AWS refuses to delete that while it is attached",
            forcing.join(", ")
        ));
    }
}

/// How many resources of the state depend on `name`, transitively (deletion order: most first).
fn depth(state: &State, name: &str) -> usize {
    let mut seen = BTreeSet::new();
    let mut todo = vec![name.to_string()];
    while let Some(n) = todo.pop() {
        for (m, r) in &state.resources {
            if r.depends_on.contains(&n) && seen.insert(m.clone()) {
                todo.push(m.clone());
            }
        }
    }
    seen.len()
}

/// The longest chain of changes (creates, updates, replacements in dependency order), then the
/// deletions of what left the plan.
fn estimate(checked: &Checked, state: &State, changing: &[ResourceChange], removed: &[ResourceChange]) -> f64 {
    let g = &checked.graph;
    let mut finish: BTreeMap<&str, f64> = BTreeMap::new();
    for rc in changing.iter().filter(|r| r.action != Action::Unchanged) {
        let t = checked.type_of(&rc.name);
        let own = match rc.action {
            Action::Create => t.map_or(0.0, |t| f64::from(t.create_secs)),
            Action::Replace => t.map_or(0.0, |t| f64::from(t.create_secs + t.delete_secs)),
            _ => UPDATE_SECS,
        };
        let start = g
            .index(&rc.name)
            .map(|i| g.dependencies(i).filter_map(|(d, _)| finish.get(g.name(d))).fold(0.0, |a: f64, b| a.max(*b)))
            .unwrap_or(0.0);
        finish.insert(&rc.name, start + own);
    }
    let deletes =
        removed.iter().map(|r| state.resources.get(&r.name).map_or(0.0, |s| s.delete_secs)).fold(0.0, f64::max);
    finish.values().fold(0.0, |a: f64, b| a.max(*b)) + deletes
}

impl Diff {
    /// The change as a person reads it: one line per resource that changes (`+` create, `~`
    /// update in place, `-/+` replace, `-` delete), each changed property old → new, the
    /// reasons; then the counts and what `deploy` would refuse.
    pub fn render_text(&self, refusals: &[Refusal]) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let width = self.resources.iter().map(|r| r.name.len()).max().unwrap_or(0);
        for r in self.resources.iter().filter(|r| r.action != Action::Unchanged) {
            let mark = match r.action {
                Action::Create => "+",
                Action::Update => "~",
                Action::Replace => "-/+",
                Action::Delete => "-",
                Action::Unchanged => " ",
            };
            let data = if r.holds_data && matches!(r.action, Action::Replace | Action::Delete) {
                " · holds data"
            } else {
                ""
            };
            let why = if r.reasons.is_empty() { String::new() } else { format!(": {}", r.reasons.join("; ")) };
            let word = match r.action {
                Action::Replace if r.create_before_delete => "replace (create the new one, then delete the old)",
                Action::Replace => "replace (delete, then create)",
                a => a.word(),
            };
            let _ = writeln!(out, "  {mark:>3} {:width$}  {}  {word}{why}{data}", r.name, r.type_name);
            for c in &r.changes {
                let note = if c.forces_replacement {
                    "   (forces replacement)"
                } else if c.unsupported {
                    "   (AWS can change it in place; ironplan cannot yet)"
                } else if c.refused.is_some() {
                    "   (AWS cannot make this change in place)"
                } else {
                    ""
                };
                if c.sensitive {
                    let _ = writeln!(out, "        {}: a sensitive value in it changed{note}", c.property);
                } else {
                    let _ = writeln!(out, "        {}: {} → {}{note}", c.property, shown(&c.old), shown(&c.new));
                }
            }
        }
        let _ = writeln!(
            out,
            "\n{} · ~{} at typical AWS durations",
            self.summary(),
            crate::report::secs(self.estimated_secs)
        );
        if !refusals.is_empty() {
            let _ = writeln!(out, "\ndeploy would refuse this change before any AWS call:");
            for f in refusals {
                let _ = writeln!(out, "  {}: {}\n    help: {}", f.resource, f.why, f.help);
            }
        }
        out
    }
}

/// A value on one line: strings as they are, absent as `(none)`.
fn shown(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
