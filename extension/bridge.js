// Client of the hark bridge (the HTTP server inside the hark app on 127.0.0.1).
// Shared by the service worker, the popup and the options page.

export const DEFAULT_PORT = 7723;

/** Settings kept in chrome.storage.local. */
export async function settings() {
  return chrome.storage.local.get({ port: DEFAULT_PORT, token: '', voice: '', speed: 1.0 });
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
 * Always POST: Chrome attaches the extension's Origin (which the bridge trusts
 * without a token) to POST requests only, and the bridge answers POST on its
 * read-only endpoints too.
 */
export async function call(path, { method = 'POST', body, signal } = {}) {
  const s = await settings();
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (s.token) headers.authorization = `Bearer ${s.token}`;
  let resp;
  try {
    resp = await fetch(baseUrl(s.port) + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
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
  if (!resp.ok) {
    let message = `hark answered ${resp.status}`;
    let code = 'http_' + resp.status;
    try {
      const j = await resp.json();
      message = j.error.message;
      code = j.error.code;
    } catch {}
    if (resp.status === 403 && code === 'origin_not_allowed') {
      message = `hark does not know this extension (${chrome.runtime.id}). Paste the bridge token (the bridge-token file in hark's config folder) in the options, or allow this id in the app (hark serve --allow-extension ${chrome.runtime.id}).`;
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
