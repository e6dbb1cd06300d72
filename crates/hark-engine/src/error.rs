//! The engine's error type. Failures of the crates below (the model, the front end, the audio
//! backend, the file system) are kept as the error's [`source`](std::error::Error::source).

use std::path::PathBuf;

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model could not be loaded (from `path`, when there is a file) or failed to run.
    #[error("model: {}{source}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Model {
        /// The weights or config file being loaded.
        path: Option<PathBuf>,
        /// What the model crate reported.
        #[source]
        source: hark_kokoro::Error,
    },
    /// The speech worker failed without an underlying error (it died, an utterance ended
    /// early, a wait timed out).
    #[error("speech worker: {0}")]
    Worker(String),
    /// The engine was shut down ([`crate::Engine::shutdown`]): it takes no more requests.
    #[error("the speech engine has shut down")]
    ShutDown,
    /// No lexicon directory was configured ([`crate::EngineConfig::lexicons`]).
    #[error("text front end: no lexicon directory configured (EngineConfig::lexicons)")]
    NoLexicons,
    /// The lexicons of the text front end could not be loaded.
    #[error("text front end: {}: {source}", dir.display())]
    Lexicon {
        /// The lexicon directory.
        dir: PathBuf,
        /// What the front end reported.
        #[source]
        source: hark_text::Error,
    },
    /// The text front end of a language could not be made (espeak-ng missing for es, fr-fr,
    /// it, pt-br, hi; no reader for the language yet).
    #[error("text front end ({lang}): {source}")]
    FrontEnd {
        /// The language.
        lang: hark_text::Lang,
        /// What the front end reported.
        #[source]
        source: hark_text::Error,
    },
    /// A voice name or blend expression is malformed or names no installed voice.
    #[error("voice: {0}")]
    Voice(String),
    /// A voice pack could not be read, or voices could not be blended.
    #[error("voice: {spec}: {source}")]
    VoicePack {
        /// The voice name or blend.
        spec: String,
        /// What the model crate reported.
        #[source]
        source: hark_kokoro::Error,
    },
    /// A setting was out of range (speed, volume, ...).
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    /// No usable audio output device, or the device failed.
    #[error("audio device: {what}{}", source.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    Device {
        /// What failed.
        what: String,
        /// The audio backend's error, if it gave one.
        #[source]
        source: Option<cpal::Error>,
    },
    /// Writing an output file failed.
    #[error("writing {}: {source}", path.display())]
    Output {
        /// The file being written.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
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

impl Error {
    /// A model failure (`Cancelled` stays a cancellation).
    pub(crate) fn model(source: hark_kokoro::Error) -> Error {
        match source {
            hark_kokoro::Error::Cancelled => Error::Cancelled,
            source => Error::Model { path: None, source },
        }
    }

    /// A device failure without a backend error.
    pub(crate) fn device(what: impl Into<String>) -> Error {
        Error::Device {
            what: what.into(),
            source: None,
        }
    }

    /// A device failure the backend reported.
    pub(crate) fn backend(what: impl Into<String>, source: cpal::Error) -> Error {
        Error::Device {
            what: what.into(),
            source: Some(source),
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn causes_are_kept_and_named_once() {
        let e = Error::Model {
            path: Some("/m/config.json".into()),
            source: hark_kokoro::Error::Config("bad json".into()),
        };
        assert_eq!(e.to_string(), "model: /m/config.json: config: bad json");
        assert!(e
            .source()
            .is_some_and(|s| s.to_string() == "config: bad json"));
        assert!(matches!(
            Error::model(hark_kokoro::Error::Cancelled),
            Error::Cancelled
        ));
        let e = Error::device("no default output device");
        assert_eq!(e.to_string(), "audio device: no default output device");
        assert!(e.source().is_none());
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let e = Error::Output {
            path: "/x.wav".into(),
            source: io,
        };
        assert_eq!(e.to_string(), "writing /x.wav: denied");
        assert!(e.source().is_some());
    }
}
