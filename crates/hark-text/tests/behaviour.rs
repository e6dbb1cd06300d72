//! Behaviour through the public API with the real misaki lexicons (normalization classes,
//! overrides, chunking and byte ranges). Expected strings are misaki 0.9.4 outputs from the
//! golden set. espeak-ng is switched off here so results do not depend on it (one test checks
//! the espeak path when the program is installed).
//!
//! Needs `HARK_LEXICON_DIR` (default `~/.cache/hark/assets/lexicons`); skipped when absent unless
//! `HARK_REQUIRE_ASSETS=1`.

mod common;

use std::collections::HashMap;
use std::sync::OnceLock;

use common::lexicon as lex;
use hark_text::{chunk, ChunkOptions, G2p, Lang};

fn us() -> Option<&'static G2p> {
    static G: OnceLock<Option<G2p>> = OnceLock::new();
    G.get_or_init(|| lex(Lang::EnUs).map(|l| G2p::new(l).with_espeak(false)))
        .as_ref()
}

macro_rules! g2p_or_skip {
    () => {
        match us() {
            Some(g) => g,
            None => return,
        }
    };
}

fn ps(text: &str) -> String {
    us().expect("checked").phonemize(text).phonemes()
}

#[test]
fn plain_sentence_matches_misaki() {
    g2p_or_skip!();
    assert_eq!(
        ps("Shaw's Principle: Build a system that even a fool can use, and only a fool will want to use it."),
        "ʃˈɔz pɹˈɪnsəpᵊl: bˈɪld ɐ sˈɪstəm ðæt ˈivən ɐ fˈul kæn jˈuz, ænd ˈOnli ɐ fˈul wɪl wˈɑnt tə jˈuz ɪt."
    );
}

#[test]
fn cardinals_units_and_ordinals() {
    g2p_or_skip!();
    assert_eq!(
        ps("The trail is 26 km long and climbs 1,352 m."),
        "ðə tɹˈAl ɪz twˈɛnti sˈɪks kˌAˈɛm lˈɔŋ ænd klˈImz wˈʌn θˈWzᵊnd θɹˈi hˈʌndɹəd fˈɪfti tˈu ˈɛm"
    );
    assert_eq!(
        ps("She finished 7nd out of 4,890 runners."),
        "ʃˌi fˈɪnəʃt sˈɛvənθ ˈWt ʌv fˈɔɹ θˈWzᵊnd ˈAt hˈʌndɹəd nˈIndi ɹˈʌnəɹz."
    );
    assert!(ps("the 21st century").contains("twˈɛnti fˈɜɹst"));
}

#[test]
fn currency_with_cents() {
    g2p_or_skip!();
    assert_eq!(
        ps("The invoice came to $930.07, not $19."),
        "ði ˈɪnvˌYs kˈAm tə nˈIn hˈʌndɹəd θˈɜɹTi dˈɑləɹz ænd sˈɛvən sˈɛnts, nˌɑt nˌIntˈin dˈɑləɹz."
    );
    assert_eq!(
        ps("It costs £422 or about €9,179,692 in total."),
        "ˌɪt kˈɔsts fˈɔɹ hˈʌndɹəd twˈɛnti tˈu pˈWndz ɔɹ əbˈWt nˈIn mˈɪljᵊn wˈʌn hˈʌndɹəd sˈɛvənti nˈIn θˈWzᵊnd sˈɪks hˈʌndɹəd nˈIndi tˈu jˈʊɹOz ɪn tˈOTᵊl."
    );
    assert!(ps("$1.01").contains("dˈɑləɹ ænd wˈʌn sˈɛnt"));
    // yen: misaki has no reading; the number is still spoken
    assert!(ps("¥500").contains("fˈIv hˈʌndɹəd"));
}

#[test]
fn years_decades_decimals_percentages() {
    g2p_or_skip!();
    assert_eq!(
        ps("The 2020s were the decade of change."),
        "ðə twˈɛnti twˈɛntiz wɜɹ ðə dˈɛkˌAd ʌv ʧˈAnʤ."
    );
    assert!(ps("in 1992").contains("nˌIntˈin nˈIndi tˈu"));
    assert!(ps("in 2005").contains("tˈu θˈWzᵊnd fˈIv"));
    assert_eq!(
        ps("Prices rose 40.4% last year and 1 percent the year before."),
        "pɹˈIsᵻz ɹˈOz fˈɔɹTi pYnt fˈɔɹ pəɹsˈɛnt lˈæst jˈɪɹ ænd wˈʌn pəɹsˈɛnt ðə jˈɪɹ bəfˈɔɹ."
    );
    assert!(ps("version 5.8.6").ends_with("fˈIv ˈAt sˈɪks"));
}

#[test]
fn fractions_and_phone_numbers() {
    g2p_or_skip!();
    assert_eq!(
        ps("Add 3/7 cup of sugar and 1.3 kg of flour."),
        "ˈæd θɹˈi sˈɛvən kˈʌp ʌv ʃˈʊɡəɹ ænd wˈʌn pYnt θɹˈi kˌAʤˈi ʌv flˈWəɹ."
    );
    assert_eq!(
        ps("Call me at (644) 530-3438 before 3 o'clock."),
        "kˈɔl mˌi æt (sˈɪks hˈʌndɹəd fˈɔɹTi fˈɔɹ) fˌIv hˌʌndɹəd θˌɜɹTiθˈɜɹTi fˈɔɹ θˈɜɹTi ˈAt bəfˈɔɹ θɹˈi əklˈɑk."
    );
}

#[test]
fn dates_and_times_are_spoken() {
    g2p_or_skip!();
    assert!(ps("February 20, 1993.").ends_with("fˈɛbjəwˌɛɹi twˈɛnti, nˌIntˈin nˈIndi θɹˈi."));
    // misaki hands "7:11" to espeak-ng; the built-in fallback still reads both numbers
    let t = ps("at 7:11");
    assert!(t.contains("sˈɛvən") && t.contains("lˈɛv"), "{t}");
}

#[test]
fn abbreviations_and_acronyms() {
    g2p_or_skip!();
    assert_eq!(
        ps("Dr. Smith said the results were vs. not final."),
        "dˈɑktəɹ smˈɪθ sˈɛd ðə ɹəzˈʌlts wɜɹ vˈɜɹsəs nˌɑt fˈInᵊl."
    );
    assert!(ps("Help Mr. Wizard").contains("mˈɪstəɹ"));
    assert!(ps("The FBI team").contains("ˌɛfbˌiˈI"));
    assert!(ps("at 6:59 a.m.").contains("ˌAˈɛm"));
    assert_eq!(
        ps("... I want a COLOR T.V. and a VIBRATING BED!!!"),
        "... ˌI wˈɑnt ɐ kˈʌləɹ tˌivˈi ænd ɐ vˈIbɹATɪŋ bˈɛd!!!"
    );
}

#[test]
fn apostrophes_quotes_possessives() {
    g2p_or_skip!();
    assert_eq!(ps("that's"), ps("that’s"));
    assert_eq!(
        ps("STOP SHOUTING, OKAY! The boss’s toys are upstairs."),
        "stˈɑp ʃˈWTɪŋ, ˌOkˈA! ðə bˈɔsᵻz tˈYz ɑɹ ˌʌpstˈɛɹz."
    );
    assert_eq!(ps("\"Help Mr. Wizard!\""), "“hˈɛlp mˈɪstəɹ wˈɪzəɹd!”");
    assert!(ps("God's opinion").starts_with("ɡˈɑdz"));
}

#[test]
fn hyphens_ellipses_dashes() {
    g2p_or_skip!();
    assert_eq!(
        ps("The mother-in-law guest arrived — finally… or so we thought."),
        "ðə mˈʌðəɹənlˌɔ ɡˈɛst əɹˈIvd — fˈInᵊli… ɔɹ sˌO wi θˈɔt."
    );
    assert_eq!(
        ps("One Bell System - it works"),
        "wˈʌn bˈɛl sˈɪstəm — ɪt wˈɜɹks"
    );
    // "--" is silent but keeps its space
    assert_eq!(ps("liberty. -- Henry Ford"), "lˈɪbəɹTi.  hˈɛnɹi fˈɔɹd");
}

#[test]
fn all_caps_and_code_like_tokens() {
    g2p_or_skip!();
    assert_eq!(
        ps("Edwin Meese made me wear CORDOVANS!!"),
        "ˈɛdwɪn mˈis mˌAd mˌi wˈɛɹ kˈɔɹdəvᵊnz!!"
    );
    assert!(ps("I will _not_ condone it").contains("nˌɑt kəndˈOn"));
    let camel = ps("camelCase");
    assert!(!camel.is_empty());
}

#[test]
fn heteronyms() {
    g2p_or_skip!();
    assert!(ps("I want to live here.").contains("lˈɪv"));
    assert!(ps("a live show").contains("lˈIv"));
    assert!(ps("He read it yesterday.").contains("ɹˈɛd"));
    assert!(ps("I will read it.").contains("ɹˈid"));
    assert!(ps("Do not use it.").contains("jˈuz"));
    assert!(ps("the use of it").contains("jˈus"));
    assert!(ps("It used to work.").contains("jˈust"));
}

#[test]
fn emails_and_urls_are_spoken() {
    g2p_or_skip!();
    let e = ps("mail help@example.org now");
    assert!(e.contains("hˈɛlp") && e.contains("æt"), "{e}");
    let u = ps("Visit https://www.example.com/docs today");
    assert!(u.contains("dˈɑks") || u.contains("dɑks"), "{u}");
}

#[test]
fn overrides_user_dict_and_links() {
    let Some(l) = lex(Lang::EnUs) else { return };
    let mut d = HashMap::new();
    d.insert("Kokoro".to_string(), "kˈOkəɹO".to_string());
    let g = G2p::new(l).with_espeak(false).with_user_dict(d);
    assert_eq!(g.phonemize("I like kokoro.").phonemes(), "ˌI lˈIk kˈOkəɹO.");
    assert_eq!(g.phonemize("KOKORO").phonemes(), "kˈOkəɹO");
    // misaki README example
    assert_eq!(
        g.phonemize("[Misaki](/misˈɑki/) is a G2P engine designed for [Kokoro](/kˈOkəɹO/) models.")
            .phonemes(),
        "misˈɑki ɪz ə ʤˈitəpˈi ˈɛnʤən dəzˈInd fɔɹ kˈOkəɹO mˈɑdᵊlz."
            .replace("ə ʤ", "ɐ ʤ")
            .replace("ʤˈitəpˈi", &g.phonemize("G2P").phonemes())
    );
    // stress link: (-2) removes stress, (2) forces primary
    assert_eq!(g.phonemize("[hello](-2)").phonemes(), "həlO");
    assert_eq!(g.phonemize("[you](2)").phonemes(), "jˈu");
    // number flag: "a" instead of "one"
    assert!(g
        .phonemize("[100](#a#)")
        .phonemes()
        .starts_with("ə hˈʌndɹəd"));
    // link ranges point into the original text
    let text = "say [tomato](/təmˈɑtO/) now";
    let p = g.phonemize(text);
    let t = p
        .tokens
        .iter()
        .find(|t| t.phonemes == "təmˈɑtO")
        .expect("override token");
    assert_eq!(&text[t.src.clone()], "tomato");
}

#[test]
fn emoji_with_espeak_are_named() {
    let Some(l) = lex(Lang::EnUs) else { return };
    let g = G2p::new(l);
    if !g.espeak_enabled() {
        eprintln!("espeak-ng not installed: emoji are skipped (empty phonemes)");
        assert_eq!(g.phonemize("fixes 🎉.").phonemes(), "fˈɪksᵻz .");
        return;
    }
    assert_eq!(
        g.phonemize("fixes 🎉.").phonemes(),
        "fˈɪksᵻz pˈɑɹTi pˈɑpəɹ."
    );
}

#[test]
fn british_lexicon() {
    let Some(l) = lex(Lang::EnGb) else { return };
    let g = G2p::new(l).with_espeak(false);
    let p = g
        .phonemize("I have no idea what the weather will be like tomorrow.")
        .phonemes();
    assert!(p.contains('ː') || p.contains('Q'), "{p}");
    assert!(!p.contains('T'), "no American flap: {p}");
}

#[test]
fn token_ranges_cover_source_in_order() {
    let g = g2p_or_skip!();
    let text = "  Dr. Smith paid $13.99 for “the book” — isn't that 80% off?  Yes!";
    let p = g.phonemize(text);
    let mut last = 0;
    for t in &p.tokens {
        assert!(text.is_char_boundary(t.src.start) && text.is_char_boundary(t.src.end));
        assert!(t.src.start >= last, "{t:?} out of order");
        last = t.src.end;
        let piece = &text[t.src.clone()];
        assert_eq!(piece.trim(), t.text.trim(), "range text mismatch for {t:?}");
    }
    let n = p
        .tokens
        .iter()
        .find(|t| t.text == "13.99")
        .expect("number token");
    assert_eq!(&text[n.src.clone()], "13.99");
    assert!(n.phonemes.contains("dˈɑləɹz"));
}

fn check_chunks(text: &str, chunks: &[hark_text::Chunk], max: usize) {
    let mut last_word_end = 0;
    let mut last_chunk_end = 0;
    for c in chunks {
        assert!(!c.phonemes.is_empty());
        assert!(
            c.phonemes.chars().count() <= max,
            "chunk too long: {}",
            c.phonemes.chars().count()
        );
        assert!(text.is_char_boundary(c.src.start) && text.is_char_boundary(c.src.end));
        assert!(c.src.start >= last_chunk_end);
        last_chunk_end = c.src.end;
        for w in &c.words {
            assert!(text.is_char_boundary(w.src.start) && text.is_char_boundary(w.src.end));
            assert!(w.src.start >= last_word_end, "words out of order");
            assert!(w.src.start >= c.src.start && w.src.end <= c.src.end);
            last_word_end = w.src.end;
            assert!(
                c.phonemes.is_char_boundary(w.phonemes.start)
                    && c.phonemes.is_char_boundary(w.phonemes.end)
            );
            assert!(!c.phonemes[w.phonemes.clone()].trim().is_empty());
        }
    }
}

#[test]
fn chunking_limits_waterfall_and_ranges() {
    let g = g2p_or_skip!();
    assert!(chunk("", g, &ChunkOptions::default()).is_empty());
    assert!(chunk(" \n\n \t", g, &ChunkOptions::default()).is_empty());
    // paragraphs are never merged
    let c = chunk(
        "Hello there.\n\nGeneral Kenobi.",
        g,
        &ChunkOptions::default(),
    );
    assert_eq!(c.len(), 2);
    assert_eq!(c[1].phonemes, g.phonemize("General Kenobi.").phonemes());
    // a long paragraph: sentences split at sentence ends first
    let sentence =
        "The quick brown fox jumps over the lazy dog, and then it runs away; nobody saw it. ";
    let text = sentence.repeat(20);
    let opts = ChunkOptions {
        max_phonemes: 510,
        first_chunk: false,
    };
    let cs = chunk(&text, g, &opts);
    assert!(cs.len() > 1);
    check_chunks(&text, &cs, 510);
    for c in &cs[..cs.len() - 1] {
        assert!(
            c.phonemes.ends_with('.'),
            "waterfall prefers sentence ends: {}",
            c.phonemes
        );
    }
    // no sentence end in reach: `;` wins over `,`
    let text2 = "one thing, another thing; ".repeat(60);
    let cs2 = chunk(
        &text2,
        g,
        &ChunkOptions {
            max_phonemes: 100,
            first_chunk: false,
        },
    );
    check_chunks(&text2, &cs2, 100);
    for c in &cs2[..cs2.len() - 1] {
        assert!(c.phonemes.ends_with(';'), "{}", c.phonemes);
    }
    // nothing to break at: hard limit still holds
    let text3 = "word ".repeat(400);
    let cs3 = chunk(
        &text3,
        g,
        &ChunkOptions {
            max_phonemes: 50,
            first_chunk: false,
        },
    );
    check_chunks(&text3, &cs3, 50);
    let words: usize = cs3.iter().map(|c| c.words.len()).sum();
    assert_eq!(words, 400, "every word lands in exactly one chunk");
}

#[test]
fn first_chunk_is_short() {
    let g = g2p_or_skip!();
    let text = "When I was young, I lived in a small house by the river, with my two brothers, my sister and our old dog, and we were happy there for many years.";
    let normal = chunk(
        text,
        g,
        &ChunkOptions {
            max_phonemes: 510,
            first_chunk: false,
        },
    );
    assert_eq!(normal.len(), 1);
    let fast = chunk(
        text,
        g,
        &ChunkOptions {
            max_phonemes: 510,
            first_chunk: true,
        },
    );
    assert!(fast.len() >= 2);
    let first_words = fast[0].words.len();
    assert!(
        (8..=16).contains(&first_words),
        "first chunk has {first_words} words"
    );
    assert!(fast[0].phonemes.ends_with(','), "{}", fast[0].phonemes);
    check_chunks(text, &fast, 510);
    // the two chunkings speak the same words
    let n: usize = fast.iter().map(|c| c.words.len()).sum();
    assert_eq!(n, normal[0].words.len());
}

#[test]
fn number_words_map_to_digit_ranges() {
    let g = g2p_or_skip!();
    let text = "Pay 2,353 now.";
    let c = chunk(text, g, &ChunkOptions::default());
    let w = c[0]
        .words
        .iter()
        .find(|w| &text[w.src.clone()] == "2,353")
        .expect("number word span");
    assert_eq!(
        &c[0].phonemes[w.phonemes.clone()],
        "tˈu θˈWzᵊnd θɹˈi hˈʌndɹəd fˈɪfti θɹˈi"
    );
}

#[test]
fn split_at_most_cuts_between_words_preferring_clauses() {
    let Some(g) = us() else { return };
    let text = "A few years ago, a natural voice needed a server farm and a network \
                connection; today a model runs on an ordinary laptop.";
    let c = chunk(text, g, &ChunkOptions::default()).remove(0);
    let n = c.phonemes.chars().count();
    assert!(
        c.split_at_most(n).is_none(),
        "a chunk that fits is not split"
    );
    let words = |c: &hark_text::Chunk| -> Vec<String> {
        c.words
            .iter()
            .map(|w| text[w.src.clone()].to_string())
            .collect()
    };
    for max in [1, 10, 20, 40, 60, 80, n - 1] {
        let (h, t) = c.split_at_most(max).expect("splits");
        check_chunks(text, &[h.clone(), t.clone()], n);
        // nothing lost, nothing repeated, same phonemes per word
        let mut all = words(&h);
        all.extend(words(&t));
        assert_eq!(all, words(&c), "max {max}");
        for (w, orig) in h.words.iter().chain(&t.words).zip(&c.words) {
            let ps = if h.words.contains(w) {
                &h.phonemes
            } else {
                &t.phonemes
            };
            assert_eq!(ps[w.phonemes.clone()], c.phonemes[orig.phonemes.clone()]);
        }
        assert_eq!(h.src.start, c.src.start);
        assert_eq!((h.src.end, t.src.end), (t.src.start, c.src.end));
        let hn = h.phonemes.chars().count();
        if h.words.len() > 1 {
            assert!(hn <= max, "head {hn} > {max}");
        }
        assert_eq!(h.phonemes, h.phonemes.trim());
        assert_eq!(t.phonemes, t.phonemes.trim());
    }
    // Room for the clause "A few years ago," (and a bit more): the cut is at its comma.
    let comma = c.phonemes.find(',').unwrap();
    let (h, _) = c
        .split_at_most(c.phonemes[..comma].chars().count() + 8)
        .unwrap();
    assert!(h.phonemes.ends_with(','), "{}", h.phonemes);
    assert_eq!(words(&h).last().map(String::as_str), Some("ago"));
    // Room for everything up to the semicolon: cut there, not at the comma.
    let semi = c.phonemes.find(';').unwrap();
    let (h, t) = c
        .split_at_most(c.phonemes[..semi].chars().count() + 5)
        .unwrap();
    assert!(h.phonemes.ends_with(';'), "{}", h.phonemes);
    assert_eq!(words(&t).first().map(String::as_str), Some("today"));
    // Too little room for any word: one word goes first.
    let (h, _) = c.split_at_most(1).unwrap();
    assert_eq!(words(&h), ["A"]);
    // The tail splits again.
    let (_, t) = c.split_at_most(30).unwrap();
    let (h2, t2) = t.split_at_most(30).unwrap();
    assert_eq!(words(&h2).len() + words(&t2).len(), words(&t).len());
}
