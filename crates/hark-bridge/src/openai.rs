//! OpenAI-compatible speech API: `POST /v1/audio/speech`, `GET /v1/audio/voices` and
//! `GET /v1/models`, so clients written for OpenAI's TTS (the `openai` Python package, browser
//! extensions with an "OpenAI TTS" option) work when pointed at the bridge.
//!
//! - `response_format`: `mp3` (LAME, 64 kbit/s), `opus` (Ogg Opus), `flac`, `wav` and `pcm`
//!   (s16le 24 kHz mono), each really encoded; `aac` and anything else get a 400 that lists
//!   these (no well-kept AAC encoder is available to a Rust program without FFmpeg).
//! - `stream`: `true` sends the encoded audio as it is made (WAV with sizes 0xFFFFFFFF, FLAC
//!   without its sample count and checksum); `false` sends it whole, with `Content-Length` and
//!   exact WAV/FLAC headers. The default is `true`, except for FLAC: a FLAC file's header holds
//!   its length and checksum, which only the end knows, so by default it is sent whole (with
//!   its length) unless the client asks for `"stream": true`.
//! - `speed` 0.25–4.0: the model speaks 0.5–2.0 itself; beyond that the audio is
//!   time-stretched (pitch kept) by the rest.

use crate::api::{check_text, JsonBody, SPEED_RANGE};
use crate::audio::{stream_response, StreamOptions};
use crate::encode::{Format, OPENAI_FORMATS};
use crate::error::ApiError;
use crate::state::AppState;
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
    #[serde(default)]
    stream: Option<bool>,
}

/// OpenAI's accepted speed range.
pub const OPENAI_SPEED: std::ops::RangeInclusive<f32> = 0.25..=4.0;

/// Splits an OpenAI speed into what the model does (within [`SPEED_RANGE`]) and the
/// time-stretch factor for the rest.
pub fn split_speed(speed: f32) -> (f32, f64) {
    let model = speed.clamp(*SPEED_RANGE.start(), *SPEED_RANGE.end());
    (model, f64::from(speed) / f64::from(model))
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
    let (speed, stretch) = match req.speed {
        Some(s) if s.is_finite() && OPENAI_SPEED.contains(&s) => {
            let (model, stretch) = split_speed(s);
            (Some(model), stretch)
        }
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "'speed' must be between {} and {}",
                OPENAI_SPEED.start(),
                OPENAI_SPEED.end()
            )))
        }
        None => (None, 1.0),
    };
    let voice = resolve_voice(&st, &req.voice)?;
    let requested = req.response_format.as_deref().unwrap_or("mp3");
    let format = Format::from_openai(requested).ok_or_else(|| {
        ApiError::bad_request(format!(
            "response_format '{requested}' is not supported; use one of: {}",
            OPENAI_FORMATS.join(", ")
        ))
    })?;
    if let Some(sf) = req.stream_format.as_deref() {
        if sf != "audio" {
            return Err(ApiError::bad_request(format!(
                "stream_format '{sf}' is not supported; use 'audio'"
            )));
        }
    }
    stream_response(
        st,
        text,
        SpeakOptions { voice, speed },
        StreamOptions {
            format,
            stretch,
            whole: match req.stream {
                Some(stream) => !stream,
                None => format == Format::Flac,
            },
        },
    )
    .await
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

/// `GET /v1/audio/voices`: the Kokoro voices (`voices`, as other OpenAI-compatible servers
/// list them), their details (`data`) and the OpenAI names mapped to them (`aliases`).
pub async fn voices(State(st): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let infos = st.engine.voices();
    let names: Vec<&str> = infos.iter().map(|v| v.name.as_str()).collect();
    let aliases: serde_json::Map<String, serde_json::Value> = OPENAI_VOICES
        .iter()
        .filter(|(_, k)| names.contains(k))
        .map(|(o, k)| ((*o).to_string(), json!(k)))
        .collect();
    Json(json!({ "voices": names, "data": infos, "aliases": aliases }))
}

pub async fn models() -> Json<serde_json::Value> {
    let data: Vec<_> = MODELS
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": 0, "owned_by": "hark"}))
        .collect();
    Json(json!({ "object": "list", "data": data }))
}
