// Global hotkeys on X11 (the app's own listener): a combination another client already holds is
// reported in the status, the others still work, and an empty one is off.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { readEvents, waitFor, eventTail, freePort, startSession, setPrimary, assetDir } from "./xsession.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const APP = process.env.HARK_APP_BIN ||
  path.join(process.env.CARGO_TARGET_DIR || path.join(repo, "target"), "debug", "hark-app");

/** Runs xkey.py with `args`; resolves to [process, first JSON line]. */
async function xkey(env, args) {
  const p = spawn("python3", [path.join(here, "xkey.py"), ...args], { env, stdio: ["pipe", "pipe", "inherit"] });
  const line = await new Promise((resolve, reject) => {
    readline.createInterface({ input: p.stdout }).once("line", resolve);
    p.on("exit", (code) => reject(new Error(`xkey.py ${args.join(" ")} exited with ${code}`)));
  });
  return [p, JSON.parse(line)];
}

test("a hotkey another app holds is reported; the others work", { timeout: 300000 }, async () => {
  assert.ok(fs.existsSync(APP), `build the app first: ${APP} is missing`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hark-hotkeys-"));
  const cfgDir = path.join(tmp, "config");
  const logPath = path.join(tmp, "events.jsonl");
  fs.mkdirSync(cfgDir);
  fs.writeFileSync(path.join(cfgDir, "settings.json"), JSON.stringify({
    version: 1, voice: "af_heart", speed: 1.0,
    hotkeys: { speak: "Ctrl+Alt+S", pause: "Ctrl+Alt+P", skip: "" },
    bridge: { enabled: false, port: await freePort(), allowed_extension_ids: [] },
  }));
  fs.writeFileSync(path.join(tmp, "asound.conf"), "pcm.!default { type null }\nctl.!default { type hw card 0 }\n");
  const session = await startSession(tmp, { ...process.env, HARK_ASSETS: assetDir(os.homedir()) });
  const env = {
    ...session.env, HARK_TINY_MODEL: "1", HARK_CONFIG_DIR: cfgDir, HARK_EVENT_LOG: logPath,
    ALSA_CONFIG_PATH: path.join(tmp, "asound.conf"), HARK_LOG: "info",
    HARK_NATIVE_HOST_DIRS: path.join(tmp, "NativeMessagingHosts"),
  };
  const events = () => readEvents(logPath);
  const tail = () => eventTail(logPath);
  let holder;
  try {
    // Another client holds Ctrl+Alt+P before the app starts.
    let held;
    [holder, held] = await xkey(env, ["--hold", "ctrl+alt+p"]);
    assert.equal(held.held, "ctrl+alt+p");
    session.start(APP, [], "app", env);
    const hk = await waitFor("the hotkeys' status", () => events().find((e) => e.type === "hotkeys"), 120000, tail);
    const by = Object.fromEntries(hk.status.map((h) => [h.action, h]));
    assert.equal(by.speak.ok, true, JSON.stringify(hk.status));
    assert.equal(by.pause.ok, false, JSON.stringify(hk.status));
    assert.match(by.pause.error, /'Ctrl\+Alt\+P' could not be registered .*another application holds/, by.pause.error);
    assert.equal(by.skip.ok, false);
    assert.equal(by.skip.error, null, "an empty hotkey is off, not an error");
    // The one registered works: once the engine is ready, a press reads the selection.
    await waitFor("the engine", () => events().some((e) => e.type === "engine_ready"), 120000, tail);
    await setPrimary(env, "Held keys stay with their owner.");
    const [keys, pressed] = await xkey(env, ["ctrl+alt+s"]);
    keys.stdin.end();
    assert.ok(pressed.t > 0, JSON.stringify(pressed));
    const sp = await waitFor("the speak request", () => events().find((e) => e.type === "speak"), 20000, tail);
    assert.equal(sp.text, "Held keys stay with their owner.");
    const hotkey = events().find((e) => e.type === "hotkey");
    assert.equal(hotkey.action, "speak");
    assert.equal(hotkey.shortcut, "Ctrl+Alt+S");
    assert.ok(hotkey.mono_ms * 1e6 >= pressed.t, "the press is logged after it happened, on the same clock");
  } finally {
    holder?.stdin.end();
    await session.stop();
    if (process.env.KEEP_TMP !== "1") fs.rmSync(tmp, { recursive: true, force: true });
  }
});
