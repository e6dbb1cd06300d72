//! # The Japanese (ja) front end
//!
//! Japanese text → phonemes for Kokoro-82M v1.0's Japanese voices, the way misaki 0.9.4's
//! `JAG2P()` (its cutlet path) reads it, in Rust:
//!
//! 1. normalization ([`norm`](self)): wave dash before digits → から, NFKC, full-width
//!    quotes to ASCII; numbers to hiragana as num2kana writes them ([`numbers`](self)), with
//!    hark's corrections (separators, decimals, `%`, counters);
//! 2. MeCab's segmentation with the unidic-lite 1.0.8 dictionary, by our own reader of MeCab's
//!    compiled dictionary and lattice ([`mecab`](self)); the dictionary is memory-mapped from
//!    the installed assets (`hark fetch --japanese`, see `hark-assets`);
//! 3. each word's reading (UniDic's pronunciation, else its kana, else its surface) in
//!    hiragana; words joined back into misaki's list words ([`words`](self)); the reading
//!    through misaki's kana→IPA table with its rules for small kana, っ (ʔ), ん (by the next
//!    sound) and ー ([`kana`](self)); ASCII words copied, symbols mapped;
//! 4. misaki's spacing: a space after each word, none before closing marks, none around ʔ
//!    inside words.
//!
//! hark reads differently from misaki on purpose where misaki is wrong, and says so in
//! `tests/ja.rs`: counters after numbers (`12時` じゅうにじ, not じゅうにとき), `（）` kept as
//! parentheses (misaki writes `« »`, which the model drops), `1,500` read whole,
//! `25.5` and `%` read. [`JaG2p::misaki_exact`] turns these off.
//!
//! The result has the shape of the English G2P's: a [`Phonemized`] with one token per word
//! (misaki's groups), each with the byte range of the input it came from.
//!
//! ```no_run
//! use hark_text::ja::JaG2p;
//! let ja = JaG2p::load(std::path::Path::new("/path/to/assets/ja"))?; // maps the dictionary
//! assert_eq!(ja.phonemize("猫が好きです。").phonemes(), "neko ɡa sɨkʲi desɨ.");
//! # Ok::<(), hark_text::ja::LoadError>(())
//! ```

mod kana;
mod mecab;
mod norm;
mod numbers;
mod words;

use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::g2p::{Phonemized, Token};
use mecab::{Dictionary, Morph};
use words::WordList;

/// The files [`JaG2p::load`] reads from its directory: MeCab's compiled unidic-lite
/// dictionary and misaki's word list.
pub const FILES: [&str; 5] = [
    "sys.dic",
    "unk.dic",
    "matrix.bin",
    "char.bin",
    "ja_words.txt",
];

/// Why the Japanese dictionary could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file could not be opened or mapped.
    #[error("cannot read the Japanese dictionary file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not what it should be (truncated, another format, parts that do not fit).
    #[error("the Japanese dictionary file {} is unusable: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl LoadError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    fn format(path: &Path, reason: &str) -> Self {
        Self::Format {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}

/// misaki's kana→IPA table, every entry: `(kana, phonemes)` (one kana, a pair read as one
/// sound, or a punctuation mark).
pub fn kana_table() -> impl Iterator<Item = (String, &'static str)> {
    kana::table()
}

/// Which number readings to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Readings {
    /// misaki's, mistakes included.
    Misaki,
    /// hark's corrections.
    Hark,
}

/// MeCab's character category of symbols in unidic-lite (`SYMBOL`).
const SYMBOL: u8 = 3;
/// `HIRAGANA`, which misaki gives every known word.
const HIRAGANA: u8 = 6;
/// `KATAKANA`, which misaki counts as a known word too.
const KATAKANA: u8 = 7;

/// The Japanese grapheme-to-phoneme converter. `Send + Sync`: load once, share.
pub struct JaG2p {
    dict: Dictionary,
    words: WordList,
    readings: Readings,
}

impl std::fmt::Debug for JaG2p {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JaG2p")
            .field("dict", &self.dict)
            .field("words", &self.words)
            .field("readings", &self.readings)
            .finish()
    }
}

/// One word (or group of words): its span in the rewritten text, surface (without the spaces
/// between grouped words), reading and category.
struct Word<'t> {
    span: Range<usize>,
    surface: Cow<'t, str>,
    hira: String,
    char_type: u8,
}

/// Field `i` of a MeCab feature string (CSV: a field in double quotes may hold commas).
fn feature_field(feature: &str, i: usize) -> Option<Cow<'_, str>> {
    if !feature.contains('"') {
        return feature.split(',').nth(i).map(Cow::Borrowed);
    }
    let mut fields = 0;
    let mut cur = String::new();
    let mut chars = feature.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match c {
            '"' if at_start => quoted = true,
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            '"' if quoted => quoted = false,
            ',' if !quoted => {
                if fields == i {
                    return Some(Cow::Owned(cur));
                }
                fields += 1;
                cur.clear();
                at_start = true;
                continue;
            }
            _ => cur.push(c),
        }
        at_start = false;
    }
    (fields == i).then_some(Cow::Owned(cur))
}

/// Python's `x in s` for strings: `x` is a substring of `s` (the empty string always is).
fn within(x: &str, s: &str) -> bool {
    s.contains(x)
}

impl JaG2p {
    /// Maps the dictionary and reads the word list in `dir` (the files of [`FILES`]).
    pub fn load(dir: &Path) -> Result<Self, LoadError> {
        Ok(Self {
            dict: Dictionary::open(dir)?,
            words: WordList::load(&dir.join("ja_words.txt"))?,
            readings: Readings::Hark,
        })
    }

    /// Reads exactly as misaki does, without hark's corrections: for comparing with the
    /// reference.
    pub fn misaki_exact(mut self) -> Self {
        self.readings = Readings::Misaki;
        self
    }

    /// The phonemes of `text`, with one token per word (see the module docs). Never panics;
    /// empty or blank text gives no tokens.
    pub fn phonemize(&self, text: &str) -> Phonemized {
        if text.trim().is_empty() {
            return Phonemized::default();
        }
        let (n, counters) = numbers::transform(&norm::normalize(text), self.readings);
        let t = n.text();
        let morphs = self.dict.parse(t);
        let words: Vec<Word> = morphs.iter().map(|m| word(t, m, &counters)).collect();
        let groups = self.group(&words);
        // each group's phonemes, with misaki's spacing
        let mut romaji: Vec<(String, bool)> = Vec::with_capacity(groups.len());
        for g in &groups {
            let surface = g.surface.as_ref();
            let roma = romaji_of(surface, &g.hira, g.char_type);
            let mut space = false;
            if within(surface, "「『«") || within(&roma, "([") {
                if let Some(p) = romaji.last_mut() {
                    p.1 = true;
                }
            } else if within(surface, "」』»") || within(&roma, "]).,?!:") {
                if let Some(p) = romaji.last_mut() {
                    p.1 = false;
                }
                space = true;
            } else {
                space = roma != " ";
            }
            romaji.push((roma, space));
        }
        let chars = self.finish(&romaji);
        // tokens: each group's stretch of the final string, and its source
        let mut tokens = Vec::with_capacity(groups.len());
        let mut src_end = 0;
        let mut at = 0;
        for (k, g) in groups.iter().enumerate() {
            let own: Vec<usize> = (at..chars.len())
                .take_while(|&i| chars[i].1 <= k)
                .filter(|&i| chars[i].1 == k && chars[i].0 != ' ')
                .collect();
            let (phonemes, whitespace) = match (own.first(), own.last()) {
                (Some(&a), Some(&b)) => {
                    at = b + 1;
                    (
                        chars[a..=b].iter().map(|c| c.0).collect(),
                        chars.get(b + 1).is_some_and(|c| c.0 == ' '),
                    )
                }
                _ => (String::new(), false),
            };
            let src = n.src(g.span.clone());
            let start = src.start.max(src_end);
            let end = src.end.max(start);
            src_end = end;
            tokens.push(Token {
                text: text[start..end].to_string(),
                phonemes,
                whitespace,
                src: start..end,
            });
        }
        Phonemized { tokens }
    }

    /// misaki's grouping: from each word, the longest run of following words of the same
    /// category whose surfaces together are on the word list, else the word alone.
    fn group(&self, words: &[Word<'_>]) -> Vec<Word<'static>> {
        let n = words.len();
        let mut run_end = vec![n; n];
        for i in (0..n.saturating_sub(1)).rev() {
            run_end[i] = if words[i + 1].char_type == words[i].char_type {
                run_end[i + 1]
            } else {
                i + 1
            };
        }
        let mut out = Vec::new();
        let mut i = 0;
        let mut joined = String::new();
        while i < n {
            joined.clear();
            let mut best = i + 1;
            for j in i + 1..=run_end[i] {
                joined.push_str(&words[j - 1].surface);
                if joined.len() > self.words.longest() {
                    break;
                }
                if self.words.contains(&joined) {
                    best = j;
                }
            }
            let g = &words[i..best];
            out.push(Word {
                span: g[0].span.start..g[g.len() - 1].span.end,
                surface: Cow::Owned(g.iter().map(|w| w.surface.as_ref()).collect()),
                hira: g.iter().map(|w| w.hira.as_str()).collect(),
                char_type: g[0].char_type,
            });
            i = best;
        }
        out
    }

    /// misaki's last steps on the joined string — trim, one space for any run of
    /// whitespace, parentheses to `« »` (misaki only), no space before or after ʔ inside
    /// words — keeping for each character the group it came from.
    fn finish(&self, romaji: &[(String, bool)]) -> Vec<(char, usize)> {
        let mut chars: Vec<(char, usize)> = Vec::new();
        for (k, (roma, space)) in romaji.iter().enumerate() {
            chars.extend(roma.chars().filter(|&c| c != 'っ').map(|c| (c, k)));
            if *space {
                chars.push((' ', k));
            }
        }
        let mut out: Vec<(char, usize)> = Vec::with_capacity(chars.len());
        for (c, k) in chars {
            if c.is_whitespace() {
                if out.last().is_some_and(|l| l.0 != ' ') {
                    out.push((' ', k));
                }
            } else {
                out.push((c, k));
            }
        }
        if out.last().is_some_and(|l| l.0 == ' ') {
            out.pop();
        }
        let (open, close) = match self.readings {
            Readings::Misaki => {
                for c in &mut out {
                    c.0 = match c.0 {
                        '(' => '«',
                        ')' => '»',
                        x => x,
                    };
                }
                ('«', '»')
            }
            Readings::Hark => ('(', ')'),
        };
        let keeps_before = |c: char| "!\",.:;?—…”".contains(c) || c == close;
        let keeps_after = |c: char| "\"“".contains(c) || c == open;
        let drop: Vec<bool> = (0..out.len())
            .map(|i| {
                if out[i].0 != ' ' || i == 0 || i + 1 == out.len() {
                    return false;
                }
                let (prev, next) = (out[i - 1].0, out[i + 1].0);
                (next == 'ʔ' && !keeps_before(prev)) || (prev == 'ʔ' && !keeps_after(next))
            })
            .collect();
        out.into_iter()
            .zip(drop)
            .filter(|(_, d)| !d)
            .map(|(c, _)| c)
            .collect()
    }
}

/// A MeCab word with its reading in hiragana (a counter after a number gets the counter's
/// reading) and misaki's category: 6 for every known word and katakana.
fn word<'t>(t: &'t str, m: &Morph<'_>, counters: &[numbers::Counter]) -> Word<'t> {
    let span = m.span.0..m.span.1;
    let surface = &t[span.clone()];
    let hira = match counters.iter().find(|c| c.span == span) {
        Some(c) => c.reading.to_string(),
        None => {
            let reading = [9, 17]
                .into_iter()
                .filter_map(|i| feature_field(m.feature, i))
                .find(|f| !f.is_empty());
            kana::to_hiragana(reading.as_deref().unwrap_or(surface))
        }
    };
    let char_type = if m.char_type == KATAKANA || !m.unknown {
        HIRAGANA
    } else {
        m.char_type
    };
    Word {
        span,
        surface: Cow::Borrowed(surface),
        hira,
        char_type,
    }
}

/// misaki's `_romaji_word`: ASCII as it is, symbols through the table, unknown words of other
/// categories silent, the rest read from their hiragana.
fn romaji_of(surface: &str, hira: &str, char_type: u8) -> String {
    if surface.is_ascii() {
        return surface.to_string();
    }
    match char_type {
        SYMBOL => surface
            .chars()
            .map(|c| kana::single(c).map_or(Cow::Owned(c.to_string()), Cow::Borrowed))
            .collect(),
        HIRAGANA => {
            let mut out = String::new();
            kana::read(hira, &mut out);
            out
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<JaG2p>();
    }

    #[test]
    fn feature_fields_follow_csv_quoting() {
        let f = "助詞,係助詞,*,*,*,*,ハ,は,は,ワ,は,ワ,和,*,*,*,*,ハ,ハ,ハ,ハ,*,*,*,\"動詞%F2@0,名詞%F1\",*";
        assert_eq!(feature_field(f, 9).as_deref(), Some("ワ"));
        assert_eq!(feature_field(f, 17).as_deref(), Some("ハ"));
        assert_eq!(feature_field(f, 24).as_deref(), Some("動詞%F2@0,名詞%F1"));
        assert_eq!(feature_field(f, 25).as_deref(), Some("*"));
        assert_eq!(feature_field(f, 26), None);
        assert_eq!(feature_field("名詞,数詞,*", 9), None);
        assert_eq!(feature_field("a,\"x\"\"y\",b", 1).as_deref(), Some("x\"y"));
    }

    #[test]
    fn python_substring_tests() {
        assert!(within("", "(["));
        assert!(within(".", "]).,?!:"));
        assert!(within(").", "]).,?!:"));
        assert!(!within("a", "(["));
    }
}
