//! Shared helpers for the integration tests.
#![allow(dead_code)]

use hark_engine::{Engine, Event, Output, UtteranceId};
use std::time::{Duration, Instant};
use tokio::sync::broadcast::{error::TryRecvError, Receiver};

#[allow(unused_imports)] // not every test binary uses each
pub use hark_testkit::{assets_dir as assets, lexicons, require_assets};

pub fn tiny(output: Output) -> Engine {
    hark_testkit::tiny_engine(11, output)
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
