//! A bridge that waits its turn: audio requests within the bound wait and are served in the
//! order they came (only beyond it 429 with `Retry-After`); idle connections make room for
//! new ones and never lock out a client that has sent its request; an answer whose length is
//! known carries it.

mod common;
use common::*;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// 50 concurrent `/v1/audio/speech` requests from one client: those within the bound (2
/// running, 32 waiting) all get their audio, the rest 429 with `Retry-After`, nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_speech_requests_are_served_or_told_when_to_retry() {
    let s = Arc::new(start());
    let t = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let resp = s
                .post("/v1/audio/speech")
                .json(
                    &json!({"model": "tts-1", "voice": "alloy", "response_format": "pcm",
                    "input": format!("Sentence number {i} of fifty, sent all at once.")}),
                )
                .send()
                .await
                .map_err(|e| format!("request {i}: {e}"))?;
            let status = resp.status().as_u16();
            let retry = resp.headers().get("retry-after").cloned();
            let body = resp
                .bytes()
                .await
                .map_err(|e| format!("request {i} body: {e}"))?;
            Ok::<_, String>((status, retry, body))
        }));
    }
    let (mut served, mut refused, mut other) = (0, 0, Vec::new());
    for task in tasks {
        match task.await.unwrap() {
            Ok((200, _, body)) => {
                // At least 0.3 s of 16-bit audio.
                assert!(body.len() >= 14_400, "{} bytes of audio", body.len());
                served += 1;
            }
            Ok((429, retry, body)) => {
                assert!(retry.is_some(), "429 without Retry-After");
                let v: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(v["error"]["code"], "too_many_streams", "{v}");
                refused += 1;
            }
            Ok((status, _, body)) => {
                other.push(format!("{status}: {}", String::from_utf8_lossy(&body)))
            }
            Err(e) => other.push(e),
        }
    }
    eprintln!(
        "50 concurrent speech requests: {served} served, {refused} told to retry, {} other, in {:?}",
        other.len(),
        t.elapsed()
    );
    assert!(other.is_empty(), "{other:?}");
    assert!(served >= 34, "only {served} served");
    let h = s.get_json("/v1/health").await;
    assert_eq!(h["waiting_streams"], 0, "{h}");
}

/// With one stream running and room for three to wait: the three are served in the order they
/// came, a fourth is told to retry, and a waiting client that gives up leaves the line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_requests_are_served_in_order() {
    let s = Arc::new(start_with(|c| {
        c.limits.max_audio_streams = 1;
        c.limits.max_waiting_streams = 3;
    }));
    // A long stream nobody reads holds the only place.
    let long = "A long text that holds the only place while nobody reads it. ".repeat(60);
    let holder = s
        .post("/v1/synthesize")
        .json(&json!({"text": long, "format": "pcm_f32le"}))
        .send()
        .await
        .unwrap();
    assert_eq!(holder.status(), 200);
    // One that waits and gives up.
    let quitter = {
        let s = s.clone();
        tokio::spawn(async move {
            s.post("/v1/synthesize")
                .json(&json!({"text": "I will not wait."}))
                .send()
                .await
        })
    };
    s.health_until("waiting_streams", 1, Duration::from_secs(30))
        .await;
    quitter.abort();
    let _ = quitter.await;
    s.health_until("waiting_streams", 0, Duration::from_secs(30))
        .await;
    // Three wait, in this order.
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut waiting = Vec::new();
    for (k, name) in ["first", "second", "third"].into_iter().enumerate() {
        let (s2, order) = (s.clone(), order.clone());
        waiting.push(tokio::spawn(async move {
            let resp = s2
                .post("/v1/audio/speech")
                .json(
                    &json!({"model": "tts-1", "voice": "af_heart", "response_format": "wav",
                    "input": format!("The {name} one waits its turn, and then it speaks.")}),
                )
                .send()
                .await
                .unwrap();
            order.lock().unwrap().push(name);
            assert_eq!(resp.status(), 200, "{name}");
            let body = resp.bytes().await.unwrap();
            assert_audible(&wav_samples(&body));
        }));
        s.health_until("waiting_streams", k as u64 + 1, Duration::from_secs(30))
            .await;
    }
    // The line is full: the next is told to retry, at once.
    let resp = s
        .post("/v1/synthesize")
        .json(&json!({"text": "No room for me."}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_eq!(error_code(resp).await, "too_many_streams");
    let h = s.get_json("/v1/health").await;
    assert_eq!(
        (h["active_streams"].as_u64(), h["waiting_streams"].as_u64()),
        (Some(1), Some(3)),
        "{h}"
    );
    // The holder goes away: the three are served, in order.
    drop(holder);
    for w in waiting {
        w.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), ["first", "second", "third"]);
    s.health_until("active_streams", 0, Duration::from_secs(30))
        .await;
}

/// Reads until the server closes the connection or `limit` passes; true if it closed.
async fn closed_within(c: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let t = Instant::now();
    loop {
        let left = limit.saturating_sub(t.elapsed());
        match tokio::time::timeout(left, c.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

/// 300 idle half-open connections (some mid-head) against a cap of 64: an authenticated
/// request still gets its answer, the oldest idle connections are the ones closed, and an
/// event stream opened before (a request in progress) is not touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_never_lock_out_a_request() {
    let s = start();
    let mut sse = Sse::open(&s).await;
    let _ = sse.next().await;
    let mut idle = Vec::new();
    for i in 0..300 {
        let mut c = TcpStream::connect(("127.0.0.1", s.port)).await.unwrap();
        if i % 3 == 0 {
            c.write_all(b"GET /v1/health HTTP/1.1\r\nHost: 127.0")
                .await
                .unwrap();
        }
        idle.push(c);
    }
    // A fresh client (no pooled connection) asks with the token.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let t = Instant::now();
    let resp = client
        .get(s.url("/v1/health"))
        .bearer_auth(&s.token)
        .send()
        .await
        .expect("an answer despite 300 idle connections");
    let took = t.elapsed();
    assert_eq!(resp.status(), 200);
    let h: Value = resp.json().await.unwrap();
    assert_eq!(h["status"], "ok");
    eprintln!("health with 300 idle half-open connections open: 200 after {took:?}");
    // The first connections, idle longest, made room: the server closed them.
    for (i, c) in idle.iter_mut().take(100).enumerate() {
        assert!(
            closed_within(c, Duration::from_secs(30)).await,
            "idle connection {i} still open"
        );
    }
    // The event stream, a request in progress all along, still delivers.
    let id = s
        .post("/v1/speak")
        .json(&json!({"text": "Still listening."}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    sse.until_started(id).await;
}

/// Reads the total sample count from a FLAC file's STREAMINFO.
fn flac_total_samples(b: &[u8]) -> u64 {
    assert_eq!(&b[..4], b"fLaC");
    // Metadata block header (4 bytes), then STREAMINFO: 10 bytes of block and frame sizes,
    // then 20 bits rate, 3 channels, 5 bits per sample, 36 bits total samples.
    let si = &b[8..8 + 34];
    (u64::from(si[13] & 0x0f) << 32)
        | u64::from(u32::from_be_bytes([si[14], si[15], si[16], si[17]]))
}

/// FLAC, whose header holds its sample count, comes whole by default: with `Content-Length`
/// and the exact count. Asked for `"stream": true`, it streams without either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flac_carries_its_length_when_it_is_known() {
    let s = start();
    let text = "A short answer, and then a second sentence to make it longer.";
    let pcm = s
        .post("/v1/synthesize")
        .json(&json!({"text": text, "voice": "af_heart", "format": "pcm_s16le"}))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let samples = pcm.len() as u64 / 2;
    assert!(samples > 2400);
    for stream in [None, Some(false), Some(true)] {
        let mut body = json!({"model": "tts-1", "voice": "af_heart", "input": text,
            "response_format": "flac"});
        if let Some(st) = stream {
            body["stream"] = json!(st);
        }
        let resp = s.post("/v1/audio/speech").json(&body).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "audio/flac");
        let len = resp
            .headers()
            .get("content-length")
            .map(|v| v.to_str().unwrap().parse::<usize>().unwrap());
        let bytes = resp.bytes().await.unwrap();
        if stream == Some(true) {
            assert_eq!(len, None, "streamed FLAC has no length");
            // Streamed as made: the count is left unknown (0), as FLAC allows.
            assert_eq!(flac_total_samples(&bytes), 0);
        } else {
            assert_eq!(len, Some(bytes.len()), "stream {stream:?}");
            assert_eq!(flac_total_samples(&bytes), samples, "stream {stream:?}");
        }
    }
}
