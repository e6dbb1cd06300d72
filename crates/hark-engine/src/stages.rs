//! When each stage of an utterance happened, for latency breakdowns ([`crate::Engine::stages`]):
//! the tray app logs them for every hotkey press, and its first-press benchmark reports them.

use crate::device::AudioControl;
use crate::events::UtteranceId;
use crate::sync::lock;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

/// Utterances whose stages are kept (the most recent ones).
const KEPT: usize = 16;

/// The stages of one utterance. Times are `std::time::Instant`s of this process; a stage not
/// reached (yet) is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stages {
    /// The utterance.
    pub id: UtteranceId,
    /// `speak` was called.
    pub queued: Instant,
    /// The synthesis thread took the request (its text processing starts).
    pub synth_started: Option<Instant>,
    /// The first audio was ready: the first window of the first chunk, handed to playback.
    pub first_audio: Option<Instant>,
    /// The first sample was handed to the output (the `Started` event).
    pub first_write: Option<Instant>,
    /// Device output: when the audio callback that copied the first sample out started.
    pub device_callback: Option<Instant>,
    /// Device output: when that sample is predicted to leave the device (the callback's time
    /// plus the latency cpal reports for it, see [`crate::device::FirstPlay`]).
    pub device_output: Option<Instant>,
}

/// The recent utterances' stages.
#[derive(Debug, Default)]
pub(crate) struct StageLog(Mutex<VecDeque<Stages>>);

impl StageLog {
    /// A new utterance, queued now.
    pub fn queued(&self, id: UtteranceId) {
        let mut v = lock(&self.0);
        if v.len() >= KEPT {
            v.pop_front();
        }
        v.push_back(Stages {
            id,
            queued: Instant::now(),
            synth_started: None,
            first_audio: None,
            first_write: None,
            device_callback: None,
            device_output: None,
        });
    }

    /// Sets a stage of `id` to now, unless it is set already.
    pub fn reached(&self, id: UtteranceId, stage: fn(&mut Stages) -> &mut Option<Instant>) {
        if let Some(s) = lock(&self.0).iter_mut().rev().find(|s| s.id == id) {
            stage(s).get_or_insert_with(Instant::now);
        }
    }

    /// Copies the device's record of the last marked frame (marked with the utterance id) to
    /// that utterance.
    pub fn note_device(&self, audio: &AudioControl) {
        let Some(p) = audio.first_play() else { return };
        let id = UtteranceId(p.tag);
        if let Some(s) = lock(&self.0).iter_mut().rev().find(|s| s.id == id) {
            s.device_callback.get_or_insert(p.callback);
            s.device_output.get_or_insert(p.output);
        }
    }

    /// The stages of `id`, if it is one of the recent utterances.
    pub fn get(&self, id: UtteranceId) -> Option<Stages> {
        lock(&self.0).iter().rev().find(|s| s.id == id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_recent_utterances_and_the_first_time_of_each_stage() {
        let log = StageLog::default();
        for i in 1..=KEPT as u64 + 2 {
            log.queued(UtteranceId(i));
        }
        assert!(
            log.get(UtteranceId(2)).is_none(),
            "the oldest are forgotten"
        );
        let id = UtteranceId(KEPT as u64 + 2);
        log.reached(id, |s| &mut s.first_audio);
        let first = log.get(id).unwrap().first_audio.unwrap();
        log.reached(id, |s| &mut s.first_audio);
        assert_eq!(log.get(id).unwrap().first_audio, Some(first));
        assert!(first >= log.get(id).unwrap().queued);
        assert_eq!(log.get(id).unwrap().first_write, None);
    }
}
