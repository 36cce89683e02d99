//! `${...}` references inside plan strings.
//!
//! `${NAME.ATTR}` is an output of another resource (and an edge of the graph), `${var.NAME}` a
//! plan variable, `${aws.region}` and `${aws.account_id}` facts of the target account. `$${`
//! writes a literal `${`.

use super::Span;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ref {
    Resource { name: String, attr: String },
    Var(String),
    Region,
    AccountId,
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ref::Resource { name, attr } => write!(f, "${{{name}.{attr}}}"),
            Ref::Var(v) => write!(f, "${{var.{v}}}"),
            Ref::Region => f.write_str("${aws.region}"),
            Ref::AccountId => f.write_str("${aws.account_id}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Lit(String),
    Ref(Ref, Span),
}

/// A string value split into literal text and references.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    pub parts: Vec<Part>,
}

/// A malformed reference: what is wrong, where, and what to write instead.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    pub message: String,
    pub span: Span,
    pub help: String,
}

impl Template {
    /// Parses `text`, whose first byte sits at `base` in the plan source (used for spans).
    pub fn parse(text: &str, base: usize) -> Result<Template, TemplateError> {
        Template::parse_with(text, |start, end| Span::new(base + start, base + end))
    }

    /// Parses `text`; `span_of(start, end)` turns a byte range of `text` into the span of the
    /// plan source it was written at (a decoded string is not its token: see `plan::raw`).
    pub fn parse_with(text: &str, span_of: impl Fn(usize, usize) -> Span) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        let mut pos = 0;
        while let Some(i) = rest.find('$') {
            lit.push_str(&rest[..i]);
            let after = &rest[i..];
            if let Some(tail) = after.strip_prefix("$${") {
                lit.push_str("${");
                rest = tail;
                pos += i + 3;
                continue;
            }
            if !after.starts_with("${") {
                lit.push('$');
                rest = &after[1..];
                pos += i + 1;
                continue;
            }
            let start = pos + i;
            let Some(close) = after.find('}') else {
                return Err(TemplateError {
                    message: "unclosed reference".into(),
                    span: span_of(start, text.len()),
                    help: "close it with `}`, as in `${vpc.id}`".into(),
                });
            };
            let inner = after[2..close].trim();
            let span = span_of(start, start + close + 1);
            let r = parse_ref(inner).map_err(|(message, help)| TemplateError { message, span, help })?;
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            parts.push(Part::Ref(r, span));
            rest = &after[close + 1..];
            pos = start + close + 1;
        }
        lit.push_str(rest);
        if !lit.is_empty() || parts.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template { parts })
    }

    /// The text, if the string holds no reference.
    pub fn as_literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Lit(s)] => Some(s),
            _ => None,
        }
    }

    /// The reference, if the string is exactly one reference (it then keeps the referenced
    /// value's type: a list stays a list).
    pub fn as_single_ref(&self) -> Option<&Ref> {
        match self.parts.as_slice() {
            [Part::Ref(r, _)] => Some(r),
            _ => None,
        }
    }

    /// The template as the user wrote it (modulo escapes), for messages and comparisons.
    pub fn source_text(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Lit(s) => s.replace("${", "$${"),
                Part::Ref(r, _) => r.to_string(),
            })
            .collect()
    }
}

fn parse_ref(inner: &str) -> Result<Ref, (String, String)> {
    let example = "write `${resource.attribute}`, `${var.NAME}`, `${aws.region}` or `${aws.account_id}`";
    let mut it = inner.splitn(2, '.');
    let head = it.next().unwrap_or_default();
    let Some(tail) = it.next() else {
        return Err((format!("reference `${{{inner}}}` names no attribute"), example.into()));
    };
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident(head) || !ident(tail) {
        return Err((format!("`${{{inner}}}` is not a reference"), example.into()));
    }
    Ok(match head {
        "var" => Ref::Var(tail.to_string()),
        "aws" => match tail {
            "region" => Ref::Region,
            "account_id" => Ref::AccountId,
            other => {
                return Err((
                    format!("`aws.{other}` is not a known fact of the target account"),
                    "use `${aws.region}` or `${aws.account_id}`".into(),
                ));
            }
        },
        name => Ref::Resource { name: name.to_string(), attr: tail.to_string() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_literals_and_references() {
        let t = Template::parse("healthcare-${var.environment_suffix}-${vpc.id}", 0).unwrap();
        assert_eq!(t.parts.len(), 4);
        assert_eq!(t.parts[1], Part::Ref(Ref::Var("environment_suffix".into()), Span::new(11, 36)));
        assert_eq!(t.parts[3], Part::Ref(Ref::Resource { name: "vpc".into(), attr: "id".into() }, Span::new(37, 46)));
    }

    #[test]
    fn single_reference_is_recognised() {
        let t = Template::parse("${private_a.id}", 0).unwrap();
        assert!(t.as_single_ref().is_some());
        assert!(Template::parse("x${a.b}", 0).unwrap().as_single_ref().is_none());
    }

    #[test]
    fn escapes_and_lone_dollars_stay_literal() {
        let t = Template::parse("cost $5 and $${literal}", 0).unwrap();
        assert_eq!(t.as_literal(), Some("cost $5 and ${literal}"));
    }

    #[test]
    fn malformed_references_are_errors() {
        assert!(Template::parse("${vpc}", 0).unwrap_err().message.contains("names no attribute"));
        assert!(Template::parse("${vpc.id", 0).unwrap_err().message.contains("unclosed"));
        assert!(Template::parse("${aws.partition}", 0).unwrap_err().message.contains("not a known"));
        assert!(Template::parse("${a b.c}", 0).is_err());
    }
}
