//! The utterances `/v1/speak` queued: how many are pending, and which are to be stopped as soon
//! as they start.

use hark_base::lock;
use hark_engine::{Event, SpeakOptions, State as EngineState, UtteranceId};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The utterances `/v1/speak` queued that have not ended: bounded by `max`.
pub struct SpeakQueue {
    /// Utterances that may be pending at once.
    pub max: usize,
    pending: Mutex<HashSet<UtteranceId>>,
    /// Queued utterances to stop as soon as they start.
    cancel: Mutex<HashSet<UtteranceId>>,
    len: AtomicUsize,
}

impl SpeakQueue {
    pub fn new(max: usize) -> Self {
        SpeakQueue {
            max,
            pending: Mutex::new(HashSet::new()),
            cancel: Mutex::new(HashSet::new()),
            len: AtomicUsize::new(0),
        }
    }

    pub fn len(&self) -> usize {
        self.len.load(Ordering::SeqCst)
    }

    /// Queues `text` unless `max` utterances are pending. The lock is held across
    /// `Engine::speak`, so the tracker cannot see the end of an utterance before it is counted.
    pub fn speak(
        &self,
        engine: &hark_engine::Engine,
        text: &str,
        opts: SpeakOptions,
    ) -> Option<UtteranceId> {
        let mut p = lock(&self.pending);
        if p.len() >= self.max {
            return None;
        }
        let id = engine.speak(text, opts);
        p.insert(id);
        self.len.store(p.len(), Ordering::SeqCst);
        Some(id)
    }

    pub fn cancel_when_started(&self, id: UtteranceId) -> bool {
        let pending = lock(&self.pending).contains(&id);
        if pending {
            lock(&self.cancel).insert(id);
        }
        pending
    }

    /// Handles one engine event; returns true when the utterance must be stopped now.
    pub fn on_event(&self, ev: &Event) -> bool {
        let Some(id) = ev.id() else { return false };
        if ev.is_terminal() {
            let mut p = lock(&self.pending);
            p.remove(&id);
            self.len.store(p.len(), Ordering::SeqCst);
            lock(&self.cancel).remove(&id);
            return false;
        }
        matches!(ev, Event::Started { .. }) && lock(&self.cancel).remove(&id)
    }

    /// Events were missed: if nothing is playing, nothing of ours is pending either.
    pub fn resync(&self, engine: &hark_engine::Engine) {
        if engine.state() == EngineState::Idle {
            let mut p = lock(&self.pending);
            p.clear();
            self.len.store(0, Ordering::SeqCst);
        }
    }
}
