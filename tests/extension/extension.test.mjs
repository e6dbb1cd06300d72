// The hark extension in real headless Chromium against a real hark bridge (`hark serve` with
// the tiny random model, no audio device), paired through Chrome native messaging: `hark serve`
// installs the host manifest into the test profile's NativeMessagingHosts dir, which Chromium
// reads on Linux. Run with tests/extension/run.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const EXT = path.join(REPO, 'extension');
const HARK_BIN =
  process.env.HARK_BIN || path.join(process.env.CARGO_TARGET_DIR || path.join(REPO, 'target'), 'debug/hark');
const HOST_NAME = 'io.github.hark_tts.hark';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let server, bridge, pages, context, sw, userDir, cfgDir, events;
const log = [];

/** The extension id Chrome derives from the manifest key. */
function idFromKey(keyB64) {
  const hex = createHash('sha256').update(Buffer.from(keyB64, 'base64')).digest('hex').slice(0, 32);
  return [...hex].map((c) => String.fromCharCode('a'.charCodeAt(0) + parseInt(c, 16))).join('');
}

/** Collects the bridge's Server-Sent Events (read with the token, like a script would). */
function collectEvents(port, token) {
  const abort = new AbortController();
  const done = (async () => {
    const resp = await fetch(`http://127.0.0.1:${port}/v1/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: abort.signal,
    });
    assert.equal(resp.status, 200);
    let buf = '';
    const dec = new TextDecoder();
    for await (const chunk of resp.body) {
      buf += dec.decode(chunk, { stream: true });
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('');
        if (data) log.push(JSON.parse(data));
      }
    }
  })().catch((e) => {
    if (e.name !== 'AbortError') throw e;
  });
  return { stop: () => abort.abort(), done };
}

async function waitFor(pred, what, ms = 60000) {
  const t0 = Date.now();
  for (;;) {
    const v = pred();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const utterance = (id) => waitFor(() => log.find((e) => e.type === 'utterance' && e.id === id), `utterance ${id}`);
const ended = (id) =>
  waitFor(() => log.find((e) => e.id === id && ['finished', 'cancelled', 'error'].includes(e.type)), `end of ${id}`);
/** Slice of `text` by UTF-8 byte offsets (the bridge's source ranges). */
const bytes = (text, a, b) => Buffer.from(text, 'utf8').subarray(a, b).toString('utf8');

before(async () => {
  // The real bridge: `hark serve`, which installs the native messaging host into the profile.
  userDir = mkdtempSync(path.join(tmpdir(), 'hark-ext-'));
  cfgDir = mkdtempSync(path.join(tmpdir(), 'hark-ext-cfg-'));
  server = spawn(HARK_BIN, ['serve', '--tiny', '--no-audio', '--port', '0', '--config-dir', cfgDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, HARK_NATIVE_HOST_DIRS: path.join(userDir, 'NativeMessagingHosts'), RUST_LOG: 'warn' },
  });
  const port = await new Promise((resolve, reject) => {
    server.on('error', (e) => reject(new Error(`cannot start ${HARK_BIN}: ${e.message} (run tests/extension/run.sh)`)));
    server.on('exit', (c) => reject(new Error(`hark serve exited with ${c}`)));
    createInterface({ input: server.stderr }).on('line', (line) => {
      process.stderr.write(`[hark serve] ${line}\n`);
      const m = line.match(/serving on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) resolve(Number(m[1]));
    });
  });
  bridge = { port, token: readFileSync(path.join(cfgDir, 'bridge-token'), 'utf8').trim() };
  events = collectEvents(bridge.port, bridge.token);

  // Test pages, from 127.0.0.1 like the bridge.
  pages = http.createServer((req, res) => {
    try {
      const body = readFileSync(path.join(HERE, 'fixtures', path.basename(req.url)));
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => pages.listen(0, '127.0.0.1', r));

  context = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: false,
    args: [
      '--headless=new',
      '--no-sandbox',
      `--disable-extensions-except=${EXT}`,
      `--load-extension=${EXT}`,
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  sw = context.serviceWorkers()[0] || (await context.waitForEvent('serviceworker', { timeout: 30000 }));
  await sw.evaluate(() => hark.storageRestricted);
});

after(async () => {
  await context?.close();
  events?.stop();
  pages?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGINT');
    await exited;
  }
  if (userDir) rmSync(userDir, { recursive: true, force: true });
  if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
});

const pageUrl = (name) => `http://127.0.0.1:${pages.address().port}/${name}`;

async function openPage(name) {
  const page = await context.newPage();
  await page.goto(pageUrl(name));
  return page;
}

/** Runs a context-menu click in the service worker for the tab showing `url`. */
function clickMenu(url, menu, selectionText) {
  return sw.evaluate(
    async ({ url, menu, selectionText }) => {
      const tabs = await chrome.tabs.query({});
      const tab = tabs.find((t) => t.url === url);
      const r = await hark.onContextMenu({ menuItemId: hark[menu], selectionText }, tab);
      return r && { id: r.id, text: r.text };
    },
    { url, menu, selectionText },
  );
}

test('the extension id comes from the manifest key and matches the bridge', async () => {
  const manifest = JSON.parse(readFileSync(path.join(EXT, 'manifest.json'), 'utf8'));
  const id = idFromKey(manifest.key);
  assert.ok(sw.url().startsWith(`chrome-extension://${id}/`), sw.url());
  const lib = readFileSync(path.join(REPO, 'crates/hark-bridge/src/lib.rs'), 'utf8');
  assert.match(lib, new RegExp(`pub const EXTENSION_ID: &str = "${id}";`));
});

test("the manifest offers hark's default voice first, as the engine names it", () => {
  const manifest = JSON.parse(readFileSync(path.join(EXT, 'manifest.json'), 'utf8'));
  const voice = readFileSync(path.join(REPO, 'crates/hark-engine/src/voice.rs'), 'utf8')
    .match(/pub const DEFAULT_VOICE: &str = "(\w+)";/)[1];
  assert.equal(manifest.tts_engine.voices[0].voice_name, `hark ${voice}`);
});

test('pairing through native messaging: the extension gets the token from hark serve', async () => {
  const manifest = JSON.parse(readFileSync(path.join(userDir, 'NativeMessagingHosts', `${HOST_NAME}.json`), 'utf8'));
  const id = sw.url().split('/')[2];
  assert.deepEqual(manifest.allowed_origins, [`chrome-extension://${id}/`]);
  assert.ok(existsSync(manifest.path), manifest.path);
  // Not paired yet: the first bridge call pairs by itself, through the browser.
  const before = await sw.evaluate(() => chrome.storage.local.get(['token', 'paired']));
  assert.deepEqual(before, {});
  const r = await sw.evaluate(async () => {
    const h = await hark.control('stop');
    return { state: h.state, stored: await chrome.storage.local.get(['token', 'port', 'paired']) };
  });
  assert.equal(r.state.state, 'idle');
  assert.deepEqual(r.stored, { token: bridge.token, port: bridge.port, paired: 'native' });
  // A token the app no longer accepts is replaced by pairing again.
  const again = await sw.evaluate(async () => {
    await chrome.storage.local.set({ token: 'f'.repeat(64) });
    await hark.control('stop');
    return (await chrome.storage.local.get('token')).token;
  });
  assert.equal(again, bridge.token);
});

test('the extension Origin without the token gets 401', async () => {
  const r = await sw.evaluate(async (port) => {
    const resp = await fetch(`http://127.0.0.1:${port}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    return { status: resp.status, body: await resp.json() };
  }, bridge.port);
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'unauthorized');
});

test('content scripts cannot read the token', async () => {
  const page = await openPage('article.html');
  const got = await sw.evaluate(async (url) => {
    const tab = (await chrome.tabs.query({})).find((t) => t.url === url);
    const [res] = await chrome.scripting.executeScript({
      target: { tabId: tab.id },
      func: async () => {
        try {
          return { ok: true, items: await chrome.storage.local.get(null) };
        } catch (e) {
          return { ok: false, error: String(e && e.message) };
        }
      },
    });
    return { res: res.result, fromWorker: (await chrome.storage.local.get('token')).token };
  }, page.url());
  assert.equal(got.fromWorker, bridge.token, 'the worker reads it');
  assert.ok(!got.res.ok || got.res.items.token === undefined, JSON.stringify(got.res));
  await page.close();
});

test('selection -> context menu -> the bridge gets exactly the selected text', async () => {
  const page = await openPage('article.html');
  const selected = await page.evaluate(() => {
    const p = document.querySelector('#p3');
    const r = document.createRange();
    r.setStart(p.firstChild, 'Scientists '.length);
    r.setEnd(p.querySelector('em').nextSibling, ' earlier'.length);
    getSelection().removeAllRanges();
    getSelection().addRange(r);
    return getSelection().toString();
  });
  assert.equal(selected, 'measuring the flow have found that spring floods now come two weeks earlier');
  const r = await clickMenu(page.url(), 'MENU_SELECTION', selected);
  assert.equal(r.text, selected);
  const u = await utterance(r.id);
  assert.equal(u.text, selected);
  await ended(r.id);
  await page.close();
});

test('"Read this page" reads the article, not menus, banners, sidebars or footers', async () => {
  const page = await openPage('article.html');
  const r = await clickMenu(page.url(), 'MENU_PAGE');
  const { text } = await utterance(r.id);
  for (const p of ['p1', 'p2', 'p3', 'p4']) {
    const want = (await page.textContent(`#${p}`)).trim();
    assert.ok(text.includes(want), `missing ${p}: ${want}\nread: ${text}`);
  }
  assert.ok(text.includes('Quiet Rivers of the North'), 'the article title is read');
  for (const junk of ['Home', 'About us', 'Daily Fixture', 'cookies', 'Trending', 'Sidebar headline', 'Related stories', 'Copyright']) {
    assert.ok(!text.includes(junk), `read "${junk}": ${text}`);
  }
  await ended(r.id);
  await page.close();
});

test('word highlights follow the bridge word events', async () => {
  const page = await openPage('article.html');
  const before = await page.evaluate(() => document.body.textContent);
  // Record every highlight span the extension adds (observed from the page's own world).
  await page.evaluate(() => {
    window.__seen = [];
    new MutationObserver((muts) => {
      for (const m of muts)
        for (const n of m.addedNodes)
          if (n.nodeType === 1 && n.classList.contains('hark-word')) window.__seen.push(n.textContent);
    }).observe(document.body, { childList: true, subtree: true });
  });
  const r = await clickMenu(page.url(), 'MENU_PAGE');
  const { text } = await utterance(r.id);
  const end = await ended(r.id);
  assert.equal(end.type, 'finished');
  const words = log.filter((e) => e.type === 'word' && e.id === r.id).map((e) => bytes(text, e.src.start, e.src.end));
  assert.ok(words.length >= 40, `only ${words.length} word events`);
  // Word events are turned into highlights in order; one word may span two nodes ("two weeks").
  await page.waitForFunction((n) => window.__seen.join(' ').split(/\s+/).length >= n, words.join(' ').split(/\s+/).length, { timeout: 30000 });
  const highlighted = await page.evaluate(() => window.__seen.join(' '));
  assert.equal(highlighted.split(/\s+/).join(' '), words.join(' ').split(/\s+/).join(' '));
  // Once finished, the highlight is gone and the page text is intact.
  await page.waitForFunction(() => document.querySelectorAll('.hark-word').length === 0, null, { timeout: 10000 });
  assert.equal(await page.evaluate(() => document.body.textContent), before);
  await page.close();
});

test('chrome.tts.speak with a hark voice reaches the bridge and gets events back', async () => {
  const page = await context.newPage();
  const id = sw.url().split('/')[2];
  await page.goto(`chrome-extension://${id}/options.html`);
  const voices = await page.evaluate(() => new Promise((r) => chrome.tts.getVoices(r)));
  const ours = voices.filter((v) => v.voiceName.startsWith('hark '));
  assert.ok(ours.length >= 20, JSON.stringify(voices));
  assert.ok(ours.every((v) => v.extensionId === id));
  const said = 'Speech from chrome.tts, through the hark engine.';
  const ttsEvents = await page.evaluate(
    (said) =>
      new Promise((resolve) => {
        const seen = [];
        chrome.tts.speak(said, {
          voiceName: 'hark bf_emma',
          rate: 1.5,
          onEvent: (e) => {
            seen.push({ type: e.type, charIndex: e.charIndex, length: e.length });
            if (['end', 'error', 'interrupted', 'cancelled'].includes(e.type)) resolve(seen);
          },
        });
      }),
    said,
  );
  const u = log.find((e) => e.type === 'utterance' && e.text === said);
  assert.ok(u, 'the bridge got the chrome.tts utterance');
  assert.equal(u.voice, 'bf_emma');
  assert.equal(u.speed, 1.5);
  const types = ttsEvents.map((e) => e.type);
  assert.deepEqual([types[0], types.at(-1)], ['start', 'end'], JSON.stringify(ttsEvents));
  const wordsAt = ttsEvents.filter((e) => e.type === 'word');
  assert.ok(wordsAt.length >= 5, JSON.stringify(ttsEvents));
  assert.ok(wordsAt.some((e) => said.slice(e.charIndex, e.charIndex + e.length) === 'Speech'));
  // The options page's connection test reports the running app.
  await page.click('#test');
  await page.waitForSelector('#result.good', { timeout: 10000 });
  assert.match(await page.textContent('#result'), /Connected to hark/);
  await page.close();
});

test("a page's speech stop cancels only its own utterance, not the user's reading", async () => {
  // The user reads the article (held paused, so it is still playing when the page stops).
  const article = await openPage('article.html');
  const started = (id) => waitFor(() => log.find((e) => e.type === 'started' && e.id === id), `start of ${id}`);
  const r = await clickMenu(article.url(), 'MENU_PAGE');
  await started(r.id);
  await sw.evaluate(() => hark.control('pause'));
  // A page speaks with a hark voice, queued behind the reading, then cancels its speech.
  const page = await context.newPage();
  const id = sw.url().split('/')[2];
  await page.goto(`chrome-extension://${id}/options.html`);
  const said = 'A page speaks, then changes its mind.';
  await page.evaluate((said) => {
    window.__ttsEvents = [];
    chrome.tts.speak(said, { voiceName: 'hark af_heart', onEvent: (e) => window.__ttsEvents.push(e.type) });
  }, said);
  const theirs = await waitFor(() => log.find((e) => e.type === 'utterance' && e.text === said), 'the page utterance');
  await page.evaluate(() => chrome.tts.stop());
  await new Promise((res) => setTimeout(res, 500));
  assert.ok(!log.find((e) => e.id === r.id && ['finished', 'cancelled'].includes(e.type)), 'the reading goes on');
  await sw.evaluate(() => hark.control('resume'));
  assert.equal((await ended(r.id)).type, 'finished', "the user's reading played to its end");
  assert.equal((await ended(theirs.id)).type, 'cancelled', "the page's utterance was cancelled");
  await page.close();
  await article.close();
});

test('a clear status when the app is not running', async () => {
  const page = await openPage('article.html');
  const closed = await new Promise((r) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => r(p));
    });
  });
  const err = await sw.evaluate(
    async ({ url, closed }) => {
      await chrome.storage.local.set({ port: closed });
      const tab = (await chrome.tabs.query({})).find((t) => t.url === url);
      try {
        await hark.onContextMenu({ menuItemId: hark.MENU_PAGE }, tab);
        return null;
      } catch (e) {
        return { message: e.message, badge: await chrome.action.getBadgeText({}) };
      }
    },
    { url: page.url(), closed },
  );
  assert.ok(err, 'reading fails');
  assert.match(err.message, /not running/);
  assert.equal(err.badge, 'off');
  await page.waitForSelector('div[role=status]', { timeout: 5000 });
  assert.match(await page.textContent('div[role=status]'), /not running/);
  // Back to the running bridge: status clears.
  const badge = await sw.evaluate(async (port) => {
    await chrome.storage.local.set({ port });
    await hark.control('stop');
    return chrome.action.getBadgeText({});
  }, bridge.port);
  assert.equal(badge, '');
  await page.close();
});

test('popup: status, voices from the bridge, saved speed and voice, controls', async () => {
  const page = await context.newPage();
  const id = sw.url().split('/')[2];
  await page.goto(`chrome-extension://${id}/popup.html`);
  await page.waitForSelector('#status.good', { timeout: 10000 });
  assert.equal(await page.textContent('#status'), 'ready');
  await page.waitForFunction(() => document.querySelectorAll('#voice option').length > 20, null, { timeout: 10000 });
  await page.selectOption('#voice', 'am_michael');
  await page.fill('#speed', '1.3');
  await page.dispatchEvent('#speed', 'input');
  const saved = await sw.evaluate(() => chrome.storage.local.get(['voice', 'speed']));
  assert.deepEqual(saved, { voice: 'am_michael', speed: 1.3 });
  // The saved voice and speed apply to the next reading.
  const article = await openPage('article.html');
  const r = await clickMenu(article.url(), 'MENU_PAGE');
  const u = await utterance(r.id);
  assert.equal(u.voice, 'am_michael');
  assert.equal(u.speed, 1.3);
  await page.bringToFront();
  await page.click('#stop');
  assert.equal((await ended(r.id)).type, 'cancelled');
  await page.waitForSelector('#status.good', { timeout: 10000 });
  await sw.evaluate(() => chrome.storage.local.set({ voice: '', speed: 1 }));
  await article.close();
  await page.close();
});

/**
 * Reads `page` with "Read this page" and returns what the bridge and the page saw: the
 * utterance (its voice), the voices of the chunk events, the word events' text and the
 * highlighted text, in order.
 */
async function readPageWithHighlights(name) {
  const page = await openPage(name);
  const before = await page.evaluate(() => document.body.textContent);
  await page.evaluate(() => {
    window.__seen = [];
    new MutationObserver((muts) => {
      for (const m of muts)
        for (const n of m.addedNodes)
          if (n.nodeType === 1 && n.classList.contains('hark-word')) window.__seen.push(n.textContent);
    }).observe(document.body, { childList: true, subtree: true });
  });
  const r = await clickMenu(page.url(), 'MENU_PAGE');
  const u = await utterance(r.id);
  const end = await ended(r.id);
  assert.equal(end.type, 'finished', JSON.stringify(end));
  const mine = log.filter((e) => e.id === r.id);
  const chunkVoices = [...new Set(mine.filter((e) => e.type === 'chunk_started').map((e) => e.voice))];
  const words = mine.filter((e) => e.type === 'word').map((e) => bytes(u.text, e.src.start, e.src.end));
  // every word event becomes a highlight, in order (a word may span two text nodes)
  await page.waitForFunction((n) => window.__seen.length >= n, words.length, { timeout: 30000 });
  const seen = await page.evaluate(() => window.__seen);
  await page.waitForFunction(() => document.querySelectorAll('.hark-word').length === 0, null, { timeout: 10000 });
  assert.equal(await page.evaluate(() => document.body.textContent), before, 'the page text is intact');
  await page.close();
  return { u, chunkVoices, words, seen };
}

test('a Spanish page is read by the Spanish voice, with its words highlighted', async () => {
  const { u, chunkVoices, words, seen } = await readPageWithHighlights('articulo.html');
  assert.ok(u.text.includes('Los ríos del norte corren tranquilos'), u.text);
  assert.equal(u.voice, 'ef_dora');
  assert.deepEqual(chunkVoices, ['ef_dora']);
  assert.ok(words.length >= 30, `only ${words.length} word events`);
  for (const w of ['ríos', 'pescadores', 'Quién', '40.000']) assert.ok(words.includes(w), `${w} in ${words.join(' ')}`);
  assert.deepEqual(seen.join('').replace(/\s+/g, ''), words.join('').replace(/\s+/g, ''));
});

test('a Chinese page is read by the Mandarin voice, highlighted word by word (jieba)', async () => {
  const { u, chunkVoices, words, seen } = await readPageWithHighlights('wenzhang.html');
  assert.ok(u.text.includes('北方的河流静静地流过松树林'), u.text);
  assert.equal(u.voice, 'zf_xiaobei');
  assert.deepEqual(chunkVoices, ['zf_xiaobei']);
  assert.ok(words.length >= 20, `only ${words.length} word events`);
  // words, not characters, not whole sentences
  for (const w of ['河流', '科学家', '星期']) assert.ok(words.includes(w), `${w} in ${words.join(' ')}`);
  assert.ok(words.every((w) => [...w].length <= 4), words.join(' '));
  assert.deepEqual(seen.join(''), words.join(''));
});

test('chrome.tts has every hark voice under its BCP 47 tag, and a lang picks the voice', async () => {
  const page = await context.newPage();
  const id = sw.url().split('/')[2];
  await page.goto(`chrome-extension://${id}/options.html`);
  const voices = await page.evaluate(() => new Promise((r) => chrome.tts.getVoices(r)));
  const ours = voices.filter((v) => v.voiceName.startsWith('hark '));
  assert.equal(ours.length, 54);
  const tags = [...new Set(ours.map((v) => v.lang))].sort();
  assert.deepEqual(tags, ['en-GB', 'en-US', 'es-ES', 'fr-FR', 'hi-IN', 'it-IT', 'ja-JP', 'pt-BR', 'zh-CN']);
  assert.equal(ours.find((v) => v.voiceName === 'hark zm_yunxi').lang, 'zh-CN');
  // A page that asks chrome.tts for Mandarin by language gets a hark Mandarin voice.
  const said = '今天天气很好。';
  const types = await page.evaluate(
    ({ said, id }) =>
      new Promise((resolve) => {
        const seen = [];
        chrome.tts.speak(said, {
          lang: 'zh-CN',
          extensionId: id,
          onEvent: (e) => {
            seen.push(e.type);
            if (['end', 'error', 'interrupted', 'cancelled'].includes(e.type)) resolve(seen);
          },
        });
      }),
    { said, id },
  );
  assert.equal(types.at(-1), 'end', types.join());
  const u = log.find((e) => e.type === 'utterance' && e.text === said);
  assert.ok(u, 'the bridge got the utterance');
  assert.match(u.voice, /^z[fm]_/);
  await page.close();
});
