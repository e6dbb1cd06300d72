//! Shared helpers of the bridge's integration tests: a real engine (tiny random
//! model, real lexicons), the real bridge on 127.0.0.1:0, a real HTTP client.
#![allow(dead_code)]

use hark_bridge::{spawn, BridgeConfig, BridgeHandle};
use hark_engine::Engine;
use std::time::Duration;

#[allow(unused_imports)] // not every test binary uses it
pub use hark_testkit::lexicons;

pub fn engine() -> Engine {
    hark_testkit::tiny_engine(7, hark_engine::Output::Null)
}

pub struct Server {
    pub handle: Option<BridgeHandle>,
    pub engine: Engine,
    pub token: String,
    pub base: String,
    pub port: u16,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

pub const TEST_RATE: u32 = 100_000;

pub fn start() -> Server {
    start_with(|_| {})
}

pub fn start_with(tweak: impl FnOnce(&mut BridgeConfig)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let token = hark_bridge::load_or_create_token(dir.path()).unwrap();
    let mut cfg = BridgeConfig::new(token.clone());
    cfg.port = 0;
    cfg.rate_limit_per_min = TEST_RATE;
    cfg.limits.global_rate_limit_per_min = TEST_RATE;
    tweak(&mut cfg);
    let engine = engine();
    let handle = spawn(engine.clone(), cfg).expect("bridge starts");
    let addr = handle.addr();
    assert!(addr.ip().is_loopback());
    Server {
        handle: Some(handle),
        engine,
        token,
        base: format!("http://{addr}"),
        port: addr.port(),
        // Only a guard against a hang: a long stream on a machine whose cores are busy with
        // other work takes minutes.
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(600))
            .build()
            .unwrap(),
        _dir: dir,
    }
}

/// The test's end is an owner's end: the engine stops (its threads joined, nothing computing)
/// and the bridge with it, before the next test or the process's exit.
impl Drop for Server {
    fn drop(&mut self) {
        self.engine.shutdown();
        drop(self.handle.take());
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// GET with the bearer token.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(&self.token)
    }

    /// GET with the bearer token, answer parsed as JSON (panics on a transport or JSON error).
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.get(path).send().await.unwrap().json().await.unwrap()
    }

    /// POST with the bearer token.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path)).bearer_auth(&self.token)
    }

    /// Polls `/v1/health` until `key` is `want` (panics after `within`); returns the time it took.
    pub async fn health_until(&self, key: &str, want: u64, within: Duration) -> Duration {
        let t = std::time::Instant::now();
        loop {
            let h = self.get_json("/v1/health").await;
            if h[key] == want {
                return t.elapsed();
            }
            assert!(
                t.elapsed() < within,
                "{key} still not {want} after {within:?}: {h}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Reads a `text/event-stream` body event by event.
pub struct Sse {
    resp: reqwest::Response,
    buf: String,
}

impl Sse {
    pub async fn open(s: &Server) -> Sse {
        let resp = s.get("/v1/events").send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        Sse {
            resp,
            buf: String::new(),
        }
    }

    /// The next event's name and JSON data (keep-alive comments skipped).
    pub async fn next(&mut self) -> (String, serde_json::Value) {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                return (name, serde_json::from_str(&data).expect("SSE data is JSON"));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(60), self.resp.chunk())
                .await
                .expect("an SSE event within 60 s")
                .unwrap()
                .expect("event stream still open");
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Skips events until utterance `id` has started.
    pub async fn until_started(&mut self, id: u64) {
        loop {
            let (name, v) = self.next().await;
            if name == "started" && v["id"] == id {
                return;
            }
        }
    }

    /// Skips events until event `name` of utterance `id` (e.g. `paused`: a pause is applied by
    /// the engine's playback thread, after `POST /v1/pause` has answered).
    pub async fn until_event(&mut self, name: &str, id: u64) {
        loop {
            let (n, v) = self.next().await;
            if n == name && v["id"] == id {
                return;
            }
        }
    }

    /// Events until (and including) the terminal one of utterance `id`.
    pub async fn until_end_of(&mut self, id: u64) -> Vec<(String, serde_json::Value)> {
        let mut out = Vec::new();
        loop {
            let (name, v) = self.next().await;
            let mine = v["id"].as_u64() == Some(id);
            let terminal = mine && matches!(name.as_str(), "finished" | "cancelled" | "error");
            out.push((name, v));
            if terminal {
                return out;
            }
        }
    }
}

/// Checks the JSON error shape and returns its code.
pub async fn error_code(resp: reqwest::Response) -> String {
    assert_eq!(
        resp.headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string()),
        Some("application/json".into())
    );
    let v: serde_json::Value = resp.json().await.expect("error body is JSON");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    v["error"]["code"].as_str().unwrap().to_string()
}

/// The samples of a streamed 16-bit mono 24 kHz WAV (header checked).
pub fn wav_samples(bytes: &[u8]) -> Vec<i16> {
    assert!(bytes.len() > 44, "WAV too short: {} bytes", bytes.len());
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WAVE");
    assert_eq!(&bytes[12..16], b"fmt ");
    assert_eq!(u16::from_le_bytes([bytes[20], bytes[21]]), 1, "PCM");
    assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 1, "mono");
    assert_eq!(
        u32::from_le_bytes([bytes[24], bytes[25], bytes[26], bytes[27]]),
        24_000
    );
    assert_eq!(u16::from_le_bytes([bytes[34], bytes[35]]), 16);
    assert_eq!(&bytes[36..40], b"data");
    let data = &bytes[44..];
    assert_eq!(data.len() % 2, 0);
    data.chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

pub fn assert_audible(samples: &[i16]) {
    assert!(samples.len() > 2400, "{} samples (< 0.1 s)", samples.len());
    let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
    assert!(peak > 100, "audio is (near) silent: peak {peak}");
}
