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
use self::shared::{check_opts, Core, Job, PlayMsg};
use self::synth::synth_loop;
use crate::audio::PcmFormat;
use crate::config::{EngineConfig, Output, SpeakOptions, StreamItem, STREAM_BUFFER};
use crate::device::{DevicePlayer, DeviceStats};
use crate::error::{Error, Result};
use crate::events::{Event, State, UtteranceId};
use crate::pipeline::{self, Model, Settings};
use crate::sink::{DeviceSink, NullSink, PcmStreamSink, Sink, WavSink};
use crate::sync::lock;
use crate::timing::samples_to_ms;
use crate::voice::{voice_info, VoiceInfo};
use crossbeam_channel::{bounded, unbounded, Sender};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// The engine's side of the worker.
pub(crate) struct Handle {
    core: Arc<Core>,
    /// Loaded once, before [`Handle::start`] returns.
    model: Arc<Model>,
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
        Ok(Handle {
            core,
            model,
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
        let _ = self.ctl.send(Ctl::KeepOpen(on));
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
        format: PcmFormat,
    ) -> Result<std::sync::mpsc::Receiver<StreamItem>> {
        check_opts(&self.model, &opts)?;
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
        check_opts(&self.model, &opts)?;
        self.core.warming.store(true, Ordering::SeqCst);
        let mut out = Vec::new();
        pipeline::synthesize(
            &self.model,
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

    pub(crate) fn synthesize_phonemes(
        &self,
        phonemes: &str,
        opts: SpeakOptions,
    ) -> Result<Vec<f32>> {
        check_opts(&self.model, &opts)?;
        self.core.warming.store(true, Ordering::SeqCst);
        let s = self.core.utterance_settings(&opts)();
        self.model.synthesize_phonemes(phonemes, &s.voice, s.speed)
    }
}
