//! A 10 MB text streams with bounded memory: it is segmented lazily and the
//! queue between synthesis and sink is bounded.

mod common;

use common::*;
use hark_engine::{Event, Output, SpeakOptions};
use std::time::Duration;

#[test]
fn ten_megabytes_stream_with_bounded_memory() {
    let engine = tiny(Output::Null);
    let mut rx = engine.subscribe();
    let mut text = String::with_capacity(10 << 20);
    while text.len() < 10 << 20 {
        text.push_str(TEXT);
        text.push('\n');
    }
    // Warm up so allocator caches are in place before measuring.
    let id = engine.speak("Warm up.", SpeakOptions::default());
    collect(&mut rx, id, Duration::from_secs(60));

    let before = status_kb("VmRSS:");
    let id = engine.speak(&text, SpeakOptions::default());
    // Let a good stretch of it play.
    let start = engine.samples_written();
    while engine.samples_written() - start < 24_000 * 60 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let during = status_kb("VmRSS:");
    engine.stop();
    let evs = collect(&mut rx, id, Duration::from_secs(60));
    assert_eq!(evs.last(), Some(&Event::Cancelled { id }));
    eprintln!("VmRSS before {before} kB, while streaming 10 MB {during} kB");
    // The text itself is copied once (10 MB); everything else is bounded.
    assert!(
        during <= before + 48 * 1024,
        "RSS grew from {before} kB to {during} kB"
    );
}
