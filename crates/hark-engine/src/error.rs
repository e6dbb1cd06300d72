//! The engine's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model could not be loaded or failed to run.
    #[error("model: {0}")]
    Model(String),
    /// The text front end (lexicons, G2P, chunking) failed.
    #[error("text front end: {0}")]
    Text(String),
    /// A voice name or blend expression could not be resolved.
    #[error("voice: {0}")]
    Voice(String),
    /// A setting was out of range (speed, volume, ...).
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    /// No usable audio output device, or the device failed.
    #[error("audio device: {0}")]
    Device(String),
    /// Writing an output file failed.
    #[error("writing {path}: {message}")]
    Output {
        /// The file being written.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The consumer of a stream went away, or the worker is gone.
    #[error("disconnected: {0}")]
    Disconnected(String),
    /// The utterance was cancelled before it completed.
    #[error("cancelled")]
    Cancelled,
    /// Plain I/O failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
