//! The unmodified `openai` Python client against the bridge's OpenAI-compatible API.
//! Needs `python3` with the `openai` package (`pip install openai`); fails otherwise.

mod common;
use common::*;
use std::process::Command;

const SCRIPT: &str = r#"
import sys, openai
client = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2])
models = [m.id for m in client.models.list()]
assert "tts-1" in models, models
with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input="Hello from the unmodified OpenAI client.",
        response_format="wav") as resp:
    resp.stream_to_file(sys.argv[3])
pcm = client.audio.speech.create(model="kokoro", voice="af_heart", input="Raw PCM.", response_format="pcm")
open(sys.argv[3] + ".pcm", "wb").write(pcm.content)
mp3 = client.audio.speech.create(model="tts-1", voice="alloy", input="Asked for MP3.", response_format="mp3")
assert mp3.response.headers["content-type"] == "audio/wav", mp3.response.headers
open(sys.argv[3] + ".mp3.wav", "wb").write(mp3.content)
try:
    client.audio.speech.create(model="tts-1", voice="alloy", input="x", response_format="ogg")
    sys.exit("ogg should be refused")
except openai.BadRequestError as e:
    print("refused:", e.message if hasattr(e, "message") else e)
bad = openai.OpenAI(base_url=sys.argv[1], api_key="wrong")
try:
    bad.models.list()
    sys.exit("a wrong key should be refused")
except openai.AuthenticationError:
    pass
"#;

#[test]
fn openai_python_client_streams_wav() {
    let probe = Command::new("python3")
        .args(["-c", "import openai"])
        .output();
    match probe {
        Err(e) => panic!(
            "python3 is required for this test ({e}); install python3 and `pip install openai`"
        ),
        Ok(o) if !o.status.success() => panic!(
            "the `openai` Python package is required for this test: `pip install openai` ({})",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Ok(_) => {}
    }
    let s = start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("speech.wav");
    let o = Command::new("python3")
        .args([
            "-c",
            SCRIPT,
            &format!("{}/v1", s.base),
            &s.token,
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "python client failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("response_format"),
        "the ogg refusal names the field"
    );
    let wav = std::fs::read(&out).unwrap();
    assert_audible(&wav_samples(&wav));
    assert_audible(&wav_samples(
        &std::fs::read(dir.path().join("speech.wav.mp3.wav")).unwrap(),
    ));
    let pcm = std::fs::read(dir.path().join("speech.wav.pcm")).unwrap();
    assert!(pcm.len() > 4800 && pcm.len() % 2 == 0);
}
