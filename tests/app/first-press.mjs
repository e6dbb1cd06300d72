#!/usr/bin/env node
// First-press benchmark: the tray app under Xvfb, hotkey → the first non-silent sample the audio
// device receives, measured outside the app.
//
//   node tests/app/first-press.mjs [--launches 3] [--presses 10] [--gap-ms 5000] [--tiny] …
//   (scripts/bench-first-press.sh builds the release app and runs this)
//
// Each launch starts the app (real model unless --tiny), waits until it is ready, then presses the
// speak hotkey on a short PRIMARY selection `--presses` times, letting each utterance finish and
// the device fall silent, then waiting `--gap-ms`, before the next press. The first press comes
// `--first-delay-ms` (default 0) after the app is ready.
//
// Ready: the `hotkeys` event (every hotkey registered) and the tray turning `idle` after
// `engine_ready`. That tray event comes once the engine is installed in the app (`engine_ready`
// itself is logged just before, when a press could still get "still loading"), and it is what the
// user sees: the icon leaving its loading state.
//
// The sound card: ALSA_CONFIG_PATH points at a config whose default PCM converts (`plug`) to S16_LE,
// 48 kHz, stereo and writes through the `file` plugin (over `null`) into a FIFO. soundcard.py reads
// the FIFO at real-time pace through a one-page pipe, so the app's audio thread blocks as on a
// real device, and reports the CLOCK_MONOTONIC time at which the first non-zero sample after a
// silence plays. xkey.py presses the hotkey through XTEST and reports the same clock's time of
// the key press. Both are separate processes, so neither time comes from inside the app.
//
// Output: one JSON object on stdout (progress on stderr):
//   first_press_ms       median over launches of the first press's hotkey → first sound
//   warm_median_ms       median over every later press
//   presses_ms           every press, launch after launch (launches × presses)
//   first_press_audible_ms, warm_median_audible_ms: the same to the first sample above -40 dBFS
//   runs[]               per launch: ready_ms (spawn → ready), first_press_after_ready_ms, and per
//                        press: sound_ms, audible_ms,
//                        device_open (the app's device was already open at the key press),
//                        app_hotkey_to_started_ms (the app's own log: hotkey → engine `started`),
//                        other_cpu (cores busy with other work from the key press to the sound:
//                        the machine's busy time less the app's, the card's and the key sender's),
//                        load1 (the 1-minute load average, the app's own work included)
//   card                 the stand-in card: format, pipe size, fill_ms (mean audio waiting in the
//                        pipe, which this card adds to the ALSA buffer's), underruns (times the app
//                        did not keep up, e.g. on a busy machine)
//   other_cpu_median     the median of the presses' other_cpu (see runs[]): how busy the machine was
//   breakdown_median_ms  per stage of a press, the median over every press (ms; null where a stage
//                        was not logged), each stage from the end of the one before:
//                          key_to_hotkey        key down (xkey.py) → the app's hotkey listener has it
//                          hotkey_to_selection  → the selection read
//                          selection_to_text    → the text handed to the engine (dictionary applied,
//                                                 queued)
//                          text_to_first_audio  → the engine's first audio ready (its first window)
//                          first_audio_to_write → its first sample handed to the device
//                          write_to_callback    → the audio callback that copies it out starts
//                          callback_to_output   → cpal's predicted playback time of that sample
//                                                 (the device's buffer ahead of it)
//                          output_to_sound      → the stand-in card plays it (its pipe)
//                        and from the key: key_to_text, key_to_first_audio, key_to_write,
//                        key_to_output (the app's own view of key → sound), key_to_sound.
//                        Times inside the app come from its event log (`mono_ms`, the same
//                        CLOCK_MONOTONIC as xkey.py and soundcard.py); runs[].presses[].stages has
//                        them per press.
//   breakdown_first_press_ms  the same for the first press of each launch (median over launches)
//   device               the app's audio stream: rate, buffer_requested (frames per callback
//                        asked for), buffer_frames (granted), buffer_ms
//   launches, presses, gap_ms, first_delay_ms, model, voice, cpus, load_before/after (1-min load)
import { parseArgs } from "node:util";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { sleep, readEvents, waitFor, eventTail, freePort, startSession, setPrimary, assetDir } from "./xsession.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");

const { values: opt } = parseArgs({
  options: {
    launches: { type: "string", default: "3" },
    presses: { type: "string", default: "10" },
    "gap-ms": { type: "string", default: "5000" },
    "first-delay-ms": { type: "string", default: "0" },
    tiny: { type: "boolean", default: false },
    voice: { type: "string", default: "af_heart" },
    app: { type: "string" },
    "keep-tmp": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opt.help) {
  process.stderr.write(fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\nimport ")[0] + "\n");
  process.exit(0);
}
const int = (name, min) => {
  const v = Number(opt[name]);
  if (!Number.isInteger(v) || v < min) { console.error(`--${name}: an integer ≥ ${min}, not '${opt[name]}'`); process.exit(2); }
  return v;
};
const LAUNCHES = int("launches", 1);
const PRESSES = int("presses", 1);
const GAP_MS = int("gap-ms", 0);
const FIRST_DELAY_MS = int("first-delay-ms", 0);
const APP = opt.app || process.env.HARK_APP_BIN ||
  path.join(process.env.CARGO_TARGET_DIR || path.join(repo, "target"), "release", "hark-app");
const HOTKEY = "ctrl+alt+s";
const CARD = { rate: 48000, channels: 2, format: "S16_LE", pipe_bytes: 4096, chunk_ms: 5 };
// Short sentences, a different one per press (so nothing could be served from a cache).
const SENTENCES = [
  "The kettle is on, so come in and sit down.",
  "Rain is expected later this afternoon.",
  "Please close the door on your way out.",
  "The train to the coast leaves at noon.",
  "She found the keys under the old map.",
  "We planted tomatoes along the south wall.",
  "His bicycle needs a new front tyre.",
  "The library opens again on Monday morning.",
  "A small boat drifted past the harbour.",
  "Dinner will be ready in twenty minutes.",
];

const log = (...a) => console.error("[first-press]", ...a);
const now = () => process.hrtime.bigint(); // CLOCK_MONOTONIC on Linux, as Python's monotonic_ns
const ms = (ns) => Number(ns) / 1e6;
const median = (xs) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x) => (x == null ? null : Math.round(x * 10) / 10);

/** The breakdown's keys: stage by stage, then from the key. */
const STAGES = ["key_to_hotkey", "hotkey_to_selection", "selection_to_text", "text_to_first_audio",
  "first_audio_to_write", "write_to_callback", "callback_to_output", "output_to_sound",
  "key_to_text", "key_to_first_audio", "key_to_write", "key_to_output", "key_to_sound"];

/**
 * One press's stages (ms; null where not logged) from the key time, the app's `hotkey`,
 * `selection` and `stages` events (their times are CLOCK_MONOTONIC ms) and the card's sound time.
 */
function stageTimes(keyMs, hotkey, selection, stages, soundMs) {
  const at = [keyMs, hotkey?.mono_ms, selection?.mono_ms, stages?.queued_ms, stages?.first_audio_ms,
    stages?.first_write_ms, stages?.device_callback_ms, stages?.device_output_ms, soundMs];
  const d = (a, b) => (a == null || b == null ? null : round(b - a));
  const out = {};
  STAGES.slice(0, 8).forEach((k, i) => { out[k] = d(at[i], at[i + 1]); });
  out.key_to_text = d(keyMs, at[3]);
  out.key_to_first_audio = d(keyMs, at[4]);
  out.key_to_write = d(keyMs, at[5]);
  out.key_to_output = d(keyMs, at[7]);
  out.key_to_sound = d(keyMs, soundMs);
  return out;
}

/** Starts soundcard.py on `fifo`, its events copied to `logFile`; returns { events, proc, … }. */
async function startCard(fifo, logFile) {
  const proc = spawn("python3", [path.join(here, "soundcard.py"), fifo,
    "--rate", String(CARD.rate), "--channels", String(CARD.channels),
    "--pipe-bytes", String(CARD.pipe_bytes), "--chunk-ms", String(CARD.chunk_ms)],
  { stdio: ["pipe", "pipe", "inherit"] });
  const events = [];
  readline.createInterface({ input: proc.stdout }).on("line", (l) => {
    fs.appendFileSync(logFile, `${l}\n`);
    try { events.push(JSON.parse(l)); } catch { log(`soundcard: ${l}`); }
  });
  let exited = null;
  proc.on("exit", (code) => { exited = code; });
  await waitFor("the sound card helper", () => {
    if (exited !== null) throw new Error(`soundcard.py exited with ${exited}`);
    return events.find((e) => e.ev === "ready");
  }, 20000);
  return {
    events,
    proc,
    /** The first event of kind `ev` at or after time `t` (ns). */
    after: (t, ev) => events.find((e) => e.ev === ev && e.t >= t),
    /** Whether sound is playing: a `sound` with no `silence` or `close` after it. */
    sounding: () => {
      const last = events.findLast((e) => ["sound", "silence", "close"].includes(e.ev));
      return last?.ev === "sound";
    },
    /** Whether a writer (the app's audio stream) had the device open at time `t`. */
    openAt: (t) => events.filter((e) => e.t <= t).findLast((e) => e.ev === "open" || e.ev === "close")?.ev === "open",
  };
}

/** CPU time in seconds: the whole machine's busy time, and that of the given processes. */
function cpuTimes(pids) {
  const tick = 100; // USER_HZ: /proc's unit on Linux
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const machine = (f.reduce((a, b) => a + b, 0) - f[3] - f[4]) / tick; // all but idle and iowait
  let mine = 0;
  for (const pid of pids) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const x = st.slice(st.lastIndexOf(")") + 2).split(" ");
      mine += (Number(x[11]) + Number(x[12])) / tick; // utime, stime
    } catch { /* exited */ }
  }
  return { machine, mine };
}

/** Starts xkey.py ahead of time; press() sends the hotkey and resolves to its key-down times. */
function startKeys(env) {
  const proc = spawn("python3", [path.join(here, "xkey.py")], { env, stdio: ["pipe", "pipe", "inherit"] });
  const waiting = [];
  readline.createInterface({ input: proc.stdout }).on("line", (l) => waiting.shift()?.(JSON.parse(l)));
  proc.on("exit", (code) => { for (const w of waiting.splice(0)) w({ error: `xkey.py exited with ${code}` }); });
  return {
    proc,
    async press() {
      const k = await new Promise((r) => { waiting.push(r); proc.stdin.write(`${HOTKEY}\n`); });
      if (k.error) throw new Error(`xkey.py: ${k.error}`);
      return k;
    },
  };
}

async function main() {
  if (!fs.existsSync(APP)) throw new Error(`no app binary at ${APP}: build it (cargo build --release -p hark-app --features test-hooks) or pass --app`);
  const assets = assetDir(os.homedir());
  if (!fs.existsSync(path.join(assets, "lexicons"))) throw new Error(`no assets in ${assets}: run \`hark fetch\` (or set HARK_ASSETS)`);
  if (!opt.tiny && !fs.existsSync(path.join(assets, "config.json"))) throw new Error(`no model in ${assets}: run \`hark fetch\``);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hark-first-press-"));
  const cfgDir = path.join(tmp, "config");
  fs.mkdirSync(cfgDir);
  const fifo = path.join(tmp, "card.fifo");
  fs.writeFileSync(path.join(tmp, "asound.conf"), `# The default PCM: a 48 kHz stereo S16 "card" that is a FIFO read by soundcard.py.
pcm.!default {
  type plug
  slave {
    pcm { type file slave.pcm { type null } file "${fifo}" format "raw" }
    format ${CARD.format}
    rate ${CARD.rate}
    channels ${CARD.channels}
  }
}
ctl.!default { type hw card 0 }
`);
  fs.writeFileSync(path.join(cfgDir, "settings.json"), JSON.stringify({
    version: 1, voice: opt.voice, speed: 1.0,
    hotkeys: { speak: "Ctrl+Alt+S", pause: "Ctrl+Alt+P", skip: "Ctrl+Alt+N" },
    bridge: { enabled: true, port: await freePort(), allowed_extension_ids: [] },
  }));
  const loadBefore = os.loadavg()[0];
  const session = await startSession(tmp, { ...process.env, HARK_ASSETS: assets });
  const env = session.env;
  const card = await startCard(fifo, path.join(tmp, "card.jsonl"));
  const keys = startKeys(env);
  const cardReady = card.events.find((e) => e.ev === "ready");
  const runs = [];
  try {
    for (let launch = 0; launch < LAUNCHES; launch++) {
      const logPath = path.join(tmp, `events-${launch + 1}.jsonl`);
      const events = () => readEvents(logPath);
      const tail = () => eventTail(logPath);
      const appEnv = {
        HARK_CONFIG_DIR: cfgDir, HARK_EVENT_LOG: logPath,
        ALSA_CONFIG_PATH: path.join(tmp, "asound.conf"), HARK_LOG: process.env.HARK_LOG || "info",
      };
      if (opt.tiny) appEnv.HARK_TINY_MODEL = "1";
      else delete env.HARK_TINY_MODEL;
      const textOf = (p) => SENTENCES[(launch * PRESSES + p) % SENTENCES.length];
      await setPrimary(env, textOf(0));
      const t0 = now();
      const app = session.start(APP, [], `app-${launch + 1}`, { ...env, ...appEnv });
      let exited = null;
      app.on("exit", (code, sig) => { exited = code ?? sig; });
      await waitFor("the app to be ready (hotkeys registered, tray idle after engine_ready)", () => {
        if (exited !== null) throw new Error(`the app exited (${exited}); see ${tmp}/app-${launch + 1}.log`);
        const ev = events();
        const failed = ev.find((e) => e.type === "notice" && /could not be loaded/.test(e.message));
        if (failed) throw new Error(failed.message);
        const hk = ev.find((e) => e.type === "hotkeys");
        if (hk && !hk.status.every((h) => h.ok)) throw new Error(`hotkeys not registered: ${JSON.stringify(hk.status)}`);
        const ready = ev.findIndex((e) => e.type === "engine_ready");
        return hk && ready >= 0 && ev.slice(ready).some((e) => e.type === "tray" && e.state === "idle");
      }, 300000, tail, 10);
      const tReady = now();
      const run = { ready_ms: round(ms(tReady - t0)), first_press_after_ready_ms: null, presses: [], idle_cpu_pct: [], device: null };
      log(`launch ${launch + 1}/${LAUNCHES}: ready after ${run.ready_ms} ms`);
      await sleep(FIRST_DELAY_MS);
      for (let p = 0; p < PRESSES; p++) {
        const text = textOf(p);
        if (p > 0) await setPrimary(env, text);
        await waitFor("the device to be silent before the press", () => !card.sounding(), 30000);
        const before = events().length;
        const ours = [app.pid, card.proc.pid, keys.proc.pid];
        const cpu0 = cpuTimes(ours);
        const key = await keys.press();
        if (p === 0) run.first_press_after_ready_ms = round(ms(BigInt(key.t) - tReady));
        const sp = await waitFor("the speak request", () => events().slice(before).find((e) => e.type === "speak"), 10000, tail);
        if (sp.text !== text) throw new Error(`the app read ${JSON.stringify(sp.text)}, not the selection ${JSON.stringify(text)}`);
        const ended = () => events().find((e) => ["finished", "cancelled", "error"].includes(e.type) && e.id === sp.id);
        let endSeen = 0;
        const sound = await waitFor("the first sound after the key press", () => {
          const s = card.after(key.t, "sound");
          if (s) return s;
          if (!endSeen && ended()) endSeen = Date.now();
          if (endSeen && Date.now() - endSeen > 2000) {
            throw new Error(`the utterance ended (${JSON.stringify(ended())}) and the sound card heard nothing`);
          }
          return null;
        }, 120000, tail, 10);
        const cpu1 = cpuTimes(ours);
        const window = ms(now() - BigInt(key.t)) / 1000;
        const end = await waitFor("the end of the utterance", ended, 120000, tail);
        if (end.type !== "finished") throw new Error(`the utterance ended with ${JSON.stringify(end)}`);
        await waitFor("the device to fall silent", () => !card.sounding(), 30000);
        const loud = card.events.find((e) => e.ev === "loud" && e.t >= sound.t);
        const ev = events().slice(before);
        const hotkey = ev.find((e) => e.type === "hotkey" && e.action === "speak");
        const started = ev.find((e) => e.type === "started" && e.id === sp.id);
        // Logged right after the end event.
        const stages = await waitFor("the utterance's stages", () => events().slice(before)
          .find((e) => e.type === "stages" && e.id === sp.id), 5000, tail).catch(() => null);
        if (stages && stages.device_rate) {
          run.device = {
            rate: stages.device_rate, buffer_requested: stages.device_buffer_requested,
            buffer_frames: stages.device_buffer_frames,
            buffer_ms: round(stages.device_buffer_frames * 1000 / stages.device_rate),
          };
        }
        const selection = ev.find((e) => e.type === "selection");
        const press = {
          sound_ms: round(ms(BigInt(sound.t) - BigInt(key.t))),
          audible_ms: loud ? round(ms(BigInt(loud.t) - BigInt(key.t))) : null,
          device_open: card.openAt(key.t),
          app_hotkey_to_started_ms: hotkey && started ? started.t_ms - hotkey.t_ms : null,
          key_sync_ms: round(ms(BigInt(key.synced) - BigInt(key.t))),
          stages: stageTimes(ms(BigInt(key.t)), hotkey, selection, stages, ms(BigInt(sound.t))),
          load1: round(os.loadavg()[0]),
          // /proc counts in 10 ms ticks: a short window can come out slightly below zero.
          other_cpu: Math.max(0, Math.round(((cpu1.machine - cpu0.machine) - (cpu1.mine - cpu0.mine)) / window * 100) / 100),
        };
        run.presses.push(press);
        log(`launch ${launch + 1} press ${p + 1}: ${press.sound_ms} ms to the first sound` +
          ` (audible ${press.audible_ms} ms, device ${press.device_open ? "open" : "closed"}, app log: hotkey → started ${press.app_hotkey_to_started_ms} ms)`);
        if (p + 1 < PRESSES) {
          // Idle between presses: the app's CPU over the gap after the utterance ended.
          const idle0 = cpuTimes([app.pid]).mine;
          const t = now();
          await sleep(GAP_MS);
          const secs = ms(now() - t) / 1000;
          run.idle_cpu_pct.push(Math.round((cpuTimes([app.pid]).mine - idle0) / secs * 10000) / 100);
        }
      }
      app.kill("SIGTERM");
      await waitFor("the app to exit", () => exited !== null, 15000).catch(() => app.kill("SIGKILL"));
      const closed = () => card.events.findLast((e) => e.ev === "open" || e.ev === "close")?.ev !== "open";
      await waitFor("the device to close", closed, 5000).catch(() => log("the device stayed open after the app exited"));
      runs.push(run);
    }
  } finally {
    keys.proc.stdin.end();
    await new Promise((r) => (keys.proc.exitCode !== null ? r() : keys.proc.on("exit", r)));
    card.proc.kill("SIGTERM");
    await session.stop();
    if (!opt["keep-tmp"]) fs.rmSync(tmp, { recursive: true, force: true });
    else log(`kept ${tmp}`);
  }
  const lastClose = card.events.findLast((e) => e.ev === "close");
  const breakdown = (presses) => Object.fromEntries(STAGES.map((k) => [k,
    round(median(presses.map((p) => p.stages[k]).filter((x) => x != null)))]));
  const first = runs.map((r) => r.presses[0].sound_ms);
  const warm = runs.flatMap((r) => r.presses.slice(1).map((p) => p.sound_ms));
  const firstAud = runs.map((r) => r.presses[0].audible_ms).filter((x) => x != null);
  const warmAud = runs.flatMap((r) => r.presses.slice(1).map((p) => p.audible_ms)).filter((x) => x != null);
  const result = {
    first_press_ms: round(median(first)),
    warm_median_ms: round(median(warm)),
    presses_ms: runs.flatMap((r) => r.presses.map((p) => p.sound_ms)),
    first_press_audible_ms: round(median(firstAud)),
    other_cpu_median: round(median(runs.flatMap((r) => r.presses.map((p) => p.other_cpu)))),
    // Percent of one core the app used between presses (after each utterance, over the gap).
    idle_cpu_pct_median: round(median(runs.flatMap((r) => r.idle_cpu_pct))),
    idle_cpu_pct_max: round(Math.max(...runs.flatMap((r) => r.idle_cpu_pct))),
    warm_median_audible_ms: round(median(warmAud)),
    breakdown_median_ms: breakdown(runs.flatMap((r) => r.presses)),
    breakdown_first_press_ms: breakdown(runs.map((r) => r.presses[0])),
    device: runs.findLast((r) => r.device)?.device ?? null,
    launches: LAUNCHES,
    presses: PRESSES,
    gap_ms: GAP_MS,
    first_delay_ms: FIRST_DELAY_MS,
    model: opt.tiny ? "tiny" : "real",
    voice: opt.voice,
    app: APP,
    card: {
      ...CARD, pipe_bytes: cardReady.pipe_bytes,
      fill_ms: lastClose?.fill_ms ?? null, underruns: lastClose?.underruns ?? null,
    },
    cpus: os.cpus().length,
    load_before: round(loadBefore),
    load_after: round(os.loadavg()[0]),
    runs,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((e) => {
  console.error(`[first-press] ${e.stack || e}`);
  process.exit(1);
});
