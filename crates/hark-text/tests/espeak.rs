//! The espeak-ng languages (es, fr-fr, it, pt-br, hi): misaki's reading, the places where hark
//! reads better than misaki (each named here), word ranges for highlighting, and chunking.
//!
//! Needs the espeak-ng program (skipped without it unless `HARK_REQUIRE_ASSETS=1`).

mod common;

use hark_text::{chunk, ChunkOptions, EspeakG2p, Lang, Phonemize, Token};

fn reader(lang: Lang) -> Option<(EspeakG2p, EspeakG2p)> {
    let fixed = common::espeak(lang)?;
    let misaki = EspeakG2p::new(lang).unwrap().with_misaki_quirks(true);
    Some((fixed, misaki))
}

fn ps(r: &EspeakG2p, text: &str) -> String {
    r.phonemize(text).phonemes()
}

/// The token covering exactly `word` of `text`.
fn token<'a>(tokens: &'a [Token], text: &str, word: &str) -> &'a Token {
    let at = text.find(word).expect("word in text");
    tokens
        .iter()
        .find(|t| t.src == (at..at + word.len()))
        .unwrap_or_else(|| panic!("no token for {word:?} in {tokens:#?}"))
}

#[test]
fn misaki_reading_of_a_plain_sentence() {
    let Some((r, m)) = reader(Lang::Es) else {
        return;
    };
    let t = "El niño come pan, y la niña bebe leche.";
    // segments between punctuation, marks kept, espeak's ties mapped (no `^` left)
    let got = ps(&r, t);
    assert_eq!(got, ps(&m, t));
    assert_eq!(got.matches(',').count(), 1);
    assert!(got.ends_with('.'), "{got}");
    assert!(!got.contains('^'), "{got}");
    assert_eq!(got.split_whitespace().count(), 9, "{got}");
}

#[test]
fn deliberate_local_numbers_read_whole() {
    // misaki splits "1.234,56" at `.` and `,` (phonemizer's punctuation): "one. 234, 56"
    for (lang, text, number) in [
        (Lang::Es, "Cuesta 1.234,56 en total.", "1.234,56"),
        (Lang::It, "Sono 3.357.264 abitanti.", "3.357.264"),
        (Lang::PtBr, "São 4,5 quilos.", "4,5"),
        (Lang::FrFr, "Il pèse 16,7 kilos.", "16,7"),
        (Lang::Hi, "कुल 2,22,840 लोग।", "2,22,840"),
    ] {
        let Some((r, m)) = reader(lang) else { return };
        let p = r.phonemize(text);
        let tk = token(&p.tokens, text, number);
        assert!(
            !tk.phonemes.contains(['.', ',']),
            "{lang}: {number} read as one number: {:?}",
            tk.phonemes
        );
        assert!(
            tk.phonemes.split(' ').count() >= 2,
            "{lang}: {:?}",
            tk.phonemes
        );
        // misaki's reading has the separators as punctuation
        let mp = ps(&m, text);
        let mine = p.phonemes();
        assert_ne!(mine, mp, "{lang}");
        assert!(mp.matches([',', '.']).count() > mine.matches([',', '.']).count());
    }
    // the same number as espeak-ng reads it without separators (Hindi: Indian groups)
    let Some((hi, _)) = reader(Lang::Hi) else {
        return;
    };
    assert_eq!(ps(&hi, "2,22,840"), ps(&hi, "222840"));
    // shapes that are not local numbers keep misaki's reading ("20.30" is a time)
    let Some((it, itm)) = reader(Lang::It) else {
        return;
    };
    assert_eq!(
        ps(&it, "alle 20.30 e 1,2,3"),
        ps(&itm, "alle 20.30 e 1,2,3")
    );
}

#[test]
fn deliberate_money_read_as_the_language_says_it() {
    let Some((r, m)) = reader(Lang::PtBr) else {
        return;
    };
    let text = "Custa R$ 1.800,00 hoje.";
    let p = r.phonemize(text);
    let tk = token(&p.tokens, text, "R$ 1.800,00");
    assert_eq!(tk.phonemes, ps(&r, "1.800 reais"));
    // misaki: "real, mil, oitocentos, zero zero" around punctuation
    assert!(ps(&m, text).contains(','));
    let Some((es, _)) = reader(Lang::Es) else {
        return;
    };
    assert_eq!(
        ps(&es, "Son 24,43 €."),
        ps(&es, "Son 24 euros con 43 céntimos.")
    );
    let Some((hi, _)) = reader(Lang::Hi) else {
        return;
    };
    assert_eq!(ps(&hi, "₹434.27"), ps(&hi, "434 रुपये 27 पैसे"));
}

#[test]
fn deliberate_minus_sign_read() {
    // (language, its word, whether espeak-ng (so misaki) drops the sign of "-5")
    for (lang, minus, dropped) in [
        (Lang::Es, "menos", true),
        (Lang::FrFr, "moins", true),
        (Lang::Hi, "माइनस", true),
        (Lang::PtBr, "menos", false),
        (Lang::It, "meno", false),
    ] {
        let Some((r, m)) = reader(lang) else { return };
        let got = ps(&r, "-5");
        assert_eq!(got, ps(&r, &format!("{minus} 5")), "{lang}");
        assert_eq!(ps(&r, "−5"), got, "{lang}: U+2212 too");
        if dropped {
            assert_ne!(ps(&m, "-5"), got, "{lang}: misaki drops it");
            assert_eq!(ps(&m, "-5"), ps(&m, "5"), "{lang}: misaki drops it");
        }
    }
}

#[test]
fn deliberate_inverted_marks_not_sent_to_the_model() {
    let Some((r, m)) = reader(Lang::Es) else {
        return;
    };
    let text = "¡Hola! ¿Qué tal?";
    let got = ps(&r, text);
    assert!(!got.contains(['¡', '¿']), "{got}");
    assert!(ps(&m, text).contains('¿'));
    assert_eq!(
        got.replace(' ', ""),
        ps(&m, text).replace(['¡', '¿', ' '], "")
    );
    // the marks keep their byte ranges, with nothing to say
    let p = r.phonemize(text);
    assert_eq!(token(&p.tokens, text, "¿").phonemes, "");
    assert!(got.starts_with('ˈ') || got.starts_with('o'), "{got}");
    assert!(!got.contains("  "), "{got:?}");
}

#[test]
fn deliberate_danda_ends_a_sentence() {
    let Some((r, m)) = reader(Lang::Hi) else {
        return;
    };
    let text = "मैं घर जा रहा हूँ। तुम कहाँ हो?";
    let got = ps(&r, text);
    assert_eq!(got.matches('.').count(), 1, "{got}");
    assert!(!ps(&m, text).contains('.'), "misaki drops it");
    // chunks are cut after it
    let long = format!("मैं घर जा रहा हूँ। {}", "तुम कहाँ हो ".repeat(40));
    let chunks = chunk(
        &long,
        &r,
        &ChunkOptions {
            max_phonemes: 200,
            first_chunk: false,
        },
    );
    assert!(chunks.len() >= 2);
    assert!(
        chunks[0].phonemes.ends_with('.'),
        "{:?}",
        chunks[0].phonemes
    );
}

#[test]
fn word_ranges_follow_expanded_and_merged_words() {
    let Some((es, _)) = reader(Lang::Es) else {
        return;
    };
    let text = "En 1957, la familia se mudó.";
    let p = es.phonemize(text);
    let year = token(&p.tokens, text, "1957");
    assert!(year.phonemes.split(' ').count() >= 3, "{year:?}");
    assert_eq!(token(&p.tokens, text, "la").phonemes, "la");
    token(&p.tokens, text, "familia");
    // Hindi: an acronym is spelled in two words
    let Some((hi, _)) = reader(Lang::Hi) else {
        return;
    };
    let text = "एक IT कंपनी";
    let p = hi.phonemize(text);
    assert_eq!(
        token(&p.tokens, text, "IT").phonemes.split(' ').count(),
        2,
        "{p:?}"
    );
    token(&p.tokens, text, "कंपनी");
    // French: "parce que" reads as one word, shared by both
    let Some((fr, _)) = reader(Lang::FrFr) else {
        return;
    };
    let text = "Il reste parce que tu es là.";
    let p = fr.phonemize(text);
    let pq = token(&p.tokens, text, "parce que");
    assert_eq!(pq.phonemes.split(' ').count(), 1, "{pq:?}");
    token(&p.tokens, text, "reste");
    token(&p.tokens, text, "tu");
    // every token's text is its range of the input, in order, and the phoneme string is the
    // tokens' phonemes
    for (text, r) in [(text, &fr)] {
        let p = r.phonemize(text);
        let mut at = 0;
        for t in &p.tokens {
            assert_eq!(&text[t.src.clone()], t.text);
            assert!(t.src.start >= at);
            at = t.src.end;
        }
    }
}

#[test]
fn misaki_mode_matches_misaki_on_tricky_lines() {
    // Shapes misaki's punctuation handling produces: marks without spaces, runs of marks,
    // parentheses and guillemets, a line that is only marks.
    let Some((_, m)) = reader(Lang::FrFr) else {
        return;
    };
    assert_eq!(ps(&m, "S.A.R.L."), ps(&m, "S.A.R.L."));
    let got = ps(&m, "Il a dit « oui » (enfin)... !");
    assert!(got.contains("“") && got.contains("”"), "{got}");
    assert!(got.contains('(') && got.contains(')'), "{got}");
    assert!(got.ends_with("... !"), "{got}");
    assert_eq!(ps(&m, "?!"), "?!");
    assert_eq!(ps(&m, ""), "");
}

#[test]
fn chunks_carry_word_ranges_in_every_language() {
    for lang in [Lang::Es, Lang::FrFr, Lang::It, Lang::PtBr, Lang::Hi] {
        let Some((r, _)) = reader(lang) else { return };
        let sentence = match lang {
            Lang::Es => "El tren de las 8 llega tarde hoy. ",
            Lang::FrFr => "Le train de 8 heures arrive en retard. ",
            Lang::It => "Il treno delle 8 arriva in ritardo. ",
            Lang::PtBr => "O trem das 8 chega atrasado hoje. ",
            _ => "आठ बजे की ट्रेन आज देर से आएगी। ",
        };
        let text = format!("{}\n\n{}", sentence.repeat(30), sentence.repeat(3));
        let chunks = chunk(&text, &r, &ChunkOptions::default());
        assert!(chunks.len() >= 3, "{lang}: {}", chunks.len());
        let mut words = 0;
        for c in &chunks {
            assert!(c.phonemes.chars().count() <= 510, "{lang}");
            assert!(
                c.phonemes.ends_with('.'),
                "{lang}: cut at a sentence end: {:?}",
                c.phonemes
            );
            for w in &c.words {
                assert!(!text[w.src.clone()].trim().is_empty());
                assert!(!c.phonemes[w.phonemes.clone()].trim().is_empty());
            }
            words += c.words.len();
        }
        let per = r
            .phonemize(sentence)
            .tokens
            .iter()
            .filter(|t| !t.phonemes.is_empty() && t.phonemes != ".")
            .count();
        assert_eq!(words, 33 * per, "{lang}: every word once");
        assert_eq!(Phonemize::lang(&r), lang);
    }
}

#[test]
fn odd_input_never_panics() {
    let Some((r, m)) = reader(Lang::It) else {
        return;
    };
    for t in [
        "",
        "   ",
        "…",
        "[[kxkx]] [[a]]",
        "🎉🎉 ciao 🎉",
        "a\u{0}b\u{7}c",
        "\u{202e}ciao\u{202c}",
        "e\u{301}\u{301}\u{301}",
        &"parola ".repeat(400),
        &"9".repeat(300),
        "€ € € 5 € €",
        "--5 -x -",
    ] {
        for rd in [&r, &m] {
            let p = rd.phonemize(t);
            for tk in &p.tokens {
                assert_eq!(&t[tk.src.clone()], tk.text);
            }
        }
    }
}
