//! Spanish, French, Italian, Brazilian Portuguese and Hindi through espeak-ng, as misaki's
//! `EspeakG2P` reads them (<https://github.com/hexgrad/misaki/blob/main/misaki/espeak.py>),
//! with per-word source ranges, and with misaki's wrong readings of numbers, minus signs,
//! `¡ ¿` and the danda fixed ([`EspeakG2p::with_misaki_quirks`] turns the fixes off).
//!
//! The text is cut at punctuation marks ([`split`]); each segment between marks goes to one
//! long-lived espeak-ng process ([`process`]) as one line, its IPA is mapped to Kokoro's
//! symbols ([`map`]) and its output words are matched to the text's words ([`align`]); the
//! marks are kept between segments.

mod align;
mod local;
mod map;
pub(crate) mod process;
mod split;

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::g2p::{Phonemized, Token};
use crate::lang::Lang;
use process::Espeak;
use split::Item;

/// The reader of a language spoken through espeak-ng (es, fr-fr, it, pt-br, hi). `Send + Sync`;
/// build one per language and share it: it keeps one espeak-ng process, started when the
/// reader is made, restarted if it dies, stopped when the reader is dropped.
#[derive(Debug)]
pub struct EspeakG2p {
    lang: Lang,
    espeak: Espeak,
    fixes: bool,
}

/// The languages read through espeak-ng.
const LANGS: [Lang; 5] = [Lang::Es, Lang::FrFr, Lang::It, Lang::PtBr, Lang::Hi];

impl EspeakG2p {
    /// The reader of `lang` with the `espeak-ng` program on PATH, started now: an error when
    /// `lang` is not an espeak language, when espeak-ng is not installed, or when it cannot
    /// read `lang`.
    pub fn new(lang: Lang) -> Result<EspeakG2p> {
        let exe = process::find_espeak().ok_or(Error::EspeakMissing { lang })?;
        Self::with_program(lang, exe)
    }

    /// [`EspeakG2p::new`] with a given espeak-ng program.
    pub fn with_program(lang: Lang, exe: PathBuf) -> Result<EspeakG2p> {
        if !LANGS.contains(&lang) {
            return Err(Error::Unavailable {
                lang,
                why: "it is not read through espeak-ng",
            });
        }
        let voice = lang.espeak_voice().expect("espeak languages have a voice");
        let espeak = Espeak::new(exe, voice);
        espeak.start()?;
        Ok(EspeakG2p {
            lang,
            espeak,
            fixes: true,
        })
    }

    /// With `true`, reads exactly as misaki 0.9.4 does, its mistakes included: numbers split
    /// at `.` and `,` ("1.234,56"), currency symbols and minus signs left to espeak-ng, `¡ ¿`
    /// written into the phonemes, the danda handed to espeak-ng (which drops it). For
    /// comparing with the reference; the default (`false`) reads them right.
    pub fn with_misaki_quirks(mut self, quirks: bool) -> Self {
        self.fixes = !quirks;
        self
    }

    /// The language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The espeak-ng program this reader runs.
    pub fn program(&self) -> &std::path::Path {
        self.espeak.exe()
    }

    /// Phonemizes `text` as one misaki call. Never fails: if espeak-ng stops answering (it is
    /// restarted once per request), the words get empty phonemes, keeping their ranges, and
    /// the error is logged.
    pub fn phonemize(&self, text: &str) -> Phonemized {
        let start = text.len() - text.trim_start().len();
        let mut v = self.phonemize_many(&[(start, &text[start..])]);
        Phonemized {
            tokens: v.pop().unwrap_or_default(),
        }
    }

    /// Phonemizes several independent pieces (each `(offset, text)`; offsets are added to the
    /// token ranges) with one exchange with espeak-ng.
    pub fn phonemize_many(&self, pieces: &[(usize, &str)]) -> Vec<Vec<Token>> {
        let items: Vec<Vec<Item>> = pieces
            .iter()
            .map(|&(off, t)| split::split(t, off, self.lang, self.fixes))
            .collect();
        // Segments: runs of words between marks, as (piece, item range).
        let mut segs: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
        for (p, its) in items.iter().enumerate() {
            let mut k = 0;
            while k < its.len() {
                if !matches!(its[k], Item::Word { .. }) {
                    k += 1;
                    continue;
                }
                let s = k;
                while k < its.len() && matches!(its[k], Item::Word { .. }) {
                    k += 1;
                }
                segs.push((p, s..k));
            }
        }
        let lines: Vec<String> = segs
            .iter()
            .map(|(p, r)| spoken(&items[*p][r.clone()]).join(" "))
            .collect();
        let outs: Vec<Vec<String>> = self
            .ask(&lines)
            .iter()
            .map(|o| map::kokoro_words(o))
            .collect();
        let groups = self.align(&items, &segs, &outs);
        // Tokens, piece by piece.
        let mut result: Vec<Vec<Token>> = Vec::with_capacity(pieces.len());
        let mut seg = segs.iter().zip(outs.iter().zip(groups)).peekable();
        for (p, its) in items.iter().enumerate() {
            let (off, text) = pieces[p];
            let slice = |r: &std::ops::Range<usize>| text[r.start - off..r.end - off].to_string();
            let mut tokens: Vec<Token> = Vec::with_capacity(its.len());
            let mut k = 0;
            while k < its.len() {
                match &its[k] {
                    Item::Mark { src, phonemes, ws } => {
                        tokens.push(Token {
                            text: slice(src),
                            phonemes: phonemes.to_string(),
                            whitespace: *ws,
                            src: src.clone(),
                        });
                        k += 1;
                    }
                    Item::Word { .. } => {
                        let ((_, range), (out, groups)) =
                            seg.next().expect("every run of words is a segment");
                        let words = &its[range.clone()];
                        let last_ws = matches!(words.last(), Some(Item::Word { ws: true, .. }));
                        let first = tokens.len();
                        for (w, o) in groups {
                            let src = words[w.start].src().start..words[w.end - 1].src().end;
                            tokens.push(Token {
                                text: slice(&src),
                                phonemes: out[o].join(" "),
                                whitespace: true,
                                src,
                            });
                        }
                        // Spaces between the segment's spoken words, and after the last one
                        // as the text has it.
                        let spoken_last = tokens[first..]
                            .iter()
                            .rposition(|t| !t.phonemes.is_empty())
                            .map(|i| first + i);
                        for (i, t) in tokens.iter_mut().enumerate().skip(first) {
                            t.whitespace = if t.phonemes.is_empty() {
                                false
                            } else if Some(i) == spoken_last {
                                last_ws
                            } else {
                                true
                            };
                        }
                        k = range.end;
                    }
                }
            }
            // A mark that writes nothing (`¿` with the fixes) passes its space on.
            for i in 0..tokens.len() {
                if tokens[i].phonemes.is_empty() && tokens[i].whitespace {
                    tokens[i].whitespace = false;
                    if let Some(prev) = tokens[..i]
                        .iter_mut()
                        .rev()
                        .find(|t| !t.phonemes.is_empty())
                    {
                        prev.whitespace = true;
                    }
                }
            }
            result.push(tokens);
        }
        result
    }

    /// espeak-ng's output for each line; on failure (logged) empty outputs.
    fn ask(&self, lines: &[String]) -> Vec<String> {
        match self.espeak.phonemize(lines) {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(lang = %self.lang, "{e}; the text is skipped");
                vec![String::new(); lines.len()]
            }
        }
    }

    /// For each segment, the groups (its words, its output words). Segments whose output has
    /// one word per text word match one to one; for the others the text words are read alone
    /// (first those that may read as several words, then, if the counts still disagree, the
    /// rest) and matched ([`align`]).
    fn align(
        &self,
        items: &[Vec<Item>],
        segs: &[(usize, std::ops::Range<usize>)],
        outs: &[Vec<String>],
    ) -> Vec<Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>> {
        let words: Vec<Vec<String>> = segs
            .iter()
            .map(|(p, r)| spoken(&items[*p][r.clone()]))
            .collect();
        // alone[s][w]: word w of segment s read alone (None: not asked yet).
        let mut alone: Vec<Vec<Option<Vec<String>>>> =
            words.iter().map(|w| vec![None; w.len()]).collect();
        let pending = |alone: &Vec<Vec<Option<Vec<String>>>>, s: usize| {
            let n: usize = alone[s]
                .iter()
                .map(|a| a.as_ref().map_or(1, Vec::len))
                .sum();
            n != outs[s].len()
        };
        for pass in 0..2 {
            let mut asks: Vec<(usize, usize)> = Vec::new();
            for s in 0..segs.len() {
                if !pending(&alone, s) {
                    continue;
                }
                for (w, text) in words[s].iter().enumerate() {
                    if alone[s][w].is_none() && (pass == 1 || !plain(text)) {
                        asks.push((s, w));
                    }
                }
            }
            if asks.is_empty() {
                continue;
            }
            let lines: Vec<String> = asks.iter().map(|&(s, w)| words[s][w].clone()).collect();
            for ((s, w), o) in asks.into_iter().zip(self.ask(&lines)) {
                alone[s][w] = Some(map::kokoro_words(&o));
            }
        }
        (0..segs.len())
            .map(|s| {
                let counts: Vec<usize> = alone[s]
                    .iter()
                    .map(|a| a.as_ref().map_or(1, Vec::len))
                    .collect();
                if counts.iter().sum::<usize>() == outs[s].len() {
                    align::by_counts(&counts, outs[s].len())
                } else {
                    let read: Vec<Vec<String>> = alone[s]
                        .iter()
                        .map(|a| a.clone().unwrap_or_default())
                        .collect();
                    align::align(&read, &outs[s])
                }
            })
            .collect()
    }
}

/// Whether phonemizer (as misaki calls it) keeps `c` aside as punctuation:
/// `;:,.!?¡¿—…"«»“”(){}[]`.
pub(crate) fn is_misaki_mark(c: char) -> bool {
    split::mark(c, false).is_some()
}

/// The spoken texts of a run of words.
fn spoken(words: &[Item]) -> Vec<String> {
    words
        .iter()
        .filter_map(|w| match w {
            Item::Word { spoken, .. } => Some(spoken.clone()),
            Item::Mark { .. } => None,
        })
        .collect()
}

/// A word that espeak-ng reads as one word: letters only (combining marks included, as in
/// Devanagari), lowercase after the first letter (no acronym, no CamelCase).
fn plain(w: &str) -> bool {
    w.chars().enumerate().all(|(i, c)| {
        (c.is_alphabetic() || unicode_normalization::char::is_combining_mark(c))
            && (i == 0 || !c.is_uppercase())
    })
}
