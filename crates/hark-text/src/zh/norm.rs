//! Rewritten text that remembers where each character came from: the normalization passes
//! (numbers, punctuation) replace spans of the text, and every character they write maps to the
//! byte range of the caller's text it stands for, so each word can be highlighted later.

use std::ops::Range;

/// A rewritten text and, per character, the source byte range it stands for.
#[derive(Debug, Clone)]
pub(crate) struct Norm {
    text: String,
    /// One entry per char of `text`, in order: (byte offset in `text`, source range).
    map: Vec<(usize, Range<usize>)>,
}

impl Norm {
    /// The caller's text, each character standing for itself.
    pub(crate) fn new(src: &str) -> Self {
        Self {
            text: src.to_string(),
            map: src
                .char_indices()
                .map(|(i, c)| (i, i..i + c.len_utf8()))
                .collect(),
        }
    }

    /// The current text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Index in `map` of the char at byte `b` of `text` (or `map.len()` at the end).
    fn char_at(&self, b: usize) -> usize {
        self.map.partition_point(|(o, _)| *o < b)
    }

    /// The source range the bytes `r` of `text` stand for: from the first char's source start
    /// to the last char's source end; for an empty `r`, an empty range where it sits.
    pub(crate) fn src(&self, r: Range<usize>) -> Range<usize> {
        let (a, b) = (self.char_at(r.start), self.char_at(r.end));
        if a < b {
            self.map[a].1.start..self.map[b - 1].1.end
        } else {
            let at = self
                .map
                .get(a)
                .map(|m| m.1.start)
                .or_else(|| self.map.last().map(|m| m.1.end))
                .unwrap_or(0);
            at..at
        }
    }

    /// Replaces each byte range of `text` by its string (ranges sorted, not overlapping, on
    /// char boundaries). Every written char stands for the source of the range it replaces.
    pub(crate) fn rewrite(&self, edits: Vec<(Range<usize>, String)>) -> Norm {
        if edits.is_empty() {
            return self.clone();
        }
        let mut out = Norm {
            text: String::with_capacity(self.text.len() + 16),
            map: Vec::with_capacity(self.map.len() + 16),
        };
        let mut i = 0; // next entry of self.map to copy
        for (r, with) in edits {
            let a = self.char_at(r.start);
            out.copy_chars(self, i..a);
            let src = self.src(r.clone());
            for c in with.chars() {
                out.map.push((out.text.len(), src.clone()));
                out.text.push(c);
            }
            i = self.char_at(r.end);
        }
        out.copy_chars(self, i..self.map.len());
        out
    }

    /// Appends the chars `idx` (indices into `from.map`) of `from`, with their sources.
    fn copy_chars(&mut self, from: &Norm, idx: Range<usize>) {
        for (o, src) in &from.map[idx] {
            let c = from.text[*o..]
                .chars()
                .next()
                .expect("a char at each map entry");
            self.map.push((self.text.len(), src.clone()));
            self.text.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Norm;

    #[test]
    fn rewritten_chars_keep_their_source() {
        let n = Norm::new("买了2个，共¥5");
        let t = n.text();
        let two = t.find('2').unwrap();
        let yen = t.find('¥').unwrap();
        let r = n.rewrite(vec![
            (two..two + 1, "两".into()),
            (yen..t.len(), "五元".into()),
        ]);
        assert_eq!(r.text(), "买了两个，共五元");
        let liang = r.text().find('两').unwrap();
        assert_eq!(r.src(liang..liang + 3), two..two + 1);
        let wu = r.text().find('五').unwrap();
        assert_eq!(r.src(wu..r.text().len()), yen..t.len());
        // unchanged text keeps its own ranges, and empty ranges sit where they are
        assert_eq!(r.src(0..6), 0..6);
        assert_eq!(r.src(liang..liang), two..two);
        assert_eq!(r.src(r.text().len()..r.text().len()), t.len()..t.len());
    }
}
