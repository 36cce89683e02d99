//! Plan files: the TOML a user writes, parsed into a syntax tree that keeps a span for every
//! key and value so that each later check can point at the line and column it is about.
//!
//! API, in order of use:
//! - [`Plan::load`] / [`Plan::parse`]: read a plan file; syntax problems come back as
//!   [`crate::diag::Problems`], all of them, not only the first.
//! - [`Plan`], [`Resource`], [`Node`], [`Template`]: the tree. Nothing here knows AWS types;
//!   `crate::check` validates the tree against `crate::schema`.
//! - [`Template::parse`]: the `${...}` reference syntax inside strings.

mod lines;
mod load;
mod raw;
mod template;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

pub use lines::{LineIndex, floor_char_boundary};
pub use load::{LoadError, MAX_PLAN_BYTES, STACK_NAME_MAX, is_stack_name};
pub use template::{Part, Ref, Template};

/// A byte range into the plan's source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.start, s.end.saturating_sub(s.start)).into()
    }
}

/// A table key with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

/// A value in the plan, with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A string, possibly holding `${...}` references.
    Str(Template),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<Node>),
    Table(Vec<(Key, Node)>),
}

impl NodeKind {
    /// The word a user knows for this kind of value, for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            NodeKind::Str(_) => "a string",
            NodeKind::Int(_) => "an integer",
            NodeKind::Float(_) => "a float",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::List(_) => "a list",
            NodeKind::Table(_) => "a table",
        }
    }
}

impl Node {
    /// Every reference in this value, depth first, with the span of each `${...}`.
    pub fn refs(&self) -> Vec<(&Ref, Span)> {
        let mut out = Vec::new();
        self.collect_refs(&mut out);
        out
    }

    fn collect_refs<'a>(&'a self, out: &mut Vec<(&'a Ref, Span)>) {
        match &self.kind {
            NodeKind::Str(t) => {
                for p in &t.parts {
                    if let Part::Ref(r, span) = p {
                        out.push((r, *span));
                    }
                }
            }
            NodeKind::List(items) => items.iter().for_each(|n| n.collect_refs(out)),
            NodeKind::Table(entries) => entries.iter().for_each(|(_, n)| n.collect_refs(out)),
            _ => {}
        }
    }

    /// The field `name` of a table value.
    pub fn get(&self, name: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Table(entries) => entries.iter().find(|(k, _)| k.name == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value as a literal string, if it is a string without references.
    pub fn as_literal_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(t) => t.as_literal(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            NodeKind::Bool(b) => Some(b),
            _ => None,
        }
    }
}

/// A declared variable: `[variables.NAME]` with an optional default.
#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub span: Span,
    pub default: Option<String>,
    /// Where the default value is written (the declaration's span when there is none).
    pub default_span: Span,
    pub description: Option<String>,
}

/// One `[resources.NAME]` table.
#[derive(Debug, Clone)]
pub struct Resource {
    pub name: String,
    pub name_span: Span,
    pub type_name: String,
    pub type_span: Span,
    /// Explicit `depends_on` entries, with where each was written.
    pub depends_on: Vec<Key>,
    /// Every other key: the properties of the type, in key order.
    pub props: Vec<(Key, Node)>,
}

impl Resource {
    pub fn prop(&self, name: &str) -> Option<&Node> {
        self.props.iter().find(|(k, _)| k.name == name).map(|(_, v)| v)
    }
}

/// A parsed plan file. Resources are kept sorted by name: nothing depends on the order of the
/// file.
#[derive(Debug, Clone)]
pub struct Plan {
    pub path: PathBuf,
    pub source: Arc<str>,
    pub name: String,
    pub description: Option<String>,
    pub variables: BTreeMap<String, Variable>,
    /// Tags every taggable resource gets, under `[plan.default_tags]`.
    pub default_tags: Vec<(Key, Node)>,
    pub resources: Vec<Resource>,
    pub outputs: Vec<(Key, Node)>,
    /// `[state] location`: where the stack's state lives (checked by `state::Location::parse`).
    pub state: Option<String>,
}

impl Plan {
    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.binary_search_by(|r| r.name.as_str().cmp(name)).ok().map(|i| &self.resources[i])
    }

    /// 1-based line and column of a byte offset, for JSON diagnostics and messages.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(&self.source, offset)
    }
}

/// 1-based line and column (in characters) of a byte offset. For many offsets, build one
/// [`LineIndex`] instead: this scans the text.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(source).line_col(source, offset)
}
