//! hark's own /v1 API against the real bridge and a real (tiny-model) engine.

mod common;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_version_voices_state_models() {
    let s = start();
    let h: Value = s.get_json("/v1/health").await;
    assert_eq!(h["status"], "ok");
    assert_eq!(h["state"]["state"], "idle");

    let v: Value = s.get_json("/v1/version").await;
    assert_eq!(v["api"], 1);
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["extension_id"], hark_bridge::EXTENSION_ID);

    let voices: Value = s.get_json("/v1/voices").await;
    let list = voices["voices"].as_array().unwrap();
    assert_eq!(list.len(), s.engine.voices().len());
    let heart = list
        .iter()
        .find(|v| v["name"] == "af_heart")
        .expect("af_heart listed");
    assert_eq!(heart["lang"], "en-us");
    assert_eq!(heart["gender"], "female");

    let st: Value = s.get_json("/v1/state").await;
    assert_eq!(st["state"]["state"], "idle");

    let models: Value = s.get_json("/v1/models").await;
    assert_eq!(models["object"], "list");
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"kokoro") && ids.contains(&"tts-1"), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speak_streams_events_with_source_offsets() {
    let s = start();
    let mut sse = Sse::open(&s).await;
    let (name, hello) = sse.next().await;
    assert_eq!(name, "state");
    assert_eq!(hello["state"]["state"], "idle");

    let text = "Hello world. The café is open — come in!";
    let resp = s
        .post("/v1/speak")
        .json(&json!({"text": text, "voice": "af_bella", "speed": 1.25}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let id = resp.json::<Value>().await.unwrap()["id"].as_u64().unwrap();

    let events = sse.until_end_of(id).await;
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    let utter = events
        .iter()
        .find(|(n, _)| n == "utterance")
        .expect("utterance event");
    assert_eq!(
        utter.1["text"], text,
        "the bridge reports exactly the text queued"
    );
    assert_eq!(utter.1["voice"], "af_bella");
    for want in ["queued", "started", "sentence", "word", "finished"] {
        assert!(names.contains(&want), "no {want} event in {names:?}");
    }
    let words: Vec<&str> = events
        .iter()
        .filter(|(n, v)| n == "word" && v["id"] == id)
        .map(|(_, v)| {
            let (a, b) = (
                v["src"]["start"].as_u64().unwrap() as usize,
                v["src"]["end"].as_u64().unwrap() as usize,
            );
            assert!(v["end_ms"].as_u64() >= v["start_ms"].as_u64());
            &text[a..b]
        })
        .collect();
    assert!(
        words.contains(&"Hello") && words.contains(&"café"),
        "{words:?}"
    );
    assert_eq!(s.engine.state(), hark_engine::State::Idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_endpoints() {
    let s = start();
    let mut sse = Sse::open(&s).await;
    let _ = sse.next().await;
    let long = "This is a fairly long sentence that keeps the worker busy for a while. ".repeat(60);
    let id = s
        .post("/v1/speak")
        .json(&json!({"text": long}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    for path in ["/v1/pause", "/v1/resume", "/v1/skip", "/v1/previous"] {
        let resp = s.post(path).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["ok"], true);
        assert!(v["state"]["state"].is_string(), "{path}: {v}");
    }
    let v: Value = s
        .post("/v1/stop")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["ok"], true);
    let events = sse.until_end_of(id).await;
    let last = &events.last().unwrap().0;
    assert_eq!(last, "cancelled", "stop ends the long utterance: {last}");
    // GET on a control endpoint is a JSON 405.
    let resp = s.get("/v1/stop").send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(error_code(resp).await, "method_not_allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthesize_formats() {
    let s = start();
    let text = "Streaming audio from the bridge.";
    let resp = s
        .post("/v1/synthesize")
        .json(&json!({"text": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "audio/wav");
    let wav = resp.bytes().await.unwrap();
    let samples = wav_samples(&wav);
    assert_audible(&samples);

    let resp = s
        .post("/v1/synthesize")
        .json(&json!({"text": text, "format": "pcm_s16le"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-sample-format"], "s16le");
    assert_eq!(resp.headers()["x-sample-rate"], "24000");
    let pcm = resp.bytes().await.unwrap();
    assert_eq!(
        &pcm[..],
        &wav[44..],
        "deterministic engine: same samples as the WAV body"
    );

    let resp = s
        .post("/v1/synthesize")
        .json(&json!({"text": text, "format": "pcm_f32le", "voice": "am_adam:0.5+af_heart:0.5"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-sample-format"], "f32le");
    let raw = resp.bytes().await.unwrap();
    assert_eq!(raw.len() % 4, 0);
    let f: Vec<f32> = raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert!(f.len() > 2400);
    assert!(f.iter().all(|x| x.is_finite() && x.abs() <= 1.0));
    assert!(f.iter().any(|x| x.abs() > 0.003));

    // Blends are parsed as the engine parses them: a weight of 0 is allowed.
    let resp = s
        .post("/v1/synthesize")
        .json(&json!({"text": text, "voice": "am_adam:1+af_heart:0"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    for bad in ["am_adam:-1", "am_adam:0", "nobody:1+af_heart"] {
        let resp = s
            .post("/v1/synthesize")
            .json(&json!({"text": text, "voice": bad}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
    }

    let resp = s
        .post("/v1/synthesize")
        .json(&json!({"text": text, "format": "mp3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(error_code(resp).await, "invalid_request");
}

/// The first audio bytes reach the client while the synthesis of a long text
/// is still running: the body arrives in many pieces, the first long before the end,
/// and the bridge still counts the stream as active when the first bytes are in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthesize_streams_first_bytes_early() {
    let s = start();
    let text = "The quick brown fox jumps over the lazy dog near the river bank. ".repeat(15);
    let t0 = Instant::now();
    let mut resp = s
        .post("/v1/synthesize")
        .json(&json!({"text": text, "format": "pcm_s16le"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let first = resp.chunk().await.unwrap().expect("a first chunk");
    let t_first = t0.elapsed();
    let h: Value = s.get_json("/v1/health").await;
    assert_eq!(
        h["active_streams"], 1,
        "synthesis still running after the first bytes"
    );
    let mut total = first.len();
    let mut pieces = 1;
    while let Some(c) = resp.chunk().await.unwrap() {
        total += c.len();
        pieces += 1;
    }
    let t_end = t0.elapsed();
    eprintln!(
        "first bytes after {t_first:?} ({} B), end after {t_end:?}, {total} B in {pieces} pieces",
        first.len()
    );
    assert!(pieces >= 5, "only {pieces} pieces");
    assert!(first.len() * 5 < total, "first piece is most of the audio");
    assert!(
        t_first * 3 < t_end,
        "first bytes {t_first:?} not well before the end {t_end:?}"
    );
    let h: Value = s.get_json("/v1/health").await;
    assert_eq!(h["active_streams"], 0);
}

/// `"stream": true` (the default but for FLAC) sends the encoded audio as it is made: for each
/// compressed format the first bytes come long before the end, in many pieces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_compressed_formats_stream_as_they_are_made() {
    let s = start();
    let text = "The quick brown fox jumps over the lazy dog near the river bank. ".repeat(15);
    for fmt in ["mp3", "opus", "flac"] {
        let t0 = Instant::now();
        let mut resp = s
            .post("/v1/audio/speech")
            .json(&json!({"model": "tts-1", "input": text, "voice": "af_heart", "response_format": fmt, "stream": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers().get("content-length").is_none(),
            "{fmt}: chunked"
        );
        // Past the headers: the first 8 KB of encoded audio.
        let (mut total, mut pieces, mut t_audio) = (0, 0, None);
        while let Some(c) = resp.chunk().await.unwrap() {
            total += c.len();
            pieces += 1;
            if total > 8192 && t_audio.is_none() {
                t_audio = Some(t0.elapsed());
            }
        }
        let t_end = t0.elapsed();
        let t_first = t_audio.expect("more than 8 KB");
        eprintln!("{fmt}: 8 KB of audio after {t_first:?}, end after {t_end:?}, {total} B in {pieces} pieces");
        assert!(pieces >= 5, "{fmt}: only {pieces} pieces");
        assert!(
            t_first * 3 < t_end,
            "{fmt}: first bytes {t_first:?}, end {t_end:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_speech_endpoint() {
    let s = start();
    // WAV, OpenAI voice name mapped to a Kokoro voice.
    let resp = s
        .post("/v1/audio/speech")
        .json(&json!({"model": "tts-1", "input": "Hello from the OpenAI route.", "voice": "alloy", "response_format": "wav", "speed": 1.25, "instructions": "ignored"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_audible(&wav_samples(&resp.bytes().await.unwrap()));
    // pcm = raw s16le 24 kHz, default (absent) format = wav, Kokoro voice names work too.
    let resp = s
        .post("/v1/audio/speech")
        .json(&json!({"model": "kokoro", "input": "Raw PCM please.", "voice": "bf_emma", "response_format": "pcm"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let pcm = resp.bytes().await.unwrap();
    assert!(pcm.len() > 4800 && pcm.len() % 2 == 0);
    // OpenAI's default format is mp3, and mp3 is MP3 (frame sync), labelled as such.
    for body in [
        json!({"model": "kokoro", "input": "Default format.", "voice": "af_heart"}),
        json!({"model": "tts-1", "input": "Asked for MP3.", "voice": "nova", "response_format": "mp3"}),
    ] {
        let resp = s.post("/v1/audio/speech").json(&body).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "audio/mpeg");
        assert!(resp.headers().get("x-hark-format-substituted").is_none());
        let mp3 = resp.bytes().await.unwrap();
        assert!(
            mp3.len() > 400 && mp3[0] == 0xff && mp3[1] & 0xe0 == 0xe0,
            "{:02x?}",
            &mp3[..4]
        );
    }
    // aac has no encoder here: a 400 that lists what is supported.
    let resp = s
        .post("/v1/audio/speech")
        .json(&json!({"model": "tts-1", "input": "x", "voice": "alloy", "response_format": "aac"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let v: Value = resp.json().await.unwrap();
    let msg = v["error"]["message"].as_str().unwrap();
    for f in hark_bridge::OPENAI_FORMATS {
        assert!(msg.contains(f), "{msg}");
    }
    for (body, code) in [
        (
            json!({"model": "tts-1", "input": "x", "voice": "alloy", "response_format": "ogg"}),
            400,
        ),
        (
            json!({"model": "whisper-1", "input": "x", "voice": "alloy"}),
            400,
        ),
        (
            json!({"model": "tts-1", "input": "x", "voice": "nobody"}),
            400,
        ),
        (
            json!({"model": "tts-1", "input": "   ", "voice": "alloy"}),
            400,
        ),
        (
            json!({"model": "tts-1", "input": "x", "voice": "alloy", "speed": 9.0}),
            400,
        ),
        (
            json!({"model": "tts-1", "input": "x", "voice": "alloy", "speed": 0.2}),
            400,
        ),
        (json!({"model": "tts-1", "voice": "alloy"}), 400),
    ] {
        let resp = s.post("/v1/audio/speech").json(&body).send().await.unwrap();
        assert_eq!(resp.status(), code, "{body}");
        error_code(resp).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_open_event_streams() {
    let mut s = start();
    let mut sse = Sse::open(&s).await;
    let _ = sse.next().await;
    let handle = s.handle.take().unwrap();
    let t = Instant::now();
    tokio::task::spawn_blocking(move || handle.shutdown())
        .await
        .unwrap()
        .expect("clean shutdown");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "shutdown took {:?}",
        t.elapsed()
    );
    assert!(
        s.get("/v1/health").send().await.is_err(),
        "server gone after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_fixed_port_and_busy_port_error() {
    // Find a free port, then serve on it with `serve`.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let token = hark_bridge::load_or_create_token(dir.path()).unwrap();
    let mut cfg = hark_bridge::BridgeConfig::new(token.clone());
    cfg.port = port;
    let engine = engine();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hark_bridge::serve(engine.clone(), cfg.clone(), async {
        let _ = rx.await;
    }));
    let client = reqwest::Client::new();
    let url = format!("http://localhost:{port}/v1/health");
    let mut ok = false;
    for _ in 0..100 {
        if let Ok(r) = client.get(&url).bearer_auth(&token).send().await {
            assert_eq!(r.status(), 200);
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "serve answered on localhost:{port}");
    // The same port again: a clear bind error, not a panic.
    let err = hark_bridge::spawn(engine.clone(), cfg.clone())
        .err()
        .expect("port is busy");
    assert!(err.to_string().contains(&port.to_string()), "{err}");
    tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("serve returns after shutdown")
        .unwrap()
        .unwrap();
    // Bad configs are refused up front.
    let mut bad = cfg.clone();
    bad.allowed_extension_ids = vec!["not-an-id".into()];
    assert!(hark_bridge::spawn(engine.clone(), bad).is_err());
    let mut bad = cfg;
    bad.token = "short".into();
    assert!(hark_bridge::spawn(engine, bad).is_err());
}

/// A client that hangs up mid-stream ends the synthesis; the bridge keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_hanging_up_mid_stream_ends_the_synthesis() {
    let s = start();
    let text =
        "A long text that the client will not wait for, sentence after sentence. ".repeat(30);
    for _ in 0..3 {
        let mut resp = s
            .post("/v1/synthesize")
            .json(&json!({"text": text, "format": "pcm_f32le"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.chunk().await.unwrap().is_some());
        drop(resp);
        // Each abandoned stream is released (before the next, so that the bound of two
        // streams at once never answers 429 here on a slow machine).
        let took = s
            .health_until("active_streams", 0, Duration::from_secs(20))
            .await;
        eprintln!("abandoned stream released after {took:?}");
    }
    let resp = s
        .post("/v1/synthesize")
        .json(&json!({"text": "Still here."}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_audible(&wav_samples(&resp.bytes().await.unwrap()));
}

/// Each voice is read with its own English: a `bm_george` request gets what the British front
/// end makes of the text (the same samples as an engine that reads everything as en-gb), not the
/// American reading, which is said in a different time; `af_heart` keeps the American one, and
/// a blend is read as its first voice. Same tiny model and voices, the real lexicons.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn british_voices_are_read_with_british_english() {
    use hark_engine::{Engine, EngineConfig, Lang, SpeakOptions};
    let s = start();
    let text = "Either way, the tomato schedule for our laboratory was moved to the garage.";
    let mut heard = Vec::new();
    for voice in ["bm_george", "af_heart", "bf_emma:0.7+af_heart:0.3"] {
        let resp = s
            .post("/v1/synthesize")
            .json(&json!({"text": text, "voice": voice, "format": "pcm_f32le"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{voice}");
        let raw = resp.bytes().await.unwrap();
        let pcm: Vec<f32> = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        heard.push(pcm);
    }
    // The readings of engines that read every voice with one language (clipped as the bridge
    // sends them).
    let read = |lang: Lang, voice: &'static str| {
        tokio::task::spawn_blocking(move || {
            let mut cfg = EngineConfig::tiny(7, lexicons());
            cfg.lang = Some(lang);
            let opts = SpeakOptions {
                voice: Some(voice.into()),
                speed: None,
            };
            let audio = Engine::start(cfg)
                .unwrap()
                .synthesize_to_vec(text, opts)
                .unwrap();
            audio
                .iter()
                .map(|x| if x.is_nan() { 0.0 } else { x.clamp(-1.0, 1.0) })
                .collect::<Vec<f32>>()
        })
    };
    let george_gb = read(Lang::EnGb, "bm_george").await.unwrap();
    let george_us = read(Lang::EnUs, "bm_george").await.unwrap();
    let heart_us = read(Lang::EnUs, "af_heart").await.unwrap();
    let blend_gb = read(Lang::EnGb, "bf_emma:0.7+af_heart:0.3").await.unwrap();
    assert!(
        george_gb.len() != george_us.len(),
        "the two readings should take different times ({} samples each)",
        george_gb.len()
    );
    assert!(heard[0] == george_gb, "bm_george is read as en-gb");
    assert!(heard[0] != george_us, "bm_george is not read as en-us");
    assert!(heard[1] == heart_us, "af_heart is read as en-us");
    assert!(heard[2] == blend_gb, "a blend is read as its first voice");
    eprintln!(
        "bm_george: {:.3} s read as en-gb (as the bridge did), {:.3} s as en-us",
        george_gb.len() as f64 / 24_000.0,
        george_us.len() as f64 / 24_000.0
    );
}
