//! What the handle, the synth thread and the playback thread share: the commands and messages
//! between them, and [`Core`], the state all three see.

use crate::config::{check_speed, SpeakOptions};
use crate::device::AudioControl;
use crate::error::Result;
use crate::events::{Event, State, UtteranceId};
use crate::pipeline::{Model, Piece, Settings};
use crate::sync::lock;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// Events buffered per subscriber.
const EVENT_CAPACITY: usize = 4096;

/// Playback commands.
#[derive(Debug)]
pub(crate) enum Ctl {
    /// Cancel utterances begun before this stop epoch.
    Stop(u64),
    Pause,
    Resume,
    Skip,
    Previous,
    /// Open the output ahead of an utterance (see [`crate::Engine::prepare_output`]).
    Prepare,
    /// [`crate::EngineConfig::keep_audio_open`] changed (already stored in the core).
    KeepOpen(bool),
}

/// One `speak` request, queued for the synth thread.
pub(super) struct Job {
    pub id: UtteranceId,
    pub text: Arc<str>,
    pub opts: SpeakOptions,
    /// Stop epoch when it was queued.
    pub epoch: u64,
}

/// How the synthesis of an utterance ended.
pub(super) enum Outcome {
    Done,
    Cancelled,
    Failed(String),
}

/// From the synth thread to the playback thread.
pub(super) enum PlayMsg {
    Begin { id: UtteranceId, epoch: u64 },
    Piece { id: UtteranceId, piece: Piece },
    End { id: UtteranceId, outcome: Outcome },
}

/// State shared by the handle and both threads.
pub(super) struct Core {
    pub events: broadcast::Sender<Event>,
    pub state: Mutex<State>,
    pub stop_epoch: AtomicU64,
    /// An utterance whose synthesis must stop (its output failed).
    pub abort_id: AtomicU64,
    /// The model run in progress: its utterance, stop epoch and cancel flag (checked inside the
    /// forward pass, so a stop does not wait for a long chunk to finish).
    pub synth_flag: Mutex<Option<(UtteranceId, u64, Arc<AtomicBool>)>>,
    /// The default voice and speed, and a generation counted up at each change.
    pub settings: Mutex<(Settings, u64)>,
    pub volume: AtomicU32,
    pub audio: Arc<AudioControl>,
    /// Jobs accepted by `speak` and not yet handed to playback (or finished).
    pub queued: AtomicUsize,
    /// Samples handed to the sink since start.
    pub written: AtomicU64,
    /// Lateness of audio on the null output against a real-time clock (see
    /// [`crate::sink::NullSink`]).
    pub null_late_ns: Arc<AtomicU64>,
    /// On the null output: when the last utterance's first audible sample would have played
    /// (see [`crate::sink::NullSink::with_audible_slot`]).
    pub null_audible: Arc<Mutex<Option<Instant>>>,
    /// Origin of the playback clock ([`Core::play_clock`]).
    epoch: Instant,
    /// Time spent paused so far, ns.
    paused_ns: AtomicU64,
    /// When the current pause began (ns since `epoch`, plus one), or 0 when not paused.
    paused_at: AtomicU64,
    /// Keep the output open while idle ([`crate::EngineConfig::keep_audio_open`]).
    pub keep_open: AtomicBool,
    /// Raised by the first request (or a drop) to cut the start-up warm-up short.
    pub warming: Arc<AtomicBool>,
    /// What the warm-up did, once it is over.
    pub warm_up: Mutex<Option<crate::pipeline::WarmUp>>,
    /// The cancel flags of the PCM streams running on their own threads, and how many run.
    pub streams: Mutex<Vec<std::sync::Weak<AtomicBool>>>,
    pub running_streams: AtomicUsize,
}

/// Checks a request's overrides: the speed's range, and that the voice resolves.
pub(super) fn check_opts(model: &Model, opts: &SpeakOptions) -> Result<()> {
    if let Some(s) = opts.speed {
        check_speed(s)?;
    }
    if let Some(v) = &opts.voice {
        model.voices.resolve(v)?;
    }
    Ok(())
}

impl Core {
    /// A core in the loading state with these defaults.
    pub fn new(defaults: Settings, volume: f32, keep_open: bool) -> Core {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Core {
            events,
            state: Mutex::new(State::Loading),
            stop_epoch: AtomicU64::new(0),
            abort_id: AtomicU64::new(0),
            synth_flag: Mutex::new(None),
            settings: Mutex::new((defaults, 0)),
            volume: AtomicU32::new(volume.to_bits()),
            audio: Arc::new(AudioControl::default()),
            queued: AtomicUsize::new(0),
            written: AtomicU64::new(0),
            null_late_ns: Arc::new(AtomicU64::new(0)),
            null_audible: Arc::new(Mutex::new(None)),
            epoch: Instant::now(),
            paused_ns: AtomicU64::new(0),
            paused_at: AtomicU64::new(0),
            keep_open: AtomicBool::new(keep_open),
            warming: Arc::new(AtomicBool::new(false)),
            warm_up: Mutex::new(None),
            streams: Mutex::new(Vec::new()),
            running_streams: AtomicUsize::new(0),
        }
    }

    /// Raise the cancel flag of the model run in progress if `which(utterance, epoch)` says so.
    pub fn cancel_synthesis(&self, which: impl Fn(UtteranceId, u64) -> bool) {
        if let Some((id, epoch, flag)) = &*lock(&self.synth_flag) {
            if which(*id, *epoch) {
                flag.store(true, Ordering::SeqCst);
            }
        }
    }

    pub fn emit(&self, ev: Event) {
        tracing::trace!(?ev, "event");
        if ev.is_terminal() {
            let mut st = lock(&self.state);
            if matches!(*st, State::Speaking { id } | State::Paused { id } if Some(id) == ev.id()) {
                *st = State::Idle;
            }
        }
        // No subscriber is not an error.
        let _ = self.events.send(ev);
    }

    /// Pause or resume the audio output (and the playback clock).
    pub fn set_paused(&self, on: bool) {
        self.audio.set_paused(on);
        let now = self.epoch.elapsed().as_nanos() as u64 + 1;
        if on {
            let _ = self
                .paused_at
                .compare_exchange(0, now, Ordering::SeqCst, Ordering::SeqCst);
        } else {
            let at = self.paused_at.swap(0, Ordering::SeqCst);
            if at > 0 {
                self.paused_ns
                    .fetch_add(now.saturating_sub(at), Ordering::SeqCst);
            }
        }
    }

    /// Time that playback could have used since the engine started: wall time less pauses.
    /// The synthesis thread paces its work by it (see `pipeline::Pacer`).
    pub fn play_clock(&self) -> Duration {
        let now = self.epoch.elapsed().as_nanos() as u64 + 1;
        let at = self.paused_at.load(Ordering::SeqCst);
        let current = if at > 0 { now.saturating_sub(at) } else { 0 };
        let paused = self.paused_ns.load(Ordering::SeqCst) + current;
        Duration::from_nanos(now.saturating_sub(paused))
    }

    pub fn state(&self) -> State {
        *lock(&self.state)
    }

    pub fn set_state(&self, s: State) {
        *lock(&self.state) = s;
    }

    fn settings(&self) -> (Settings, u64) {
        lock(&self.settings).clone()
    }

    /// Changes the default voice or speed (from the next chunk, also of an utterance with its
    /// own, see [`Core::utterance_settings`]).
    pub fn change_settings(&self, change: impl FnOnce(&mut Settings)) {
        let mut s = lock(&self.settings);
        change(&mut s.0);
        s.1 += 1;
    }

    /// Settings for one utterance: its overrides until the defaults change.
    pub fn utterance_settings(&self, opts: &SpeakOptions) -> impl FnMut() -> Settings + '_ {
        let (base, generation) = self.settings();
        let mut first = Some(Settings {
            voice: opts.voice.clone().unwrap_or(base.voice),
            speed: opts.speed.unwrap_or(base.speed),
        });
        move || {
            let (now, gen_now) = self.settings();
            if gen_now != generation {
                first = None;
            }
            first.clone().unwrap_or(now)
        }
    }
}
