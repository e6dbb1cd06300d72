// The first-press benchmark works: run it small (tiny model, 2 launches × 2 presses, short gaps)
// and check that the stand-in sound card heard every press. No time limits: the times are
// figures for the README (scripts/bench-first-press.sh), not test results.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const APP = process.env.HARK_APP_BIN ||
  path.join(process.env.CARGO_TARGET_DIR || path.join(repo, "target"), "debug", "hark-app");

test("first-press benchmark: a sound at the device for every hotkey press, after it", { timeout: 600000 }, async () => {
  const out = await new Promise((resolve, reject) => {
    execFile("node", [path.join(here, "first-press.mjs"), "--tiny", "--app", APP,
      "--launches", "2", "--presses", "2", "--gap-ms", "300"],
    { encoding: "utf8", timeout: 540000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
  const lines = out.trim().split("\n");
  assert.equal(lines.length, 1, `one JSON object on stdout, got:\n${out}`);
  const r = JSON.parse(lines[0]);
  assert.equal(r.model, "tiny");
  assert.equal(r.launches, 2);
  assert.equal(r.runs.length, 2);
  assert.equal(r.presses_ms.length, 4);
  for (const x of [...r.presses_ms, r.first_press_ms, r.warm_median_ms]) {
    assert.ok(Number.isFinite(x) && x > 0, `time ${x} in ${lines[0]}`);
  }
  for (const run of r.runs) {
    assert.ok(run.ready_ms > 0);
    assert.equal(run.presses.length, 2);
    assert.equal(run.idle_cpu_pct.length, 1, "one gap between two presses, its idle CPU measured");
    assert.ok(run.idle_cpu_pct[0] >= 0, JSON.stringify(run.idle_cpu_pct));
    // The app's own log saw each press reach the engine.
    for (const p of run.presses) assert.ok(Number.isFinite(p.app_hotkey_to_started_ms), JSON.stringify(p));
  }
  // Medians of what was measured.
  const mid = (r.runs[0].presses[0].sound_ms + r.runs[1].presses[0].sound_ms) / 2;
  assert.ok(Math.abs(r.first_press_ms - mid) <= 0.1, `first_press_ms ${r.first_press_ms}, presses ${mid * 2}`);
  assert.equal(r.card.pipe_bytes, 4096);
  // The per-stage breakdown: every stage of every press logged, in order, from the key press to
  // the card's sound; the device's buffer as granted.
  for (const p of r.runs.flatMap((run) => run.presses)) {
    for (const [k, v] of Object.entries(p.stages)) {
      if (k === "output_to_sound" || k === "key_to_sound") continue; // the card's clock: may lead the app's prediction
      assert.ok(Number.isFinite(v) && v >= 0, `stage ${k} = ${v} in ${JSON.stringify(p.stages)}`);
    }
    assert.ok(Math.abs(p.stages.key_to_sound - p.sound_ms) <= 0.2, JSON.stringify(p));
  }
  for (const k of Object.keys(r.runs[0].presses[0].stages)) {
    assert.ok(Number.isFinite(r.breakdown_median_ms[k]), `breakdown ${k}: ${JSON.stringify(r.breakdown_median_ms)}`);
  }
  assert.ok(r.device.buffer_frames > 0 && r.device.rate > 0, JSON.stringify(r.device));
});
