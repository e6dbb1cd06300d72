// hark settings window. Plain JS, no framework. Talks to the app only through
// window.__TAURI__.core.invoke (commands in src-tauri/src/commands.rs) and the
// "status" event.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  // ---- pure helpers (tested in tests/app/ui) ----

  const MODIFIER_CODES = new Set([
    "ControlLeft", "ControlRight", "AltLeft", "AltRight", "ShiftLeft", "ShiftRight",
    "MetaLeft", "MetaRight", "OSLeft", "OSRight",
  ]);

  /** Accelerator string for a keydown event, "" to clear, or null while only modifiers are held. */
  function accelerator(e) {
    if (!e.ctrlKey && !e.altKey && !e.shiftKey && !e.metaKey &&
        (e.code === "Backspace" || e.code === "Delete" || e.code === "Escape")) {
      return "";
    }
    if (MODIFIER_CODES.has(e.code)) return null;
    let key = e.code;
    if (/^Key[A-Z]$/.test(key)) key = key.slice(3);
    else if (/^Digit[0-9]$/.test(key)) key = key.slice(5);
    const fkey = /^F([1-9]|1[0-9]|2[0-4])$/.test(key);
    const mods = [];
    if (e.ctrlKey) mods.push("Ctrl");
    if (e.altKey) mods.push("Alt");
    if (e.shiftKey) mods.push("Shift");
    if (e.metaKey) mods.push("Super");
    // A bare letter would steal normal typing: require a modifier except for F-keys.
    if (mods.length === 0 && !fkey) return null;
    return mods.concat([key]).join("+");
  }

  function speedLabel(v) {
    return `${Number(v).toFixed(2).replace(/0+$/, "").replace(/\.$/, "")}×`;
  }

  function formatBytes(n) {
    if (!n) return "0 MB";
    return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;
  }

  /** The languages with a voice of their own, in the settings' keys, with their names. */
  const LANGUAGES = [
    ["en-us", "English"], ["es", "Spanish"], ["fr-fr", "French"], ["it", "Italian"],
    ["pt-br", "Portuguese (Brazil)"], ["hi", "Hindi"], ["zh", "Chinese (Mandarin)"], ["ja", "Japanese"],
  ];

  /** Whether a voice of language `voiceLang` speaks the settings language `key` (English: both). */
  function speaks(voiceLang, key) {
    if (key === "en-us") return voiceLang === "en-us" || voiceLang === "en-gb";
    return voiceLang === key;
  }

  function parseIds(text) {
    return text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
  }

  // ---- state and rendering ----

  let tauri = null;
  let settings = null;
  let voices = [];

  async function invoke(cmd, args) {
    return tauri.core.invoke(cmd, args);
  }

  /** The user-facing text of a command's error: `{kind, message}` from the app, or a string. */
  function errorText(e) {
    if (e && typeof e === "object" && typeof e.message === "string") return e.message;
    return String(e);
  }

  /** Runs a command whose result nobody waits for; its error is shown to the user. */
  function run(cmd, args) {
    return invoke(cmd, args).catch((e) => showResult(errorText(e), true));
  }

  function renderVoices() {
    const sel = $("voice");
    sel.textContent = "";
    const groups = new Map();
    for (const v of voices) {
      if (!groups.has(v.group)) groups.set(v.group, []);
      groups.get(v.group).push(v);
    }
    for (const [group, list] of groups) {
      const og = document.createElement("optgroup");
      og.label = group;
      for (const v of list) {
        const o = document.createElement("option");
        o.value = v.name;
        o.textContent = `${v.label}  (${v.name})`;
        og.appendChild(o);
      }
      sel.appendChild(og);
    }
    if (settings && !voices.some((v) => v.name === settings.voice)) {
      const o = document.createElement("option");
      o.value = settings.voice;
      o.textContent = settings.voice;
      sel.appendChild(o);
    }
    if (settings) sel.value = settings.voice;
    $("preview").disabled = voices.length === 0;
    renderLanguageVoices();
  }

  /** One row per language: the voice that reads text in it. */
  function renderLanguageVoices() {
    const box = $("language-voices");
    box.textContent = "";
    if (!settings || !settings.language_voices) return;
    for (const [key, name] of LANGUAGES) {
      const row = document.createElement("div");
      row.className = "row";
      const label = document.createElement("label");
      label.htmlFor = `lv-${key}`;
      label.textContent = name;
      const sel = document.createElement("select");
      sel.id = `lv-${key}`;
      sel.className = "language-voice";
      sel.dataset.lang = key;
      const chosen = settings.language_voices[key];
      const own = voices.filter((v) => speaks(v.lang, key));
      for (const v of own) {
        const o = document.createElement("option");
        o.value = v.name;
        o.textContent = `${v.label}  (${v.name})`;
        sel.appendChild(o);
      }
      if (chosen && !own.some((v) => v.name === chosen)) {
        const o = document.createElement("option");
        o.value = chosen;
        o.textContent = chosen;
        sel.appendChild(o);
      }
      if (chosen) sel.value = chosen;
      sel.disabled = !$("match-language").checked;
      row.append(label, sel);
      box.appendChild(row);
    }
  }

  function dictRow(entry) {
    const tr = document.createElement("tr");
    const word = document.createElement("input");
    word.className = "dict-word";
    word.value = entry.word;
    word.setAttribute("aria-label", "word");
    const say = document.createElement("input");
    say.className = "dict-say";
    say.value = entry.say;
    say.setAttribute("aria-label", "say it as");
    const del = document.createElement("button");
    del.type = "button";
    del.textContent = "Remove";
    del.className = "dict-remove";
    del.addEventListener("click", () => tr.remove());
    for (const el of [word, say, del]) {
      const td = document.createElement("td");
      td.appendChild(el);
      tr.appendChild(td);
    }
    return tr;
  }

  function renderSettings() {
    $("speed").value = settings.speed;
    $("speed-value").textContent = speedLabel(settings.speed);
    $("volume").value = settings.volume;
    $("volume-value").textContent = `${Math.round(settings.volume * 100)}%`;
    for (const a of ["speak", "pause", "skip"]) $(`hk-${a}`).value = settings.hotkeys[a] || "";
    const body = $("dict").querySelector("tbody");
    body.textContent = "";
    for (const e of settings.dictionary) body.appendChild(dictRow(e));
    $("bridge-enabled").checked = settings.bridge.enabled;
    $("bridge-port").value = settings.bridge.port;
    $("bridge-ids").value = settings.bridge.allowed_extension_ids.join("\n");
    $("autostart").checked = settings.launch_at_login;
    $("fast-start").checked = Boolean(settings.fast_start);
    $("keep-audio-open").checked = Boolean(settings.keep_audio_open);
    $("match-language").checked = settings.match_language !== false;
    renderVoices();
  }

  const ENGINE_TEXT = {
    needs_model: "The voice model is not installed. Download it (about 330 MB) to start reading.",
    downloading: "Downloading the voice model…",
    loading: "Loading the voice model…",
    ready: "The voice model is ready.",
    failed: "The voice model failed to load.",
  };

  function renderStatus(st) {
    const pill = $("engine-state");
    pill.textContent = st.tiny_model ? `${st.engine} (test model)` : st.engine;
    pill.className = `pill ${st.engine}`;
    $("model-text").textContent = st.engine_error || ENGINE_TEXT[st.engine] || st.engine;
    // The Japanese dictionary is fetched with the same progress bar, when a Japanese voice is
    // first used.
    const japanese = st.japanese === "downloading";
    if (japanese) $("model-text").textContent = "Downloading the Japanese dictionary for the Japanese voices…";
    const dl = (japanese ? st.japanese_download : st.download) || {};
    const downloading = st.engine === "downloading" || japanese;
    $("download").hidden = st.engine !== "needs_model";
    $("download").textContent = dl.done > 0 ? "Resume download" : "Download model";
    $("cancel-download").hidden = !downloading;
    const bar = $("model-progress");
    bar.hidden = !downloading && !(dl.done > 0);
    bar.max = dl.total || 1;
    bar.value = Math.min(dl.done || 0, dl.total || 1);
    $("model-bytes").textContent = downloading || dl.message
      ? `${formatBytes(dl.done)}${dl.total ? ` of ${formatBytes(dl.total)}` : ""}${dl.current ? ` · ${dl.current}` : ""}${dl.message ? ` · ${dl.message}` : ""}`
      : "";

    for (const h of st.hotkeys || []) {
      const el = $(`hk-${h.action}-status`);
      if (!el) continue;
      if (h.error) {
        el.textContent = h.error;
        el.className = "hk-status error";
      } else if (h.ok) {
        el.textContent = "✓ active";
        el.className = "hk-status ok";
      } else {
        el.textContent = "off";
        el.className = "hk-status";
      }
    }

    const b = st.bridge || {};
    $("bridge-state").textContent = b.running ? `listening on ${b.addr}` : (b.error || "not running");
    $("token").value = b.token || "";

    const ul = $("notices");
    ul.textContent = "";
    for (const n of st.notices || []) {
      const li = document.createElement("li");
      li.textContent = n;
      ul.appendChild(li);
    }
  }

  function collect() {
    const s = JSON.parse(JSON.stringify(settings));
    s.voice = $("voice").value || s.voice;
    s.speed = Number($("speed").value);
    s.volume = Number($("volume").value);
    for (const a of ["speak", "pause", "skip"]) s.hotkeys[a] = $(`hk-${a}`).value;
    s.dictionary = [];
    for (const tr of $("dict").querySelectorAll("tbody tr")) {
      const word = tr.querySelector(".dict-word").value.trim();
      const say = tr.querySelector(".dict-say").value.trim();
      if (word || say) s.dictionary.push({ word, say });
    }
    s.bridge.enabled = $("bridge-enabled").checked;
    s.bridge.port = Number($("bridge-port").value);
    s.bridge.allowed_extension_ids = parseIds($("bridge-ids").value);
    s.launch_at_login = $("autostart").checked;
    s.fast_start = $("fast-start").checked;
    s.keep_audio_open = $("keep-audio-open").checked;
    if (s.language_voices) {
      s.match_language = $("match-language").checked;
      for (const sel of document.querySelectorAll(".language-voice")) {
        if (sel.value) s.language_voices[sel.dataset.lang] = sel.value;
      }
    }
    return s;
  }

  function showResult(text, isError) {
    const el = $("save-result");
    el.textContent = text;
    el.className = isError ? "error" : "";
  }

  async function save(ev) {
    if (ev) ev.preventDefault();
    try {
      settings = await invoke("save_settings", { settings: collect() });
      renderSettings();
      showResult("Saved.", false);
      renderStatus(await invoke("get_status"));
    } catch (e) {
      showResult(errorText(e), true);
    }
  }

  function setupRecorder(input) {
    input.addEventListener("focus", () => input.classList.add("recording"));
    input.addEventListener("blur", () => input.classList.remove("recording"));
    input.addEventListener("keydown", async (e) => {
      if (e.key === "Tab") return;
      e.preventDefault();
      const acc = accelerator(e);
      if (acc === null) return;
      input.value = acc;
      input.classList.remove("invalid");
      if (acc === "") return;
      try {
        input.value = await invoke("check_hotkey", { accelerator: acc });
      } catch (err) {
        input.classList.add("invalid");
        showResult(errorText(err), true);
      }
    });
  }

  async function init(t) {
    tauri = t;
    $("speed").addEventListener("input", () => { $("speed-value").textContent = speedLabel($("speed").value); });
    $("volume").addEventListener("input", () => {
      $("volume-value").textContent = `${Math.round(Number($("volume").value) * 100)}%`;
    });
    for (const el of document.querySelectorAll(".recorder")) setupRecorder(el);
    $("dict-add").addEventListener("click", () => {
      const row = dictRow({ word: "", say: "" });
      $("dict").querySelector("tbody").appendChild(row);
      row.querySelector(".dict-word").focus();
    });
    $("form").addEventListener("submit", save);
    $("preview").addEventListener("click", async () => {
      try { await invoke("preview_voice", { voice: $("voice").value }); showResult("", false); }
      catch (e) { showResult(errorText(e), true); }
    });
    $("stop").addEventListener("click", () => run("stop_speech"));
    $("match-language").addEventListener("change", () => {
      for (const sel of document.querySelectorAll(".language-voice")) sel.disabled = !$("match-language").checked;
    });
    $("download").addEventListener("click", () => run("start_model_download"));
    $("cancel-download").addEventListener("click", () => run("cancel_model_download"));
    $("copy-token").addEventListener("click", async () => {
      $("token").select();
      try { await navigator.clipboard.writeText($("token").value); } catch (_) { document.execCommand("copy"); }
    });

    settings = await invoke("get_settings");
    voices = await invoke("list_voices");
    renderSettings();
    const st = await invoke("get_status");
    renderStatus(st);
    let wasReady = st.engine === "ready";
    await tauri.event.listen("status", async (ev) => {
      renderStatus(ev.payload);
      // Voices arrive when the engine is ready; settings may change from the tray menu.
      if (ev.payload.engine === "ready" && (!wasReady || voices.length === 0)) {
        try {
          voices = await invoke("list_voices");
          renderVoices();
        } catch (e) {
          showResult(errorText(e), true);
        }
      }
      wasReady = ev.payload.engine === "ready";
    });
    // The tray menu can change voice/speed while the window is open.
    await tauri.event.listen("settings", (ev) => {
      settings = ev.payload;
      renderSettings();
    });
    document.body.dataset.ready = "1";
  }

  window.harkUi = { accelerator, speedLabel, formatBytes, parseIds, errorText, speaks, init };
  if (window.__TAURI__) {
    init(window.__TAURI__).catch((e) => showResult(`Could not load settings: ${errorText(e)}`, true));
  }
})();
