//! OpenAI-compatible speech API: `POST /v1/audio/speech` and `GET /v1/models`,
//! so clients written for OpenAI's TTS (the `openai` Python package, browser
//! extensions with an "OpenAI TTS" option) work when pointed at the bridge.
//!
//! `response_format`: `wav` (streamed, sizes 0xFFFFFFFF) and `pcm` (s16le 24 kHz
//! mono) as asked; `mp3`, `opus`, `aac` and `flac` are answered with WAV
//! (`Content-Type: audio/wav`, `X-Hark-Format-Substituted: mp3->wav`) since no
//! compressed encoder is built in — players that sniff the bytes (browsers) play it.

use crate::api::{check_text, JsonBody, SPEED_RANGE};
use crate::audio::{stream_response, AudioFormat};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use hark_engine::SpeakOptions;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Model ids accepted in `model` (all served by the same local Kokoro model).
pub const MODELS: &[&str] = &["kokoro", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"];

/// OpenAI voice names mapped to the closest Kokoro voice (used when present).
const OPENAI_VOICES: &[(&str, &str)] = &[
    ("alloy", "af_alloy"),
    ("ash", "am_adam"),
    ("ballad", "bm_george"),
    ("coral", "af_heart"),
    ("echo", "am_echo"),
    ("fable", "bm_fable"),
    ("nova", "af_nova"),
    ("onyx", "am_onyx"),
    ("sage", "af_sarah"),
    ("shimmer", "af_bella"),
    ("verse", "am_michael"),
];

/// The request body of `POST /v1/audio/speech`. Unknown fields are ignored, as
/// OpenAI clients send fields we have no use for (`instructions`, ...).
#[derive(Deserialize)]
pub struct SpeechRequest {
    model: String,
    input: String,
    voice: String,
    #[serde(default)]
    speed: Option<f32>,
    #[serde(default)]
    response_format: Option<String>,
    #[serde(default)]
    stream_format: Option<String>,
}

pub async fn speech(
    State(st): State<Arc<AppState>>,
    JsonBody(req): JsonBody<SpeechRequest>,
) -> Result<Response, ApiError> {
    if !MODELS.contains(&req.model.as_str()) {
        return Err(ApiError::bad_request(format!(
            "unknown model '{}'; available: {}",
            req.model,
            MODELS.join(", ")
        )));
    }
    let text = check_text(req.input, "input")?;
    // OpenAI accepts 0.25 ..= 4.0; the engine 0.5 ..= 2.0: clamp what OpenAI allows.
    let speed = match req.speed {
        Some(s) if s.is_finite() && (0.25..=4.0).contains(&s) => {
            Some(s.clamp(*SPEED_RANGE.start(), *SPEED_RANGE.end()))
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "'speed' must be between 0.25 and 4.0",
            ))
        }
        None => None,
    };
    let voice = resolve_voice(&st, &req.voice)?;
    let requested = req.response_format.as_deref().unwrap_or("wav");
    let (format, substituted) = match requested {
        "wav" => (AudioFormat::Wav, false),
        "pcm" => (AudioFormat::PcmS16le, false),
        // No compressed encoders here: answer WAV, labelled as such. Clients that
        // play what they get (browsers sniff the bytes; Read Aloud asks for mp3)
        // keep working; the header tells the others.
        "mp3" | "opus" | "aac" | "flac" => (AudioFormat::Wav, true),
        other => {
            return Err(ApiError::bad_request(format!(
                "response_format '{other}' is not supported; use 'wav' or 'pcm' (24 kHz mono s16le)"
            )))
        }
    };
    if let Some(sf) = req.stream_format.as_deref() {
        if sf != "audio" {
            return Err(ApiError::bad_request(format!(
                "stream_format '{sf}' is not supported; use 'audio'"
            )));
        }
    }
    let mut resp = stream_response(st, text, SpeakOptions { voice, speed }, format).await?;
    if substituted {
        tracing::debug!(requested, "answering WAV for a compressed response_format");
        if let Ok(v) = axum::http::HeaderValue::from_str(&format!("{requested}->wav")) {
            resp.headers_mut().insert("x-hark-format-substituted", v);
        }
    }
    Ok(resp)
}

/// A Kokoro voice (or blend) name as-is, an OpenAI voice name mapped to a Kokoro voice,
/// or an error naming the voices.
fn resolve_voice(st: &AppState, voice: &str) -> Result<Option<String>, ApiError> {
    let lower = voice.trim().to_ascii_lowercase();
    if let Ok(v) = crate::api::check_voice(st, Some(voice.to_string())) {
        return Ok(v);
    }
    if let Some((_, kokoro)) = OPENAI_VOICES.iter().find(|(o, _)| *o == lower) {
        if st.voice_names.iter().any(|v| v == kokoro) {
            return Ok(Some((*kokoro).to_string()));
        }
        // OpenAI name without a matching Kokoro voice here: the engine's default voice.
        return Ok(None);
    }
    Err(ApiError::bad_request(format!(
        "unknown voice '{voice}'; use a Kokoro voice from GET /v1/voices or an OpenAI voice name"
    )))
}

pub async fn models() -> Json<serde_json::Value> {
    let data: Vec<_> = MODELS
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": 0, "owned_by": "hark"}))
        .collect();
    Json(json!({ "object": "list", "data": data }))
}
