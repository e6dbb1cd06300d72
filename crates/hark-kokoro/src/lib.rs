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
//! elsewhere) and whose loops dispatch on the CPU's vector unit at run time ([`cpu`]), as the
//! [`Compute`] the model is loaded with says (the fastest for the machine by default; each model
//! runs on a thread pool of its own, so two models share no mutable state, and the crate reads
//! no environment variables). Weights are read from the canonical safetensors
//! file (memory-mapped through candle, zero-copy). A forward pass can be cancelled from another
//! thread through [`ForwardOptions::cancel`]. Memory: the mapped weights (~325 MB) plus the
//! generator's buffers (~4 × 62 MB for a 25 s chunk); for long chunks the text-side and decoder
//! weight pages are dropped from the resident set before the generator runs, so a process that
//! runs 25 s chunks peaks at ~440 MB.
//!
//! Layering, shown by the folders and checked by `scripts/check-layers.py` (no module imports a
//! higher layer, no two modules import each other): `error` and `config` (the crate's
//! vocabulary); `kernels/` (CPU dispatch, vector loops, the matrix-product seam, elementwise
//! operations, the per-pass context); `conv/` (the DFT and Winograd convolutions and their
//! shared tiling); `nn/` (layers, blocks and the model's modules, with the weights they load
//! from); `model/` (the model, its stream, the voice packs).
//!
//! What it is not: a text front end (graphemes → phonemes live in `hark-text`), an audio
//! player, a chunker for long texts, or an asset downloader. It knows nothing of apps.
//!
//! ```no_run
//! use hark_kokoro::{Compute, Config, ForwardOptions, Kokoro, VoicePack};
//! # fn main() -> hark_kokoro::Result<()> {
//! let cfg = Config::from_file("config.json".as_ref())?;
//! let model = Kokoro::load("kokoro-v1_0.safetensors".as_ref(), &cfg, &Compute::default())?;
//! let voice = VoicePack::load("voices/af_heart.bin".as_ref())?;
//! let out = model.synthesize("həlˈO", &voice, 1.0, &ForwardOptions::default())?;
//! assert_eq!(out.audio.len(), 600 * out.durations.iter().sum::<u32>() as usize);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod config;
mod conv;
mod error;
mod kernels;
#[cfg(test)]
mod load_tests;
mod model;
mod nn;

pub use config::{
    Config, IstftnetConfig, PlbertConfig, Vocab, CONFIG_V1_JSON, MAX_PHONEMES, SAMPLE_RATE,
};
pub use conv::ConvAlgos;
pub use error::{Error, Result};
pub use kernels::cpu::threads;
pub use kernels::ops::limit_heap_arenas;
pub use kernels::pass::Timings;
pub use kernels::{cpu, matmul};
pub use model::compute::Compute;
pub use model::kokoro::{ForwardOptions, Kokoro, Prepared, Synthesis, Trace, TraceTensor};
pub use model::stream::{Stream, StreamPlan};
pub use model::voice::VoicePack;
