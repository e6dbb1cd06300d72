//! The crate's error type.

use std::path::PathBuf;

use crate::lang::Lang;

/// Errors of this crate (loading a reader and parsing a language name can fail; reading text
/// cannot).
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
    /// A language name that is none of `en-us en-gb es fr-fr it pt-br hi zh ja` nor one of
    /// Kokoro's codes `a b e f i p h z j`.
    #[error(
        "unknown language {0:?} (expected en-us, en-gb, es, fr-fr, it, pt-br, hi, zh, ja, \
         or Kokoro's a, b, e, f, i, p, h, z, j)"
    )]
    UnknownLang(String),
    /// Lexicons exist for English only.
    #[error("{0} has no misaki lexicons (only en-us and en-gb do)")]
    NotEnglish(Lang),
    /// The Japanese dictionary could not be read.
    #[error("Japanese dictionary: {0} (run `hark fetch --japanese`)")]
    Japanese(#[from] crate::ja::LoadError),
    /// There is no reader for this language (yet), or not of the kind asked for.
    #[error("no text front end for {lang}: {why}")]
    Unavailable {
        /// The language.
        lang: Lang,
        /// Why.
        why: &'static str,
    },
    /// The language is read through the espeak-ng program, which is not on PATH.
    #[error(
        "{lang} is read through the espeak-ng program, which is not installed \
         (Debian/Ubuntu: apt install espeak-ng; macOS: brew install espeak-ng)"
    )]
    EspeakMissing {
        /// The language.
        lang: Lang,
    },
    /// espeak-ng could not be started or stopped answering.
    #[error("espeak-ng (voice {voice}): {detail}")]
    Espeak {
        /// The espeak-ng voice.
        voice: String,
        /// What went wrong.
        detail: String,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;
