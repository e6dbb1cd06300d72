//! Shared helpers for the integration tests.
#![allow(dead_code)]

use hark_engine::{Engine, EngineConfig, Event, Output, UtteranceId};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::{error::TryRecvError, Receiver};

/// The asset directory: `$HARK_ASSETS` (CI) or the dev copy.
pub fn assets() -> PathBuf {
    std::env::var_os("HARK_ASSETS")
        .map(PathBuf::from)
        .filter(|p| p.join("lexicons").is_dir())
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/hark/assets")
        })
}

pub fn lexicons() -> PathBuf {
    let p = assets().join("lexicons");
    assert!(
        p.join("us_gold.json").is_file(),
        "lexicons not found in {} (set HARK_ASSETS to the asset dir)",
        p.display()
    );
    p
}

pub fn tiny(output: Output) -> Engine {
    let mut cfg = EngineConfig::tiny(11, lexicons());
    cfg.output = output;
    // (a test is a shell: it turns `HARK_GEMM` into the model's backend)
    if let Some(v) = std::env::var("HARK_GEMM").ok().filter(|v| !v.is_empty()) {
        cfg.compute.backend = v.parse().expect("HARK_GEMM");
    }
    Engine::start(cfg).expect("engine starts")
}

/// Collect events of `id` until its terminal event (panics after `timeout`).
pub fn collect(rx: &mut Receiver<Event>, id: UtteranceId, timeout: Duration) -> Vec<Event> {
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(ev) => {
                if ev.id() == Some(id) {
                    let end = ev.is_terminal();
                    out.push(ev);
                    if end {
                        return out;
                    }
                }
            }
            Err(TryRecvError::Empty) => {
                assert!(
                    Instant::now() < deadline,
                    "no terminal event for {id} within {timeout:?}; got {out:?}"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(TryRecvError::Lagged(n)) => panic!("event receiver lagged by {n}"),
            Err(TryRecvError::Closed) => panic!("event channel closed"),
        }
    }
}

/// Wait for the first event of `id` matching `pred`.
pub fn wait_for(
    rx: &mut Receiver<Event>,
    id: UtteranceId,
    timeout: Duration,
    pred: impl Fn(&Event) -> bool,
) -> Event {
    let deadline = Instant::now() + timeout;
    loop {
        match rx.try_recv() {
            Ok(ev) if ev.id() == Some(id) && pred(&ev) => return ev,
            Ok(ev) if ev.id() == Some(id) && ev.is_terminal() => {
                panic!("utterance ended before the awaited event: {ev:?}")
            }
            Ok(_) => {}
            Err(TryRecvError::Empty) => {
                assert!(Instant::now() < deadline, "timed out waiting for an event");
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("event receiver: {e:?}"),
        }
    }
}

pub const TEXT: &str = "The quick brown fox jumps over the lazy dog near the river bank today. \
It was a bright cold day in April, and the clocks were striking thirteen. \
Call me Ishmael. Some years ago, never mind how long precisely, I went to sea.";

/// Byte ranges of the alphabetic words of `text`.
pub fn words(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (c.is_alphabetic(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// VmRSS / VmHWM of this process in kB.
pub fn status_kb(key: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}
