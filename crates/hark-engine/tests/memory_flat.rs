//! 1,000 utterances on the tiny model without resident-memory growth.
//! (Its own test binary: RSS is per process.)

mod common;

use common::*;
use hark_engine::{Event, Output, SpeakOptions};
use std::time::Duration;

#[test]
fn rss_stays_flat_over_1000_utterances() {
    let engine = tiny(Output::Null);
    let mut rx = engine.subscribe();
    let text = "The meeting has been moved to Thursday afternoon.";
    let mut run = |n: usize| {
        for _ in 0..n {
            let id = engine.speak(text, SpeakOptions::default());
            let evs = collect(&mut rx, id, Duration::from_secs(60));
            assert_eq!(evs.last(), Some(&Event::Finished { id }));
        }
    };
    run(100);
    let warm = status_kb("VmRSS:");
    run(1000);
    let after = status_kb("VmRSS:");
    eprintln!("VmRSS after warm-up {warm} kB, after 1000 more utterances {after} kB");
    assert!(
        after <= warm + 8 * 1024,
        "RSS grew from {warm} kB to {after} kB"
    );
}
