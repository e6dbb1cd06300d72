//! Typed errors of the model crate.

use std::path::PathBuf;

/// Everything that can go wrong while loading or running the model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The phoneme string (or id list) is empty.
    #[error("empty input: nothing to synthesize")]
    Empty,
    /// More phonemes than one forward pass accepts.
    #[error("input too long: {len} phoneme symbols, at most {max} per call")]
    TooLong {
        /// Symbols given.
        len: usize,
        /// Symbols allowed.
        max: usize,
    },
    /// A frame range outside a prepared chunk (or empty).
    #[error("frame range {start}..{end} is empty or outside the chunk's {frames} frames")]
    BadRange {
        /// First frame asked for.
        start: usize,
        /// End (exclusive) asked for.
        end: usize,
        /// Frames in the chunk.
        frames: usize,
    },
    /// Symbols that are not in the model vocabulary (each listed once, in order of appearance).
    #[error("unknown phoneme symbols: {}", fmt_chars(.0))]
    UnknownSymbols(Vec<char>),
    /// A token id outside the embedding table.
    #[error("token id {id} out of range (vocabulary has {n_token} ids)")]
    BadTokenId {
        /// The id.
        id: u32,
        /// Ids the vocabulary has.
        n_token: usize,
    },
    /// Speed is NaN/infinite or outside [0.25, 4.0].
    #[error("bad speed {0}: must be a finite number in [0.25, 4.0]")]
    BadSpeed(f32),
    /// The style vector has the wrong length or non-finite values.
    #[error("bad style vector: {0}")]
    BadStyle(String),
    /// A voice pack could not be read or is malformed.
    #[error("voice pack {name}: {msg}")]
    Voice {
        /// The pack.
        name: String,
        /// What is wrong.
        msg: String,
    },
    /// The weights file cannot be opened or parsed (truncated, corrupt, not safetensors).
    #[error("weights file {}: {msg}", file.display())]
    WeightsFile {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// A tensor is missing, mis-shaped or of the wrong dtype.
    #[error("weights file {}: tensor `{tensor}`: {msg}", file.display())]
    Tensor {
        /// The file.
        file: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// What is wrong.
        msg: String,
    },
    /// The configuration is out of range or inconsistent.
    #[error("config: {0}")]
    Config(String),
    /// The configuration is not JSON of the expected shape.
    #[error("config{}: {source}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    ConfigJson {
        /// The file, when it came from one.
        path: Option<PathBuf>,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A compute backend or CPU level that this machine cannot run, or an unknown name.
    #[error("compute: {0}")]
    Compute(String),
    /// The model produced non-finite values.
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// The caller set [`crate::ForwardOptions::cancel`]; the forward pass stopped early.
    #[error("cancelled")]
    Cancelled,
    /// An error from candle.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// An I/O error with the path it happened on.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn fmt_chars(chars: &[char]) -> String {
    chars
        .iter()
        .map(|c| format!("{c:?} (U+{:04X})", *c as u32))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;
