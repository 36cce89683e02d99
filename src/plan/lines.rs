//! Byte offsets to lines and columns, in O(log n) per lookup: rendering N problems of a plan
//! costs O(N log n) plus what is printed, not O(N x file size).

/// Where each line of a text starts. A line ends at `\n`, `\r\n` or a lone `\r`, as miette
/// draws them, so that the text and JSON renderings agree on line numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    /// Byte offset of the first byte of each line; `starts[0] == 0`.
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    i += 1;
                    starts.push(i + 1);
                }
                b'\r' => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex { starts, len: text.len() }
    }

    /// How many lines the text has (an empty text has one, empty, line).
    pub fn lines(&self) -> usize {
        self.starts.len()
    }

    /// The 0-based line holding byte `offset` (offsets past the end are on the last line).
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.len);
        // starts[0] == 0 <= offset, so the partition point is at least 1.
        self.starts.partition_point(|&s| s <= offset).saturating_sub(1)
    }

    /// The byte offset where 0-based `line` starts (the text's length past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(self.len)
    }

    /// 1-based line and column of byte `offset` in `text` (the text this index was built
    /// from). The column counts characters, not bytes, as an editor does. Offsets past the
    /// end or inside a character are moved back to the nearest character boundary.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(text, offset);
        let line = self.line_of(offset);
        let start = self.line_start(line).min(offset);
        let column = text.get(start..offset).map_or(0, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// [`Self::line_col`] of many offsets at once, in one pass over the text: O(n + k log k)
    /// for k offsets, even when all of them are on one long line.
    pub fn line_cols(&self, text: &str, offsets: &[usize]) -> Vec<(usize, usize)> {
        let mut order: Vec<usize> = (0..offsets.len()).collect();
        order.sort_by_key(|&i| offsets[i]);
        let mut out = vec![(1, 1); offsets.len()];
        // The last position computed: its byte offset, line (0-based) and column (0-based).
        let mut at: Option<(usize, usize, usize)> = None;
        for i in order {
            let offset = floor_char_boundary(text, offsets[i]);
            let line = self.line_of(offset);
            let start = self.line_start(line).min(offset);
            let column = match at {
                Some((prev, prev_line, prev_col)) if prev_line == line && prev >= start => {
                    prev_col + text.get(prev..offset).map_or(0, |s| s.chars().count())
                }
                _ => text.get(start..offset).map_or(0, |s| s.chars().count()),
            };
            at = Some((offset, line, column));
            out[i] = (line + 1, column + 1);
        }
        out
    }
}

/// `offset`, clamped to `text` and moved back to the start of the character it falls in.
pub fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious quadratic definition, to check the index against.
    fn naive(text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(text, offset);
        let mut line = 1;
        let mut column = 1;
        for (i, c) in text[..offset].char_indices() {
            match c {
                // The `\r` of a CRLF: the line ends after the `\n`.
                '\r' if text.as_bytes().get(i + 1) == Some(&b'\n') => column += 1,
                '\n' | '\r' => {
                    line += 1;
                    column = 1;
                }
                _ => column += 1,
            }
        }
        (line, column)
    }

    #[test]
    fn lines_end_at_lf_crlf_and_lone_cr() {
        let text = "a\nbc\r\nd\re";
        let idx = LineIndex::new(text);
        assert_eq!(idx.lines(), 4);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        assert_eq!(idx.line_col(text, 2), (2, 1));
        assert_eq!(idx.line_col(text, 3), (2, 2));
        // The `\n` of a CRLF is still on the line it ends.
        assert_eq!(idx.line_col(text, 5), (2, 4));
        assert_eq!(idx.line_col(text, 6), (3, 1));
        assert_eq!(idx.line_col(text, 8), (4, 1));
        assert_eq!(idx.line_col(text, 99), (4, 2), "past the end: the end");
    }

    #[test]
    fn columns_count_characters_and_offsets_inside_one_never_panic() {
        let text = "k = \"é€${x\"\n";
        let idx = LineIndex::new(text);
        let dollar = text.find('$').unwrap_or_default();
        assert_eq!(idx.line_col(text, dollar), (1, 8));
        // Inside `€` (3 bytes): the start of `€`.
        let euro = text.find('€').unwrap_or_default();
        assert_eq!(idx.line_col(text, euro + 1), (1, 7));
        assert_eq!(idx.line_col(text, euro + 2), (1, 7));
    }

    #[test]
    fn the_index_agrees_with_the_naive_count_everywhere() {
        let texts =
            ["", "\n", "\r\n\r\n", "\r\r\n\n\r", "[plan]\r\nname = \"é\"\n\n# ü€\rx = 1", "a = \"\"\"\nx\r\ny\"\"\"\n"];
        for text in texts {
            let idx = LineIndex::new(text);
            let all: Vec<usize> = (0..=text.len() + 2).collect();
            let batch = idx.line_cols(text, &all);
            for &o in &all {
                assert_eq!(idx.line_col(text, o), naive(text, o), "{text:?} at {o}");
                assert_eq!(batch[o], naive(text, o), "batch: {text:?} at {o}");
            }
            // Out of order, with repeats.
            let shuffled: Vec<usize> = all.iter().rev().chain(all.iter()).copied().collect();
            let batch = idx.line_cols(text, &shuffled);
            for (i, &o) in shuffled.iter().enumerate() {
                assert_eq!(batch[i], naive(text, o), "shuffled: {text:?} at {o}");
            }
        }
    }
}
