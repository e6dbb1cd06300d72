//! The real Kokoro weights, when the asset directory has them (CI does).

mod common;

use common::*;
use hark_engine::{Engine, EngineConfig, Event, Output, SpeakOptions};
use std::time::Duration;

#[test]
fn wav_length_matches_the_model_durations() {
    let dir = assets();
    let weights = dir.join("kokoro-v1_0.safetensors");
    if !weights.is_file() || !dir.join("voices/af_heart.bin").is_file() {
        assert!(
            std::env::var_os("HARK_REQUIRE_ASSETS").is_none(),
            "HARK_REQUIRE_ASSETS is set but {} has no weights/voices",
            dir.display()
        );
        eprintln!("skipped: no real weights in {}", dir.display());
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let wav = out.path().join("real.wav");
    let mut cfg = EngineConfig::from_assets(&dir);
    cfg.output = Output::Wav(wav.clone());
    cfg.deterministic = true;
    let engine = Engine::start(cfg).unwrap();
    let mut rx = engine.subscribe();
    let text = "Hello world, this is hark.";
    let id = engine.speak(text, SpeakOptions::default());
    let evs = collect(&mut rx, id, Duration::from_secs(600));
    assert_eq!(evs.last(), Some(&Event::Finished { id }), "{evs:?}");
    let n = hound::WavReader::open(&wav).unwrap().duration() as usize;

    // The same sentence straight through the model: 600 samples per duration unit.
    let kcfg = hark_kokoro::Config::from_file(&dir.join("config.json")).unwrap();
    let model = hark_kokoro::Kokoro::load(&weights, &kcfg).unwrap();
    let lex = hark_text::Lexicon::load(&dir.join("lexicons"), hark_text::Lang::EnUs).unwrap();
    let g2p = hark_text::G2p::new(lex);
    let chunks = hark_text::chunk(
        text,
        &g2p,
        &hark_text::ChunkOptions {
            max_phonemes: hark_kokoro::MAX_PHONEMES,
            first_chunk: true,
        },
    );
    let voice = hark_kokoro::VoicePack::load(&dir.join("voices/af_heart.bin")).unwrap();
    let mut expect = 0usize;
    for c in &chunks {
        let s = model
            .synthesize(
                &c.phonemes,
                &voice,
                1.0,
                &hark_kokoro::ForwardOptions {
                    deterministic: true,
                    ..Default::default()
                },
            )
            .unwrap();
        let frames: u32 = s.durations.iter().sum();
        assert_eq!(s.audio.len(), frames as usize * 600);
        expect += s.audio.len();
    }
    assert_eq!(chunks.len(), 1, "one short sentence, one chunk");
    assert_eq!(n, expect, "WAV samples = 600 × Σ durations");
    // Word times fall inside the audio.
    let last_end = evs
        .iter()
        .filter_map(|e| match e {
            Event::Word { end_ms, .. } => Some(*end_ms),
            _ => None,
        })
        .max()
        .unwrap();
    assert!(last_end <= (n as u64 * 1000 / 24_000));
}
