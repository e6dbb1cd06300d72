//! The worker threads.
//!
//! * the **synth thread** loads the model once, then takes jobs from the queue
//!   and turns each into [`Piece`]s, checking the stop epoch between chunks;
//! * the **playback thread** owns the sink, keeps the current and the previous
//!   sentence (for skip / previous), writes small blocks while the sink has
//!   room, and turns markers into events once their audio has played.
//!
//! The two are joined by a bounded channel (one piece in flight) and a bounded
//! look-ahead in the playback thread, so memory stays flat for any text length.

use crate::audio::apply_gain;
use crate::device::{AudioControl, DevicePlayer, DeviceStats};
use crate::error::{Error, Result};
use crate::events::{Event, State, UtteranceId};
use crate::pipeline::{self, Model, Piece, Settings};
use crate::sink::{DeviceSink, NullSink, PcmStreamSink, Sink, WavSink};
use crate::timing::samples_to_ms;
use crate::voice::{voice_info, VoiceInfo};
use crate::{EngineConfig, Output, PcmFormat, SpeakOptions, StreamItem};
use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// Samples written to the sink per step (10 ms).
const BLOCK: usize = 240;
/// Audio the playback thread holds ahead of its write cursor before it stops
/// taking pieces from the synth thread.
const LOOKAHEAD: usize = 24_000 * 3;
/// Close the device after this long with nothing to play.
const IDLE_CLOSE: Duration = Duration::from_secs(3);
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

struct Job {
    id: UtteranceId,
    text: Arc<str>,
    opts: SpeakOptions,
    epoch: u64,
}

enum Outcome {
    Done,
    Cancelled,
    Failed(String),
}

enum PlayMsg {
    Begin { id: UtteranceId, epoch: u64 },
    Piece { id: UtteranceId, piece: Piece },
    End { id: UtteranceId, outcome: Outcome },
}

/// State shared by the handle and both threads.
struct Core {
    events: broadcast::Sender<Event>,
    state: Mutex<State>,
    stop_epoch: AtomicU64,
    /// An utterance whose synthesis must stop (its output failed).
    abort_id: AtomicU64,
    /// The model run in progress: its utterance, stop epoch and cancel flag (checked inside the
    /// forward pass, so a stop does not wait for a long chunk to finish).
    synth_flag: Mutex<Option<(UtteranceId, u64, Arc<AtomicBool>)>>,
    settings: Mutex<(Settings, u64)>,
    volume: AtomicU32,
    audio: Arc<AudioControl>,
    model: Mutex<Option<Arc<Model>>>,
    /// Jobs accepted by `speak` and not yet handed to playback (or finished).
    queued: AtomicUsize,
    /// Samples handed to the sink since start.
    written: AtomicU64,
    /// Lateness of audio on the null output against a real-time clock (see [`NullSink`]).
    null_late_ns: Arc<AtomicU64>,
    /// Origin of the playback clock ([`Core::play_clock`]).
    epoch: Instant,
    /// Time spent paused so far, ns.
    paused_ns: AtomicU64,
    /// When the current pause began (ns since `epoch`, plus one), or 0 when not paused.
    paused_at: AtomicU64,
    /// Keep the output open while idle ([`crate::EngineConfig::keep_audio_open`]).
    keep_open: AtomicBool,
    /// Raised by the first request (or a drop) to cut the start-up warm-up short.
    warming: Arc<AtomicBool>,
    /// What the warm-up did, once it is over.
    warm_up: Mutex<Option<pipeline::WarmUp>>,
    /// The cancel flags of the PCM streams running on their own threads, and how many run.
    streams: Mutex<Vec<std::sync::Weak<AtomicBool>>>,
    running_streams: AtomicUsize,
}

/// Lock a mutex, carrying on with the data if a panicking thread poisoned it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Core {
    /// Raise the cancel flag of the model run in progress if `which(utterance, epoch)` says so.
    fn cancel_synthesis(&self, which: impl Fn(UtteranceId, u64) -> bool) {
        if let Some((id, epoch, flag)) = &*lock(&self.synth_flag) {
            if which(*id, *epoch) {
                flag.store(true, Ordering::SeqCst);
            }
        }
    }

    fn emit(&self, ev: Event) {
        tracing::trace!(?ev, "event");
        if ev.is_terminal() {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if matches!(*st, State::Speaking { id } | State::Paused { id } if Some(id) == ev.id()) {
                *st = State::Idle;
            }
        }
        // No subscriber is not an error.
        let _ = self.events.send(ev);
    }

    /// Pause or resume the audio output (and the playback clock).
    fn set_paused(&self, on: bool) {
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
    fn play_clock(&self) -> Duration {
        let now = self.epoch.elapsed().as_nanos() as u64 + 1;
        let at = self.paused_at.load(Ordering::SeqCst);
        let current = if at > 0 { now.saturating_sub(at) } else { 0 };
        let paused = self.paused_ns.load(Ordering::SeqCst) + current;
        Duration::from_nanos(now.saturating_sub(paused))
    }

    fn set_state(&self, s: State) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = s;
    }

    fn settings(&self) -> (Settings, u64) {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn model(&self) -> Result<Arc<Model>> {
        self.model
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| Error::Disconnected("model not loaded".into()))
    }

    /// Settings for one utterance: its overrides until the defaults change.
    fn utterance_settings(&self, opts: &SpeakOptions) -> impl FnMut() -> Settings + '_ {
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

/// The engine's side of the worker.
pub(crate) struct Handle {
    core: Arc<Core>,
    jobs: Sender<Job>,
    ctl: Sender<Ctl>,
    next_id: AtomicU64,
    /// The synth and playback threads, joined on drop.
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// How long dropping the engine waits for its threads to finish what they were doing.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(2);

/// Joins `t` if it finishes before `deadline`; otherwise leaves it running (detached).
fn join_by(t: std::thread::JoinHandle<()>, deadline: Instant) {
    while !t.is_finished() {
        if Instant::now() >= deadline {
            tracing::warn!(thread = ?t.thread().name(), "engine thread still busy at shutdown");
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = t.join();
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

enum SinkKind {
    Device,
    Null,
    Wav(WavSink),
}

impl Drop for Handle {
    fn drop(&mut self) {
        // Last engine handle gone: silence the device and let the threads wind down
        // (they exit when their channels close).
        self.core.stop_epoch.fetch_add(1, Ordering::SeqCst);
        self.core.warming.store(true, Ordering::SeqCst);
        self.core.cancel_synthesis(|_, _| true);
        for flag in lock(&self.core.streams).drain(..) {
            if let Some(f) = flag.upgrade() {
                f.store(true, Ordering::SeqCst);
            }
        }
        self.core.audio.request_discard();
        // Then wait (briefly) for the threads to leave the model: a process that exits while a
        // thread is inside a matrix product can crash in the math library's exit handler.
        // Closing the job channel ends the synth thread, which holds the last other command
        // sender; closing ours then ends the playback thread.
        let deadline = Instant::now() + SHUTDOWN_WAIT;
        let mut threads = std::mem::take(&mut self.threads).into_iter();
        drop(std::mem::replace(&mut self.jobs, unbounded().0));
        if let Some(t) = threads.next() {
            join_by(t, deadline);
        }
        drop(std::mem::replace(&mut self.ctl, unbounded().0));
        for t in threads {
            join_by(t, deadline);
        }
        while self.core.running_streams.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Handle {
    pub(crate) fn start(cfg: EngineConfig) -> Result<Handle> {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let core = Arc::new(Core {
            events,
            state: Mutex::new(State::Loading),
            stop_epoch: AtomicU64::new(0),
            abort_id: AtomicU64::new(0),
            synth_flag: Mutex::new(None),
            settings: Mutex::new((
                Settings {
                    voice: cfg.voice.clone(),
                    speed: cfg.speed,
                },
                0,
            )),
            volume: AtomicU32::new(cfg.volume.to_bits()),
            audio: Arc::new(AudioControl::default()),
            model: Mutex::new(None),
            queued: AtomicUsize::new(0),
            written: AtomicU64::new(0),
            null_late_ns: Arc::new(AtomicU64::new(0)),
            epoch: Instant::now(),
            paused_ns: AtomicU64::new(0),
            paused_at: AtomicU64::new(0),
            keep_open: AtomicBool::new(cfg.keep_audio_open),
            warming: Arc::new(AtomicBool::new(false)),
            warm_up: Mutex::new(None),
            streams: Mutex::new(Vec::new()),
            running_streams: AtomicUsize::new(0),
        });
        let realtime = !matches!(cfg.output, Output::Wav(_));
        let sink = match &cfg.output {
            Output::Device => SinkKind::Device,
            Output::Null => SinkKind::Null,
            Output::Wav(p) => SinkKind::Wav(WavSink::create(p)?),
        };
        let (jobs_tx, jobs_rx) = unbounded::<Job>();
        let (ctl_tx, ctl_rx) = unbounded::<Ctl>();
        let (play_tx, play_rx) = bounded::<PlayMsg>(1);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<()>>();

        let synth_core = core.clone();
        let ctl_prime = ctl_tx.clone();
        let synth = std::thread::Builder::new()
            .name("hark-synth".into())
            .spawn(move || {
                let started = Instant::now();
                let model = match Model::load(&cfg) {
                    Ok(m) => Arc::new(m),
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "model loaded"
                );
                if let Err(e) = model.voices.resolve(&cfg.voice) {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
                *synth_core.model.lock().unwrap_or_else(|e| e.into_inner()) = Some(model.clone());
                synth_core.set_state(State::Idle);
                let _ = ready_tx.send(Ok(()));
                // Open the sound output once now (it closes again when idle): the first request
                // then finds the audio libraries loaded and the device known.
                let _ = ctl_prime.send(Ctl::Prepare);
                // Ready for requests; until the first one arrives, warm up.
                match model.warm_up(&cfg.voice, &synth_core.warming) {
                    Ok(w) => {
                        tracing::info!(
                            secs = w.secs,
                            frames = w.frames,
                            complete = w.complete,
                            "warm-up"
                        );
                        *lock(&synth_core.warm_up) = Some(w);
                    }
                    Err(e) => tracing::warn!(error = %e, "warm-up failed"),
                }
                synth_loop(&synth_core, &model, jobs_rx, play_tx, realtime);
            })?;

        let play_core = core.clone();
        let playback = std::thread::Builder::new()
            .name("hark-playback".into())
            .spawn(move || {
                let sink: Box<dyn Sink> = match sink {
                    SinkKind::Device => {
                        Box::new(DeviceSink::new(DevicePlayer::new(play_core.audio.clone())))
                    }
                    SinkKind::Null => {
                        Box::new(NullSink::with_late_counter(play_core.null_late_ns.clone()))
                    }
                    SinkKind::Wav(w) => Box::new(w),
                };
                Playback::new(play_core, sink, ctl_rx, play_rx).run();
            })?;

        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(Error::Model("the worker thread died while loading".into())),
        }
        Ok(Handle {
            core,
            jobs: jobs_tx,
            ctl: ctl_tx,
            next_id: AtomicU64::new(1),
            threads: vec![synth, playback],
        })
    }

    pub(crate) fn speak(&self, text: &str, opts: SpeakOptions) -> UtteranceId {
        // A request does not wait for the warm-up.
        self.core.warming.store(true, Ordering::SeqCst);
        let id = UtteranceId(self.next_id.fetch_add(1, Ordering::SeqCst));
        let epoch = self.core.stop_epoch.load(Ordering::SeqCst);
        self.core.emit(Event::Queued { id });
        self.core.queued.fetch_add(1, Ordering::SeqCst);
        let job = Job {
            id,
            text: Arc::from(text),
            opts,
            epoch,
        };
        if self.jobs.send(job).is_err() {
            self.core.queued.fetch_sub(1, Ordering::SeqCst);
            self.core.emit(Event::Error {
                id: Some(id),
                message: "the speech worker is not running".into(),
            });
        }
        id
    }

    pub(crate) fn stop(&self) {
        let epoch = self.core.stop_epoch.fetch_add(1, Ordering::SeqCst) + 1;
        self.core.cancel_synthesis(|_, e| e < epoch);
        // Straight to the audio callback: drop what is buffered, no waiting on threads.
        self.core.audio.request_discard();
        self.core.set_paused(false);
        let _ = self.ctl.send(Ctl::Stop(epoch));
    }

    pub(crate) fn pause(&self) {
        self.core.set_paused(true);
        let _ = self.ctl.send(Ctl::Pause);
    }

    pub(crate) fn resume(&self) {
        self.core.set_paused(false);
        let _ = self.ctl.send(Ctl::Resume);
    }

    pub(crate) fn control(&self, c: Ctl) {
        let _ = self.ctl.send(c);
    }

    pub(crate) fn set_voice(&self, v: &str) -> Result<()> {
        let model = self.core.model()?;
        model.voices.resolve(v)?;
        let mut s = self.core.settings.lock().unwrap_or_else(|e| e.into_inner());
        s.0.voice = v.trim().to_string();
        s.1 += 1;
        Ok(())
    }

    pub(crate) fn set_speed(&self, speed: f32) {
        let mut s = self.core.settings.lock().unwrap_or_else(|e| e.into_inner());
        s.0.speed = speed;
        s.1 += 1;
    }

    pub(crate) fn set_keep_audio_open(&self, on: bool) {
        self.core.keep_open.store(on, Ordering::SeqCst);
        let _ = self.ctl.send(Ctl::KeepOpen(on));
    }

    pub(crate) fn set_fast_start(&self, on: bool) {
        if let Ok(m) = self.core.model() {
            m.fast_start.store(on, Ordering::Relaxed);
        }
    }

    pub(crate) fn set_volume(&self, v: f32) {
        self.core.volume.store(v.to_bits(), Ordering::SeqCst);
    }

    pub(crate) fn warm_up(&self, timeout: Duration) -> Option<pipeline::WarmUp> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(w) = *lock(&self.core.warm_up) {
                return Some(w);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub(crate) fn state(&self) -> State {
        *self.core.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.core.events.subscribe()
    }

    pub(crate) fn voices(&self) -> Vec<VoiceInfo> {
        match self.core.model() {
            Ok(m) => m.voices.names().iter().map(|n| voice_info(n)).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Samples handed to the sink since the engine started.
    pub(crate) fn samples_written(&self) -> u64 {
        self.core.written.load(Ordering::Relaxed)
    }

    pub(crate) fn null_late(&self) -> Duration {
        Duration::from_nanos(self.core.null_late_ns.load(Ordering::Relaxed))
    }

    pub(crate) fn device_stats(&self) -> DeviceStats {
        self.core.audio.stats()
    }

    pub(crate) fn simulate_device_loss(&self) {
        self.core.audio.simulate_device_loss();
    }

    fn check_opts(&self, opts: &SpeakOptions) -> Result<()> {
        if let Some(s) = opts.speed {
            crate::check_speed(s)?;
        }
        if let Some(v) = &opts.voice {
            self.core.model()?.voices.resolve(v)?;
        }
        Ok(())
    }

    pub(crate) fn synthesize_stream(
        &self,
        text: &str,
        opts: SpeakOptions,
        format: PcmFormat,
    ) -> Result<std::sync::mpsc::Receiver<StreamItem>> {
        self.check_opts(&opts)?;
        self.core.warming.store(true, Ordering::SeqCst);
        let model = self.core.model()?;
        let core = self.core.clone();
        let text: Arc<str> = Arc::from(text);
        let (tx, rx) = std::sync::mpsc::sync_channel(crate::STREAM_BUFFER);
        // Raised when the client goes away, or the engine is dropped.
        let gone = Arc::new(AtomicBool::new(false));
        {
            let mut streams = lock(&self.core.streams);
            streams.retain(|f| f.strong_count() > 0);
            streams.push(Arc::downgrade(&gone));
        }
        struct Running<'a>(&'a AtomicUsize);
        impl Drop for Running<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        std::thread::Builder::new()
            .name("hark-stream".into())
            .spawn(move || {
                // (an engine dropped before this point has raised `gone`: no model work follows)
                core.running_streams.fetch_add(1, Ordering::SeqCst);
                let _running = Running(&core.running_streams);
                let mut sink = PcmStreamSink::new(format, tx.clone());
                // The client plays the stream as it arrives: pace by the wall clock.
                let started = Instant::now();
                let clock = || started.elapsed();
                let res = pipeline::synthesize(
                    &model,
                    &text,
                    core.utterance_settings(&opts),
                    || gone.load(Ordering::Relaxed),
                    Some(&gone),
                    Some(&clock),
                    |piece| {
                        for w in &piece.words {
                            let item = StreamItem::Word {
                                src: w.src.clone(),
                                start_ms: samples_to_ms(piece.start + w.start as u64),
                                end_ms: samples_to_ms(piece.start + w.end as u64),
                            };
                            if tx.send(item).is_err() {
                                gone.store(true, Ordering::Relaxed);
                                return false;
                            }
                        }
                        if sink.write(&piece.audio).is_err() {
                            gone.store(true, Ordering::Relaxed);
                            return false;
                        }
                        true
                    },
                );
                let last = match res {
                    Ok(_) => StreamItem::End,
                    Err(e) => StreamItem::Error(e.to_string()),
                };
                let _ = tx.send(last);
            })?;
        Ok(rx)
    }

    pub(crate) fn synthesize_to_vec(&self, text: &str, opts: SpeakOptions) -> Result<Vec<f32>> {
        self.check_opts(&opts)?;
        self.core.warming.store(true, Ordering::SeqCst);
        let model = self.core.model()?;
        let mut out = Vec::new();
        pipeline::synthesize(
            &model,
            text,
            self.core.utterance_settings(&opts),
            || false,
            None,
            None,
            |piece| {
                out.extend_from_slice(&piece.audio);
                true
            },
        )?;
        Ok(out)
    }
}

/// `realtime`: the output plays as it goes (device, null), so synthesis is paced to keep it fed;
/// a file output gets the same chunks whatever the timing.
fn synth_loop(
    core: &Arc<Core>,
    model: &Model,
    jobs: Receiver<Job>,
    play: Sender<PlayMsg>,
    realtime: bool,
) {
    for job in jobs {
        // Handed over (Begin) or finished here, either way no longer queued.
        struct Dequeued<'a>(&'a AtomicUsize);
        impl Drop for Dequeued<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let dequeued = Dequeued(&core.queued);
        let id = job.id;
        let cancelled = || {
            core.stop_epoch.load(Ordering::SeqCst) != job.epoch
                || core.abort_id.load(Ordering::SeqCst) == id.0
        };
        if cancelled() {
            core.emit(Event::Cancelled { id });
            continue;
        }
        if job.text.trim().is_empty() {
            // Nothing to say: a no-op, not an error sound.
            core.emit(Event::Finished { id });
            continue;
        }
        if let Err(e) = check_job(core, model, &job.opts) {
            core.emit(Event::Error {
                id: Some(id),
                message: e.to_string(),
            });
            continue;
        }
        if play
            .send(PlayMsg::Begin {
                id,
                epoch: job.epoch,
            })
            .is_err()
        {
            return;
        }
        drop(dequeued);
        let flag = Arc::new(AtomicBool::new(false));
        let clock = || core.play_clock();
        *lock(&core.synth_flag) = Some((id, job.epoch, flag.clone()));
        if cancelled() {
            // A stop that came before the flag was published.
            flag.store(true, Ordering::SeqCst);
        }
        let res = pipeline::synthesize(
            model,
            &job.text,
            core.utterance_settings(&job.opts),
            cancelled,
            Some(&flag),
            realtime.then_some(&clock as &dyn Fn() -> Duration),
            |piece| play.send(PlayMsg::Piece { id, piece }).is_ok(),
        );
        *lock(&core.synth_flag) = None;
        let outcome = match res {
            Ok(_) => Outcome::Done,
            Err(Error::Cancelled) => Outcome::Cancelled,
            Err(e) => Outcome::Failed(e.to_string()),
        };
        if play.send(PlayMsg::End { id, outcome }).is_err() {
            return;
        }
    }
}

fn check_job(_core: &Core, model: &Model, opts: &SpeakOptions) -> Result<()> {
    if let Some(s) = opts.speed {
        crate::check_speed(s)?;
    }
    if let Some(v) = &opts.voice {
        model.voices.resolve(v)?;
    }
    Ok(())
}

/// Audio of one sentence, with its markers.
struct SentenceBuf {
    number: usize,
    audio: Vec<f32>,
    /// (offset in `audio`, event), sorted by offset.
    markers: Vec<(usize, Event)>,
}

struct Current {
    id: UtteranceId,
    /// Stop epoch the utterance was queued in.
    epoch: u64,
    sentences: VecDeque<SentenceBuf>,
    /// Index into `sentences` of the sentence being written.
    cur: usize,
    /// Write offset in that sentence.
    offset: usize,
    /// Next marker of that sentence to schedule.
    marker: usize,
    /// Drop incoming pieces of sentences below this number (after a skip).
    skip_below: usize,
    /// Skips requested before any sentence arrived.
    pending_skips: usize,
    ended: Option<Outcome>,
    started: bool,
    paused: bool,
}

impl Current {
    fn ahead(&self) -> usize {
        let mut n = 0;
        for (i, s) in self.sentences.iter().enumerate().skip(self.cur) {
            n += if i == self.cur {
                s.audio.len().saturating_sub(self.offset)
            } else {
                s.audio.len()
            };
        }
        n
    }

    fn add(&mut self, id: UtteranceId, piece: Piece) {
        if piece.sentence < self.skip_below {
            return;
        }
        let new_sentence = self
            .sentences
            .back()
            .is_none_or(|s| s.number != piece.sentence);
        if new_sentence && self.pending_skips > 0 {
            self.pending_skips -= 1;
            self.skip_below = piece.sentence + 1;
            return;
        }
        if new_sentence {
            self.sentences.push_back(SentenceBuf {
                number: piece.sentence,
                audio: Vec::new(),
                markers: vec![(
                    0,
                    Event::Sentence {
                        id,
                        src: piece.sentence_src.clone(),
                    },
                )],
            });
        }
        let Some(s) = self.sentences.back_mut() else {
            return;
        };
        let base = s.audio.len();
        if !piece.continues {
            s.markers.push((
                base,
                Event::ChunkStarted {
                    id,
                    index: piece.index,
                    src: piece.src.clone(),
                },
            ));
        }
        for w in &piece.words {
            s.markers.push((
                base + w.start,
                Event::Word {
                    id,
                    src: w.src.clone(),
                    start_ms: samples_to_ms(piece.start + w.start as u64),
                    end_ms: samples_to_ms(piece.start + w.end as u64),
                },
            ));
        }
        s.markers.sort_by_key(|m| m.0);
        s.audio.extend_from_slice(&piece.audio);
    }

    /// Forget sentences more than one behind the cursor.
    fn trim_history(&mut self) {
        while self.cur > 1 {
            self.sentences.pop_front();
            self.cur -= 1;
        }
    }

    fn goto(&mut self, idx: usize) {
        self.cur = idx;
        self.offset = 0;
        self.marker = 0;
        self.trim_history();
    }
}

struct Playback {
    core: Arc<Core>,
    sink: Box<dyn Sink>,
    ctl: Receiver<Ctl>,
    play: Receiver<PlayMsg>,
    current: Option<Current>,
    /// Utterance whose remaining messages are ignored (stopped or failed).
    ignore: Option<UtteranceId>,
    /// (sink position, event) waiting for its audio to play.
    scheduled: VecDeque<(u64, Event)>,
    written: u64,
    block: Vec<f32>,
    idle_since: Option<Instant>,
    /// `pause` arrived between utterances: the next one starts paused.
    pause_pending: bool,
}

impl Playback {
    fn new(
        core: Arc<Core>,
        sink: Box<dyn Sink>,
        ctl: Receiver<Ctl>,
        play: Receiver<PlayMsg>,
    ) -> Playback {
        Playback {
            core,
            sink,
            ctl,
            play,
            current: None,
            ignore: None,
            scheduled: VecDeque::new(),
            written: 0,
            block: Vec::with_capacity(BLOCK),
            idle_since: Some(Instant::now()),
            pause_pending: false,
        }
    }

    fn run(mut self) {
        loop {
            while let Ok(c) = self.ctl.try_recv() {
                self.on_ctl(c);
            }
            self.flush_events();
            if self.current.is_none() {
                if !self.wait(true, None) {
                    return;
                }
                continue;
            }
            // Take pieces while the look-ahead is short.
            while self
                .current
                .as_ref()
                .is_some_and(|c| c.ahead() < LOOKAHEAD && c.ended.is_none())
            {
                match self.play.try_recv() {
                    Ok(m) => self.on_play(m),
                    Err(_) => break,
                }
            }
            if self.current.is_none() {
                continue;
            }
            match self.step() {
                Step::Wrote => {}
                Step::Finished => self.finish(),
                Step::WaitRoom => {
                    if !self.wait(false, Some(Duration::from_millis(2))) {
                        return;
                    }
                }
                Step::WaitData => {
                    let want = self.current.as_ref().is_some_and(|c| c.ended.is_none());
                    let t = if self.scheduled.is_empty() {
                        None
                    } else {
                        Some(Duration::from_millis(2))
                    };
                    if !self.wait(want, t) {
                        return;
                    }
                }
            }
        }
    }

    /// Block on commands (and pieces if `data`) for at most `timeout`.
    /// Returns false when the engine is gone.
    fn wait(&mut self, data: bool, timeout: Option<Duration>) -> bool {
        let keep_open = self.core.keep_open.load(Ordering::SeqCst);
        let timeout = match (timeout, self.current.is_none(), self.idle_since) {
            (t, true, Some(since)) if !keep_open => {
                let left = IDLE_CLOSE.saturating_sub(since.elapsed());
                if left.is_zero() {
                    self.sink.idle();
                    self.idle_since = None;
                    t
                } else {
                    Some(t.map_or(left, |t| t.min(left)))
                }
            }
            (t, _, _) => t,
        };
        let never = crossbeam_channel::never();
        let play = if data { &self.play } else { &never };
        let deadline = timeout.map(crossbeam_channel::after);
        let tick = deadline.unwrap_or_else(crossbeam_channel::never);
        crossbeam_channel::select! {
            recv(self.ctl) -> m => match m {
                Ok(c) => self.on_ctl(c),
                // The engine was dropped.
                Err(_) => return false,
            },
            recv(play) -> m => match m {
                Ok(m) => self.on_play(m),
                Err(_) => return false,
            },
            recv(tick) -> _ => {},
        }
        true
    }

    fn on_play(&mut self, m: PlayMsg) {
        match m {
            PlayMsg::Begin { id, epoch } => {
                if epoch != self.core.stop_epoch.load(Ordering::SeqCst) {
                    self.ignore = Some(id);
                    self.core.emit(Event::Cancelled { id });
                    return;
                }
                self.core.set_paused(self.pause_pending);
                if let Err(e) = self.sink.begin() {
                    self.ignore = Some(id);
                    self.core.abort_id.store(id.0, Ordering::SeqCst);
                    self.core.cancel_synthesis(|u, _| u == id);
                    self.core.emit(Event::Error {
                        id: Some(id),
                        message: e.to_string(),
                    });
                    return;
                }
                self.idle_since = None;
                let paused = std::mem::take(&mut self.pause_pending);
                if paused {
                    self.core.set_state(State::Paused { id });
                    self.core.emit(Event::Paused { id });
                } else {
                    self.core.set_state(State::Speaking { id });
                }
                self.current = Some(Current {
                    id,
                    epoch,
                    sentences: VecDeque::new(),
                    cur: 0,
                    offset: 0,
                    marker: 0,
                    skip_below: 0,
                    pending_skips: 0,
                    ended: None,
                    started: false,
                    paused,
                });
            }
            PlayMsg::Piece { id, piece } => {
                if let Some(c) = self.current.as_mut().filter(|c| c.id == id) {
                    c.add(id, piece);
                }
            }
            PlayMsg::End { id, outcome } => {
                if self.ignore == Some(id) {
                    self.ignore = None;
                    return;
                }
                if let Some(c) = self.current.as_mut().filter(|c| c.id == id) {
                    match outcome {
                        Outcome::Failed(msg) => {
                            self.sink.discard();
                            self.scheduled.clear();
                            self.current = None;
                            self.idle_since = Some(Instant::now());
                            self.core.emit(Event::Error {
                                id: Some(id),
                                message: msg,
                            });
                        }
                        o => c.ended = Some(o),
                    }
                }
            }
        }
    }

    fn on_ctl(&mut self, c: Ctl) {
        match c {
            Ctl::Stop(epoch) => {
                self.pause_pending = false;
                // An utterance begun after this stop (the commands raced) keeps going.
                if let Some(cur) = self.current.take_if(|c| c.epoch < epoch) {
                    self.sink.discard();
                    self.scheduled.clear();
                    if cur.ended.is_none() {
                        self.ignore = Some(cur.id);
                    }
                    self.idle_since = Some(Instant::now());
                    self.core.emit(Event::Cancelled { id: cur.id });
                }
                self.core.set_paused(false);
            }
            Ctl::Pause => match self.current.as_mut() {
                Some(cur) if !cur.paused => {
                    cur.paused = true;
                    let id = cur.id;
                    self.core.set_state(State::Paused { id });
                    self.core.emit(Event::Paused { id });
                }
                Some(_) => {}
                None => {
                    // Nothing playing: pause the queue if something is waiting in it.
                    // (`queued` drops only after Begin is sent, so check the channel too.)
                    self.pause_pending =
                        self.core.queued.load(Ordering::SeqCst) > 0 || !self.play.is_empty();
                    self.core.set_paused(self.pause_pending);
                }
            },
            Ctl::Resume => {
                self.pause_pending = false;
                if let Some(cur) = self.current.as_mut().filter(|c| c.paused) {
                    cur.paused = false;
                    let id = cur.id;
                    self.core.set_state(State::Speaking { id });
                    self.core.emit(Event::Resumed { id });
                }
                self.core.set_paused(false);
            }
            Ctl::Skip => {
                if self.current.is_some() {
                    self.discard_audio();
                }
                if let Some(cur) = self.current.as_mut() {
                    if cur.sentences.is_empty() {
                        // Nothing synthesized yet: skip sentences as they arrive.
                        cur.pending_skips += 1;
                    } else if let Some(num) = cur.sentences.get(cur.cur).map(|s| s.number) {
                        // A skip still waiting for its sentence moves one further.
                        let target = if cur.skip_below > num {
                            cur.skip_below + 1
                        } else {
                            num + 1
                        };
                        cur.skip_below = target;
                        match cur.sentences.iter().position(|s| s.number >= target) {
                            Some(i) => cur.goto(i),
                            None => {
                                // Not synthesized yet: drop the rest of this sentence
                                // and wait for the target.
                                cur.sentences.truncate(cur.cur + 1);
                                let s = &cur.sentences[cur.cur];
                                cur.offset = s.audio.len();
                                cur.marker = s.markers.len();
                            }
                        }
                    }
                }
            }
            Ctl::KeepOpen(false) => {
                // the idle delay runs from now
                if self.current.is_none() {
                    self.idle_since = Some(Instant::now());
                }
            }
            Ctl::Prepare | Ctl::KeepOpen(true) => {
                if self.current.is_none() {
                    self.sink.prepare();
                    // (the idle timer starts over: the device stays open for the request)
                    self.idle_since = Some(Instant::now());
                }
            }
            Ctl::Previous => {
                if self.current.is_some() {
                    self.discard_audio();
                }
                if let Some(cur) = self.current.as_mut() {
                    let num = cur.sentences.get(cur.cur).map(|s| s.number);
                    if cur.pending_skips > 0 {
                        cur.pending_skips -= 1;
                    } else if num.is_some_and(|n| cur.skip_below > n + 1) {
                        // A skip is still waiting for its sentence: aim one lower.
                        cur.skip_below -= 1;
                    } else if num.is_some_and(|n| cur.skip_below == n + 1) {
                        // Undo the pending skip: restart the current sentence.
                        cur.skip_below -= 1;
                        let here = cur.cur;
                        cur.goto(here);
                    } else {
                        let to = cur.cur.saturating_sub(1);
                        cur.goto(to);
                    }
                }
            }
        }
    }

    fn discard_audio(&mut self) {
        // Events of audio already heard go out; the rest are dropped.
        self.flush_events();
        self.sink.discard();
        self.scheduled.clear();
    }

    fn played(&self) -> u64 {
        self.written.saturating_sub(self.sink.pending())
    }

    fn flush_events(&mut self) {
        let played = self.played();
        while self
            .scheduled
            .front()
            .is_some_and(|(pos, _)| *pos <= played)
        {
            if let Some((_, ev)) = self.scheduled.pop_front() {
                self.core.emit(ev);
            }
        }
    }

    fn step(&mut self) -> Step {
        let Some(cur) = self.current.as_mut() else {
            return Step::WaitData;
        };
        if cur.paused {
            return Step::WaitData;
        }
        // Move to the next sentence when this one is fully written.
        while cur.cur < cur.sentences.len() && cur.offset >= cur.sentences[cur.cur].audio.len() {
            let complete = cur.cur + 1 < cur.sentences.len() || cur.ended.is_some();
            if !complete {
                break;
            }
            if cur.cur + 1 < cur.sentences.len() {
                cur.goto(cur.cur + 1);
            } else {
                break;
            }
        }
        let remaining = cur
            .sentences
            .get(cur.cur)
            .map_or(0, |s| s.audio.len().saturating_sub(cur.offset));
        if remaining == 0 {
            let last = cur.cur + 1 >= cur.sentences.len();
            if cur.ended.is_some() && last {
                return Step::Finished;
            }
            return Step::WaitData;
        }
        let n = remaining.min(BLOCK);
        if self.sink.room() < n {
            return Step::WaitRoom;
        }
        let id = cur.id;
        let s = &cur.sentences[cur.cur];
        let from = cur.offset;
        // Markers inside this block, scheduled at their sink position.
        while let Some((off, ev)) = s.markers.get(cur.marker) {
            if *off >= from + n && !(from + n == s.audio.len() && *off == from + n) {
                break;
            }
            self.scheduled.push_back((
                self.written + (*off).saturating_sub(from) as u64,
                ev.clone(),
            ));
            cur.marker += 1;
        }
        self.block.clear();
        self.block.extend_from_slice(&s.audio[from..from + n]);
        let gain = f32::from_bits(self.core.volume.load(Ordering::Relaxed));
        apply_gain(&mut self.block, gain);
        cur.offset += n;
        let first = !cur.started;
        cur.started = true;
        if let Err(e) = self.sink.write(&self.block) {
            tracing::warn!("sink write failed: {e}");
            self.core.abort_id.store(id.0, Ordering::SeqCst);
            self.core.cancel_synthesis(|u, _| u == id);
            self.fail(id, e.to_string());
            return Step::Wrote;
        }
        if first {
            // First sample handed to the sink.
            self.core.emit(Event::Started { id });
        }
        self.written += n as u64;
        self.core.written.store(self.written, Ordering::Relaxed);
        self.flush_events();
        Step::Wrote
    }

    fn fail(&mut self, id: UtteranceId, message: String) {
        self.sink.discard();
        self.scheduled.clear();
        if let Some(cur) = self.current.take() {
            if cur.ended.is_none() {
                self.ignore = Some(cur.id);
            }
        }
        self.idle_since = Some(Instant::now());
        self.core.emit(Event::Error {
            id: Some(id),
            message,
        });
    }

    /// All audio written: wait until it has played, then end the utterance.
    fn finish(&mut self) {
        let Some(cur) = self.current.as_ref() else {
            return;
        };
        let id = cur.id;
        if let Err(e) = self.sink.end() {
            self.fail(id, e.to_string());
            return;
        }
        while self.sink.pending() > 0 {
            // Still playing: keep obeying commands (stop, pause).
            if !self.wait(false, Some(Duration::from_millis(2))) {
                return;
            }
            self.flush_events();
            match self.current.as_ref() {
                Some(c) if c.id == id => {}
                _ => return, // stopped meanwhile
            }
            if self.current.as_ref().is_some_and(|c| c.paused) {
                continue;
            }
            if self.current.as_ref().is_some_and(|c| {
                c.cur + 1 < c.sentences.len()
                    || c.offset < c.sentences.get(c.cur).map_or(0, |s| s.audio.len())
            }) {
                // Moved back (previous_sentence): continue writing.
                return;
            }
        }
        while let Some((_, ev)) = self.scheduled.pop_front() {
            self.core.emit(ev);
        }
        let Some(cur) = self.current.take() else {
            return;
        };
        self.idle_since = Some(Instant::now());
        let ev = match cur.ended {
            Some(Outcome::Cancelled) => Event::Cancelled { id },
            _ => Event::Finished { id },
        };
        self.core.emit(ev);
    }
}

enum Step {
    Wrote,
    Finished,
    WaitRoom,
    WaitData,
}
