//! How an engine is set up and what it is asked: the model source, the output, the defaults, the
//! per-utterance options and the items of a PCM stream.

use crate::error::{Error, Result};
use crate::voice::DEFAULT_VOICE;
use hark_text::Lang;
use serde::Serialize;
use std::ops::Range;
use std::path::PathBuf;

/// Model sample rate (Hz), the model's own fact; every sink receives audio at this rate.
pub use hark_kokoro::SAMPLE_RATE;

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
    /// The Japanese dictionary's directory (`<assets>/ja`, installed by `hark fetch
    /// --japanese`); without it Japanese voices fail with a clear error.
    pub japanese: Option<PathBuf>,
    /// Directory with `<voice>.bin` packs; default `<weights dir>/voices`
    /// (random packs for the tiny model).
    pub voices_dir: Option<PathBuf>,
    /// Default voice or blend (`af_heart`, `af_heart:0.6+af_bella:0.4`); [`DEFAULT_VOICE`] unless set.
    pub voice: String,
    /// Default speed (within [`SPEED_RANGE`]).
    pub speed: f32,
    /// Playback volume (0.0 ..= 2.0).
    pub volume: f32,
    /// Read every voice with this language's front end. `None` (the default): each voice is
    /// read with its own ([`voice_lang`]: British English for `b…` voices, else American), so
    /// the front end follows the voice of each chunk.
    pub lang: Option<Lang>,
    /// Output of `speak`.
    pub output: Output,
    /// Fixed noise seeds and no pacing (chunks and fast-start windows never depend on timing),
    /// so the same text gives the same samples on every output.
    pub deterministic: bool,
    /// Seed of the generator's noise when not [`deterministic`](Self::deterministic): chunk
    /// *n* of an utterance uses `seed + n`.
    pub seed: u64,
    /// Compute each utterance's first chunk in growing windows (see
    /// [`hark_kokoro::Stream`]): the first sound comes after about 0.2 s instead of after the
    /// whole first chunk (about 1.1 s for an 8-word sentence on two cores), at the cost of level
    /// differences of about 1 dB (median) in that chunk. On outputs that play as they go, window
    /// sizes also follow the audio in hand, so there the windows depend on timing. On by default
    /// ([`EngineConfig::from_assets`], [`EngineConfig::tiny`]); off gives the exact audio.
    pub fast_start: bool,
    /// What the model computes with: GEMM backend, CPU level, threads, convolution algorithms
    /// (the fastest for this machine unless the owner chooses; see [`hark_kokoro::Compute`]).
    pub compute: hark_kokoro::Compute,
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
            japanese: None,
            voices_dir: None,
            voice: DEFAULT_VOICE.into(),
            speed: 1.0,
            volume: 1.0,
            lang: None,
            output: Output::Null,
            deterministic: true,
            seed: 0,
            fast_start: true,
            keep_audio_open: false,
            compute: hark_kokoro::Compute::default(),
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
            japanese: Some(dir.join("ja")),
            voices_dir: Some(dir.join("voices")),
            voice: DEFAULT_VOICE.into(),
            speed: 1.0,
            volume: 1.0,
            lang: None,
            output: Output::Device,
            deterministic: false,
            seed: 0,
            fast_start: true,
            keep_audio_open: false,
            compute: hark_kokoro::Compute::default(),
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
    /// The next stretch of audio: [`SAMPLE_RATE`] mono samples as the engine makes them
    /// (not clipped; byte formats are the consumer's, e.g. the bridge's encoders).
    Audio(Vec<f32>),
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

/// Lowest and highest speed factor the engine speaks at (the model itself takes 0.25–4, but
/// beyond this range its prosody breaks down). The bridge, the settings and the CLI check
/// against this; the browser extension's copy is tested against it.
pub const SPEED_RANGE: std::ops::RangeInclusive<f32> = 0.5..=2.0;

/// Check a speed value.
pub(crate) fn check_speed(s: f32) -> Result<f32> {
    if s.is_finite() && SPEED_RANGE.contains(&s) {
        Ok(s)
    } else {
        Err(Error::InvalidSetting(format!(
            "speed must be between {} and {} (got {s})",
            SPEED_RANGE.start(),
            SPEED_RANGE.end()
        )))
    }
}
