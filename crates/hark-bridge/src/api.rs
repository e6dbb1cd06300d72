//! Handlers of hark's own `/v1` API: health, version, voices, speak, control, events, synthesize.

use crate::audio::{stream_response, StreamOptions};
use crate::config::API_VERSION;
use crate::encode::Format;
use crate::error::ApiError;
use crate::policy::Refusal;
use crate::state::{AppState, BridgeEvent, EventSlot};
use crate::EXTENSION_ID;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::stream::Stream;
use hark_engine::{SpeakOptions, State as EngineState, UtteranceId};
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

/// Lowest and highest accepted speed factor: the engine's range.
pub use hark_engine::SPEED_RANGE;

/// A JSON request body whose failures (malformed, wrong fields) are [`ApiError`]s; its size
/// is checked before, by [`crate::security::body_limit`].
///
/// Requests without an `Origin` are parsed as JSON whatever their `Content-Type`, so `curl -d`
/// works; browser requests must say `application/json` ([`crate::security::origin_guard`]).
pub struct JsonBody<T>(pub T);

/// Like [`JsonBody`], but an empty body is `None`.
pub struct OptionalJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("cannot read body: {}", e.body_text())))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        serde_json::from_slice(&bytes)
            .map(|v| OptionalJson(Some(v)))
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    }
}

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

/// Checks a voice name or blend (`af_heart:0.6+af_bella:0.4`, weights ≥ 0 as the engine
/// takes them) against the engine's voices; returns it trimmed, or `None` for the default.
/// `auto` ([`hark_engine::AUTO_VOICE`]) is taken as it is: the engine picks the voice of the
/// text's language.
pub fn check_voice(st: &AppState, voice: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(v) = voice else { return Ok(None) };
    let v = v.trim().to_string();
    if v.is_empty() {
        return Ok(None);
    }
    if v.eq_ignore_ascii_case(hark_engine::AUTO_VOICE) {
        return Ok(Some(hark_engine::AUTO_VOICE.to_string()));
    }
    let parts = hark_engine::parse_blend(&v).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if let Some((name, _)) = parts
        .iter()
        .find(|(name, _)| !st.voice_names.iter().any(|known| known == name))
    {
        return Err(ApiError::bad_request(format!(
            "unknown voice '{name}'; GET /v1/voices lists them"
        )));
    }
    Ok(Some(v))
}

pub async fn health(State(st): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "state": st.engine.state(),
        "active_streams": st.active_streams.load(Ordering::SeqCst),
        "waiting_streams": st.waiting_streams.load(Ordering::SeqCst),
        "event_streams": st.event_streams.load(Ordering::SeqCst),
        "queued_speaks": st.speaks.len(),
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

/// `GET /v1/voices`: every installed voice with its language (`lang`, `bcp47`), and the voice
/// that reads each language (`language_voices`: the user's choice, else the language's default;
/// keyed `en-us`, `es`, `fr-fr`, `it`, `pt-br`, `hi`, `zh`, `ja`), which the extension uses for
/// a page in another language than its voice's.
pub async fn voices(State(st): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let by_lang: serde_json::Map<String, serde_json::Value> = hark_engine::CHOOSABLE
        .iter()
        .filter_map(|l| {
            Some((
                l.as_str().to_string(),
                json!(st.engine.voice_for_language(*l)?),
            ))
        })
        .collect();
    Json(json!({ "voices": st.engine.voices(), "language_voices": by_lang }))
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
    let id = st.speaks.speak(&st.engine, &text, opts).ok_or_else(|| {
        st.refusals.note(Refusal::Busy, "speak queue");
        ApiError::busy(
            "queue_full",
            format!(
                "{} utterances are queued or playing already; wait for one to end or POST /v1/stop",
                st.speaks.max
            ),
        )
    })?;
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
    Pause,
    Resume,
    Skip,
    Previous,
}

pub async fn control(st: Arc<AppState>, what: Control) -> Json<serde_json::Value> {
    match what {
        Control::Pause => st.engine.pause(),
        Control::Resume => st.engine.resume(),
        Control::Skip => st.engine.skip_sentence(),
        Control::Previous => st.engine.previous_sentence(),
    }
    Json(json!({ "ok": true, "state": st.engine.state() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopRequest {
    #[serde(default)]
    id: Option<u64>,
}

/// `POST /v1/stop`: without a body (or without `id`), stops everything, as the app's Stop
/// does. With `{"id": N}`, stops only utterance N: at once if it is playing (or paused),
/// as soon as it starts if it is still queued, not at all if it has ended; another
/// utterance that is playing goes on.
pub async fn stop(
    State(st): State<Arc<AppState>>,
    OptionalJson(req): OptionalJson<StopRequest>,
) -> Json<serde_json::Value> {
    let stopped = match req.and_then(|r| r.id) {
        None => {
            st.engine.stop();
            "all"
        }
        Some(id) => {
            let id = UtteranceId(id);
            match st.engine.state() {
                EngineState::Speaking { id: now } | EngineState::Paused { id: now }
                    if now == id =>
                {
                    st.engine.stop();
                    "now"
                }
                _ if st.speaks.cancel_when_started(id) => "when_started",
                _ => "none",
            }
        }
    };
    Json(json!({ "ok": true, "stopped": stopped, "state": st.engine.state() }))
}

/// Follows the engine's events for the speak queue: ended utterances leave it, and those
/// stopped while queued are stopped when they start. Runs until the server ends.
pub async fn track_speaks(st: Arc<AppState>) {
    use tokio::sync::broadcast::error::RecvError;
    let mut rx = st.engine.subscribe();
    loop {
        match rx.recv().await {
            Ok(ev) => {
                if st.speaks.on_event(&ev) {
                    tracing::debug!(id = ?ev.id(), "stopping an utterance stopped while queued");
                    st.engine.stop();
                }
            }
            Err(RecvError::Lagged(_)) => st.speaks.resync(&st.engine),
            Err(RecvError::Closed) => return,
        }
    }
}

/// Server-Sent Events: first the current state, then every engine event
/// (`queued`, `started`, `sentence`, `word`, ... with source byte offsets)
/// and the bridge's own `utterance` event (id + text of each `speak`).
pub async fn events(
    State(st): State<Arc<AppState>>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let max = st.cfg.limits.max_event_streams;
    let slot = EventSlot::take(&st).ok_or_else(|| {
        st.refusals.note(Refusal::Busy, "event streams");
        ApiError::busy(
            "too_many_event_streams",
            format!("{max} event streams are open already"),
        )
    })?;
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
    )
    // The slot is released when the stream is dropped (client gone or shutdown).
    .map(move |ev| {
        let _ = &slot;
        ev
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
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
        "wav" => Format::Wav,
        "pcm" | "pcm_s16le" | "s16le" => Format::PcmS16le,
        "pcm_f32le" | "f32le" => Format::PcmF32le,
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown format '{other}'; use wav, pcm_s16le or pcm_f32le"
            )))
        }
    };
    let opts = SpeakOptions {
        voice,
        speed: speed.map(|s| s as f32),
    };
    let live = StreamOptions {
        format,
        stretch: 1.0,
        whole: false,
    };
    stream_response(st, text, opts, live).await
}

pub async fn not_found() -> Response {
    ApiError::not_found("no such endpoint; see /v1/health, /v1/voices, /v1/speak, /v1/events, /v1/synthesize, /v1/audio/speech, /v1/audio/voices").into_response()
}

pub async fn method_not_allowed() -> Response {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this endpoint",
    )
    .into_response()
}
