//! Dropping the engine waits for its threads to leave the model: a process that exits while a
//! thread is still inside a matrix product can crash in the math library's exit handler (seen
//! with OpenBLAS). Its own test binary, so no other test's engine threads are counted. Linux
//! only: it reads thread names from /proc.
#![cfg(target_os = "linux")]

mod common;

use common::*;
use hark_engine::{Event, Output, SpeakOptions};
use std::time::{Duration, Instant};

/// Names of this process's threads (Linux).
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.flatten()
                .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                .map(|s| s.trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The engine's own threads (the model's pool, `hark-model-N`, and OpenBLAS's idle workers,
/// `hark-openblas`, live on for the process).
fn engine_threads() -> Vec<String> {
    thread_names()
        .into_iter()
        .filter(|n| {
            n.starts_with("hark-")
                && !n.starts_with("hark-model")
                && !n.starts_with("hark-openblas")
        })
        .collect()
}

#[test]
fn dropping_the_engine_mid_utterance_ends_its_threads() {
    let text = "A long text keeps the model busy for a while. ".repeat(200);
    let engine = tiny(Output::Null);
    let mut rx = engine.subscribe();
    let id = engine.speak(&text, SpeakOptions::default());
    // and a stream nobody reads
    let stream = engine
        .synthesize_stream(&text, SpeakOptions::default())
        .unwrap();
    loop {
        match rx.blocking_recv().expect("events") {
            Event::Started { id: i } if i == id => break,
            ev if ev.id() == Some(id) && ev.is_terminal() => panic!("ended early: {ev:?}"),
            _ => {}
        }
    }
    assert!(
        engine_threads().iter().any(|n| n == "hark-synth"),
        "{:?}",
        thread_names()
    );
    // the stream's client goes, then the engine: nothing of either may still run afterwards
    drop(stream);
    let t = Instant::now();
    drop(engine);
    let took = t.elapsed();
    assert_eq!(
        engine_threads(),
        Vec::<String>::new(),
        "threads left behind"
    );
    // Only a guard against a hang: how long the threads take to notice depends on how busy the
    // machine is (the model checks its cancel flag every few milliseconds of its own compute).
    eprintln!("drop took {took:?}");
    assert!(took < Duration::from_secs(60), "drop took {took:?}");
}
