//! The engine reads other languages with their own front end, with word and sentence events on
//! the source text, on the tiny model without an audio device (the language is set with
//! `EngineConfig::lang`; the voice → language rule itself is tested in `voice.rs`, and the
//! voice of each language in `auto_voice.rs`). Needs the espeak-ng program, which reads es, fr-fr,
//! it, pt-br and hi, and the Japanese dictionary (`hark fetch --japanese`) for ja.

mod common;

use common::*;
use hark_engine::{Engine, EngineConfig, Event, Lang, SpeakOptions};
use std::ops::Range;
use std::time::Duration;

const T: Duration = Duration::from_secs(120);

/// Byte ranges of the text (words or sentences), in order.
type Ranges = Vec<Range<usize>>;

fn espeak_installed() -> bool {
    if hark_text::find_espeak().is_some() {
        return true;
    }
    hark_testkit::skip::<()>("espeak-ng is not installed (scripts/deps.sh installs it)");
    false
}

/// The tiny engine reading every voice with `lang`.
fn engine(lang: Lang) -> hark_engine::Result<Engine> {
    let mut cfg = EngineConfig::tiny(11, lexicons());
    cfg.lang = Some(lang);
    Engine::start(cfg)
}

/// (word ranges, sentence ranges, terminal event) of `text` spoken in `lang`.
fn speak(lang: Lang, text: &str) -> (Ranges, Ranges, Event) {
    let engine = engine(lang).expect("engine starts");
    let mut rx = engine.subscribe();
    let id = engine.speak(text, SpeakOptions::default());
    let evs = collect(&mut rx, id, T);
    let words = evs
        .iter()
        .filter_map(|e| match e {
            Event::Word { src, .. } => Some(src.clone()),
            _ => None,
        })
        .collect();
    let sentences = evs
        .iter()
        .filter_map(|e| match e {
            Event::Sentence { src, .. } => Some(src.clone()),
            _ => None,
        })
        .collect();
    (words, sentences, evs.last().unwrap().clone())
}

/// (word ranges, sentence ranges) of `text` read to the end in `lang` through espeak-ng;
/// `None` (skip) without espeak-ng.
fn read_through_espeak(lang: Lang, text: &str) -> Option<(Ranges, Ranges)> {
    if !espeak_installed() {
        return None;
    }
    let (words, sentences, end) = speak(lang, text);
    assert!(matches!(end, Event::Finished { .. }), "{end:?}");
    Some((words, sentences))
}

#[test]
fn a_spanish_voice_reads_spanish_with_its_words() {
    let text = "¿Cuánto cuesta? Cuesta 1.234,56 euros.";
    let Some((words, sentences)) = read_through_espeak(Lang::Es, text) else {
        return;
    };
    let said: Vec<&str> = words.iter().map(|r| &text[r.clone()]).collect();
    // the number is one word, read whole; ¿ is not a word
    assert_eq!(said, ["Cuánto", "cuesta", "Cuesta", "1.234,56", "euros"]);
    assert_eq!(sentences.len(), 2, "{sentences:?}");
}

#[test]
fn a_hindi_voice_ends_sentences_at_the_danda() {
    let text = "मैं घर जा रहा हूँ। तुम कहाँ हो?";
    let Some((words, sentences)) = read_through_espeak(Lang::Hi, text) else {
        return;
    };
    assert_eq!(sentences.len(), 2, "{sentences:?}");
    assert_eq!(words.len(), 8, "{words:?}");
}

#[test]
fn a_mandarin_voice_reads_chinese_with_its_words_and_english_inside() {
    // (compiled-in data: nothing to skip; English words go to the American reader)
    let text = "我买了一台Kindle。今天很好！";
    let (words, sentences, end) = speak(Lang::Zh, text);
    assert!(matches!(end, Event::Finished { .. }), "{end:?}");
    let said: Vec<&str> = words.iter().map(|r| &text[r.clone()]).collect();
    // jieba's words, the Latin word one of them, both sentences
    assert!(said.contains(&"Kindle"), "{said:?}");
    assert!(said.contains(&"今天"), "{said:?}");
    assert_eq!(sentences.len(), 2, "{sentences:?}");
}

#[test]
fn a_japanese_voice_reads_with_the_dictionary_or_says_what_is_missing() {
    // Without the dictionary: a clear error naming the command that installs it.
    let mut cfg = EngineConfig::tiny(11, lexicons());
    cfg.lang = Some(Lang::Ja);
    cfg.japanese = Some(std::env::temp_dir().join("hark-no-such-dictionary"));
    let Err(err) = Engine::start(cfg.clone()) else {
        panic!("the engine started without a Japanese dictionary");
    };
    let err = err.to_string();
    assert!(
        err.contains("ja") && err.contains("hark fetch --japanese"),
        "{err}"
    );
    // With it (`hark fetch --japanese`): MeCab's words and both sentences.
    let dir = assets().join("ja");
    if !dir.join("sys.dic").is_file() {
        assert!(
            !require_assets(),
            "no Japanese dictionary in {} (hark fetch --japanese)",
            dir.display()
        );
        return eprintln!(
            "skipping the reading: no Japanese dictionary in {}",
            dir.display()
        );
    }
    cfg.japanese = Some(dir);
    let engine = Engine::start(cfg).expect("engine starts");
    let mut rx = engine.subscribe();
    let text = "今日は晴れです。明日は雨でしょう。";
    let id = engine.speak(text, SpeakOptions::default());
    let evs = collect(&mut rx, id, T);
    assert!(
        matches!(evs.last(), Some(Event::Finished { .. })),
        "{evs:?}"
    );
    let said: Vec<&str> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Word { src, .. } => Some(&text[src.clone()]),
            _ => None,
        })
        .collect();
    assert!(said.contains(&"晴れ") || said.contains(&"今日"), "{said:?}");
    let sentences = evs
        .iter()
        .filter(|e| matches!(e, Event::Sentence { .. }))
        .count();
    assert_eq!(sentences, 2, "{evs:?}");
}
