//! Fuzzing what strangers can send the bridge: raw HTTP requests (methods, paths, headers and
//! bodies, well-formed or not) and JSON bodies of every endpoint (fields of any type, SSML- and
//! link-like markup and any Unicode as text) against a real bridge with the tiny engine, and
//! native messaging frames against the host.
//!
//! The bridge answers every request with an HTTP answer or closes the connection, within its
//! timeouts; never a 500; every refusal is a JSON error; audio answers carry audio; and it
//! keeps serving (nothing stays counted as running or waiting). The native host answers every
//! complete frame with one frame of JSON that has a `type`, hands the token to allowlisted
//! extensions only, and stops with an error (never a panic) on a stream it cannot follow.
//!
//! A bounded campaign: `HARK_FUZZ_CASES` cases per property (default 64; a longer run sets
//! e.g. `HARK_FUZZ_CASES=5000`). The kept corpus: the files in `tests/fuzz-corpus/` (raw
//! requests `*.http`, with `{HOST}` and `{TOKEN}` filled in; native messaging input `*.nm`)
//! are replayed on each run, and proptest replays the inputs of past failures from
//! `tests/fuzz.proptest-regressions` first.

mod common;
use common::*;
use hark_bridge::native_host::{read_message, Host, MAX_MESSAGE};
use hark_bridge::EXTENSION_ID;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn cases() -> u32 {
    std::env::var("HARK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        max_shrink_iters: 500,
        ..ProptestConfig::default()
    }
}

/// One bridge for the whole binary, with short client timeouts so stuck requests end fast
/// (not too short: on a loaded machine a head sent at once can take a few hundred ms to be
/// read, and a header timeout then closes the connection without an answer).
fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        start_with(|c| {
            c.limits.header_read_timeout = Duration::from_secs(3);
            c.limits.body_read_timeout = Duration::from_secs(1);
        })
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static R: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    R.get_or_init(|| tokio::runtime::Runtime::new().unwrap())
}

/// How long the bridge may take to answer (or close) one fuzzed request.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

/// What came back for one raw request.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Parses the first final HTTP/1.1 answer from `buf` if it is complete (content-length,
/// chunked, or `closed` for a body that runs to the close; none for an answer to HEAD).
fn parse_answer(buf: &[u8], closed: bool, head_only: bool) -> Option<Answer> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).expect("answer head is UTF-8");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    assert!(
        status_line.starts_with("HTTP/1.1 ") || status_line.starts_with("HTTP/1.0 "),
        "status line {status_line:?}"
    );
    let status: u16 = status_line[9..12].parse().expect("status code");
    if (100..200).contains(&status) {
        // An interim answer (100 Continue): the final one follows.
        return parse_answer(&buf[end + 4..], closed, head_only);
    }
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').expect("header line");
            (k.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    let get = |k: &str| {
        headers
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    let rest = &buf[end + 4..];
    let body = if head_only {
        Vec::new()
    } else if let Some(n) = get("content-length") {
        let n: usize = n.parse().expect("content-length");
        if rest.len() < n {
            return None;
        }
        rest[..n].to_vec()
    } else if get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut out = Vec::new();
        let mut r = rest;
        loop {
            let line_end = r.windows(2).position(|w| w == b"\r\n")?;
            let size = usize::from_str_radix(
                std::str::from_utf8(&r[..line_end])
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap()
                    .trim(),
                16,
            )
            .expect("chunk size");
            r = &r[line_end + 2..];
            if size == 0 {
                break;
            }
            if r.len() < size + 2 {
                return None;
            }
            out.extend_from_slice(&r[..size]);
            r = &r[size + 2..];
        }
        out
    } else if closed || status == 204 || status == 304 {
        rest.to_vec()
    } else {
        return None;
    };
    Some(Answer {
        status,
        headers,
        body,
    })
}

/// Sends `request` on a new connection and reads the first answer; `None` if the bridge closed
/// the connection without one (what it does with garbage that is not HTTP, or a head that
/// never ends).
fn send_raw(request: &[u8]) -> Option<Answer> {
    let s = server();
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // The bridge may answer (and close) before it has read everything.
    let _ = c.write_all(request);
    let head_only = request.starts_with(b"HEAD ");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let t = Instant::now();
    loop {
        match c.read(&mut chunk) {
            Ok(0) => return parse_answer(&buf, true, head_only),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if let Some(a) = parse_answer(&buf, false, head_only) {
                    return Some(a);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return parse_answer(&buf, true, head_only),
        }
        assert!(
            t.elapsed() < ANSWER_WITHIN,
            "no answer and no close after {ANSWER_WITHIN:?} to {:?}; got {:?}",
            String::from_utf8_lossy(request),
            String::from_utf8_lossy(&buf)
        );
    }
}

/// What every answer must be, whatever was asked.
fn check_answer(a: &Answer, what: &str, head_only: bool) {
    assert!(
        a.status != 500,
        "500 to {what}: {}",
        String::from_utf8_lossy(&a.body)
    );
    assert!(
        (100..600).contains(&a.status),
        "{what}: status {}",
        a.status
    );
    let ctype = a
        .headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.as_str());
    if a.status >= 400 {
        // Refusals of the bridge are JSON in the OpenAI shape; hyper's own answers to heads it
        // cannot parse (400, 431, 505) carry no body.
        if a.body.is_empty() && head_only {
            // An answer to HEAD has no body.
        } else if a.body.is_empty() {
            assert!(
                matches!(a.status, 400 | 408 | 413 | 414 | 431 | 501 | 505),
                "{what}: empty {} answer",
                a.status
            );
        } else {
            assert_eq!(ctype, Some("application/json"), "{what}: {}", a.status);
            let v: Value = serde_json::from_slice(&a.body).expect("error body is JSON");
            assert!(
                v["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
                    && v["error"]["code"].is_string(),
                "{what}: {v}"
            );
        }
    }
}

/// A client that opens a new connection for each request: the fuzz bridge closes idle
/// keep-alive connections after 3 s, and a pooled one reused just then would fail.
fn client() -> &'static reqwest::Client {
    static C: OnceLock<reqwest::Client> = OnceLock::new();
    C.get_or_init(|| {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(ANSWER_WITHIN)
            .build()
            .unwrap()
    })
}

fn request(method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    let s = server();
    client().request(method, s.url(path)).bearer_auth(&s.token)
}

/// The bridge still serves, and nothing stays counted as running or waiting.
fn check_healthy() {
    runtime().block_on(async {
        let t = Instant::now();
        loop {
            let h: Value = request(reqwest::Method::GET, "/v1/health")
                .send()
                .await
                .expect("the bridge still answers")
                .json()
                .await
                .unwrap();
            assert_eq!(h["status"], "ok");
            if h["active_streams"] == 0 && h["waiting_streams"] == 0 {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(60), "streams left: {h}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Speech some case queued stops; the queue must be free for the next case.
        request(reqwest::Method::POST, "/v1/stop")
            .send()
            .await
            .unwrap();
    });
}

const PATHS: &[&str] = &[
    "/v1/health",
    "/v1/version",
    "/v1/voices",
    "/v1/state",
    "/v1/speak",
    "/v1/stop",
    "/v1/pause",
    "/v1/resume",
    "/v1/skip",
    "/v1/previous",
    "/v1/synthesize",
    "/v1/audio/speech",
    "/v1/audio/voices",
    "/v1/models",
    "/",
    "/v1",
    "/v1/",
    "/v1/health?x=1",
    "/v1//health",
    "/v1/../v1/health",
    "/v1/%68ealth",
    "*",
    "http://127.0.0.1/v1/health",
];

const HEADER_NAMES: &[&str] = &[
    "Host",
    "Authorization",
    "Origin",
    "Content-Type",
    "Content-Length",
    "Transfer-Encoding",
    "Connection",
    "Expect",
    "Access-Control-Request-Method",
    "Access-Control-Request-Private-Network",
    "Accept",
    "X-Forwarded-For",
    "Upgrade",
];

/// A header value: the right one for the server (so requests get past the gates), a near
/// miss, or anything.
fn header_value(name: &'static str) -> BoxedStrategy<String> {
    let s = server();
    let right: Vec<String> = match name {
        "Host" => vec![
            format!("127.0.0.1:{}", s.port),
            format!("localhost:{}", s.port),
        ],
        "Authorization" => vec![format!("Bearer {}", s.token)],
        "Origin" => vec![format!("chrome-extension://{EXTENSION_ID}")],
        "Content-Type" => vec![
            "application/json".into(),
            "application/json; charset=utf-8".into(),
        ],
        "Transfer-Encoding" => vec!["chunked".into(), "gzip, chunked".into(), "identity".into()],
        "Content-Length" => vec![
            "0".into(),
            "2".into(),
            "100".into(),
            "99999999999".into(),
            "-1".into(),
            "1, 1".into(),
        ],
        "Connection" => vec!["close".into(), "keep-alive".into(), "upgrade".into()],
        "Expect" => vec!["100-continue".into()],
        _ => vec!["true".into(), "*".into()],
    };
    prop_oneof![
        3 => prop::sample::select(right),
        1 => "[ -~]{0,40}",
        1 => prop::collection::vec(any::<u8>(), 0..24)
            .prop_map(|b| b.iter().map(|&c| if c == b'\r' || c == b'\n' { ' ' } else { c as char }).collect()),
    ]
    .boxed()
}

/// A raw request: a method, a path, a version, headers (mostly the right ones) and a body.
fn raw_request() -> impl Strategy<Value = Vec<u8>> {
    let method = prop_oneof![
        4 => prop::sample::select(vec!["GET", "POST", "OPTIONS", "HEAD", "PUT", "DELETE"]).prop_map(str::to_string),
        1 => "[A-Za-z]{0,10}",
    ];
    let path = prop_oneof![
        4 => prop::sample::select(PATHS.to_vec()).prop_map(str::to_string),
        1 => "/[ -~]{0,30}",
    ];
    let version = prop_oneof![
        8 => Just("HTTP/1.1".to_string()),
        1 => prop::sample::select(vec!["HTTP/1.0", "HTTP/2.0", "HTTP/1.1x", "", "HTTP/9"]).prop_map(str::to_string),
    ];
    let names: Vec<&'static str> = HEADER_NAMES.to_vec();
    let header =
        prop::sample::select(names).prop_flat_map(|n| (Just(n.to_string()), header_value(n)));
    let odd_header = ("[!-~]{1,20}", "[ -~]{0,20}");
    let headers = prop::collection::vec(prop_oneof![6 => header, 1 => odd_header], 0..10);
    let body = prop_oneof![
        json_body().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..64),
    ];
    (
        method,
        path,
        version,
        headers,
        body,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(method, path, version, headers, body, fix_length, gates)| {
                let s = server();
                let mut r = format!("{method} {path} {version}\r\n").into_bytes();
                if gates {
                    r.extend(
                        format!(
                            "Host: 127.0.0.1:{}\r\nAuthorization: Bearer {}\r\n",
                            s.port, s.token
                        )
                        .into_bytes(),
                    );
                }
                for (k, v) in headers {
                    r.extend(format!("{k}: ").into_bytes());
                    r.extend(v.chars().map(|c| c as u32 as u8));
                    r.extend(b"\r\n");
                }
                if fix_length {
                    r.extend(format!("Content-Length: {}\r\n", body.len()).into_bytes());
                }
                r.extend(b"\r\n");
                r.extend(body);
                r
            },
        )
}

/// Text: markup, any Unicode, words, numbers.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "<speak>",
            "</speak>",
            "<break time=\"1s\"/>",
            "<emphasis>",
            "</emphasis>",
            "<say-as interpret-as=\"characters\">",
            "</say-as>",
            "&amp;",
            "&#x1F600;",
            "<!--",
            "-->",
            "[Kokoro](/kˈOkəɹO/)",
            "[x](#)",
            "](",
            " ",
            "\n",
            "Hello",
            "world.",
            "$3.50",
            "12:30",
            "中文",
            "東京",
            "नमस्ते",
            "\u{0}",
            "\u{202E}",
            "👩‍👩‍👧",
            "",
        ])
        .prop_map(str::to_string),
        "\\PC{1,6}",
        ".{1,6}",
        "[a-z]{1,8}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
}

/// Any JSON value, small.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        (-1.0f64..5.0).prop_map(|f| json!(f)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The fields the endpoints know, with values of the right kind or not.
fn json_body() -> impl Strategy<Value = Value> {
    let field = prop_oneof![
        (
            Just("text"),
            prop_oneof![4 => text().prop_map(Value::String), 1 => any_json()]
        ),
        (
            Just("input"),
            prop_oneof![4 => text().prop_map(Value::String), 1 => any_json()]
        ),
        (
            Just("voice"),
            prop_oneof![
                3 => prop::sample::select(vec!["af_heart", "alloy", "nova", "af_heart:0.6+af_bella:0.4",
                    "af_heart:0+af_bella:0", "af_heart:-1", "af_heart:nan", "+", ":", "zz_none", ""])
                    .prop_map(|v| json!(v)),
                1 => any_json(),
            ]
        ),
        (
            Just("speed"),
            prop_oneof![(0.0f64..5.0).prop_map(|f| json!(f)), any_json()]
        ),
        (
            Just("model"),
            prop_oneof![
                prop::sample::select(vec!["tts-1", "kokoro", "gpt-4o-mini-tts", "x"])
                    .prop_map(|v| json!(v)),
                any_json(),
            ]
        ),
        (
            Just("response_format"),
            prop_oneof![
                prop::sample::select(vec!["mp3", "opus", "flac", "wav", "pcm", "aac", ""])
                    .prop_map(|v| json!(v)),
                any_json(),
            ]
        ),
        (
            Just("format"),
            prop_oneof![
                prop::sample::select(vec!["wav", "pcm", "pcm_s16le", "f32le", "mp3"])
                    .prop_map(|v| json!(v)),
                any_json(),
            ]
        ),
        (Just("stream"), any_json()),
        (
            Just("stream_format"),
            prop_oneof![Just(json!("audio")), Just(json!("sse")), any_json()]
        ),
        (Just("id"), any_json()),
        (Just("unknown"), any_json()),
    ];
    prop_oneof![
        6 => prop::collection::vec(field, 0..7)
            .prop_map(|fs| Value::Object(fs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        1 => any_json(),
    ]
}

const JSON_ENDPOINTS: &[&str] = &[
    "/v1/speak",
    "/v1/synthesize",
    "/v1/audio/speech",
    "/v1/stop",
    "/v1/health",
    "/v1/pause",
    "/v1/resume",
];

/// Posts `body` with the token and checks the answer.
fn post_json(path: &str, body: &[u8]) {
    let (status, ctype, bytes) = runtime().block_on(async {
        let resp = request(reqwest::Method::POST, path)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .timeout(ANSWER_WITHIN)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path} {}: {e:?}", String::from_utf8_lossy(body)));
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = resp.bytes().await.expect("the whole answer");
        (status, ctype, bytes)
    });
    let what = format!("{path} {}", String::from_utf8_lossy(body));
    let a = Answer {
        status,
        headers: ctype
            .iter()
            .map(|c| ("content-type".to_string(), c.clone()))
            .collect(),
        body: bytes.to_vec(),
    };
    check_answer(&a, &what, false);
    assert!(
        matches!(status, 200 | 400 | 413 | 422 | 429),
        "{what}: status {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    if status == 200 && (path == "/v1/synthesize" || path == "/v1/audio/speech") {
        let ct = ctype.unwrap_or_default();
        assert!(
            ct.starts_with("audio/") || ct == "application/octet-stream",
            "{what}: content-type {ct}"
        );
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn raw_requests(req in raw_request()) {
        if let Some(a) = send_raw(&req) {
            check_answer(&a, &String::from_utf8_lossy(&req), req.starts_with(b"HEAD "));
        }
        check_healthy();
    }

    #[test]
    fn json_bodies(path in prop::sample::select(JSON_ENDPOINTS.to_vec()), body in json_body()) {
        post_json(path, &serde_json::to_vec(&body).unwrap());
        check_healthy();
    }

    #[test]
    fn broken_json_bodies(path in prop::sample::select(JSON_ENDPOINTS.to_vec()),
                          body in json_body(), cut in any::<prop::sample::Index>(),
                          junk in prop::collection::vec(any::<u8>(), 0..8)) {
        let mut b = serde_json::to_vec(&body).unwrap();
        let at = cut.index(b.len() + 1);
        b.truncate(at);
        b.extend(junk);
        post_json(path, &b);
        check_healthy();
    }

    #[test]
    fn native_messaging_frames(frames in prop::collection::vec(nm_frame(), 0..6),
                               origin in nm_origin(), tail in prop::collection::vec(any::<u8>(), 0..6)) {
        let mut input = Vec::new();
        for f in &frames {
            input.extend_from_slice(f);
        }
        input.extend(tail);
        check_native_host(&input, origin.as_deref());
    }

    #[test]
    fn native_messaging_bytes(input in prop::collection::vec(any::<u8>(), 0..64), origin in nm_origin()) {
        check_native_host(&input, origin.as_deref());
    }
}

/// One native messaging frame: a length and JSON (or not), the length right or not.
fn nm_frame() -> impl Strategy<Value = Vec<u8>> {
    let payload = prop_oneof![
        4 => prop::sample::select(vec![
            json!({"type": "pair"}), json!({"type": "ping"}), json!({"type": "x"}),
            json!({"type": 1}), json!({}), json!([]), json!(null), json!("pair"),
            json!({"type": "pair", "extra": [1, 2, 3]}),
        ])
        .prop_map(|v| v.to_string().into_bytes()),
        2 => any_json().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..32),
    ];
    let length = prop_oneof![
        8 => Just(None),
        1 => prop::sample::select(vec![0u32, 1, (MAX_MESSAGE + 1) as u32, u32::MAX]).prop_map(Some),
        1 => any::<u32>().prop_map(Some),
    ];
    (payload, length).prop_map(|(p, len)| {
        let n = len.unwrap_or(p.len() as u32);
        let mut f = n.to_ne_bytes().to_vec();
        f.extend(p);
        f
    })
}

fn nm_origin() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(Some(format!("chrome-extension://{EXTENSION_ID}/"))),
        Just(Some(
            "chrome-extension://abcdefghijklmnopabcdefghijklmnop/".to_string()
        )),
        Just(Some("https://evil.example".to_string())),
        Just(None),
        ".{0,40}".prop_map(Some),
    ]
}

/// Runs the host on `input` and checks what it wrote.
fn check_native_host(input: &[u8], origin: Option<&str>) {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    let host = Host {
        config_dir: dir.path().into(),
        port: 7723,
        allowed_extension_ids: Vec::new(),
    };
    let allowed = origin
        .and_then(|o| o.strip_prefix("chrome-extension://"))
        .map(|id| id.trim_end_matches('/'))
        == Some(EXTENSION_ID);
    // What a faithful reader of the input sees: the complete frames up to the first that
    // cannot be followed (oversize, cut short).
    let mut expected = 0usize;
    let mut clean_end = true;
    let mut r = input;
    loop {
        if r.len() < 4 {
            break;
        }
        let n = u32::from_ne_bytes([r[0], r[1], r[2], r[3]]) as usize;
        if n > MAX_MESSAGE || r.len() < 4 + n {
            clean_end = false;
            break;
        }
        expected += 1;
        r = &r[4 + n..];
    }
    let mut out = Vec::new();
    let result = host.serve(origin, &mut &input[..], &mut out);
    assert_eq!(result.is_ok(), clean_end, "input {input:?}: {result:?}");
    let mut answers = Vec::new();
    let mut o = out.as_slice();
    while let Some(v) = read_message(&mut o).expect("the host writes well-formed frames") {
        answers.push(v);
    }
    assert_eq!(
        answers.len(),
        expected,
        "one answer per complete frame: {answers:?}"
    );
    for a in &answers {
        let t = a["type"].as_str().expect("every answer has a type");
        assert!(["paired", "pong", "error"].contains(&t), "{a}");
        if !allowed {
            assert_eq!(t, "error", "{origin:?} got {a}");
        }
        if t == "paired" {
            assert!(a["token"].as_str().is_some_and(|t| t.len() >= 16), "{a}");
        }
        if t == "error" {
            assert!(a["message"].as_str().is_some_and(|m| !m.is_empty()), "{a}");
            assert!(a.get("token").is_none());
        }
    }
}

fn corpus_files(ext: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fuzz-corpus")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// The kept corpus: raw requests and native messaging input.
#[test]
fn corpus() {
    let s = server();
    let http = corpus_files("http");
    assert!(http.len() >= 8, "{} request seeds", http.len());
    for f in http {
        let text = std::fs::read(&f).unwrap();
        let text = String::from_utf8_lossy(&text)
            .replace("{HOST}", &format!("127.0.0.1:{}", s.port))
            .replace("{TOKEN}", &s.token);
        // Seeds are written with bare newlines; requests use CRLF unless the seed says raw.
        let req = if f.to_string_lossy().contains("raw-") {
            text.into_bytes()
        } else {
            text.replace("\r\n", "\n")
                .replace('\n', "\r\n")
                .into_bytes()
        };
        if let Some(a) = send_raw(&req) {
            check_answer(&a, &f.display().to_string(), req.starts_with(b"HEAD "));
        }
        check_healthy();
    }
    let nm = corpus_files("nm");
    assert!(nm.len() >= 3, "{} native messaging seeds", nm.len());
    for f in nm {
        let input = std::fs::read(&f).unwrap();
        for origin in [
            Some(format!("chrome-extension://{EXTENSION_ID}/")),
            Some("https://evil.example".into()),
            None,
        ] {
            check_native_host(&input, origin.as_deref());
        }
    }
}
