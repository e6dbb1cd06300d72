// Settings window (ui/) in headless Chromium. Tauri is faked at the boundary:
// window.__TAURI__.core.invoke records calls and answers like the app's commands,
// window.__TAURI__.event.listen keeps the handlers so a test can emit events.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";
import fs from "node:fs";

const here = path.dirname(fileURLToPath(import.meta.url));
const page_url = pathToFileURL(path.resolve(here, "../../../ui/index.html")).href;
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

let browser;
before(async () => {
  assert.ok(fs.existsSync(chromiumPath), `chromium not found at ${chromiumPath}`);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless=new", "--no-sandbox", "--disable-gpu"],
  });
});
after(async () => { await browser?.close(); });

const SETTINGS = {
  version: 1, voice: "af_heart", speed: 1.0, volume: 1.0,
  hotkeys: { speak: "CommandOrControl+Alt+S", pause: "CommandOrControl+Alt+P", skip: "CommandOrControl+Alt+N" },
  dictionary: [{ word: "Tauri", say: "tow ree" }],
  bridge: { enabled: true, port: 7723, allowed_extension_ids: [] },
  launch_at_login: false,
  fast_start: true,
  keep_audio_open: false,
  match_language: true,
  language_voices: {
    "en-us": "af_heart", es: "ef_dora", "fr-fr": "ff_siwis", it: "if_sara",
    "pt-br": "pf_dora", hi: "hf_alpha", zh: "zf_xiaobei", ja: "jf_alpha",
  },
};
const VOICES = [
  { name: "af_heart", group: "American · female", lang: "en-us", grade: "A", label: "Heart (A)" },
  { name: "af_bella", group: "American · female", lang: "en-us", grade: "A-", label: "Bella (A-)" },
  { name: "am_adam", group: "American · male", lang: "en-us", grade: "F+", label: "Adam (F+)" },
  { name: "bf_emma", group: "British · female", lang: "en-gb", grade: "B-", label: "Emma (B-)" },
  { name: "ef_dora", group: "Spanish", lang: "es", grade: "", label: "Dora" },
  { name: "em_alex", group: "Spanish", lang: "es", grade: "", label: "Alex" },
  { name: "zf_xiaobei", group: "Chinese (Mandarin)", lang: "zh", grade: "", label: "Xiaobei" },
  { name: "zm_yunxi", group: "Chinese (Mandarin)", lang: "zh", grade: "", label: "Yunxi" },
];
const STATUS = {
  engine: "ready", engine_error: null, tray: "idle",
  download: { done: 0, total: 0, current: "", message: null },
  hotkeys: [
    { action: "speak", accelerator: "CommandOrControl+Alt+S", ok: true, error: null },
    { action: "pause", accelerator: "CommandOrControl+Alt+P", ok: false, error: "'CommandOrControl+Alt+P' could not be registered (another app may use it): taken" },
    { action: "skip", accelerator: "CommandOrControl+Alt+N", ok: true, error: null },
  ],
  bridge: { running: true, addr: "127.0.0.1:7723", error: null, token: "tok-0123456789abcdef" },
  notices: [], config_dir: "/tmp/x", tiny_model: false,
};

// Errors as the app's commands return them (`AppError`: `{kind, message}`).
const appError = (kind, message) => ({ kind, message });

async function openPage({ saveError = null, status = STATUS, failing = {} } = {}) {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.addInitScript(({ settings, voices, status, saveError, failing }) => {
    const calls = [];
    const listeners = {};
    window.__fake = {
      calls,
      emit: (name, payload) => (listeners[name] || []).forEach((cb) => cb({ event: name, payload })),
    };
    window.__TAURI__ = {
      core: {
        invoke: async (cmd, args) => {
          calls.push({ cmd, args: args === undefined ? null : JSON.parse(JSON.stringify(args)) });
          if (failing[cmd]) throw failing[cmd];
          switch (cmd) {
            case "get_settings": return JSON.parse(JSON.stringify(settings));
            case "list_voices": return voices;
            case "get_status": return status;
            case "save_settings":
              if (saveError) throw saveError;
              return args.settings;
            case "check_hotkey":
              if (/Banana/.test(args.accelerator)) {
                throw { kind: "invalid_hotkey", message: `'${args.accelerator}' is not a valid shortcut` };
              }
              return args.accelerator.replace("Ctrl", "Control");
            default: return null;
          }
        },
      },
      event: {
        listen: async (name, cb) => { (listeners[name] ||= []).push(cb); return () => {}; },
      },
    };
  }, { settings: SETTINGS, voices: VOICES, status, saveError, failing });
  await page.goto(page_url);
  await page.waitForSelector("body[data-ready='1']", { timeout: 10000 });
  return { page, errors, calls: () => page.evaluate(() => window.__fake.calls) };
}

test("voices are grouped and the current one is selected; status renders", async () => {
  const { page, errors } = await openPage();
  const groups = await page.$$eval("#voice optgroup", (gs) => gs.map((g) => [g.label, g.children.length]));
  assert.deepEqual(groups, [
    ["American · female", 2], ["American · male", 1], ["British · female", 1],
    ["Spanish", 2], ["Chinese (Mandarin)", 2],
  ]);
  assert.equal(await page.$eval("#voice", (s) => s.value), "af_heart");
  assert.equal(await page.textContent("#engine-state"), "ready");
  assert.equal(await page.inputValue("#token"), "tok-0123456789abcdef");
  assert.match(await page.textContent("#hk-pause-status"), /could not be registered/);
  assert.equal(await page.getAttribute("#hk-pause-status", "class"), "hk-status error");
  assert.equal(await page.textContent("#hk-speak-status"), "✓ active");
  assert.equal(await page.$$eval("#dict tbody tr", (r) => r.length), 1);
  assert.deepEqual(errors, []);
  await page.close();
});

test("hotkey recorder turns key presses into accelerators and clears with Backspace", async () => {
  const { page, calls } = await openPage();
  await page.focus("#hk-skip");
  await page.keyboard.press("Control+Alt+KeyK");
  await page.waitForFunction(() => document.getElementById("hk-skip").value === "Control+Alt+K");
  const checks = (await calls()).filter((c) => c.cmd === "check_hotkey");
  assert.deepEqual(checks.at(-1).args, { accelerator: "Ctrl+Alt+K" });
  // modifiers alone do nothing
  await page.keyboard.press("Shift");
  assert.equal(await page.inputValue("#hk-skip"), "Control+Alt+K");
  await page.keyboard.press("Backspace");
  assert.equal(await page.inputValue("#hk-skip"), "");
  // pure function cases
  const acc = await page.evaluate(() => [
    window.harkUi.accelerator({ code: "KeyS", ctrlKey: true, altKey: true }),
    window.harkUi.accelerator({ code: "Digit5", metaKey: true, shiftKey: true }),
    window.harkUi.accelerator({ code: "F7" }),
    window.harkUi.accelerator({ code: "KeyA" }),
    window.harkUi.accelerator({ code: "ControlLeft", ctrlKey: true }),
  ]);
  assert.deepEqual(acc, ["Ctrl+Alt+S", "Shift+Super+5", "F7", null, null]);
  await page.close();
});

test("save sends exactly what the form shows", async () => {
  const { page, calls } = await openPage();
  await page.selectOption("#voice", "bf_emma");
  await page.$eval("#speed", (el) => { el.value = "1.5"; el.dispatchEvent(new Event("input")); });
  assert.equal(await page.textContent("#speed-value"), "1.5×");
  await page.click("#dict-add");
  const rows = await page.$$("#dict tbody tr");
  await (await rows[1].$(".dict-word")).fill("GIF");
  await (await rows[1].$(".dict-say")).fill("jiff");
  await (await rows[0].$(".dict-remove")).click();
  await page.fill("#bridge-ids", "abcdefghijklmnopabcdefghijklmnop\n  ");
  await page.fill("#bridge-port", "7800");
  await page.check("#autostart");
  await page.uncheck("#fast-start");
  await page.check("#keep-audio-open");
  await page.click("#save");
  await page.waitForFunction(() => document.getElementById("save-result").textContent === "Saved.");
  const saved = (await calls()).filter((c) => c.cmd === "save_settings");
  assert.equal(saved.length, 1);
  assert.deepEqual(saved[0].args.settings, {
    ...SETTINGS,
    voice: "bf_emma",
    speed: 1.5,
    dictionary: [{ word: "GIF", say: "jiff" }],
    bridge: { enabled: true, port: 7800, allowed_extension_ids: ["abcdefghijklmnopabcdefghijklmnop"] },
    launch_at_login: true,
    fast_start: false,
    keep_audio_open: true,
  });
  await page.close();
});

test("a voice per language: each language lists its own voices, the choice is saved, off disables them", async () => {
  const { page, calls } = await openPage();
  assert.equal(await page.isChecked("#match-language"), true);
  const rows = await page.$$eval(".language-voice", (ss) =>
    ss.map((s) => [s.dataset.lang, s.value, [...s.options].map((o) => o.value)]));
  const byLang = Object.fromEntries(rows.map(([l, v, opts]) => [l, { v, opts }]));
  assert.equal(rows.length, 8);
  assert.deepEqual(byLang["en-us"].opts, ["af_heart", "af_bella", "am_adam", "bf_emma"]);
  assert.deepEqual(byLang.es.opts, ["ef_dora", "em_alex"]);
  assert.deepEqual(byLang.zh, { v: "zf_xiaobei", opts: ["zf_xiaobei", "zm_yunxi"] });
  // a language without installed voices still shows its choice
  assert.deepEqual(byLang.ja, { v: "jf_alpha", opts: ["jf_alpha"] });
  await page.selectOption("#lv-es", "em_alex");
  await page.selectOption("#lv-zh", "zm_yunxi");
  await page.click("#save");
  await page.waitForFunction(() => document.getElementById("save-result").textContent === "Saved.");
  let saved = (await calls()).filter((c) => c.cmd === "save_settings").at(-1).args.settings;
  assert.equal(saved.match_language, true);
  assert.deepEqual(saved.language_voices, { ...SETTINGS.language_voices, es: "em_alex", zh: "zm_yunxi" });
  await page.uncheck("#match-language");
  assert.equal(await page.$eval("#lv-es", (s) => s.disabled), true);
  await page.click("#save");
  await page.waitForFunction(() =>
    window.__fake.calls.filter((c) => c.cmd === "save_settings").length === 2);
  saved = (await calls()).filter((c) => c.cmd === "save_settings").at(-1).args.settings;
  assert.equal(saved.match_language, false);
  await page.close();
});

test("a rejected save shows the app's error", async () => {
  const { page } = await openPage({
    saveError: appError("settings", "invalid setting: bridge port 80 is reserved; use 1024–65535"),
  });
  await page.fill("#bridge-port", "80");
  await page.click("#save");
  await page.waitForFunction(() => document.getElementById("save-result").className === "error");
  assert.match(await page.textContent("#save-result"), /port 80 is reserved/);
  await page.close();
});

test("status events: download progress, cancel, notices, settings changed from the tray", async () => {
  const status = { ...STATUS, engine: "needs_model", bridge: { running: false, addr: null, error: null, token: null } };
  const { page, calls } = await openPage({ status });
  assert.equal(await page.isVisible("#download"), true);
  assert.equal(await page.isVisible("#cancel-download"), false);
  await page.click("#download");
  await page.evaluate((st) => window.__fake.emit("status", {
    ...st, engine: "downloading",
    download: { done: 50_000_000, total: 200_000_000, current: "kokoro-v1_0.safetensors", message: null },
    notices: ["Your settings file is not valid JSON. It was saved as x and the defaults are in use."],
  }), status);
  assert.equal(await page.$eval("#model-progress", (p) => p.value / p.max), 0.25);
  assert.match(await page.textContent("#model-bytes"), /50 MB of 200 MB · kokoro-v1_0\.safetensors/);
  assert.equal(await page.isVisible("#cancel-download"), true);
  assert.match(await page.textContent("#notices"), /not valid JSON/);
  await page.click("#cancel-download");
  const cmds = (await calls()).map((c) => c.cmd);
  assert.ok(cmds.includes("start_model_download") && cmds.includes("cancel_model_download"), cmds.join());
  await page.evaluate((s) => window.__fake.emit("settings", { ...s, voice: "am_adam", speed: 0.75 }), SETTINGS);
  assert.equal(await page.$eval("#voice", (s) => s.value), "am_adam");
  assert.equal(await page.textContent("#speed-value"), "0.75×");
  await page.close();
});

test("the Japanese dictionary downloads with the model's progress bar", async () => {
  const { page } = await openPage();
  assert.equal(await page.isVisible("#model-progress"), false);
  await page.evaluate((st) => window.__fake.emit("status", {
    ...st, japanese: "downloading",
    japanese_download: { done: 12_000_000, total: 48_000_000, current: "unidic-lite-1.0.8.tar.gz", message: null },
  }), STATUS);
  assert.equal(await page.$eval("#model-progress", (p) => p.value / p.max), 0.25);
  assert.match(await page.textContent("#model-text"), /Japanese dictionary/);
  assert.match(await page.textContent("#model-bytes"), /12 MB of 48 MB · unidic-lite/);
  assert.equal(await page.isVisible("#cancel-download"), true);
  await page.evaluate((st) => window.__fake.emit("status", { ...st, japanese: "installed" }), STATUS);
  assert.equal(await page.isVisible("#model-progress"), false);
  assert.equal(await page.textContent("#model-text"), "The voice model is ready.");
  await page.close();
});

test("errors of the commands nobody waits for reach the user too", async () => {
  const status = { ...STATUS, engine: "needs_model" };
  const { page, errors } = await openPage({
    status,
    failing: {
      stop_speech: appError("model_not_loaded", "the voice model is not loaded yet"),
      start_model_download: appError("download", "could not start the download: permission denied"),
    },
  });
  await page.click("#stop");
  await page.waitForFunction(() => document.getElementById("save-result").className === "error");
  assert.equal(await page.textContent("#save-result"), "the voice model is not loaded yet");
  await page.click("#download");
  await page.waitForFunction(() => /permission denied/.test(document.getElementById("save-result").textContent));
  // a plain string (older app builds) is shown as it is
  assert.equal(await page.evaluate(() => window.harkUi.errorText("boom")), "boom");
  assert.deepEqual(errors, []);
  await page.close();
});
