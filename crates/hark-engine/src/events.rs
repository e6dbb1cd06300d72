//! Events, utterance ids and the engine state.

use serde::Serialize;
use std::ops::Range;

/// Identifies one `speak` request. Ids increase monotonically per engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UtteranceId(pub u64);

impl std::fmt::Display for UtteranceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What the worker is doing right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Nothing queued or playing.
    Idle,
    /// The model is being loaded.
    Loading,
    /// Utterance `id` is being synthesized / played.
    Speaking {
        /// The utterance.
        id: UtteranceId,
    },
    /// Utterance `id` is paused.
    Paused {
        /// The utterance.
        id: UtteranceId,
    },
}

/// Something that happened to an utterance. Broadcast to every subscriber.
///
/// Each utterance gets `Queued`, then (unless it is empty) `Started`, chunk,
/// sentence and word events, and ends with exactly one of `Finished`,
/// `Cancelled` or `Error { id: Some(..) }`. Empty or whitespace-only text ends
/// with `Finished` right after `Queued`, with nothing spoken.
///
/// Times (`start_ms`, `end_ms`) are milliseconds of audio from the start of the
/// utterance (pauses do not count). Source ranges are byte ranges into the
/// text given to `speak`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The utterance entered the queue.
    Queued {
        /// The utterance.
        id: UtteranceId,
    },
    /// The first sample of the utterance was handed to the sink.
    Started {
        /// The utterance.
        id: UtteranceId,
    },
    /// A model chunk starts playing.
    ChunkStarted {
        /// The utterance.
        id: UtteranceId,
        /// Chunk number within the utterance, from 0.
        index: usize,
        /// Source text of the chunk.
        src: Range<usize>,
        /// The voice (name or blend) that speaks it: the request's, the engine's, or the voice
        /// of the text's language ([`crate::LanguageVoices`]).
        voice: String,
    },
    /// A sentence starts playing.
    Sentence {
        /// The utterance.
        id: UtteranceId,
        /// Source text of the sentence.
        src: Range<usize>,
    },
    /// A word starts playing.
    Word {
        /// The utterance.
        id: UtteranceId,
        /// Source text of the word.
        src: Range<usize>,
        /// Audio time where the word starts.
        start_ms: u64,
        /// Audio time where the word ends.
        end_ms: u64,
    },
    /// Playback paused.
    Paused {
        /// The utterance.
        id: UtteranceId,
    },
    /// Playback resumed.
    Resumed {
        /// The utterance.
        id: UtteranceId,
    },
    /// All audio of the utterance was handed to the sink (and played, for a device).
    Finished {
        /// The utterance.
        id: UtteranceId,
    },
    /// The utterance was stopped (by `stop`) before it finished.
    Cancelled {
        /// The utterance.
        id: UtteranceId,
    },
    /// Something failed. `id` is `None` for failures not tied to one utterance.
    Error {
        /// The utterance, if any.
        id: Option<UtteranceId>,
        /// Human-readable description.
        message: String,
    },
}

impl Event {
    /// The utterance this event belongs to, if any.
    pub fn id(&self) -> Option<UtteranceId> {
        match self {
            Event::Queued { id }
            | Event::Started { id }
            | Event::ChunkStarted { id, .. }
            | Event::Sentence { id, .. }
            | Event::Word { id, .. }
            | Event::Paused { id }
            | Event::Resumed { id }
            | Event::Finished { id }
            | Event::Cancelled { id } => Some(*id),
            Event::Error { id, .. } => *id,
        }
    }

    /// True for the events that end an utterance.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Event::Finished { .. } | Event::Cancelled { .. } | Event::Error { id: Some(_), .. }
        )
    }
}
