//! The security layers: Host, Origin/CORS/PNA, token, limits, malformed input.

mod common;
use common::*;
use hark_bridge::EXTENSION_ID;
use serde_json::{json, Value};

const OTHER_EXT: &str = "abcdefghijklmnopabcdefghijklmnop";
/// An extension that is not allowlisted: the token alone does not let it in.
const PAIRED_ORIGIN: &str = "chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_header_must_be_loopback_with_our_port() {
    let s = start();
    for host in [
        format!("evil.example:{}", s.port),
        format!("127.0.0.1.nip.example:{}", s.port),
        format!("127.0.0.1:{}", s.port.wrapping_add(1)),
        "127.0.0.1".to_string(),
    ] {
        let resp = s
            .get("/v1/health")
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{host}");
        assert!(resp.headers().get("access-control-allow-origin").is_none());
        assert_eq!(error_code(resp).await, "host_not_allowed");
    }
    for host in [format!("localhost:{}", s.port), format!("[::1]:{}", s.port)] {
        let resp = s
            .get("/v1/health")
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{host}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origins_and_cors() {
    let s = start_with(|c| c.allowed_extension_ids = vec![OTHER_EXT.into()]);
    // Our extension and an added id, with the token: CORS headers for that origin (a trailing
    // slash in the Origin is the same origin).
    for id in [EXTENSION_ID, OTHER_EXT] {
        for origin in [
            format!("chrome-extension://{id}"),
            format!("chrome-extension://{id}/"),
        ] {
            let resp = s
                .get("/v1/voices")
                .header("origin", &origin)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{origin}");
            assert_eq!(
                resp.headers()["access-control-allow-origin"],
                origin.as_str()
            );
            assert_eq!(resp.headers()["vary"], "Origin");
        }
    }
    // Chrome sends an extension's Origin on POST only, so read endpoints answer POST too.
    let ours = format!("chrome-extension://{EXTENSION_ID}");
    for path in [
        "/v1/health",
        "/v1/version",
        "/v1/voices",
        "/v1/state",
        "/v1/models",
        "/v1/audio/voices",
    ] {
        let resp = s
            .post(path)
            .header("origin", &ours)
            .header("content-type", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "POST {path}");
        let v: Value = resp.json().await.unwrap();
        assert!(v.is_object());
    }
    let resp = s
        .post("/v1/events")
        .header("origin", &ours)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    drop(resp);
    // Web pages, null, other extensions: 403, no CORS headers, with or without the token.
    for origin in [
        "https://evil.example",
        "http://127.0.0.1:8080",
        "null",
        "chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcbb",
        "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        PAIRED_ORIGIN,
    ] {
        for with_token in [false, true] {
            let req = if with_token {
                s.post("/v1/speak")
            } else {
                s.client.post(s.url("/v1/speak"))
            };
            let resp = req
                .header("origin", origin)
                .json(&json!({"text": "pwned"}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 403, "{origin} token {with_token}");
            assert!(
                resp.headers().get("access-control-allow-origin").is_none(),
                "{origin}"
            );
            assert_eq!(error_code(resp).await, "origin_not_allowed");
        }
    }
}

/// Every caller presents the token: an allowlisted extension Origin alone gets 401 (with CORS
/// headers, so the extension can read why), on every endpoint, the event stream included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extension_origin_without_token_gets_401() {
    let s = start();
    let ours = format!("chrome-extension://{EXTENSION_ID}");
    for path in [
        "/v1/health",
        "/v1/voices",
        "/v1/events",
        "/v1/speak",
        "/v1/stop",
        "/v1/synthesize",
        "/v1/audio/speech",
    ] {
        for auth in [None, Some("Bearer wrong"), Some("Bearer ")] {
            let mut req = s
                .client
                .post(s.url(path))
                .header("origin", &ours)
                .header("content-type", "application/json")
                .body(r#"{"text": "read my events"}"#);
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 401, "{path} {auth:?}");
            assert_eq!(resp.headers()["access-control-allow-origin"], ours.as_str());
            assert_eq!(error_code(resp).await, "unauthorized");
        }
    }
    assert_eq!(
        s.engine.state(),
        hark_engine::State::Idle,
        "nothing was spoken"
    );
}

/// Browser requests must be `application/json` (a form or text/plain post from a page can not
/// pass for one), scripts may send any type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_requests_must_be_json() {
    let s = start();
    let ours = format!("chrome-extension://{EXTENSION_ID}");
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonx"),
    ] {
        let mut req = s
            .post("/v1/speak")
            .header("origin", &ours)
            .body(r#"{"text": "hello"}"#);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 415, "{ct:?}");
        assert_eq!(error_code(resp).await, "unsupported_media_type");
    }
    for ct in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
    ] {
        let resp = s
            .post("/v1/voices")
            .header("origin", &ours)
            .header("content-type", ct)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{ct}");
    }
    // GET carries no body: no type needed. Scripts without Origin: any type (curl -d).
    let resp = s
        .get("/v1/voices")
        .header("origin", &ours)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = s
        .post("/v1/stop")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflights_and_private_network_access() {
    let s = start();
    let ours = format!("chrome-extension://{EXTENSION_ID}");
    let resp = s
        .client
        .request(reqwest::Method::OPTIONS, s.url("/v1/speak"))
        .header("origin", &ours)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .header("access-control-request-private-network", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let h = resp.headers();
    assert_eq!(h["access-control-allow-origin"], ours.as_str());
    assert_eq!(h["access-control-allow-private-network"], "true");
    assert!(h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    assert!(h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("content-type"));
    // Without the PNA request header, no PNA answer.
    let resp = s
        .client
        .request(reqwest::Method::OPTIONS, s.url("/v1/speak"))
        .header("origin", &ours)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert!(resp
        .headers()
        .get("access-control-allow-private-network")
        .is_none());
    // A web page asking for private network access: refused, no CORS/PNA headers.
    for origin in [
        "https://evil.example",
        "chrome-extension://abcdefghijklmnopabcdefghijklmnop",
    ] {
        let resp = s
            .client
            .request(reqwest::Method::OPTIONS, s.url("/v1/speak"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-private-network", "true")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{origin}");
        assert!(resp.headers().get("access-control-allow-origin").is_none());
        assert!(resp
            .headers()
            .get("access-control-allow-private-network")
            .is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_required_without_origin() {
    let s = start();
    for path in ["/v1/health", "/v1/voices", "/v1/models", "/v1/events"] {
        let resp = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 401, "{path}");
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
        assert_eq!(error_code(resp).await, "unauthorized");
    }
    for auth in ["Bearer wrong", "Basic Zm9vOmJhcg==", "Bearer", ""] {
        let resp = s
            .client
            .post(s.url("/v1/speak"))
            .header("authorization", auth)
            .json(&json!({"text": "hi"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{auth:?}");
    }
    let almost = format!("Bearer {}x", s.token);
    let resp = s
        .client
        .get(s.url("/v1/health"))
        .header("authorization", almost)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = s
        .client
        .post(s.url("/v1/audio/speech"))
        .json(&json!({"model": "tts-1", "input": "hi", "voice": "alloy"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversize_requests_get_json_4xx() {
    let s = start();
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("/v1/speak", b"{not json".to_vec(), 400),
        ("/v1/speak", b"".to_vec(), 400),
        ("/v1/speak", b"[1,2,3]".to_vec(), 400),
        ("/v1/speak", br#"{"text": 42}"#.to_vec(), 400),
        ("/v1/speak", br#"{"voice": "af_heart"}"#.to_vec(), 400),
        ("/v1/speak", br#"{"text": "hi", "sped": 1.0}"#.to_vec(), 400),
        (
            "/v1/speak",
            br#"{"text": "hi", "speed": 0.1}"#.to_vec(),
            400,
        ),
        (
            "/v1/speak",
            br#"{"text": "hi", "speed": "fast"}"#.to_vec(),
            400,
        ),
        (
            "/v1/speak",
            br#"{"text": "hi", "voice": "xx_nobody"}"#.to_vec(),
            400,
        ),
        (
            "/v1/speak",
            br#"{"text": "hi", "voice": "af_heart:abc+af_bella"}"#.to_vec(),
            400,
        ),
        ("/v1/speak", br#"{"text": "   \n\t "}"#.to_vec(), 400),
        (
            "/v1/speak",
            br#"{"text": "\ud800 lone surrogate"}"#.to_vec(),
            400,
        ),
        (
            "/v1/speak",
            b"{\"text\": \"\xff\xfe invalid utf8\"}".to_vec(),
            400,
        ),
        (
            "/v1/synthesize",
            br#"{"text": "hi", "format": 7}"#.to_vec(),
            400,
        ),
        ("/v1/audio/speech", br#"{"model": "tts-1"}"#.to_vec(), 400),
    ];
    for (path, body, want) in cases {
        let resp = s
            .post(path)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status().as_u16(),
            want,
            "{path} {}",
            String::from_utf8_lossy(&body)
        );
        error_code(resp).await;
    }
    // Text over 100,000 characters (multi-byte, under the 1 MB body limit): 413.
    let text = "é".repeat(100_001);
    let resp = s
        .post("/v1/speak")
        .json(&json!({"text": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(error_code(resp).await, "text_too_long");
    let resp = s
        .post("/v1/synthesize")
        .json(&json!({"text": "a".repeat(100_001)}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    // Exactly 100,000 is fine (queued, then stopped).
    let resp = s
        .post("/v1/speak")
        .json(&json!({"text": "word ".repeat(20_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    s.post("/v1/stop").send().await.unwrap();
    // Body over 1 MB, declared length and chunked: a JSON 413 every time, never a reset
    // connection (the server drains the rest before answering), and the same for a body
    // much bigger than the limit.
    for size in [1024 * 1024 + 1, 6 * 1024 * 1024] {
        let big = vec![b' '; size];
        for _ in 0..3 {
            let resp = s.post("/v1/speak").body(big.clone()).send().await.unwrap();
            assert_eq!(resp.status(), 413);
            assert_eq!(error_code(resp).await, "body_too_large");
            let stream = futures_util::stream::iter(
                big.chunks(64 * 1024)
                    .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                    .collect::<Vec<_>>(),
            );
            let resp = s
                .post("/v1/speak")
                .body(reqwest::Body::wrap_stream(stream))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 413);
            assert_eq!(error_code(resp).await, "body_too_large");
        }
    }
    // Unknown endpoint: JSON 404.
    let resp = s.get("/v1/nope").send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(error_code(resp).await, "not_found");
    // Still alive.
    let h: Value = s.get_json("/v1/health").await;
    assert_eq!(h["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_unicode_is_spoken_not_crashed() {
    let s = start();
    let mut sse = Sse::open(&s).await;
    let _ = sse.next().await;
    for text in [
        "Zero\u{200b}width and e\u{301}\u{301}\u{301} combining marks.",
        "Emoji 👩‍👩‍👧‍👦 family and 🇬🇧 flag.",
        "RTL: \u{202e}olleh\u{202c} שלום مرحبا.",
        "NUL \u{0} and control \u{7}\u{1b} chars.",
        "中文和日本語のテキスト。",
        "\u{feff}BOM at start and \u{fffd} replacement.",
    ] {
        let resp = s
            .post("/v1/speak")
            .json(&json!({"text": text}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{text:?}");
        let id = resp.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
        let events = sse.until_end_of(id).await;
        let utter = events
            .iter()
            .find(|(n, v)| n == "utterance" && v["id"] == id)
            .unwrap();
        assert_eq!(utter.1["text"], text, "text reaches the engine unchanged");
        for (n, v) in &events {
            if n == "word" && v["id"] == id {
                let (a, b) = (
                    v["src"]["start"].as_u64().unwrap() as usize,
                    v["src"]["end"].as_u64().unwrap() as usize,
                );
                assert!(
                    text.get(a..b).is_some(),
                    "word range {a}..{b} is not on char boundaries of {text:?}"
                );
            }
        }
        let resp = s
            .post("/v1/synthesize")
            .json(&json!({"text": text}))
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success() || resp.status().is_client_error(),
            "{text:?}: {}",
            resp.status()
        );
        let _ = resp.bytes().await.unwrap();
    }
    let h: Value = s.get_json("/v1/health").await;
    assert_eq!(h["status"], "ok");
}

/// Sends requests made by `req` until the first one that is not accepted; returns that one and
/// how many were accepted before it. A bucket of `per_min` requests per minute refills one
/// every `60 / per_min` s, so on a slow machine a few more than `per_min` may pass: the count
/// must lie between the budget and the budget plus what refilled while the requests went out.
async fn until_refused(
    per_min: usize,
    accepted: impl Fn(reqwest::StatusCode) -> bool,
    req: impl Fn(usize) -> reqwest::RequestBuilder,
) -> reqwest::Response {
    let t = std::time::Instant::now();
    let mut ok = 0;
    loop {
        let resp = req(ok).send().await.unwrap();
        if !accepted(resp.status()) {
            let refilled = (t.elapsed().as_secs_f64() * per_min as f64 / 60.0).ceil() as usize;
            assert!(
                (per_min..=per_min + refilled).contains(&ok),
                "{ok} accepted, budget {per_min} (+{refilled} refilled)"
            );
            return resp;
        }
        ok += 1;
        assert!(ok <= 10 * per_min, "never refused");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_per_client() {
    let s = start_with(|c| c.rate_limit_per_min = 30);
    let ok = |st: reqwest::StatusCode| st == 200;
    let resp = until_refused(30, ok, |_| s.get("/v1/health")).await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "retry-after {retry}");
    assert_eq!(error_code(resp).await, "rate_limited");
    // Another client (our extension) has its own budget, however it spells its Origin; the
    // spellings share one.
    let ours = format!("chrome-extension://{}", hark_bridge::EXTENSION_ID);
    let resp = until_refused(30, ok, |i| {
        let origin = if i % 2 == 0 {
            ours.clone()
        } else {
            format!("{ours}/")
        };
        s.get("/v1/health").header("origin", origin)
    })
    .await;
    assert_eq!(resp.status(), 429, "a trailing slash is not a new bucket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_rate_limit_covers_every_client() {
    let s = start_with(|c| c.limits.global_rate_limit_per_min = 20);
    let resp = until_refused(
        20,
        |st| st == 200 || st == 401,
        |i| {
            if i % 2 == 0 {
                s.get("/v1/health")
            } else {
                // Refused requests count too.
                s.client.get(s.url("/v1/health"))
            }
        },
    )
    .await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(error_code(resp).await, "rate_limited");
}
