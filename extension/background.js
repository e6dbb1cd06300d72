// hark service worker: context menu, keyboard commands, popup actions and the
// chrome.ttsEngine voices, all talking to the hark bridge on 127.0.0.1.
import * as bridge from './bridge.js';

const MENU_SELECTION = 'hark-read-selection';
const MENU_PAGE = 'hark-read-page';

// The token lives in chrome.storage.local: keep that area away from content scripts.
const storageRestricted = bridge.restrictStorage().catch((e) => console.warn('hark: storage access level', e.message));

// ---- bridge events (one SSE connection while something is being read) ----

/** Utterance id → { onEvent(ev) }. */
const listeners = new Map();
/** Events that arrived before their utterance was registered (id → events). */
const early = new Map();
let events = null; // { ready: Promise, abort: AbortController }

function ensureEvents() {
  if (events) return events.ready;
  const abort = new AbortController();
  let opened;
  let failed;
  const ready = new Promise((res, rej) => ((opened = res), (failed = rej)));
  events = { ready, abort };
  bridge
    .readEvents(dispatch, { signal: abort.signal, onOpen: opened })
    .catch((e) => failed(e))
    .finally(() => {
      if (events && events.abort === abort) events = null;
      failed(new bridge.BridgeError('event stream closed', 0, 'closed'));
    });
  return ready;
}

function dispatch(ev) {
  if (ev.id === undefined || ev.id === null) return;
  const l = listeners.get(ev.id);
  if (l) {
    l.onEvent(ev);
  } else {
    if (!early.has(ev.id)) early.set(ev.id, []);
    early.get(ev.id).push(ev);
    if (early.size > 64) early.delete(early.keys().next().value);
  }
  if (['finished', 'cancelled', 'error'].includes(ev.type)) {
    listeners.delete(ev.id);
    if (listeners.size === 0 && events) {
      events.abort.abort();
      events = null;
    }
  }
}

function listen(id, onEvent) {
  listeners.set(id, { onEvent });
  const queued = early.get(id) || [];
  early.delete(id);
  for (const ev of queued) dispatch(ev);
}

// ---- languages: every voice under its BCP 47 tag, the voice for a page's language ----

/**
 * The language a BCP 47 tag (a page's `lang`, chrome.tts's `lang`) is read with, as the
 * engine names it (`en-us`, `en-gb`, `es`, `fr-fr`, `it`, `pt-br`, `hi`, `zh`, `ja`), or null.
 * The same rule as hark_text::Lang::from_bcp47.
 */
function langOfTag(tag) {
  if (!tag) return null;
  const parts = String(tag).trim().replace(/_/g, '-').toLowerCase().split('-');
  const region = parts.slice(1).find((p) => p.length === 2);
  switch (parts[0]) {
    case 'en': return ['gb', 'uk', 'ie', 'au', 'nz'].includes(region) ? 'en-gb' : 'en-us';
    case 'es': return 'es';
    case 'fr': return 'fr-fr';
    case 'it': return 'it';
    case 'pt': return 'pt-br';
    case 'hi': return 'hi';
    case 'zh': case 'cmn': return 'zh';
    case 'ja': return 'ja';
    default: return null;
  }
}

/** Same language for reading: equal, or both English. */
const sameLang = (a, b) => a === b || (a?.startsWith('en-') && b?.startsWith('en-'));

/** The bridge's voices ({ voices, language_voices }), asked each time (the app's choices may
 * change); the first answer also registers them with chrome.tts. */
let registered = false;
async function voices() {
  const v = await bridge.json('/v1/voices');
  if (!registered) {
    registered = true;
    registerVoices(v.voices);
  }
  return v;
}

/** Offers the app's voices to chrome.tts, each under its BCP 47 tag (the manifest lists the
 * 54 of Kokoro v1.0; this adds any other the app has). */
function registerVoices(list) {
  if (!chrome.ttsEngine.updateVoices || !Array.isArray(list)) return;
  const eventTypes = ['start', 'word', 'sentence', 'end', 'error'];
  chrome.ttsEngine.updateVoices(
    list.map((v) => ({ voiceName: `hark ${v.name}`, lang: v.bcp47 || 'en-US', eventTypes })),
  );
}

/** The language of `text` by Chrome's detector, when it is sure; else null. */
async function detectLang(text) {
  try {
    const r = await chrome.i18n.detectLanguage(text.slice(0, 2000));
    const top = r && r.isReliable && r.languages && r.languages[0];
    return top ? langOfTag(top.language) : null;
  } catch (_) {
    return null;
  }
}

/**
 * The voice for text in language `tag` (BCP 47; empty: Chrome's detector tells it from
 * `text`): `voice` (the user's) when it speaks that language, else the app's voice for the
 * language (`language_voices` of /v1/voices). Without a voice of the user's, English text gets
 * none: the bridge uses the app's voice (and the app's "other languages in their own voice"
 * still looks at the text). Undefined when nothing is known: the bridge's default.
 */
async function voiceFor(text, tag, voice) {
  const lang = langOfTag(tag) || (await detectLang(text));
  if (!lang) return voice || undefined;
  let list;
  try {
    list = await voices();
  } catch (_) {
    return voice || undefined;
  }
  if (voice) {
    const mine = list.voices.find((v) => v.name === voice);
    if (!mine || sameLang(mine.lang, lang)) return voice;
  } else if (lang.startsWith('en-')) {
    return undefined;
  }
  const own = list.language_voices && list.language_voices[lang.startsWith('en-') ? 'en-us' : lang];
  if (own) return own;
  const any = list.voices.find((v) => sameLang(v.lang, lang));
  return any ? any.name : voice || undefined;
}

/** Queues `text` on the bridge; returns the utterance id. `lang`: the text's BCP 47 tag. */
async function speak(text, { voice, speed, lang } = {}) {
  const s = await bridge.settings();
  const body = { text: bridge.wellFormed(text) };
  const v = voice ?? (await voiceFor(text, lang, s.voice));
  if (v) body.voice = v;
  const sp = speed ?? s.speed;
  if (sp && sp !== 1) body.speed = Math.min(bridge.SPEED_MAX, Math.max(bridge.SPEED_MIN, Number(sp)));
  await ensureEvents();
  const { id } = await bridge.json('/v1/speak', { method: 'POST', body });
  return id;
}

// ---- status ----

async function setStatus(error) {
  if (error) {
    await chrome.action.setBadgeBackgroundColor({ color: '#b00020' });
    await chrome.action.setBadgeText({ text: error.code === 'not_running' ? 'off' : '!' });
    await chrome.action.setTitle({ title: `hark: ${error.message}` });
  } else {
    await chrome.action.setBadgeText({ text: '' });
    await chrome.action.setTitle({ title: 'hark' });
  }
}

// ---- reading in a tab, with word highlighting ----

async function inject(tabId) {
  await chrome.scripting.executeScript({ target: { tabId }, files: ['content.js'] });
}

function sendToTab(tabId, msg) {
  return chrome.tabs.sendMessage(tabId, msg).catch(() => {});
}

/**
 * Reads the selection (mode 'selection') or the main text (mode 'page') of a tab.
 * `fallbackText` (the context menu's selectionText) is used when the page cannot
 * be scripted (then there is no highlighting). Resolves to { id, text }.
 */
async function readInTab(tabId, mode, fallbackText) {
  let text = '';
  let lang = '';
  let injected = false;
  try {
    await inject(tabId);
    injected = true;
    const r = await chrome.tabs.sendMessage(tabId, { hark: 'collect', mode });
    text = (r && r.text) || '';
    lang = (r && r.lang) || '';
  } catch (e) {
    console.info('hark: cannot script this tab, reading without highlighting', e && e.message);
  }
  if (!text.trim()) text = fallbackText || '';
  if (!text.trim() && mode === 'selection' && injected) {
    return readInTab(tabId, 'page');
  }
  if (!text.trim()) {
    const err = new bridge.BridgeError('nothing to read here', 0, 'empty');
    if (injected) sendToTab(tabId, { hark: 'status', message: err.message });
    throw err;
  }
  try {
    await bridge.call('/v1/stop', { method: 'POST' }).catch(() => {});
    const id = await speak(text, { lang });
    await setStatus(null);
    if (injected) {
      listen(id, (ev) => {
        if (ev.type === 'word') sendToTab(tabId, { hark: 'word', start: ev.src.start, end: ev.src.end });
        else if (['finished', 'cancelled', 'error'].includes(ev.type)) sendToTab(tabId, { hark: 'clear' });
        if (ev.type === 'error') sendToTab(tabId, { hark: 'status', message: ev.message });
      });
    }
    return { id, text };
  } catch (e) {
    await setStatus(e);
    if (injected) sendToTab(tabId, { hark: 'status', message: e.message });
    throw e;
  }
}

async function onContextMenu(info, tab) {
  if (!tab || tab.id === undefined) return null;
  if (info.menuItemId === MENU_SELECTION) return readInTab(tab.id, 'selection', info.selectionText);
  if (info.menuItemId === MENU_PAGE) return readInTab(tab.id, 'page');
  return null;
}

async function activeTab() {
  const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
  return tab;
}

async function control(what) {
  try {
    const r = await bridge.json(`/v1/${what}`, { method: 'POST' });
    await setStatus(null);
    return r;
  } catch (e) {
    await setStatus(e);
    throw e;
  }
}

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.removeAll(() => {
    chrome.contextMenus.create({ id: MENU_SELECTION, title: 'Read with hark', contexts: ['selection'] });
    chrome.contextMenus.create({ id: MENU_PAGE, title: 'Read this page with hark', contexts: ['page'] });
  });
});

chrome.contextMenus.onClicked.addListener((info, tab) => {
  onContextMenu(info, tab).catch((e) => console.warn('hark:', e.message));
});

chrome.commands.onCommand.addListener(async (command, tab) => {
  tab = tab || (await activeTab());
  try {
    if (command === 'read-selection' && tab) await readInTab(tab.id, 'selection');
    if (command === 'stop-reading') await control('stop');
  } catch (e) {
    console.warn('hark:', e.message);
  }
});

// Popup actions that need the tab.
chrome.runtime.onMessage.addListener((msg, _sender, reply) => {
  if (!msg || !msg.popup) return false;
  (async () => {
    const tab = await activeTab();
    if (!tab) throw new Error('no active tab');
    return readInTab(tab.id, msg.popup === 'read-page' ? 'page' : 'selection');
  })().then(
    (r) => reply({ ok: true, id: r.id }),
    (e) => reply({ ok: false, error: e.message }),
  );
  return true;
});

// ---- chrome.ttsEngine: the hark voices for any page or extension using chrome.tts ----

/** The utterance chrome.tts asked for: its bridge id once known, and whether it was stopped. */
let tts = null;

/** Stops only the chrome.tts utterance (a page's speechSynthesis.cancel() must not stop the
 * user's own reading): the bridge stops that id now if it plays, or when it starts. */
function stopTts(t) {
  t.stopped = true;
  if (t.id !== null) {
    bridge.call('/v1/stop', { method: 'POST', body: { id: t.id } }).catch(() => {});
  }
}

function voiceOf(voiceName) {
  return voiceName && voiceName.startsWith('hark ') ? voiceName.slice(5) : undefined;
}

chrome.ttsEngine.onSpeak.addListener(async (utterance, options, sendTtsEvent) => {
  const text = bridge.wellFormed(utterance);
  const map = bridge.byteToUtf16(text);
  const at = (b) => map[Math.min(b, map.length - 1)];
  const send = (ev) => {
    try {
      sendTtsEvent(ev);
    } catch (e) {
      console.warn('hark: tts event', ev.type, e.message);
    }
  };
  const mine = { id: null, stopped: false };
  tts = mine;
  try {
    const rate = Number(options.rate ?? 1);
    const speed = Number.isFinite(rate) ? rate : 1;
    let id;
    // A hark voice by name; else (chrome.tts chose us by language) the voice of `lang`.
    const voice = voiceOf(options.voiceName);
    try {
      id = await speak(text, { voice, speed, lang: options.lang });
    } catch (e) {
      // A voice the manifest lists but this app does not have: use the app's default voice.
      if (!(e instanceof bridge.BridgeError && /unknown voice/.test(e.message))) throw e;
      id = await speak(text, { voice: '', speed });
    }
    mine.id = id;
    // Stopped while the request was on its way.
    if (mine.stopped) stopTts(mine);
    listen(id, (ev) => {
      switch (ev.type) {
        case 'started':
          send({ type: 'start', charIndex: 0 });
          break;
        case 'sentence':
          send({ type: 'sentence', charIndex: at(ev.src.start) });
          break;
        case 'word':
          send({ type: 'word', charIndex: at(ev.src.start), length: at(ev.src.end) - at(ev.src.start) });
          break;
        case 'paused':
          send({ type: 'pause' });
          break;
        case 'resumed':
          send({ type: 'resume' });
          break;
        case 'finished':
          send({ type: 'end', charIndex: text.length });
          break;
        case 'error':
          send({ type: 'error', errorMessage: ev.message });
          break;
      }
      if (['finished', 'cancelled', 'error'].includes(ev.type) && tts === mine) tts = null;
    });
    await setStatus(null);
  } catch (e) {
    await setStatus(e);
    send({ type: 'error', errorMessage: e.message });
  }
});

chrome.ttsEngine.onStop.addListener(() => {
  if (tts) stopTts(tts);
  tts = null;
});
// Pause and resume only while a chrome.tts utterance is ours.
chrome.ttsEngine.onPause.addListener(() => tts && control('pause').catch(() => {}));
chrome.ttsEngine.onResume.addListener(() => tts && control('resume').catch(() => {}));

// For the browser tests and debugging from the service worker console.
globalThis.hark = { onContextMenu, readInTab, control, speak, voiceFor, langOfTag, pair: bridge.pair, storageRestricted, MENU_SELECTION, MENU_PAGE };
