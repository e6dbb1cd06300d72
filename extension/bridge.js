// Client of the hark bridge (the HTTP server inside the hark app on 127.0.0.1).
// Shared by the service worker, the popup and the options page.

// Copies of facts defined in Rust (hark-settings DEFAULT_BRIDGE_PORT, hark-engine SPEED_RANGE);
// hark-settings' test `extension_constants_match_rust` keeps them equal.
export const DEFAULT_PORT = 7723;
export const SPEED_MIN = 0.5;
export const SPEED_MAX = 2;

/** The native messaging host the hark app and `hark serve` install (see the README). */
export const NATIVE_HOST = 'io.github.hark_tts.hark';

/**
 * Settings kept in chrome.storage.local. The service worker limits that area to the
 * extension's own pages and worker (TRUSTED_CONTEXTS), so content scripts never see the token.
 * `paired` says where the token came from: 'native' (native messaging) or 'manual' (pasted).
 */
export async function settings() {
  return chrome.storage.local.get({ port: DEFAULT_PORT, token: '', paired: '', voice: '', speed: 1.0 });
}

/** Keeps chrome.storage.local away from content scripts (call from the service worker). */
export async function restrictStorage() {
  await chrome.storage.local.setAccessLevel({ accessLevel: 'TRUSTED_CONTEXTS' });
}

/**
 * Gets the bridge token and port from the hark app through native messaging: the browser
 * starts the app's host only for this extension's origin, and the host hands them over.
 * Stores them and returns { token, port }; throws BridgeError('not_paired') if the host is
 * missing or refuses.
 */
export async function pair() {
  let r;
  try {
    r = await chrome.runtime.sendNativeMessage(NATIVE_HOST, { type: 'pair' });
  } catch (e) {
    throw new BridgeError(
      `Could not pair with the hark app (${(e && e.message) || e}). Start the hark app or "hark serve" once (it sets up pairing for this browser), or paste the bridge token in the options.`,
      0,
      'not_paired',
    );
  }
  if (!r || r.type !== 'paired' || !r.token) {
    throw new BridgeError(`The hark app refused to pair: ${(r && r.message) || 'no answer'}`, 0, 'not_paired');
  }
  const port = Number(r.port) || DEFAULT_PORT;
  await chrome.storage.local.set({ token: r.token, port, paired: 'native' });
  return { token: r.token, port };
}

export function baseUrl(port) {
  return `http://127.0.0.1:${port}`;
}

/** A failed bridge call; `code` is the bridge's error code or 'not_running'. */
export class BridgeError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Text as the bridge wants it: valid Unicode (lone surrogates become U+FFFD). */
export function wellFormed(text) {
  return typeof text.toWellFormed === 'function'
    ? text.toWellFormed()
    : text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/**
 * Calls the bridge; throws BridgeError with a readable message on any failure.
 * Every call carries the token (paired through native messaging when there is none yet,
 * and again once if the bridge says it is wrong, e.g. after the app made a new one) and is
 * sent as POST with a JSON body: Chrome attaches the extension's Origin (the bridge's
 * second gate) to POST requests only, and the bridge wants browser bodies as JSON.
 */
export async function call(path, { method = 'POST', body, signal } = {}) {
  let s = await settings();
  if (!s.token) {
    await pair();
    s = await settings();
  }
  let resp = await send(s, path, method, body, signal);
  if (resp.status === 401 && s.paired !== 'manual') {
    await pair();
    s = await settings();
    resp = await send(s, path, method, body, signal);
  }
  return check(resp);
}

async function send(s, path, method, body, signal) {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${s.token}` };
  try {
    return await fetch(baseUrl(s.port) + path, {
      method,
      headers,
      body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
      signal,
      cache: 'no-store',
    });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new BridgeError(
      `The hark app is not running (nothing answers on 127.0.0.1:${s.port}). Start the hark app or run "hark serve".`,
      0,
      'not_running',
    );
  }
}

async function check(resp) {
  if (!resp.ok) {
    let message = `hark answered ${resp.status}`;
    let code = 'http_' + resp.status;
    try {
      const j = await resp.json();
      message = j.error.message;
      code = j.error.code;
    } catch {}
    if (resp.status === 403 && code === 'origin_not_allowed') {
      message = `hark does not know this extension (${chrome.runtime.id}). Allow this id in the app's settings (or hark serve --allow-extension ${chrome.runtime.id}); it then pairs by itself.`;
    } else if (resp.status === 401) {
      message = 'hark refused the bridge token. Pair again in the options (or paste the current token from the bridge-token file in hark\'s config folder).';
    }
    throw new BridgeError(message, resp.status, code);
  }
  return resp;
}

export async function json(path, opts) {
  return (await call(path, opts)).json();
}

/**
 * Server-Sent Events from /v1/events, read with fetch (service workers have no
 * EventSource). Calls onEvent(obj) for every event; resolves when the stream ends.
 */
export async function readEvents(onEvent, { signal, onOpen } = {}) {
  const resp = await call('/v1/events', { signal });
  if (onOpen) onOpen();
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value.replace(/\r\n/g, '\n');
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('data:')) data += line.slice(5).trimStart();
      }
      if (!data) continue;
      try {
        onEvent(JSON.parse(data));
      } catch (e) {
        console.warn('hark: bad event', e);
      }
    }
  }
}

/**
 * Map from UTF-8 byte offsets (the bridge's source offsets) to UTF-16 indices
 * (JavaScript string indices) of `text`. Offsets inside a character map to its start.
 */
export function byteToUtf16(text) {
  let total = 0;
  for (const ch of text) total += utf8Len(ch.codePointAt(0));
  const map = new Uint32Array(total + 1);
  let b = 0;
  let u = 0;
  for (const ch of text) {
    const n = utf8Len(ch.codePointAt(0));
    for (let k = 0; k < n; k++) map[b + k] = u;
    b += n;
    u += ch.length;
  }
  map[total] = u;
  return map;
}

function utf8Len(cp) {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}
