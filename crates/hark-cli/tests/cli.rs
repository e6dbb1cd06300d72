//! The `hark` binary as scripts use it: the `bench --json` contract and `say`'s flags, on the real
//! assets when present (CI has them; `HARK_REQUIRE_ASSETS=1` makes their absence a failure).

use std::process::{Command, Output};

use hark_testkit::{alsa_null_conf as null_alsa_conf, real_assets as assets};

fn hark(assets: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hark"))
        .arg("--assets")
        .arg(assets)
        .args(args)
        // No sound card on CI: anything that would play goes to ALSA's null device.
        .env("ALSA_CONFIG_PATH", null_alsa_conf())
        .output()
        .expect("hark runs")
}

#[test]
fn bench_json_is_one_object_with_the_contract_keys() {
    let Some(dir) = assets() else { return };
    let out = hark(&dir, &["bench", "--json", "--cases", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "hark bench failed: {stderr}");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 stdout");
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "one line of JSON: {stdout}"
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("valid JSON");
    let num = |k: &str| -> f64 {
        v.get(k)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or_else(|| panic!("{k} missing or not a number in {v}"))
    };
    for k in [
        "rtf",
        "load_s",
        "peak_rss_mb",
        "ttfa_sentence_ms",
        "ttfa_paragraph_ms",
        "ttfa_sentence_audible_ms",
        "ttfa_paragraph_audible_ms",
        "ttfa_article_ms",
        "rtf_end_to_end",
        "rss_after_1000_mb",
        "ttfa_sentence_exact_ms",
        "ttfa_paragraph_exact_ms",
    ] {
        let x = num(k);
        assert!(x.is_finite() && x > 0.0, "{k} = {x}");
    }
    for k in [
        "gap_sentence_ms",
        "gap_paragraph_ms",
        "gap_paragraph_exact_ms",
    ] {
        let x = num(k);
        assert!(x.is_finite() && x >= 0.0, "{k} = {x}");
    }
    // The voice is heard no sooner than the first sample is handed over.
    assert!(
        num("ttfa_sentence_audible_ms") >= num("ttfa_sentence_ms"),
        "{v}"
    );
    // The main figures are the default engine's, which has fast start on.
    assert_eq!(v["fast_start"], serde_json::Value::Bool(true), "{v}");
    let cases = v["cases"].as_array().expect("cases table");
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["frames_match_reference"], true, "{v}");
    assert!(num("peak_rss_mb") >= num("rss_after_1000_mb") * 0.5);
}

#[test]
fn say_writes_a_wav_and_rejects_contradictory_flags() {
    let Some(dir) = assets() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("x.wav");
    let out = hark(
        &dir,
        &["say", "Two short words.", "--out", wav.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&wav).unwrap();
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WAVE");
    // 16-bit mono at 24 kHz: at least half a second of audio for three words.
    assert!(bytes.len() > 44 + 24_000, "{} bytes", bytes.len());

    let out = hark(&dir, &["say", "Hi.", "--exact", "--fast-start"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--exact") && err.contains("--fast-start"),
        "{err}"
    );
}

#[test]
fn say_plays_exact_or_fast_to_the_null_device() {
    let Some(dir) = assets() else { return };
    for mode in ["--exact", "--fast-start"] {
        let out = hark(&dir, &["say", "Played, not written.", mode]);
        assert!(
            out.status.success(),
            "say {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "nothing on stdout when playing");
    }
}

/// `hark phonemize --lang` for the espeak-ng languages (with `--jsonl`) and for Mandarin.
#[test]
fn phonemize_takes_every_language() {
    let Some(dir) = assets() else { return };
    if std::process::Command::new("espeak-ng")
        .arg("--version")
        .output()
        .is_err()
    {
        hark_testkit::skip::<()>("espeak-ng is not installed");
        return;
    }
    let out = hark(&dir, &["phonemize", "--lang", "es", "Cuesta 1.234,56 €."]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fixed = String::from_utf8(out.stdout).unwrap();
    let out = hark(
        &dir,
        &[
            "phonemize",
            "--lang",
            "e",
            "--misaki-quirks",
            "Cuesta 1.234,56 €.",
        ],
    );
    let quirks = String::from_utf8(out.stdout).unwrap();
    assert!(
        fixed.trim().ends_with('.') && !fixed.contains(','),
        "{fixed}"
    );
    assert!(quirks.contains(','), "misaki splits the number: {quirks}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hark"))
        .args(["--assets"])
        .arg(&dir)
        .args(["phonemize", "--lang", "hi", "--jsonl"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all("{\"id\":7,\"text\":\"मैं घर जा रहा हूँ।\"}\n".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(v["id"], 7);
    assert!(v["phonemes"].as_str().unwrap().ends_with('.'), "{v}");
    // Mandarin is read in pure Rust: tones as misaki's arrows
    let out = hark(&dir, &["phonemize", "--lang", "zh", "你好"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let ps = String::from_utf8_lossy(&out.stdout);
    assert!(ps.contains(['→', '↗', '↓', '↘']), "{ps}");
}
