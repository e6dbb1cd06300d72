//! What the handle, the synth thread and the playback thread share: the commands and messages
//! between them, and [`Core`], the state all three see.

use crate::config::{check_speed, SpeakOptions};
use crate::device::AudioControl;
use crate::error::Result;
use crate::events::{Event, State, UtteranceId};
use crate::lang_voices::{is_auto, LanguageVoices};
use crate::pipeline::{Model, Piece, Settings};
use crate::sync::lock;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
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
    /// The cancel flags of the PCM streams running on their own threads.
    pub streams: Mutex<Vec<std::sync::Weak<AtomicBool>>>,
    /// The voice of each language for text in another language ([`crate::LanguageVoices`]).
    pub language_voices: Mutex<LanguageVoices>,
    /// When the recent utterances reached each stage ([`crate::Engine::stages`]).
    pub stages: crate::stages::StageLog,
    /// Raised once, by [`super::Handle::shutdown`]: every model run ends at its next check and
    /// no new one starts.
    pub closed: Arc<AtomicBool>,
    /// Model runs in progress outside the synth thread (PCM streams, `synthesize_to_vec`,
    /// `synthesize_phonemes`), so that a shutdown can wait until none is inside the model.
    computing: Mutex<usize>,
    computing_done: Condvar,
}

/// The request with the voice that reads `text` (see [`crate::lang_voices`]): a request naming
/// its voice keeps it; the voice `auto`, and with [`LanguageVoices::enabled`] a request without
/// a voice, get the user's voice of the text's language when it is not the current voice's
/// (else the current voice).
pub(super) fn choose_voice(
    model: &Model,
    core: &Core,
    opts: &SpeakOptions,
    text: &str,
) -> SpeakOptions {
    let auto = opts.voice.as_deref().is_some_and(is_auto);
    if opts.voice.is_some() && !auto {
        return opts.clone();
    }
    let lv = lock(&core.language_voices).clone();
    if !auto && !lv.enabled {
        return opts.clone();
    }
    let current = core.settings().0.voice;
    let voice = match lv.pick(&current, text, |v| model.voices.resolve(v).is_ok()) {
        Some((lang, voice)) => {
            tracing::debug!(%lang, %voice, %current, "text in another language: its own voice");
            Some(voice)
        }
        None => auto.then_some(current),
    };
    SpeakOptions {
        voice,
        ..opts.clone()
    }
}

/// One model run counted in [`Core::computing`]; ends the count when dropped.
pub(super) struct Computing<'a>(&'a Core);

impl Drop for Computing<'_> {
    fn drop(&mut self) {
        let mut n = lock(&self.0.computing);
        *n -= 1;
        if *n == 0 {
            self.0.computing_done.notify_all();
        }
    }
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
            language_voices: Mutex::new(LanguageVoices::default()),
            stages: Default::default(),
            closed: Arc::new(AtomicBool::new(false)),
            computing: Mutex::new(0),
            computing_done: Condvar::new(),
        }
    }

    /// Counts a model run about to start outside the synth thread; `None` once the engine is
    /// shutting down (then nothing may start).
    pub fn enter(&self) -> Option<Computing<'_>> {
        let mut n = lock(&self.computing);
        if self.closed.load(Ordering::SeqCst) {
            return None;
        }
        *n += 1;
        Some(Computing(self))
    }

    /// Waits until no model run counted by [`Core::enter`] is in progress, or `deadline`
    /// passes; `true` if none is.
    pub fn wait_idle(&self, deadline: Instant) -> bool {
        let mut n = lock(&self.computing);
        while *n > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            n = self
                .computing_done
                .wait_timeout(n, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
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
