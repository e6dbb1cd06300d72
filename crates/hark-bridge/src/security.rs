//! The bridge's security checks, each a tower layer (axum `from_fn_with_state` middleware),
//! outermost first:
//!
//! 1. [`global_limit`]: one token bucket for all requests together.
//! 2. [`host_guard`]: the `Host` header must name the loopback interface with
//!    the port we listen on (defeats DNS rebinding).
//! 3. [`origin_guard`]: every request must present the bearer token, browser requests
//!    included; browser requests (with `Origin`) must also come from an allowlisted extension
//!    origin (the second gate: web pages and other extensions get 403, token or not) and send
//!    their bodies as `application/json`. Allowlisted origins get CORS headers, including
//!    Private Network Access preflights.
//! 4. [`rate_limit`]: a token bucket per client, keyed canonically (`ext:<id>` for an
//!    extension, `local:<ip>` for other callers), in a table of bounded size.
//! 5. [`body_limit`]: the body is read here, at most 1 MB of it and within the body-read
//!    timeout; a bigger one (declared or chunked) gets a JSON 413 after the rest is drained,
//!    so the client reads the answer instead of a reset connection.
//!
//! Refusals are logged through [`Refusals`](crate::policy::Refusals): at WARN once per kind
//! every 10 s with a count, never with the (attacker-chosen) header values, which go to DEBUG, escaped and shortened.

use crate::error::ApiError;
use crate::policy::{shorten, Refusal};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

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
            st.refusals.note(Refusal::Host, &h);
            ApiError::forbidden(
                "host_not_allowed",
                format!(
                    "Host '{}' is not allowed; use 127.0.0.1:{}",
                    shorten(&h),
                    st.port
                ),
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

/// Who a request comes from, once [`origin_guard`] let it in (a request extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// An allowlisted extension (its id), with the token.
    Extension(String),
    /// A client without `Origin` (script, CLI, OpenAI client), with the token.
    Local(IpAddr),
}

impl Caller {
    /// The rate-limit key: one per extension id or per peer address, whatever the spelling of
    /// the headers.
    fn key(&self) -> String {
        match self {
            Caller::Extension(id) => format!("ext:{id}"),
            Caller::Local(ip) => format!("local:{ip}"),
        }
    }
}

/// Token, Origin allowlist, content type, CORS and Private Network Access preflights.
pub async fn origin_guard(
    State(st): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let headers = req.headers();
    let origin = match headers.get(header::ORIGIN) {
        None => None,
        Some(v) => match v.to_str() {
            Ok(s) => Some(s.to_string()),
            Err(_) => {
                st.refusals
                    .note(Refusal::Origin, &String::from_utf8_lossy(v.as_bytes()));
                return ApiError::forbidden("origin_not_allowed", "unreadable Origin")
                    .into_response();
            }
        },
    };
    let is_preflight = req.method() == Method::OPTIONS
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);

    // The second gate first: a browser request must come from an allowlisted extension.
    let extension = match &origin {
        None => None,
        Some(o) => match st.allowlisted_extension(o) {
            Some(id) => Some(id),
            None => {
                st.refusals.note(Refusal::Origin, o);
                return ApiError::forbidden(
                    "origin_not_allowed",
                    format!(
                        "Origin '{}' is not allowed; allow its extension id in hark (and present the token)",
                        shorten(o)
                    ),
                )
                .into_response();
            }
        },
    };
    let origin = origin.unwrap_or_default();
    if is_preflight {
        // Only allowlisted origins reach here. Preflights carry no credentials.
        return preflight(&req, &origin);
    }
    let with_cors = |mut resp: Response| {
        if extension.is_some() {
            add_cors(resp.headers_mut(), &origin);
        }
        resp
    };
    if !bearer_ok(headers, &st.cfg.token) {
        st.refusals.note(Refusal::Token, &origin);
        return with_cors(
            ApiError::unauthorized(
                "missing or wrong bearer token (Authorization: Bearer <token>); hark's extension pairs through native messaging, other clients read the bridge-token file in hark's config dir",
            )
            .into_response(),
        );
    }
    if extension.is_some() && !json_or_bodyless(&req) {
        st.refusals.note(Refusal::ContentType, &origin);
        return with_cors(
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "browser requests must send Content-Type: application/json",
            )
            .into_response(),
        );
    }
    let caller = match extension.clone() {
        Some(id) => Caller::Extension(id),
        None => Caller::Local(
            req.extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
                .unwrap_or(IpAddr::from([127, 0, 0, 1])),
        ),
    };
    req.extensions_mut().insert(caller);
    with_cors(next.run(req).await)
}

/// True for `application/json` (any parameters), and for GET/HEAD, which have no body.
fn json_or_bodyless(req: &Request) -> bool {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return true;
    }
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

fn preflight(req: &Request, origin: &str) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    add_cors(h, origin);
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
    resp
}

fn add_cors(h: &mut HeaderMap, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
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

fn too_many(per_min: u32, retry: u64, whose: &str) -> Response {
    let mut resp = ApiError::rate_limited(format!(
        "more than {per_min} requests per minute{whose}; retry in {retry} s"
    ))
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&retry.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Refuses clients over their rate with 429 and `Retry-After` (after [`origin_guard`], so keys
/// are canonical and only callers with the token have one).
pub async fn rate_limit(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let key = req
        .extensions()
        .get::<Caller>()
        .map(Caller::key)
        .unwrap_or_else(|| "local".into());
    match st.limiter.check(&key) {
        Ok(()) => next.run(req).await,
        Err(retry) => {
            st.refusals.note(Refusal::RateLimit, &key);
            too_many(st.cfg.rate_limit_per_min, retry, "")
        }
    }
}

/// Refuses everyone with 429 while all clients together are over the global rate.
pub async fn global_limit(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    match st.global.check("all") {
        Ok(()) => next.run(req).await,
        Err(retry) => {
            st.refusals.note(Refusal::GlobalLimit, "");
            too_many(
                st.cfg.limits.global_rate_limit_per_min,
                retry,
                " from all clients together",
            )
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

/// Reads the body, at most [`MAX_BODY_BYTES`] of it and within the body-read timeout, before
/// the handler runs.
///
/// A declared `Content-Length` over the limit is refused without buffering anything, a chunked
/// body as soon as it passes the limit; either way the rest is drained (see [`DRAIN_MAX_BYTES`])
/// and the answer is a JSON 413 `body_too_large` with `Connection: close`. A body still
/// incomplete after the timeout gets a JSON 408 `body_timeout` with `Connection: close`.
pub async fn body_limit(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let timeout = st.cfg.limits.body_read_timeout;
    match tokio::time::timeout(timeout, read_body(req)).await {
        Ok(Ok(req)) => next.run(req).await,
        Ok(Err(resp)) => resp,
        Err(_) => {
            let mut resp = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the request body did not arrive within {} s",
                    timeout.as_secs_f32()
                ),
            )
            .into_response();
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            resp
        }
    }
}

async fn read_body(req: Request) -> Result<Request, Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    if let Some(n) = declared.filter(|&n| n > MAX_BODY_BYTES as u64) {
        drain(&mut stream, n).await;
        return Err(too_large());
    }
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) if buf.len() + c.len() > MAX_BODY_BYTES => {
                drain(&mut stream, 0).await;
                return Err(too_large());
            }
            Ok(c) => buf.extend_from_slice(&c),
            Err(e) => {
                return Err(ApiError::bad_request(format!("cannot read body: {e}")).into_response())
            }
        }
    }
    let body = axum::body::Body::from(buf.freeze());
    Ok(Request::from_parts(parts, body))
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
}
