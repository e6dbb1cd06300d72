//! The unmodified `openai` Python client against the bridge's OpenAI-compatible API, every
//! `response_format` decoded by an independent decoder (FFmpeg) and checked for length
//! against the engine's raw PCM of the same text.
//! Needs `python3` with the `openai` package and `ffmpeg` (scripts/deps.sh installs both);
//! fails otherwise.

mod common;
use common::*;
use serde_json::json;
use std::path::Path;
use std::process::Command;

const TEXT: &str =
    "Hello from the unmodified OpenAI client. Every format decodes to the same length.";

const SCRIPT: &str = r#"
import json, sys, openai
base, key, out, text = sys.argv[1:5]
client = openai.OpenAI(base_url=base, api_key=key)
models = [m.id for m in client.models.list()]
assert "tts-1" in models, models
voices = client.get("/audio/voices", cast_to=object)
assert "af_heart" in voices["voices"], voices
info = {}
for fmt in ["mp3", "opus", "flac", "wav", "pcm"]:
    # Streamed as it is made (the default), saved as the client's users do.
    with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="af_heart", input=text, response_format=fmt) as resp:
        info[fmt] = resp.headers["content-type"]
        info[fmt + "_default_length"] = resp.headers.get("content-length")
        resp.stream_to_file(f"{out}/stream.{fmt}")
    # Sent whole.
    whole = client.audio.speech.create(model="kokoro", voice="af_heart", input=text,
                                       response_format=fmt, extra_body={"stream": False})
    info[fmt + "_length"] = whole.response.headers.get("content-length")
    open(f"{out}/whole.{fmt}", "wb").write(whole.content)
for speed in [0.25, 0.5, 2.0, 4.0]:
    r = client.audio.speech.create(model="tts-1", voice="af_heart", input=text,
                                   response_format="wav", speed=speed)
    open(f"{out}/speed-{speed}.wav", "wb").write(r.content)
for bad in ["aac", "ogg"]:
    try:
        client.audio.speech.create(model="tts-1", voice="alloy", input="x", response_format=bad)
        sys.exit(f"{bad} should be refused")
    except openai.BadRequestError as e:
        info["refused_" + bad] = e.message
bad = openai.OpenAI(base_url=base, api_key="wrong")
try:
    bad.models.list()
    sys.exit("a wrong key should be refused")
except openai.AuthenticationError:
    pass
print(json.dumps(info))
"#;

fn require(cmd: &str, args: &[&str], what: &str) {
    match Command::new(cmd).args(args).output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "{what} is required for this test (scripts/deps.sh installs it): {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!("{what} is required for this test (scripts/deps.sh installs it): {e}"),
    }
}

/// Decodes `file` with FFmpeg to 24 kHz mono s16 samples.
fn decode(file: &Path) -> Vec<i16> {
    let raw = file.extension().is_some_and(|e| e == "pcm");
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-nostdin"]);
    if raw {
        cmd.args(["-f", "s16le", "-ar", "24000", "-ac", "1"]);
    }
    let o = cmd
        .arg("-i")
        .arg(file)
        .args([
            "-f",
            "s16le",
            "-acodec",
            "pcm_s16le",
            "-ar",
            "24000",
            "-ac",
            "1",
            "-",
        ])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "ffmpeg cannot decode {}: {}",
        file.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

fn rms(x: &[i16]) -> f64 {
    (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// The engine's own samples for `TEXT` at `speed` (the deterministic test engine makes the
/// same samples every time).
async fn reference(s: &Server, speed: f64) -> Vec<i16> {
    let resp = s
        .post("/v1/synthesize")
        .json(&json!({"text": TEXT, "voice": "af_heart", "speed": speed, "format": "pcm_s16le"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes()
        .await
        .unwrap()
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_client_every_format_decodes_to_the_right_length() {
    require(
        "python3",
        &["-c", "import openai"],
        "python3 with the `openai` package",
    );
    require("ffmpeg", &["-version"], "ffmpeg");
    let s = start();
    let dir = tempfile::tempdir().unwrap();
    let base = format!("{}/v1", s.base);
    let (token, out) = (s.token.clone(), dir.path().display().to_string());
    let o = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args(["-c", SCRIPT, &base, &token, &out, TEXT])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        o.status.success(),
        "python client failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();

    for (fmt, ct) in [
        ("mp3", "audio/mpeg"),
        ("opus", "audio/ogg; codecs=opus"),
        ("flac", "audio/flac"),
        ("wav", "audio/wav"),
        ("pcm", "audio/L16;rate=24000;channels=1"),
    ] {
        assert_eq!(info[fmt], ct, "{fmt}");
    }
    for bad in ["aac", "ogg"] {
        let msg = info[format!("refused_{bad}")].as_str().unwrap();
        assert!(msg.contains("mp3, opus, flac, wav, pcm"), "{msg}");
    }

    let want = reference(&s, 1.0).await;
    let secs = |n: usize| n as f64 / 24_000.0;
    assert!(secs(want.len()) > 1.0);
    for fmt in ["mp3", "opus", "flac", "wav", "pcm"] {
        for how in ["stream", "whole"] {
            let file = dir.path().join(format!("{how}.{fmt}"));
            let got = decode(&file);
            let diff = secs(got.len()) - secs(want.len());
            eprintln!(
                "{how} {fmt}: {} bytes, {:.3} s decoded vs {:.3} s ({diff:+.4} s), rms {:.0} vs {:.0}",
                std::fs::metadata(&file).unwrap().len(),
                secs(got.len()),
                secs(want.len()),
                rms(&got),
                rms(&want)
            );
            match fmt {
                // Lossless: the very samples.
                "flac" | "wav" | "pcm" => assert_eq!(got, want, "{how} {fmt}"),
                // Ogg Opus trims its pre-skip and padding by the granule positions.
                "opus" => assert!(diff.abs() <= 0.005, "{how} {fmt}: {diff:+.4} s"),
                // MP3 without a gapless header keeps the encoder delay and frame padding.
                _ => assert!((0.0..=0.12).contains(&diff), "{how} {fmt}: {diff:+.4} s"),
            }
            if fmt == "mp3" || fmt == "opus" {
                let r = rms(&got) / rms(&want);
                assert!((0.7..1.3).contains(&r), "{how} {fmt}: level ratio {r:.2}");
            }
        }
    }
    // Whole responses have a length, and a WAV sent whole has exact sizes.
    for fmt in ["mp3", "opus", "flac", "wav", "pcm"] {
        let len: u64 = info[format!("{fmt}_length")]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            len,
            std::fs::metadata(dir.path().join(format!("whole.{fmt}")))
                .unwrap()
                .len()
        );
    }
    // By default FLAC comes whole, with its length (its header holds the sample count); the
    // other formats stream as they are made.
    for fmt in ["mp3", "opus", "flac", "wav", "pcm"] {
        let len = info[format!("{fmt}_default_length")].as_str();
        if fmt == "flac" {
            let file = dir.path().join("stream.flac");
            assert_eq!(
                len.map(|l| l.parse::<u64>().unwrap()),
                Some(std::fs::metadata(file).unwrap().len())
            );
        } else {
            assert_eq!(len, None, "{fmt}");
        }
    }
    let whole = std::fs::read(dir.path().join("whole.wav")).unwrap();
    assert_eq!(
        u32::from_le_bytes(whole[40..44].try_into().unwrap()) as usize,
        whole.len() - 44
    );
    let streamed = std::fs::read(dir.path().join("stream.wav")).unwrap();
    assert_eq!(
        u32::from_le_bytes(streamed[40..44].try_into().unwrap()),
        u32::MAX
    );

    // Speed: 0.5–2.0 by the model itself, beyond by time-stretching the rest.
    let at = |speed: f64| decode(&dir.path().join(format!("speed-{speed:?}.wav")));
    for (speed, model, factor) in [
        (0.5, 0.5, 1.0),
        (2.0, 2.0, 1.0),
        (4.0, 2.0, 2.0),
        (0.25, 0.5, 0.5),
    ] {
        let got = secs(at(speed).len());
        let base = secs(reference(&s, model).await.len()) / factor;
        eprintln!("speed {speed}: {got:.3} s (want {base:.3} s)");
        assert!(
            (got - base).abs() <= base * 0.01 + 0.01,
            "speed {speed}: {got} s, want {base} s"
        );
    }
    assert!(secs(at(4.0).len()) < secs(want.len()) / 3.5);
    assert!(secs(at(0.25).len()) > secs(want.len()) * 3.5);
}
