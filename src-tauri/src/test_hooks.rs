//! The app's test hooks: environment variables that make it run without a model, a sound card
//! or a user watching. They are read only in builds with the `test-hooks` cargo feature, which
//! `tests/app/run.sh` and `scripts/bench-first-press.sh` turn on; a release build leaves them
//! out, so the shipped app ignores these variables.
//!
//! - `HARK_TINY_MODEL=1`: the tiny random model (seed `HARK_TINY_SEED`, default 7) instead of
//!   the installed assets;
//! - `HARK_AUDIO=null`: count frames, open no sound device;
//! - `HARK_EVENT_LOG=<file>`: JSON lines of what happens (speak requests with their text,
//!   engine events, tray states, menu and hotkey actions).

use std::path::PathBuf;

/// Whether this build reads the hooks at all.
pub const ENABLED: bool = cfg!(feature = "test-hooks");

fn var(name: &str) -> Option<String> {
    if ENABLED {
        std::env::var(name).ok()
    } else {
        None
    }
}

/// `Some(seed)` when the tiny random model is asked for (`HARK_TINY_MODEL=1`).
pub fn tiny_model() -> Option<u64> {
    (var("HARK_TINY_MODEL").as_deref() == Some("1")).then(|| {
        var("HARK_TINY_SEED")
            .and_then(|s| s.parse().ok())
            .unwrap_or(7)
    })
}

/// True when no sound device is to be opened (`HARK_AUDIO=null`).
pub fn null_audio() -> bool {
    var("HARK_AUDIO").as_deref() == Some("null")
}

/// The file to append the event log to (`HARK_EVENT_LOG`).
pub fn event_log() -> Option<PathBuf> {
    var("HARK_EVENT_LOG")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}
