//! Every voice through the bridge: the voice lists name each voice's language (hark's name and
//! its BCP 47 tag), hark's API and the OpenAI endpoint accept a voice of every language and
//! read the text with it, and the voice `auto` reads a text with the voice of its language.
//! Tiny model (a random pack for each of the 54 names), real lexicons, espeak-ng for es.

mod common;
use common::*;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_voice_lists_name_every_language() {
    let s = start();
    let hark: Value = s.get_json("/v1/voices").await;
    let openai: Value = s.get_json("/v1/audio/voices").await;
    let mut tags: Vec<&str> = Vec::new();
    for list in [&hark["voices"], &openai["data"]] {
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 54);
        for v in list {
            let (name, lang, tag) = (v["name"].as_str().unwrap(), &v["lang"], &v["bcp47"]);
            let want = hark_engine::voice_lang(name);
            assert_eq!(lang, want.as_str(), "{v}");
            assert_eq!(tag, want.bcp47(), "{v}");
            tags.push(tag.as_str().unwrap());
        }
    }
    tags.sort_unstable();
    tags.dedup();
    assert_eq!(
        tags,
        ["en-GB", "en-US", "es-ES", "fr-FR", "hi-IN", "it-IT", "ja-JP", "pt-BR", "zh-CN"]
    );
    assert_eq!(openai["voices"].as_array().unwrap().len(), 54);
    // the voice of each language, for pages in another language
    let by_lang = &hark["language_voices"];
    assert_eq!(by_lang["es"], "ef_dora");
    assert_eq!(by_lang["zh"], "zf_xiaobei");
    assert_eq!(by_lang["en-us"], "af_heart");
    assert_eq!(by_lang.as_object().unwrap().len(), 8);
}

/// PCM (f32) of `text` from `/v1/synthesize` with `voice`.
async fn synthesize(s: &Server, text: &str, voice: &str) -> Vec<u8> {
    let resp = s
        .post("/v1/synthesize")
        .json(&json!({"text": text, "voice": voice, "format": "pcm_f32le"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{voice}");
    resp.bytes().await.unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_language_s_voice_is_accepted_and_auto_picks_the_text_s() {
    let s = start();
    let zh = "今天天气很好，我们一起去公园散步吧。";
    // The OpenAI endpoint takes a Mandarin voice and reads Mandarin with it.
    let resp = s
        .post("/v1/audio/speech")
        .json(&json!({"model": "tts-1", "input": zh, "voice": "zf_xiaobei", "response_format": "wav"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_audible(&wav_samples(&resp.bytes().await.unwrap()));
    // `auto`: the voice of the text's language (the tiny model is deterministic: the same voice
    // gives the same samples), on hark's API and the OpenAI endpoint.
    let auto = synthesize(&s, zh, "auto").await;
    assert_eq!(auto, synthesize(&s, zh, "zf_xiaobei").await);
    assert_ne!(auto, synthesize(&s, zh, "af_heart").await);
    let resp = s
        .post("/v1/audio/speech")
        .json(&json!({"model": "tts-1", "input": zh, "voice": "auto", "response_format": "pcm"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.unwrap().len() > 4800);
    if hark_text::find_espeak().is_some() {
        let es = "El perro de mi vecino ladra todas las noches y no me deja dormir.";
        let auto = synthesize(&s, es, "AUTO").await;
        assert_eq!(auto, synthesize(&s, es, "ef_dora").await);
    }
}
