//! Hugging Face source and resumable downloads against a real local HTTP server.

use super::*;
use crate::fetch::http::{download, Expect};
use crate::fetch::testserver::Server;
use crate::fetch::{fetch, FetchOptions, Progress, Source};
use crate::layout::{AssetDir, ManifestEntry, LEXICON_FILES};
use crate::pth::tests::PickleWriter;

fn body(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn download_succeeds_with_progress() {
    let srv = Server::start();
    let data = body(700_000);
    srv.put("/f.bin", data.clone());
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("dl/f.bin");
    let sha = util::sha256_hex(&data);
    let mut events = Vec::new();
    let url = format!("{}/f.bin", srv.base);
    let exp = Expect {
        size: Some(data.len() as u64),
        sha256: Some(&sha),
    };
    download(&http::agent(), &url, &dest, &exp, "f.bin", &mut |p| {
        events.push(p)
    })
    .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert_eq!(
        events.first(),
        Some(&Progress::Start {
            what: "f.bin".into(),
            total_bytes: Some(700_000)
        })
    );
    assert_eq!(
        events.last(),
        Some(&Progress::Done {
            what: "f.bin".into()
        })
    );
    let advanced: u64 = events
        .iter()
        .map(|e| {
            if let Progress::Advance { bytes, .. } = e {
                *bytes
            } else {
                0
            }
        })
        .sum();
    assert_eq!(advanced, 700_000);
    assert!(!dest.with_file_name("f.bin.part").exists());
    // a verified file on disk is reused without a request
    let before = srv.requests().len();
    download(&http::agent(), &url, &dest, &exp, "f.bin", &mut |_| {}).unwrap();
    assert_eq!(srv.requests().len(), before);
}

#[test]
fn checksum_mismatch_deletes_and_names_the_file() {
    let srv = Server::start();
    srv.put("/voices/x.pt", body(1000));
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("x.pt");
    let wrong = "00".repeat(32);
    let url = format!("{}/voices/x.pt", srv.base);
    let err = download(
        &http::agent(),
        &url,
        &dest,
        &Expect {
            size: Some(1000),
            sha256: Some(&wrong),
        },
        "x",
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, Error::Checksum { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("voices/x.pt") && msg.contains(&wrong), "{msg}");
    assert!(!dest.exists() && !tmp.path().join("x.pt.part").exists());
}

#[test]
fn truncated_download_resumes_with_range() {
    let srv = Server::start();
    let data = body(500_000);
    srv.put("/big", data.clone());
    srv.state
        .lock()
        .unwrap()
        .truncate_next
        .insert("/big".into(), 123_457);
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("big");
    let sha = util::sha256_hex(&data);
    let url = format!("{}/big", srv.base);
    let exp = Expect {
        size: Some(500_000),
        sha256: Some(&sha),
    };
    let err = download(&http::agent(), &url, &dest, &exp, "big", &mut |_| {}).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Truncated {
                got: 123_457,
                expected: 500_000,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("/big"));
    assert!(!dest.exists());
    assert_eq!(
        std::fs::metadata(tmp.path().join("big.part"))
            .unwrap()
            .len(),
        123_457
    );

    let mut resumed_at = None;
    download(&http::agent(), &url, &dest, &exp, "big", &mut |p| {
        if let (None, Progress::Advance { bytes, .. }) = (resumed_at, &p) {
            resumed_at = Some(*bytes);
        }
    })
    .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert_eq!(
        resumed_at,
        Some(123_457),
        "progress first reports the bytes already present"
    );
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].1, None);
    assert_eq!(reqs[1].1.as_deref(), Some("bytes=123457-"));
}

#[test]
fn server_ignoring_range_restarts_from_zero() {
    let srv = Server::start();
    let data = body(300_000);
    srv.put("/f", data.clone());
    {
        let mut st = srv.state.lock().unwrap();
        st.ignore_range = true;
        st.truncate_next.insert("/f".into(), 50_000);
    }
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    let sha = util::sha256_hex(&data);
    let url = format!("{}/f", srv.base);
    let exp = Expect {
        size: Some(300_000),
        sha256: Some(&sha),
    };
    assert!(download(&http::agent(), &url, &dest, &exp, "f", &mut |_| {}).is_err());
    download(&http::agent(), &url, &dest, &exp, "f", &mut |_| {}).unwrap();
    // had the 200 body been appended to the partial file, size and hash would be wrong
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert_eq!(srv.requests()[1].1.as_deref(), Some("bytes=50000-"));
}

#[test]
fn not_found_is_clear() {
    let srv = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("{}/nope.pt", srv.base);
    let err = download(
        &http::agent(),
        &url,
        &tmp.path().join("n"),
        &Expect {
            size: None,
            sha256: None,
        },
        "n",
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("404") && err.to_string().contains("/nope.pt"));
}

fn voice_pt(seed: f32) -> Vec<f32> {
    (0..510 * 256).map(|i| seed + i as f32 * 1e-4).collect()
}

/// Serve a Kokoro-like repository with the given voices.
fn serve_repo(srv: &Server, voices: &[(&str, Vec<f32>)]) {
    let tmp = tempfile::tempdir().unwrap();
    let mut listing = Vec::new();
    for (name, data) in voices {
        let p = tmp.path().join(format!("{name}.pt"));
        let mut w = PickleWriter::new();
        w.tensor(&[510, 1, 256], data.clone());
        w.finish(&p);
        let bytes = std::fs::read(&p).unwrap();
        listing.push(serde_json::json!({
            "type": "file", "path": format!("voices/{name}.pt"), "size": bytes.len(), "oid": "abc",
            "lfs": {"oid": util::sha256_hex(&bytes), "size": bytes.len()}
        }));
        srv.put(
            &format!("/hexgrad/Kokoro-82M/resolve/main/voices/{name}.pt"),
            bytes,
        );
    }
    listing.push(
        serde_json::json!({"type": "directory", "path": "voices/sub", "size": 0, "oid": "d"}),
    );
    srv.put(
        "/api/models/hexgrad/Kokoro-82M/tree/main/voices",
        serde_json::to_vec(&listing).unwrap(),
    );
}

fn raw(data: &[f32]) -> Vec<u8> {
    data.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn fetch_falls_back_to_hugging_face_for_voices_and_skips_verified_groups() {
    let srv = Server::start();
    let (a, b) = (voice_pt(0.5), voice_pt(-1.0));
    serve_repo(&srv, &[("af_alpha", a.clone()), ("bm_beta", b.clone())]);

    let tmp = tempfile::tempdir().unwrap();
    let dir = AssetDir::at(tmp.path().join("assets"));
    // weights, config and lexicons already installed and recorded: those groups are skipped
    let mut m = crate::layout::Manifest::new();
    let mut pre: Vec<String> = vec![
        crate::layout::WEIGHTS_FILE.into(),
        crate::layout::CONFIG_FILE.into(),
    ];
    pre.extend(LEXICON_FILES.iter().map(|f| format!("lexicons/{f}")));
    for rel in &pre {
        let bytes = format!("stand-in for {rel}").into_bytes();
        util::write_atomic(&dir.root().join(rel), &bytes).unwrap();
        m.insert(
            rel.clone(),
            ManifestEntry {
                sha256: util::sha256_hex(&bytes),
                bytes: bytes.len() as u64,
                source: "test".into(),
            },
        );
    }
    dir.write_manifest(&m).unwrap();

    let opts = FetchOptions {
        sources: vec![
            // nothing listens on port 1: fails at once, the next source is tried
            Source::HuggingFace {
                endpoint: "http://127.0.0.1:1".into(),
            },
            Source::HuggingFace {
                endpoint: srv.base.clone(),
            },
        ],
        force: false,
        voices: Some(vec!["bm_beta".into(), "af_alpha".into()]),
    };
    let mut notes = Vec::new();
    let report = fetch(&dir, &opts, &mut |p| {
        if let Progress::Note(n) = p {
            notes.push(n)
        }
    })
    .unwrap();
    assert_eq!(
        report.skipped,
        vec!["weights".to_string(), "lexicons".to_string()]
    );
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("127.0.0.1:1") && n.contains("trying the next source")),
        "{notes:?}"
    );
    assert_eq!(std::fs::read(dir.voice_path("af_alpha")).unwrap(), raw(&a));
    assert_eq!(std::fs::read(dir.voice_path("bm_beta")).unwrap(), raw(&b));
    assert_eq!(
        dir.list_voices().unwrap(),
        vec!["af_alpha".to_string(), "bm_beta".to_string()]
    );
    let man = dir.read_manifest().unwrap();
    assert!(man["voices/af_alpha.bin"]
        .source
        .ends_with("/voices/af_alpha.pt"));
    dir.verify().unwrap();

    // second run: nothing downloaded
    let before = srv.requests().len();
    let report = fetch(&dir, &opts, &mut |_| {}).unwrap();
    assert_eq!(report.skipped.len(), 3);
    assert!(report.installed.is_empty());
    assert_eq!(srv.requests().len(), before);

    // an unknown voice fails every source and says so
    let opts = FetchOptions {
        voices: Some(vec!["xx_none".into()]),
        sources: vec![Source::HuggingFace {
            endpoint: srv.base.clone(),
        }],
        force: false,
    };
    let err = fetch(&dir, &opts, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("xx_none") && err.contains("voices"), "{err}");
}

#[test]
fn hugging_face_weights_download_and_convert() {
    // A tiny (non-Kokoro) checkpoint: download and sha256 check pass, the canonical-table check
    // then rejects it, naming a missing tensor, and nothing is installed.
    let srv = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("k.pth");
    let mut w = PickleWriter::new();
    w.state_dicts(&[(
        "bert",
        vec![(
            "module.embeddings.LayerNorm.weight".into(),
            vec![2],
            vec![1.0, 1.0],
        )],
    )]);
    w.finish(&p);
    let ck = std::fs::read(&p).unwrap();
    let cfg = crate::layout::EMBEDDED_CONFIG.as_bytes().to_vec();
    let listing = serde_json::json!([
        {"type": "file", "path": "config.json", "size": cfg.len(), "oid": "x"},
        {"type": "file", "path": "kokoro-v1_0.pth", "size": ck.len(), "oid": "y",
         "lfs": {"oid": util::sha256_hex(&ck), "size": ck.len()}},
    ]);
    srv.put(
        "/api/models/hexgrad/Kokoro-82M/tree/main",
        serde_json::to_vec(&listing).unwrap(),
    );
    srv.put("/hexgrad/Kokoro-82M/resolve/main/config.json", cfg);
    srv.put(
        "/hexgrad/Kokoro-82M/resolve/main/kokoro-v1_0.pth",
        ck.clone(),
    );
    let dir = AssetDir::at(tmp.path().join("a"));
    let opts = FetchOptions {
        sources: vec![Source::HuggingFace {
            endpoint: srv.base.clone(),
        }],
        force: false,
        voices: Some(vec![]),
    };
    let err = fetch(&dir, &opts, &mut |_| {}).unwrap_err().to_string();
    assert!(
        err.contains("bert.embeddings.LayerNorm.bias") && err.contains("missing"),
        "{err}"
    );
    assert!(!dir.weights_path().exists() && !dir.config_path().exists());
    // the download itself is kept (verified) for the next attempt
    assert_eq!(
        std::fs::read(dir.downloads_dir().join("hf/kokoro-v1_0.pth")).unwrap(),
        ck
    );
    // a listing without the checkpoint is a clear 404-style error
    srv.put("/api/models/hexgrad/Kokoro-82M/tree/main", b"[]".to_vec());
    let dir2 = AssetDir::at(tmp.path().join("b"));
    let err = fetch(&dir2, &opts, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("kokoro-v1_0.pth"), "{err}");
}
