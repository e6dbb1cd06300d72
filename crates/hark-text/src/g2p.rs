//! The G2P pipeline: link overrides → tokens → misaki's retokenization into word groups →
//! right-to-left lookup with context → fallback for unknown words → merged tokens.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Mutex;

use crate::espeak::process::{find_espeak, Espeak};
use crate::fallback;
use crate::lang::Lang;
use crate::lexicon::{currency_units, Ctx, Lexicon, Rated};
use crate::stress::{apply_stress, is_consonant, is_vowel, stress_weight, PRIMARY};
use crate::token::MToken;
use crate::tokenize::tokenize;

/// One output token: a word (or word group such as `don't`, `80-column`), a number, or a
/// punctuation mark, with its phonemes and the byte range of the caller's text it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token's text (as it appears in the input, link syntax removed).
    pub text: String,
    /// Phonemes in Kokoro's alphabet (may be empty: e.g. `--`, `$` or unpronounceable symbols).
    pub phonemes: String,
    /// Whether a space follows in the phoneme string.
    pub whitespace: bool,
    /// Byte range of the input text this token covers (always on char boundaries).
    pub src: Range<usize>,
}

/// Result of [`G2p::phonemize`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Phonemized {
    /// The text's tokens in order, each with its phonemes.
    pub tokens: Vec<Token>,
}

impl Phonemized {
    /// The whole-text phoneme string: Σ (phonemes + space if whitespace), as misaki builds it.
    pub fn phonemes(&self) -> String {
        let mut s = String::new();
        for t in &self.tokens {
            s.push_str(&t.phonemes);
            if t.whitespace {
                s.push(' ');
            }
        }
        s.truncate(s.trim_end().len());
        s
    }
}

/// English grapheme-to-phoneme converter (misaki-compatible). `Send + Sync`; one per dialect.
pub struct G2p {
    lex: Lexicon,
    user: HashMap<String, String>,
    /// The dialect's espeak-ng process for unknown words (started on first use).
    espeak: Option<Espeak>,
    cache: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for G2p {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("G2p")
            .field("lang", &self.lex.lang())
            .field("user_entries", &self.user.len())
            .field("espeak", &self.espeak)
            .finish()
    }
}

const CACHE_LIMIT: usize = 50_000;
/// Longer "words" (pathological input) skip espeak-ng and use the built-in fallback.
const MAX_ESPEAK_WORD: usize = 200;
/// At most this many fallback requests go to espeak-ng per call (~1.6 ms CPU each); the rest
/// use the built-in fallback, so megabytes of garbage cannot stall the caller for minutes.
const MAX_ESPEAK_WORDS: usize = 20_000;

enum Word {
    One(MToken),
    Group(Vec<MToken>),
}

#[derive(Debug, Clone)]
enum Feature {
    Stress(f64),
    Phonemes(String),
    Flags(String),
}

/// A piecewise-linear map from processed-text offsets to input offsets.
struct OffsetMap {
    /// (processed start, input start), sorted by processed start.
    segs: Vec<(usize, usize)>,
}

impl OffsetMap {
    fn map(&self, p: usize) -> usize {
        let i = self.segs.partition_point(|s| s.0 <= p).saturating_sub(1);
        match self.segs.get(i) {
            Some(&(ps, ss)) => ss + (p - ps),
            None => p,
        }
    }

    /// Maps an exclusive end offset: the byte before it decides the segment.
    fn map_end(&self, p: usize) -> usize {
        if p == 0 {
            self.map(0)
        } else {
            self.map(p - 1) + 1
        }
    }
}

fn is_junk(s: &str) -> bool {
    s.chars().all(|c| ",-._‘’/'".contains(c))
}
fn is_non_quote_punct(c: char) -> bool {
    ";:,.!?—…".contains(c)
}
fn is_punct(c: char) -> bool {
    ";:,.!?—…\"“”".contains(c)
}
const PUNCT_TAGS: [&str; 11] = [
    ".", ",", "-LRB-", "-RRB-", "``", "\"\"", "''", ":", "$", "#", "NFP",
];

/// Parses misaki's `[text](feature)` links. Returns processed text, offset map (relative to
/// `base`) and features keyed by the link text's processed range.
fn preprocess(text: &str, base: usize) -> (String, OffsetMap, Vec<(Range<usize>, Feature)>) {
    let mut out = String::with_capacity(text.len());
    let mut segs = vec![(0usize, base)];
    let mut feats = Vec::new();
    let b = text.as_bytes();
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'[' {
            i += 1;
            continue;
        }
        // [text](feature)
        let Some(close) = text[i + 1..].find(']').map(|k| i + 1 + k) else {
            break;
        };
        if close == i + 1 || close + 1 >= b.len() || b[close + 1] != b'(' {
            i += 1;
            continue;
        }
        let Some(end) = text[close + 2..].find(')').map(|k| close + 2 + k) else {
            i += 1;
            continue;
        };
        let inner = &text[i + 1..close];
        let f = &text[close + 2..end];
        out.push_str(&text[last..i]);
        let start = out.len();
        segs.push((start, base + i + 1));
        out.push_str(inner);
        segs.push((out.len(), base + end + 1));
        if let Some(feat) = parse_feature(f) {
            feats.push((start..out.len(), feat));
        }
        last = end + 1;
        i = end + 1;
    }
    out.push_str(&text[last..]);
    (out, OffsetMap { segs }, feats)
}

fn parse_feature(f: &str) -> Option<Feature> {
    let digits = f.strip_prefix(['-', '+']).unwrap_or(f);
    if crate::lexicon::is_digits(digits) {
        return f.parse::<f64>().ok().map(Feature::Stress);
    }
    match f {
        "0.5" | "+0.5" => return Some(Feature::Stress(0.5)),
        "-0.5" => return Some(Feature::Stress(-0.5)),
        _ => {}
    }
    if f.len() > 1 && f.starts_with('/') && f.ends_with('/') {
        return Some(Feature::Phonemes(f[1..].trim_end_matches('/').to_string()));
    }
    if f.len() > 1 && f.starts_with('#') && f.ends_with('#') {
        return Some(Feature::Flags(f[1..].trim_end_matches('#').to_string()));
    }
    None
}

/// misaki's sub-token regex, hand-written. Returns byte ranges into `w`.
pub(crate) fn subtokenize(w: &str) -> Vec<Range<usize>> {
    let cs: Vec<(usize, char)> = w.char_indices().collect();
    let n = cs.len();
    let pos = |k: usize| if k < n { cs[k].0 } else { w.len() };
    let ch = |k: usize| if k < n { Some(cs[k].1) } else { None };
    let is_apos = |c: Option<char>| matches!(c, Some('\'' | '‘' | '’'));
    let is_l = |c: Option<char>| c.is_some_and(char::is_alphabetic);
    let is_lu = |c: Option<char>| c.is_some_and(char::is_uppercase);
    let is_ll = |c: Option<char>| c.is_some_and(char::is_lowercase);
    let is_d = |c: Option<char>| {
        c.is_some_and(|c| c.is_ascii_digit() || (c.is_numeric() && !c.is_alphabetic()))
    };
    let mut out = Vec::new();
    let mut k = 0;
    while k < n {
        // 1. leading apostrophes
        if k == 0 && is_apos(ch(0)) {
            let mut e = 0;
            while is_apos(ch(e)) {
                e += 1;
            }
            out.push(pos(0)..pos(e));
            k = e;
            continue;
        }
        // 2. Upper before Upper+lower
        if is_lu(ch(k)) && is_lu(ch(k + 1)) && is_ll(ch(k + 2)) {
            out.push(pos(k)..pos(k + 1));
            k += 1;
            continue;
        }
        // 3. numbers: (?:^-)?(?:\d?[,.]?\d)+
        {
            let mut e = k;
            if k == 0 && ch(0) == Some('-') {
                e = 1;
            }
            let body = e;
            loop {
                // try \d?[,.]?\d greedily with backtracking on the optional parts
                let mut t = e;
                let a = is_d(ch(t));
                if a {
                    t += 1;
                }
                let sep = matches!(ch(t), Some(',' | '.'));
                if sep && is_d(ch(t + 1)) {
                    e = t + 2;
                    continue;
                }
                if is_d(ch(t)) {
                    e = t + 1;
                    continue;
                }
                // backtrack: \d? empty
                if a {
                    let t = e;
                    if matches!(ch(t), Some(',' | '.')) && is_d(ch(t + 1)) {
                        e = t + 2;
                        continue;
                    }
                    e = t + 1; // the single digit as the required \d
                    continue;
                }
                break;
            }
            if e > body {
                out.push(pos(k)..pos(e));
                k = e;
                continue;
            }
        }
        // 4. [-_]+
        if matches!(ch(k), Some('-' | '_')) {
            let mut e = k;
            while matches!(ch(e), Some('-' | '_')) {
                e += 1;
            }
            out.push(pos(k)..pos(e));
            k = e;
            continue;
        }
        // 5. two or more apostrophes
        if is_apos(ch(k)) && is_apos(ch(k + 1)) {
            let mut e = k;
            while is_apos(ch(e)) {
                e += 1;
            }
            out.push(pos(k)..pos(e));
            k = e;
            continue;
        }
        // 6. shortest letters ending in lowercase followed by uppercase (camelCase split)
        if is_l(ch(k)) {
            let mut e = k;
            let mut found = None;
            while is_l(ch(e)) {
                if is_ll(ch(e)) && is_lu(ch(e + 1)) {
                    found = Some(e + 1);
                    break;
                }
                e += 1;
            }
            if let Some(e) = found {
                out.push(pos(k)..pos(e));
                k = e;
                continue;
            }
            // 7. letters with internal apostrophe+letter pairs
            let mut e = k;
            while is_l(ch(e)) {
                e += 1;
            }
            while is_apos(ch(e)) && is_l(ch(e + 1)) {
                e += 2;
            }
            out.push(pos(k)..pos(e));
            k = e;
            continue;
        }
        // 8. any other single char
        let c = ch(k);
        if !is_apos(c) && !matches!(c, Some('-' | '_')) && !is_d(c) && !is_l(c) {
            out.push(pos(k)..pos(k + 1));
            k += 1;
            continue;
        }
        // 9. trailing apostrophes
        if is_apos(c) {
            let mut e = k;
            while is_apos(ch(e)) {
                e += 1;
            }
            if e == n {
                out.push(pos(k)..pos(e));
                k = e;
                continue;
            }
        }
        k += 1;
    }
    out
}

fn merge_tokens(tokens: &[MToken], unk: Option<&str>) -> MToken {
    let last = tokens.last().expect("merge of an empty group");
    let first = &tokens[0];
    let mut text = String::new();
    for t in &tokens[..tokens.len() - 1] {
        text.push_str(&t.text);
        if t.ws {
            text.push(' ');
        }
    }
    text.push_str(&last.text);
    let tag = tokens
        .iter()
        .max_by_key(|t| {
            t.text
                .chars()
                .map(|c| {
                    if c.is_lowercase() || !c.is_uppercase() {
                        1
                    } else {
                        2
                    }
                })
                .sum::<usize>()
        })
        .map(|t| t.tag)
        .unwrap_or("");
    let phonemes = unk.map(|unk| {
        let mut p = String::new();
        for t in tokens {
            if t.prespace
                && !p.is_empty()
                && !p.ends_with(char::is_whitespace)
                && t.phonemes.as_deref().is_some_and(|x| !x.is_empty())
            {
                p.push(' ');
            }
            p.push_str(t.phonemes.as_deref().unwrap_or(unk));
        }
        p
    });
    let mut stresses: Vec<f64> = tokens.iter().filter_map(|t| t.stress).collect();
    stresses.dedup();
    stresses.sort_by(f64::total_cmp);
    stresses.dedup();
    let mut flags: Vec<char> = tokens.iter().flat_map(|t| t.num_flags.chars()).collect();
    flags.sort_unstable();
    flags.dedup();
    let rating = if tokens.iter().any(|t| t.rating.is_none()) {
        None
    } else {
        tokens.iter().filter_map(|t| t.rating).min()
    };
    MToken {
        text,
        tag,
        ws: last.ws,
        phonemes,
        src: first.src.start..last.src.end.max(first.src.start),
        pstart: first.pstart,
        is_head: first.is_head,
        alias: None,
        stress: if stresses.len() == 1 {
            Some(stresses[0])
        } else {
            None
        },
        currency: tokens.iter().filter_map(|t| t.currency).max(),
        num_flags: flags.into_iter().collect(),
        prespace: first.prespace,
        rating,
    }
}

fn token_context(ctx: Ctx, ps: Option<&str>, token: &MToken) -> Ctx {
    let mut vowel = ctx.future_vowel;
    if let Some(ps) = ps {
        for c in ps.chars() {
            if is_vowel(c) || is_consonant(c) || is_non_quote_punct(c) {
                vowel = if is_non_quote_punct(c) {
                    None
                } else {
                    Some(is_vowel(c))
                };
                break;
            }
        }
    }
    let t = token.text.as_str();
    Ctx {
        future_vowel: vowel,
        future_to: t == "to"
            || t == "To"
            || (t == "TO" && (token.tag == "TO" || token.tag == "IN")),
    }
}

fn resolve_tokens(tokens: &mut [MToken]) {
    let merged = merge_tokens(tokens, None).text;
    let mut classes = [false; 3];
    for c in merged.chars().filter(|c| !",-._‘’/'".contains(*c)) {
        classes[if c.is_alphabetic() {
            0
        } else if c.is_ascii_digit() {
            1
        } else {
            2
        }] = true;
    }
    let prespace =
        merged.contains(' ') || merged.contains('/') || classes.iter().filter(|b| **b).count() > 1;
    let n = tokens.len();
    for (i, tk) in tokens.iter_mut().enumerate() {
        if tk.phonemes.is_none() {
            let single_punct = {
                let mut cs = tk.text.chars();
                matches!((cs.next(), cs.next()), (Some(c), None) if is_non_quote_punct(c))
            };
            if i == n - 1 && single_punct {
                tk.phonemes = Some(tk.text.clone());
                tk.rating = Some(3);
            } else if is_junk(&tk.text) {
                tk.phonemes = Some(String::new());
                tk.rating = Some(3);
            }
        } else if i > 0 {
            tk.prespace = prespace;
        }
    }
    if prespace {
        return;
    }
    let mut idx: Vec<(bool, usize, usize)> = tokens
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            t.phonemes
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(|p| (p.contains(PRIMARY), stress_weight(p), i))
        })
        .collect();
    if idx.len() == 2 && tokens[idx[0].2].text.chars().count() == 1 {
        let i = idx[1].2;
        if let Some(p) = tokens[i].phonemes.as_deref() {
            tokens[i].phonemes = Some(apply_stress(p, Some(-0.5)));
        }
        return;
    }
    let primaries = idx.iter().filter(|x| x.0).count();
    if idx.len() < 2 || primaries <= idx.len().div_ceil(2) {
        return;
    }
    idx.sort();
    let half = idx.len() / 2;
    for &(_, _, i) in &idx[..half] {
        if let Some(p) = tokens[i].phonemes.as_deref() {
            tokens[i].phonemes = Some(apply_stress(p, Some(-0.5)));
        }
    }
}

/// Cap on sub-tokens in one glued group (the group search is quadratic).
const MAX_GROUP: usize = 24;

fn retokenize(tokens: Vec<MToken>, map: &dyn Fn(usize, bool) -> usize) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    let mut currency: Option<char> = None;
    let n = tokens.len();
    let next_tags: Vec<&'static str> = tokens.iter().map(|t| t.tag).collect();
    for (i, token) in tokens.into_iter().enumerate() {
        let ws = token.ws;
        let mut tks: Vec<MToken> = if token.alias.is_none() && token.phonemes.is_none() {
            let base = token.pstart;
            let (lo, hi) = (token.src.start, token.src.end);
            subtokenize(&token.text)
                .into_iter()
                .map(|r| {
                    let a = map(base + r.start, false).clamp(lo, hi);
                    let b = map(base + r.end, true).clamp(a, hi);
                    let mut t = MToken::new(&token.text[r.clone()], token.tag, false, a..b);
                    t.pstart = base + r.start;
                    t.num_flags = token.num_flags.clone();
                    t.stress = token.stress;
                    t
                })
                .collect()
        } else {
            vec![token]
        };
        let Some(last) = tks.last_mut() else { continue };
        last.ws = ws;
        let len = tks.len();
        for j in 0..len {
            let (prev_last, next_first) = (
                if j > 0 {
                    tks[j - 1].text.chars().last()
                } else {
                    None
                },
                if j + 1 < len {
                    tks[j + 1].text.chars().next()
                } else {
                    None
                },
            );
            let tk = &mut tks[j];
            if tk.alias.is_some() || tk.phonemes.is_some() {
            } else if tk.tag == "$"
                && tk.text.chars().count() == 1
                && currency_units(tk.text.chars().next().unwrap_or(' ')).is_some()
            {
                currency = tk.text.chars().next();
                tk.phonemes = Some(String::new());
                tk.rating = Some(4);
            } else if tk.tag == ":" && (tk.text == "-" || tk.text == "–") {
                tk.phonemes = Some("—".into());
                tk.rating = Some(3);
            } else if PUNCT_TAGS.contains(&tk.tag)
                && !tk.text.chars().all(|c| c.is_ascii_alphabetic())
            {
                tk.phonemes = Some(match tk.tag {
                    "-LRB-" => "(".into(),
                    "-RRB-" => ")".into(),
                    "``" => "\u{201C}".into(),
                    "\"\"" | "''" => "\u{201D}".into(),
                    _ => tk.text.chars().filter(|c| is_punct(*c)).collect(),
                });
                tk.rating = Some(4);
            } else if let Some(c) = currency {
                if tk.tag != "CD" {
                    currency = None;
                } else if j + 1 == len && (i + 1 == n || next_tags[i + 1] != "CD") {
                    tk.currency = Some(c);
                }
            } else if j > 0
                && j + 1 < len
                && tk.text == "2"
                && prev_last.is_some_and(char::is_alphabetic)
                && next_first.is_some_and(char::is_alphabetic)
            {
                tk.alias = Some("to".into());
            }
        }
        for mut tk in tks {
            if tk.alias.is_some() || tk.phonemes.is_some() {
                words.push(Word::One(tk));
                continue;
            }
            if let Some(Word::Group(g)) = words.last_mut() {
                if g.last().is_some_and(|l| !l.ws) && g.len() < MAX_GROUP {
                    tk.is_head = false;
                    g.push(tk);
                    continue;
                }
            }
            if tk.ws {
                words.push(Word::One(tk));
            } else {
                words.push(Word::Group(vec![tk]));
            }
        }
    }
    words
        .into_iter()
        .map(|w| match w {
            Word::Group(mut g) if g.len() == 1 => Word::One(g.pop().expect("len 1")),
            w => w,
        })
        .collect()
}

fn fold_left(tokens: Vec<MToken>) -> Vec<MToken> {
    let mut out: Vec<MToken> = Vec::with_capacity(tokens.len());
    for tk in tokens {
        if !tk.is_head {
            if let Some(prev) = out.pop() {
                out.push(merge_tokens(&[prev, tk], Some("")));
                continue;
            }
        }
        out.push(tk);
    }
    out
}

/// Where fallback requests go during a pass.
struct FallbackSink<'a> {
    cache: &'a HashMap<String, String>,
    missing: Vec<String>,
    final_pass: bool,
    g2p: &'a G2p,
}

impl FallbackSink<'_> {
    fn get(&mut self, text: &str) -> Rated {
        if let Some(p) = self.cache.get(text) {
            return (p.clone(), 2);
        }
        if !self.final_pass
            && text.len() <= MAX_ESPEAK_WORD
            && self.missing.len() < MAX_ESPEAK_WORDS
        {
            self.missing.push(text.to_string());
            return (String::new(), 1);
        }
        tracing::debug!(word = text, "no lexicon entry; using the built-in fallback");
        (self.g2p.builtin(text), 1)
    }
}

impl G2p {
    /// Creates a converter for the lexicon's dialect; espeak-ng is used for unknown words when
    /// the `espeak-ng` program is on PATH.
    pub fn new(lexicon: Lexicon) -> Self {
        let espeak = Self::espeak_for(lexicon.lang());
        if espeak.is_none() {
            tracing::debug!("espeak-ng not found on PATH; unknown words use the built-in fallback");
        }
        Self {
            lex: lexicon,
            user: HashMap::new(),
            espeak,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Adds user pronunciations (word → phonemes), matched case-insensitively.
    pub fn with_user_dict(mut self, dict: HashMap<String, String>) -> Self {
        for (k, v) in dict {
            self.user.insert(normalize_key(&k), v);
        }
        self
    }

    /// Enables or disables the espeak-ng fallback (enabling only works when it is on PATH).
    pub fn with_espeak(mut self, enabled: bool) -> Self {
        self.espeak = if enabled {
            Self::espeak_for(self.lang())
        } else {
            None
        };
        self
    }

    fn espeak_for(lang: Lang) -> Option<Espeak> {
        Some(Espeak::new(find_espeak()?, lang.espeak_voice()?))
    }

    /// Whether unknown words go to espeak-ng.
    pub fn espeak_enabled(&self) -> bool {
        self.espeak.is_some()
    }

    /// The dialect.
    pub fn lang(&self) -> Lang {
        self.lex.lang()
    }

    /// Phonemizes `text` as one misaki call. Never fails: unknown words use the fallback;
    /// characters that cannot be spoken get empty phonemes but keep their byte ranges.
    pub fn phonemize(&self, text: &str) -> Phonemized {
        let start = text.len() - text.trim_start().len();
        let mut v = self.phonemize_many(&[(start, &text[start..])]);
        Phonemized {
            tokens: v.pop().unwrap_or_default(),
        }
    }

    /// Phonemizes several independent pieces (each `(offset, text)`; offsets are added to the
    /// token ranges), sharing one espeak-ng run for all unknown words.
    pub(crate) fn phonemize_many(&self, pieces: &[(usize, &str)]) -> Vec<Vec<Token>> {
        let cache: HashMap<String, String> = if self.espeak.is_some() {
            self.cache.lock().map(|c| c.clone()).unwrap_or_default()
        } else {
            HashMap::new()
        };
        let Some(espeak) = &self.espeak else {
            let mut sink = FallbackSink {
                cache: &cache,
                missing: Vec::new(),
                final_pass: true,
                g2p: self,
            };
            return pieces
                .iter()
                .map(|&(off, t)| {
                    let mut words = self.prepare(t, off);
                    self.resolve(&mut words, &mut sink);
                    finish(words)
                })
                .collect();
        };
        // Pass 1 resolves every segment (the right-to-left context restarts after sentence
        // punctuation, so segments are independent) and notes which ones need espeak-ng.
        let mut sink = FallbackSink {
            cache: &cache,
            missing: Vec::new(),
            final_pass: false,
            g2p: self,
        };
        let mut done: Vec<Vec<Vec<Word>>> = Vec::with_capacity(pieces.len());
        let mut pending: Vec<(usize, usize, Vec<Word>)> = Vec::new();
        for (pi, &(off, t)) in pieces.iter().enumerate() {
            let segs = split_segments(self.prepare(t, off));
            let mut out = Vec::with_capacity(segs.len());
            for (si, seg) in segs.into_iter().enumerate() {
                let before = sink.missing.len();
                let backup = clone_words(&seg);
                let mut seg = seg;
                self.resolve(&mut seg, &mut sink);
                if sink.missing.len() > before {
                    pending.push((pi, si, backup));
                }
                out.push(seg);
            }
            done.push(out);
        }
        let mut missing = sink.missing;
        missing.sort();
        missing.dedup();
        let mut cache = cache;
        if !missing.is_empty() {
            tracing::debug!(count = missing.len(), "espeak-ng fallback");
            let got = fallback::espeak_batch(espeak, self.lang(), &missing);
            if let Ok(mut shared) = self.cache.lock() {
                if shared.len() > CACHE_LIMIT {
                    shared.clear();
                }
                for (k, v) in &got {
                    shared.insert(k.clone(), v.clone());
                }
            }
            cache.extend(got);
        }
        // Pass 2 re-resolves only the segments that needed the fallback.
        let mut sink = FallbackSink {
            cache: &cache,
            missing: Vec::new(),
            final_pass: true,
            g2p: self,
        };
        for (pi, si, mut seg) in pending {
            self.resolve(&mut seg, &mut sink);
            done[pi][si] = seg;
        }
        done.into_iter()
            .map(|segs| finish(segs.into_iter().flatten().collect()))
            .collect()
    }

    fn prepare(&self, text: &str, offset: usize) -> Vec<Word> {
        let (proc, map, feats) = preprocess(text, offset);
        let mut tokens = tokenize(
            &proc,
            &|p, end| if end { map.map_end(p) } else { map.map(p) },
            &|w| self.lex.knows(w),
        );
        if !feats.is_empty() {
            // map feature ranges to input ranges
            let feats: Vec<(Range<usize>, Feature)> = feats
                .into_iter()
                .map(|(r, f)| (map.map(r.start)..map.map_end(r.end), f))
                .collect();
            for (r, f) in &feats {
                let mut first = true;
                let mut k = 0;
                while k < tokens.len() {
                    let t = &tokens[k];
                    if t.src.start >= r.start && t.src.start < r.end && t.tag != "_SP" {
                        match f {
                            Feature::Stress(s) => tokens[k].stress = Some(*s),
                            Feature::Flags(fl) => tokens[k].num_flags = fl.clone(),
                            Feature::Phonemes(p) => {
                                let t = &mut tokens[k];
                                t.is_head = first;
                                t.phonemes = Some(if first { p.clone() } else { String::new() });
                                t.rating = Some(5);
                            }
                        }
                        first = false;
                    }
                    k += 1;
                }
            }
        }
        if !self.user.is_empty() {
            for t in tokens.iter_mut() {
                if t.phonemes.is_none() {
                    if let Some(p) = self.user.get(&normalize_key(&t.text)) {
                        t.phonemes = Some(p.clone());
                        t.rating = Some(5);
                    }
                }
            }
        }
        retokenize(fold_left(tokens), &|p, end| {
            if end {
                map.map_end(p)
            } else {
                map.map(p)
            }
        })
    }

    /// Built-in fallback: reads digit runs as numbers and letter runs through the lexicon,
    /// spelling short all-caps runs and guessing the rest with letter-to-sound rules.
    /// Symbols it cannot name (emoji, pictographs) are skipped.
    fn builtin(&self, text: &str) -> String {
        let mut parts: Vec<String> = Vec::new();
        let cs: Vec<(usize, char)> = text.char_indices().collect();
        let mut k = 0;
        let lookup = |w: &str| {
            if self.lex.has_word(w) {
                self.lex.lookup(w, "", None, None).map(|r| r.0)
            } else {
                None
            }
        };
        // two known halves ("stardate" → star + date)
        let compound = |w: &str| -> Option<String> {
            let lw = w.to_lowercase();
            if !lw.is_ascii() || lw.len() < 6 {
                return None;
            }
            (3..=lw.len() - 3).find_map(|i| {
                let (a, b) = lw.split_at(i);
                Some(format!(
                    "{}{}",
                    lookup(a)?,
                    apply_stress(&lookup(b)?, Some(-0.5))
                ))
            })
        };
        while k < cs.len() {
            let c = cs[k].1;
            let start = cs[k].0;
            let class = |c: char| {
                if c.is_alphabetic() || c == '\'' || c == '’' {
                    0
                } else if c.is_ascii_digit() {
                    1
                } else {
                    2
                }
            };
            let cl = class(c);
            let mut e = k + 1;
            while e < cs.len() && cl != 2 && class(cs[e].1) == cl {
                e += 1;
            }
            let end = if e < cs.len() { cs[e].0 } else { text.len() };
            let run = &text[start..end];
            match cl {
                0 => {
                    let w = run.replace('’', "'");
                    let caps = w.chars().all(|c| !c.is_lowercase());
                    let vowelless = !w.chars().any(|c| "aeiouyAEIOUY".contains(c));
                    let ps = if (caps || vowelless) && w.chars().count() <= 5 {
                        self.lex.get_nnp(&w).map(|r| r.0)
                    } else {
                        None
                    }
                    .or_else(|| lookup(&w))
                    .or_else(|| lookup(&w.to_lowercase()))
                    .or_else(|| compound(&w))
                    .unwrap_or_else(|| fallback::builtin_lts(&w, self.lang()));
                    parts.push(ps);
                }
                1 => {
                    let words = crate::numbers::cardinal_str(run);
                    for w in crate::numbers::words(&words).filter(|w| *w != "and") {
                        if let Some(p) = lookup(w) {
                            parts.push(p);
                        }
                    }
                }
                _ => {
                    let name = match c {
                        '%' => Some("percent"),
                        '&' => Some("and"),
                        '+' => Some("plus"),
                        '@' => Some("at"),
                        '=' => Some("equals"),
                        '#' => Some("hash"),
                        '*' => Some("star"),
                        _ => None,
                    };
                    if let Some(p) = name.and_then(lookup) {
                        parts.push(p);
                    }
                }
            }
            k = e;
        }
        parts.retain(|p| !p.is_empty());
        parts.join(" ")
    }

    fn lex_word(&self, tk: &MToken, ctx: Ctx) -> Option<Rated> {
        if !self.user.is_empty() {
            if let Some(p) = self
                .user
                .get(&normalize_key(tk.alias.as_deref().unwrap_or(&tk.text)))
            {
                return Some((p.clone(), 5));
            }
        }
        self.lex.word(tk, ctx)
    }

    fn resolve(&self, words: &mut [Word], fb: &mut FallbackSink<'_>) {
        let mut ctx = Ctx::default();
        for w in words.iter_mut().rev() {
            match w {
                Word::One(t) => {
                    if t.phonemes.is_none() {
                        if let Some((p, r)) = self.lex_word(t, ctx) {
                            t.phonemes = Some(p);
                            t.rating = Some(r);
                        }
                    }
                    if t.phonemes.is_none() {
                        let (p, r) = fb.get(t.alias.as_deref().unwrap_or(&t.text));
                        t.phonemes = Some(p);
                        t.rating = Some(r);
                    }
                    ctx = token_context(ctx, t.phonemes.as_deref(), t);
                }
                Word::Group(g) => {
                    let (mut left, mut right) = (0usize, g.len());
                    let mut should_fallback = false;
                    while left < right {
                        let res = if g[left..right]
                            .iter()
                            .any(|t| t.alias.is_some() || t.phonemes.is_some())
                        {
                            None
                        } else {
                            let tk = merge_tokens(&g[left..right], None);
                            self.lex_word(&tk, ctx).map(|r| (r, tk))
                        };
                        if let Some(((ps, rating), tk)) = res {
                            ctx = token_context(ctx, Some(&ps), &tk);
                            g[left].phonemes = Some(ps);
                            g[left].rating = Some(rating);
                            for x in &mut g[left + 1..right] {
                                x.phonemes = Some(String::new());
                                x.rating = Some(rating);
                            }
                            right = left;
                            left = 0;
                        } else if left + 1 < right {
                            left += 1;
                        } else {
                            right -= 1;
                            let tk = &mut g[right];
                            if tk.phonemes.is_none() {
                                if is_junk(&tk.text) {
                                    tk.phonemes = Some(String::new());
                                    tk.rating = Some(3);
                                } else {
                                    should_fallback = true;
                                    break;
                                }
                            }
                            left = 0;
                        }
                    }
                    if should_fallback {
                        let tk = merge_tokens(g, None);
                        let (p, r) = fb.get(&tk.text);
                        g[0].phonemes = Some(p);
                        g[0].rating = Some(r);
                        for x in &mut g[1..] {
                            x.phonemes = Some(String::new());
                            x.rating = Some(r);
                        }
                    } else {
                        resolve_tokens(g);
                    }
                }
            }
        }
    }
}

/// Splits a word list before every token whose phonemes reset the right-to-left context
/// (sentence punctuation and dashes), so each part can be resolved on its own.
fn split_segments(words: Vec<Word>) -> Vec<Vec<Word>> {
    let mut segs: Vec<Vec<Word>> = Vec::new();
    let mut cur: Vec<Word> = Vec::new();
    for w in words {
        let boundary = match &w {
            Word::One(t) => t.phonemes.as_deref().is_some_and(|p| {
                p.chars()
                    .find(|&c| is_vowel(c) || is_consonant(c) || is_non_quote_punct(c))
                    .is_some_and(is_non_quote_punct)
            }),
            Word::Group(_) => false,
        };
        if boundary && !cur.is_empty() {
            segs.push(std::mem::take(&mut cur));
        }
        cur.push(w);
    }
    if !cur.is_empty() {
        segs.push(cur);
    }
    segs
}

fn normalize_key(s: &str) -> String {
    s.replace(['\u{2018}', '\u{2019}'], "'").to_lowercase()
}

fn clone_words(words: &[Word]) -> Vec<Word> {
    words
        .iter()
        .map(|w| match w {
            Word::One(t) => Word::One(t.clone()),
            Word::Group(g) => Word::Group(g.clone()),
        })
        .collect()
}

fn finish(words: Vec<Word>) -> Vec<Token> {
    words
        .into_iter()
        .map(|w| {
            let t = match w {
                Word::One(t) => t,
                Word::Group(g) => merge_tokens(&g, Some("")),
            };
            let ps = t.phonemes.unwrap_or_default();
            let ps = if ps.contains(['ɾ', 'ʔ']) {
                ps.replace('ɾ', "T").replace('ʔ', "t")
            } else {
                ps
            };
            Token {
                text: t.text,
                phonemes: ps,
                whitespace: t.ws,
                src: t.src,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g2p_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<G2p>();
        assert_send_sync::<Lexicon>();
    }

    fn sub(w: &str) -> Vec<&str> {
        subtokenize(w).into_iter().map(|r| &w[r]).collect()
    }

    #[test]
    fn subtokens() {
        assert_eq!(sub("don't"), ["don't"]);
        assert_eq!(sub("o'clock"), ["o'c", "lock"]);
        assert_eq!(sub("McCabe"), ["Mc", "Cabe"]);
        assert_eq!(sub("80-column"), ["80", "-", "column"]);
        assert_eq!(sub("80.7%"), ["80.7", "%"]);
        assert_eq!(sub("p.m"), ["p", ".", "m"]);
        assert_eq!(sub("-5"), ["-5"]);
        assert_eq!(sub("HTTPServer"), ["HTTPServer"]);
        assert_eq!(sub("sciences'"), ["sciences", "'"]);
        assert_eq!(sub("1,000"), ["1,000"]);
        assert_eq!(sub("U1439"), ["U", "1439"]);
    }

    #[test]
    fn links_parse() {
        let (t, map, f) = preprocess("[Kokoro](/kˈOkəɹO/) x", 10);
        assert_eq!(t, "Kokoro x");
        assert_eq!(map.map(0), 11);
        assert_eq!(f.len(), 1);
        assert!(matches!(&f[0].1, Feature::Phonemes(p) if p == "kˈOkəɹO"));
    }
}
