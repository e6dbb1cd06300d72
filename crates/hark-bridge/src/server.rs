//! The accept loop: HTTP/1.1 connections served by hyper, at most
//! [`Limits::max_connections`] at once, each with a header-read timeout, and a shutdown that
//! gives open requests [`Limits::shutdown_grace`] and then cuts what is left.
//!
//! When the connections run short, a new one takes the place of the connection that has been
//! idle longest: first those that never sent a complete request head (half-open, stuck or
//! hostile clients), then keep-alive connections between requests. A connection with a
//! request in progress (from its complete head until its answer's last byte) is never closed
//! for another, so idle connections cannot lock out a client that has asked something; only
//! when every place holds such a request is a new connection answered 503.

use crate::config::Limits;
use crate::error::{ApiError, Error, Result};
use crate::policy::Refusal;
use crate::state::AppState;
use axum::extract::ConnectInfo;
use axum::Router;
use hark_base::lock;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// Connections refused over the cap that may still be draining at once (each for at most
/// [`REFUSED_DRAIN`]); past that, refused connections are closed straight away.
const MAX_REFUSED_DRAINING: usize = 32;
/// How long a refused connection is read from (so its request does not turn the close into a
/// reset that destroys the answer).
const REFUSED_DRAIN: Duration = Duration::from_millis(500);

/// Serves `router` on `listener` until `shutdown` completes (it must set `closing`), then
/// drains within `limits.shutdown_grace`.
pub(crate) async fn run(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    state: Arc<AppState>,
    closing: watch::Receiver<bool>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let registry = Arc::new(Mutex::new(Registry::new(limits.max_connections)));
    let draining = Arc::new(Semaphore::new(MAX_REFUSED_DRAINING));
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                match lock(&registry).admit() {
                    Some((id, evict)) => {
                        let conn = serve_connection(
                            stream,
                            peer,
                            router.clone(),
                            limits.header_read_timeout,
                            closing.clone(),
                            Tracker { registry: registry.clone(), id },
                            evict,
                        );
                        conns.spawn(conn);
                    }
                    None => {
                        state.refusals.note(Refusal::Connections, "");
                        refuse(stream, limits.max_connections, &draining);
                    }
                }
            }
        }
    }
    drop(listener);
    let open = conns.len();
    let grace = limits.shutdown_grace;
    let drained =
        tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::info!(
            open = conns.len(),
            of = open,
            "cutting connections still open after {grace:?}"
        );
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
    Ok::<(), Error>(())
}

/// The open connections: how many, and which of them are idle (see the module docs).
struct Registry {
    max: usize,
    next_id: u64,
    conns: HashMap<u64, Entry>,
}

struct Entry {
    /// Requests whose head has come and whose answer has not been sent to its end.
    busy: usize,
    /// Requests whose head has come.
    heads: u64,
    /// When the connection opened or its last answer ended.
    idle_since: Instant,
    /// Closes the connection when sent to (or dropped).
    evict: Option<oneshot::Sender<()>>,
}

impl Registry {
    fn new(max: usize) -> Self {
        Registry {
            max,
            next_id: 0,
            conns: HashMap::new(),
        }
    }

    /// A place for a new connection: a free one, or the place of the idle connection that is
    /// closed for it; `None` when every connection has a request in progress.
    fn admit(&mut self) -> Option<(u64, oneshot::Receiver<()>)> {
        if self.conns.len() >= self.max {
            // Never-used connections first, then the longest idle.
            let victim = self
                .conns
                .iter()
                .filter(|(_, e)| e.busy == 0)
                .min_by_key(|(_, e)| (e.heads > 0, e.idle_since))
                .map(|(id, _)| *id)?;
            if let Some(mut e) = self.conns.remove(&victim) {
                if let Some(tx) = e.evict.take() {
                    let _ = tx.send(());
                }
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        let (tx, rx) = oneshot::channel();
        self.conns.insert(
            id,
            Entry {
                busy: 0,
                heads: 0,
                idle_since: Instant::now(),
                evict: Some(tx),
            },
        );
        Some((id, rx))
    }
}

/// A connection's entry in the [`Registry`], removed when the connection ends.
struct Tracker {
    registry: Arc<Mutex<Registry>>,
    id: u64,
}

impl Tracker {
    /// A request head has come: the connection is busy until the returned guard is dropped.
    fn begin(&self) -> Busy {
        if let Some(e) = lock(&self.registry).conns.get_mut(&self.id) {
            e.busy += 1;
            e.heads += 1;
        }
        Busy {
            registry: self.registry.clone(),
            id: self.id,
        }
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        lock(&self.registry).conns.remove(&self.id);
    }
}

/// A request in progress on a connection; dropped with the answer's body (or the handler, if
/// the client goes away first).
struct Busy {
    registry: Arc<Mutex<Registry>>,
    id: u64,
}

impl Drop for Busy {
    fn drop(&mut self) {
        if let Some(e) = lock(&self.registry).conns.get_mut(&self.id) {
            e.busy = e.busy.saturating_sub(1);
            e.idle_since = Instant::now();
        }
    }
}

/// An answer's body that keeps its connection marked busy until hyper has sent all of it.
struct TrackedBody {
    inner: axum::body::Body,
    _busy: Busy,
}

impl hyper::body::Body for TrackedBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// One HTTP/1.1 connection; on `closing`, it finishes the request in progress (if any) and
/// ends; on `evict` (see [`Registry::admit`]) it is closed at once.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    header_read_timeout: Duration,
    mut closing: watch::Receiver<bool>,
    tracker: Tracker,
    evict: oneshot::Receiver<()>,
) {
    let _ = stream.set_nodelay(true);
    let tracker = Arc::new(tracker);
    let requests = tracker.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        let busy = requests.begin();
        req.extensions_mut().insert(ConnectInfo(peer));
        let answer = router.clone().oneshot(req);
        async move {
            let resp = answer.await?;
            Ok::<_, std::convert::Infallible>(resp.map(|inner| TrackedBody { inner, _busy: busy }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        res = conn.as_mut() => {
            if let Err(e) = res {
                tracing::debug!(%peer, "connection ended: {e}");
            }
        }
        _ = evict => {
            tracing::debug!(%peer, "idle connection closed to make room for a new one");
        }
        _ = async { let _ = closing.wait_for(|c| *c).await; } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.as_mut().await;
        }
    }
    // The connection goes first, then its tracker (the last owner removes the registry entry).
}

/// Answers a connection over the cap with a JSON 503 and closes it, never waiting on it for
/// long: the request (if it comes within [`REFUSED_DRAIN`]) is read first, since HTTP clients
/// take an answer that comes before their request for a broken connection.
fn refuse(stream: TcpStream, max: usize, draining: &Arc<Semaphore>) {
    let body = ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "too_many_connections",
        format!("the bridge has {max} connections open already; retry shortly"),
    )
    .json_body();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let answer = [head.as_bytes(), &body].concat();
    let Ok(permit) = draining.clone().try_acquire_owned() else {
        // Too many refusals in progress: answer now (it fits in the socket buffer) and close.
        let _ = stream.try_write(&answer);
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let mut buf = [0u8; 4096];
        let mut answered = false;
        let _ = tokio::time::timeout(REFUSED_DRAIN, async {
            loop {
                if stream.readable().await.is_err() {
                    return;
                }
                match stream.try_read(&mut buf) {
                    Ok(0) => return,
                    Ok(_) if !answered => {
                        answered = true;
                        let _ = stream.try_write(&answer);
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => return,
                }
            }
        })
        .await;
        if !answered {
            let _ = stream.try_write(&answer);
        }
    });
}
