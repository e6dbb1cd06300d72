//! MeCab's lattice and Viterbi search (`Tokenizer::lookup`, `Viterbi::viterbi`, `connect`).
//!
//! At every byte position some word ends at, the dictionary words starting there (after any
//! spaces) and the unknown-word candidates of the first character's class become nodes; each
//! node takes the cheapest predecessor (`cost(prev) + matrix[prev.rc][node.lc] + node.wcost`).
//! Equal costs are settled as MeCab settles them: predecessors are compared latest start
//! first and, among those starting together, in the order they were made; only a strictly
//! lower cost replaces the best so far.

use super::chars::{CharInfo, CharTable};
use super::{Dictionary, Token};

/// MeCab's default `max-grouping-size` (unidic-lite's `dicrc` leaves it unset).
const MAX_GROUPING: usize = 24;

/// A lattice node.
#[derive(Debug, Clone, Copy)]
pub(super) struct Node {
    pub(super) start: u32,
    pub(super) end: u32,
    lc: u16,
    rc: u16,
    wcost: i16,
    pub(super) feature: u32,
    pub(super) unknown: bool,
    pub(super) char_type: u8,
    cost: i64,
    prev: u32,
}

/// The text's characters with their classes.
struct Chars<'t> {
    /// Byte offset of each character, then the text's length.
    at: Vec<u32>,
    info: Vec<CharInfo>,
    /// For each character, the end (exclusive character index) of the run it starts in which
    /// each character shares a category with the one before (MeCab's `seekToOtherType`).
    run_end: Vec<u32>,
    /// Character index of each byte offset that starts a character.
    index: Vec<u32>,
    table: CharTable<'t>,
}

impl<'t> Chars<'t> {
    fn new(text: &str, table: CharTable<'t>) -> Self {
        let mut at = Vec::with_capacity(text.len() + 1);
        let mut info = Vec::with_capacity(text.len());
        let mut index = vec![0u32; text.len() + 1];
        for (i, c) in text.char_indices() {
            index[i] = at.len() as u32;
            at.push(i as u32);
            info.push(table.of(c));
        }
        index[text.len()] = at.len() as u32;
        at.push(text.len() as u32);
        let n = info.len();
        let mut run_end = vec![n as u32; n];
        for i in (0..n.saturating_sub(1)).rev() {
            run_end[i] = if info[i].kind_of(info[i + 1]) {
                run_end[i + 1]
            } else {
                i as u32 + 1
            };
        }
        Self {
            at,
            info,
            run_end,
            index,
            table,
        }
    }

    fn count(&self) -> usize {
        self.info.len()
    }
}

/// Builds nodes for one position and connects them.
struct Lattice<'a, 't> {
    dic: &'a Dictionary,
    chars: Chars<'t>,
    text: &'a [u8],
    nodes: Vec<Node>,
    /// Per byte position, the nodes ending there, in the order they were connected.
    ends: Vec<Vec<u32>>,
    prefixes: Vec<(u32, usize)>,
}

impl Lattice<'_, '_> {
    fn push(&mut self, start: usize, end: usize, t: Token, unknown: bool, char_type: u8) {
        self.nodes.push(Node {
            start: start as u32,
            end: end as u32,
            lc: t.lc,
            rc: t.rc,
            wcost: t.wcost,
            feature: t.feature,
            unknown,
            char_type,
            cost: 0,
            prev: 0,
        });
    }

    /// MeCab's `ADDUNKNWON`: one node per unknown-word entry of the class's category.
    fn add_unknown(&mut self, start: usize, end: usize, cinfo: CharInfo) {
        if end > self.text.len() {
            return; // past the text: it could never reach the end of the sentence
        }
        let cat = cinfo.default_type();
        let Some(range) = self.dic.unk_tokens.get(cat as usize).cloned() else {
            return;
        };
        for k in range {
            if let Some(t) = self.dic.unk.token(k) {
                self.push(start, end, t, true, cat);
            }
        }
    }

    /// MeCab's `Tokenizer::lookup` at byte `pos`: appends the nodes starting there.
    fn lookup(&mut self, pos: usize) {
        let created = self.nodes.len();
        // skip spaces (chained class comparison, starting from U+0020's class)
        let mut ci = self.chars.index[pos] as usize;
        let mut c = self.dic.space;
        while ci < self.chars.count() && c.kind_of(self.chars.info[ci]) {
            c = self.chars.info[ci];
            ci += 1;
        }
        if ci == self.chars.count() {
            return; // only spaces left: MeCab's nodes here would end past the text
        }
        let begin2 = self.chars.at[ci] as usize;
        let cinfo = self.chars.info[ci];
        let mut prefixes = std::mem::take(&mut self.prefixes);
        self.dic
            .sys
            .trie()
            .common_prefixes(&self.text[begin2..], &mut prefixes);
        for &(value, len) in &prefixes {
            let first = (value >> 8) as usize;
            for j in 0..(value & 0xFF) as usize {
                if let Some(t) = self.dic.sys.token(first + j) {
                    self.push(begin2, begin2 + len, t, false, cinfo.default_type());
                }
            }
        }
        self.prefixes = prefixes;
        if self.nodes.len() > created && !cinfo.invoke() {
            return;
        }
        let mut b3 = ci + 1; // character index of MeCab's begin3
        let mut group_end = None;
        if cinfo.group() {
            let end = self.chars.run_end[ci] as usize;
            if end - (ci + 1) <= MAX_GROUPING {
                self.add_unknown(begin2, self.chars.at[end] as usize, cinfo);
            }
            group_end = Some(end);
        }
        for _ in 1..=cinfo.length() {
            if b3 > self.chars.count() {
                break;
            }
            if Some(b3) == group_end {
                continue;
            }
            self.add_unknown(begin2, self.chars.at[b3] as usize, cinfo);
            // past the text MeCab reads the terminating NUL, code 0
            let next = match self.chars.info.get(b3) {
                Some(&i) => i,
                None => self.chars.table.info(0),
            };
            if !cinfo.kind_of(next) {
                break;
            }
            b3 += 1;
        }
        if self.nodes.len() == created && b3 <= self.chars.count() {
            self.add_unknown(begin2, self.chars.at[b3] as usize, cinfo);
        }
    }

    /// The cheapest predecessor among the nodes ending at `pos` for a node whose left context
    /// is `lc`: `(node, cost)`.
    fn best_left(&self, pos: usize, lc: u16, wcost: i64) -> Option<(u32, i64)> {
        let mut best: Option<(u32, i64)> = None;
        for &l in self.ends[pos].iter().rev() {
            let ln = &self.nodes[l as usize];
            let cost = ln.cost + self.dic.connection(ln.rc, lc) + wcost;
            if best.is_none_or(|(_, b)| cost < b) {
                best = Some((l, cost));
            }
        }
        best
    }
}

/// The best path through `text`'s lattice, without BOS and EOS.
pub(super) fn best_path(dic: &Dictionary, text: &str) -> Vec<Node> {
    let n = text.len();
    let mut lat = Lattice {
        dic,
        chars: Chars::new(text, dic.char_table()),
        text: text.as_bytes(),
        nodes: Vec::with_capacity(n * 4 + 1),
        ends: vec![Vec::new(); n + 1],
        prefixes: Vec::new(),
    };
    let bos = Token {
        lc: 0,
        rc: 0,
        wcost: 0,
        feature: 0,
    };
    lat.push(0, 0, bos, false, 0);
    lat.ends[0].push(0);
    for pos in 0..n {
        if lat.ends[pos].is_empty() {
            continue;
        }
        let first = lat.nodes.len();
        lat.lookup(pos);
        // MeCab connects the new nodes last-made first; each goes to the front of its end
        // list, which is why the lists are read backwards.
        for r in (first..lat.nodes.len()).rev() {
            let (lc, wcost) = (lat.nodes[r].lc, lat.nodes[r].wcost as i64);
            let Some((prev, cost)) = lat.best_left(pos, lc, wcost) else {
                continue;
            };
            let node = &mut lat.nodes[r];
            node.prev = prev;
            node.cost = cost;
            let end = node.end as usize;
            lat.ends[end].push(r as u32);
        }
    }
    let Some(last) = (0..=n).rev().find(|&p| !lat.ends[p].is_empty()) else {
        return Vec::new();
    };
    let Some((mut at, _)) = lat.best_left(last, 0, 0) else {
        return Vec::new();
    };
    let mut path = Vec::new();
    while at != 0 {
        let node = lat.nodes[at as usize];
        path.push(node);
        at = node.prev;
    }
    path.reverse();
    path
}
