//! Which output words of espeak-ng belong to which words of the text, for highlighting.
//!
//! espeak-ng reads a whole segment at once (so its phonemes keep their context) and keeps word
//! boundaries as spaces, but not one output word per input word: numbers expand ("1957" →
//! four words), acronyms are spelled, CamelCase splits, and a few pairs merge ("parce que" →
//! one word). Each text word is also read alone; the alignment then matches those readings to
//! the segment's output words by edit distance, allowing a text word to take several output
//! words (or none) and up to three text words to share output words.

use std::ops::Range;

/// The largest segment aligned by dynamic programming (text words × output words); a larger
/// one (a run-on list without punctuation) is matched by the words' own counts.
const MAX_CELLS: usize = 40_000;
/// At most this many text words may share their output words.
const MAX_MERGE: usize = 3;

/// The characters that matter for matching: stress and length marks differ between a word
/// read alone and in context.
fn key(words: &[String]) -> Vec<char> {
    words
        .iter()
        .flat_map(|w| w.chars())
        .filter(|c| !matches!(c, 'ˈ' | 'ˌ' | 'ː'))
        .collect()
}

fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Groups (text words, output words) covering both sequences in order. `alone[i]` is text word
/// i read alone, `out` the segment's output words.
pub(crate) fn align(alone: &[Vec<String>], out: &[String]) -> Vec<(Range<usize>, Range<usize>)> {
    let (n, m) = (alone.len(), out.len());
    if n == 0 {
        return Vec::new();
    }
    if n * (m + 1) > MAX_CELLS {
        let counts: Vec<usize> = alone.iter().map(Vec::len).collect();
        return by_counts(&counts, m);
    }
    const INF: usize = usize::MAX / 4;
    // best[i][j]: cost of matching text words ..i with output words ..j; `from` the step.
    let mut best = vec![vec![INF; m + 1]; n + 1];
    let mut from = vec![vec![(0usize, 0usize); m + 1]; n + 1];
    best[0][0] = 0;
    let out_keys: Vec<Vec<char>> = out.iter().map(|w| key(std::slice::from_ref(w))).collect();
    for i in 0..n {
        for j in 0..=m {
            let base = best[i][j];
            if base >= INF {
                continue;
            }
            for a in 1..=MAX_MERGE.min(n - i) {
                let group: Vec<String> = alone[i..i + a].iter().flatten().cloned().collect();
                let want = key(&group);
                let kmax = (group.len() + 3).min(m - j);
                let mut got: Vec<char> = Vec::new();
                for k in 0..=kmax {
                    if k > 0 {
                        got.extend_from_slice(&out_keys[j + k - 1]);
                    }
                    // a text word without output, or words sharing theirs, only when it pays
                    let penalty = (a - 1) * 2 + usize::from(k == 0 && !want.is_empty());
                    let cost = base + levenshtein(&want, &got) + penalty;
                    if cost < best[i + a][j + k] {
                        best[i + a][j + k] = cost;
                        from[i + a][j + k] = (i, j);
                    }
                }
            }
        }
    }
    if best[n][m] >= INF {
        let counts: Vec<usize> = alone.iter().map(Vec::len).collect();
        return by_counts(&counts, m);
    }
    let mut groups = Vec::new();
    let (mut i, mut j) = (n, m);
    while i > 0 {
        let (pi, pj) = from[i][j];
        groups.push((pi..i, pj..j));
        (i, j) = (pi, pj);
    }
    groups.reverse();
    groups
}

/// Text word i takes `counts[i]` output words (at least one each while they last); the last
/// word takes what is left.
pub(crate) fn by_counts(counts: &[usize], m: usize) -> Vec<(Range<usize>, Range<usize>)> {
    let mut groups = Vec::with_capacity(counts.len());
    let mut j = 0;
    for (i, &c) in counts.iter().enumerate() {
        let end = if i + 1 == counts.len() {
            m
        } else {
            (j + c).min(m)
        };
        groups.push((i..i + 1, j..end));
        j = end;
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn numbers_take_their_words() {
        // "En 1957 la familia": the year reads as four words
        let alone = vec![
            w("ˈen"),
            w("mˈil nˌoβeθjˈɛntos θinkwˌɛntaisjˈete"),
            w("lˈa"),
            w("famˈilja"),
        ];
        let out = w("en mˈil nˌoβeθjˈɛntos θinkwˌɛntaisjˈete la famˈilja");
        assert_eq!(
            align(&alone, &out),
            [(0..1, 0..1), (1..2, 1..4), (2..3, 4..5), (3..4, 5..6)]
        );
    }

    #[test]
    fn merged_and_silent_words() {
        // "parce que" reads as one word; "-" reads as nothing
        let alone = vec![w("mˈɛm"), w("pˈaʁs"), w("kˈə"), w(""), w("bjˈɛ̃")];
        let out = w("mˈɛm paʁskˈə bjˈɛ̃");
        assert_eq!(
            align(&alone, &out),
            [(0..1, 0..1), (1..3, 1..2), (3..4, 2..2), (4..5, 2..3)]
        );
    }

    #[test]
    fn counts_fallback() {
        assert_eq!(
            by_counts(&[1, 2, 1], 5),
            [(0..1, 0..1), (1..2, 1..3), (2..3, 3..5)]
        );
        assert_eq!(by_counts(&[2, 2], 1), [(0..1, 0..1), (1..2, 1..1)]);
    }
}
