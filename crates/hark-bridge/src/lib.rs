//! hark-bridge: the small, hardened HTTP server on 127.0.0.1 through which the
//! browser extension, scripts and OpenAI-compatible clients use a running
//! [`hark_engine::Engine`].
//!
//! What it is for:
//! - hark's own API under `/v1`: `GET health`, `GET version`, `GET voices`,
//!   `GET state`, `POST speak` (plays on the app's output, returns an utterance
//!   id), `POST stop|pause|resume|skip|previous`, `GET events` (Server-Sent
//!   Events: state, sentence and word boundaries with source byte offsets, the
//!   text of each utterance) and `POST synthesize` (binary audio streamed back
//!   as WAV or raw s16le/f32le PCM, chunk by chunk — never base64);
//! - the OpenAI speech API: `POST /v1/audio/speech` (mp3, opus, flac, wav, pcm; streamed as
//!   encoded, or whole), `GET /v1/audio/voices` and `GET /v1/models`;
//! - security as tower layers: loopback `Host` only (DNS rebinding), a bearer token from
//!   every caller ([`load_or_create_token`]; hark's extension gets it through Chrome native
//!   messaging, see [`native_host`]), browser Origins only from allowlisted extensions (CORS
//!   and Private Network Access preflights for those only) and only with `application/json`
//!   bodies, a 1 MB body limit, a 100,000-character text limit, per-client and global rate
//!   limits, JSON errors ([`ApiError`]) for every refusal, and refusal logs throttled to one
//!   line per kind every 10 s;
//! - bounded work ([`Limits`]): a capped speak queue and number of audio streams (each
//!   stream's synthesis waits for its reader), a connection cap, header and body read
//!   timeouts, and a shutdown that ends within [`Limits::shutdown_grace`] whatever the
//!   clients do.
//!
//! What it is not: a general web server, reachable from other machines, a TLS
//! endpoint, or a place for synthesis logic (that is `hark-engine`).
//!
//! Shells start it with [`serve`] (async, inside their runtime) or [`spawn`]
//! (its own runtime thread, for synchronous callers).

#![warn(missing_docs)]

mod api;
mod audio;
mod config;
mod encode;
mod error;
pub mod native_host;
mod openai;
mod policy;
mod security;
mod server;
mod speaks;
mod state;
mod stretch;
mod token;

pub use api::{MAX_TEXT_CHARS, SPEED_RANGE};
pub use config::{BridgeConfig, Limits, API_VERSION, DEFAULT_PORT, DEFAULT_RATE_LIMIT_PER_MIN};
pub use encode::OPENAI_FORMATS;
pub use error::{ApiError, Error, Result};
pub use hark_engine::SAMPLE_RATE;
pub use policy::is_extension_id;
pub use security::MAX_BODY_BYTES;
pub use token::{load_or_create_token, TOKEN_FILE};

/// The stable id of hark's browser extension, derived from the public key in
/// `extension/manifest.json` (`key`): the first 32 hex digits of the SHA-256 of
/// the DER public key, with 0-f mapped to a-p. Always allowlisted.
pub const EXTENSION_ID: &str = "cnbidgmpdgfdipmfnnbliajmnbjeljgp";

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use hark_engine::Engine;
use state::AppState;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

/// The whole HTTP surface: routes, then the layers (outermost last).
///
/// Read-only endpoints answer POST as well as GET: Chrome sends no `Origin` on
/// an extension's GET requests (only on POST), so the extension uses POST to be
/// recognised by its origin (the second gate, after the token).
fn router(state: Arc<AppState>) -> Router {
    use api::Control;
    use axum::middleware::from_fn_with_state;
    let control = |what: Control| move |State(st): State<Arc<AppState>>| api::control(st, what);
    let v1 = Router::new()
        .route("/health", get(api::health).post(api::health))
        .route("/version", get(api::version).post(api::version))
        .route("/voices", get(api::voices).post(api::voices))
        .route("/state", get(api::state).post(api::state))
        .route("/speak", post(api::speak))
        .route("/stop", post(api::stop))
        .route("/pause", post(control(Control::Pause)))
        .route("/resume", post(control(Control::Resume)))
        .route("/skip", post(control(Control::Skip)))
        .route("/previous", post(control(Control::Previous)))
        .route("/events", get(api::events).post(api::events))
        .route("/synthesize", post(api::synthesize))
        .route("/audio/speech", post(openai::speech))
        .route("/audio/voices", get(openai::voices).post(openai::voices))
        .route("/models", get(openai::models).post(openai::models));
    Router::new()
        .nest("/v1", v1)
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(from_fn_with_state(state.clone(), security::body_limit))
        .layer(from_fn_with_state(state.clone(), security::rate_limit))
        .layer(from_fn_with_state(state.clone(), security::origin_guard))
        .layer(from_fn_with_state(state.clone(), security::host_guard))
        .layer(from_fn_with_state(state.clone(), security::global_limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .with_state(state)
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    tracing::error!("a request handler panicked");
    ApiError::internal("internal error").into_response()
}

/// Serves the bridge on 127.0.0.1:`cfg.port` until `shutdown` completes.
pub async fn serve(
    engine: Engine,
    cfg: BridgeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    cfg.validate()?;
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, cfg.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind {
            port: cfg.port,
            source,
        })?;
    serve_listener(engine, cfg, listener, shutdown).await
}

async fn serve_listener(
    engine: Engine,
    cfg: BridgeConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let local = listener.local_addr()?;
    if !local.ip().is_loopback() {
        return Err(Error::Config(format!(
            "refusing to serve on non-loopback {local}"
        )));
    }
    let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
    let limits = cfg.limits.clone();
    let state = Arc::new(AppState::new(engine, cfg, local.port(), closing_rx.clone()));
    tracing::info!(addr = %local, "hark bridge listening");
    let tracker = tokio::spawn(api::track_speaks(state.clone()));
    let result = server::run(
        listener,
        router(state.clone()),
        &limits,
        state.clone(),
        closing_rx,
        async move {
            shutdown.await;
            tracing::info!("hark bridge shutting down");
            // Event streams never end on their own: tell them to, so the graceful
            // shutdown does not wait for them.
            let _ = closing_tx.send(true);
        },
    )
    .await;
    tracker.abort();
    result
}

/// A bridge running on its own thread and tokio runtime (see [`spawn`]).
pub struct BridgeHandle {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl BridgeHandle {
    /// The address actually listened on (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections, gives open requests [`Limits::shutdown_grace`] to end,
    /// cuts the connections still open and joins the thread. Open event streams are cut at
    /// once.
    pub fn shutdown(mut self) -> Result<()> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| Error::Server("bridge thread panicked".into()))?,
            None => Ok(()),
        }
    }
}

impl Drop for BridgeHandle {
    fn drop(&mut self) {
        if let Err(e) = self.stop_and_join() {
            tracing::warn!(error = %e, "bridge ended with an error");
        }
    }
}

/// Binds 127.0.0.1:`cfg.port` now (so a busy port is reported here) and serves
/// on a new thread with its own tokio runtime. For synchronous callers (the
/// tray app); async callers use [`serve`].
pub fn spawn(engine: Engine, cfg: BridgeConfig) -> Result<BridgeHandle> {
    cfg.validate()?;
    let std_listener =
        std::net::TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, cfg.port)).map_err(
            |source| Error::Bind {
                port: cfg.port,
                source,
            },
        )?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("hark-bridge")
        .enable_all()
        .build()?;
    let thread = std::thread::Builder::new()
        .name("hark-bridge".into())
        .spawn(move || {
            let result = runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener)?;
                let shutdown = async move {
                    let _ = stop_rx.await;
                };
                serve_listener(engine, cfg, listener, shutdown).await
            });
            // Whatever is left (a synthesis waiting for its first audio) is not waited for.
            runtime.shutdown_timeout(Duration::from_millis(100));
            result
        })?;
    Ok(BridgeHandle {
        addr,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}
