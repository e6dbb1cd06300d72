//! # hark-kokoro
//!
//! Inference of the Kokoro-82M (v1.0) text-to-speech model: configuration, weights, every
//! module (PL-BERT/ALBERT, prosody predictor, text encoder, decoder, iSTFTNet generator) and the
//! forward pass from phoneme token ids and a style vector to 24 kHz mono f32 PCM.
//!
//! What it is for: turning a phoneme string (≤ 510 symbols of the model's vocabulary) plus a
//! voice pack into audio, reproducibly (deterministic mode, or a seeded noise stream), on the CPU
//! in f32 with hand-tiled convolution kernels. Weights are read from the canonical safetensors
//! file (memory-mapped through candle, zero-copy). A forward pass can be cancelled from another
//! thread through [`ForwardOptions::cancel`]. Memory: the mapped weights (~325 MB) plus the
//! generator's buffers (~4 × 62 MB for a 25 s chunk); for long chunks the text-side and decoder
//! weight pages are dropped from the resident set before the generator runs, so a process that
//! runs 25 s chunks peaks at ~440 MB.
//!
//! What it is not: a text front end (graphemes → phonemes live in `hark-text`), an audio
//! player, a chunker for long texts, or an asset downloader. It knows nothing of apps.
//!
//! ```no_run
//! use hark_kokoro::{Config, ForwardOptions, Kokoro, VoicePack, select_device};
//! # fn main() -> hark_kokoro::Result<()> {
//! let cfg = Config::from_file("config.json".as_ref())?;
//! let model = Kokoro::load("kokoro-v1_0.safetensors".as_ref(), &cfg, &select_device("auto"))?;
//! let voice = VoicePack::load("voices/af_heart.bin".as_ref())?;
//! let out = model.synthesize("həlˈO", &voice, 1.0, &ForwardOptions::default())?;
//! assert_eq!(out.audio.len(), 600 * out.durations.iter().sum::<u32>() as usize);
//! # Ok(()) }
//! ```

mod albert;
mod blocks;
mod config;
mod decoder;
mod error;
mod kernels;
mod lstm;
mod model;
mod noise;
mod predictor;
mod simd;
mod source;
mod stream;
mod text_encoder;
mod voice;
mod weights;

pub use candle_core::Device;
pub use config::{Config, IstftnetConfig, PlbertConfig, Vocab};
pub use error::{Error, Result};
pub use model::{ForwardOptions, Kokoro, Prepared, Synthesis, Timings, Trace, TraceTensor};
pub use stream::{Stream, StreamPlan};
pub use voice::VoicePack;

/// Output sample rate (Hz).
pub const SAMPLE_RATE: u32 = 24_000;
/// Maximum phoneme symbols per forward pass (512 positions minus the two pads).
pub const MAX_PHONEMES: usize = 510;

/// Picks a device from a preference: `"auto"`, `"cpu"` or `"metal"`. Falls back to the CPU (with
/// a warning) when Metal is requested but not compiled in or not available. The model's kernels
/// run on the CPU in any case; the device is where candle-side tensors would live.
pub fn select_device(pref: &str) -> Device {
    match pref.trim().to_ascii_lowercase().as_str() {
        "cpu" => Device::Cpu,
        "metal" => metal_or_cpu(true),
        "auto" | "" => metal_or_cpu(false),
        other => {
            tracing::warn!(
                preference = other,
                "unknown device preference, using the CPU"
            );
            Device::Cpu
        }
    }
}

fn metal_or_cpu(explicit: bool) -> Device {
    #[cfg(feature = "metal")]
    {
        match Device::new_metal(0) {
            Ok(d) => return d,
            Err(e) => {
                tracing::warn!(error = %e, "Metal device unavailable, falling back to the CPU")
            }
        }
    }
    #[cfg(not(feature = "metal"))]
    if explicit {
        tracing::warn!("built without the `metal` feature, falling back to the CPU");
    }
    let _ = explicit;
    Device::Cpu
}
