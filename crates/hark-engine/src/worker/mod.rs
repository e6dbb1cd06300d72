//! The worker behind [`crate::Engine`]: the handle the engine holds and the threads it drives.
//!
//! * the **synth thread** ([`synth`]) loads the model once, then takes jobs from the queue
//!   and turns each into [`Piece`](crate::pipeline::Piece)s, checking the stop epoch between
//!   chunks;
//! * the **playback thread** ([`playback`]) owns the sink, keeps the current and the previous
//!   sentence (for skip / previous), writes small blocks while the sink has room, and turns
//!   markers into events once their audio has played;
//! * what the three share ([`shared`]): the commands, the messages and the state.
//!
//! The two threads are joined by a bounded channel (one piece in flight) and a bounded
//! look-ahead in the playback thread, so memory stays flat for any text length.

mod playback;
mod shared;
mod synth;

pub(crate) use self::shared::Ctl;

use self::playback::Playback;
use self::shared::{check_opts, choose_voice, Core, Job, PlayMsg};
use self::synth::synth_loop;
use crate::config::{EngineConfig, Output, SpeakOptions, StreamItem, STREAM_BUFFER};
use crate::device::{DevicePlayer, DeviceStats};
use crate::error::{Error, Result};
use crate::events::{Event, State, UtteranceId};
use crate::pipeline::{self, Model, Settings};
use crate::sink::{DeviceSink, NullSink, SampleStreamSink, Sink, WavSink};
use crate::sync::lock;
use crate::timing::samples_to_ms;
use crate::voice::{voice_info, VoiceInfo};
use crossbeam_channel::{bounded, unbounded, Sender};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// The engine's side of the worker.
pub(crate) struct Handle {
    core: Arc<Core>,
    /// Loaded once, before [`Handle::start`] returns.
    model: Arc<Model>,
    /// Taken (closed) by [`Handle::shutdown`].
    jobs: Mutex<Option<Sender<Job>>>,
    ctl: Mutex<Option<Sender<Ctl>>>,
    next_id: AtomicU64,
    /// The synth and playback threads, joined by [`Handle::shutdown`].
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// The PCM streams' threads (joined when they have ended).
    stream_threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Held for the whole of a shutdown, so a second caller returns only once it is done.
    shutting_down: Mutex<()>,
}

/// How long a shutdown waits for a thread to leave the model (it notices the cancel flag
/// within one layer, a few milliseconds) or to close the sound device, before giving up on it.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// Joins `t` if it finishes before `deadline`; otherwise leaves it running (detached) and says
/// so. Never joins the calling thread.
fn join_by(t: std::thread::JoinHandle<()>, deadline: Instant) {
    if t.thread().id() == std::thread::current().id() {
        return;
    }
    while !t.is_finished() {
        if Instant::now() >= deadline {
            tracing::warn!(thread = ?t.thread().name(), "engine thread still busy at shutdown");
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
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
        // Last engine handle gone.
        self.shutdown();
    }
}

/// Engines alive in this process, stopped by [`stop_all_at_exit`] if their owners did not.
static LIVE: Mutex<Vec<Weak<Handle>>> = Mutex::new(Vec::new());

fn register(h: &Arc<Handle>) {
    let mut live = lock(&LIVE);
    live.retain(|w| w.strong_count() > 0);
    live.push(Arc::downgrade(h));
    #[cfg(unix)]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            extern "C" fn at_exit() {
                stop_all_at_exit();
            }
            // SAFETY: registers a plain `extern "C" fn()` with the C runtime. Handlers run in
            // the reverse order of registration, so this one runs before the shared libraries'
            // finalizers (registered when the process started).
            if unsafe { libc::atexit(at_exit) } != 0 {
                tracing::warn!("could not register the engine's exit handler");
            }
        });
    }
}

/// The process is exiting (`exit()`, or `main` returned) with engines nobody shut down, held
/// by a `static`, a leaked handle or a thread that is still running: stop them before the
/// shared libraries' finalizers run. A thread still inside a matrix product of a `dlopen`ed
/// OpenBLAS while its finalizer runs crashes the process (SIGSEGV at exit).
pub(crate) fn stop_all_at_exit() {
    let live: Vec<Arc<Handle>> = lock(&LIVE).iter().filter_map(Weak::upgrade).collect();
    for h in &live {
        h.shutdown();
    }
}

impl Handle {
    /// Starts the threads, waits for the model, and registers the engine to be stopped at
    /// process exit if nobody has shut it down by then.
    pub(crate) fn start(cfg: EngineConfig) -> Result<Arc<Handle>> {
        let defaults = Settings {
            voice: cfg.voice.clone(),
            speed: cfg.speed,
        };
        let core = Arc::new(Core::new(defaults, cfg.volume, cfg.keep_audio_open));
        let realtime = !matches!(cfg.output, Output::Wav(_));
        let sink = match &cfg.output {
            Output::Device => SinkKind::Device,
            Output::Null => SinkKind::Null,
            Output::Wav(p) => SinkKind::Wav(WavSink::create(p)?),
        };
        let (jobs_tx, jobs_rx) = unbounded::<Job>();
        let (ctl_tx, ctl_rx) = unbounded::<Ctl>();
        let (play_tx, play_rx) = bounded::<PlayMsg>(1);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<Arc<Model>>>();

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
                synth_core.set_state(State::Idle);
                let _ = ready_tx.send(Ok(model.clone()));
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
                    SinkKind::Null => Box::new(
                        NullSink::with_late_counter(play_core.null_late_ns.clone())
                            .with_audible_slot(play_core.null_audible.clone()),
                    ),
                    SinkKind::Wav(w) => Box::new(w),
                };
                Playback::new(play_core, sink, ctl_rx, play_rx).run();
            })?;

        let model = match ready_rx.recv() {
            Ok(Ok(model)) => model,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(Error::Worker("the worker thread died while loading".into())),
        };
        let handle = Arc::new(Handle {
            core,
            model,
            jobs: Mutex::new(Some(jobs_tx)),
            ctl: Mutex::new(Some(ctl_tx)),
            next_id: AtomicU64::new(1),
            threads: Mutex::new(vec![synth, playback]),
            stream_threads: Mutex::new(Vec::new()),
            shutting_down: Mutex::new(()),
        });
        register(&handle);
        Ok(handle)
    }

    /// Ends the engine: cancels the utterance in progress (the model notices within one
    /// layer), everything queued and every PCM stream, then joins the synth and playback
    /// threads and waits until no model run of this engine is in progress. Afterwards requests
    /// are refused. Idempotent; a concurrent call returns when the first is done.
    pub(crate) fn shutdown(&self) {
        let _one = lock(&self.shutting_down);
        let core = &self.core;
        core.closed.store(true, Ordering::SeqCst);
        core.stop_epoch.fetch_add(1, Ordering::SeqCst);
        core.warming.store(true, Ordering::SeqCst);
        core.cancel_synthesis(|_, _| true);
        for flag in lock(&core.streams).drain(..) {
            if let Some(f) = flag.upgrade() {
                f.store(true, Ordering::SeqCst);
            }
        }
        core.audio.request_discard();
        core.set_paused(false);
        let deadline = Instant::now() + SHUTDOWN_WAIT;
        let threads = std::mem::take(&mut *lock(&self.threads));
        let mut threads = threads.into_iter();
        // Closing the job channel ends the synth thread (which holds the other command
        // sender); closing ours then ends the playback thread.
        drop(lock(&self.jobs).take());
        if let Some(t) = threads.next() {
            join_by(t, deadline);
        }
        drop(lock(&self.ctl).take());
        for t in threads {
            join_by(t, deadline);
        }
        if !core.wait_idle(deadline) {
            tracing::warn!("a synthesis was still running at shutdown");
        }
        // A stream whose client still holds its receiver may be waiting to hand over its last
        // chunk; it computes nothing more (its run was counted out above) and ends when the
        // client lets go. The others are joined.
        for t in std::mem::take(&mut *lock(&self.stream_threads)) {
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }

    fn send_ctl(&self, c: Ctl) {
        if let Some(tx) = &*lock(&self.ctl) {
            let _ = tx.send(c);
        }
    }

    pub(crate) fn speak(&self, text: &str, opts: SpeakOptions) -> UtteranceId {
        // A request does not wait for the warm-up.
        self.core.warming.store(true, Ordering::SeqCst);
        let id = UtteranceId(self.next_id.fetch_add(1, Ordering::SeqCst));
        let epoch = self.core.stop_epoch.load(Ordering::SeqCst);
        self.core.stages.queued(id);
        self.core.emit(Event::Queued { id });
        self.core.queued.fetch_add(1, Ordering::SeqCst);
        let job = Job {
            id,
            text: Arc::from(text),
            opts,
            epoch,
        };
        let sent = match &*lock(&self.jobs) {
            Some(tx) => tx.send(job).is_ok(),
            None => false,
        };
        if !sent {
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
        self.send_ctl(Ctl::Stop(epoch));
    }

    pub(crate) fn pause(&self) {
        self.core.set_paused(true);
        self.send_ctl(Ctl::Pause);
    }

    pub(crate) fn resume(&self) {
        self.core.set_paused(false);
        self.send_ctl(Ctl::Resume);
    }

    pub(crate) fn control(&self, c: Ctl) {
        self.send_ctl(c);
    }

    pub(crate) fn set_voice(&self, v: &str) -> Result<()> {
        self.model.voices.resolve(v)?;
        self.core
            .change_settings(|s| s.voice = v.trim().to_string());
        Ok(())
    }

    pub(crate) fn set_speed(&self, speed: f32) {
        self.core.change_settings(|s| s.speed = speed);
    }

    pub(crate) fn set_keep_audio_open(&self, on: bool) {
        self.core.keep_open.store(on, Ordering::SeqCst);
        self.send_ctl(Ctl::KeepOpen(on));
    }

    pub(crate) fn set_fast_start(&self, on: bool) {
        self.model.fast_start.store(on, Ordering::Relaxed);
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
        self.core.state()
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.core.events.subscribe()
    }

    pub(crate) fn set_language_voices(&self, lv: crate::LanguageVoices) {
        *lock(&self.core.language_voices) = lv;
    }

    pub(crate) fn language_voices(&self) -> crate::LanguageVoices {
        lock(&self.core.language_voices).clone()
    }

    pub(crate) fn voices(&self) -> Vec<VoiceInfo> {
        self.model
            .voices
            .names()
            .iter()
            .map(|n| voice_info(n))
            .collect()
    }

    /// Samples handed to the sink since the engine started.
    pub(crate) fn samples_written(&self) -> u64 {
        self.core.written.load(Ordering::Relaxed)
    }

    pub(crate) fn null_late(&self) -> Duration {
        Duration::from_nanos(self.core.null_late_ns.load(Ordering::Relaxed))
    }

    pub(crate) fn stages(&self, id: UtteranceId) -> Option<crate::stages::Stages> {
        self.core.stages.note_device(&self.core.audio);
        self.core.stages.get(id)
    }

    pub(crate) fn null_first_audible(&self) -> Option<Instant> {
        *crate::sync::lock(&self.core.null_audible)
    }

    pub(crate) fn device_stats(&self) -> DeviceStats {
        self.core.audio.stats()
    }

    pub(crate) fn simulate_device_loss(&self) {
        self.core.audio.simulate_device_loss();
    }

    pub(crate) fn synthesize_stream(
        &self,
        text: &str,
        opts: SpeakOptions,
    ) -> Result<std::sync::mpsc::Receiver<StreamItem>> {
        let opts = choose_voice(&self.model, &self.core, &opts, text);
        check_opts(&self.model, &opts)?;
        if self.core.closed.load(Ordering::SeqCst) {
            return Err(Error::ShutDown);
        }
        self.core.warming.store(true, Ordering::SeqCst);
        let model = self.model.clone();
        let core = self.core.clone();
        let text: Arc<str> = Arc::from(text);
        let (tx, rx) = std::sync::mpsc::sync_channel(STREAM_BUFFER);
        // Raised when the client goes away, or the engine is dropped.
        let gone = Arc::new(AtomicBool::new(false));
        {
            let mut streams = lock(&self.core.streams);
            streams.retain(|f| f.strong_count() > 0);
            streams.push(Arc::downgrade(&gone));
        }
        let thread = std::thread::Builder::new()
            .name("hark-stream".into())
            .spawn(move || {
                // Counted while it computes (not while it waits for its reader), so a shutdown
                // knows when none of it is inside the model; nothing starts after a shutdown.
                let Some(computing) = core.enter() else {
                    let _ = tx.send(StreamItem::Error(Error::ShutDown.to_string()));
                    return;
                };
                let mut computing = Some(computing);
                let mut sink = SampleStreamSink::new(tx.clone());
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
                        computing = None;
                        let mut deliver = || {
                            for w in &piece.words {
                                let item = StreamItem::Word {
                                    src: w.src.clone(),
                                    start_ms: samples_to_ms(piece.start + w.start as u64),
                                    end_ms: samples_to_ms(piece.start + w.end as u64),
                                };
                                tx.send(item).ok()?;
                            }
                            sink.write(&piece.audio).ok()
                        };
                        if deliver().is_none() {
                            gone.store(true, Ordering::Relaxed);
                            return false;
                        }
                        computing = core.enter();
                        computing.is_some()
                    },
                );
                drop(computing);
                let last = match res {
                    Ok(_) if core.closed.load(Ordering::SeqCst) => {
                        StreamItem::Error(Error::ShutDown.to_string())
                    }
                    Ok(_) => StreamItem::End,
                    Err(e) => StreamItem::Error(e.to_string()),
                };
                let _ = tx.send(last);
            })?;
        let mut threads = lock(&self.stream_threads);
        for t in std::mem::take(&mut *threads) {
            if t.is_finished() {
                let _ = t.join();
            } else {
                threads.push(t);
            }
        }
        threads.push(thread);
        Ok(rx)
    }

    pub(crate) fn synthesize_to_vec(&self, text: &str, opts: SpeakOptions) -> Result<Vec<f32>> {
        let opts = choose_voice(&self.model, &self.core, &opts, text);
        check_opts(&self.model, &opts)?;
        self.core.warming.store(true, Ordering::SeqCst);
        let _computing = self.core.enter().ok_or(Error::ShutDown)?;
        let closed = &self.core.closed;
        let mut out = Vec::new();
        pipeline::synthesize(
            &self.model,
            text,
            self.core.utterance_settings(&opts),
            || closed.load(Ordering::Relaxed),
            Some(closed),
            None,
            |piece| {
                out.extend_from_slice(&piece.audio);
                true
            },
        )?;
        Ok(out)
    }

    pub(crate) fn synthesize_phonemes(
        &self,
        phonemes: &str,
        opts: SpeakOptions,
    ) -> Result<Vec<f32>> {
        // (no text to tell the language by: `auto` is the current voice)
        let opts = choose_voice(&self.model, &self.core, &opts, "");
        check_opts(&self.model, &opts)?;
        self.core.warming.store(true, Ordering::SeqCst);
        let _computing = self.core.enter().ok_or(Error::ShutDown)?;
        let s = self.core.utterance_settings(&opts)();
        self.model
            .synthesize_phonemes(phonemes, &s.voice, s.speed, &self.core.closed)
    }
}
