//! Error types: [`Error`] for the library API (start-up, token file), [`ApiError`] for HTTP answers.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::path::PathBuf;

/// Failures of the bridge's library API (starting the server, the token file).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Binding the loopback listener failed (port in use, ...).
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The requested port.
        port: u16,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Reading, creating or securing the bearer-token file (or its directory) failed.
    #[error("token file {}: {what}: {source}", path.display())]
    TokenFile {
        /// The token file.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The token file holds something that is not a token.
    #[error("token file {}: does not hold a valid token (need at least {min_len} printable ASCII characters); delete it to make a new one", path.display())]
    InvalidToken {
        /// The token file.
        path: PathBuf,
        /// The shortest token accepted.
        min_len: usize,
    },
    /// The OS gave no randomness for a new token.
    #[error("token file {}: no OS randomness: {source}", path.display())]
    NoRandomness {
        /// The token file.
        path: PathBuf,
        /// The error of the OS source.
        #[source]
        source: getrandom::Error,
    },
    /// The configuration is unusable (empty token, bad extension id, ...).
    #[error("invalid bridge configuration: {0}")]
    Config(String),
    /// The server failed while running.
    #[error("server: {0}")]
    Server(String),
    /// Plain I/O failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An HTTP failure, answered as JSON in the OpenAI error shape:
/// `{"error": {"message": "...", "type": "...", "code": "..."}}`.
///
/// Every refusal of the bridge (security layers, validation, engine errors)
/// goes through this type, so clients always get a JSON body and a 4xx/5xx.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    code: &'static str,
}

impl ApiError {
    /// An error with an explicit status, machine-readable code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400: the request is malformed or a field is invalid.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 401: no (valid) bearer token.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: the Host or Origin is not allowed.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 413: the body or the text is too large.
    pub fn too_large(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, code, message)
    }

    /// 429: the client exceeded its rate limit.
    pub fn rate_limited(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
    }

    /// 429: a bound on work in progress was hit (`queue_full`, `too_many_streams`, ...).
    pub fn busy(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, code, message)
    }

    /// 404: no such endpoint.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500: something failed inside the bridge or the engine.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", message)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl From<hark_engine::Error> for ApiError {
    fn from(e: hark_engine::Error) -> Self {
        use hark_engine::Error as E;
        match e {
            E::Voice(_) | E::VoicePack { .. } | E::InvalidSetting(_) => {
                ApiError::bad_request(e.to_string())
            }
            E::NoLexicons | E::Lexicon { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "text_error",
                e.to_string(),
            ),
            _ => ApiError::internal(e.to_string()),
        }
    }
}

impl ApiError {
    /// The JSON body of this error.
    pub fn json_body(&self) -> Vec<u8> {
        let kind = if self.status.is_server_error() {
            "server_error"
        } else {
            "invalid_request_error"
        };
        let body = ErrorBody {
            error: ErrorDetail {
                message: &self.message,
                kind,
                code: self.code,
            },
        };
        serde_json::to_vec(&body).unwrap_or_else(|_| b"{\"error\":{}}".to_vec())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let bytes = self.json_body();
        let mut resp = (self.status, bytes).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::TOO_MANY_REQUESTS && self.code != "rate_limited" {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp
    }
}
