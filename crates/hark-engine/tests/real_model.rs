//! The real Kokoro weights, when the asset directory has them (CI does).

mod common;

use common::*;
use hark_engine::{Engine, EngineConfig, Event, Output, SpeakOptions};
use std::time::Duration;

/// The WAV holds each chunk's model output (600 samples per duration unit) and the pause
/// between sentences, less the model's leading near-silence at the start of the utterance (and
/// only there): the first chunk starts 15 ms before its first sample at −50 dBFS.
#[test]
fn wav_length_matches_the_model_durations_less_the_leading_silence() {
    let Some(dir) = hark_testkit::real_assets() else {
        return;
    };
    let weights = dir.join("kokoro-v1_0.safetensors");
    let out = tempfile::tempdir().unwrap();
    let wav = out.path().join("real.wav");
    let mut cfg = EngineConfig::from_assets(&dir);
    cfg.output = Output::Wav(wav.clone());
    cfg.deterministic = true;
    // (each chunk in one exact pass, as below)
    cfg.fast_start = false;
    let engine = Engine::start(cfg).unwrap();
    let mut rx = engine.subscribe();
    let sentences = ["Hello world, this is hark.", "It reads aloud."];
    let text = sentences.join(" ");
    let id = engine.speak(&text, SpeakOptions::default());
    let evs = collect(&mut rx, id, Duration::from_secs(600));
    assert_eq!(evs.last(), Some(&Event::Finished { id }), "{evs:?}");
    let samples: Vec<i16> = hound::WavReader::open(&wav)
        .unwrap()
        .samples::<i16>()
        .map(Result::unwrap)
        .collect();
    let n = samples.len();

    // The same sentences straight through the model (noise seeded by chunk number).
    let kcfg = hark_kokoro::Config::from_file(&dir.join("config.json")).unwrap();
    let model =
        hark_kokoro::Kokoro::load(&weights, &kcfg, &hark_kokoro::Compute::default()).unwrap();
    let lex = hark_text::Lexicon::load(&dir.join("lexicons"), hark_text::Lang::EnUs).unwrap();
    let g2p = hark_text::G2p::new(lex);
    let voice = hark_kokoro::VoicePack::load(&dir.join("voices/af_heart.bin")).unwrap();
    let mut raw = Vec::new();
    for (i, s) in sentences.iter().enumerate() {
        let chunks = hark_text::chunk(
            s,
            &g2p,
            &hark_text::ChunkOptions {
                max_phonemes: hark_kokoro::MAX_PHONEMES,
                first_chunk: i == 0,
            },
        );
        assert_eq!(chunks.len(), 1, "one short sentence, one chunk");
        let s = model
            .synthesize(
                &chunks[0].phonemes,
                &voice,
                1.0,
                &hark_kokoro::ForwardOptions {
                    deterministic: true,
                    seed: i as u64,
                    ..Default::default()
                },
            )
            .unwrap();
        let frames: u32 = s.durations.iter().sum();
        assert_eq!(s.audio.len(), frames as usize * 600);
        raw.push(s.audio);
    }
    let level = 10f32.powf(-50.0 / 20.0);
    let onset = |a: &[f32]| a.iter().position(|v| v.abs() >= level).unwrap();
    let pre_roll = 360;
    // the model starts each chunk in near-silence: more than 50 ms of it
    assert!(onset(&raw[0]) > 1200 && onset(&raw[1]) > 1200);
    let trimmed = onset(&raw[0]) - pre_roll;
    let gap = 1920;
    assert_eq!(
        n,
        raw[0].len() - trimmed + gap + raw[1].len(),
        "WAV = first chunk less its leading silence, the pause, the second chunk whole"
    );
    // the first sound comes right after the pre-roll (give or take the 16-bit rounding)
    let first = samples
        .iter()
        .position(|&v| f32::from(v).abs() / 32767.0 >= level * 0.99)
        .unwrap();
    assert!(
        first.abs_diff(pre_roll) <= 2,
        "first sound at sample {first}"
    );
    // the second sentence keeps its own lead: nothing at the level for its length
    let second = raw[0].len() - trimmed + gap;
    assert!(samples[second..second + onset(&raw[1]) - 100]
        .iter()
        .all(|&v| f32::from(v).abs() / 32767.0 < level));
    // Word times fall inside the audio, the first one moved with the audio.
    let word_ms: Vec<(u64, u64)> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Word {
                start_ms, end_ms, ..
            } => Some((*start_ms, *end_ms)),
            _ => None,
        })
        .collect();
    assert!(word_ms.last().unwrap().1 <= (n as u64 * 1000 / 24_000));
    assert!(
        word_ms[0].0 <= 100,
        "the first word starts {} ms in",
        word_ms[0].0
    );
}
