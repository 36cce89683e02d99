//! Plan diagnostics: every problem found before an AWS call, each pointing into the plan file.
//!
//! A check pushes [`Problem`]s; [`Problems`] carries all of them with the plan's source so that
//! miette can draw each one under its line, and so that `--format json` can report file, line
//! and column. Codes are stable: scripts and `--allow` use them.

use std::path::Path;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use serde::Serialize;

use crate::plan::Span;

/// One thing wrong with a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Stable identifier, e.g. `unknown-type` or `policy::log-retention`.
    pub code: String,
    /// Lowercase, subject first, no trailing period.
    pub message: String,
    pub span: Span,
    /// Short text drawn under the span.
    pub label: String,
    pub help: Option<String>,
}

impl Problem {
    pub fn new(code: impl Into<String>, span: Span, message: impl Into<String>) -> Self {
        Problem { code: code.into(), message: message.into(), span, label: String::new(), help: None }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Every problem of one plan, with its source, ready to render.
#[derive(Debug, Clone)]
pub struct Problems {
    pub file: String,
    pub source: Arc<str>,
    pub problems: Vec<Problem>,
}

impl Problems {
    pub fn new(file: &Path, source: Arc<str>, mut problems: Vec<Problem>) -> Self {
        problems.sort_by(|a, b| (a.span, &a.code, &a.message).cmp(&(b.span, &b.code, &b.message)));
        problems.dedup();
        Problems { file: file.display().to_string(), source, problems }
    }

    /// The problems as miette reports, one per problem, each with the plan's source attached.
    pub fn reports(&self) -> impl Iterator<Item = miette::Report> + '_ {
        self.problems.iter().map(|p| {
            miette::Report::new(Located { problem: p.clone() })
                .with_source_code(NamedSource::new(&self.file, self.source.clone()))
        })
    }

    /// Renders every problem as text, without colours (stable, for snapshots and pipes).
    pub fn render_plain(&self) -> String {
        let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false);
        self.render_with(&handler)
    }

    pub fn render_with(&self, handler: &miette::GraphicalReportHandler) -> String {
        let mut out = String::new();
        for report in self.reports() {
            // Writing into a String cannot fail.
            let _ = handler.render_report(&mut out, report.as_ref());
            out.push('\n');
        }
        out.push_str(&format!(
            "{} problem{} in {}\n",
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" },
            self.file
        ));
        out
    }

    /// The problems as JSON values: code, message, file, line, column, help.
    pub fn to_json(&self) -> Vec<JsonProblem> {
        self.problems
            .iter()
            .map(|p| {
                let (line, column) = crate::plan::line_col(&self.source, p.span.start);
                JsonProblem {
                    code: p.code.clone(),
                    message: p.message.clone(),
                    file: self.file.clone(),
                    line,
                    column,
                    help: p.help.clone(),
                }
            })
            .collect()
    }
}

/// The JSON form of a problem (part of the documented `--format json` schema).
#[derive(Debug, Clone, Serialize)]
pub struct JsonProblem {
    pub code: String,
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub help: Option<String>,
}

impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} problem(s) in {}", self.problems.len(), self.file)
    }
}

impl std::error::Error for Problems {}

#[derive(Debug)]
struct Located {
    problem: Problem,
}

impl std::fmt::Display for Located {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.problem.message)
    }
}

impl std::error::Error for Located {}

impl Diagnostic for Located {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.problem.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.problem.help.as_ref().map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = (!self.problem.label.is_empty()).then(|| self.problem.label.clone());
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(label, self.problem.span))))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        None
    }
}

/// The nearest candidates to `wanted`, best first, for "did you mean" hints.
///
/// Matches on edit distance of the whole name and of its last segment, so that
/// `ecs:ScalableTarget` finds `applicationautoscaling:ScalableTarget` and `description` finds
/// `replication_group_description`.
pub fn nearest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let wanted_l = wanted.to_ascii_lowercase();
    let tail = |s: &str| s.rsplit([':', '.']).next().unwrap_or(s).to_ascii_lowercase();
    let wanted_tail = tail(wanted);
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .filter_map(|c| {
            let cl = c.to_ascii_lowercase();
            let whole = strsim::jaro_winkler(&wanted_l, &cl);
            let ctail = tail(c);
            let tails = if ctail == wanted_tail { 1.0 } else { strsim::jaro_winkler(&wanted_tail, &ctail) };
            // A candidate that ends with the wanted word (`description` in
            // `replication_group_description`) is a strong hint.
            let suffix = if cl.ends_with(&wanted_l) && wanted_l.len() >= 4 { 0.97 } else { 0.0 };
            // Typos in short names (`vcp` for `vpc`) are one or two edits away.
            let edits = strsim::damerau_levenshtein(&wanted_l, &cl);
            let typo = if edits <= (wanted_l.len() / 4).max(1) { 0.9 } else { 0.0 };
            let score = whole.max(tails * 0.98).max(suffix).max(typo);
            (score >= 0.8).then_some((score, c))
        })
        .collect();
    // The same name in another service (`ecs:ScalableTarget` → `applicationautoscaling:ScalableTarget`)
    // is the answer, not one guess among others.
    if wanted.contains(':') {
        let same_tail: Vec<(f64, &str)> = scored.iter().copied().filter(|(_, c)| tail(c) == wanted_tail).collect();
        if !same_tail.is_empty() {
            scored = same_tail;
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    // Keep only the candidates about as good as the best one.
    let best = scored.first().map_or(0.0, |s| s.0);
    scored.into_iter().filter(|(s, _)| *s >= best - 0.04).take(3).map(|(_, c)| c).collect()
}

/// `did you mean `x`?` or `did you mean one of `x`, `y`?`, or None.
pub fn did_you_mean(options: &[&str]) -> Option<String> {
    match options {
        [] => None,
        [one] => Some(format!("did you mean `{one}`?")),
        many => Some(format!(
            "did you mean one of {}?",
            many.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_finds_the_type_in_another_service() {
        let types = ["ecs:Service", "applicationautoscaling:ScalableTarget", "ecs:Cluster"];
        assert_eq!(nearest("ecs:ScalableTarget", types)[0], "applicationautoscaling:ScalableTarget");
    }

    #[test]
    fn nearest_finds_the_sdk_name_for_another_tools_name() {
        let props = ["replication_group_id", "replication_group_description", "engine"];
        assert_eq!(nearest("description", props), vec!["replication_group_description"]);
    }

    #[test]
    fn nearest_offers_nothing_for_unrelated_words() {
        assert!(nearest("zzzz", ["engine", "port"]).is_empty());
    }
}
