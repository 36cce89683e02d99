//! The resource graph: built, then sealed.
//!
//! **Invariant:** an edge `A → B` means *A depends on B*: B must be ready before A starts, and A
//! must be gone before B is deleted. [`Graph::dependencies`] follows edges, [`Graph::dependents`]
//! goes against them. Nothing else in the crate looks at edge direction.
//!
//! API, in order of use:
//! - [`GraphBuilder`]: add nodes and edges (several reasons for one edge are merged), then
//!   [`GraphBuilder::build`], which rejects every cycle at once, naming its members.
//! - [`Graph`]: immutable. [`Graph::waves`] (what can start together), [`Graph::critical_path`]
//!   (the longest chain by duration), [`Graph::remaining_path`] (for longest-path-first
//!   scheduling), [`Graph::reversed_order`] (teardown).
//!
//! The graph knows nothing of AWS: a node is a name and a duration.

use std::collections::BTreeMap;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::{Direction, Incoming, Outgoing};
use serde::Serialize;

pub use petgraph::graph::NodeIndex as NodeId;

/// Why one resource waits for another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A `${name.attr}` reference in a property.
    Reference { attr: String },
    /// A `depends_on` entry.
    Explicit,
    /// A dependency AWS needs that no reference expresses.
    Implied { why: String },
}

impl Reason {
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::Reference { .. } => "reference",
            Reason::Explicit => "explicit",
            Reason::Implied { .. } => "implied",
        }
    }
}

/// A node: a resource's name and its typical durations.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub create_secs: f64,
    pub delete_secs: f64,
}

/// Collects nodes and edges; [`GraphBuilder::build`] seals them.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    graph: DiGraph<Node, Vec<Reason>>,
    index: BTreeMap<String, NodeIndex>,
}

/// A dependency cycle: its members in order, each depending on the next (the last on the first).
#[derive(Debug, Clone, PartialEq)]
pub struct Cycle {
    pub members: Vec<String>,
    /// The edges of the cycle, `(from, to, reasons)`; cutting any one breaks it.
    pub edges: Vec<(String, String, Vec<Reason>)>,
}

impl GraphBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node; adding a name twice returns the first node.
    pub fn node(&mut self, node: Node) -> NodeIndex {
        if let Some(&i) = self.index.get(&node.name) {
            return i;
        }
        let name = node.name.clone();
        let i = self.graph.add_node(node);
        self.index.insert(name, i);
        i
    }

    /// `from` depends on `to` because of `reason`. Self-edges are kept: they are cycles.
    pub fn depends(&mut self, from: NodeIndex, to: NodeIndex, reason: Reason) {
        if let Some(e) = self.graph.find_edge(from, to) {
            let reasons = &mut self.graph[e];
            if !reasons.contains(&reason) {
                reasons.push(reason);
                reasons.sort();
            }
        } else {
            self.graph.add_edge(from, to, vec![reason]);
        }
    }

    pub fn index(&self, name: &str) -> Option<NodeIndex> {
        self.index.get(name).copied()
    }

    /// Seals the graph, or returns every cycle.
    pub fn build(self) -> Result<Graph, Vec<Cycle>> {
        let mut cycles = Vec::new();
        for scc in tarjan_scc(&self.graph) {
            let is_cycle = scc.len() > 1 || self.graph.find_edge(scc[0], scc[0]).is_some();
            if is_cycle {
                cycles.push(self.describe_cycle(&scc));
            }
        }
        if !cycles.is_empty() {
            cycles.sort_by(|a, b| a.members.cmp(&b.members));
            return Err(cycles);
        }
        let mut g = Graph { graph: self.graph, index: self.index, topo: Vec::new(), depth: Vec::new() };
        g.seal();
        Ok(g)
    }

    fn describe_cycle(&self, scc: &[NodeIndex]) -> Cycle {
        let in_scc = |n: NodeIndex| scc.contains(&n);
        // Walk one simple cycle through the component, starting at its smallest name.
        let start = *scc.iter().min_by_key(|n| &self.graph[**n].name).unwrap_or(&scc[0]);
        let mut path = vec![start];
        let mut cur = start;
        loop {
            let next = self
                .graph
                .edges_directed(cur, Outgoing)
                .map(|e| e.target())
                .filter(|t| in_scc(*t))
                .min_by_key(|t| (*t != start && path.contains(t), self.graph[*t].name.clone()));
            let Some(next) = next else { break };
            if next == start || path.contains(&next) {
                break;
            }
            path.push(next);
            cur = next;
        }
        let mut members: Vec<String> = path.iter().map(|n| self.graph[*n].name.clone()).collect();
        // Members of the component that this walk missed still belong to the problem.
        for n in scc {
            let name = &self.graph[*n].name;
            if !members.contains(name) {
                members.push(name.clone());
            }
        }
        let edges = scc
            .iter()
            .flat_map(|n| self.graph.edges_directed(*n, Outgoing))
            .filter(|e| in_scc(e.target()))
            .map(|e| (self.graph[e.source()].name.clone(), self.graph[e.target()].name.clone(), e.weight().clone()))
            .collect();
        Cycle { members, edges }
    }
}

/// The sealed, acyclic resource graph.
#[derive(Debug, Clone)]
pub struct Graph {
    graph: DiGraph<Node, Vec<Reason>>,
    index: BTreeMap<String, NodeIndex>,
    /// Dependencies first.
    topo: Vec<NodeIndex>,
    /// Length of the longest dependency chain below each node (0 for no dependencies).
    depth: Vec<usize>,
}

impl Graph {
    fn seal(&mut self) {
        // Kahn's algorithm over "dependencies first", ties broken by name for stable output.
        let n = self.graph.node_count();
        let mut remaining: Vec<usize> =
            self.graph.node_indices().map(|i| self.graph.edges_directed(i, Outgoing).count()).collect();
        let mut ready: std::collections::BTreeSet<(String, NodeIndex)> = self
            .graph
            .node_indices()
            .filter(|i| remaining[i.index()] == 0)
            .map(|i| (self.graph[i].name.clone(), i))
            .collect();
        let mut depth = vec![0usize; n];
        while let Some((_, i)) = ready.pop_first() {
            self.topo.push(i);
            for d in self.graph.neighbors_directed(i, Incoming) {
                depth[d.index()] = depth[d.index()].max(depth[i.index()] + 1);
                remaining[d.index()] -= 1;
                if remaining[d.index()] == 0 {
                    ready.insert((self.graph[d].name.clone(), d));
                }
            }
        }
        self.depth = depth;
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    pub fn node(&self, i: NodeIndex) -> &Node {
        &self.graph[i]
    }

    pub fn name(&self, i: NodeIndex) -> &str {
        &self.graph[i].name
    }

    pub fn index(&self, name: &str) -> Option<NodeIndex> {
        self.index.get(name).copied()
    }

    /// Every node, dependencies before dependents (name order among equals).
    pub fn topo_order(&self) -> &[NodeIndex] {
        &self.topo
    }

    /// Every node, dependents before dependencies: the teardown order.
    pub fn reversed_order(&self) -> Vec<NodeIndex> {
        self.topo.iter().rev().copied().collect()
    }

    /// What `i` waits for, with why.
    pub fn dependencies(&self, i: NodeIndex) -> impl Iterator<Item = (NodeIndex, &[Reason])> + '_ {
        self.edges(i, Outgoing)
    }

    /// What waits for `i`, with why.
    pub fn dependents(&self, i: NodeIndex) -> impl Iterator<Item = (NodeIndex, &[Reason])> + '_ {
        self.edges(i, Incoming)
    }

    fn edges(&self, i: NodeIndex, dir: Direction) -> impl Iterator<Item = (NodeIndex, &[Reason])> + '_ {
        let mut v: Vec<_> = self
            .graph
            .edges_directed(i, dir)
            .map(move |e| (if dir == Outgoing { e.target() } else { e.source() }, e.weight().as_slice()))
            .collect();
        v.sort_by(|a, b| self.graph[a.0].name.cmp(&self.graph[b.0].name));
        v.into_iter()
    }

    /// Every edge `(from, to, reasons)` where `from` depends on `to`, sorted by names.
    pub fn edge_list(&self) -> Vec<(NodeIndex, NodeIndex, &[Reason])> {
        let mut v: Vec<_> =
            self.graph.edge_references().map(|e| (e.source(), e.target(), e.weight().as_slice())).collect();
        v.sort_by(|a, b| (self.name(a.0), self.name(a.1)).cmp(&(self.name(b.0), self.name(b.1))));
        v
    }

    /// Groups of resources that can start together: wave k holds the resources whose longest
    /// dependency chain has k links. The executor does not wait for waves; they are for reading.
    pub fn waves(&self) -> Vec<Vec<NodeIndex>> {
        let max = self.depth.iter().copied().max().unwrap_or(0);
        let mut waves = vec![Vec::new(); if self.is_empty() { 0 } else { max + 1 }];
        for &i in &self.topo {
            waves[self.depth[i.index()]].push(i);
        }
        for w in &mut waves {
            w.sort_by(|a, b| self.name(*a).cmp(self.name(*b)));
        }
        waves
    }

    /// For each node, the longest chain of `cost` from the start of the node to the end of
    /// everything that waits on it (itself included). Used to start long chains first.
    pub fn remaining_path(&self, cost: impl Fn(&Node) -> f64) -> Vec<f64> {
        self.remaining(&cost, Incoming)
    }

    /// For teardown: the longest chain of deletions from each node through what it depends on
    /// (a dependency's deletion waits for its dependents').
    pub fn remaining_delete_path(&self) -> Vec<f64> {
        self.remaining(&|n: &Node| n.delete_secs, Outgoing)
    }

    /// Longest chains of `cost` following `next` (Incoming: through dependents; Outgoing:
    /// through dependencies), each node included.
    fn remaining(&self, cost: &dyn Fn(&Node) -> f64, next: Direction) -> Vec<f64> {
        let mut rem = vec![0.0f64; self.len()];
        // Visit each node after every node `next` reaches from it.
        let order: Vec<NodeIndex> =
            if next == Incoming { self.topo.iter().rev().copied().collect() } else { self.topo.clone() };
        for i in order {
            let after = self.graph.neighbors_directed(i, next).map(|d| rem[d.index()]).fold(0.0, f64::max);
            rem[i.index()] = cost(&self.graph[i]) + after;
        }
        rem
    }

    /// The longest chain by `cost`, dependencies first, and its total: the fastest any
    /// executor can finish.
    pub fn critical_path(&self, cost: impl Fn(&Node) -> f64) -> (Vec<NodeIndex>, f64) {
        self.longest(&self.remaining(&cost, Incoming), Incoming)
    }

    /// For teardown: the longest chain of deletions, dependents first.
    pub fn critical_delete_path(&self) -> (Vec<NodeIndex>, f64) {
        self.longest(&self.remaining_delete_path(), Outgoing)
    }

    /// Follows the largest `rem` from the best starting node along `next`.
    fn longest(&self, rem: &[f64], next: Direction) -> (Vec<NodeIndex>, f64) {
        let by_rem = |a: &NodeIndex, b: &NodeIndex| {
            rem[a.index()].total_cmp(&rem[b.index()]).then(self.name(*b).cmp(self.name(*a)))
        };
        // A chain starts where nothing comes before it in the direction of travel.
        let Some(mut cur) = self
            .graph
            .node_indices()
            .filter(|i| self.graph.neighbors_directed(*i, next.opposite()).next().is_none())
            .max_by(by_rem)
        else {
            return (Vec::new(), 0.0);
        };
        let total = rem[cur.index()];
        let mut path = vec![cur];
        while let Some(n) = self.graph.neighbors_directed(cur, next).max_by(by_rem) {
            path.push(n);
            cur = n;
        }
        (path, total)
    }

    /// A copy restricted to the nodes `keep` says yes to (edges between kept nodes stay).
    pub fn subgraph(&self, keep: impl Fn(&str) -> bool) -> Graph {
        let mut b = GraphBuilder::new();
        for &i in &self.topo {
            if keep(self.name(i)) {
                b.node(self.graph[i].clone());
            }
        }
        for e in self.graph.edge_references() {
            if let (Some(f), Some(t)) = (b.index(self.name(e.source())), b.index(self.name(e.target()))) {
                for r in e.weight() {
                    b.depends(f, t, r.clone());
                }
            }
        }
        // A subgraph of an acyclic graph is acyclic.
        match b.build() {
            Ok(g) => g,
            Err(_) => unreachable!("a subgraph of a DAG has no cycle"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, secs: f64) -> Node {
        Node { name: name.into(), create_secs: secs, delete_secs: secs }
    }

    /// Builds a graph from `a>b` strings meaning "a depends on b".
    fn graph(nodes: &[(&str, f64)], edges: &[&str]) -> Result<Graph, Vec<Cycle>> {
        let mut b = GraphBuilder::new();
        for (n, s) in nodes {
            b.node(node(n, *s));
        }
        for e in edges {
            let (f, t) = e.split_once('>').unwrap();
            let (f, t) = (b.index(f).unwrap(), b.index(t).unwrap());
            b.depends(f, t, Reason::Explicit);
        }
        b.build()
    }

    #[test]
    fn waves_follow_the_longest_chain() {
        // c -> b -> a ; d -> a ; c -> d
        let g = graph(&[("a", 1.0), ("b", 1.0), ("c", 1.0), ("d", 1.0)], &["b>a", "c>b", "d>a", "c>d"]).unwrap();
        let names: Vec<Vec<&str>> = g.waves().iter().map(|w| w.iter().map(|i| g.name(*i)).collect()).collect();
        assert_eq!(names, vec![vec!["a"], vec!["b", "d"], vec!["c"]]);
    }

    #[test]
    fn critical_path_takes_the_slow_branch() {
        // app -> db(600) -> net(5) ; app -> cache(400) -> net
        let g = graph(
            &[("net", 5.0), ("db", 600.0), ("cache", 400.0), ("app", 60.0)],
            &["db>net", "cache>net", "app>db", "app>cache"],
        )
        .unwrap();
        let (path, total) = g.critical_path(|n| n.create_secs);
        assert_eq!(path.iter().map(|i| g.name(*i)).collect::<Vec<_>>(), ["net", "db", "app"]);
        assert_eq!(total, 665.0);
        let rem = g.remaining_path(|n| n.create_secs);
        assert_eq!(rem[g.index("cache").unwrap().index()], 460.0);
    }

    #[test]
    fn delete_path_runs_against_the_edges() {
        // app -> db -> net
        let g = graph(&[("net", 1.0), ("db", 700.0), ("app", 60.0)], &["db>net", "app>db"]).unwrap();
        let (path, total) = g.critical_delete_path();
        assert_eq!(path.iter().map(|i| g.name(*i)).collect::<Vec<_>>(), ["app", "db", "net"]);
        assert_eq!(total, 761.0);
    }

    #[test]
    fn every_cycle_is_reported_with_all_members() {
        // a -> b -> c -> a ; d -> d ; e alone
        let err = graph(&[("a", 1.0), ("b", 1.0), ("c", 1.0), ("d", 1.0), ("e", 1.0)], &["a>b", "b>c", "c>a", "d>d"])
            .unwrap_err();
        assert_eq!(err.len(), 2);
        assert_eq!(err[0].members, ["a", "b", "c"]);
        assert_eq!(err[0].edges.len(), 3);
        assert_eq!(err[1].members, ["d"]);
    }

    #[test]
    fn reasons_for_one_edge_are_merged() {
        let mut b = GraphBuilder::new();
        let a = b.node(node("a", 1.0));
        let c = b.node(node("c", 1.0));
        b.depends(a, c, Reason::Reference { attr: "id".into() });
        b.depends(a, c, Reason::Explicit);
        b.depends(a, c, Reason::Explicit);
        let g = b.build().unwrap();
        let deps: Vec<_> = g.dependencies(a).collect();
        assert_eq!(deps.len(), 1);
        assert_eq!(deps[0].1.len(), 2);
        assert_eq!(g.dependents(c).count(), 1);
    }

    #[test]
    fn topo_order_puts_dependencies_first_and_reverse_puts_them_last() {
        // b -> a
        let g = graph(&[("b", 1.0), ("a", 1.0)], &["b>a"]).unwrap();
        let order: Vec<_> = g.topo_order().iter().map(|i| g.name(*i)).collect();
        assert_eq!(order, ["a", "b"]);
        let rev: Vec<_> = g.reversed_order().iter().map(|i| g.name(*i).to_string()).collect();
        assert_eq!(rev, ["b", "a"]);
    }
}
