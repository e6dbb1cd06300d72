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
    pub active_streams: AtomicUsize,
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
            engine,
            cfg,
            port,
            voice_names,
            bridge_events: tokio::sync::broadcast::channel(64).0,
            active_streams: AtomicUsize::new(0),
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

/// Which bounded resource a [`Slot`] is a place in.
#[derive(Debug, Clone, Copy)]
pub enum SlotKind {
    /// Audio streams (`Limits::max_audio_streams`).
    Audio,
    /// Event streams (`Limits::max_event_streams`).
    Events,
}

/// One of a bounded number of places (audio streams, event streams), given back on drop.
pub struct Slot {
    st: Arc<AppState>,
    kind: SlotKind,
}

impl Slot {
    fn counter(st: &AppState, kind: SlotKind) -> (&AtomicUsize, usize) {
        match kind {
            SlotKind::Audio => (&st.active_streams, st.cfg.limits.max_audio_streams),
            SlotKind::Events => (&st.event_streams, st.cfg.limits.max_event_streams),
        }
    }

    /// Takes a place if one is free.
    pub fn take(st: &Arc<AppState>, kind: SlotKind) -> Option<Slot> {
        let (counter, max) = Self::counter(st, kind);
        counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        Some(Slot {
            st: st.clone(),
            kind,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        Self::counter(&self.st, self.kind)
            .0
            .fetch_sub(1, Ordering::SeqCst);
    }
}
