//! The dry run's report: what would be created, in what order, and why, as text, JSON and
//! Graphviz. Built from a [`Checked`] plan only: no AWS call, no credentials.
//!
//! The JSON form is a stable, documented schema (`schema_version` 1, see README): fields are
//! only ever added.

use serde::Serialize;

use crate::check::{Checked, policy};
use crate::graph::{NodeId, Reason};

/// The dry run, as data.
#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    pub schema_version: u32,
    pub valid: bool,
    pub plan: PlanInfo,
    pub resource_count: usize,
    pub resources: Vec<ResourceInfo>,
    pub edges: Vec<EdgeInfo>,
    pub waves: Vec<Vec<String>>,
    pub critical_path: PathInfo,
    pub teardown_critical_path: PathInfo,
    pub policy: Vec<policy::Outcome>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanInfo {
    pub name: String,
    pub file: String,
    pub stack: String,
    pub variables: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
    /// 1-based wave: what can start together.
    pub wave: usize,
    pub estimated_create_secs: u32,
    pub estimated_delete_secs: u32,
    pub depends_on: Vec<DependencyInfo>,
    /// The properties with variables substituted; a string holding `${name.attr}` (or
    /// `${aws.region}`, `${aws.account_id}`) is known only at deploy time, and is listed in
    /// `known_at_deploy`.
    pub properties: serde_json::Map<String, serde_json::Value>,
    pub known_at_deploy: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DependencyInfo {
    pub name: String,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EdgeInfo {
    /// The resource that waits.
    pub from: String,
    /// The resource it waits for.
    pub to: String,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PathInfo {
    pub resources: Vec<String>,
    pub estimated_secs: f64,
}

impl PlanReport {
    pub fn new(c: &Checked) -> PlanReport {
        let g = &c.graph;
        let waves = g.waves();
        let mut wave_of = vec![0; g.len()];
        for (w, members) in waves.iter().enumerate() {
            for i in members {
                wave_of[i.index()] = w + 1;
            }
        }
        let type_of = |i: NodeId| c.type_of(g.name(i));
        let mut resources: Vec<ResourceInfo> = g
            .topo_order()
            .iter()
            .map(|&i| ResourceInfo {
                name: g.name(i).to_string(),
                type_name: type_of(i).map_or("", |t| t.name).to_string(),
                wave: wave_of[i.index()],
                estimated_create_secs: type_of(i).map_or(0, |t| t.create_secs),
                estimated_delete_secs: type_of(i).map_or(0, |t| t.delete_secs),
                depends_on: g
                    .dependencies(i)
                    .map(|(d, why)| DependencyInfo { name: g.name(d).to_string(), reasons: why.to_vec() })
                    .collect(),
                properties: Default::default(),
                known_at_deploy: Vec::new(),
            })
            .map(|mut r| {
                if let Some(res) = c.plan.resource(&r.name) {
                    let mut later = std::collections::BTreeSet::new();
                    for (k, node) in &res.props {
                        r.properties.insert(k.name.clone(), preview(node, &c.vars, &mut later));
                    }
                    // Sensitive values are never printed, in text or JSON.
                    if let Some(t) = c.type_of(&r.name) {
                        let hidden = serde_json::Value::String("(sensitive)".into());
                        crate::schema::mask_sensitive(t.props, &mut r.properties, &mut |_, _| hidden.clone());
                    }
                    r.known_at_deploy = later.into_iter().collect();
                }
                r
            })
            .collect();
        resources.sort_by(|a, b| (a.wave, &a.name).cmp(&(b.wave, &b.name)));
        let edges = g
            .edge_list()
            .into_iter()
            .map(|(f, t, why)| EdgeInfo { from: g.name(f).into(), to: g.name(t).into(), reasons: why.to_vec() })
            .collect();
        let (cp, cp_secs) = g.critical_path(|n| n.create_secs);
        let (dp, dp_secs) = g.critical_delete_path();
        let names = |p: Vec<NodeId>| p.into_iter().map(|i| g.name(i).to_string()).collect();
        PlanReport {
            schema_version: 1,
            valid: true,
            plan: PlanInfo {
                name: c.plan.name.clone(),
                file: c.plan.path.display().to_string(),
                stack: c.stack(),
                variables: c.vars.clone(),
            },
            resource_count: g.len(),
            resources,
            edges,
            waves: waves.into_iter().map(|w| w.into_iter().map(|i| g.name(i).to_string()).collect()).collect(),
            critical_path: PathInfo { resources: names(cp), estimated_secs: cp_secs },
            teardown_critical_path: PathInfo { resources: names(dp), estimated_secs: dp_secs },
            policy: c.policy.clone(),
        }
    }

    /// The human report.
    pub fn to_text(&self) -> String {
        self.render_text(false)
    }

    /// The human report; with `detail`, each resource's properties follow it, deploy-time
    /// values marked.
    pub fn render_text(&self, detail: bool) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let (mut refs, mut implied, mut explicit) = (0, 0, 0);
        for e in &self.edges {
            for r in &e.reasons {
                match r {
                    Reason::Reference { .. } => refs += 1,
                    Reason::Implied { .. } => implied += 1,
                    Reason::Explicit => explicit += 1,
                }
            }
        }
        let _ = writeln!(out, "plan {} · stack {} · {}", self.plan.name, self.plan.stack, self.plan.file);
        let _ = writeln!(
            out,
            "{} resources in {} waves · {} dependencies ({refs} by reference, {implied} implied, {explicit} explicit)",
            self.resource_count,
            self.waves.len(),
            self.edges.len(),
        );
        let width = self.resources.iter().map(|r| r.name.len()).max().unwrap_or(0);
        let twidth = self.resources.iter().map(|r| r.type_name.len()).max().unwrap_or(0);
        let mut wave = 0;
        for r in &self.resources {
            if r.wave != wave {
                wave = r.wave;
                let n = self.waves.get(wave - 1).map_or(0, Vec::len);
                let _ = writeln!(out, "\nwave {wave} · {n} can start together");
            }
            let waits = if r.depends_on.is_empty() {
                "needs nothing".to_string()
            } else {
                let parts: Vec<String> = r
                    .depends_on
                    .iter()
                    .map(|d| {
                        let why: Vec<String> = d
                            .reasons
                            .iter()
                            .map(|x| match x {
                                Reason::Reference { attr } => format!("uses .{attr}"),
                                Reason::Explicit => "depends_on".into(),
                                Reason::Implied { .. } => "implied".into(),
                            })
                            .collect();
                        format!("{} ({})", d.name, why.join(", "))
                    })
                    .collect();
                format!("waits for {}", parts.join(", "))
            };
            let _ = writeln!(
                out,
                "  {:width$}  {:twidth$}  ~{:>6}  {waits}",
                r.name,
                r.type_name,
                secs(r.estimated_create_secs as f64)
            );
            if detail {
                for (k, v) in &r.properties {
                    let text = v.to_string();
                    let mark = if text.contains("${") { "   (known at deploy)" } else { "" };
                    let _ = writeln!(out, "      {k} = {text}{mark}");
                }
            }
        }

        let implied: Vec<(&EdgeInfo, &str)> = self
            .edges
            .iter()
            .flat_map(|e| {
                e.reasons.iter().filter_map(move |r| match r {
                    Reason::Implied { why } => Some((e, why.as_str())),
                    _ => None,
                })
            })
            .collect();
        if !implied.is_empty() {
            let _ = writeln!(out, "\nimplied dependencies (AWS needs them; no reference in the plan says so):");
            for (e, why) in implied {
                let _ = writeln!(out, "  {} waits for {}: {why}", e.from, e.to);
            }
        }

        let _ = writeln!(
            out,
            "\ncritical path: {} at typical AWS durations (the fastest possible deploy)",
            secs(self.critical_path.estimated_secs)
        );
        let _ = writeln!(out, "  {}", self.critical_path.resources.join(" → "));
        let _ = writeln!(out, "teardown critical path: {}", secs(self.teardown_critical_path.estimated_secs));
        let _ = writeln!(out, "  {}", self.teardown_critical_path.resources.join(" → "));

        let passed = self.policy.iter().filter(|p| p.status == "passed").count();
        let waived = self.policy.iter().filter(|p| p.status == "waived").count();
        let _ = writeln!(out, "\npolicy: {} rules, {passed} passed, {waived} waived", self.policy.len());
        for p in &self.policy {
            let mark = if p.status == "passed" { "✓" } else { "!" };
            let extra = if p.violations.is_empty() {
                format!("{} checked", p.checked)
            } else {
                format!("waived for {}", p.violations.join(", "))
            };
            let _ = writeln!(out, "  {mark} {:26} {} ({extra})", p.id, p.title);
        }
        let _ = writeln!(out, "\nno AWS call was made; ${{name.attr}} values are known only once `name` is created");
        out
    }

    /// Graphviz: each resource a box, each edge from the resource that waits to the one it
    /// waits for; implied edges dashed, explicit ones bold.
    pub fn to_dot(&self) -> String {
        use std::fmt::Write;
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let q = |s: &str| format!("\"{}\"", esc(s));
        let mut out = String::from("digraph ironplan {\n  rankdir=BT;\n  node [shape=box, fontname=\"Helvetica\"];\n");
        for r in &self.resources {
            // `\n` is Graphviz's line break: escape the two halves, not the break.
            let label = format!("{}\\n{}", esc(&r.name), esc(&r.type_name));
            let _ = writeln!(out, "  {} [label=\"{label}\"];", q(&r.name));
        }
        for e in &self.edges {
            let style = if e.reasons.iter().any(|r| matches!(r, Reason::Implied { .. })) {
                "dashed"
            } else if e.reasons.iter().any(|r| matches!(r, Reason::Explicit)) {
                "bold"
            } else {
                "solid"
            };
            let _ = writeln!(out, "  {} -> {} [style={style}];", q(&e.from), q(&e.to));
        }
        out.push_str("}\n");
        out
    }
}

/// A plan value as the dry run can know it: variables substituted, deploy-time references kept
/// as `${name.attr}` and collected in `later`.
fn preview(
    node: &crate::plan::Node,
    vars: &std::collections::BTreeMap<String, String>,
    later: &mut std::collections::BTreeSet<String>,
) -> serde_json::Value {
    use crate::plan::{NodeKind, Part, Ref};
    use serde_json::Value;
    match &node.kind {
        NodeKind::Str(t) => {
            let mut out = String::new();
            for p in &t.parts {
                match p {
                    Part::Lit(s) => out.push_str(s),
                    Part::Ref(Ref::Var(v), _) => out.push_str(vars.get(v).map_or("", String::as_str)),
                    Part::Ref(r, _) => {
                        later.insert(r.to_string().trim_start_matches("${").trim_end_matches('}').to_string());
                        out.push_str(&r.to_string());
                    }
                }
            }
            Value::String(out)
        }
        NodeKind::Int(i) => Value::from(*i),
        NodeKind::Float(f) => Value::from(*f),
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::List(items) => Value::Array(items.iter().map(|n| preview(n, vars, later)).collect()),
        NodeKind::Table(entries) => {
            Value::Object(entries.iter().map(|(k, n)| (k.name.clone(), preview(n, vars, later))).collect())
        }
    }
}

/// `14m 05s`, `45s`, `1h 02m`.
pub fn secs(s: f64) -> String {
    let s = s.round() as u64;
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}
