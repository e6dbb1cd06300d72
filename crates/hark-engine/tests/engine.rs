//! Behaviour through the public API on the tiny model, without an audio device.

mod common;

use common::*;
use hark_engine::{audio, Event, Output, SpeakOptions, State, StreamItem};
use std::time::Duration;

const T: Duration = Duration::from_secs(120);

#[test]
fn empty_text_is_a_no_op() {
    let engine = tiny(Output::Null);
    let mut rx = engine.subscribe();
    for text in ["", "   \n\t  "] {
        let id = engine.speak(text, SpeakOptions::default());
        let evs = collect(&mut rx, id, T);
        assert_eq!(
            evs,
            vec![Event::Queued { id }, Event::Finished { id }],
            "{text:?}"
        );
    }
    assert_eq!(engine.state(), State::Idle);
}

#[test]
fn word_events_cover_every_word_in_order() {
    let engine = tiny(Output::Null);
    let mut rx = engine.subscribe();
    let id = engine.speak(TEXT, SpeakOptions::default());
    let evs = collect(&mut rx, id, T);
    assert!(
        matches!(evs.last(), Some(Event::Finished { .. })),
        "{evs:?}"
    );
    let started = evs
        .iter()
        .position(|e| matches!(e, Event::Started { .. }))
        .unwrap();
    assert!(evs[..started]
        .iter()
        .all(|e| !matches!(e, Event::Word { .. })));
    let w: Vec<_> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Word {
                src,
                start_ms,
                end_ms,
                ..
            } => Some((src.clone(), *start_ms, *end_ms)),
            _ => None,
        })
        .collect();
    for pair in w.windows(2) {
        assert!(pair[1].0.start >= pair[0].0.end, "source order: {pair:?}");
        assert!(pair[1].1 >= pair[0].2, "time order: {pair:?}");
    }
    assert!(w.iter().all(|(_, s, e)| s < e), "every word has audio");
    // Every alphabetic word of the text lies inside some word event.
    for r in words(TEXT) {
        assert!(
            w.iter()
                .any(|(src, _, _)| src.start <= r.start && r.end <= src.end),
            "word {:?} has no event",
            &TEXT[r]
        );
    }
    // Sentences and chunks.
    let sentences: Vec<_> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Sentence { src, .. } => Some(&TEXT[src.clone()]),
            _ => None,
        })
        .collect();
    assert_eq!(sentences.len(), 4, "{sentences:?}");
    assert!(sentences[2].starts_with("Call me"));
    let chunks: Vec<_> = evs
        .iter()
        .filter_map(|e| match e {
            Event::ChunkStarted { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(chunks, (0..chunks.len()).collect::<Vec<_>>());
    assert!(
        chunks.len() >= 4,
        "at least one chunk per sentence: {chunks:?}"
    );
    // The last word ends within the audio.
    let audio = engine
        .synthesize_to_vec(TEXT, SpeakOptions::default())
        .unwrap();
    let total_ms = audio.len() as u64 * 1000 / 24_000;
    assert!(w.last().unwrap().2 <= total_ms);
}

#[test]
fn stream_equals_whole_utterance() {
    let engine = tiny(Output::Null);
    let whole = engine
        .synthesize_to_vec(TEXT, SpeakOptions::default())
        .unwrap();
    assert!(whole.len() > 24_000);
    let rx = engine
        .synthesize_stream(TEXT, SpeakOptions::default())
        .unwrap();
    let mut streamed = Vec::new();
    let mut audio_msgs = 0;
    let mut words = 0;
    let mut ended = false;
    for item in rx {
        match item {
            StreamItem::Audio(b) => {
                audio_msgs += 1;
                streamed.extend_from_slice(&b);
            }
            StreamItem::Word { .. } => words += 1,
            StreamItem::End => ended = true,
            StreamItem::Error(e) => panic!("{e}"),
        }
    }
    assert!(ended);
    assert!(audio_msgs >= 4, "delivered chunk by chunk");
    assert!(words >= common::words(TEXT).len() - 2);
    // the very samples, unclipped (byte formats are the consumers')
    assert_eq!(streamed, whole);
}

#[test]
fn wav_sink_keeps_position_across_pause_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.wav");
    let engine = tiny(Output::Wav(path.clone()));
    let mut rx = engine.subscribe();
    let id = engine.speak(TEXT, SpeakOptions::default());
    engine.pause();
    wait_for(&mut rx, id, T, |e| matches!(e, Event::Paused { .. }));
    assert_eq!(engine.state(), State::Paused { id });
    std::thread::sleep(Duration::from_millis(300));
    engine.resume();
    let evs = collect(&mut rx, id, T);
    assert!(evs.contains(&Event::Resumed { id }), "{evs:?}");
    assert_eq!(evs.last(), Some(&Event::Finished { id }));
    let expect: Vec<i16> = engine
        .synthesize_to_vec(TEXT, SpeakOptions::default())
        .unwrap()
        .iter()
        .map(|&x| audio::to_i16(x))
        .collect();
    let got: Vec<i16> = hound::WavReader::open(&path)
        .unwrap()
        .into_samples::<i16>()
        .map(|s| s.unwrap())
        .collect();
    assert_eq!(got.len(), expect.len());
    assert!(got == expect, "no frames lost or repeated");
}

#[test]
fn skip_and_previous_move_by_sentence() {
    let engine = tiny(Output::Null);
    let mut rx = engine.subscribe();
    let sentence_starts = |evs: &[Event]| -> Vec<String> {
        evs.iter()
            .filter_map(|e| match e {
                Event::Sentence { src, .. } => {
                    Some(TEXT[src.clone()].split(' ').next().unwrap().to_string())
                }
                _ => None,
            })
            .collect()
    };
    // Paused from the start, skip once: playback starts at sentence 2.
    let id = engine.speak(TEXT, SpeakOptions::default());
    engine.pause();
    wait_for(&mut rx, id, T, |e| matches!(e, Event::Paused { .. }));
    std::thread::sleep(Duration::from_millis(400));
    engine.skip_sentence();
    engine.resume();
    let evs = collect(&mut rx, id, T);
    assert_eq!(sentence_starts(&evs), vec!["It", "Call", "Some"], "{evs:?}");
    let first_sentence_end = TEXT.find("It was").unwrap();
    assert!(
        !evs.iter()
            .any(|e| matches!(e, Event::Word { src, .. } if src.start < first_sentence_end)),
        "no word of the skipped sentence is played"
    );

    // Skip twice, back once: sentence 2 again.
    let id = engine.speak(TEXT, SpeakOptions::default());
    engine.pause();
    wait_for(&mut rx, id, T, |e| matches!(e, Event::Paused { .. }));
    std::thread::sleep(Duration::from_millis(400));
    engine.skip_sentence();
    engine.skip_sentence();
    engine.previous_sentence();
    engine.resume();
    let evs = collect(&mut rx, id, T);
    assert_eq!(sentence_starts(&evs), vec!["It", "Call", "Some"], "{evs:?}");
}

#[test]
fn voice_blends_speed_and_settings() {
    let engine = tiny(Output::Null);
    let a = engine
        .synthesize_to_vec("Hello there.", SpeakOptions::default())
        .unwrap();
    let blend = SpeakOptions {
        voice: Some("af_heart:0.6+af_bella:0.4".into()),
        speed: None,
    };
    let b = engine.synthesize_to_vec("Hello there.", blend).unwrap();
    assert_ne!(a, b, "a blend sounds different");
    let fast = SpeakOptions {
        voice: None,
        speed: Some(2.0),
    };
    let f = engine
        .synthesize_to_vec("Hello there. General Kenobi.", fast)
        .unwrap();
    let n = engine
        .synthesize_to_vec("Hello there. General Kenobi.", SpeakOptions::default())
        .unwrap();
    assert!(
        f.len() < n.len(),
        "speed 2 is shorter: {} vs {}",
        f.len(),
        n.len()
    );
    assert!(engine.set_voice("no_such_voice").is_err());
    assert!(engine.set_voice("af_heart:x").is_err());
    assert!(engine.set_speed(0.1).is_err());
    assert!(engine.set_speed(f32::NAN).is_err());
    engine.set_voice("bf_emma").unwrap();
    let e = engine
        .synthesize_to_vec("Hello there.", SpeakOptions::default())
        .unwrap();
    assert_ne!(a, e);
    // A bad voice on speak is an error event, not a panic or a sound.
    let mut rx = engine.subscribe();
    let id = engine.speak(
        "Hello.",
        SpeakOptions {
            voice: Some("zz_nobody".into()),
            speed: None,
        },
    );
    let evs = collect(&mut rx, id, T);
    assert!(
        matches!(evs.last(), Some(Event::Error { id: Some(_), message }) if message.contains("zz_nobody"))
    );
    assert!(!evs.iter().any(|e| matches!(e, Event::Started { .. })));
    let voices = engine.voices();
    // the tiny model has a random pack for each of the 54 v1.0 names
    assert_eq!(voices.len(), 54);
    assert!(voices.iter().any(|v| v.name == "af_heart"
        && v.grade == "A"
        && v.lang == "en-us"
        && v.bcp47 == "en-US"));
    assert!(voices
        .iter()
        .any(|v| v.name == "zf_xiaobei" && v.lang == "zh" && v.bcp47 == "zh-CN"));
}

#[test]
fn events_serialize_as_tagged_json() {
    let ev = Event::Word {
        id: hark_engine::UtteranceId(3),
        src: 4..9,
        start_ms: 100,
        end_ms: 250,
    };
    let j = serde_json::to_value(&ev).unwrap();
    assert_eq!(
        j,
        serde_json::json!({"type": "word", "id": 3, "src": {"start": 4, "end": 9}, "start_ms": 100, "end_ms": 250})
    );
}

#[test]
fn stop_cancels_current_and_queued() {
    let engine = tiny(Output::Null);
    let mut rx = engine.subscribe();
    let long = TEXT.repeat(20);
    let a = engine.speak(&long, SpeakOptions::default());
    let b = engine.speak(&long, SpeakOptions::default());
    let mut seen = Vec::new();
    loop {
        let ev = rx.blocking_recv().unwrap();
        let started = ev == Event::Started { id: a };
        seen.push(ev);
        if started {
            break;
        }
    }
    engine.stop();
    let c = engine.speak("After the stop.", SpeakOptions::default());
    loop {
        let ev = rx.blocking_recv().unwrap();
        let done = ev.id() == Some(c) && ev.is_terminal();
        seen.push(ev);
        if done {
            break;
        }
    }
    let terminal = |id| {
        seen.iter()
            .filter(|e| e.id() == Some(id) && e.is_terminal())
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(terminal(a), vec![Event::Cancelled { id: a }]);
    assert_eq!(terminal(b), vec![Event::Cancelled { id: b }]);
    assert_eq!(terminal(c), vec![Event::Finished { id: c }]);
    assert!(
        !seen.contains(&Event::Started { id: b }),
        "queued utterance never sounds"
    );
    assert!(
        seen.contains(&Event::Started { id: c }),
        "the queue works after a stop"
    );
    assert_eq!(engine.state(), State::Idle);
}

/// A British voice chosen while the engine runs (`set_voice`, as the tray menu does) is read
/// with the British front end from then on, and an American one with the American front end:
/// the same samples as engines that read every voice as en-gb or en-us.
#[test]
fn set_voice_switches_the_front_end_to_the_voices_english() {
    let text = "Either way, the tomato schedule for our laboratory was moved.";
    let read_as = |lang: hark_engine::Lang, voice: &str| {
        // (the engine of `tiny`, reading every voice with `lang`)
        let mut cfg = hark_engine::EngineConfig::tiny(11, lexicons());
        cfg.lang = Some(lang);
        let opts = SpeakOptions {
            voice: Some(voice.into()),
            speed: None,
        };
        let engine = hark_engine::Engine::start(cfg).unwrap();
        engine.synthesize_to_vec(text, opts).unwrap()
    };
    let engine = tiny(Output::Null);
    let american = engine
        .synthesize_to_vec(text, SpeakOptions::default())
        .unwrap();
    engine.set_voice("bm_george").unwrap();
    let british = engine
        .synthesize_to_vec(text, SpeakOptions::default())
        .unwrap();
    assert!(british == read_as(hark_engine::Lang::EnGb, "bm_george"));
    assert!(british != read_as(hark_engine::Lang::EnUs, "bm_george"));
    engine.set_voice(hark_engine::DEFAULT_VOICE).unwrap();
    let again = engine
        .synthesize_to_vec(text, SpeakOptions::default())
        .unwrap();
    assert!(again == american);
    assert!(american == read_as(hark_engine::Lang::EnUs, hark_engine::DEFAULT_VOICE));
}
