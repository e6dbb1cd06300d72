//! Audio responses: the pump that moves the engine's chunks through the time-stretcher (if
//! any) and the encoder into the HTTP body as they come, or into one buffer for a response
//! sent whole.
//!
//! Memory stays bounded whatever the client does: at most [`crate::Limits::max_audio_streams`]
//! streams run at once, the engine's channel holds [`hark_engine::STREAM_BUFFER`] items and the
//! body channel [`BODY_BUFFER`] pieces, so a client that reads slowly makes the synthesis wait.

use crate::encode::{Encode, Format};
use crate::error::ApiError;
use crate::policy::Refusal;
use crate::state::{AppState, AudioSlot, NoAudioSlot};
use crate::stretch::Stretch;
use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hark_engine::audio::clip;
use hark_engine::{SpeakOptions, StreamItem, SAMPLE_RATE};
use std::sync::mpsc::Receiver;
use std::sync::Arc;

/// Encoded pieces waiting for the client per stream.
pub const BODY_BUFFER: usize = 4;

/// Largest response sent whole (`"stream": false`); longer audio must be streamed.
pub const MAX_WHOLE_BYTES: usize = 64 * 1024 * 1024;

/// How an audio response is made.
#[derive(Debug, Clone, Copy)]
pub struct StreamOptions {
    /// Encoding.
    pub format: Format,
    /// Extra speed factor applied after synthesis (1 = none), see [`Stretch`].
    pub stretch: f64,
    /// Send the response whole, with `Content-Length` (and exact sizes in WAV headers),
    /// instead of streaming it as it is made.
    pub whole: bool,
}

/// Starts synthesis of `text` and answers with the encoded audio. A request waits its turn
/// for a stream's place (see [`AudioSlot::take`]); beyond the line, 429 `too_many_streams`.
///
/// The response starts once the engine hands over its first audio: an engine failure before
/// that becomes a JSON error; afterwards each chunk is encoded and written to the body as soon
/// as it arrives (or, `whole`, once all of it is there). A client that goes away drops the
/// body, which ends the pump and so the synthesis.
pub async fn stream_response(
    st: Arc<AppState>,
    text: String,
    opts: SpeakOptions,
    so: StreamOptions,
) -> Result<Response, ApiError> {
    let slot = AudioSlot::take(&st).await.map_err(|why| match why {
        NoAudioSlot::Full => {
            st.refusals.note(Refusal::Busy, "audio streams");
            ApiError::busy(
                "too_many_streams",
                format!(
                    "{} audio streams are running and {} more are waiting already; retry when one ends",
                    st.cfg.limits.max_audio_streams, st.cfg.limits.max_waiting_streams
                ),
            )
        }
        NoAudioSlot::Closing => ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "hark is shutting down",
        ),
    })?;
    let mut encoder = so.format.encoder().map_err(ApiError::internal)?;
    let engine = st.engine.clone();
    let (rx, first) = tokio::task::spawn_blocking(move || {
        let rx = engine.synthesize_stream(&text, opts)?;
        let first = next_audio(&rx);
        Ok::<_, hark_engine::Error>((rx, first))
    })
    .await
    .map_err(|e| ApiError::internal(format!("synthesis task failed: {e}")))??;
    let first = match first {
        Next::Audio(b) => Some(b),
        Next::End => None,
        Next::Error(msg) => return Err(ApiError::internal(format!("synthesis failed: {msg}"))),
    };
    let mut head = Vec::new();
    encoder.start(&mut head).map_err(ApiError::internal)?;
    let pump = Pump {
        rx,
        first,
        encoder,
        stretch: (so.stretch != 1.0).then(|| Stretch::new(so.stretch)),
        samples: Vec::new(),
        stretched: Vec::new(),
        _slot: slot,
    };
    let mut resp = if so.whole {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        spawn_pump(move || {
            let _ = done_tx.send(pump.whole(head));
        })?;
        let body = done_rx
            .await
            .map_err(|_| ApiError::internal("synthesis ended unexpectedly"))??;
        let len = body.len();
        let mut resp = Body::from(body).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        resp
    } else {
        let (tx, body_rx) =
            tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(BODY_BUFFER);
        if !head.is_empty() {
            let _ = tx.try_send(Ok(Bytes::from(head)));
        }
        spawn_pump(move || pump.stream(tx))?;
        Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(body_rx)).into_response()
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(so.format.content_type()),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-sample-rate", HeaderValue::from(SAMPLE_RATE));
    h.insert("x-channels", HeaderValue::from_static("1"));
    if let Some(f) = so.format.sample_format() {
        h.insert("x-sample-format", HeaderValue::from_static(f));
    }
    Ok(resp)
}

/// The pump runs on its own thread (not the runtime's blocking pool), so a shutdown never
/// waits for a synthesis in progress.
fn spawn_pump(f: impl FnOnce() + Send + 'static) -> Result<(), ApiError> {
    std::thread::Builder::new()
        .name("hark-bridge-pump".into())
        .spawn(f)
        .map(|_| ())
        .map_err(|e| ApiError::internal(format!("cannot start a thread: {e}")))
}

struct Pump {
    rx: Receiver<StreamItem>,
    first: Option<Vec<f32>>,
    encoder: Box<dyn Encode>,
    stretch: Option<Stretch>,
    samples: Vec<f32>,
    stretched: Vec<f32>,
    /// Held until the pump ends.
    _slot: AudioSlot,
}

impl Pump {
    /// Encodes one engine chunk into `out`, clipped to [-1, 1] first.
    fn encode(&mut self, chunk: &[f32], out: &mut Vec<u8>) -> Result<(), String> {
        self.samples.clear();
        self.samples.extend(chunk.iter().map(|&s| clip(s)));
        match &mut self.stretch {
            Some(s) => {
                self.stretched.clear();
                s.push(&self.samples, &mut self.stretched);
                self.encoder.push(&self.stretched, out)
            }
            None => self.encoder.push(&self.samples, out),
        }
    }

    /// The end of the audio: what the stretcher and the encoder still hold.
    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        if let Some(s) = &mut self.stretch {
            self.stretched.clear();
            s.finish(&mut self.stretched);
            self.encoder.push(&self.stretched, out)?;
        }
        self.encoder.finish(out)
    }

    /// The next chunk of engine audio (`None` at the end), or the engine's error.
    fn next(&mut self) -> Result<Option<Vec<f32>>, String> {
        if let Some(b) = self.first.take() {
            return Ok(Some(b));
        }
        match next_audio(&self.rx) {
            Next::Audio(b) => Ok(Some(b)),
            Next::End => Ok(None),
            Next::Error(msg) => Err(msg),
        }
    }

    /// Streams into `tx` until the end, an error, or the client going away. The stream's slot
    /// is given back before `tx` closes the body, so a client that has read to the end finds
    /// it free.
    fn stream(mut self, tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>) {
        self.pump(&tx);
        drop(self);
        drop(tx);
    }

    fn pump(&mut self, tx: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>) {
        loop {
            let mut out = Vec::new();
            let step = match self.next() {
                Ok(Some(chunk)) => self.encode(&chunk, &mut out).map(|()| true),
                Ok(None) => self.finish(&mut out).map(|()| false),
                Err(e) => Err(e),
            };
            match step {
                Ok(more) => {
                    if !out.is_empty() && tx.blocking_send(Ok(Bytes::from(out))).is_err() {
                        tracing::debug!("client went away; dropping the synthesis stream");
                        return;
                    }
                    if !more {
                        return;
                    }
                }
                Err(msg) => {
                    tracing::warn!(error = %msg, "synthesis failed mid-stream");
                    let _ = tx.blocking_send(Err(std::io::Error::other(msg)));
                    return;
                }
            }
        }
    }

    /// Encodes everything into one body (after `head`), completed with what only the end
    /// knows.
    fn whole(mut self, head: Vec<u8>) -> Result<Vec<u8>, ApiError> {
        let mut body = head;
        while let Some(chunk) = self
            .next()
            .map_err(|e| ApiError::internal(format!("synthesis failed: {e}")))?
        {
            self.encode(&chunk, &mut body).map_err(ApiError::internal)?;
            if body.len() > MAX_WHOLE_BYTES {
                return Err(ApiError::too_large(
                    "audio_too_long",
                    format!(
                        "the audio is over {} MB; ask for it streamed (\"stream\": true)",
                        MAX_WHOLE_BYTES >> 20
                    ),
                ));
            }
        }
        self.finish(&mut body).map_err(ApiError::internal)?;
        self.encoder.complete(&mut body);
        Ok(body)
    }
}

enum Next {
    Audio(Vec<f32>),
    End,
    Error(String),
}

/// The next audio chunk (skipping word items), the end, or an error.
fn next_audio(rx: &Receiver<StreamItem>) -> Next {
    loop {
        match rx.recv() {
            Ok(StreamItem::Audio(b)) if b.is_empty() => continue,
            Ok(StreamItem::Audio(b)) => return Next::Audio(b),
            Ok(StreamItem::End) | Err(_) => return Next::End,
            Ok(StreamItem::Error(msg)) => return Next::Error(msg),
            Ok(_) => continue,
        }
    }
}
