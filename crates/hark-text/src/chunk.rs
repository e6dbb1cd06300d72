//! Chunking of phonemized text into model-sized pieces (`KPipeline.en_tokenize` with
//! `waterfall_last`, <https://github.com/hexgrad/kokoro/blob/1c7bdd971d2e32981f0f2b92d1fe5b0051e21457/kokoro/pipeline.py>),
//! keeping source byte ranges.

use std::ops::Range;

use crate::frontend::Phonemize;
use crate::g2p::Token;

/// Options for [`chunk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkOptions {
    /// Maximum phoneme characters per chunk (Kokoro: 510).
    pub max_phonemes: usize,
    /// Cut the first chunk early, at the first soft break (`, ; : — . ! ? …`) after 8 words
    /// (hard cut after 16 words when there is none), so the first audio can start sooner.
    pub first_chunk: bool,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        Self {
            max_phonemes: 510,
            first_chunk: false,
        }
    }
}

/// One model call's worth of phonemes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Phoneme string (≤ `max_phonemes` characters, trimmed).
    pub phonemes: String,
    /// Byte range of the input text covered by this chunk.
    pub src: Range<usize>,
    /// Spoken words, in order.
    pub words: Vec<WordSpan>,
}

/// A spoken word of a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordSpan {
    /// Byte range in the input text.
    pub src: Range<usize>,
    /// Byte range inside [`Chunk::phonemes`].
    pub phonemes: Range<usize>,
}

impl Chunk {
    /// Splits the chunk in two so that the head has at most `max` phoneme characters, for a
    /// caller that cannot afford the whole chunk at once (a real-time player running short of
    /// audio). The cut is between words: preferably right after a clause mark
    /// (`, ; : — . ! ? …`) when that keeps at least a third of `max`, otherwise after the last
    /// word that fits; if not even the first word fits, after the first word. `None` when the
    /// chunk already fits or has only one word. Head and tail together keep every word, with
    /// byte ranges into their own phoneme strings.
    pub fn split_at_most(&self, max: usize) -> Option<(Chunk, Chunk)> {
        if clen(&self.phonemes) <= max || self.words.len() < 2 {
            return None;
        }
        let ps = self.phonemes.as_str();
        // Candidate cuts: the gap (a space) between two words; `k` words go to the head.
        let mut best_word: Option<(usize, usize)> = None;
        let mut best_clause: Option<(usize, usize)> = None;
        let mut first: Option<(usize, usize)> = None;
        for k in 1..self.words.len() {
            let from = self.words[k - 1].phonemes.end;
            let to = self.words[k].phonemes.start;
            let Some(gap) = ps.get(from..to) else {
                continue;
            };
            let Some(sp) = gap.rfind(' ') else {
                continue;
            };
            let cut = from + sp;
            let head = ps[..cut].trim_end();
            if first.is_none() {
                first = Some((cut, k));
            }
            if clen(head) > max {
                break;
            }
            best_word = Some((cut, k));
            if gap[..sp].chars().any(|c| ",;:—.!?…".contains(c)) && 3 * clen(head) >= max {
                best_clause = Some((cut, k));
            }
        }
        let (cut, k) = best_clause.or(best_word).or(first)?;
        Some(self.split_at(cut, k))
    }

    /// Splits the chunk in two before its word `k` (`k` words go to the head), at the space
    /// between the two words' phonemes (after any punctuation of the head). `None` when `k` is
    /// not between 1 and the number of words less one, or no space separates the two words.
    /// Head and tail together keep every word, with byte ranges into their own phoneme strings.
    pub fn split_at_word(&self, k: usize) -> Option<(Chunk, Chunk)> {
        if k == 0 || k >= self.words.len() {
            return None;
        }
        let from = self.words[k - 1].phonemes.end;
        let to = self.words[k].phonemes.start;
        let sp = self.phonemes.get(from..to)?.rfind(' ')?;
        Some(self.split_at(from + sp, k))
    }

    /// The two halves around the phoneme byte `cut` (a space), `k` words in the head.
    fn split_at(&self, cut: usize, k: usize) -> (Chunk, Chunk) {
        let ps = self.phonemes.as_str();
        let head_ps = ps[..cut].trim_end().to_string();
        let tail_start = cut + (ps[cut..].len() - ps[cut..].trim_start().len());
        let tail_ps = ps[tail_start..].to_string();
        let split = self.words[k].src.start;
        let head = Chunk {
            phonemes: head_ps,
            src: self.src.start..split,
            words: self.words[..k].to_vec(),
        };
        let tail = Chunk {
            phonemes: tail_ps,
            src: split..self.src.end,
            words: self.words[k..]
                .iter()
                .map(|w| WordSpan {
                    src: w.src.clone(),
                    phonemes: w.phonemes.start - tail_start..w.phonemes.end - tail_start,
                })
                .collect(),
        };
        (head, tail)
    }
}

const FIRST_MIN_WORDS: usize = 8;
const FIRST_MAX_WORDS: usize = 16;

fn clen(s: &str) -> usize {
    s.chars().count()
}

fn is_spoken(t: &Token) -> bool {
    spoken(&t.phonemes)
}

fn spoken(phonemes: &str) -> bool {
    phonemes
        .chars()
        .any(|c| !c.is_whitespace() && !";:,.!?—…\"“”()".contains(c))
}

/// Kokoro's phoneme alphabet: the symbols the model has an embedding for (the `vocab` of its
/// config, which a test compares with this). A chunk holds nothing else: a reader's stray
/// symbol (a `-` or `}` of an odd input, a character copied raw) is dropped, instead of the
/// model refusing the whole chunk (the fuzz harness found such inputs for every language).
pub const KOKORO_ALPHABET: &str = " !\"(),.:;?AIOQSTWYabcdefhijklmnopqrstuvwxyzæçðøŋœɐɑɒɔɕɖəɚɛɜɟɡɣɤɥɨɪɯɰɲɳɴɸɹɻɽɾʁʂʃʈʊʋʌʎʒʔʝʣʤʥʦʧʨʰʲˈˌː̃βθχᵊᵝᵻ—“”…→↓↗↘ꭧ";

fn in_alphabet(c: char) -> bool {
    KOKORO_ALPHABET.contains(c)
}

fn single(t: &Token, set: &str) -> bool {
    let mut cs = t.phonemes.chars();
    matches!((cs.next(), cs.next()), (Some(c), None) if set.contains(c))
}

/// Σ(phonemes + space) of tokens, trimmed, in chars.
fn ps_len(tks: &[Token]) -> usize {
    let mut s = String::new();
    for t in tks {
        s.push_str(&t.phonemes);
        if t.whitespace {
            s.push(' ');
        }
    }
    clen(s.trim())
}

fn waterfall_last(tks: &[Token], next_count: usize, max: usize) -> usize {
    for group in ["!.?…", ":;", ",—"] {
        let Some(z) = tks.iter().rposition(|t| single(t, group)) else {
            continue;
        };
        let mut z = z + 1;
        if z < tks.len() && (tks[z].phonemes == ")" || tks[z].phonemes == "”") {
            z += 1;
        }
        if next_count.saturating_sub(ps_len(&tks[..z])) <= max {
            return z;
        }
    }
    tks.len()
}

/// The byte range `start..end` of an untrimmed phoneme string, in the string trimmed of `lead`
/// bytes in front and cut to `len` bytes (the trimmed bytes are whitespace, so the ends stay
/// on char boundaries).
fn within(start: usize, end: usize, lead: usize, len: usize) -> Range<usize> {
    let end = end.saturating_sub(lead).min(len);
    start.saturating_sub(lead).min(end)..end
}

fn build(tks: &[Token], max: usize, out: &mut Vec<Chunk>) {
    if tks.is_empty() {
        return;
    }
    let mut s = String::new();
    let mut spans: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    for t in tks {
        let a = s.len();
        s.extend(t.phonemes.chars().filter(|&c| in_alphabet(c)));
        if spoken(&s[a..]) {
            spans.push((t.src.clone(), a..s.len()));
        }
        if t.whitespace {
            s.push(' ');
        }
    }
    let lead = s.len() - s.trim_start().len();
    let ps = s.trim().to_string();
    if ps.is_empty() {
        return;
    }
    let src = tks[0].src.start..tks[tks.len() - 1].src.end.max(tks[0].src.start);
    // A word's phonemes may begin or end with whitespace that the trim took away (the fuzz
    // harness found a word span running past its chunk): keep each span inside the string.
    let words: Vec<WordSpan> = spans
        .into_iter()
        .map(|(src, p)| WordSpan {
            src,
            phonemes: within(p.start, p.end, lead, ps.len()),
        })
        .collect();
    if clen(&ps) <= max {
        out.push(Chunk {
            phonemes: ps,
            src,
            words,
        });
        return;
    }
    // Still too long (a single huge token): split at char boundaries, preferring spaces,
    // instead of truncating. Each piece keeps the words that start inside it.
    let mut start = 0;
    let mut prev_end = src.start;
    while start < ps.len() {
        let rest = &ps[start..];
        let mut end = if clen(rest) <= max {
            ps.len()
        } else {
            let hard = start
                + rest
                    .char_indices()
                    .nth(max)
                    .map(|(i, _)| i)
                    .unwrap_or(rest.len());
            match ps[start..hard].rfind(' ') {
                Some(sp) if sp > 0 => start + sp,
                _ => hard,
            }
        };
        if end <= start {
            end = ps.len();
        }
        let piece = ps[start..end].to_string();
        let pw: Vec<WordSpan> = words
            .iter()
            .filter(|w| w.phonemes.start >= start && w.phonemes.start < end)
            .map(|w| WordSpan {
                src: w.src.clone(),
                phonemes: w.phonemes.start - start..w.phonemes.end.min(end) - start,
            })
            .collect();
        let psrc = match (pw.first(), pw.last()) {
            (Some(f), Some(l)) => f.src.start.max(prev_end)..l.src.end.max(prev_end),
            _ => prev_end..prev_end,
        };
        prev_end = psrc.end;
        let trimmed_lead = piece.len() - piece.trim_start().len();
        let piece_t = piece.trim().to_string();
        if !piece_t.is_empty() {
            let len = piece_t.len();
            out.push(Chunk {
                phonemes: piece_t,
                src: psrc,
                words: pw
                    .into_iter()
                    .map(|w| WordSpan {
                        src: w.src,
                        phonemes: within(w.phonemes.start, w.phonemes.end, trimmed_lead, len),
                    })
                    .collect(),
            });
        }
        start = end;
        while start < ps.len() && ps.as_bytes()[start] == b' ' {
            start += 1;
        }
    }
}

/// Splits `text` into paragraphs (`\n+`), phonemizes them with `reader` (any language's: a
/// [`G2p`](crate::G2p), an [`EspeakG2p`](crate::EspeakG2p), a [`FrontEnd`](crate::FrontEnd))
/// and packs the tokens into chunks of at most `opts.max_phonemes` phoneme characters, cut
/// first after a sentence end (a token whose phonemes are `.`, `!`, `?` or `…`). Empty or
/// unspeakable input gives `vec![]`.
pub fn chunk<P: Phonemize + ?Sized>(text: &str, reader: &P, opts: &ChunkOptions) -> Vec<Chunk> {
    let max = opts.max_phonemes.max(1);
    let mut pieces: Vec<(usize, &str)> = Vec::new();
    let mut start = 0;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), '\n')))
    {
        if c == '\n' {
            let p = &text[start..i];
            let lead = p.len() - p.trim_start().len();
            let body = p[lead..].trim_end();
            if !body.is_empty() {
                pieces.push((start + lead, body));
            }
            start = i + 1;
        }
    }
    let paras = reader.phonemize_many(&pieces);
    let mut out = Vec::new();
    let mut first = opts.first_chunk;
    for tokens in paras {
        let mut tks: Vec<Token> = Vec::new();
        let mut pcount = 0usize;
        let mut words = 0usize;
        let mut pending_cut = false;
        for t in tokens {
            if first && pending_cut {
                pending_cut = false;
                first = false;
                if single(&t, ",;:—.!?…)”") {
                    tks.push(t);
                    build(&tks, max, &mut out);
                    tks.clear();
                    pcount = 0;
                    continue;
                }
                build(&tks, max, &mut out);
                tks.clear();
                pcount = 0;
            }
            let mut next_ps = t.phonemes.clone();
            if t.whitespace {
                next_ps.push(' ');
            }
            if tks.is_empty() {
                next_ps = next_ps.trim_start().to_string();
            }
            let next_count = pcount + clen(next_ps.trim_end());
            if next_count > max {
                let z = waterfall_last(&tks, next_count, max);
                let rest = tks.split_off(z);
                build(&tks, max, &mut out);
                if !tks.is_empty() {
                    first = false;
                }
                tks = rest;
                pcount = ps_len(&tks);
                if tks.is_empty() {
                    next_ps = next_ps.trim_start().to_string();
                }
            }
            let spoken = is_spoken(&t);
            let soft = single(&t, ",;:—.!?…");
            tks.push(t);
            pcount += clen(&next_ps);
            if first {
                if spoken {
                    words += 1;
                }
                if (words >= FIRST_MIN_WORDS && soft) || words >= FIRST_MAX_WORDS {
                    pending_cut = true;
                }
            }
        }
        build(&tks, max, &mut out);
        if !out.is_empty() {
            first = false;
        }
    }
    out
}
