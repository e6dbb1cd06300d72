//! Gold/silver lexicon lookups and misaki's word rules (special cases, suffixes, proper-noun
//! spelling, numbers). The behaviour follows misaki 0.9.4 (`misaki/en.py`, Apache-2.0, by
//! hexgrad); this is an independent Rust implementation of those rules.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Result};
use crate::lang::Lang;
use crate::numbers;
use crate::stress::{apply_stress, PRIMARY, SECONDARY};
use crate::token::MToken;

/// A (tag, phonemes) pair of a heteronym entry; `None` phonemes mean "spell it".
type TagPair = (Box<str>, Option<Box<str>>);

/// One lexicon value: plain phonemes, or phonemes keyed by part-of-speech tag.
#[derive(Debug, Clone)]
enum Entry {
    Plain(Box<str>),
    Tagged(Box<[TagPair]>),
}

impl Entry {
    fn tagged_get(&self, key: &str) -> Option<Option<&str>> {
        match self {
            Entry::Plain(_) => None,
            Entry::Tagged(v) => v
                .iter()
                .find(|(k, _)| &**k == key)
                .map(|(_, p)| p.as_deref()),
        }
    }
}

/// The gold and silver pronunciation dictionaries of one dialect (misaki 0.9.4 JSON files).
#[derive(Debug, Clone)]
pub struct Lexicon {
    lang: Lang,
    golds: HashMap<Box<str>, Entry>,
    silvers: HashMap<Box<str>, Entry>,
}

/// Right-to-left context carried while phonemizing (what follows the current word).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ctx {
    /// Next pronounced word starts with a vowel (Some(true)), a consonant (Some(false)),
    /// or nothing / punctuation follows (None).
    pub future_vowel: Option<bool>,
    /// The next word is "to".
    pub future_to: bool,
}

pub(crate) type Rated = (String, u8);

const CURRENCIES: [(char, &str, &str); 3] = [
    ('$', "dollar", "cent"),
    ('£', "pound", "pence"),
    ('€', "euro", "cent"),
];
const ORDINALS: [&str; 4] = ["st", "nd", "rd", "th"];

pub(crate) fn currency_units(c: char) -> Option<(&'static str, &'static str)> {
    CURRENCIES
        .iter()
        .find(|(k, _, _)| *k == c)
        .map(|(_, a, b)| (*a, *b))
}

fn symbol_word(w: &str) -> Option<&'static str> {
    Some(match w {
        "%" => "percent",
        "&" => "and",
        "+" => "plus",
        "@" => "at",
        _ => return None,
    })
}

pub(crate) fn is_lower(s: &str) -> bool {
    s.chars().all(|c| !c.is_uppercase())
}
pub(crate) fn is_upper(s: &str) -> bool {
    s.chars().all(|c| !c.is_lowercase())
}
pub(crate) fn is_alpha(s: &str) -> bool {
    !s.is_empty() && s.chars().all(char::is_alphabetic)
}
pub(crate) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}
fn capitalize(s: &str) -> String {
    let mut cs = s.chars();
    match cs.next() {
        Some(f) => f
            .to_uppercase()
            .chain(cs.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

fn parent_tag(tag: &str) -> &str {
    if tag.starts_with("VB") {
        "VERB"
    } else if tag.starts_with("NN") {
        "NOUN"
    } else if tag.starts_with("ADV") || tag.starts_with("RB") {
        "ADV"
    } else if tag.starts_with("ADJ") || tag.starts_with("JJ") {
        "ADJ"
    } else {
        tag
    }
}

/// Streaming deserialization straight into [`Entry`] values (no intermediate JSON tree).
struct LexFile(HashMap<Box<str>, Entry>);

impl<'de> serde::Deserialize<'de> for Entry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Entry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a phoneme string or a map of tag to phoneme string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Entry, E> {
                Ok(Entry::Plain(v.into()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Entry, A::Error> {
                let mut items: Vec<TagPair> = Vec::new();
                while let Some((k, v)) =
                    m.next_entry::<std::borrow::Cow<'de, str>, Option<String>>()?
                {
                    items.push((k.as_ref().into(), v.map(String::into_boxed_str)));
                }
                if !items.iter().any(|(k, _)| &**k == "DEFAULT") {
                    return Err(serde::de::Error::custom("tagged entry without DEFAULT"));
                }
                Ok(Entry::Tagged(items.into_boxed_slice()))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> serde::Deserialize<'de> for LexFile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = LexFile;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object of word to pronunciation")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<LexFile, A::Error> {
                let mut out: HashMap<Box<str>, Entry> =
                    HashMap::with_capacity(m.size_hint().unwrap_or(100_000) * 2);
                while let Some((k, v)) = m.next_entry::<std::borrow::Cow<'de, str>, Entry>()? {
                    out.insert(k.as_ref().into(), v);
                }
                Ok(LexFile(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn parse_file(path: &Path) -> Result<HashMap<Box<str>, Entry>> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let LexFile(mut out) = serde_json::from_slice(&bytes).map_err(|source| Error::Format {
        path: path.to_path_buf(),
        source,
    })?;
    grow_dictionary(&mut out);
    Ok(out)
}

/// Adds case variants: lowercase keys get a Capitalized twin, Capitalized keys a lowercase
/// twin (keys of at least two characters; existing keys win).
fn grow_dictionary(d: &mut HashMap<Box<str>, Entry>) {
    let mut extra: Vec<(Box<str>, Entry)> = Vec::new();
    for (k, v) in d.iter() {
        if k.chars().count() < 2 {
            continue;
        }
        let lower = k.to_lowercase();
        if **k == *lower {
            let cap = capitalize(k);
            if cap != **k {
                extra.push((cap.into(), v.clone()));
            }
        } else if **k == *capitalize(&lower) {
            extra.push((lower.into(), v.clone()));
        }
    }
    for (k, v) in extra {
        d.entry(k).or_insert(v);
    }
}

impl Lexicon {
    /// Loads `{us,gb}_gold.json` and `{us,gb}_silver.json` from `dir` (English only).
    pub fn load(dir: &Path, lang: Lang) -> Result<Self> {
        let p = lang.file_prefix().ok_or(Error::NotEnglish(lang))?;
        let gold: PathBuf = dir.join(format!("{p}_gold.json"));
        let silver: PathBuf = dir.join(format!("{p}_silver.json"));
        // Parse the two files on two threads: load time is on the app's start-up path.
        let (golds, silvers) = std::thread::scope(|s| {
            let g = s.spawn(|| parse_file(&gold));
            let sv = parse_file(&silver);
            let g = g
                .join()
                .unwrap_or_else(|_| Err(Error::LoadPanicked { path: gold.clone() }));
            (g, sv)
        });
        Ok(Self {
            lang,
            golds: golds?,
            silvers: silvers?,
        })
    }

    /// The dialect of this lexicon.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Number of entries (gold, silver) after case-variant growth.
    pub fn len(&self) -> (usize, usize) {
        (self.golds.len(), self.silvers.len())
    }

    /// True when both dictionaries are empty.
    pub fn is_empty(&self) -> bool {
        self.golds.is_empty() && self.silvers.is_empty()
    }

    fn british(&self) -> bool {
        self.lang == Lang::EnGb
    }

    pub(crate) fn gold_plain(&self, w: &str) -> Option<&str> {
        match self.golds.get(w)? {
            Entry::Plain(s) => Some(s),
            Entry::Tagged(_) => None,
        }
    }

    fn gold_default(&self, w: &str) -> Option<&str> {
        match self.golds.get(w)? {
            Entry::Plain(s) => Some(s),
            Entry::Tagged(t) => t
                .iter()
                .find(|(k, _)| &**k == "DEFAULT")
                .and_then(|(_, v)| v.as_deref()),
        }
    }

    /// Whether a lowercase word is a gold dictionary word, directly or through a suffix
    /// (used by the tagger to tell all-caps words from acronyms).
    pub(crate) fn knows(&self, w: &str) -> bool {
        let g = |s: &str| self.golds.contains_key(s);
        if g(w) {
            return true;
        }
        let n = w.len();
        let cut = |k: usize| (n > k && w.is_char_boundary(n - k)).then(|| &w[..n - k]);
        (w.ends_with('s') && cut(1).is_some_and(g))
            || ((w.ends_with("es") || w.ends_with("ed")) && cut(2).is_some_and(g))
            || (w.ends_with("ies") && cut(3).is_some_and(|b| g(&format!("{b}y"))))
            || (w.ends_with("ing") && cut(3).is_some_and(|b| g(b) || g(&format!("{b}e"))))
            || (w.ends_with('d') && cut(1).is_some_and(g))
    }

    /// Whether the gold or silver dictionary has `word` (exact spelling, after the case
    /// variants added at load time).
    pub fn contains(&self, word: &str) -> bool {
        self.has_word(word)
    }

    pub(crate) fn has_word(&self, w: &str) -> bool {
        self.golds.contains_key(w) || self.silvers.contains_key(w)
    }

    /// Spells a word letter by letter with the last letter stressed ("NASA" style acronyms).
    pub(crate) fn get_nnp(&self, word: &str) -> Option<Rated> {
        let mut ps = String::new();
        for c in word.chars().filter(|c| c.is_alphabetic()) {
            let up: String = c.to_uppercase().collect();
            ps.push_str(self.gold_plain(&up)?);
        }
        let ps = apply_stress(&ps, Some(0.0));
        Some(match ps.rfind(SECONDARY) {
            Some(i) => {
                let mut s = String::with_capacity(ps.len());
                s.push_str(&ps[..i]);
                s.push(PRIMARY);
                s.push_str(&ps[i + SECONDARY.len_utf8()..]);
                (s, 3)
            }
            None => (ps, 3),
        })
    }

    fn special_case(&self, word: &str, tag: &str, stress: Option<f64>, ctx: Ctx) -> Option<Rated> {
        if tag == "ADD" {
            let sym = match word {
                "." => Some("dot"),
                "/" => Some("slash"),
                _ => None,
            };
            if let Some(s) = sym {
                return self.lookup(s, "", Some(-0.5), Some(ctx));
            }
        }
        if let Some(s) = symbol_word(word) {
            return self.lookup(s, "", None, Some(ctx));
        }
        let stripped = word.trim_matches('.');
        if stripped.contains('.')
            && is_alpha(&word.replace('.', ""))
            && word
                .split('.')
                .map(|p| p.chars().count())
                .max()
                .unwrap_or(0)
                < 3
        {
            return self.get_nnp(word);
        }
        match word {
            "a" | "A" => return Some((if tag == "DT" { "ɐ" } else { "ˈA" }.into(), 4)),
            "am" | "Am" | "AM" => {
                if tag.starts_with("NN") {
                    return self.get_nnp(word);
                }
                if ctx.future_vowel.is_none() || word != "am" || stress.is_some_and(|s| s > 0.0) {
                    return self.gold_default("am").map(|p| (p.to_string(), 4));
                }
                return Some(("ɐm".into(), 4));
            }
            "an" | "An" | "AN" => {
                if word == "AN" && tag.starts_with("NN") {
                    return self.get_nnp(word);
                }
                return Some(("ɐn".into(), 4));
            }
            "I" if tag == "PRP" => return Some(("ˌI".into(), 4)),
            "by" | "By" | "BY" if parent_tag(tag) == "ADV" => return Some(("bˈI".into(), 4)),
            _ => {}
        }
        if word == "to" || word == "To" || (word == "TO" && (tag == "TO" || tag == "IN")) {
            return Some((
                match ctx.future_vowel {
                    None => self.gold_default("to").unwrap_or("tu").to_string(),
                    Some(false) => "tə".into(),
                    Some(true) => "tʊ".into(),
                },
                4,
            ));
        }
        if word == "in" || word == "In" || (word == "IN" && tag != "NNP") {
            let s = if ctx.future_vowel.is_none() || tag != "IN" {
                "ˈ"
            } else {
                ""
            };
            return Some((format!("{s}ɪn"), 4));
        }
        if word == "the" || word == "The" || (word == "THE" && tag == "DT") {
            return Some((
                if ctx.future_vowel == Some(true) {
                    "ði"
                } else {
                    "ðə"
                }
                .into(),
                4,
            ));
        }
        if tag == "IN" && (word.eq_ignore_ascii_case("vs") || word.eq_ignore_ascii_case("vs.")) {
            return self.lookup("versus", "", None, Some(ctx));
        }
        if word == "used" || word == "Used" || word == "USED" {
            let key = if (tag == "VBD" || tag == "JJ") && ctx.future_to {
                "VBD"
            } else {
                "DEFAULT"
            };
            if let Some(Some(p)) = self.golds.get("used").and_then(|e| e.tagged_get(key)) {
                return Some((p.to_string(), 4));
            }
        }
        None
    }

    /// Dictionary lookup (gold, then silver) with tag selection and capitalization stress.
    pub(crate) fn lookup(
        &self,
        word: &str,
        tag: &str,
        stress: Option<f64>,
        ctx: Option<Ctx>,
    ) -> Option<Rated> {
        let mut word: std::borrow::Cow<str> = word.into();
        let mut is_nnp = false;
        if is_upper(&word) && !self.golds.contains_key(&*word) {
            word = word.to_lowercase().into();
            is_nnp = tag == "NNP";
        }
        let mut rating = 4;
        let mut entry = self.golds.get(&*word);
        if entry.is_none() && !is_nnp {
            entry = self.silvers.get(&*word);
            rating = 3;
        }
        let ps: Option<&str> = match entry {
            None => None,
            Some(Entry::Plain(s)) => Some(s),
            Some(e @ Entry::Tagged(_)) => {
                let key = if ctx.is_some_and(|c| c.future_vowel.is_none())
                    && e.tagged_get("None").is_some()
                {
                    "None"
                } else if e.tagged_get(tag).is_some() {
                    tag
                } else {
                    parent_tag(tag)
                };
                match e.tagged_get(key) {
                    Some(p) => p,
                    None => e.tagged_get("DEFAULT").flatten(),
                }
            }
        };
        if ps.is_none() || (is_nnp && !ps.is_some_and(|p| p.contains(PRIMARY))) {
            if let Some(r) = self.get_nnp(&word) {
                return Some(r);
            }
        }
        ps.map(|p| (apply_stress(p, stress), rating))
    }

    fn is_known(&self, word: &str) -> bool {
        if self.has_word(word) || symbol_word(word).is_some() {
            return true;
        }
        if !is_alpha(word) || !word.chars().all(|c| c.is_ascii_alphabetic()) {
            return false;
        }
        if word.len() == 1 {
            return true;
        }
        if is_upper(word) && self.golds.contains_key(&*word.to_lowercase()) {
            return true;
        }
        is_upper(&word[1..])
    }

    fn suffix_s(&self, stem: Option<String>) -> Option<String> {
        let stem = stem?;
        let last = stem.chars().last()?;
        Some(if "ptkfθ".contains(last) {
            stem + "s"
        } else if "szʃʒʧʤ".contains(last) {
            stem + if self.british() { "ɪz" } else { "ᵻz" }
        } else {
            stem + "z"
        })
    }

    fn stem_s(
        &self,
        word: &str,
        tag: &str,
        stress: Option<f64>,
        ctx: Option<Ctx>,
    ) -> Option<Rated> {
        if word.len() < 3 || !word.ends_with('s') {
            return None;
        }
        let n = word.len();
        let stem = if !word.ends_with("ss") && self.is_known(&word[..n - 1]) {
            word[..n - 1].to_string()
        } else if (word.ends_with("'s")
            || (n > 4 && word.ends_with("es") && !word.ends_with("ies")))
            && self.is_known(&word[..n - 2])
        {
            word[..n - 2].to_string()
        } else if n > 4 && word.ends_with("ies") && self.is_known(&format!("{}y", &word[..n - 3])) {
            format!("{}y", &word[..n - 3])
        } else {
            return None;
        };
        let (ps, rating) = self.lookup(&stem, tag, stress, ctx)?;
        self.suffix_s(Some(ps)).map(|p| (p, rating))
    }

    fn suffix_ed(&self, stem: Option<String>) -> Option<String> {
        let stem = stem?;
        let chars: Vec<char> = stem.chars().collect();
        let last = *chars.last()?;
        let br = self.british();
        Some(if "pkfθʃsʧ".contains(last) {
            stem + "t"
        } else if last == 'd' {
            stem + if br { "ɪd" } else { "ᵻd" }
        } else if last != 't' {
            stem + "d"
        } else if br || chars.len() < 2 {
            stem + "ɪd"
        } else if "AIOWYiuæɑəɛɪɹʊʌ".contains(chars[chars.len() - 2]) {
            let mut s: String = chars[..chars.len() - 1].iter().collect();
            s.push_str("ɾᵻd");
            s
        } else {
            stem + "ᵻd"
        })
    }

    fn stem_ed(
        &self,
        word: &str,
        tag: &str,
        stress: Option<f64>,
        ctx: Option<Ctx>,
    ) -> Option<Rated> {
        if word.len() < 4 || !word.ends_with('d') {
            return None;
        }
        let n = word.len();
        let stem = if !word.ends_with("dd") && self.is_known(&word[..n - 1]) {
            &word[..n - 1]
        } else if n > 4
            && word.ends_with("ed")
            && !word.ends_with("eed")
            && self.is_known(&word[..n - 2])
        {
            &word[..n - 2]
        } else {
            return None;
        };
        let (ps, rating) = self.lookup(stem, tag, stress, ctx)?;
        self.suffix_ed(Some(ps)).map(|p| (p, rating))
    }

    fn suffix_ing(&self, stem: Option<String>) -> Option<String> {
        let stem = stem?;
        let chars: Vec<char> = stem.chars().collect();
        let last = *chars.last()?;
        if self.british() {
            if last == 'ə' || last == 'ː' {
                return None;
            }
        } else if chars.len() > 1
            && last == 't'
            && "AIOWYiuæɑəɛɪɹʊʌ".contains(chars[chars.len() - 2])
        {
            let mut s: String = chars[..chars.len() - 1].iter().collect();
            s.push_str("ɾɪŋ");
            return Some(s);
        }
        Some(stem + "ɪŋ")
    }

    fn stem_ing(
        &self,
        word: &str,
        tag: &str,
        stress: Option<f64>,
        ctx: Option<Ctx>,
    ) -> Option<Rated> {
        if word.len() < 5 || !word.ends_with("ing") {
            return None;
        }
        let n = word.len();
        let base = &word[..n - 3];
        let stem: String = if n > 5 && self.is_known(base) {
            base.to_string()
        } else if self.is_known(&format!("{base}e")) {
            format!("{base}e")
        } else if n > 5 && doubled_or_ck(word) && self.is_known(&word[..n - 4]) {
            word[..n - 4].to_string()
        } else {
            return None;
        };
        let (ps, rating) = self.lookup(&stem, tag, stress, ctx)?;
        self.suffix_ing(Some(ps)).map(|p| (p, rating))
    }

    fn get_word(&self, word: &str, tag: &str, stress: Option<f64>, ctx: Ctx) -> Option<Rated> {
        if let Some(r) = self.special_case(word, tag, stress, ctx) {
            return Some(r);
        }
        let wl = word.to_lowercase();
        let mut word: &str = word;
        if word.chars().count() > 1
            && is_alpha(&word.replace('\'', ""))
            && word != wl
            && (tag != "NNP" || word.chars().count() > 7)
            && !self.has_word(word)
            && (is_upper(word) || is_lower(&word[word.chars().next().map_or(0, char::len_utf8)..]))
            && (self.has_word(&wl)
                || self.stem_s(&wl, tag, stress, Some(ctx)).is_some()
                || self.stem_ed(&wl, tag, stress, Some(ctx)).is_some()
                || self.stem_ing(&wl, tag, stress, Some(ctx)).is_some())
        {
            word = &wl;
        }
        if self.is_known(word) {
            return self.lookup(word, tag, stress, Some(ctx));
        }
        if let Some(base) = word.strip_suffix("s'") {
            let w = format!("{base}'s");
            if self.is_known(&w) {
                return self.lookup(&w, tag, stress, Some(ctx));
            }
        }
        if let Some(base) = word.strip_suffix('\'') {
            if self.is_known(base) {
                return self.lookup(base, tag, stress, Some(ctx));
            }
        }
        if let Some(r) = self.stem_s(word, tag, stress, Some(ctx)) {
            return Some(r);
        }
        if let Some(r) = self.stem_ed(word, tag, stress, Some(ctx)) {
            return Some(r);
        }
        self.stem_ing(word, tag, Some(stress.unwrap_or(0.5)), Some(ctx))
    }

    fn append_currency(&self, ps: String, currency: Option<char>) -> String {
        let Some((unit, _)) = currency.and_then(currency_units) else {
            return ps;
        };
        match self.stem_s(&format!("{unit}s"), "", None, None) {
            Some((c, _)) => format!("{ps} {c}"),
            None => ps,
        }
    }

    fn get_number(
        &self,
        word: &str,
        currency: Option<char>,
        is_head: bool,
        flags: &str,
    ) -> Option<Rated> {
        let suffix_len = word
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_lowercase() || *c == '\'')
            .map(char::len_utf8)
            .sum::<usize>();
        let (mut word, suffix) = word.split_at(word.len() - suffix_len);
        let mut result: Vec<Rated> = Vec::new();
        if let Some(rest) = word.strip_prefix('-') {
            if let Some(r) = self.lookup("minus", "", None, None) {
                result.push(r);
            }
            word = rest;
        }
        let extend = |result: &mut Vec<Rated>, text: &str, first: bool| {
            let parts: Vec<&str> = numbers::words(text).collect();
            let n = parts.len();
            for (i, w) in parts.into_iter().enumerate() {
                if w != "and" || flags.contains('&') {
                    if first && i == 0 && n > 1 && w == "one" && flags.contains('a') {
                        result.push(("ə".into(), 4));
                    } else if let Some(r) =
                        self.lookup(w, "", if w == "point" { Some(-2.0) } else { None }, None)
                    {
                        result.push(r);
                    }
                } else if flags.contains('n') {
                    if let Some(last) = result.last_mut() {
                        last.0.push_str("ən");
                    }
                }
            }
        };
        let is_ord = ORDINALS.contains(&suffix);
        let cur_units = currency.and_then(currency_units);
        if is_digits(word) && is_ord {
            extend(&mut result, &numbers::ordinal_str(word), true);
        } else if result.is_empty() && word.len() == 4 && cur_units.is_none() && is_digits(word) {
            extend(&mut result, &numbers::year(word.parse().ok()?), true);
        } else if !is_head && !word.contains('.') {
            let num = word.replace(',', "");
            let b = num.as_bytes();
            if b.is_empty() {
                return None;
            }
            if b[0] == b'0' || b.len() > 3 {
                for d in num.chars() {
                    extend(&mut result, &numbers::cardinal_str(&d.to_string()), false);
                }
            } else if b.len() == 3 && !num.ends_with("00") {
                extend(&mut result, &numbers::cardinal_str(&num[..1]), true);
                if b[1] == b'0' {
                    if let Some(r) = self.lookup("O", "", Some(-2.0), None) {
                        result.push(r);
                    }
                    extend(&mut result, &numbers::cardinal_str(&num[2..]), false);
                } else {
                    extend(&mut result, &numbers::cardinal_str(&num[1..]), false);
                }
            } else {
                extend(&mut result, &numbers::cardinal_str(&num), true);
            }
        } else if word.matches('.').count() > 1 || !is_head {
            let mut first = true;
            for num in word.replace(',', "").split('.') {
                if num.is_empty() {
                } else if num.starts_with('0')
                    || (num.len() != 2 && num[1..].bytes().any(|b| b != b'0'))
                {
                    for d in num.chars() {
                        extend(&mut result, &numbers::cardinal_str(&d.to_string()), false);
                    }
                } else {
                    extend(&mut result, &numbers::cardinal_str(num), first);
                }
                first = false;
            }
        } else if let (Some((unit, sub)), true) = (cur_units, is_currency(word)) {
            let clean = word.replace(',', "");
            let mut pairs: Vec<(String, &str)> = clean
                .split('.')
                .zip([unit, sub])
                .map(|(n, u)| (n.to_string(), u))
                .collect();
            let zero = |s: &str| s.bytes().all(|b| b == b'0');
            if pairs.len() > 1 {
                if zero(&pairs[1].0) {
                    pairs.truncate(1);
                } else if zero(&pairs[0].0) {
                    pairs.remove(0);
                }
            }
            for (i, (num, unit)) in pairs.iter().enumerate() {
                if i > 0 {
                    if let Some(r) = self.lookup("and", "", None, None) {
                        result.push(r);
                    }
                }
                let num = if num.is_empty() { "0" } else { num.as_str() };
                extend(&mut result, &numbers::cardinal_str(num), i == 0);
                let one = num.trim_start_matches('0') == "1";
                let r = if !one && *unit != "pence" {
                    self.stem_s(&format!("{unit}s"), "", None, None)
                } else {
                    self.lookup(unit, "", None, None)
                };
                if let Some(r) = r {
                    result.push(r);
                }
            }
        } else {
            let text = if is_digits(word) {
                numbers::cardinal_str(word)
            } else if !word.contains('.') {
                let d = word.replace(',', "");
                if !is_digits(&d) {
                    return None;
                }
                if is_ord {
                    numbers::ordinal_str(&d)
                } else {
                    numbers::cardinal_str(&d)
                }
            } else {
                let w = word.replace(',', "");
                if let Some(frac) = w.strip_prefix('.') {
                    let mut s = String::from("point");
                    for d in frac.chars() {
                        s.push(' ');
                        s.push_str(&numbers::cardinal_str(&d.to_string()));
                    }
                    s
                } else {
                    let (i, f) = w.split_once('.').unwrap_or((&w, ""));
                    if !is_digits(i) || !(f.is_empty() || is_digits(f)) {
                        return None;
                    }
                    numbers::decimal(i, f)
                }
            };
            extend(&mut result, &text, true);
        }
        if result.is_empty() {
            return None;
        }
        let rating = result.iter().map(|r| r.1).min().unwrap_or(4);
        let joined = result
            .into_iter()
            .map(|r| r.0)
            .collect::<Vec<_>>()
            .join(" ");
        let out = match suffix {
            "s" | "'s" => self.suffix_s(Some(joined)),
            "ed" | "'d" => self.suffix_ed(Some(joined)),
            "ing" => self.suffix_ing(Some(joined)),
            _ => Some(joined),
        }?;
        Some((out, rating))
    }

    /// Phonemizes one (sub)token: the misaki `Lexicon.__call__` equivalent.
    pub(crate) fn word(&self, tk: &MToken, ctx: Ctx) -> Option<Rated> {
        let raw = tk.alias.as_deref().unwrap_or(&tk.text);
        let word: String = raw
            .chars()
            .map(|c| {
                if c == '\u{2018}' || c == '\u{2019}' {
                    '\''
                } else {
                    c
                }
            })
            .nfkc()
            .collect();
        let stress = if is_lower(&word) {
            None
        } else if is_upper(&word) {
            Some(2.0)
        } else {
            Some(0.5)
        };
        if let Some((ps, r)) = self.get_word(&word, tk.tag, stress, ctx) {
            let ps = self.append_currency(ps, tk.currency);
            return Some((apply_stress(&ps, tk.stress), r));
        }
        if is_number(&word, tk.is_head) {
            let (ps, r) = self.get_number(&word, tk.currency, tk.is_head, &tk.num_flags)?;
            return Some((apply_stress(&ps, tk.stress), r));
        }
        None
    }
}

fn doubled_or_ck(word: &str) -> bool {
    if word.ends_with("cking") {
        return true;
    }
    let b = word.as_bytes();
    if b.len() < 5 {
        return false;
    }
    let (x, y) = (b[b.len() - 5], b[b.len() - 4]);
    x == y && b"bcdgklmnprstvxz".contains(&x)
}

fn is_currency(word: &str) -> bool {
    if !word.contains('.') {
        return true;
    }
    if word.matches('.').count() > 1 {
        return false;
    }
    let cents = word.split('.').nth(1).unwrap_or("");
    cents.chars().count() < 3
}

pub(crate) fn is_number(word: &str, is_head: bool) -> bool {
    if !word.bytes().any(|b| b.is_ascii_digit()) {
        return false;
    }
    let mut w = word;
    for s in ["ing", "'d", "ed", "'s", "st", "nd", "rd", "th", "s"] {
        if let Some(x) = w.strip_suffix(s) {
            w = x;
            break;
        }
    }
    w.char_indices()
        .all(|(i, c)| c.is_ascii_digit() || c == ',' || c == '.' || (is_head && i == 0 && c == '-'))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::token::MToken;

    /// A small in-memory lexicon for rule tests.
    pub(crate) fn tiny(lang: Lang) -> Lexicon {
        let mut golds: HashMap<Box<str>, Entry> = HashMap::new();
        let plain = [
            ("walk", "wˈɔk"),
            ("jump", "ʤˈʌmp"),
            ("kiss", "kˈɪs"),
            ("wait", "wˈAt"),
            ("rent", "ɹˈɛnt"),
            ("need", "nˈid"),
            ("play", "plˈA"),
            ("try", "tɹˈI"),
            ("make", "mˈAk"),
            ("run", "ɹˈʌn"),
            ("fix", "fˈɪks"),
            ("A", "ˈA"),
            ("B", "bˈi"),
            ("C", "sˈi"),
            ("O", "ˈO"),
            ("one", "wˈʌn"),
            ("two", "tˈu"),
            ("three", "θɹˈi"),
            ("five", "fˈIv"),
            ("nine", "nˈIn"),
            ("nineteen", "nˌIntˈin"),
            ("ninety", "nˈIndi"),
            ("eighty", "ˈAɾi"),
            ("four", "fˈɔɹ"),
            ("hundred", "hˈʌndɹəd"),
            ("thousand", "θˈWzᵊnd"),
            ("twenty", "twˈɛnti"),
            ("and", "ænd"),
            ("point", "pˈYnt"),
            ("dollar", "dˈɑləɹ"),
            ("cent", "sˈɛnt"),
            ("minus", "mˈInəs"),
            ("percent", "pəɹsˈɛnt"),
            ("third", "θˈɜɹd"),
            ("the", "ði"),
            ("to", "tu"),
            ("am", "æm"),
            ("versus", "vˈɜɹsəs"),
        ];
        for (k, v) in plain {
            golds.insert(k.into(), Entry::Plain(v.into()));
        }
        let tagged = |pairs: &[(&str, Option<&str>)]| {
            Entry::Tagged(
                pairs
                    .iter()
                    .map(|(k, v)| (Box::<str>::from(*k), v.map(Box::<str>::from)))
                    .collect::<Vec<_>>()
                    .into_boxed_slice(),
            )
        };
        golds.insert(
            "read".into(),
            tagged(&[
                ("DEFAULT", Some("ɹˈid")),
                ("VBD", Some("ɹˈɛd")),
                ("VBN", Some("ɹˈɛd")),
            ]),
        );
        golds.insert(
            "live".into(),
            tagged(&[("DEFAULT", Some("lˈIv")), ("VERB", Some("lˈɪv"))]),
        );
        golds.insert(
            "be".into(),
            tagged(&[("DEFAULT", Some("bi")), ("None", Some("bˈi"))]),
        );
        golds.insert(
            "used".into(),
            tagged(&[("DEFAULT", Some("jˈuzd")), ("VBD", Some("jˈust"))]),
        );
        grow_dictionary(&mut golds);
        Lexicon {
            lang,
            golds,
            silvers: HashMap::new(),
        }
    }

    fn word(lex: &Lexicon, w: &str, tag: &'static str, ctx: Ctx) -> Option<String> {
        let tk = MToken::new(w, tag, false, 0..w.len());
        lex.word(&tk, ctx).map(|r| r.0)
    }

    fn us(w: &str) -> Option<String> {
        word(&tiny(Lang::EnUs), w, "NN", Ctx::default())
    }
    fn gb(w: &str) -> Option<String> {
        word(&tiny(Lang::EnGb), w, "NN", Ctx::default())
    }

    #[test]
    fn suffix_s() {
        assert_eq!(us("walks").as_deref(), Some("wˈɔks"));
        assert_eq!(us("kisses").as_deref(), Some("kˈɪsᵻz"));
        assert_eq!(gb("kisses").as_deref(), Some("kˈɪsɪz"));
        assert_eq!(us("plays").as_deref(), Some("plˈAz"));
        assert_eq!(us("tries").as_deref(), Some("tɹˈIz"));
        assert_eq!(us("walk's").as_deref(), Some("wˈɔks"));
    }

    #[test]
    fn suffix_ed() {
        assert_eq!(us("walked").as_deref(), Some("wˈɔkt"));
        assert_eq!(us("fixed").as_deref(), Some("fˈɪkst"));
        assert_eq!(us("played").as_deref(), Some("plˈAd"));
        assert_eq!(us("needed").as_deref(), Some("nˈidᵻd"));
        assert_eq!(gb("needed").as_deref(), Some("nˈidɪd"));
        // US flap after a vowel, plain ᵻd after a consonant; GB always ɪd
        assert_eq!(us("waited").as_deref(), Some("wˈAɾᵻd"));
        assert_eq!(us("rented").as_deref(), Some("ɹˈɛntᵻd"));
        assert_eq!(gb("waited").as_deref(), Some("wˈAtɪd"));
    }

    #[test]
    fn suffix_ing() {
        assert_eq!(us("walking").as_deref(), Some("wˈɔkɪŋ"));
        assert_eq!(us("making").as_deref(), Some("mˈAkɪŋ"));
        assert_eq!(us("running").as_deref(), Some("ɹˈʌnɪŋ"));
        assert_eq!(us("waiting").as_deref(), Some("wˈAɾɪŋ"));
        assert_eq!(gb("waiting").as_deref(), Some("wˈAtɪŋ"));
    }

    #[test]
    fn unknown_is_none() {
        assert_eq!(us("zzxq"), None);
    }

    #[test]
    fn proper_noun_spelling() {
        let lex = tiny(Lang::EnUs);
        assert_eq!(lex.get_nnp("ABC").map(|r| r.0).as_deref(), Some("ˌAbˌisˈi"));
        // all-caps unknown word tagged NNP is spelled
        assert_eq!(
            word(&lex, "ABC", "NNP", Ctx::default()).as_deref(),
            Some("ˌAbˌisˈi")
        );
        // dotted initials
        assert_eq!(
            word(&lex, "A.B.", "NNP", Ctx::default()).as_deref(),
            Some("ˌAbˈi")
        );
    }

    #[test]
    fn capitalization_stress() {
        // Capitalized: secondary stress added to an unstressed entry; known words keep theirs
        assert_eq!(us("Walk").as_deref(), Some("wˈɔk"));
        let lex = tiny(Lang::EnUs);
        let be = word(
            &lex,
            "Be",
            "VB",
            Ctx {
                future_vowel: Some(false),
                future_to: false,
            },
        );
        assert_eq!(be.as_deref(), Some("bˌi"));
    }

    #[test]
    fn heteronyms_by_tag() {
        let lex = tiny(Lang::EnUs);
        let c = Ctx {
            future_vowel: Some(false),
            future_to: false,
        };
        assert_eq!(word(&lex, "read", "VBD", c).as_deref(), Some("ɹˈɛd"));
        assert_eq!(word(&lex, "read", "VB", c).as_deref(), Some("ɹˈid"));
        assert_eq!(word(&lex, "live", "VBP", c).as_deref(), Some("lˈɪv"));
        assert_eq!(word(&lex, "live", "JJ", c).as_deref(), Some("lˈIv"));
        // phrase-final key
        assert_eq!(
            word(&lex, "be", "VB", Ctx::default()).as_deref(),
            Some("bˈi")
        );
        assert_eq!(word(&lex, "be", "VB", c).as_deref(), Some("bi"));
    }

    #[test]
    fn special_cases() {
        let lex = tiny(Lang::EnUs);
        let vowel = Ctx {
            future_vowel: Some(true),
            future_to: false,
        };
        let cons = Ctx {
            future_vowel: Some(false),
            future_to: false,
        };
        assert_eq!(word(&lex, "a", "DT", cons).as_deref(), Some("ɐ"));
        assert_eq!(word(&lex, "the", "DT", vowel).as_deref(), Some("ði"));
        assert_eq!(word(&lex, "the", "DT", cons).as_deref(), Some("ðə"));
        assert_eq!(word(&lex, "to", "TO", vowel).as_deref(), Some("tʊ"));
        assert_eq!(word(&lex, "to", "TO", cons).as_deref(), Some("tə"));
        assert_eq!(
            word(&lex, "to", "TO", Ctx::default()).as_deref(),
            Some("tu")
        );
        assert_eq!(word(&lex, "I", "PRP", cons).as_deref(), Some("ˌI"));
        assert_eq!(word(&lex, "am", "VBP", cons).as_deref(), Some("ɐm"));
        assert_eq!(word(&lex, "vs.", "IN", cons).as_deref(), Some("vˈɜɹsəs"));
        let to = Ctx {
            future_vowel: Some(false),
            future_to: true,
        };
        assert_eq!(word(&lex, "used", "VBD", to).as_deref(), Some("jˈust"));
        assert_eq!(word(&lex, "used", "VBN", cons).as_deref(), Some("jˈuzd"));
    }

    #[test]
    fn numbers_read() {
        let lex = tiny(Lang::EnUs);
        let n = |w: &str, head: bool, cur: Option<char>| {
            let mut tk = MToken::new(w, "CD", false, 0..w.len());
            tk.is_head = head;
            tk.currency = cur;
            lex.word(&tk, Ctx::default()).map(|r| r.0)
        };
        assert_eq!(n("1984", true, None).as_deref(), Some("nˌIntˈin ˈAɾi fˈɔɹ"));
        assert_eq!(n("1990s", true, None).as_deref(), Some("nˌIntˈin nˈIndiz"));
        assert_eq!(n("3rd", true, None).as_deref(), Some("θˈɜɹd"));
        assert_eq!(n("-5", true, None).as_deref(), Some("mˈInəs fˈIv"));
        assert_eq!(n("3.5", true, None).as_deref(), Some("θɹˈi pYnt fˈIv"));
        assert_eq!(n("5.5.9", true, None).as_deref(), Some("fˈIv fˈIv nˈIn"));
        assert_eq!(
            n("1.01", true, Some('$')).as_deref(),
            Some("wˈʌn dˈɑləɹ ænd wˈʌn sˈɛnt")
        );
        assert_eq!(n("905", false, None).as_deref(), Some("nˈIn O fˈIv"));
    }

    #[test]
    fn grow_adds_case_variants() {
        let mut d: HashMap<Box<str>, Entry> = HashMap::new();
        d.insert("hello".into(), Entry::Plain("həlˈO".into()));
        d.insert("Paris".into(), Entry::Plain("pˈæɹɪs".into()));
        d.insert("x".into(), Entry::Plain("ˈɛks".into()));
        grow_dictionary(&mut d);
        assert!(d.contains_key("Hello"));
        assert!(d.contains_key("paris"));
        assert!(!d.contains_key("X"));
    }

    #[test]
    fn number_detection() {
        assert!(is_number("1980s", true));
        assert!(is_number("-5", true));
        assert!(!is_number("-5", false));
        assert!(is_number("21st", true));
        assert!(!is_number("abc", true));
        assert!(!is_number("1a2", true));
    }

    #[test]
    fn doubled() {
        assert!(doubled_or_ck("running"));
        assert!(doubled_or_ck("packing"));
        assert!(!doubled_or_ck("reading"));
    }
}
