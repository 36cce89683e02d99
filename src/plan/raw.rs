//! Offsets in a decoded TOML string back to offsets in the plan file.
//!
//! `${...}` references are found in the decoded value, where `\u00e9` is one character and a
//! `"""` string's first newline is gone. A problem must point at what the user wrote, so the
//! string's token is decoded again by `toml_parser` (the decoder `toml` itself uses) into a
//! recorder that notes where in the token each decoded piece came from.

use toml_parser::decoder::{Encoding, StringBuilder};

use super::Span;

/// A decoded piece: literal text copied from the token, or one character an escape produced.
#[derive(Debug, Clone, Copy)]
struct Piece {
    /// Where it starts in the decoded text.
    decoded: usize,
    /// Where it starts in the token.
    raw: usize,
    /// Where it ends in the token (for an escape, the byte after it).
    raw_end: usize,
    literal: bool,
}

/// The map of one string value.
#[derive(Debug)]
pub(super) struct RawString {
    /// The token's span in the file.
    token: Span,
    /// None when the token could not be mapped: every span is then the whole token.
    pieces: Option<Vec<Piece>>,
}

impl RawString {
    /// Maps the string token at `token` in `source`, whose decoded value is `decoded`.
    pub(super) fn map(source: &str, token: Span, decoded: &str) -> RawString {
        let pieces = source.get(token.start..token.end).and_then(|raw| record(raw, decoded));
        RawString { token, pieces }
    }

    /// The span in the file of the decoded range `start..end`.
    pub(super) fn span(&self, start: usize, end: usize) -> Span {
        match &self.pieces {
            Some(pieces) => {
                let s = self.token.start + raw_offset(pieces, start);
                let e = self.token.start + raw_offset(pieces, end).max(raw_offset(pieces, start));
                Span::new(s, e)
            }
            None => self.token,
        }
    }
}

/// The token offset of decoded offset `at`.
fn raw_offset(pieces: &[Piece], at: usize) -> usize {
    // The last piece starting at or before `at`; empty literal pieces before an escape at the
    // same place come first, so the escape wins.
    let i = pieces.partition_point(|p| p.decoded <= at);
    let Some(p) = i.checked_sub(1).and_then(|i| pieces.get(i)) else {
        return pieces.first().map_or(0, |p| p.raw);
    };
    if p.literal {
        (p.raw + (at - p.decoded)).min(p.raw_end)
    } else if at == p.decoded {
        p.raw
    } else {
        p.raw_end
    }
}

/// Decodes `raw` (a whole string token, quotes included) recording its pieces; None if it is
/// not a string token or decodes to something other than `decoded`.
fn record(raw: &str, decoded: &str) -> Option<Vec<Piece>> {
    let encoding = if raw.starts_with("'''") {
        Encoding::MlLiteralString
    } else if raw.starts_with('\'') {
        Encoding::LiteralString
    } else if raw.starts_with("\"\"\"") {
        Encoding::MlBasicString
    } else if raw.starts_with('"') {
        Encoding::BasicString
    } else {
        return None;
    };
    let token = toml_parser::Raw::new_unchecked(raw, Some(encoding), toml_parser::Span::new_unchecked(0, raw.len()));
    let mut rec = Recorder { raw, text: String::new(), pieces: Vec::new(), last_end: 0, ok: true };
    let _kind = token.decode_scalar(&mut rec, &mut ());
    // An escape's end is where the next literal piece starts; the last one ends where the text
    // does (before the closing quotes).
    let end = rec.last_end;
    if let Some(p) = rec.pieces.last_mut().filter(|p| !p.literal) {
        p.raw_end = end.max(p.raw);
    }
    (rec.ok && rec.text == decoded).then_some(rec.pieces)
}

struct Recorder<'i> {
    raw: &'i str,
    text: String,
    pieces: Vec<Piece>,
    /// Where the last literal piece ended in the token.
    last_end: usize,
    ok: bool,
}

impl<'i> StringBuilder<'i> for Recorder<'i> {
    fn clear(&mut self) {
        self.text.clear();
        self.pieces.clear();
        self.last_end = 0;
    }

    fn push_str(&mut self, append: &'i str) -> bool {
        // `append` is a slice of the token: its address says where.
        let at = (append.as_ptr() as usize).checked_sub(self.raw.as_ptr() as usize);
        let Some(at) = at.filter(|at| at + append.len() <= self.raw.len()) else {
            self.ok = false;
            return true;
        };
        if let Some(p) = self.pieces.last_mut().filter(|p| !p.literal) {
            p.raw_end = at.max(p.raw);
        }
        self.pieces.push(Piece { decoded: self.text.len(), raw: at, raw_end: at + append.len(), literal: true });
        self.text.push_str(append);
        self.last_end = at + append.len();
        true
    }

    fn push_char(&mut self, append: char) -> bool {
        // An escape: it starts where the previous literal piece ended.
        if let Some(p) = self.pieces.last_mut().filter(|p| !p.literal) {
            // Two escapes in a row have an empty literal piece between them in toml_parser;
            // should one ever not, the first one ends where the second starts.
            p.raw_end = self.last_end.max(p.raw);
        }
        self.pieces.push(Piece {
            decoded: self.text.len(),
            raw: self.last_end,
            raw_end: self.last_end,
            literal: false,
        });
        self.text.push(append);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The raw text a decoded range maps to, in a one-value document `v = <token>`.
    fn raw_of(token: &str, decoded: &str, start: usize, end: usize) -> String {
        let source = format!("v = {token}\n");
        let span = Span::new(4, 4 + token.len());
        let map = RawString::map(&source, span, decoded);
        assert!(map.pieces.is_some(), "{token} was not mapped");
        let s = map.span(start, end);
        source[s.start..s.end].to_string()
    }

    #[test]
    fn escapes_map_to_what_was_written() {
        // "é€€${bad" with é written as an escape: `$` is byte 8 decoded, 13 in the token.
        let decoded = "é€€${bad";
        assert_eq!(raw_of(r#""\u00e9€€${bad""#, decoded, 8, decoded.len()), "${bad");
        assert_eq!(raw_of(r#""\u00e9€€${bad""#, decoded, 0, 2), r"\u00e9");
        assert_eq!(raw_of(r#""a\n${x.y}\t""#, "a\n${x.y}\t", 2, 8), "${x.y}");
        assert_eq!(raw_of(r#""\\${x.y}""#, "\\${x.y}", 1, 7), "${x.y}");
        assert_eq!(raw_of(r#""\u0024{x.y}""#, "${x.y}", 0, 6), r"\u0024{x.y}");
    }

    #[test]
    fn multi_line_and_literal_strings_map_too() {
        // The newline after `"""` is not part of the value.
        let decoded = "one\n${x.y}\n";
        assert_eq!(raw_of("\"\"\"\none\n${x.y}\n\"\"\"", decoded, 4, 10), "${x.y}");
        assert_eq!(raw_of("\"\"\"\r\none\r\n${x.y}\r\n\"\"\"", "one\r\n${x.y}\r\n", 5, 11), "${x.y}");
        // A line-ending backslash drops the newline and the indentation after it.
        assert_eq!(raw_of("\"\"\"a \\\n    ${x.y}\"\"\"", "a ${x.y}", 2, 8), "${x.y}");
        assert_eq!(raw_of("'C:\\${x.y}'", "C:\\${x.y}", 3, 9), "${x.y}");
        assert_eq!(raw_of("'''\n${x.y}'''", "${x.y}", 0, 6), "${x.y}");
    }

    #[test]
    fn a_value_that_does_not_match_its_token_points_at_the_whole_token() {
        let source = "v = \"abc\"\n";
        let map = RawString::map(source, Span::new(4, 9), "something else");
        assert_eq!(map.span(2, 3), Span::new(4, 9));
        let map = RawString::map(source, Span::new(4, 99), "abc");
        assert_eq!(map.span(0, 1), Span::new(4, 99));
    }
}
