//! How the bridge is set up: its port, who may call it, and the bounds on its work.

use crate::error::{Error, Result};
use crate::policy::is_extension_id;
use std::time::Duration;

/// Default TCP port of the bridge on 127.0.0.1 (defined with the settings).
pub use hark_settings::DEFAULT_BRIDGE_PORT as DEFAULT_PORT;

/// Default per-client rate limit (requests per minute, with the same burst).
pub const DEFAULT_RATE_LIMIT_PER_MIN: u32 = 1200;

/// How much work the bridge takes on at once, and how long it waits for clients.
/// Every bound answers with a JSON error when it is hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Open connections. When one more comes, the connection that has waited longest without
    /// sending a complete request head (a new one, or a keep-alive one between requests) is
    /// closed to make room; only when every connection has a request in progress is the new
    /// one answered 503 `too_many_connections` and closed.
    pub max_connections: usize,
    /// Audio streams (`/v1/synthesize`, `/v1/audio/speech`) running at once. Each stream's
    /// synthesis waits while its client does not read.
    pub max_audio_streams: usize,
    /// Audio requests that wait for a running stream to end, served in the order they came;
    /// one more gets 429 `too_many_streams` with `Retry-After`.
    pub max_waiting_streams: usize,
    /// `/v1/speak` utterances queued or playing; one more gets 429 `queue_full`.
    pub max_queued_speaks: usize,
    /// Open `/v1/events` streams; one more gets 429 `too_many_event_streams`.
    pub max_event_streams: usize,
    /// Time a client has to send a request's headers (also the keep-alive idle time); then the
    /// connection is closed.
    pub header_read_timeout: Duration,
    /// Time a client has to send a request's body; then 408 `body_timeout`.
    pub body_read_timeout: Duration,
    /// On shutdown, time open requests get to finish before their connections are cut.
    pub shutdown_grace: Duration,
    /// Requests per minute from all clients together (0 = unlimited); then 429 `rate_limited`.
    pub global_rate_limit_per_min: u32,
    /// Distinct clients the per-client rate limiter tracks; past that, new clients share one
    /// bucket.
    pub max_rate_clients: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 64,
            max_audio_streams: 2,
            max_waiting_streams: 32,
            max_queued_speaks: 32,
            max_event_streams: 16,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(1),
            global_rate_limit_per_min: 3000,
            max_rate_clients: 256,
        }
    }
}

/// Version of the HTTP API (the `/v1` prefix).
pub const API_VERSION: u32 = 1;

/// How the bridge listens and whom it lets in.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// Port on 127.0.0.1 (0 = any free port; see [`BridgeHandle::addr`]).
    pub port: u16,
    /// Extension ids allowed as browser Origins besides [`EXTENSION_ID`](crate::EXTENSION_ID).
    pub allowed_extension_ids: Vec<String>,
    /// Bearer token required from every client (see [`load_or_create_token`]).
    pub token: String,
    /// Requests per minute per client (0 = unlimited).
    pub rate_limit_per_min: u32,
    /// Bounds and timeouts.
    pub limits: Limits,
}

impl BridgeConfig {
    /// Default port and rate limit, only hark's own extension allowlisted.
    pub fn new(token: String) -> Self {
        Self {
            port: DEFAULT_PORT,
            allowed_extension_ids: Vec::new(),
            token,
            rate_limit_per_min: DEFAULT_RATE_LIMIT_PER_MIN,
            limits: Limits::default(),
        }
    }

    /// The bridge the settings describe (port, allowlist), with `token`; default limits.
    /// `hark serve` and the app both start their bridge through this.
    pub fn from_settings(settings: &hark_settings::BridgeSettings, token: String) -> Self {
        Self {
            port: settings.port,
            allowed_extension_ids: settings.allowed_extension_ids.clone(),
            ..Self::new(token)
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.token.trim().len() < 16 {
            return Err(Error::Config(
                "the bearer token must have at least 16 characters".into(),
            ));
        }
        if let Some(bad) = self
            .allowed_extension_ids
            .iter()
            .find(|id| !is_extension_id(id))
        {
            return Err(Error::Config(format!(
                "'{bad}' is not an extension id (32 letters a-p)"
            )));
        }
        let l = &self.limits;
        if l.max_connections == 0
            || l.max_audio_streams == 0
            || l.max_queued_speaks == 0
            || l.max_event_streams == 0
            || l.max_rate_clients == 0
        {
            return Err(Error::Config("every limit must be at least 1".into()));
        }
        Ok(())
    }
}
