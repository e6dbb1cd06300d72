//! 50 concurrent and 1,000 sequential requests against one bridge: no failures. Audio streams
//! beyond the bridge's limit are told to retry (429 `too_many_streams`, `Retry-After`); clients
//! that do are all served.

mod common;
use common::*;
use serde_json::json;
use std::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_then_thousand_sequential() {
    let s = std::sync::Arc::new(start());
    let t = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut retries = 0;
            let resp = loop {
                let resp = match i % 5 {
                    0 => s.post("/v1/synthesize").json(&json!({"text": format!("Request number {i}."), "format": "pcm_s16le"})).send().await,
                    1 => s.post("/v1/audio/speech").json(&json!({"model": "tts-1", "input": format!("Number {i}."), "voice": "nova", "response_format": "pcm"})).send().await,
                    2 => s.get("/v1/voices").send().await,
                    3 => s.post("/v1/speak").json(&json!({"text": format!("Queued {i}.")})).send().await,
                    _ => s.get("/v1/health").send().await,
                }
                .map_err(|e| format!("request {i}: {e}"))?;
                if resp.status() != 429 || retries >= 600 {
                    break resp;
                }
                if resp.headers().get("retry-after").is_none() {
                    return Err(format!("request {i}: 429 without Retry-After"));
                }
                retries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            };
            if resp.status() != 200 {
                return Err(format!("request {i}: status {}", resp.status()));
            }
            let body = resp.bytes().await.map_err(|e| format!("request {i} body: {e}"))?;
            if body.is_empty() {
                return Err(format!("request {i}: empty body"));
            }
            Ok::<_, String>(())
        }));
    }
    let mut failures = Vec::new();
    for t in tasks {
        if let Err(e) = t.await.unwrap() {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures: {failures:?}",
        failures.len()
    );
    let concurrent = t.elapsed();

    let t = Instant::now();
    let mut failures = 0;
    for i in 0..1000 {
        let path = ["/v1/health", "/v1/state", "/v1/version", "/v1/models"][i % 4];
        match s.get(path).send().await {
            Ok(r) if r.status() == 200 => {
                let _ = r.bytes().await.unwrap();
            }
            _ => failures += 1,
        }
    }
    assert_eq!(failures, 0);
    eprintln!(
        "50 concurrent (mixed synth/speak/info) in {concurrent:?}; 1000 sequential in {:?} ({:.2} ms each)",
        t.elapsed(),
        t.elapsed().as_secs_f64() * 1000.0 / 1000.0
    );
    s.post("/v1/stop").send().await.unwrap();
}
