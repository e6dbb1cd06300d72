//! Readings of Chinese words from pypinyin 0.55.0's data (MIT; `data/README.md`), looked up as
//! misaki's `lazy_pinyin(word, Style.TONE3, neutral_tone_with_five=True)` does: the word is cut
//! into the longest phrases of pypinyin's phrase list (greedy, from the left); a phrase takes
//! its listed readings, any other character its first reading. No tone sandhi (misaki asks for
//! none).
//!
//! The data is compiled into the crate (`data/pinyin.txt.gz`, 550 KB: 20,924 characters of
//! U+4E00..U+9FFF, 47,111 phrases) and inflated once by [`Pinyin::load`]. Each distinct reading is
//! turned into phonemes once ([`super::ipa`]), so a word's phonemes are a concatenation.

use std::collections::HashMap;
use std::io::Read;

use super::ipa::syllable_ipa;

/// pypinyin's data, gzip-compressed (built by `data/make_pinyin.py`).
const DATA: &[u8] = include_bytes!("data/pinyin.txt.gz");

/// First and last code point with a character reading.
const FIRST: u32 = 0x4E00;
const LAST: u32 = 0x9FFF;
/// No reading.
const NONE: u16 = u16::MAX;

/// The reading data with every reading's phonemes.
pub(crate) struct Pinyin {
    /// Reading id of each char `FIRST..=LAST` (`NONE` if pypinyin has none).
    chars: Vec<u16>,
    /// Phrase → (start, len) of its reading ids in `pool`.
    phrases: HashMap<Box<str>, (u32, u8)>,
    pool: Vec<u16>,
    /// Longest phrase, in chars.
    max_phrase: usize,
    /// Per reading id: the TONE3 reading and its phonemes (empty: misaki cannot read it).
    readings: Vec<(Box<str>, Box<str>)>,
}

impl std::fmt::Debug for Pinyin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pinyin")
            .field("phrases", &self.phrases.len())
            .field("readings", &self.readings.len())
            .finish()
    }
}

/// Splits `r` (`yi1ding1`) into TONE3 readings, each ending in its tone digit.
fn readings(mut r: &str) -> impl Iterator<Item = &str> {
    std::iter::from_fn(move || {
        let end = r.find(|c: char| c.is_ascii_digit())? + 1;
        let (head, tail) = r.split_at(end);
        r = tail;
        Some(head)
    })
}

impl Pinyin {
    /// Inflates and indexes the compiled-in data (tens of milliseconds).
    pub(crate) fn load() -> Self {
        let mut text = String::new();
        flate2::read::GzDecoder::new(DATA)
            .read_to_string(&mut text)
            .expect("the compiled-in pinyin data inflates");
        let mut p = Pinyin {
            chars: vec![NONE; (LAST - FIRST + 1) as usize],
            phrases: HashMap::with_capacity(48_000),
            pool: Vec::with_capacity(150_000),
            max_phrase: 1,
            readings: Vec::new(),
        };
        let mut ids: HashMap<Box<str>, u16> = HashMap::new();
        let (chars, phrases) = text.split_once("\n\n").expect("two sections");
        let mut id = |r: &str, p: &mut Pinyin| -> u16 {
            if let Some(&i) = ids.get(r) {
                return i;
            }
            let ipa = syllable_ipa(r).unwrap_or_default();
            p.readings.push((r.into(), ipa.into()));
            let i = (p.readings.len() - 1) as u16;
            ids.insert(r.into(), i);
            i
        };
        for line in chars.lines() {
            let mut it = line.chars();
            let c = it.next().expect("a char");
            let r = it.as_str();
            p.chars[(c as u32 - FIRST) as usize] = id(r, &mut p);
        }
        for line in phrases.lines() {
            let split = line.find(|c: char| c.is_ascii()).expect("readings");
            let (phrase, rs) = line.split_at(split);
            let start = p.pool.len() as u32;
            for r in readings(rs) {
                let i = id(r, &mut p);
                p.pool.push(i);
            }
            let len = (p.pool.len() as u32 - start) as u8;
            p.max_phrase = p.max_phrase.max(phrase.chars().count());
            p.phrases.insert(phrase.into(), (start, len));
        }
        p
    }

    /// The reading ids of `word` (Chinese characters), as `lazy_pinyin` finds them; characters
    /// without a reading give none.
    pub(crate) fn word(&self, word: &str, out: &mut Vec<u16>) {
        let bounds: Vec<usize> = word
            .char_indices()
            .map(|(i, _)| i)
            .chain([word.len()])
            .collect();
        let n = bounds.len() - 1;
        let mut i = 0;
        while i < n {
            let longest = (2..=self.max_phrase.min(n - i)).rev().find_map(|len| {
                self.phrases
                    .get(&word[bounds[i]..bounds[i + len]])
                    .map(|p| (len, p))
            });
            if let Some((len, &(start, count))) = longest {
                out.extend_from_slice(
                    &self.pool[start as usize..start as usize + usize::from(count)],
                );
                i += len;
                continue;
            }
            let c = word[bounds[i]..].chars().next().expect("a char") as u32;
            if (FIRST..=LAST).contains(&c) && self.chars[(c - FIRST) as usize] != NONE {
                out.push(self.chars[(c - FIRST) as usize]);
            }
            i += 1;
        }
    }

    /// The phonemes of reading `id`.
    pub(crate) fn ipa(&self, id: u16) -> &str {
        &self.readings[usize::from(id)].1
    }

    /// The TONE3 spelling of reading `id` (`zhong1`).
    #[cfg(test)]
    pub(crate) fn tone3(&self, id: u16) -> &str {
        &self.readings[usize::from(id)].0
    }

    /// Every distinct reading in the data, in TONE3 spelling.
    pub(crate) fn all_readings(&self) -> impl Iterator<Item = &str> {
        self.readings.iter().map(|r| &*r.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Pinyin;

    #[test]
    fn phrases_win_over_single_characters() {
        let p = Pinyin::load();
        let read = |w: &str| {
            let mut ids = Vec::new();
            p.word(w, &mut ids);
            ids.iter()
                .map(|&i| p.tone3(i))
                .collect::<Vec<_>>()
                .join(" ")
        };
        // 一 alone is yi1; in the phrase 一个 pypinyin lists yi2 (its tone before a fourth tone)
        assert_eq!(read("一"), "yi1");
        assert_eq!(read("一个"), "yi2 ge4");
        // 银行: hang2, not the first reading xing2 of 行
        assert_eq!(read("行"), "xing2");
        assert_eq!(read("银行"), "yin2 hang2");
        // Latin letters have no reading
        assert_eq!(read("A"), "");
    }
}
