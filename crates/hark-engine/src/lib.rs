//! `hark-engine`: the warm speech worker behind the `hark` CLI, the HTTP bridge
//! and the tray app.
//!
//! What it is for: load the Kokoro model and the English front end **once** on a
//! dedicated thread, take a queue of utterances, and stream them: the text is
//! segmented lazily into sentences, each sentence is chunked (a short first
//! chunk, so the first sound comes fast), chunk *n + 1* is synthesized while
//! chunk *n* plays, and playback can be stopped, paused, resumed, skipped and
//! rewound by sentence. Audio goes to a [`sink::Sink`]: the default output
//! device (`cpal`, resampled on the producer side, lock-free ring, copy-only
//! callback, reopened after device errors), a WAV file, a frame counter, or a
//! stream of samples (byte formats are the bridge's and the CLI's). Progress
//! (queued, started, chunk/sentence/word boundaries with audio times, paused,
//! finished, ...) is broadcast as [`Event`]s.
//!
//! What it is not: it does not fetch assets, parse command lines or serve
//! HTTP, and it contains neither the model (`hark-kokoro`) nor the grapheme to
//! phoneme rules (`hark-text`).
//!
//! Threads: `hark-synth` (model, front end, the utterance queue), `hark-playback`
//! (owns the sink; `cpal` streams are opened there and closed after 3 s idle) and
//! one `hark-stream` thread per [`Engine::synthesize_stream`] call. [`Engine::shutdown`]
//! (or dropping the last handle) cancels all of it and joins the threads; on Unix an exit
//! handler does the same for engines still alive when the process exits, before the shared
//! libraries' finalizers run. `stop` and
//! `pause` reach the audio callback directly through atomics; a stop also raises the
//! cancel flag of the model run in progress (`hark_kokoro::ForwardOptions::cancel`), so
//! synthesis ends inside the forward pass, not only between chunks.
//!
//! Tests: `cargo test -p hark-engine` needs the ALSA development files
//! (`libasound2-dev`) and lexicons in `$HARK_ASSETS/lexicons` (or
//! `~/.cache/hark/assets/lexicons`); the device tests point `ALSA_CONFIG_PATH` at a
//! `null` PCM and count frames, the real-weights test runs when `$HARK_ASSETS`
//! holds the weights (and fails if `HARK_REQUIRE_ASSETS` is set and they are missing).
//!
//! ```no_run
//! use hark_engine::{Engine, EngineConfig, Event, SpeakOptions};
//! # fn main() -> hark_engine::Result<()> {
//! let engine = Engine::start(EngineConfig::tiny(7, "/path/to/assets/lexicons"))?;
//! let mut events = engine.subscribe();
//! let id = engine.speak("Hello there. How are you?", SpeakOptions::default());
//! while let Ok(ev) = events.blocking_recv() {
//!     if ev.id() == Some(id) && ev.is_terminal() { break; }
//! }
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod audio;
mod config;
pub mod device;
mod error;
mod events;
mod frontend;
mod lang_voices;
mod pacing;
mod pipeline;
pub mod resample;
pub mod segment;
pub mod sink;
pub mod stages;
mod sync;
pub mod timing;
mod voice;
pub mod wav;
mod worker;

pub use config::{
    EngineConfig, ModelSource, Output, SpeakOptions, StreamItem, SAMPLE_RATE, SPEED_RANGE,
    STREAM_BUFFER,
};
pub use device::DeviceStats;
pub use error::{Error, Result};
pub use events::{Event, State, UtteranceId};
pub use hark_kokoro::limit_heap_arenas;
pub use hark_text::Lang;
pub use lang_voices::{default_voice_for, LanguageVoices, AUTO_VOICE, CHOOSABLE};
pub use pipeline::WarmUp;
pub use stages::Stages;
pub use voice::{parse_blend, voice_info, voice_lang, VoiceInfo, DEFAULT_VOICE};

use config::check_speed;
use std::sync::Arc;

/// Handle to the warm worker. Cheap to clone; all clones drive the same worker,
/// which shuts down when the last clone is dropped (or [`Engine::shutdown`] is called).
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<worker::Handle>,
}

// The handle is shared across threads by the CLI, the bridge and the tray app.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
};

impl Engine {
    /// Start the worker: loads the model, voices and lexicons once on the
    /// worker thread, and returns when it is ready (or failed).
    pub fn start(cfg: EngineConfig) -> Result<Engine> {
        check_speed(cfg.speed)?;
        if !(cfg.volume.is_finite() && (0.0..=2.0).contains(&cfg.volume)) {
            return Err(Error::InvalidSetting(format!(
                "volume must be between 0.0 and 2.0 (got {})",
                cfg.volume
            )));
        }
        voice::parse_blend(&cfg.voice)?;
        Ok(Engine {
            inner: worker::Handle::start(cfg)?,
        })
    }

    /// End the engine, for every clone: cancel the utterance in progress (the model notices
    /// within one layer), everything queued and every PCM stream, join the synthesis and
    /// playback threads, and return once nothing of this engine computes. Afterwards `speak`
    /// reports an error event and the synthesis calls return [`Error::ShutDown`]. Idempotent.
    ///
    /// Owners call it before their process ends (a thread still inside a matrix product
    /// while the process runs its exit handlers can crash it). Dropping the last clone does
    /// the same, and so, on Unix, does the process's exit for engines nobody shut down.
    pub fn shutdown(&self) {
        self.inner.shutdown()
    }

    /// Queue `text`. Always returns an id; problems (bad voice, no device,
    /// empty text) are reported as events for that id.
    pub fn speak(&self, text: &str, opts: SpeakOptions) -> UtteranceId {
        self.inner.speak(text, opts)
    }

    /// Cancel the current utterance and everything queued; audio stops at once.
    pub fn stop(&self) {
        self.inner.stop()
    }

    /// Pause playback (position is kept).
    pub fn pause(&self) {
        self.inner.pause()
    }

    /// Resume after [`pause`](Self::pause).
    pub fn resume(&self) {
        self.inner.resume()
    }

    /// Jump to the start of the next sentence.
    pub fn skip_sentence(&self) {
        self.inner.control(worker::Ctl::Skip)
    }

    /// Jump back to the start of the previous sentence (or of the current one
    /// when it is the first).
    pub fn previous_sentence(&self) {
        self.inner.control(worker::Ctl::Previous)
    }

    /// Change the default voice; applies from the next chunk (also of the
    /// utterance being spoken).
    pub fn set_voice(&self, v: &str) -> Result<()> {
        self.inner.set_voice(v)
    }

    /// Set the user's voice of each language and whether text in another language than the
    /// current voice's is read with it ([`LanguageVoices`]); applies from the next request.
    /// Requests that name a voice keep it, except [`AUTO_VOICE`], which always picks.
    pub fn set_language_voices(&self, lv: LanguageVoices) {
        self.inner.set_language_voices(lv)
    }

    /// What [`set_language_voices`](Self::set_language_voices) set (off until then).
    pub fn language_voices(&self) -> LanguageVoices {
        self.inner.language_voices()
    }

    /// The installed voice that reads text in `lang` (English: either kind) when the text is in
    /// another language than the current voice's: the user's choice, else the language's
    /// default; `None` if no voice of the language is installed.
    pub fn voice_for_language(&self, lang: Lang) -> Option<String> {
        let installed: Vec<String> = self.voices().into_iter().map(|v| v.name).collect();
        self.language_voices()
            .candidates(lang)
            .into_iter()
            .find(|v| installed.iter().any(|n| n == v))
            .map(str::to_string)
    }

    /// Change the default speed (within [`SPEED_RANGE`]); applies from the next chunk.
    pub fn set_speed(&self, s: f32) -> Result<()> {
        self.inner.set_speed(check_speed(s)?);
        Ok(())
    }

    /// Open the sound device now if it is closed, ahead of an utterance about to be requested
    /// (the tray app calls it the moment its hotkey fires, while it reads the selection). It
    /// closes again after a few seconds without audio unless [`EngineConfig::keep_audio_open`].
    /// No effect on other outputs.
    pub fn prepare_output(&self) {
        self.inner.control(worker::Ctl::Prepare)
    }

    /// Turn [`EngineConfig::keep_audio_open`] on or off.
    pub fn set_keep_audio_open(&self, on: bool) {
        self.inner.set_keep_audio_open(on)
    }

    /// Turn [`EngineConfig::fast_start`] on or off, from the next utterance.
    pub fn set_fast_start(&self, on: bool) {
        self.inner.set_fast_start(on);
    }

    /// Playback volume, clamped to 0.0 ..= 2.0; applies from the next block of audio.
    pub fn set_volume(&self, v: f32) {
        let v = if v.is_finite() {
            v.clamp(0.0, 2.0)
        } else {
            1.0
        };
        self.inner.set_volume(v)
    }

    /// What the worker is doing.
    pub fn state(&self) -> State {
        self.inner.state()
    }

    /// A new event receiver (use `blocking_recv` outside a runtime).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.inner.subscribe()
    }

    /// Installed voices.
    pub fn voices(&self) -> Vec<VoiceInfo> {
        self.inner.voices()
    }

    /// Synthesize `text` on a background thread and deliver its samples chunk by chunk
    /// ([`StreamItem::Audio`]), with word timings; never touches the audio device. The channel holds at most
    /// [`STREAM_BUFFER`] unread items: synthesis waits while it is full. Dropping the
    /// receiver stops the synthesis after the current chunk.
    pub fn synthesize_stream(
        &self,
        text: &str,
        opts: SpeakOptions,
    ) -> Result<std::sync::mpsc::Receiver<StreamItem>> {
        self.inner.synthesize_stream(text, opts)
    }

    /// Synthesize the whole utterance on the calling thread: 24 kHz mono, the
    /// same samples `speak` plays at volume 1.
    pub fn synthesize_to_vec(&self, text: &str, opts: SpeakOptions) -> Result<Vec<f32>> {
        self.inner.synthesize_to_vec(text, opts)
    }

    /// Synthesize a phoneme string (misaki alphabet, at most [`hark_kokoro::MAX_PHONEMES`]
    /// symbols) in one model pass on the calling thread, with the voice and speed of `opts`:
    /// the model's output as it is, without the fades of [`synthesize_to_vec`](Self::synthesize_to_vec).
    pub fn synthesize_phonemes(&self, phonemes: &str, opts: SpeakOptions) -> Result<Vec<f32>> {
        self.inner.synthesize_phonemes(phonemes, opts)
    }

    /// Samples (24 kHz) handed to the output since the engine started.
    pub fn samples_written(&self) -> u64 {
        self.inner.samples_written()
    }

    /// With [`Output::Null`]: total time, since the engine started, that audio reached the
    /// output later than a real-time device (started at each utterance's first sample) would
    /// have needed it, i.e. the silence gaps a listener would have heard. Zero otherwise.
    pub fn late_audio(&self) -> std::time::Duration {
        self.inner.null_late()
    }

    /// With [`Output::Null`]: the moment a real-time device, started at the last utterance's
    /// first sample, would have played that utterance's first sample above −40 dBFS
    /// ([`sink::AUDIBLE_LEVEL`]), i.e. when its voice would have been heard; `None` before any
    /// such sample, and with other outputs.
    pub fn first_audible(&self) -> Option<std::time::Instant> {
        self.inner.null_first_audible()
    }

    /// Waits up to `timeout` for the start-up warm-up (see [`WarmUp`]) to be over and says what
    /// it did; `None` if it is still running (or failed). A request cuts the warm-up short
    /// instead of waiting for it.
    pub fn warm_up(&self, timeout: std::time::Duration) -> Option<WarmUp> {
        self.inner.warm_up(timeout)
    }

    /// When utterance `id` reached each stage (queued, synthesis started, first audio, first
    /// sample handed to the output, and with the device output when that sample played), if
    /// it is one of the last 16. For latency breakdowns: the tray app logs it per hotkey press.
    pub fn stages(&self, id: UtteranceId) -> Option<Stages> {
        self.inner.stages(id)
    }

    /// Counters of the device output (all zero unless `Output::Device` played).
    pub fn device_stats(&self) -> DeviceStats {
        self.inner.device_stats()
    }

    /// With `Output::Device`: act as if the output device vanished (see
    /// [`device::AudioControl::simulate_device_loss`]); the engine reopens the default device
    /// and goes on. For tests.
    #[doc(hidden)]
    pub fn simulate_device_loss(&self) {
        self.inner.simulate_device_loss();
    }
}
