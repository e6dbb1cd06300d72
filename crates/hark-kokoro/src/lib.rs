//! # hark-kokoro
//!
//! Inference of the Kokoro-82M (v1.0) text-to-speech model: configuration, weights, every
//! module (PL-BERT/ALBERT, prosody predictor, text encoder, decoder, iSTFTNet generator) and the
//! forward pass from phoneme token ids and a style vector to 24 kHz mono f32 PCM.
//!
//! What it is for: turning a phoneme string (≤ 510 symbols of the model's vocabulary) plus a
//! voice pack into audio, reproducibly (deterministic mode, or a seeded noise stream), on the CPU
//! in f32 with hand-tiled convolution kernels whose matrix products run on the fastest engine
//! the machine has ([`matmul`]: Accelerate on macOS, OpenBLAS or the pure-Rust `gemm` kernels
//! elsewhere) and whose loops dispatch on the CPU's vector unit at run time ([`cpu`]). Weights are read from the canonical safetensors
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
//! use hark_kokoro::{Config, ForwardOptions, Kokoro, VoicePack};
//! # fn main() -> hark_kokoro::Result<()> {
//! let cfg = Config::from_file("config.json".as_ref())?;
//! let model = Kokoro::load("kokoro-v1_0.safetensors".as_ref(), &cfg)?;
//! let voice = VoicePack::load("voices/af_heart.bin".as_ref())?;
//! let out = model.synthesize("həlˈO", &voice, 1.0, &ForwardOptions::default())?;
//! assert_eq!(out.audio.len(), 600 * out.durations.iter().sum::<u32>() as usize);
//! # Ok(()) }
//! ```

mod albert;
mod blocks;
mod config;
pub mod cpu;
mod decoder;
mod error;
mod kernels;
mod lstm;
pub mod matmul;
mod model;
mod noise;
mod predictor;
mod simd;
mod source;
mod stream;
mod text_encoder;
mod voice;
mod weights;

pub use config::{Config, IstftnetConfig, PlbertConfig, Vocab};
pub use error::{Error, Result};
pub use model::{ForwardOptions, Kokoro, Prepared, Synthesis, Timings, Trace, TraceTensor};
pub use stream::{Stream, StreamPlan};
pub use voice::VoicePack;

/// Output sample rate (Hz).
pub const SAMPLE_RATE: u32 = 24_000;
/// Maximum phoneme symbols per forward pass (512 positions minus the two pads).
pub const MAX_PHONEMES: usize = 510;

/// Threads the model's parallel parts use: those of the current rayon pool (a caller can run
/// the model inside a smaller [`rayon::ThreadPool`], or size the global one).
pub fn threads() -> usize {
    rayon::current_num_threads().max(1)
}
