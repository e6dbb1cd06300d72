//! # The Mandarin (zh) front end
//!
//! Chinese text → phonemes for Kokoro-82M v1.0's Mandarin voices, the way misaki 0.9.4's legacy
//! path (`ZHG2P(version=None)`, what the reference pipeline uses for v1.0) reads it, in pure Rust:
//!
//! 1. numbers as cn2an 0.5.24's `an2cn` transform writes them ([`numbers`](self)), with hark's
//!    corrections (currency signs, counts of years, clock times, 两, long digit strings, `/`);
//! 2. Chinese punctuation mapped to Kokoro's (`，` → `,`, `。` → `.`, `《》` → `“”`, …);
//! 3. the text cut into runs of Chinese characters (U+4E00..U+9FFF) and the rest; Chinese runs are
//!    segmented with `jieba-rs` (jieba 0.42.1's dictionary, HMM for unknown words, as misaki's
//!    `jieba.lcut` does) and each word read with pypinyin 0.55.0's phrase and character data
//!    (compiled in, see `data/README.md`), then turned into phonemes by misaki's pinyin→IPA table
//!    with tone arrows `→ ↗ ↓ ↘`; words are joined by spaces;
//! 4. everything else is copied as it is, except Latin words, which go to an [`EnglishReader`]
//!    when one is given (misaki copies them raw and the model drops the letters).
//!
//! The result has the shape of the English G2P's: a [`Phonemized`] whose tokens are jieba's words
//! (and the punctuation and English words between them), each with the byte range of the input it
//! came from (a number read as several words gives its range to the first of them).
//!
//! ```no_run
//! use hark_text::zh::ZhG2p;
//! let zh = ZhG2p::new(); // ~0.12 s: jieba's dictionary and the pinyin data; Send + Sync
//! assert_eq!(zh.phonemize("你好。").phonemes(), "ni↓xau↓.");
//! ```

mod ipa;
pub(crate) mod norm;
mod numbers;
mod pinyin;
mod punct;

use std::ops::Range;

use crate::g2p::{G2p, Phonemized, Token};
use norm::Norm;
use numbers::Readings;
use pinyin::Pinyin;

/// Reads the Latin-letter words found inside Chinese text (`Kindle`, `WiFi`, `CBA`).
///
/// The engine decides which English reads them; [`G2p`] is one, and so is any
/// `Fn(&str) -> Phonemized`.
pub trait EnglishReader: Send + Sync {
    /// Phonemes of `text` (letters, with inner spaces, apostrophes or hyphens), with token byte
    /// ranges relative to `text`.
    fn read(&self, text: &str) -> Phonemized;
}

impl EnglishReader for G2p {
    fn read(&self, text: &str) -> Phonemized {
        self.phonemize(text)
    }
}

impl<F: Fn(&str) -> Phonemized + Send + Sync> EnglishReader for F {
    fn read(&self, text: &str) -> Phonemized {
        self(text)
    }
}

/// The Mandarin grapheme-to-phoneme converter. `Send + Sync`: build once, share.
pub struct ZhG2p {
    jieba: jieba_rs::Jieba,
    pinyin: Pinyin,
    english: Option<Box<dyn EnglishReader>>,
    readings: Readings,
}

impl std::fmt::Debug for ZhG2p {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZhG2p")
            .field("pinyin", &self.pinyin)
            .field("english", &self.english.is_some())
            .field("readings", &self.readings)
            .finish()
    }
}

impl Default for ZhG2p {
    fn default() -> Self {
        Self::new()
    }
}

/// Is `c` one of the Chinese characters misaki sends to jieba?
fn is_han(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// A Latin word or phrase: letters, with spaces, apostrophes or hyphens inside.
fn latin_len(s: &str) -> usize {
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if c.is_ascii_alphabetic() {
            end = i + 1;
        } else if !matches!(c, ' ' | '\'' | '-') {
            break;
        }
    }
    end
}

/// The non-syllabic mark misaki removes from its whole output.
const NON_SYLLABIC: char = '\u{32F}';

impl ZhG2p {
    /// Loads jieba's dictionary and the pinyin data (both compiled in). Latin words are copied
    /// as misaki copies them until [`with_english`](Self::with_english) gives a reader.
    pub fn new() -> Self {
        Self {
            jieba: jieba_rs::Jieba::new(),
            pinyin: Pinyin::load(),
            english: None,
            readings: Readings::Hark,
        }
    }

    /// Reads Latin words with `reader` (each becomes its own words, spaced from the Chinese).
    pub fn with_english(mut self, reader: impl EnglishReader + 'static) -> Self {
        self.english = Some(Box::new(reader));
        self
    }

    /// Reads exactly as misaki does, without hark's corrections (numbers, `/`, Latin words copied
    /// raw): for comparing with the reference.
    pub fn misaki_exact(mut self) -> Self {
        self.readings = Readings::Misaki;
        self
    }

    /// Every distinct pinyin reading the data holds (TONE3 spelling, `zhong1`) with its phonemes.
    pub fn readings(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pinyin
            .all_readings()
            .enumerate()
            .map(|(i, r)| (r, self.pinyin.ipa(i as u16)))
    }

    /// The phonemes of `text`, with one token per word (see the module docs). Never panics;
    /// empty or blank text gives no tokens.
    pub fn phonemize(&self, text: &str) -> Phonemized {
        let mut out = Out {
            tokens: Vec::new(),
            src_end: 0,
            last: Kind::Raw,
        };
        if text.trim().is_empty() {
            return Phonemized::default();
        }
        let n = numbers::transform(&Norm::new(text), self.readings);
        let n = punct::map_punctuation(&n);
        let t = n.text();
        let mut ids = Vec::new();
        let mut start = 0;
        while start < t.len() {
            let han = t[start..].starts_with(is_han);
            let len = t[start..]
                .find(|c| is_han(c) != han)
                .unwrap_or(t.len() - start);
            let run = start..start + len;
            if han {
                for w in self.jieba.cut(&t[run.clone()], true) {
                    ids.clear();
                    self.pinyin.word(w.word, &mut ids);
                    let ipa: String = ids.iter().map(|&i| self.pinyin.ipa(i)).collect();
                    let at = run.start + w.byte_start..run.start + w.byte_end;
                    out.push(&n, w.word, ipa, at, Kind::Han, true);
                }
                out.space(false);
            } else {
                self.other(&n, run, &mut out);
            }
            start += len;
        }
        Phonemized { tokens: out.tokens }
    }

    /// Tokens for a run without Chinese characters: Latin words to the English reader, the rest
    /// copied (split at spaces).
    fn other(&self, n: &Norm, run: Range<usize>, out: &mut Out) {
        let t = n.text();
        let mut i = run.start;
        while i < run.end {
            let rest = &t[i..run.end];
            let c = rest.chars().next().expect("a char");
            if c.is_whitespace() {
                out.space(true);
                i += c.len_utf8();
                continue;
            }
            let latin = latin_len(rest);
            if latin > 0 && self.readings == Readings::Hark {
                if let Some(reader) = &self.english {
                    for tok in reader.read(&rest[..latin]).tokens {
                        let at = i + tok.src.start..i + tok.src.end;
                        out.push(n, &tok.text, tok.phonemes, at, Kind::Latin, tok.whitespace);
                    }
                    out.space(false);
                    i += latin;
                    continue;
                }
            }
            // copied up to a space or a Latin word
            let len = if latin > 0 {
                latin
            } else {
                rest.find(|c: char| c.is_whitespace() || c.is_ascii_alphabetic())
                    .unwrap_or(rest.len())
            };
            let raw: String = rest[..len].chars().filter(|&c| c != NON_SYLLABIC).collect();
            out.push(n, &rest[..len], raw, i..i + len, Kind::Raw, false);
            i += len;
        }
    }
}

/// What a token is: a Chinese word, an English reading, anything else (copied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Han,
    Latin,
    Raw,
}

/// The tokens being built, with the source position reached so far (ranges never overlap).
struct Out {
    tokens: Vec<Token>,
    src_end: usize,
    /// Kind of the last token.
    last: Kind,
}

impl Out {
    /// Appends a token for the bytes `at` of the rewritten text `n`. English readings are
    /// spaced from the Chinese words around them (punctuation stays attached).
    fn push(
        &mut self,
        n: &Norm,
        text: &str,
        phonemes: String,
        at: Range<usize>,
        kind: Kind,
        ws: bool,
    ) {
        if matches!(
            (self.last, kind),
            (Kind::Han, Kind::Latin) | (Kind::Latin, Kind::Han)
        ) {
            self.space(true);
        }
        self.last = kind;
        let src = n.src(at);
        let start = src.start.max(self.src_end);
        let end = src.end.max(start);
        self.src_end = end;
        self.tokens.push(Token {
            text: text.to_string(),
            phonemes,
            whitespace: ws,
            src: start..end,
        });
    }

    /// Sets whether a space follows the last token.
    fn space(&mut self, ws: bool) {
        if let Some(t) = self.tokens.last_mut() {
            t.whitespace = ws;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<ZhG2p>();
    }

    #[test]
    fn latin_runs() {
        assert_eq!(latin_len("Kindle看书"), 6);
        assert_eq!(latin_len("New York 2"), 8);
        assert_eq!(latin_len("it's-ok."), 7);
        assert_eq!(latin_len("看"), 0);
    }
}
