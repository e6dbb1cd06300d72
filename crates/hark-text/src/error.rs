//! The crate's error type.

use std::path::PathBuf;

/// Errors of this crate (only lexicon loading and language names can fail).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A lexicon file could not be read.
    #[error("cannot read lexicon file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A lexicon file is not JSON of misaki's shape.
    #[error("lexicon file {} is not a misaki lexicon: {source}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The thread loading a lexicon file panicked.
    #[error("loading lexicon file {} failed: its thread panicked", path.display())]
    LoadPanicked {
        /// The file.
        path: PathBuf,
    },
    /// A language name that is none of `en-us`, `a`, `en-gb`, `b`.
    #[error("unknown language {0:?} (expected en-us, a, en-gb or b)")]
    UnknownLang(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;
