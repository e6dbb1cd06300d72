//! Fuzzing the text front end: every language reader that can run here (English with misaki's
//! lexicons, British English, Mandarin, Japanese with its dictionary, and es, fr-fr, it, pt-br
//! and hi when espeak-ng is installed) reads arbitrary Unicode, odd mixtures of scripts,
//! numbers and symbols, and SSML- or link-like markup, then chunks it. Nothing may panic or
//! hang, every token and chunk keeps valid, ordered byte ranges on char boundaries, and chunks
//! respect their phoneme limit and hold only symbols of Kokoro's vocabulary (the model refuses
//! any other).
//!
//! A bounded campaign: `HARK_FUZZ_CASES` cases per property (default 32; CI uses the default,
//! a longer run sets e.g. `HARK_FUZZ_CASES=5000`). The kept corpus: every file in
//! `tests/fuzz-corpus/` is read by every reader on each run, and proptest keeps the inputs of
//! past failures in `tests/fuzz.proptest-regressions` and replays them first.

mod common;

use hark_text::{chunk, ChunkOptions, FrontEnd, Lang, Phonemize, Sources};
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::OnceLock;

fn cases() -> u32 {
    std::env::var("HARK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    }
}

/// The readers that can run on this machine, loaded once.
fn readers() -> &'static [FrontEnd] {
    static R: OnceLock<Vec<FrontEnd>> = OnceLock::new();
    R.get_or_init(|| {
        let mut out = Vec::new();
        let lex = common::lexicon_dir();
        let ja = common::ja_dir();
        let sources = Sources {
            lexicons: lex.as_deref(),
            japanese: ja.as_deref(),
        };
        for lang in Lang::ALL {
            let available = if lang.is_english() {
                lex.is_some()
            } else if lang == Lang::Ja {
                ja.is_some()
            } else if lang == Lang::Zh {
                true
            } else {
                // The espeak-ng languages may be skipped where the program is missing.
                common::espeak(lang).is_some()
            };
            if available {
                out.push(FrontEnd::load(lang, sources).expect("reader loads"));
            }
        }
        eprintln!(
            "fuzzing the readers of {:?}",
            out.iter().map(|r| r.lang().as_str()).collect::<Vec<_>>()
        );
        out
    })
}

/// The symbols of Kokoro's vocabulary.
fn vocab() -> &'static std::collections::HashSet<char> {
    static V: OnceLock<std::collections::HashSet<char>> = OnceLock::new();
    V.get_or_init(|| hark_text::KOKORO_ALPHABET.chars().collect())
}

/// The alphabet chunks keep to is the model's: the `vocab` of the committed model config.
#[test]
fn alphabet_is_the_models() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hark-kokoro/data/kokoro-config.json");
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("the model config")).unwrap();
    let model: std::collections::HashSet<char> = cfg["vocab"]
        .as_object()
        .expect("a vocab")
        .keys()
        .filter_map(|k| k.chars().next())
        .collect();
    assert_eq!(&model, vocab());
    assert_eq!(vocab().len(), hark_text::KOKORO_ALPHABET.chars().count());
}

/// Reads `text` with `reader` and chunks it at `max` phonemes, checking every range.
fn check(reader: &FrontEnd, text: &str, max: usize) {
    let lang = reader.lang().as_str();
    let p = reader.phonemize(text);
    let mut last_start = 0;
    for t in &p.tokens {
        assert!(
            t.src.start <= t.src.end && t.src.end <= text.len(),
            "{lang}: {t:?} outside the text"
        );
        assert!(
            text.is_char_boundary(t.src.start) && text.is_char_boundary(t.src.end),
            "{lang}: {t:?} not on char boundaries"
        );
        assert!(
            t.src.start >= last_start,
            "{lang}: tokens out of order: {t:?}"
        );
        last_start = t.src.start;
    }
    let _ = p.phonemes();
    let chunks = chunk(
        text,
        reader,
        &ChunkOptions {
            max_phonemes: max,
            first_chunk: max.is_multiple_of(2),
        },
    );
    let mut last = 0;
    for c in &chunks {
        assert!(!c.phonemes.is_empty(), "{lang}: empty chunk");
        let unknown: Vec<char> = c
            .phonemes
            .chars()
            .filter(|ch| !vocab().contains(ch))
            .collect();
        assert!(
            unknown.is_empty(),
            "{lang}: symbols the model does not know: {unknown:?} in {:?}",
            c.phonemes
        );
        let n = c.phonemes.chars().count();
        assert!(n <= max, "{lang}: chunk of {n} phonemes > {max}");
        assert!(
            c.src.start <= c.src.end && c.src.end <= text.len(),
            "{lang}: chunk {:?} outside the text",
            c.src
        );
        assert!(
            text.is_char_boundary(c.src.start) && text.is_char_boundary(c.src.end),
            "{lang}: chunk {:?} not on char boundaries",
            c.src
        );
        assert!(c.src.start >= last, "{lang}: chunks out of order");
        last = c.src.start;
        for w in &c.words {
            assert!(
                text.is_char_boundary(w.src.start) && text.is_char_boundary(w.src.end),
                "{lang}: word {:?}",
                w.src
            );
            assert!(w.src.end <= text.len(), "{lang}: word {:?}", w.src);
            assert!(
                w.phonemes.start <= w.phonemes.end && w.phonemes.end <= c.phonemes.len(),
                "{lang}: word phonemes {:?} of {}",
                w.phonemes,
                c.phonemes.len()
            );
            assert!(
                c.phonemes.is_char_boundary(w.phonemes.start)
                    && c.phonemes.is_char_boundary(w.phonemes.end),
                "{lang}: word phonemes {:?}",
                w.phonemes
            );
        }
    }
}

fn check_all(text: &str, max: usize) {
    for r in readers() {
        check(r, text, max);
    }
}

/// Characters that front ends treat specially, from many scripts.
fn odd_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select(vec![
            'a', 'e', 'H', 'z', ' ', ' ', '\n', '\t', '\r', '.', ',', '!', '?', ';', ':', '-', '—',
            '–', '…', '\'', '’', '‘', '"', '“', '”', '(', ')', '[', ']', '<', '>', '/', '#', '$',
            '£', '€', '¥', '%', '&', '@', '+', '*', '_', '=', '0', '1', '5', '9', '\u{0}',
            '\u{7}', '\u{301}', '\u{200D}', '\u{FE0F}', '\u{202E}', '\u{200B}', 'é', 'ß', 'ﬁ',
            '²', '½', '١', 'א', 'ب', '中', '文', '两', '第', '年', '月', '日', '时', '分', '〇',
            'ア', 'あ', 'ー', 'ｶ', '、', '。', '「', '」', '〜', '円', '한', 'न', 'म', '्', 'ि',
            '।', '१', '¡', '¿', '«', '»', 'ç', 'ã', 'œ', '👩', '🎉', '🏳', '\u{1F1FA}',
            '\u{1F1F8}', 'İ', 'ǅ', 'Σ', 'ς', '\u{FFFD}', '\u{10FFFF}', 'ｘ', '１',
        ]),
        1 => any::<char>(),
    ]
}

/// Pieces of SSML- and link-like markup, words, numbers and spaces.
fn markup_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "<speak>",
            "</speak>",
            "<break time=\"500ms\"/>",
            "<break/>",
            "<p>",
            "</p>",
            "<s>",
            "<emphasis level=\"strong\">",
            "</emphasis>",
            "<say-as interpret-as=\"characters\">",
            "</say-as>",
            "<prosody rate=\"slow\">",
            "</prosody>",
            "<phoneme alphabet=\"ipa\" ph=\"həˈloʊ\">",
            "</phoneme>",
            "<sub alias=\"x\">",
            "&amp;",
            "&lt;",
            "&gt;",
            "&quot;",
            "&#x1F600;",
            "&#39;",
            "&nbsp;",
            "<!--",
            "-->",
            "<![CDATA[",
            "]]>",
            "<",
            ">",
            "/>",
            "=\"",
            "[",
            "](",
            ")",
            "](/",
            "/)",
            "[word](/wˈɜɹd/)",
            "[x](#)",
            "[](/a/)",
            "*",
            "**",
            "_",
            "`",
            "#",
            "\\",
            " ",
            " ",
            "\n",
            "Hello",
            "world",
            "read",
            "Dr.",
            "U.S.",
            "3.5",
            "$20",
            "1,000",
            "12:30",
            "50%",
            "2nd",
            "中文",
            "東京",
            "नमस्ते",
            "été",
            "¿Qué?",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z]{1,10}",
        "[0-9]{1,8}",
        "\\PC{1,4}",
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_unicode(s in any::<String>(), max in 1usize..600) {
        check_all(&s, max);
    }

    #[test]
    fn odd_mixtures(cs in prop::collection::vec(odd_char(), 0..160), max in 1usize..600) {
        let s: String = cs.into_iter().collect();
        check_all(&s, max);
    }

    #[test]
    fn markup(pieces in prop::collection::vec(markup_piece(), 0..60), max in 1usize..600) {
        check_all(&pieces.concat(), max);
    }
}

/// The kept corpus: every seed, by every reader, at the model's limit and at tiny ones.
#[test]
fn corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fuzz-corpus")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{} seeds", files.len());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for max in [510, 40, 3, 1] {
            for r in readers() {
                check(r, &text, max);
            }
        }
    }
}
