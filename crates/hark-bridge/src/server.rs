//! The accept loop: HTTP/1.1 connections served by hyper, at most
//! [`Limits::max_connections`] at once, each with a header-read timeout, and a shutdown that
//! gives open requests [`Limits::shutdown_grace`] and then cuts what is left.

use crate::config::Limits;
use crate::error::{ApiError, Error, Result};
use crate::policy::Refusal;
use crate::state::AppState;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
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
    let slots = Arc::new(Semaphore::new(limits.max_connections));
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
                match slots.clone().try_acquire_owned() {
                    Ok(permit) => {
                        let conn = serve_connection(
                            stream,
                            peer,
                            router.clone(),
                            limits.header_read_timeout,
                            closing.clone(),
                        );
                        conns.spawn(async move {
                            conn.await;
                            drop(permit);
                        });
                    }
                    Err(_) => {
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

/// One HTTP/1.1 connection; on `closing`, it finishes the request in progress (if any) and
/// ends.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    header_read_timeout: Duration,
    mut closing: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(req)
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
        _ = async { let _ = closing.wait_for(|c| *c).await; } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.as_mut().await;
        }
    }
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
