//! An orderly end: a process whose engine is in the middle of synthesis ends in each way an
//! owner can end it, 50 times each, with the `gemm` kernels and (on Linux) the `dlopen`ed
//! OpenBLAS, and exits with code 0 and no signal every time. Seen before: SIGSEGV at exit, the
//! main thread running the shared libraries' finalizers while a pool thread was still inside
//! OpenBLAS's `cblas_sgemm` for an engine nobody had stopped.
//!
//! The processes are this test binary again, running only [`child`] with `HARK_ORDERLY_END`
//! naming the way to end. The child starts the tiny model's engine, keeps it computing (an
//! utterance written to a WAV file, which is computed as fast as it can be, and a PCM stream
//! read as it comes), says `computing` on stderr, and waits for its stdin to close. Then:
//! - `shutdown`: the owner's end, [`Engine::shutdown`] and return (a quit command, stdin EOF);
//! - `drop`: return, the last handle dropped at the end of the owner's scope;
//! - `exit`: `std::process::exit(0)` with a clone held elsewhere (a thread computing a
//!   `synthesize_to_vec`) and nothing shut down: the engine's exit handler must stop it.
//!
//! SIGINT and SIGTERM are the owners' own handlers (`hark serve`, `hark say`, `hark read`),
//! tested on the `hark` binary in `hark-cli`'s `orderly_end` test.
#![cfg(unix)]

mod common;

use common::*;
use hark_engine::{Engine, Event, Output, SpeakOptions, StreamItem};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WAY: &str = "HARK_ORDERLY_END";
const DIR: &str = "HARK_ORDERLY_DIR";
const RUNS: usize = 50;

fn long_text() -> String {
    "A long text keeps the model busy while the process is told to end. ".repeat(400)
}

/// The child's body (does nothing when run as part of the suite).
#[test]
fn child() {
    let Ok(way) = std::env::var(WAY) else {
        return;
    };
    // (in the parent's folder: `exit` leaves no destructor to remove it)
    let dir = std::path::PathBuf::from(std::env::var_os(DIR).expect("HARK_ORDERLY_DIR"));
    let engine = tiny(Output::Wav(dir.join(format!("{}.wav", std::process::id()))));
    let mut rx = engine.subscribe();
    let text = long_text();
    let id = engine.speak(&text, SpeakOptions::default());
    let stream = engine
        .synthesize_stream(&text, SpeakOptions::default())
        .unwrap();
    // The stream's first audio, then its reader keeps it computing.
    loop {
        match stream.recv().expect("stream open") {
            StreamItem::Audio(_) => break,
            StreamItem::Word { .. } => {}
            other => panic!("stream ended early: {other:?}"),
        }
    }
    let reader = std::thread::spawn(move || while stream.recv().is_ok() {});
    loop {
        match rx.blocking_recv().expect("events") {
            Event::Started { id: i } if i == id => break,
            ev if ev.id() == Some(id) && ev.is_terminal() => panic!("ended early: {ev:?}"),
            _ => {}
        }
    }
    if way == "exit" {
        let clone = engine.clone();
        let text = text.clone();
        std::thread::spawn(move || clone.synthesize_to_vec(&text, SpeakOptions::default()));
    }
    eprintln!("computing");
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    // Still mid-synthesis when told to end (else the run proves nothing).
    assert!(
        !reader.is_finished() && engine.state() != hark_engine::State::Idle,
        "the synthesis ended before the process was told to end"
    );
    eprintln!("ending: {way}");
    match way.as_str() {
        "shutdown" => engine.shutdown(),
        "drop" => drop(engine),
        "exit" => std::process::exit(0),
        other => panic!("unknown way to end: {other}"),
    }
}

/// One child told to end by `way` on `backend`; the failure, if it did not end cleanly.
fn end_once(way: &str, backend: &str, dir: &std::path::Path) -> Option<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child", "--exact", "--nocapture", "--test-threads", "1"])
        .env(WAY, way)
        .env(DIR, dir)
        .env("HARK_GEMM", backend)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("child starts");
    let stdin = child.stdin.take().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut log = String::new();
    // Wait for the child's word that it computes (or for its end).
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        log.push_str(&line);
        if line.trim() == "computing" {
            break;
        }
    }
    drop(stdin);
    let _ = stderr.read_to_string(&mut log);
    let mut out = String::new();
    let _ = child.stdout.take().unwrap().read_to_string(&mut out);
    let status = child.wait().unwrap();
    let ran = log.contains("computing") && log.contains(&format!("ending: {way}"));
    let passed = way == "exit" || out.contains("1 passed");
    if status.code() == Some(0) && status.signal().is_none() && ran && passed {
        return None;
    }
    Some(format!(
        "{backend}/{way}: {status:?}\n--- stderr\n{log}--- stdout\n{out}"
    ))
}

/// Runs the child `RUNS` times with `way` and `backend`, two at a time (the CI machine has two
/// cores); returns the failures.
fn end_many_times(way: &str, backend: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let failures: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                let dir = dir.path();
                s.spawn(move || {
                    (w..RUNS)
                        .step_by(2)
                        .filter_map(|run| {
                            end_once(way, backend, dir).map(|f| format!("run {run}: {f}"))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    eprintln!(
        "{backend}/{way}: {} of {RUNS} ended cleanly ({:.1} s in all)",
        RUNS - failures.len(),
        t.elapsed().as_secs_f64()
    );
    failures
}

fn backends() -> Vec<&'static str> {
    if cfg!(target_os = "linux") {
        vec!["gemm", "openblas"]
    } else {
        vec!["gemm"]
    }
}

#[test]
fn a_process_ended_mid_synthesis_exits_cleanly_every_time() {
    if std::env::var_os(WAY).is_some() {
        return;
    }
    let mut failures = Vec::new();
    for backend in backends() {
        for way in ["shutdown", "drop", "exit"] {
            failures.extend(end_many_times(way, backend));
        }
    }
    assert!(
        failures.is_empty(),
        "{} unclean ends:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// After a shutdown nothing starts: requests are refused (for every clone).
#[test]
fn a_shut_down_engine_refuses_work() {
    if std::env::var_os(WAY).is_some() {
        return;
    }
    let engine: Engine = tiny(Output::Null);
    let other = engine.clone();
    let mut rx = engine.subscribe();
    engine.shutdown();
    assert!(matches!(
        other.synthesize_to_vec("Hello.", SpeakOptions::default()),
        Err(hark_engine::Error::ShutDown)
    ));
    assert!(matches!(
        other.synthesize_stream("Hello.", SpeakOptions::default()),
        Err(hark_engine::Error::ShutDown)
    ));
    let id = other.speak("Hello.", SpeakOptions::default());
    let ev = wait_for(&mut rx, id, Duration::from_secs(5), |e| e.is_terminal());
    assert!(matches!(ev, Event::Error { .. }), "{ev:?}");
    // A second shutdown, and the drop of the last clones, find nothing left to do.
    other.shutdown();
    drop(other);
    drop(engine);
}
