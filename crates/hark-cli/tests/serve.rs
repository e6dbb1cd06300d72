//! `hark serve` as a process: it stops within 2 s of SIGINT whatever clients do, its memory
//! stays bounded under 1,000 queued speaks and 16 slow-reading audio streams, it reads the
//! app's settings field by field, and it installs the native messaging host that hands the
//! token to hark's extension. Uses the tiny random model (the lexicons must be installed).

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The asset dir, with its lexicons checked (the tiny model needs nothing else).
fn assets() -> PathBuf {
    hark_testkit::lexicons();
    hark_testkit::assets_dir()
}

struct Serve {
    child: Child,
    port: u16,
    token: String,
    cfg: tempfile::TempDir,
    hosts: PathBuf,
    log: Arc<Mutex<String>>,
}

impl Serve {
    fn start(settings: Option<&str>) -> Serve {
        let cfg = tempfile::tempdir().unwrap();
        if let Some(s) = settings {
            std::fs::write(cfg.path().join("settings.json"), s).unwrap();
        }
        let hosts = cfg.path().join("browser/NativeMessagingHosts");
        let mut child = Command::new(env!("CARGO_BIN_EXE_hark"))
            .args(["--assets"])
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
            .env("HARK_NATIVE_HOST_DIRS", &hosts)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hark serve starts");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if let Some(rest) = line.split("serving on http://127.0.0.1:").nth(1) {
                    let port: u16 = rest.split(' ').next().unwrap().parse().unwrap();
                    let _ = tx.send(port);
                }
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let port = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(p) => p,
            Err(_) => panic!("hark serve did not start:\n{}", log.lock().unwrap()),
        };
        let token = std::fs::read_to_string(cfg.path().join(hark_settings::TOKEN_FILE))
            .unwrap()
            .trim()
            .to_string();
        Serve {
            child,
            port,
            token,
            cfg,
            hosts,
            log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Resident memory of the server process, MB.
    fn rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap();
        kb / 1024.0
    }

    fn sigint(&self) {
        let ok = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Waits for the process to end; returns how long that took and whether it succeeded.
    fn wait_exit(&mut self, limit: Duration) -> (Duration, bool) {
        let t = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (t.elapsed(), status.success());
            }
            if t.elapsed() > limit {
                let _ = self.child.kill();
                panic!(
                    "hark serve still running {limit:?} after SIGINT:\n{}",
                    self.log.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .unwrap()
}

/// 300 half-open connections (some mid-request), an open event stream and an audio stream
/// nobody reads, then SIGINT: the process exits, successfully, in under 2 s.
#[test]
fn sigint_with_300_half_open_connections_exits_within_2_s() {
    let mut s = Serve::start(None);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = client();
    let (events, unread) = rt.block_on(async {
        let events = c
            .get(s.url("/v1/events"))
            .bearer_auth(&s.token)
            .send()
            .await
            .unwrap();
        assert_eq!(events.status(), 200);
        let unread = c
            .post(s.url("/v1/synthesize"))
            .bearer_auth(&s.token)
            .json(&json!({"text": "Nobody reads this. ".repeat(2000), "format": "pcm_f32le"}))
            .send()
            .await
            .unwrap();
        assert_eq!(unread.status(), 200);
        (events, unread)
    });
    let mut held = Vec::new();
    for i in 0..300 {
        let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        if i % 2 == 0 {
            let _ = c.write_all(b"POST /v1/speak HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le");
        }
        held.push(c);
    }
    std::thread::sleep(Duration::from_millis(300));
    s.sigint();
    let (took, ok) = s.wait_exit(Duration::from_secs(10));
    eprintln!(
        "hark serve exited {took:?} after SIGINT (300 half-open connections, 2 open streams)"
    );
    assert!(ok, "exit status: {}", s.log.lock().unwrap());
    assert!(took < Duration::from_secs(2), "took {took:?}");
    drop((events, unread, held));
}

/// 1,000 speaks of 100,000 characters: 32 are queued, the rest get 429, and memory does not
/// grow with them. Then 16 clients ask for long audio and read it slowly: 2 streams run, 14
/// wait their turn, and memory stays flat while the readers lag.
#[test]
fn queued_speaks_and_slow_streams_keep_memory_bounded() {
    let s = Serve::start(None);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = client();
    let text = "A sentence that takes a while to say, and then another one. ".repeat(1600);
    assert!(text.chars().count() <= 100_000);
    rt.block_on(async {
        // Warm up: one short synthesis, so the baseline includes the engine's working set.
        let r = c
            .post(s.url("/v1/synthesize"))
            .bearer_auth(&s.token)
            .json(&json!({"text": "Warm up."}))
            .send()
            .await
            .unwrap();
        r.bytes().await.unwrap();
    });
    let base = s.rss_mb();
    let (mut ok, mut full) = (0, 0);
    rt.block_on(async {
        for i in 0..1000 {
            let r = c
                .post(s.url("/v1/speak"))
                .bearer_auth(&s.token)
                .json(&json!({ "text": text }))
                .send()
                .await
                .unwrap();
            match r.status().as_u16() {
                200 => ok += 1,
                429 => {
                    let v: Value = r.json().await.unwrap();
                    assert_eq!(v["error"]["code"], "queue_full");
                    full += 1;
                }
                other => panic!("speak {i}: {other}"),
            }
        }
    });
    let after_speaks = s.rss_mb();
    eprintln!("1000 speaks of 100k chars: {ok} queued, {full} refused; RSS {base:.0} -> {after_speaks:.0} MB");
    assert!((32..=40).contains(&ok), "{ok} accepted");
    assert!(full >= 960);
    assert!(
        after_speaks - base < 64.0,
        "RSS grew {:.0} MB",
        after_speaks - base
    );
    rt.block_on(async {
        c.post(s.url("/v1/stop"))
            .bearer_auth(&s.token)
            .send()
            .await
            .unwrap();
    });

    // 16 slow readers.
    let before = s.rss_mb();
    let peak = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (c, url, token, text) = (
                c.clone(),
                s.url("/v1/synthesize"),
                s.token.clone(),
                text.clone(),
            );
            tasks.push(tokio::spawn(async move {
                c.post(url)
                    .bearer_auth(token)
                    .json(&json!({"text": text, "format": "pcm_f32le"}))
                    .send()
                    .await
                    .unwrap()
            }));
        }
        // Two run; the other 14 wait in line (it holds 32) until a stream ends.
        let t = Instant::now();
        loop {
            let h: Value = c
                .get(s.url("/v1/health"))
                .bearer_auth(&s.token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let answered = tasks.iter().filter(|t| t.is_finished()).count();
            if answered == 2 && h["active_streams"] == 2 && h["waiting_streams"] == 14 {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "{answered} answered; {h}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut running = Vec::new();
        let mut waiting = Vec::new();
        for t in tasks {
            if t.is_finished() {
                let r = t.await.unwrap();
                assert_eq!(r.status(), 200);
                running.push(r);
            } else {
                waiting.push(t);
            }
        }
        // Read 4 KB every 50 ms (far slower than the synthesis) for 8 s.
        let mut peak = 0.0f64;
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(8) {
            for r in &mut running {
                let _ = tokio::time::timeout(Duration::from_millis(20), r.chunk()).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            peak = peak.max(s.rss_mb());
        }
        for w in waiting {
            w.abort();
        }
        peak
    });
    eprintln!("16 slow-reading streams: RSS {before:.0} MB before, peak {peak:.0} MB over 8 s");
    assert!(peak - before < 64.0, "RSS grew {:.0} MB", peak - before);
}

/// The app's settings are read field by field (a bad speed does not lose the allowlist), and
/// the native messaging host is installed: its manifest names hark's extension and the
/// allowlisted one, and the launcher it points at pairs an allowlisted extension only.
#[test]
fn settings_fields_and_native_host() {
    let other = "abcdefghijklmnopabcdefghijklmnop";
    let s = Serve::start(Some(&format!(
        r#"{{"version":1,"speed":9,"bridge":{{"allowed_extension_ids":["{other}","bad id"]}}}}"#
    )));
    assert!(
        s.log.lock().unwrap().contains("speed"),
        "{}",
        s.log.lock().unwrap()
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = client();
    rt.block_on(async {
        let r = c
            .post(s.url("/v1/voices"))
            .bearer_auth(&s.token)
            .header("origin", format!("chrome-extension://{other}"))
            .header("content-type", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "the allowlisted id from settings.json is let in"
        );
    });
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(s.hosts.join("io.github.hark_tts.hark.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        manifest["allowed_origins"],
        json!([
            format!("chrome-extension://{}/", hark_bridge::EXTENSION_ID),
            format!("chrome-extension://{other}/")
        ])
    );
    let launcher = PathBuf::from(manifest["path"].as_str().unwrap());
    assert!(launcher.starts_with(s.cfg.path()));
    let pair =
        |origin: &str| -> Value { native_exchange(&launcher, origin, &json!({"type": "pair"})) };
    let got = pair(&format!(
        "chrome-extension://{}/",
        hark_bridge::EXTENSION_ID
    ));
    assert_eq!(got["type"], "paired");
    assert_eq!(got["token"], s.token.as_str());
    assert_eq!(got["port"], s.port);
    let got = pair("chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba/");
    assert_eq!(got["type"], "error");
    assert!(got.get("token").is_none());
}

/// Runs the native host as the browser does (the origin as argument, one framed message on
/// stdin) and returns its one answer.
fn native_exchange(launcher: &Path, origin: &str, msg: &Value) -> Value {
    let mut child = Command::new(launcher)
        .arg(origin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let bytes = serde_json::to_vec(msg).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(&(bytes.len() as u32).to_ne_bytes())
        .unwrap();
    stdin.write_all(&bytes).unwrap();
    drop(stdin);
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    assert!(child.wait().unwrap().success());
    let n = u32::from_ne_bytes(out[..4].try_into().unwrap()) as usize;
    assert_eq!(
        out.len(),
        4 + n,
        "exactly one message, nothing else on stdout"
    );
    serde_json::from_slice(&out[4..]).unwrap()
}
