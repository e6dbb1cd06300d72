//! The right voice for the text: with an English voice current, a Spanish, French, Mandarin or
//! Japanese sentence is spoken by the user's voice of that language (the chunk events name the
//! voice); turned off, by the current voice; `auto` picks even when it is off; a request that
//! names its voice keeps it. Tiny model (a random pack for each of the 54 names), no device.
//! Needs espeak-ng (es, fr) and the Japanese dictionary (`hark fetch --japanese`).

mod common;

use common::*;
use hark_engine::{
    Engine, EngineConfig, Event, Lang, LanguageVoices, SpeakOptions, StreamItem, AUTO_VOICE,
};
use std::time::Duration;

const T: Duration = Duration::from_secs(120);

const ES: &str = "El perro de mi vecino ladra todas las noches y no me deja dormir.";
const FR: &str = "Je voudrais réserver une table pour deux personnes ce soir, s'il vous plaît.";
const ZH: &str = "今天天气很好，我们一起去公园散步吧。";
const JA: &str = "今日はとても良い天気なので、公園を散歩しましょう。";
const EN: &str = "The weather was cold, so we stayed inside and read books all afternoon.";

fn engine() -> Engine {
    let mut cfg = EngineConfig::tiny(11, lexicons());
    cfg.japanese = Some(assets().join("ja"));
    cfg.voice = "af_heart".into();
    Engine::start(cfg).expect("engine starts")
}

/// The user's choices: a non-default voice for Spanish and Mandarin, defaults elsewhere.
fn choices(enabled: bool) -> LanguageVoices {
    let mut lv = LanguageVoices {
        enabled,
        ..LanguageVoices::default()
    };
    lv.voices.insert(Lang::Es, "em_alex".into());
    lv.voices.insert(Lang::Zh, "zm_yunxi".into());
    lv
}

/// The voices named by the chunk events of `text`, after it finished.
fn voices_of(engine: &Engine, text: &str, voice: Option<&str>) -> Vec<String> {
    let mut rx = engine.subscribe();
    let id = engine.speak(
        text,
        SpeakOptions {
            voice: voice.map(str::to_string),
            speed: None,
        },
    );
    let evs = collect(&mut rx, id, T);
    assert!(
        matches!(evs.last(), Some(Event::Finished { .. })),
        "{text}: {evs:?}"
    );
    let voices: Vec<String> = evs
        .iter()
        .filter_map(|e| match e {
            Event::ChunkStarted { voice, .. } => Some(voice.clone()),
            _ => None,
        })
        .collect();
    assert!(!voices.is_empty(), "{evs:?}");
    voices
}

fn all(voices: &[String], want: &str) -> bool {
    voices.iter().all(|v| v == want)
}

fn prerequisites() -> bool {
    let espeak = hark_text::find_espeak().is_some();
    let ja = assets().join("ja").join("sys.dic").is_file();
    if require_assets() {
        assert!(espeak, "espeak-ng is not installed (scripts/deps.sh)");
        assert!(ja, "no Japanese dictionary (hark fetch --japanese)");
    }
    if !(espeak && ja) {
        eprintln!("skipping: needs espeak-ng and the Japanese dictionary");
    }
    espeak && ja
}

#[test]
fn text_in_another_language_is_read_by_that_languages_voice() {
    if !prerequisites() {
        return;
    }
    let engine = engine();
    engine.set_language_voices(choices(true));
    for (text, want) in [
        (ES, "em_alex"),
        (FR, "ff_siwis"),
        (ZH, "zm_yunxi"),
        (JA, "jf_alpha"),
        (EN, "af_heart"),
    ] {
        let got = voices_of(&engine, text, None);
        assert!(all(&got, want), "{text}: {got:?}, want {want}");
    }
    // English text with a Spanish voice current: the English voice
    engine.set_voice("ef_dora").unwrap();
    assert!(all(&voices_of(&engine, EN, None), "af_heart"));
    assert!(all(&voices_of(&engine, ES, None), "ef_dora"));
    engine.set_voice("af_heart").unwrap();
    // a request that names its voice keeps it
    assert!(all(&voices_of(&engine, ES, Some("af_bella")), "af_bella"));
}

#[test]
fn off_the_current_voice_reads_everything_and_auto_still_picks() {
    if !prerequisites() {
        return;
    }
    let engine = engine();
    assert!(
        !engine.language_voices().enabled,
        "off until a shell sets it"
    );
    engine.set_language_voices(choices(false));
    for text in [ES, FR, ZH, JA] {
        let got = voices_of(&engine, text, None);
        assert!(all(&got, "af_heart"), "{text}: {got:?}");
    }
    // `auto`: the text's voice whether or not the setting is on; unclear text: the current voice
    assert!(all(&voices_of(&engine, ZH, Some(AUTO_VOICE)), "zm_yunxi"));
    assert!(all(&voices_of(&engine, FR, Some("Auto")), "ff_siwis"));
    assert!(all(
        &voices_of(&engine, "OK.", Some(AUTO_VOICE)),
        "af_heart"
    ));
    // the same rule for the streams the bridge serves (the tiny model is deterministic: the
    // same voice gives the same bytes)
    let auto = stream(&engine, ES, AUTO_VOICE);
    assert_eq!(auto, stream(&engine, ES, "em_alex"));
    assert_ne!(auto, stream(&engine, ES, "af_heart"));
}

/// The samples of `text` streamed with `voice`.
fn stream(engine: &Engine, text: &str, voice: &str) -> Vec<f32> {
    let rx = engine
        .synthesize_stream(
            text,
            SpeakOptions {
                voice: Some(voice.into()),
                speed: None,
            },
        )
        .expect("stream starts");
    let mut pcm = Vec::new();
    for item in rx {
        match item {
            StreamItem::Audio(b) => pcm.extend(b),
            StreamItem::End => return pcm,
            StreamItem::Error(e) => panic!("{e}"),
            StreamItem::Word { .. } => {}
        }
    }
    panic!("the stream ended without End");
}
