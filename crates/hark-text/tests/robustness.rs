//! Bad and odd input never panics; ranges stay valid; chunks respect the limit.
//! Uses a tiny lexicon written to a temporary directory, so it runs without any assets.

use std::path::PathBuf;
use std::sync::OnceLock;

use hark_text::{chunk, ChunkOptions, G2p, Lang, Lexicon};
use proptest::prelude::*;

fn tiny_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hark-text-tiny-lex-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let gold = r#"{"hello": "həlˈO", "world": "wˈɜɹld", "the": "ði", "a": "ˈA", "A": "ˈA",
        "B": "bˈi", "C": "sˈi", "D": "dˈi", "E": "ˈi", "F": "ˈɛf", "G": "ʤˈi", "H": "ˈAʧ",
        "I": "ˈI", "J": "ʤˈA", "K": "kˈA", "L": "ˈɛl", "M": "ˈɛm", "N": "ˈɛn", "O": "ˈO",
        "P": "pˈi", "Q": "kjˈu", "R": "ˈɑɹ", "S": "ˈɛs", "T": "tˈi", "U": "jˈu", "V": "vˈi",
        "W": "dˈʌbᵊlju", "X": "ˈɛks", "Y": "wˈI", "Z": "zˈi", "to": "tu", "am": "æm",
        "used": {"DEFAULT": "jˈuzd", "VBD": "jˈust"}, "one": "wˈʌn", "two": "tˈu",
        "three": "θɹˈi", "hundred": "hˈʌndɹəd", "thousand": "θˈWzᵊnd", "point": "pˈYnt",
        "dollar": "dˈɑləɹ", "cent": "sˈɛnt", "and": "ænd", "percent": "pəɹsˈɛnt",
        "read": {"DEFAULT": "ɹˈid", "VBD": "ɹˈɛd", "NOUN": null}}"#;
    std::fs::write(dir.join("us_gold.json"), gold).expect("write");
    std::fs::write(
        dir.join("us_silver.json"),
        r#"{"cat": "kˈæt", "dog": "dˈɔɡ"}"#,
    )
    .expect("write");
    dir
}

fn g2p() -> &'static G2p {
    static G: OnceLock<G2p> = OnceLock::new();
    G.get_or_init(|| {
        let dir = tiny_dir();
        let lex = Lexicon::load(&dir, Lang::EnUs).expect("tiny lexicon loads");
        let _ = std::fs::remove_dir_all(&dir);
        G2p::new(lex).with_espeak(false)
    })
}

fn check(text: &str, max: usize) {
    let g = g2p();
    let p = g.phonemize(text);
    let mut last_start = 0;
    for t in &p.tokens {
        assert!(t.src.start <= t.src.end && t.src.end <= text.len(), "{t:?}");
        assert!(
            text.is_char_boundary(t.src.start) && text.is_char_boundary(t.src.end),
            "{t:?}"
        );
        assert!(t.src.start >= last_start, "tokens out of order: {t:?}");
        last_start = t.src.start;
    }
    let _ = p.phonemes();
    let chunks = chunk(
        text,
        g,
        &ChunkOptions {
            max_phonemes: max,
            first_chunk: max.is_multiple_of(2),
        },
    );
    let mut last = 0;
    for c in &chunks {
        assert!(!c.phonemes.is_empty());
        assert!(
            c.phonemes.chars().count() <= max,
            "chunk of {} > {max}",
            c.phonemes.chars().count()
        );
        assert!(text.is_char_boundary(c.src.start) && text.is_char_boundary(c.src.end));
        assert!(c.src.start >= last, "chunks out of order");
        last = c.src.start;
        for w in &c.words {
            assert!(text.is_char_boundary(w.src.start) && text.is_char_boundary(w.src.end));
            assert!(w.phonemes.end <= c.phonemes.len());
            assert!(c.phonemes.is_char_boundary(w.phonemes.start));
            assert!(c.phonemes.is_char_boundary(w.phonemes.end));
        }
    }
}

fn odd_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(vec![
            'a', 'e', 'H', 'z', ' ', ' ', '\n', '\t', '\r', '.', ',', '!', '?', ';', ':', '-', '—',
            '–', '…', '\'', '’', '‘', '"', '“', '”', '(', ')', '[', ']', '/', '#', '$', '£', '€',
            '¥', '%', '&', '@', '+', '*', '_', '<', '>', '0', '1', '5', '9', '\u{0}', '\u{7}',
            '\u{301}', '\u{200D}', '\u{FE0F}', '\u{202E}', '\u{200B}', 'é', 'ß', 'ﬁ', '²', '½',
            '١', 'א', 'ب', '中', '文', 'ア', '한', '👩', '🎉', '💻', '🏳', '\u{1F1FA}', '\u{1F1F8}',
            'İ', 'ǅ', 'Σ', 'ς', '\u{FFFD}', '\u{10FFFF}', 'ｘ', '１',
        ]),
        1 => any::<char>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_unicode_never_panics(s in any::<String>(), max in 1usize..600) {
        check(&s, max);
    }

    #[test]
    fn odd_mixtures_never_panic(cs in prop::collection::vec(odd_char(), 0..200), max in 1usize..600) {
        let s: String = cs.into_iter().collect();
        check(&s, max);
    }

    #[test]
    fn wordy_text_respects_limit(words in prop::collection::vec("[a-zA-Z]{1,12}|[0-9]{1,6}|[.,;:!?]", 0..300), max in 20usize..600) {
        let s = words.join(" ");
        check(&s, max);
    }
}

#[test]
fn edge_inputs() {
    for s in [
        "",
        " ",
        "\n\n\n",
        "[",
        "[]()",
        "[x](",
        "[x](/)",
        "[x](//)",
        "[x](#)",
        "[x](##)",
        "[](/a/)",
        "[a]()b",
        "$",
        "$.",
        "$1.999.9",
        "-",
        "--",
        "1,,,2",
        "-.5",
        ".5.",
        "5.",
        "99999999999999999999999999999999999999999999999999",
        "1e10",
        "'''",
        "‘’‘’",
        "\u{301}\u{301}\u{301}",
        "👩‍👩‍👧‍👦",
        "🏳️‍🌈 flag",
        "中文 English 日本語",
        "مرحبا hello",
        "a\u{0}b",
        "I.B.M.",
        "A.",
        "U.S.A..",
    ] {
        check(s, 510);
        check(s, 3);
    }
}

fn big_input(mb: usize) {
    // half one giant "word" with no spaces, half ordinary words
    let half = mb * 1024 * 1024 / 2;
    let blob = "ab1".repeat(half / 3);
    let words = "hello world the cat read 123 ".repeat(half / 30);
    let text = format!("{blob} {words}");
    let t = std::time::Instant::now();
    let chunks = chunk(&text, g2p(), &ChunkOptions::default());
    eprintln!(
        "{mb} MB: {} chunks in {:.1} s",
        chunks.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(chunks.iter().all(|c| c.phonemes.chars().count() <= 510));
    assert!(chunks.len() > 100 * mb);
}

#[test]
fn one_megabyte_pathological_input() {
    big_input(1);
}

/// Slow in debug builds (about a minute on a loaded 2-core machine):
/// `cargo test --release -p hark-text --test robustness -- --ignored`
#[test]
#[ignore]
fn ten_megabytes_pathological_input() {
    big_input(10);
}
