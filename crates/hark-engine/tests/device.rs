//! Real cpal playback on the ALSA `null` device (no sound card needed).
//!
//! The null device has no clock (the callback runs as fast as it can), so these
//! tests count frames the callback played, never time.

mod common;

use common::*;
use hark_engine::device::{checksum_step, CHECKSUM_SEED};
use hark_engine::{audio, Event, Output, SpeakOptions};
use std::time::Duration;

const T: Duration = Duration::from_secs(180);

fn checksum(samples: &[f32]) -> u64 {
    samples
        .iter()
        .fold(CHECKSUM_SEED, |h, &s| checksum_step(h, s))
}

#[test]
fn plays_every_sample_once_and_finishes_after_playing() {
    hark_testkit::use_alsa_null();
    let engine = tiny(Output::Device);
    let mut rx = engine.subscribe();
    let text = "Hello from the null device. It counts every frame.";
    let id = engine.speak(text, SpeakOptions::default());
    let evs = collect(&mut rx, id, T);
    assert_eq!(evs.last(), Some(&Event::Finished { id }), "{evs:?}");
    let expect: Vec<f32> = engine
        .synthesize_to_vec(text, SpeakOptions::default())
        .unwrap()
        .iter()
        .map(|&x| audio::clip(x))
        .collect();
    let st = engine.device_stats();
    // The null device accepts 24 kHz, so no resampling: frames are samples.
    assert_eq!(st.frames_played, expect.len() as u64);
    assert_eq!(st.checksum, checksum(&expect));
    // The buffer asked for (10 ms) and what the device granted are reported.
    assert_eq!(st.rate, 24_000, "{st:?}");
    assert!(st.buffer_frames > 0, "{st:?}");
    // Every stage of the utterance is time-stamped; the engine's own in order.
    let s = engine.stages(id).expect("stages of the utterance");
    let order = [
        Some(s.queued),
        s.synth_started,
        s.first_audio,
        s.first_write,
    ];
    assert!(order.iter().all(Option::is_some), "{s:?}");
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{s:?}");
    // The device's: `device_callback` is when the callback that copied the first sample out
    // *started* (cpal's timestamps are the callback's), on another thread, so it is not ordered
    // after `first_write`: the player writes, then stamps; the callback can start in between or
    // even before the write and find the sample. Seen under load: 178 ns before `first_write`.
    assert!(s.device_callback.is_some(), "{s:?}");
    assert!(s.device_output >= s.device_callback, "{s:?}");
}

#[test]
fn pause_and_resume_keep_position() {
    hark_testkit::use_alsa_null();
    let engine = tiny(Output::Device);
    let mut rx = engine.subscribe();
    let id = engine.speak(TEXT, SpeakOptions::default());
    engine.pause();
    wait_for(&mut rx, id, T, |e| matches!(e, Event::Paused { .. }));
    let before = engine.device_stats().frames_played;
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        engine.device_stats().frames_played,
        before,
        "nothing plays while paused"
    );
    engine.resume();
    // Pause again mid-way once audio flows, then resume.
    wait_for(&mut rx, id, T, |e| matches!(e, Event::Sentence { .. }));
    engine.pause();
    std::thread::sleep(Duration::from_millis(100));
    let mid = engine.device_stats().frames_played;
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(engine.device_stats().frames_played, mid);
    engine.resume();
    let evs = collect(&mut rx, id, T);
    assert_eq!(evs.last(), Some(&Event::Finished { id }), "{evs:?}");
    let expect: Vec<f32> = engine
        .synthesize_to_vec(TEXT, SpeakOptions::default())
        .unwrap()
        .iter()
        .map(|&x| audio::clip(x))
        .collect();
    let st = engine.device_stats();
    assert_eq!(
        st.frames_played,
        expect.len() as u64,
        "no frame lost or repeated"
    );
    assert_eq!(st.checksum, checksum(&expect), "same frames, same order");
    assert_eq!(st.frames_dropped, 0);
}

#[test]
fn stop_silences_within_50_ms_of_frames() {
    hark_testkit::use_alsa_null();
    let engine = tiny(Output::Device);
    let mut rx = engine.subscribe();
    let long = TEXT.repeat(10);
    let id = engine.speak(&long, SpeakOptions::default());
    wait_for(&mut rx, id, T, |e| matches!(e, Event::Sentence { .. }));
    // Let some audio through first.
    while engine.device_stats().frames_played < 24_000 {
        std::thread::sleep(Duration::from_millis(1));
    }
    engine.stop();
    let at_stop = engine.device_stats().frames_played;
    let evs = collect(&mut rx, id, T);
    assert_eq!(evs.last(), Some(&Event::Cancelled { id }));
    std::thread::sleep(Duration::from_millis(300));
    let after = engine.device_stats().frames_played;
    let whole = engine
        .synthesize_to_vec(&long, SpeakOptions::default())
        .unwrap()
        .len() as u64;
    assert!(at_stop < whole / 2, "stopped early in a long utterance");
    eprintln!(
        "frames played after stop: {} (limit 1200 = 50 ms at 24 kHz); stopped at {at_stop} of {whole}",
        after - at_stop
    );
    // 50 ms at the device rate (24 kHz here).
    assert!(
        after - at_stop <= 1_200,
        "{} frames played after stop",
        after - at_stop
    );
}

/// A device that vanishes mid-utterance (simulated: the stream reports an error and stops, as a
/// real one does when unplugged) is reopened and the utterance goes on to the end; only what sat
/// in the lost stream's ring is lost.
#[test]
fn a_lost_device_is_reopened_and_speech_goes_on() {
    hark_testkit::use_alsa_null();
    let engine = tiny(Output::Device);
    let mut rx = engine.subscribe();
    let id = engine.speak(TEXT, SpeakOptions::default());
    // Once audio flows, pause (the null device has no clock and would otherwise finish first),
    // lose the device, resume.
    wait_for(&mut rx, id, T, |e| matches!(e, Event::Sentence { .. }));
    let deadline = std::time::Instant::now() + T;
    while engine.device_stats().frames_played == 0 {
        assert!(std::time::Instant::now() < deadline, "nothing played");
        std::thread::sleep(Duration::from_millis(1));
    }
    engine.pause();
    wait_for(&mut rx, id, T, |e| matches!(e, Event::Paused { .. }));
    let before = engine.device_stats();
    assert_eq!(before.streams_opened, 1);
    engine.simulate_device_loss();
    engine.resume();
    let evs = collect(&mut rx, id, T);
    assert_eq!(evs.last(), Some(&Event::Finished { id }), "{evs:?}");
    assert!(
        !evs.iter().any(|e| matches!(e, Event::Error { .. })),
        "{evs:?}"
    );
    let st = engine.device_stats();
    assert_eq!(st.streams_opened, 2, "reopened once");
    assert!(
        st.frames_played > before.frames_played,
        "audio played after the reopen"
    );
    let expect = engine
        .synthesize_to_vec(TEXT, SpeakOptions::default())
        .unwrap()
        .len() as u64;
    // At most the lost ring (200 ms at the null device's 24 kHz) is missing.
    assert!(
        st.frames_played <= expect,
        "{} > {expect}",
        st.frames_played
    );
    assert!(
        st.frames_played + 4_800 >= expect,
        "{} frames played of {expect}",
        st.frames_played
    );
}

/// Polls `pred` on the device counters until it holds (panics after `within`).
fn wait_stats(
    engine: &hark_engine::Engine,
    within: Duration,
    what: &str,
    pred: impl Fn(&hark_engine::DeviceStats) -> bool,
) -> hark_engine::DeviceStats {
    let deadline = std::time::Instant::now() + within;
    loop {
        let st = engine.device_stats();
        if pred(&st) {
            return st;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: {st:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The output is opened once at start (so the first request finds the audio libraries loaded)
/// and on `prepare_output` (the tray app's hotkey, before it reads the selection), without any
/// audio; it closes again after a few idle seconds, unless it is to be kept open.
#[test]
fn the_output_opens_ahead_of_requests_and_closes_when_idle_unless_kept_open() {
    hark_testkit::use_alsa_null();
    let engine = tiny(Output::Device);
    let st = wait_stats(&engine, T, "opened at start", |s| s.streams_opened >= 1);
    assert_eq!(st.frames_played, 0, "nothing was played");
    wait_stats(&engine, Duration::from_secs(20), "closed when idle", |s| {
        !s.open
    });
    let before = engine.device_stats().streams_opened;
    engine.prepare_output();
    let st = wait_stats(
        &engine,
        Duration::from_secs(20),
        "opened by prepare_output",
        |s| s.open && s.streams_opened == before + 1,
    );
    assert_eq!(st.frames_played, 0);
    // a request right after finds it open: no second open
    let mut rx = engine.subscribe();
    let id = engine.speak("Ready.", SpeakOptions::default());
    let evs = collect(&mut rx, id, T);
    assert_eq!(evs.last(), Some(&Event::Finished { id }), "{evs:?}");
    assert_eq!(engine.device_stats().streams_opened, before + 1);
    wait_stats(&engine, Duration::from_secs(20), "closed when idle", |s| {
        !s.open
    });
    // kept open: still open well past the idle delay
    engine.set_keep_audio_open(true);
    wait_stats(&engine, Duration::from_secs(20), "opened to be kept", |s| {
        s.open
    });
    std::thread::sleep(Duration::from_secs(5));
    assert!(engine.device_stats().open, "closed although kept open");
    engine.set_keep_audio_open(false);
    wait_stats(
        &engine,
        Duration::from_secs(20),
        "closed once no longer kept",
        |s| !s.open,
    );
}
