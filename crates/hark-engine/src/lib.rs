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
//! raw PCM stream. Progress (queued, started, chunk/sentence/word boundaries
//! with audio times, paused, finished, ...) is broadcast as [`Event`]s.
//!
//! What it is not: it does not fetch assets, parse command lines or serve
//! HTTP, and it contains neither the model (`hark-kokoro`) nor the grapheme to
//! phoneme rules (`hark-text`).
//!
//! Threads: `hark-synth` (model, front end, the utterance queue), `hark-playback`
//! (owns the sink; `cpal` streams are opened there and closed after 3 s idle) and
//! one `hark-stream` thread per [`Engine::synthesize_stream`] call. `stop` and
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

pub mod audio;
pub mod bench;
pub mod device;
mod error;
mod events;
mod pacing;
mod pipeline;
pub mod resample;
pub mod segment;
pub mod sink;
pub mod timing;
mod voice;
pub mod wav;
mod worker;

pub use audio::PcmFormat;
pub use device::DeviceStats;
pub use error::{Error, Result};
pub use events::{Event, State, UtteranceId};
pub use pipeline::WarmUp;
pub use voice::{parse_blend, voice_info, VoiceInfo};

use serde::Serialize;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

/// Model sample rate (Hz); every sink receives audio at this rate.
pub const SAMPLE_RATE: u32 = 24_000;

/// Where the model comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSource {
    /// Real weights (`.safetensors`) and their `config.json`.
    Files {
        /// Weights file.
        weights: PathBuf,
        /// Model config.
        config: PathBuf,
    },
    /// `Kokoro::tiny_random(seed)` with random voice packs: fast, for tests.
    Tiny {
        /// Seed for the weights and voices.
        seed: u64,
    },
}

/// Where `speak` sends its audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The default output device.
    Device,
    /// Count frames, play nothing.
    Null,
    /// Append everything spoken to one 24 kHz mono 16-bit WAV file.
    Wav(PathBuf),
}

/// How to start an [`Engine`].
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The model.
    pub model: ModelSource,
    /// Directory with the lexicon JSON files (`us_gold.json`, ...).
    pub lexicons: Option<PathBuf>,
    /// Directory with `<voice>.bin` packs; default `<weights dir>/voices`
    /// (random packs for the tiny model).
    pub voices_dir: Option<PathBuf>,
    /// Default voice or blend (`af_heart`, `af_heart:0.6+af_bella:0.4`).
    pub voice: String,
    /// Default speed (0.5 ..= 2.0).
    pub speed: f32,
    /// Playback volume (0.0 ..= 2.0).
    pub volume: f32,
    /// Front-end language.
    pub lang: hark_text::Lang,
    /// Output of `speak`.
    pub output: Output,
    /// Fixed noise seeds and no pacing (chunks and fast-start windows never depend on timing),
    /// so the same text gives the same samples on every output.
    pub deterministic: bool,
    /// Compute each utterance's first chunk in growing windows (see
    /// [`hark_kokoro::Stream`]): the first sound comes after about 0.2 s instead of after the
    /// whole first chunk (about 1.1 s for an 8-word sentence on two cores), at the cost of level
    /// differences of about 1 dB (median) in that chunk. On outputs that play as they go, window
    /// sizes also follow the audio in hand, so there the windows depend on timing. On by default
    /// ([`EngineConfig::from_assets`], [`EngineConfig::tiny`]); off gives the exact audio.
    pub fast_start: bool,
    /// Keep the sound device open between utterances instead of closing it after a few
    /// seconds of silence. The device then never has to wake for the next utterance (which
    /// some Bluetooth outputs are slow to do), at a cost while idle: on a Mac an open output
    /// keeps the audio hardware powered and stops the system from sleeping on idle. Off by
    /// default; the device is opened as soon as a request starts (or
    /// [`Engine::prepare_output`] is called), in parallel with synthesis.
    pub keep_audio_open: bool,
}

impl EngineConfig {
    /// Tiny random model, lexicons from `lexicons`, null output, deterministic.
    pub fn tiny(seed: u64, lexicons: impl Into<PathBuf>) -> EngineConfig {
        EngineConfig {
            model: ModelSource::Tiny { seed },
            lexicons: Some(lexicons.into()),
            voices_dir: None,
            voice: "af_heart".into(),
            speed: 1.0,
            volume: 1.0,
            lang: hark_text::Lang::EnUs,
            output: Output::Null,
            deterministic: true,
            fast_start: true,
            keep_audio_open: false,
        }
    }

    /// Real model from an asset directory in the canonical layout
    /// (`kokoro-v1_0.safetensors`, `config.json`, `voices/`, `lexicons/`).
    pub fn from_assets(dir: impl Into<PathBuf>) -> EngineConfig {
        let dir = dir.into();
        EngineConfig {
            model: ModelSource::Files {
                weights: dir.join("kokoro-v1_0.safetensors"),
                config: dir.join("config.json"),
            },
            lexicons: Some(dir.join("lexicons")),
            voices_dir: Some(dir.join("voices")),
            voice: "af_heart".into(),
            speed: 1.0,
            volume: 1.0,
            lang: hark_text::Lang::EnUs,
            output: Output::Device,
            deterministic: false,
            fast_start: true,
            keep_audio_open: false,
        }
    }
}

/// Per-utterance overrides of the engine defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpeakOptions {
    /// Voice or blend; `None` = the engine's current voice.
    pub voice: Option<String>,
    /// Speed; `None` = the engine's current speed.
    pub speed: Option<f32>,
}

/// Messages of [`Engine::synthesize_stream`] that may wait unread: past this, synthesis waits
/// for the consumer (a slow reader slows the synthesis instead of piling up audio).
pub const STREAM_BUFFER: usize = 8;

/// One message of [`Engine::synthesize_stream`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamItem {
    /// Encoded PCM (24 kHz mono) for the next stretch of audio.
    Audio(Vec<u8>),
    /// A word of the audio that follows (times from the stream start).
    Word {
        /// Source byte range.
        src: Range<usize>,
        /// Start, ms.
        start_ms: u64,
        /// End, ms.
        end_ms: u64,
    },
    /// The stream is complete.
    End,
    /// Synthesis failed; nothing follows.
    Error(String),
}

/// Handle to the warm worker. Cheap to clone; all clones drive the same worker,
/// which shuts down when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<worker::Handle>,
}

// The handle is shared across threads by the CLI, the bridge and the tray app.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
};

/// Check a speed value.
fn check_speed(s: f32) -> Result<f32> {
    if s.is_finite() && (0.5..=2.0).contains(&s) {
        Ok(s)
    } else {
        Err(Error::InvalidSetting(format!(
            "speed must be between 0.5 and 2.0 (got {s})"
        )))
    }
}

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
        let inner = worker::Handle::start(cfg)?;
        Ok(Engine {
            inner: Arc::new(inner),
        })
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

    /// Change the default speed (0.5 ..= 2.0); applies from the next chunk.
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

    /// Synthesize `text` on a background thread and deliver encoded PCM chunk by
    /// chunk, with word timings; never touches the audio device. The channel holds at most
    /// [`STREAM_BUFFER`] unread items: synthesis waits while it is full. Dropping the
    /// receiver stops the synthesis after the current chunk.
    pub fn synthesize_stream(
        &self,
        text: &str,
        opts: SpeakOptions,
        format: PcmFormat,
    ) -> Result<std::sync::mpsc::Receiver<StreamItem>> {
        self.inner.synthesize_stream(text, opts, format)
    }

    /// Synthesize the whole utterance on the calling thread: 24 kHz mono, the
    /// same samples `speak` plays at volume 1.
    pub fn synthesize_to_vec(&self, text: &str, opts: SpeakOptions) -> Result<Vec<f32>> {
        self.inner.synthesize_to_vec(text, opts)
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

    /// Waits up to `timeout` for the start-up warm-up (see [`WarmUp`]) to be over and says what
    /// it did; `None` if it is still running (or failed). A request cuts the warm-up short
    /// instead of waiting for it.
    pub fn warm_up(&self, timeout: std::time::Duration) -> Option<WarmUp> {
        self.inner.warm_up(timeout)
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
