//! Streaming audio responses: a WAV header for streams of unknown length and
//! the pump that moves the engine's chunks into the HTTP body as they come.

use crate::error::ApiError;
use crate::AppState;
use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hark_engine::{PcmFormat, SpeakOptions, StreamItem};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use hark_engine::SAMPLE_RATE;

/// How the audio is wrapped on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioFormat {
    /// RIFF/WAVE, 16-bit PCM, with "unknown length" sizes (0xFFFFFFFF) since it streams.
    Wav,
    /// Raw signed 16-bit little-endian PCM.
    PcmS16le,
    /// Raw 32-bit float little-endian PCM.
    PcmF32le,
}

impl AudioFormat {
    fn pcm(self) -> PcmFormat {
        match self {
            AudioFormat::Wav | AudioFormat::PcmS16le => PcmFormat::S16le,
            AudioFormat::PcmF32le => PcmFormat::F32le,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            AudioFormat::Wav => "audio/wav",
            AudioFormat::PcmS16le => "audio/L16;rate=24000;channels=1",
            AudioFormat::PcmF32le => "application/octet-stream",
        }
    }

    fn sample_format(self) -> &'static str {
        match self {
            AudioFormat::Wav | AudioFormat::PcmS16le => "s16le",
            AudioFormat::PcmF32le => "f32le",
        }
    }
}

/// A 44-byte WAV header for 16-bit mono PCM at [`SAMPLE_RATE`] whose RIFF and
/// data sizes are 0xFFFFFFFF ("until end of stream"), as streaming encoders do.
pub fn streaming_wav_header() -> [u8; 44] {
    let mut h = [0u8; 44];
    let bits: u16 = 16;
    let channels: u16 = 1;
    let block_align = channels * bits / 8;
    let byte_rate = SAMPLE_RATE * u32::from(block_align);
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&channels.to_le_bytes());
    h[24..28].copy_from_slice(&SAMPLE_RATE.to_le_bytes());
    h[28..32].copy_from_slice(&byte_rate.to_le_bytes());
    h[32..34].copy_from_slice(&block_align.to_le_bytes());
    h[34..36].copy_from_slice(&bits.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    h
}

/// Decrements the active-stream counter when the pump ends, however it ends.
struct StreamGuard(Arc<AppState>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.active_streams.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Starts synthesis of `text` and answers with a chunked audio body.
///
/// The response is sent once the engine hands over its first item: an engine
/// failure before any audio becomes a JSON error; afterwards each audio chunk
/// is written to the body as soon as it arrives. A client that goes away drops
/// the body, which drops the engine's receiver and so ends the synthesis.
pub async fn stream_response(
    st: Arc<AppState>,
    text: String,
    opts: SpeakOptions,
    format: AudioFormat,
) -> Result<Response, ApiError> {
    let engine = st.engine.clone();
    st.active_streams.fetch_add(1, Ordering::SeqCst);
    let guard = StreamGuard(st.clone());
    let pcm = format.pcm();
    let (rx, first) = tokio::task::spawn_blocking(move || {
        let rx = engine.synthesize_stream(&text, opts, pcm)?;
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

    let (tx, body_rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    if format == AudioFormat::Wav {
        let _ = tx.try_send(Ok(Bytes::copy_from_slice(&streaming_wav_header())));
    }
    tokio::task::spawn_blocking(move || {
        let _guard = guard;
        let Some(first) = first else { return };
        if tx.blocking_send(Ok(Bytes::from(first))).is_err() {
            return;
        }
        loop {
            match next_audio(&rx) {
                Next::Audio(b) => {
                    if tx.blocking_send(Ok(Bytes::from(b))).is_err() {
                        tracing::debug!("client went away; dropping the synthesis stream");
                        return;
                    }
                }
                Next::End => return,
                Next::Error(msg) => {
                    tracing::warn!(error = %msg, "synthesis failed mid-stream");
                    let _ = tx.blocking_send(Err(std::io::Error::other(msg)));
                    return;
                }
            }
        }
    });

    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(body_rx));
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-sample-rate", HeaderValue::from(SAMPLE_RATE));
    h.insert("x-channels", HeaderValue::from_static("1"));
    h.insert(
        "x-sample-format",
        HeaderValue::from_static(format.sample_format()),
    );
    Ok(resp)
}

enum Next {
    Audio(Vec<u8>),
    End,
    Error(String),
}

/// The next audio chunk (skipping word items), the end, or an error.
fn next_audio(rx: &std::sync::mpsc::Receiver<StreamItem>) -> Next {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_header_fields() {
        let h = streaming_wav_header();
        assert_eq!(&h[0..4], b"RIFF");
        assert_eq!(&h[8..16], b"WAVEfmt ");
        assert_eq!(u16::from_le_bytes([h[22], h[23]]), 1);
        assert_eq!(u32::from_le_bytes([h[24], h[25], h[26], h[27]]), 24_000);
        assert_eq!(u32::from_le_bytes([h[28], h[29], h[30], h[31]]), 48_000);
        assert_eq!(u16::from_le_bytes([h[34], h[35]]), 16);
        assert_eq!(&h[36..40], b"data");
    }
}
