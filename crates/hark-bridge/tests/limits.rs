//! Bounded work: the speak queue, audio and event streams (with backpressure), the connection
//! cap, header and body read timeouts, a prompt shutdown whatever clients do, and stopping
//! one utterance by id.

mod common;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn raw(s: &Server) -> TcpStream {
    TcpStream::connect(("127.0.0.1", s.port)).await.unwrap()
}

/// Reads what the server sends until it closes (or `limit` passes).
async fn read_all(c: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let t = Instant::now();
    loop {
        let left = limit.saturating_sub(t.elapsed());
        match tokio::time::timeout(left, c.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&out).into(), true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&out).into(), false),
        }
    }
}

/// `POST /v1/stop {"id": id}`, answer as JSON.
async fn stop_id(s: &Server, id: Value) -> Value {
    let resp = s
        .post("/v1/stop")
        .json(&json!({ "id": id }))
        .send()
        .await
        .unwrap();
    resp.json().await.unwrap()
}

async fn speak(s: &Server, text: &str) -> reqwest::Response {
    s.post("/v1/speak")
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speak_queue_is_bounded() {
    let s = start();
    let mut sse = Sse::open(&s).await;
    let _ = sse.next().await;
    // Hold the first utterance paused, so nothing drains the queue.
    let first = speak(&s, "The first one plays and waits. It is long enough.").await;
    let first = first.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    sse.until_started(first).await;
    s.post("/v1/pause").send().await.unwrap();
    let (mut ok, mut full) = (1, 0);
    for i in 0..1000 {
        let resp = speak(&s, &format!("Queued sentence number {i}.")).await;
        match resp.status().as_u16() {
            200 => ok += 1,
            429 => {
                assert_eq!(resp.headers()["retry-after"], "1");
                assert_eq!(error_code(resp).await, "queue_full");
                full += 1;
            }
            other => panic!("request {i}: {other}"),
        }
    }
    assert_eq!((ok, full), (32, 969), "32 queued, the rest refused");
    let h: Value = s.get_json("/v1/health").await;
    assert_eq!(h["queued_speaks"], 32);
    // A stop empties the queue; speaking works again.
    s.post("/v1/stop").send().await.unwrap();
    s.health_until("queued_speaks", 0, Duration::from_secs(20))
        .await;
    assert_eq!(speak(&s, "Room again.").await.status(), 200);
}

/// CPU time (ticks) of each of this process's threads named `name`, by thread id. A thread
/// that a named thread starts inherits its name on Linux, so threads come and go in this
/// set; compare only the ones present in both snapshots.
fn thread_ticks(name: &str) -> std::collections::HashMap<String, u64> {
    let mut ticks = std::collections::HashMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return ticks;
    };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() != name {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        if fields.len() < 13 {
            continue; // the thread ended while we read it
        }
        let t = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        ticks.insert(task.file_name().to_string_lossy().into_owned(), t);
    }
    ticks
}

/// Ticks spent between two snapshots by the threads present in both.
fn ticks_between(
    a: &std::collections::HashMap<String, u64>,
    b: &std::collections::HashMap<String, u64>,
) -> u64 {
    b.iter()
        .filter_map(|(tid, t)| a.get(tid).map(|s| t.saturating_sub(*s)))
        .sum()
}

/// 16 clients ask for long audio at once and do not read, with no room to wait: 2 streams
/// run, 14 get 429; the running ones' synthesis stops working while nobody reads (the
/// engine's threads use no CPU), and delivers everything once the client reads. (Waiting in
/// line is tested in `turns.rs`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_streams_are_bounded_and_wait_for_slow_readers() {
    let s = std::sync::Arc::new(start_with(|c| c.limits.max_waiting_streams = 0));
    let text = "Every sentence here adds a little more audio to the stream. ".repeat(40);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let s = s.clone();
        let text = text.clone();
        tasks.push(tokio::spawn(async move {
            s.post("/v1/synthesize")
                .json(&json!({"text": text, "format": "pcm_s16le"}))
                .send()
                .await
                .unwrap()
        }));
    }
    let mut running = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let resp = t.await.unwrap();
        match resp.status().as_u16() {
            200 => running.push(resp),
            429 => {
                assert_eq!(error_code(resp).await, "too_many_streams");
                refused += 1;
            }
            other => panic!("status {other}"),
        }
    }
    assert_eq!((running.len(), refused), (2, 14));
    // Nobody reads: within a few seconds the synthesis threads stop using CPU (they wait on
    // the full channel), though far from done.
    let t = Instant::now();
    loop {
        let a = thread_ticks("hark-stream");
        assert!(!a.is_empty(), "synthesis threads alive");
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let b = thread_ticks("hark-stream");
        assert!(
            !b.is_empty(),
            "synthesis threads still alive (not finished)"
        );
        let spent = ticks_between(&a, &b);
        if spent <= 2 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "synthesis never waited: {spent} ticks in the last second"
        );
    }
    let h: Value = s.get_json("/v1/health").await;
    assert_eq!(h["active_streams"], 2);
    // Now read: all of the audio arrives.
    let t = Instant::now();
    let mut readers = Vec::new();
    for mut resp in running {
        readers.push(tokio::spawn(async move {
            let mut n = 0usize;
            while let Some(c) = resp.chunk().await.unwrap() {
                n += c.len();
            }
            n
        }));
    }
    let mut lens = Vec::new();
    for r in readers {
        lens.push(r.await.unwrap());
    }
    eprintln!("read both streams in {:?}", t.elapsed());
    assert_eq!(lens[0], lens[1], "deterministic engine: same audio");
    let seconds = lens[0] as f64 / 48_000.0;
    eprintln!("each stream: {seconds:.0} s of audio, delivered after waiting for its reader");
    assert!(seconds > 30.0, "{seconds} s");
    s.health_until("active_streams", 0, Duration::from_secs(10))
        .await;
    let resp = s
        .post("/v1/synthesize")
        .json(&json!({"text": "A free slot again."}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_are_bounded() {
    let s = start_with(|c| c.limits.max_event_streams = 2);
    let a = Sse::open(&s).await;
    let _b = Sse::open(&s).await;
    let resp = s.get("/v1/events").send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(error_code(resp).await, "too_many_event_streams");
    // A client that leaves frees its place (noticed when the next event is written).
    drop(a);
    let t = Instant::now();
    loop {
        speak(&s, "Hi.").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        if s.get_json("/v1/health").await["event_streams"] == 1 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(20), "slot not released");
    }
    let resp = s.get("/v1/events").send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

/// When every connection has a request in progress (here: 8 event streams), one more is
/// answered a JSON 503 and closed; once they end, requests are served again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_cap_answers_503_json() {
    let s = start_with(|c| c.limits.max_connections = 8);
    let mut busy = Vec::new();
    for _ in 0..8 {
        // Each on its own client, so on its own connection.
        let client = reqwest::Client::new();
        let resp = client
            .get(s.url("/v1/events"))
            .bearer_auth(&s.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        busy.push(resp);
    }
    let mut c = raw(&s).await;
    let (answer, closed) = read_all(&mut c, Duration::from_secs(5)).await;
    assert!(closed);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"too_many_connections\""), "{answer}");
    // A client that had sent its request reads the same answer.
    let resp = match reqwest::Client::new()
        .get(s.url("/v1/health"))
        .bearer_auth(&s.token)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => panic!("{e:?}"),
    };
    assert_eq!(resp.status(), 503);
    assert_eq!(error_code(resp).await, "too_many_connections");
    drop(busy);
    let t = Instant::now();
    loop {
        match s.get("/v1/health").send().await {
            Ok(r) if r.status() == 200 => break,
            _ => assert!(t.elapsed() < Duration::from_secs(5)),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_and_body_read_timeouts() {
    let s = start_with(|c| {
        c.limits.header_read_timeout = Duration::from_millis(500);
        c.limits.body_read_timeout = Duration::from_millis(500);
    });
    // Headers that never end: the connection is closed.
    let mut c = raw(&s).await;
    c.write_all(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let t = Instant::now();
    let (_, closed) = read_all(&mut c, Duration::from_secs(5)).await;
    assert!(closed, "still open after 5 s");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    // An idle keep-alive connection too.
    let mut c = raw(&s).await;
    let (_, closed) = read_all(&mut c, Duration::from_secs(5)).await;
    assert!(closed);
    // A body that never ends: a JSON 408.
    let mut c = raw(&s).await;
    let head = format!(
        "POST /v1/speak HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"text\":",
        s.port, s.token
    );
    c.write_all(head.as_bytes()).await.unwrap();
    let (answer, _) = read_all(&mut c, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"body_timeout\""), "{answer}");
}

/// Half-open connections, a request stuck in its body, an open event stream and an audio
/// stream nobody reads: the bridge still stops within its grace (1 s) plus a little.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_prompt_whatever_clients_do() {
    let mut s = start();
    let mut sse = Sse::open(&s).await;
    let _ = sse.next().await;
    let _unread = s
        .post("/v1/synthesize")
        .json(&json!({"text": "A long text nobody reads. ".repeat(500), "format": "pcm_f32le"}))
        .send()
        .await
        .unwrap();
    let mut held = Vec::new();
    for i in 0..300 {
        let mut c = raw(&s).await;
        if i % 3 == 0 {
            let _ = c.write_all(b"POST /v1/speak HTTP/1.1\r\nHost: 127.0").await;
        }
        held.push(c);
    }
    let handle = s.handle.take().unwrap();
    let t = Instant::now();
    tokio::task::spawn_blocking(move || handle.shutdown())
        .await
        .unwrap()
        .expect("clean shutdown");
    let took = t.elapsed();
    eprintln!("shutdown with 300 half-open connections and two open streams: {took:?}");
    assert!(took < Duration::from_secs(2), "shutdown took {took:?}");
    assert!(s.get("/v1/health").send().await.is_err());
}

/// `POST /v1/stop {"id": N}` stops utterance N only: another one that is playing goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_by_id_leaves_other_utterances_alone() {
    let s = start();
    let mut sse = Sse::open(&s).await;
    let _ = sse.next().await;
    let id = |r: Value| r["id"].as_u64().unwrap();
    let a = id(
        speak(&s, "The user's own reading. It goes on and on for a while.")
            .await
            .json()
            .await
            .unwrap(),
    );
    sse.until_started(a).await;
    s.post("/v1/pause").send().await.unwrap();
    sse.until_event("paused", a).await;
    let b = id(speak(&s, "A page's speech, queued behind.")
        .await
        .json()
        .await
        .unwrap());
    // B is queued: it will be stopped when it starts; A is not touched.
    let r = stop_id(&s, json!(b)).await;
    assert_eq!(r["stopped"], "when_started");
    assert_eq!(r["state"]["state"], "paused");
    assert_eq!(r["state"]["id"], a);
    // An id that is not queued or playing: nothing happens.
    let r = stop_id(&s, json!(999_999)).await;
    assert_eq!(r["stopped"], "none");
    s.post("/v1/resume").send().await.unwrap();
    let ends = sse.until_end_of(b).await;
    let end_of = |id: u64| {
        ends.iter()
            .find(|(n, v)| {
                v["id"] == id && ["finished", "cancelled", "error"].contains(&n.as_str())
            })
            .map(|(n, _)| n.clone())
    };
    assert_eq!(
        end_of(a).as_deref(),
        Some("finished"),
        "A went on to its end"
    );
    assert_eq!(end_of(b).as_deref(), Some("cancelled"));
    // Stopping the utterance that plays stops it now.
    let c = id(speak(&s, "Another long one. ".repeat(40).as_str())
        .await
        .json()
        .await
        .unwrap());
    sse.until_started(c).await;
    s.post("/v1/pause").send().await.unwrap();
    sse.until_event("paused", c).await;
    let r = stop_id(&s, json!(c)).await;
    assert_eq!(r["stopped"], "now");
    let ends = sse.until_end_of(c).await;
    assert_eq!(ends.last().unwrap().0, "cancelled");
    // Bad bodies are JSON 400s.
    let resp = s
        .post("/v1/stop")
        .json(&json!({"id": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    error_code(resp).await;
}
