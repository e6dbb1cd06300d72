import * as bridge from './bridge.js';

const OFFICIAL_ID = 'cnbidgmpdgfdipmfnnbliajmnbjeljgp';
const $ = (id) => document.getElementById(id);

function result(text, bad = false) {
  $('result').textContent = text;
  $('result').className = bad ? 'bad' : 'good';
}

function pairState(s) {
  $('pair-state').textContent =
    s.paired === 'native' ? 'Paired through the app.' : s.paired === 'manual' ? 'Using a pasted token.' : 'Not paired yet.';
}

async function load() {
  const s = await bridge.settings();
  $('port').value = s.port;
  $('token').value = s.token;
  pairState(s);
  $('ext-id').textContent = chrome.runtime.id;
  $('official-id').textContent = OFFICIAL_ID;
  for (const el of document.querySelectorAll('.id-copy')) el.textContent = chrome.runtime.id;
}

async function save() {
  const port = Number($('port').value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    result('The port must be a number from 1 to 65535.', true);
    return false;
  }
  const s = await bridge.settings();
  const token = $('token').value.trim();
  // A token typed in here (rather than one pairing filled in) is kept as is, never re-paired.
  const paired = token === s.token ? s.paired : token ? 'manual' : '';
  await chrome.storage.local.set({ port, token, paired });
  pairState({ paired });
  return true;
}

async function test() {
  if (!(await save())) return;
  try {
    const v = await bridge.json('/v1/version');
    await bridge.json('/v1/voices');
    result(`Connected to hark ${v.version} (API v${v.api}).`);
  } catch (e) {
    result(e.message, true);
  }
}

$('save').onclick = async () => {
  if (await save()) result('Saved.');
};
$('test').onclick = test;
$('pair').onclick = async () => {
  try {
    const r = await bridge.pair();
    $('port').value = r.port;
    $('token').value = r.token;
    pairState({ paired: 'native' });
    result('Paired with the hark app.');
  } catch (e) {
    result(e.message, true);
  }
};
load();
