//! Handlers of hark's own `/v1` API: health, version, voices, speak, control, events, synthesize.

use crate::audio::{stream_response, AudioFormat};
use crate::error::ApiError;
use crate::{AppState, BridgeEvent, API_VERSION, EXTENSION_ID};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::stream::Stream;
use hark_engine::SpeakOptions;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;

/// Longest accepted text, in Unicode scalar values.
pub const MAX_TEXT_CHARS: usize = 100_000;

/// Lowest and highest accepted speed factor (the engine's range).
pub const SPEED_RANGE: std::ops::RangeInclusive<f32> = 0.5..=2.0;

/// A JSON request body whose failures (malformed, wrong fields) are [`ApiError`]s; its size
/// is checked before, by [`crate::security::body_limit`].
///
/// The body is parsed as JSON whatever its `Content-Type`, so `curl -d` works.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        // Oversize bodies never get here: `security::body_limit` has read the body (at most
        // MAX_BODY_BYTES) and answered 413 to anything bigger.
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("cannot read body: {}", e.body_text())))?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request("empty body; expected a JSON object"));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    }
}

/// Checks text for emptiness and length; returns it unchanged.
pub fn check_text(text: String, field: &str) -> Result<String, ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::bad_request(format!("'{field}' is empty")));
    }
    let n = text.chars().count();
    if n > MAX_TEXT_CHARS {
        return Err(ApiError::too_large(
            "text_too_long",
            format!("'{field}' has {n} characters; the limit is {MAX_TEXT_CHARS}"),
        ));
    }
    Ok(text)
}

/// Checks an optional speed factor.
pub fn check_speed(speed: Option<f64>) -> Result<Option<f64>, ApiError> {
    match speed {
        Some(s) if !s.is_finite() || !SPEED_RANGE.contains(&(s as f32)) => {
            Err(ApiError::bad_request(format!(
                "'speed' must be between {} and {}",
                SPEED_RANGE.start(),
                SPEED_RANGE.end()
            )))
        }
        other => Ok(other),
    }
}

/// Checks a voice name or blend (`af_heart:0.6+af_bella:0.4`) against the engine's voices.
pub fn check_voice(st: &AppState, voice: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(v) = voice else { return Ok(None) };
    let v = v.trim().to_string();
    if v.is_empty() {
        return Ok(None);
    }
    for part in v.split('+') {
        let (name, weight) = match part.split_once(':') {
            Some((n, w)) => (n.trim(), Some(w.trim())),
            None => (part.trim(), None),
        };
        if !st.voice_names.iter().any(|known| known == name) {
            return Err(ApiError::bad_request(format!(
                "unknown voice '{name}'; GET /v1/voices lists them"
            )));
        }
        if let Some(w) = weight {
            match w.parse::<f32>() {
                Ok(x) if x.is_finite() && x > 0.0 => {}
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "bad weight '{w}' for voice '{name}' (want a positive number)"
                    )))
                }
            }
        }
    }
    Ok(Some(v))
}

pub async fn health(State(st): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "state": st.engine.state(),
        "active_streams": st.active_streams.load(Ordering::SeqCst),
    }))
}

pub async fn version() -> Json<serde_json::Value> {
    Json(json!({
        "name": "hark",
        "version": env!("CARGO_PKG_VERSION"),
        "api": API_VERSION,
        "extension_id": EXTENSION_ID,
    }))
}

pub async fn voices(State(st): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({ "voices": st.engine.voices() }))
}

pub async fn state(State(st): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({ "state": st.engine.state() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeakRequest {
    text: String,
    #[serde(default)]
    voice: Option<String>,
    #[serde(default)]
    speed: Option<f64>,
}

pub async fn speak(
    State(st): State<Arc<AppState>>,
    JsonBody(req): JsonBody<SpeakRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let text = check_text(req.text, "text")?;
    let speed = check_speed(req.speed)?;
    let voice = check_voice(&st, req.voice)?;
    let opts = SpeakOptions {
        voice: voice.clone(),
        speed: speed.map(|s| s as f32),
    };
    let id = st.engine.speak(&text, opts);
    tracing::info!(%id, chars = text.len(), "speak");
    let _ = st.bridge_events.send(BridgeEvent::Utterance {
        id: id.0,
        text,
        voice,
        speed,
    });
    Ok(Json(json!({ "id": id })))
}

/// Which control action a route performs.
#[derive(Clone, Copy)]
pub enum Control {
    Stop,
    Pause,
    Resume,
    Skip,
    Previous,
}

pub async fn control(st: Arc<AppState>, what: Control) -> Json<serde_json::Value> {
    match what {
        Control::Stop => st.engine.stop(),
        Control::Pause => st.engine.pause(),
        Control::Resume => st.engine.resume(),
        Control::Skip => st.engine.skip_sentence(),
        Control::Previous => st.engine.previous_sentence(),
    }
    Json(json!({ "ok": true, "state": st.engine.state() }))
}

/// Server-Sent Events: first the current state, then every engine event
/// (`queued`, `started`, `sentence`, `word`, ... with source byte offsets)
/// and the bridge's own `utterance` event (id + text of each `speak`).
pub async fn events(
    State(st): State<Arc<AppState>>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let engine_events = BroadcastStream::new(st.engine.subscribe()).map(|r| match r {
        Ok(ev) => to_sse(&ev),
        Err(BroadcastStreamRecvError::Lagged(n)) => to_sse(&json!({"type": "lagged", "missed": n})),
    });
    let bridge_events = BroadcastStream::new(st.bridge_events.subscribe()).map(|r| match r {
        Ok(ev) => to_sse(&ev),
        Err(BroadcastStreamRecvError::Lagged(n)) => to_sse(&json!({"type": "lagged", "missed": n})),
    });
    let hello = tokio_stream::once(to_sse(
        &json!({"type": "state", "state": st.engine.state()}),
    ));
    let mut closing = st.closing.clone();
    let closed = async move {
        let _ = closing.wait_for(|c| *c).await;
    };
    let stream = futures_util::StreamExt::take_until(
        hello.chain(engine_events.merge(bridge_events)),
        closed,
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// One SSE event named after the JSON's `type` field, with the JSON as data.
fn to_sse<T: serde::Serialize>(v: &T) -> Result<SseEvent, Infallible> {
    let value = serde_json::to_value(v)
        .unwrap_or_else(|e| json!({"type": "error", "message": e.to_string()}));
    let name = value
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or("message")
        .to_string();
    Ok(SseEvent::default().event(name).data(value.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynthesizeRequest {
    text: String,
    #[serde(default)]
    voice: Option<String>,
    #[serde(default)]
    speed: Option<f64>,
    #[serde(default)]
    format: Option<String>,
}

pub async fn synthesize(
    State(st): State<Arc<AppState>>,
    JsonBody(req): JsonBody<SynthesizeRequest>,
) -> Result<Response, ApiError> {
    let text = check_text(req.text, "text")?;
    let speed = check_speed(req.speed)?;
    let voice = check_voice(&st, req.voice)?;
    let format = match req.format.as_deref().unwrap_or("wav") {
        "wav" => AudioFormat::Wav,
        "pcm" | "pcm_s16le" | "s16le" => AudioFormat::PcmS16le,
        "pcm_f32le" | "f32le" => AudioFormat::PcmF32le,
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown format '{other}'; use wav, pcm_s16le or pcm_f32le"
            )))
        }
    };
    let speed = speed.map(|s| s as f32);
    stream_response(st, text, SpeakOptions { voice, speed }, format).await
}

pub async fn not_found() -> Response {
    ApiError::not_found("no such endpoint; see /v1/health, /v1/voices, /v1/speak, /v1/events, /v1/synthesize, /v1/audio/speech").into_response()
}

pub async fn method_not_allowed() -> Response {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this endpoint",
    )
    .into_response()
}
