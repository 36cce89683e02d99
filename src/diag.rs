//! Plan diagnostics: every problem found before an AWS call, each pointing into the plan file.
//!
//! A check pushes [`Problem`]s; [`Problems`] carries all of them with the plan's source so that
//! miette can draw each one under its line, and so that `--format json` can report file, line
//! and column. Codes are stable: scripts and `--allow` use them.

use std::path::Path;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, MietteSpanContents, SourceCode, SpanContents};
use serde::Serialize;

use crate::plan::{LineIndex, Span, floor_char_boundary};

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
    /// A problem; control, bidirectional and invisible characters in the message (which may
    /// quote the plan) are escaped, so that it prints as what it says.
    pub fn new(code: impl Into<String>, span: Span, message: impl Into<String>) -> Self {
        Problem { code: code.into(), message: escape(&message.into()), span, label: String::new(), help: None }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = escape(&label.into());
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

    /// The problems as miette reports, one per problem, each with the plan's source attached
    /// (its deceptive characters masked byte for byte, see [`mask_source`]). The source is
    /// indexed by line once, so that drawing each problem costs the lines it shows, not a scan
    /// of the file: rendering is linear in the number of problems.
    pub fn reports(&self) -> impl Iterator<Item = miette::Report> + '_ {
        let text: Arc<str> = Arc::from(mask_source(&self.source));
        let source = IndexedSource { name: self.file.clone(), lines: Arc::new(LineIndex::new(&text)), text };
        self.problems.iter().map(move |p| {
            let mut problem = p.clone();
            problem.span = source.clamp(problem.span);
            miette::Report::new(Located { problem }).with_source_code(source.clone())
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

    /// The problems as JSON values: code, message, file, line, column (in characters), help.
    pub fn to_json(&self) -> Vec<JsonProblem> {
        let lines = LineIndex::new(&self.source);
        let starts: Vec<usize> = self.problems.iter().map(|p| p.span.start).collect();
        let places = lines.line_cols(&self.source, &starts);
        self.problems
            .iter()
            .zip(places)
            .map(|(p, (line, column))| JsonProblem {
                code: p.code.clone(),
                message: p.message.clone(),
                file: self.file.clone(),
                line,
                column,
                help: p.help.clone(),
            })
            .collect()
    }
}

/// The plan's text, named, with its line index: miette reads each snippet through it.
#[derive(Debug, Clone)]
struct IndexedSource {
    name: String,
    text: Arc<str>,
    lines: Arc<LineIndex>,
}

impl IndexedSource {
    /// A span that lies within the text and on character boundaries (a check may compute one
    /// that does not; drawing it must not fail).
    fn clamp(&self, span: Span) -> Span {
        let start = floor_char_boundary(&self.text, span.start);
        let end = floor_char_boundary(&self.text, span.end.max(start));
        Span::new(start, end)
    }
}

impl SourceCode for IndexedSource {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, miette::MietteError> {
        // miette's own reader, on just the lines around the span (plus a margin, so that it
        // stops where it would on the whole text); its answer is then moved back in place.
        let bytes = self.text.as_bytes();
        let first = self.lines.line_of(span.offset()).saturating_sub(context_lines_before.saturating_add(1));
        let last = self
            .lines
            .line_of(span.offset().saturating_add(span.len()))
            .saturating_add(context_lines_after)
            .saturating_add(2);
        let from = self.lines.line_start(first);
        let to = self.lines.line_start(last).clamp(from, bytes.len());
        let local = miette::SourceSpan::new(span.offset().saturating_sub(from).into(), span.len());
        let part = bytes[from..to].read_span(&local, context_lines_before, context_lines_after)?;
        // Columns count characters, as in `--format json`.
        let column = if context_lines_before == 0 { self.lines.line_col(&self.text, span.offset()).1 - 1 } else { 0 };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            part.data(),
            miette::SourceSpan::new((part.span().offset() + from).into(), part.span().len()),
            part.line() + first,
            column,
            part.line_count() + first,
        )))
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

/// What kind of deceptive character `c` is, if it is one: a control character (a newline
/// splits a printed line), a bidirectional control (U+202E reverses what follows on a
/// terminal) or an invisible formatting character (a zero-width space makes two names look
/// alike). Names and variable values refuse them; messages escape them.
pub fn deceptive(c: char) -> Option<&'static str> {
    match c {
        c if c.is_control() => Some("control character"),
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            Some("bidirectional control character")
        }
        '\u{00AD}'
        | '\u{034F}'
        | '\u{115F}'
        | '\u{1160}'
        | '\u{17B4}'
        | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200D}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{2060}'..='\u{2064}'
        | '\u{206A}'..='\u{206F}'
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}'
        | '\u{FFA0}'
        | '\u{FFF9}'..='\u{FFFB}' => Some("invisible formatting character"),
        _ => None,
    }
}

/// `s` with every deceptive character written as `\u{XXXX}` (a newline as `\n`).
pub fn escape(s: &str) -> String {
    if !s.chars().any(|c| deceptive(c).is_some()) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if deceptive(c).is_some() => out.push_str(&format!("\\u{{{:04X}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// A user's value for a message: escaped, and cut to `max` characters (`…` and its length after).
pub fn quote(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return escape(s);
    }
    let head: String = s.chars().take(max).collect();
    format!("{}… ({n} characters)", escape(&head))
}

/// The source with deceptive characters (but newlines and tabs) replaced by `?`, one per byte,
/// so that every span still points at the same place and a snippet prints as it is.
pub fn mask_source(source: &str) -> String {
    source
        .chars()
        .map(|c| match c {
            '\n' | '\t' | '\r' => c.to_string(),
            c if deceptive(c).is_some() => "?".repeat(c.len_utf8()),
            c => c.to_string(),
        })
        .collect()
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

    /// The indexed reader gives miette exactly what its own whole-text reader gives (columns
    /// aside: ours count characters), for every span of texts with every kind of line end.
    #[test]
    fn the_indexed_source_reads_what_miette_reads() {
        let texts = [
            "",
            "a",
            "\n\n\n",
            "[plan]\nname = \"x\"\n\n[resources.a]\ntype = \"ec2:Vpc\"\ncidr_block = 1\n",
            "one\r\ntwo\r\n\r\nthree\rfour\n\nfive",
            "x = \"é€\"\ny = '😀'\n",
        ];
        for text in texts {
            let source =
                IndexedSource { name: "p.toml".into(), text: Arc::from(text), lines: Arc::new(LineIndex::new(text)) };
            for start in 0..=text.len() {
                for end in start..=text.len() {
                    for context in [0, 1, 2, 3] {
                        let span = miette::SourceSpan::new(start.into(), end - start);
                        let ours = source.read_span(&span, context, context);
                        let theirs = text.read_span(&span, context, context);
                        let (ours, theirs) = match (ours, theirs) {
                            (Ok(o), Ok(t)) => (o, t),
                            (o, t) => {
                                assert_eq!(o.is_ok(), t.is_ok(), "{text:?} {start}..{end} ±{context}");
                                continue;
                            }
                        };
                        let what = format!("{text:?} {start}..{end} ±{context}");
                        assert_eq!(ours.data(), theirs.data(), "{what}");
                        assert_eq!(ours.span(), theirs.span(), "{what}");
                        assert_eq!(ours.line(), theirs.line(), "{what}");
                        assert_eq!(ours.line_count(), theirs.line_count(), "{what}");
                        // Between the `\r` and `\n` of a CRLF, columns are a matter of taste.
                        let mid_crlf = start > 0 && text.as_bytes()[start - 1..].starts_with(b"\r\n");
                        if text.is_ascii() && !mid_crlf {
                            assert_eq!(ours.column(), theirs.column(), "{what}");
                        }
                        assert_eq!(ours.name(), Some("p.toml"));
                    }
                }
            }
        }
    }

    /// A span past the end of the file or inside a character (a check may compute one) is
    /// drawn at the nearest place instead of failing or panicking, in text and in JSON.
    #[test]
    fn spans_outside_the_text_or_inside_a_character_render() {
        let text = "a = \"é€\"\n";
        for (start, end) in [(6, 7), (7, 100), (100, 200), (9, 3)] {
            let problems = Problems::new(
                Path::new("p.toml"),
                Arc::from(text),
                vec![Problem::new("x", Span::new(start, end), "odd span").label("here")],
            );
            let rendered = problems.render_plain();
            assert!(rendered.contains("odd span") && !rendered.contains("Failed to read"), "{rendered}");
            let json = problems.to_json();
            assert_eq!(json[0].line, 1 + usize::from(start > text.len()), "{start}..{end}");
        }
    }

    /// Problems are placed right whatever their order, and many on one line are counted in
    /// one pass: the JSON columns of problems on a long line agree with a direct count.
    #[test]
    fn json_places_of_many_problems_agree_with_a_direct_count() {
        let line: String = (0..200).map(|i| if i % 3 == 0 { "é=1, " } else { "ab=2, " }).collect();
        let text = format!("[plan]\nt = {{ {line} }}\n");
        let problems: Vec<Problem> =
            text.match_indices('=').map(|(i, _)| Problem::new("x", Span::new(i, i + 1), format!("at {i}"))).collect();
        let all = Problems::new(Path::new("p.toml"), Arc::from(text.as_str()), problems);
        for (p, j) in all.problems.iter().zip(all.to_json()) {
            assert_eq!((j.line, j.column), crate::plan::line_col(&text, p.span.start), "{}", p.message);
        }
    }

    #[test]
    fn deceptive_characters_are_escaped_in_messages_and_masked_in_snippets() {
        let p = Problem::new("x", Span::default(), "name `a\nb\u{202E}c`").label("`\u{200B}`");
        assert_eq!(p.message, "name `a\\nb\\u{202E}c`");
        assert_eq!(p.label, "`\\u{200B}`");
        let src = "a = \"x\u{202E}y\"\nb = 1\n";
        let masked = mask_source(src);
        assert_eq!(masked.len(), src.len());
        assert_eq!(masked, "a = \"x???y\"\nb = 1\n");
        assert_eq!(quote(&"a".repeat(50), 10), "aaaaaaaaaa… (50 characters)");
        assert_eq!(deceptive('é'), None);
        assert_eq!(deceptive('\u{7F}'), Some("control character"));
    }

    #[test]
    fn nearest_offers_nothing_for_unrelated_words() {
        assert!(nearest("zzzz", ["engine", "port"]).is_empty());
    }
}
