//! The state every handler and layer shares, the events the bridge adds to the engine's, and
//! the bounded places (audio and event streams) requests take from it.

use crate::config::BridgeConfig;
use crate::policy::{extension_id, RateLimiter, Refusals};
use crate::speaks::SpeakQueue;
use crate::EXTENSION_ID;
use hark_engine::Engine;
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Events the bridge adds to the engine's on `/v1/events`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum BridgeEvent {
    /// A `speak` request was accepted: its id and exactly the text queued.
    Utterance {
        id: u64,
        text: String,
        voice: Option<String>,
        speed: Option<f64>,
    },
}

/// Shared state of the handlers and layers.
pub(crate) struct AppState {
    pub engine: Engine,
    pub cfg: BridgeConfig,
    /// The port actually listened on (for the Host check).
    pub port: u16,
    pub voice_names: Vec<String>,
    pub limiter: RateLimiter,
    pub global: RateLimiter,
    pub refusals: Refusals,
    pub bridge_events: tokio::sync::broadcast::Sender<BridgeEvent>,
    /// Audio streams running (each holds one of `audio_slots`).
    pub active_streams: AtomicUsize,
    /// Audio requests waiting for a slot.
    pub waiting_streams: AtomicUsize,
    /// The places of running audio streams, handed out in the order they were asked for.
    pub audio_slots: Arc<tokio::sync::Semaphore>,
    pub event_streams: AtomicUsize,
    pub speaks: SpeakQueue,
    /// Becomes true when the server shuts down (ends open event streams).
    pub closing: tokio::sync::watch::Receiver<bool>,
}

impl AppState {
    pub fn new(
        engine: Engine,
        cfg: BridgeConfig,
        port: u16,
        closing: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        let voice_names = engine.voices().into_iter().map(|v| v.name).collect();
        Self {
            limiter: RateLimiter::new(cfg.rate_limit_per_min, cfg.limits.max_rate_clients),
            global: RateLimiter::new(cfg.limits.global_rate_limit_per_min, 1),
            refusals: Refusals::default(),
            speaks: SpeakQueue::new(cfg.limits.max_queued_speaks),
            audio_slots: Arc::new(tokio::sync::Semaphore::new(cfg.limits.max_audio_streams)),
            engine,
            cfg,
            port,
            voice_names,
            bridge_events: tokio::sync::broadcast::channel(64).0,
            active_streams: AtomicUsize::new(0),
            waiting_streams: AtomicUsize::new(0),
            event_streams: AtomicUsize::new(0),
            closing,
        }
    }

    /// The extension id of `origin` (`chrome-extension://<id>`, a trailing slash allowed) if
    /// that extension is allowlisted.
    pub fn allowlisted_extension(&self, origin: &str) -> Option<String> {
        let id = extension_id(origin)?;
        (id == EXTENSION_ID || self.cfg.allowed_extension_ids.iter().any(|a| a == id))
            .then(|| id.to_string())
    }
}

/// One of the [`Limits::max_event_streams`](crate::Limits::max_event_streams) places of
/// event streams, given back on drop.
pub struct EventSlot {
    st: Arc<AppState>,
}

impl EventSlot {
    /// Takes a place if one is free.
    pub fn take(st: &Arc<AppState>) -> Option<EventSlot> {
        let max = st.cfg.limits.max_event_streams;
        st.event_streams
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        Some(EventSlot { st: st.clone() })
    }
}

impl Drop for EventSlot {
    fn drop(&mut self) {
        self.st.event_streams.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Why an audio request got no place.
pub enum NoAudioSlot {
    /// As many requests wait already as may.
    Full,
    /// The server is shutting down.
    Closing,
}

/// The place of a running audio stream, one of
/// [`Limits::max_audio_streams`](crate::Limits::max_audio_streams); given back on drop, to
/// the request that has waited longest.
pub struct AudioSlot {
    st: Arc<AppState>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

/// Counts one waiting request while it lives (a request whose client goes away stops waiting).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl AudioSlot {
    /// A place at once if one is free; else a place in turn, after the requests that waited
    /// before (at most [`Limits::max_waiting_streams`](crate::Limits::max_waiting_streams)
    /// wait at once).
    pub async fn take(st: &Arc<AppState>) -> Result<AudioSlot, NoAudioSlot> {
        let slots = st.audio_slots.clone();
        // Free places go to waiting requests first (the semaphore is fair), so a free one
        // here means nobody is waiting.
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                let max = st.cfg.limits.max_waiting_streams;
                st.waiting_streams
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                        (n < max).then_some(n + 1)
                    })
                    .map_err(|_| NoAudioSlot::Full)?;
                let _waiting = Waiting(&st.waiting_streams);
                let mut closing = st.closing.clone();
                tokio::select! {
                    p = slots.acquire_owned() => p.map_err(|_| NoAudioSlot::Closing)?,
                    _ = closing.wait_for(|c| *c) => return Err(NoAudioSlot::Closing),
                }
            }
        };
        st.active_streams.fetch_add(1, Ordering::SeqCst);
        Ok(AudioSlot {
            st: st.clone(),
            _permit: permit,
        })
    }
}

impl Drop for AudioSlot {
    fn drop(&mut self) {
        // The count goes down before the permit goes to the next request.
        self.st.active_streams.fetch_sub(1, Ordering::SeqCst);
    }
}
