//! The bridge's security checks, each a tower layer (axum `from_fn_with_state` middleware):
//!
//! 1. [`host_guard`]: the `Host` header must name the loopback interface with
//!    the port we listen on (defeats DNS rebinding).
//! 2. [`origin_guard`]: browser requests (with `Origin`) are accepted only from
//!    allowlisted extension origins and get CORS headers (including Private
//!    Network Access preflights); an extension origin that is not allowlisted
//!    may still pair by presenting the bearer token; any other Origin gets 403
//!    without CORS headers. Requests without `Origin` (scripts, CLI) must
//!    present the bearer token.
//! 3. [`rate_limit`]: a token bucket per client (its Origin, or the peer
//!    address for Origin-less clients).
//! 4. [`body_limit`]: the body is read here, at most 1 MB of it; a bigger one
//!    (declared or chunked) gets a JSON 413 after the rest is drained, so the
//!    client reads the answer instead of a reset connection.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

const PREFIX: &str = "chrome-extension://";

/// Rejects any `Host` other than `127.0.0.1:PORT`, `localhost:PORT` or `[::1]:PORT`.
pub async fn host_guard(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase);
    match host {
        Some(h) if host_allowed(&h, st.port) => next.run(req).await,
        Some(h) => {
            tracing::warn!(host = %h, "refused request with foreign Host (DNS rebinding?)");
            ApiError::forbidden(
                "host_not_allowed",
                format!("Host '{h}' is not allowed; use 127.0.0.1:{}", st.port),
            )
            .into_response()
        }
        None => ApiError::bad_request("missing Host header").into_response(),
    }
}

fn host_allowed(host: &str, port: u16) -> bool {
    let Some((name, p)) = host.rsplit_once(':') else {
        return false;
    };
    if p.parse::<u16>().ok() != Some(port) {
        return false;
    }
    matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

/// Which kind of caller a request comes from, after the origin check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// An allowlisted extension origin.
    Allowed,
    /// A non-allowlisted extension origin that presented the token.
    Paired,
    /// No Origin, valid token.
    Local,
}

/// Origin allowlist, CORS and Private Network Access preflights, bearer token.
pub async fn origin_guard(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let origin = match headers.get(header::ORIGIN) {
        None => None,
        Some(v) => match v.to_str() {
            Ok(s) => Some(s.to_string()),
            Err(_) => {
                return ApiError::forbidden("origin_not_allowed", "unreadable Origin")
                    .into_response()
            }
        },
    };
    let token_ok = bearer_ok(headers, &st.cfg.token);
    let is_preflight = req.method() == Method::OPTIONS
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);

    let caller = match &origin {
        None if token_ok => Caller::Local,
        None => {
            return ApiError::unauthorized(
                "missing or wrong bearer token (Authorization: Bearer <token from the hark config dir>)",
            )
            .into_response()
        }
        Some(o) if st.origin_allowlisted(o) => Caller::Allowed,
        Some(o) if !is_preflight && token_ok && extension_id(o).is_some() => Caller::Paired,
        Some(o) => {
            tracing::warn!(origin = %o, "refused request from a foreign Origin");
            return ApiError::forbidden(
                "origin_not_allowed",
                format!("Origin '{o}' is not allowed; add its extension id to the bridge allowlist"),
            )
            .into_response();
        }
    };

    let origin = origin.unwrap_or_default();
    if is_preflight {
        // Only allowlisted origins reach here (others were refused above).
        let mut resp = StatusCode::NO_CONTENT.into_response();
        let h = resp.headers_mut();
        add_cors(h, &origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        if req
            .headers()
            .get("access-control-request-private-network")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
        {
            h.insert(
                "access-control-allow-private-network",
                HeaderValue::from_static("true"),
            );
        }
        return resp;
    }

    let mut resp = next.run(req).await;
    if caller != Caller::Local {
        add_cors(resp.headers_mut(), &origin);
    }
    resp
}

fn add_cors(h: &mut HeaderMap, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// The extension id of a `chrome-extension://<id>` origin (32 letters a-p).
pub fn extension_id(origin: &str) -> Option<&str> {
    let id = origin.strip_prefix(PREFIX)?.trim_end_matches('/');
    is_extension_id(id).then_some(id)
}

/// True when `id` looks like a Chrome extension id: 32 characters in `a..=p`.
pub fn is_extension_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| (b'a'..=b'p').contains(&b))
}

fn bearer_ok(headers: &HeaderMap, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(given) = v
        .strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))
    else {
        return false;
    };
    given.trim().as_bytes().ct_eq(token.as_bytes()).into()
}

/// Per-client token bucket: `per_min` requests of burst, refilled at `per_min / 60` per second.
pub struct RateLimiter {
    per_min: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Buckets idle this long are forgotten (they would be full again anyway).
const IDLE_FORGET_SECS: f64 = 120.0;

impl RateLimiter {
    /// A limiter allowing `per_min` requests per minute per client (0 = unlimited).
    pub fn new(per_min: u32) -> Self {
        Self {
            per_min,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `client`'s bucket; on refusal returns seconds until the next one.
    pub fn check(&self, client: &str) -> Result<(), u64> {
        if self.per_min == 0 {
            return Ok(());
        }
        let cap = f64::from(self.per_min);
        let rate = cap / 60.0;
        let now = Instant::now();
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 1024 {
            map.retain(|_, b| now.duration_since(b.last).as_secs_f64() < IDLE_FORGET_SECS);
        }
        let b = map.entry(client.to_string()).or_insert(Bucket {
            tokens: cap,
            last: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(cap);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

/// Refuses clients over their rate with 429 and `Retry-After`.
pub async fn rate_limit(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let client = match req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        Some(o) => o.to_string(),
        None => req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "local".into()),
    };
    match st.limiter.check(&client) {
        Ok(()) => next.run(req).await,
        Err(retry) => {
            tracing::warn!(client = %client, "rate limit exceeded");
            let mut resp = ApiError::rate_limited(format!(
                "more than {} requests per minute; retry in {retry} s",
                st.cfg.rate_limit_per_min
            ))
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&retry.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
    }
}

/// How much of an oversize body is still read (and thrown away) before the 413 is sent.
///
/// A server that answers while the client is still sending, then closes with unread bytes in
/// its socket, makes the kernel reset the connection, and a reset can destroy the answer before
/// the client reads it: the client sees "connection closed" instead of a JSON 413. Reading the
/// rest of a moderately oversize body first lets the answer arrive; past this bound (or
/// [`DRAIN_TIMEOUT`]) the connection is simply closed.
pub const DRAIN_MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Longest time spent reading the rest of an oversize body before answering.
pub const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads the body, at most [`MAX_BODY_BYTES`] of it, before the handler runs.
///
/// A declared `Content-Length` over the limit is refused without buffering anything, a chunked
/// body as soon as it passes the limit; either way the rest is drained (see [`DRAIN_MAX_BYTES`])
/// and the answer is a JSON 413 `body_too_large` with `Connection: close`.
pub async fn body_limit(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    if let Some(n) = declared.filter(|&n| n > MAX_BODY_BYTES as u64) {
        drain(&mut stream, n).await;
        return too_large();
    }
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) if buf.len() + c.len() > MAX_BODY_BYTES => {
                drain(&mut stream, 0).await;
                return too_large();
            }
            Ok(c) => buf.extend_from_slice(&c),
            Err(e) => {
                return ApiError::bad_request(format!("cannot read body: {e}")).into_response()
            }
        }
    }
    let body = axum::body::Body::from(buf.freeze());
    next.run(Request::from_parts(parts, body)).await
}

/// Reads and discards what is left of a body, unless it is declared (or turns out) bigger
/// than [`DRAIN_MAX_BYTES`] or takes longer than [`DRAIN_TIMEOUT`].
async fn drain(stream: &mut axum::body::BodyDataStream, declared: u64) {
    if declared > DRAIN_MAX_BYTES {
        return;
    }
    let read_all = async {
        let mut read = 0u64;
        while let Some(Ok(c)) = stream.next().await {
            read += c.len() as u64;
            if read > DRAIN_MAX_BYTES {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, read_all).await;
}

fn too_large() -> Response {
    let mut resp = ApiError::too_large(
        "body_too_large",
        format!("request body over {MAX_BODY_BYTES} bytes"),
    )
    .into_response();
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert!(host_allowed("127.0.0.1:7723", 7723));
        assert!(host_allowed("localhost:7723", 7723));
        assert!(host_allowed("[::1]:7723", 7723));
        assert!(!host_allowed("127.0.0.1:7724", 7723));
        assert!(!host_allowed("127.0.0.1", 7723));
        assert!(!host_allowed("evil.example:7723", 7723));
        assert!(!host_allowed("127.0.0.1.evil.example:7723", 7723));
        assert!(!host_allowed("localhost.:7723", 7723));
    }

    #[test]
    fn extension_ids() {
        assert_eq!(
            extension_id("chrome-extension://abcdefghijklmnopabcdefghijklmnop"),
            Some("abcdefghijklmnopabcdefghijklmnop")
        );
        assert_eq!(
            extension_id("chrome-extension://abcdefghijklmnopabcdefghijklmnoq"),
            None
        );
        assert_eq!(
            extension_id("https://abcdefghijklmnopabcdefghijklmnop"),
            None
        );
        assert_eq!(extension_id("chrome-extension://short"), None);
    }

    #[test]
    fn bucket_refuses_after_burst_and_refills() {
        let rl = RateLimiter::new(60); // 1 per second, burst 60
        for _ in 0..60 {
            rl.check("a").unwrap();
        }
        let retry = rl.check("a").unwrap_err();
        assert!(retry >= 1);
        // Other clients have their own bucket.
        rl.check("b").unwrap();
        assert!(RateLimiter::new(0).check("a").is_ok());
    }
}
