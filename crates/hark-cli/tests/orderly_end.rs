//! An orderly end of `hark serve` by its signals: SIGINT and SIGTERM while an audio stream is
//! being computed (its client reads it as fast as it comes, so the model never waits), 50 times
//! each, with the `gemm` kernels and (on Linux) the `dlopen`ed OpenBLAS: exit code 0 and no
//! signal every time. The other ways a process ends with an engine (its owner's shutdown, the
//! drop of the last handle, `exit` with an engine still running) are `hark-engine`'s
//! `orderly_end` test. Uses the tiny random model (the lexicons must be installed).
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

const RUNS: usize = 50;

/// The asset dir, with its lexicons checked (the tiny model needs nothing else).
fn assets() -> PathBuf {
    hark_testkit::lexicons();
    hark_testkit::assets_dir()
}

/// One `hark serve`, told to end by `signal` once its audio stream is flowing; the failure, if
/// it did not end cleanly.
fn serve_once(signal: &str, backend: &str) -> Option<String> {
    let cfg = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hark"))
        .arg("--assets")
        .arg(assets())
        .args([
            "serve",
            "--tiny",
            "--no-audio",
            "--port",
            "0",
            "--config-dir",
        ])
        .arg(cfg.path())
        .env("HARK_NATIVE_HOST_DIRS", cfg.path().join("hosts"))
        .env("HARK_GEMM", backend)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hark serve starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut log = String::new();
    let mut port = None;
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        log.push_str(&line);
        if let Some(rest) = line.split("serving on http://127.0.0.1:").nth(1) {
            port = rest.split(' ').next().and_then(|p| p.parse::<u16>().ok());
            break;
        }
    }
    let Some(port) = port else {
        let _ = child.kill();
        let _ = child.wait();
        return Some(format!("hark serve did not start:\n{log}"));
    };
    let token = std::fs::read_to_string(cfg.path().join(hark_settings::TOKEN_FILE)).unwrap();
    let body = format!(
        r#"{{"text": "{}", "format": "pcm_f32le"}}"#,
        "A long text the model computes while the server is told to end. ".repeat(600)
    );
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        c,
        "POST /v1/synthesize HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        token.trim(),
        body.len()
    )
    .unwrap();
    // The head and the first audio: the stream is being computed.
    let mut buf = vec![0u8; 1 << 16];
    let mut got = Vec::new();
    while got.len() < 64 * 1024 {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&got[..got.len().min(200)]).to_string();
    if !head.starts_with("HTTP/1.1 200") || got.len() < 64 * 1024 {
        let _ = child.kill();
        let _ = child.wait();
        return Some(format!("no audio stream: {head:?}\n{log}"));
    }
    // Keep reading as fast as it comes, until the server closes.
    let reader = std::thread::spawn(move || while matches!(c.read(&mut buf), Ok(n) if n > 0) {});
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(sent, "kill -{signal}");
    let _ = stderr.read_to_string(&mut log);
    let status = child.wait().unwrap();
    let _ = reader.join();
    if status.code() != Some(0) || status.signal().is_some() {
        return Some(format!("{backend}/{signal}: {status:?}\n{log}"));
    }
    None
}

#[test]
fn serve_ended_by_a_signal_mid_synthesis_exits_cleanly_every_time() {
    let backends: &[&str] = if cfg!(target_os = "linux") {
        &["gemm", "openblas"]
    } else {
        &["gemm"]
    };
    let mut failures = Vec::new();
    for backend in backends {
        for signal in ["INT", "TERM"] {
            // Two at a time (the CI machine has two cores).
            let t = Instant::now();
            let failed: Vec<String> = std::thread::scope(|s| {
                let workers: Vec<_> = (0..2)
                    .map(|w| {
                        s.spawn(move || {
                            (w..RUNS)
                                .step_by(2)
                                .filter_map(|run| {
                                    serve_once(signal, backend).map(|f| format!("run {run}: {f}"))
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
                "{backend}/SIG{signal}: {} of {RUNS} ended cleanly ({:.1} s in all)",
                RUNS - failed.len(),
                t.elapsed().as_secs_f64()
            );
            failures.extend(failed);
        }
    }
    assert!(
        failures.is_empty(),
        "{} unclean ends:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
