import * as bridge from './bridge.js';

const $ = (id) => document.getElementById(id);
let paused = false;

function status(text, bad = false) {
  $('status').textContent = text;
  $('status').className = bad ? 'bad' : 'good';
}

async function refresh() {
  try {
    const h = await bridge.json('/v1/health');
    const st = h.state.state;
    paused = st === 'paused';
    $('pause').textContent = paused ? '⏯ Resume' : '⏯ Pause';
    status(st === 'idle' ? 'ready' : st);
    return true;
  } catch (e) {
    status(e.message, true);
    return false;
  }
}

async function loadVoices() {
  const s = await bridge.settings();
  $('speed').value = s.speed;
  $('speed-out').textContent = `${Number(s.speed).toFixed(2)}×`;
  try {
    const { voices } = await bridge.json('/v1/voices');
    for (const v of voices) {
      const o = document.createElement('option');
      o.value = v.name;
      o.textContent = `${v.name} (${v.lang}, ${v.gender}${v.grade && v.grade !== '?' ? `, ${v.grade}` : ''})`;
      $('voice').appendChild(o);
    }
  } catch {}
  $('voice').value = s.voice;
}

async function act(fn) {
  try {
    await fn();
  } catch (e) {
    status(e.message, true);
  }
  setTimeout(refresh, 150);
}

function read(kind) {
  return act(async () => {
    const r = await chrome.runtime.sendMessage({ popup: kind });
    if (!r || !r.ok) throw new Error((r && r.error) || 'failed');
    status('reading');
  });
}

$('read-selection').onclick = () => read('read-selection');
$('read-page').onclick = () => read('read-page');
$('pause').onclick = () => act(() => bridge.call(paused ? '/v1/resume' : '/v1/pause', { method: 'POST' }));
$('stop').onclick = () => act(() => bridge.call('/v1/stop', { method: 'POST' }));
$('skip').onclick = () => act(() => bridge.call('/v1/skip', { method: 'POST' }));
$('voice').onchange = () => chrome.storage.local.set({ voice: $('voice').value });
$('speed').oninput = () => {
  $('speed-out').textContent = `${Number($('speed').value).toFixed(2)}×`;
  chrome.storage.local.set({ speed: Number($('speed').value) });
};

refresh().then((ok) => ok && loadVoices());
