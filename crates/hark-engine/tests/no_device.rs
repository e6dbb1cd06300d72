//! No usable audio device: a clear error event, and the other outputs still work.

mod common;

use common::*;
use hark_engine::{Event, Output, SpeakOptions, StreamItem};
use std::time::Duration;

const T: Duration = Duration::from_secs(120);

#[test]
fn missing_device_is_an_error_event_and_other_sinks_work() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bogus.conf");
    std::fs::write(&conf, "pcm.!default { type hw card 77 device 0 }\n").unwrap();
    std::env::set_var("ALSA_CONFIG_PATH", &conf);

    let engine = tiny(Output::Device);
    let mut rx = engine.subscribe();
    let id = engine.speak("Is anybody there?", SpeakOptions::default());
    let evs = collect(&mut rx, id, T);
    match evs.last() {
        Some(Event::Error {
            id: Some(e),
            message,
        }) => {
            assert_eq!(*e, id);
            assert!(message.contains("audio device"), "{message}");
        }
        other => panic!("expected an error event, got {other:?} in {evs:?}"),
    }
    assert!(!evs.iter().any(|e| matches!(e, Event::Started { .. })));

    // The stream path never touches the device.
    let items: Vec<_> = engine
        .synthesize_stream("Still streaming.", SpeakOptions::default())
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(items.last(), Some(&StreamItem::End));
    assert!(items
        .iter()
        .any(|i| matches!(i, StreamItem::Audio(b) if !b.is_empty())));

    // A WAV engine works on the same machine.
    let wav = dir.path().join("out.wav");
    let engine = tiny(Output::Wav(wav.clone()));
    let mut rx = engine.subscribe();
    let id = engine.speak("Written to a file.", SpeakOptions::default());
    let evs = collect(&mut rx, id, T);
    assert_eq!(evs.last(), Some(&Event::Finished { id }));
    let n = hound::WavReader::open(&wav).unwrap().duration() as usize;
    let expect = engine
        .synthesize_to_vec("Written to a file.", SpeakOptions::default())
        .unwrap()
        .len();
    assert_eq!(n, expect);
}
