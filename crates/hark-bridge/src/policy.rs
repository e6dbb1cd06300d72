//! What the security layers ([`crate::security`]) decide by, without the server's state: which
//! origins are extension origins, per-client token buckets, and the throttled log of refusals.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const PREFIX: &str = "chrome-extension://";

/// The extension id of a `chrome-extension://<id>` origin (32 letters a-p).
pub fn extension_id(origin: &str) -> Option<&str> {
    let id = origin.strip_prefix(PREFIX)?.trim_end_matches('/');
    is_extension_id(id).then_some(id)
}

pub use hark_settings::is_extension_id;

/// Token buckets: `per_min` requests of burst, refilled at `per_min / 60` per second, one per
/// key, at most `max_keys` keys (idle ones are forgotten first; past the cap, new keys share
/// one overflow bucket).
pub struct RateLimiter {
    per_min: u32,
    max_keys: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Buckets idle this long are forgotten (they would be full again anyway).
const IDLE_FORGET_SECS: f64 = 120.0;

/// The shared bucket of keys beyond the table's capacity.
const OVERFLOW_KEY: &str = "overflow";

impl RateLimiter {
    /// A limiter allowing `per_min` requests per minute per key (0 = unlimited), tracking at
    /// most `max_keys` keys.
    pub fn new(per_min: u32, max_keys: usize) -> Self {
        Self {
            per_min,
            max_keys: max_keys.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Keys tracked now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        hark_base::lock(&self.buckets).len()
    }

    /// Takes one request from `key`'s bucket; on refusal returns seconds until the next one.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        if self.per_min == 0 {
            return Ok(());
        }
        let cap = f64::from(self.per_min);
        let rate = cap / 60.0;
        let now = Instant::now();
        let mut map = hark_base::lock(&self.buckets);
        let mut key = key;
        if !map.contains_key(key) && map.len() >= self.max_keys {
            map.retain(|_, b| now.duration_since(b.last).as_secs_f64() < IDLE_FORGET_SECS);
            if map.len() >= self.max_keys {
                key = OVERFLOW_KEY;
                if !map.contains_key(key) {
                    // Make room for the overflow bucket itself.
                    if let Some(oldest) = map
                        .iter()
                        .min_by_key(|(_, b)| b.last)
                        .map(|(k, _)| k.clone())
                    {
                        map.remove(&oldest);
                    }
                }
            }
        }
        let b = map.entry(key.to_string()).or_insert(Bucket {
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

/// Kinds of refusal, each with its own log throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// Foreign `Host` header.
    Host,
    /// Web page or non-allowlisted extension `Origin`.
    Origin,
    /// Missing or wrong token.
    Token,
    /// Browser request without `application/json`.
    ContentType,
    /// Per-client rate limit.
    RateLimit,
    /// Global rate limit.
    GlobalLimit,
    /// Connection cap.
    Connections,
    /// A bound on work in progress (queue, streams).
    Busy,
}

impl Refusal {
    fn what(self) -> &'static str {
        match self {
            Refusal::Host => "with a foreign Host header (DNS rebinding?)",
            Refusal::Origin => "from a browser Origin that is not allowlisted",
            Refusal::Token => "without the right bearer token",
            Refusal::ContentType => "from a browser without Content-Type: application/json",
            Refusal::RateLimit => "over a client's rate limit",
            Refusal::GlobalLimit => "over the global rate limit",
            Refusal::Connections => "over the connection cap",
            Refusal::Busy => "over the queue or stream limits",
        }
    }
}

/// Time between two WARN lines of the same kind of refusal.
pub const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Throttled logging of refusals: see the module docs.
#[derive(Default)]
pub struct Refusals {
    kinds: Mutex<HashMap<Refusal, (Option<Instant>, u64)>>,
}

impl Refusals {
    /// Records a refusal; `detail` (a header value, maybe hostile) is logged at DEBUG only,
    /// escaped and shortened. Returns true when this call logged at WARN.
    pub fn note(&self, kind: Refusal, detail: &str) -> bool {
        tracing::debug!(?kind, detail = %shorten(detail), "refused request");
        let now = Instant::now();
        let mut kinds = hark_base::lock(&self.kinds);
        let (last, count) = kinds.entry(kind).or_insert((None, 0));
        *count += 1;
        if last.is_some_and(|t| now.duration_since(t) < REFUSAL_LOG_INTERVAL) {
            return false;
        }
        tracing::warn!(
            "refused {count} request(s) {} since the last report",
            kind.what()
        );
        *last = Some(now);
        *count = 0;
        true
    }
}

/// A header value as it may be shown: control characters escaped, at most 64 characters.
pub fn shorten(s: &str) -> String {
    let escaped: String = s.escape_debug().collect();
    match escaped.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &escaped[..i]),
        None => escaped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let rl = RateLimiter::new(60, 16); // 1 per second, burst 60
        for _ in 0..60 {
            rl.check("a").unwrap();
        }
        let retry = rl.check("a").unwrap_err();
        assert!(retry >= 1);
        // Other clients have their own bucket.
        rl.check("b").unwrap();
        assert!(RateLimiter::new(0, 16).check("a").is_ok());
    }

    #[test]
    fn the_table_is_capped_and_new_keys_share_the_overflow_bucket() {
        let rl = RateLimiter::new(5, 4);
        for i in 0..1000 {
            let _ = rl.check(&format!("k{i}"));
        }
        assert!(rl.len() <= 4, "{} keys", rl.len());
        // Past the cap, unknown keys draw from one shared bucket: it runs dry.
        let refused = (0..20)
            .filter(|i| rl.check(&format!("new{i}")).is_err())
            .count();
        assert!(refused >= 14, "{refused}");
    }

    #[test]
    fn refusal_logs_are_throttled_and_values_shortened() {
        let r = Refusals::default();
        assert!(r.note(Refusal::Origin, "https://evil.example"));
        for _ in 0..100 {
            assert!(!r.note(Refusal::Origin, "x"));
        }
        assert!(
            r.note(Refusal::Host, "evil:1"),
            "each kind has its own throttle"
        );
        let long = format!("a\u{1b}[31m{}", "b".repeat(200));
        let s = shorten(&long);
        assert!(s.starts_with("a\\u{1b}[31m"), "{s}");
        assert!(s.chars().count() <= 65, "{}", s.chars().count());
    }
}
