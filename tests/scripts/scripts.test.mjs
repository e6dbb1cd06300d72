// The README's scripts on both platforms, run here on Linux: every command they call is a
// stand-in on PATH that records its arguments (and a few environment variables), and `uname`
// answers Darwin or Linux. The tests assert which commands a Mac (or a Debian machine) would run,
// in which order, and which it must never run (apt on a Mac, the Xvfb suite on a Mac, ...).
// Real programs are kept only for what the scripts use to compute (bash, grep, dirname, ...).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BASH = execFileSync("bash", ["-c", "command -v bash"]).toString().trim();

// Programs the scripts compute with: the real ones.
const REAL = ["bash", "sh", "env", "dirname", "basename", "cat", "grep", "cut", "date", "seq",
  "mkdir", "chmod", "cmp", "mv", "rm", "head", "tail", "tr", "sed", "ls", "true", "false", "touch"];
// Everything else the scripts may call: stand-ins that record the call.
const STUBS = ["uname", "xcode-select", "brew", "cargo", "npm", "npx", "node", "python3", "pip", "pip3",
  "apt-get", "dpkg-query", "sudo", "id", "sleep", "espeak-ng", "cargo-clippy", "rustc", "rustdoc", "ar"];

const STUB = `#!/bin/bash
name="$(basename "$0")"
printf '%s\\t%s\\t%s\\n' "$name" "$*" "CHROMIUM=\${CHROMIUM:-} RUSTC_BOOTSTRAP=\${RUSTC_BOOTSTRAP:-} CC=\${CC_aarch64_apple_darwin:-} TARGET_DIR=\${CARGO_TARGET_DIR:-} RUSTC=\${RUSTC:-} PWD=$PWD" >> "$STUB_LOG"
case "$name" in
  uname) echo "\${STUB_UNAME:-Linux}" ;;
  xcode-select) [ -n "\${STUB_NO_CLT:-}" ] && exit 2; echo /Library/Developer/CommandLineTools ;;
  id) echo "\${STUB_UID:-0}" ;;
  dpkg-query)
    case "$*" in
      *Version*) echo "1.96.0+dfsg1-1~deb12u2" ;;
      *) for p in \${STUB_DPKG_MISSING:-}; do [ "\${@: -1}" = "$p" ] && exit 1; done; echo "install ok installed" ;;
    esac ;;
  apt-get)
    n=$(cat "$STUB_DIR/apt-fails" 2>/dev/null || echo 0)
    if [ "$n" -gt 0 ]; then echo $((n - 1)) > "$STUB_DIR/apt-fails"; echo "E: Could not get lock" >&2; exit 100; fi ;;
  sudo) exec "$@" ;;
  python3) [ "$*" = "-c import openai" ] && exit "\${STUB_OPENAI_MISSING:-0}" ;;
  node) [ "$1" = "-e" ] && printf '%s' "\${STUB_PW_EXE:-/nowhere}" ;;
  npx) case "$*" in *"install chromium"*)
         [ -n "\${STUB_NPX_FAIL:-}" ] && exit 1
         mkdir -p "$(dirname "$STUB_PW_EXE")"; echo '#!/bin/sh' > "$STUB_PW_EXE"; chmod +x "$STUB_PW_EXE" ;; esac ;;
  cargo-clippy) echo "clippy 0.1.96" ;;
  rustc) echo "rustc 1.96.0 (stub)" ;;
esac
exit 0
`;

/** A sandbox: stand-ins on PATH, a fresh HOME and target dir. */
function sandbox({ os: osName = "Darwin", without = [], env = {} } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hark-scripts-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  for (const r of REAL) {
    const p = execFileSync("bash", ["-c", `command -v ${r}`]).toString().trim();
    fs.symlinkSync(p, path.join(bin, r));
  }
  for (const s of STUBS.filter((s) => !without.includes(s))) {
    fs.writeFileSync(path.join(bin, s), STUB, { mode: 0o755 });
  }
  const home = path.join(dir, "home");
  const target = path.join(dir, "target");
  fs.mkdirSync(home);
  // What `cargo build --release` would have left: the binaries run.sh starts.
  fs.mkdirSync(path.join(target, "release"), { recursive: true });
  for (const b of ["hark", "hark-app"]) fs.writeFileSync(path.join(target, "release", b), STUB, { mode: 0o755 });
  const log = path.join(dir, "calls.tsv");
  fs.writeFileSync(log, "");
  const base = {
    PATH: bin, HOME: home, STUB_LOG: log, STUB_DIR: dir, STUB_UNAME: osName,
    CARGO_TARGET_DIR: target, HARK_RUST_WEB_BIN: bin, TMPDIR: os.tmpdir(),
    ...env,
  };
  return {
    dir, home, target,
    run(script, args = [], extra = {}) {
      const r = spawnSync(BASH, [path.join(REPO, script), ...args], {
        env: { ...base, ...extra }, encoding: "utf8", timeout: 60000,
      });
      const calls = fs.readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => {
        const [cmd, args, envs] = l.split("\t");
        return { cmd, args, line: `${cmd} ${args}`.trim(), env: Object.fromEntries(envs.split(" ").map((kv) => kv.split(/=(.*)/s).slice(0, 2))) };
      });
      fs.writeFileSync(log, "");
      return { status: r.status, stderr: r.stderr, stdout: r.stdout, calls, lines: calls.map((c) => c.line) };
    },
    cleanup() { fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

const has = (lines, re) => lines.some((l) => re.test(l));
const index = (lines, re) => lines.findIndex((l) => re.test(l));
const noLinuxTools = (lines) => {
  for (const re of [/^apt-get/, /^dpkg-query/, /^sudo/, /gui\.test\.mjs/]) {
    assert.ok(!has(lines, re), `a Mac must not run ${re}:\n${lines.join("\n")}`);
  }
};

test("deps.sh on a Mac: Command Line Tools required, espeak-ng from Homebrew, no apt", () => {
  const sb = sandbox({ without: ["espeak-ng"] });
  try {
    let r = sb.run("scripts/deps.sh", [], { STUB_NO_CLT: "1" });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /Xcode Command Line Tools.*xcode-select --install/);
    assert.ok(!has(r.lines, /^brew/), r.lines.join("\n"));
    noLinuxTools(r.lines);

    r = sb.run("scripts/deps.sh", [], { STUB_OPENAI_MISSING: "1" });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(has(r.lines, /^brew install espeak-ng$/), r.lines.join("\n"));
    assert.ok(has(r.lines, /^python3 -m pip install .*--user openai$/), r.lines.join("\n"));
    noLinuxTools(r.lines);
  } finally { sb.cleanup(); }
});

test("deps.sh on a Mac: libopus from Homebrew is required, espeak-ng optional", () => {
  let sb = sandbox();
  try {
    // everything present: Homebrew is only asked whether opus is installed
    const r = sb.run("scripts/deps.sh");
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!has(r.lines, /^brew install/), r.lines.join("\n"));
    assert.ok(has(r.lines, /^brew list opus$/), r.lines.join("\n"));
  } finally { sb.cleanup(); }
  sb = sandbox({ without: ["espeak-ng", "brew"] });
  try {
    // no Homebrew: libopus cannot come from anywhere, so a clear error and nothing else
    const r = sb.run("scripts/deps.sh");
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /libopus is required to build hark: install Homebrew/);
    noLinuxTools(r.lines);
  } finally { sb.cleanup(); }
});

test("deps.sh on Debian: apt installs what is missing, with sudo when not root", () => {
  const sb = sandbox({ os: "Linux" });
  try {
    let r = sb.run("scripts/deps.sh", [], { STUB_DPKG_MISSING: "xvfb espeak-ng", STUB_UID: "1000" });
    assert.equal(r.status, 0, r.stderr);
    const install = r.lines.find((l) => /^apt-get .*install/.test(l));
    assert.match(install, /espeak-ng xvfb$|xvfb espeak-ng$/);
    assert.ok(has(r.lines, /^sudo env DEBIAN_FRONTEND=noninteractive apt-get/), r.lines.join("\n"));
    assert.ok(!has(r.lines, /^brew|^xcode-select/), r.lines.join("\n"));
    r = sb.run("scripts/deps.sh");
    assert.ok(!has(r.lines, /^apt-get/), "nothing missing, nothing installed");
  } finally { sb.cleanup(); }
});

test("run.sh on a Mac builds and starts the tray app (no display variable needed)", () => {
  const sb = sandbox();
  try {
    const r = sb.run("scripts/run.sh");
    assert.equal(r.status, 0, r.stderr);
    const build = index(r.lines, /^cargo build --release -p hark-cli -p hark-app$/);
    const fetch = index(r.lines, /^hark fetch$/);
    const app = index(r.lines, /^hark-app$/);
    assert.ok(build >= 0 && build < fetch && fetch < app, r.lines.join("\n"));
    assert.ok(!has(r.lines, /^hark serve/), r.lines.join("\n"));
    noLinuxTools(r.lines);
  } finally { sb.cleanup(); }
});

test("run.sh on Linux: the tray app with a display, the daemon without; text is spoken once", () => {
  const sb = sandbox({ os: "Linux" });
  try {
    let r = sb.run("scripts/run.sh", [], { DISPLAY: ":5" });
    assert.ok(has(r.lines, /^hark-app$/), r.lines.join("\n"));
    r = sb.run("scripts/run.sh");
    assert.ok(has(r.lines, /^hark serve$/) && !has(r.lines, /^hark-app$/), r.lines.join("\n"));
    r = sb.run("scripts/run.sh", ["Hello", "there."]);
    assert.ok(has(r.lines, /^cargo build --release -p hark-cli$/), r.lines.join("\n"));
    assert.ok(has(r.lines, /^hark say Hello there\.$/), r.lines.join("\n"));
  } finally { sb.cleanup(); }
});

test("test.sh on a Mac: Rust tests, the native clippy check, browser tests with Chromium, no Xvfb", () => {
  const sb = sandbox();
  const chromium = path.join(sb.home, "Applications/Chromium.app/Contents/MacOS/Chromium");
  fs.mkdirSync(path.dirname(chromium), { recursive: true });
  fs.writeFileSync(chromium, "#!/bin/sh\n", { mode: 0o755 });
  try {
    const r = sb.run("scripts/test.sh");
    assert.equal(r.status, 0, r.stderr);
    const L = r.lines;
    assert.ok(has(L, /^cargo test --workspace/), L.join("\n"));
    assert.ok(has(L, /^cargo clippy --workspace --all-targets --locked -- -D warnings$/), L.join("\n"));
    // The extension suite: hark (which serves the bridge) is built, node runs the tests in Chromium.
    assert.ok(has(L, /^cargo build -q -p hark-cli$/), L.join("\n"));
    const ext = r.calls.find((c) => c.cmd === "node" && /extension\.test\.mjs/.test(c.args));
    assert.equal(ext?.env.CHROMIUM, chromium);
    const ui = r.calls.find((c) => c.cmd === "node" && c.args === "--test" && c.env.PWD.endsWith("tests/app/ui"));
    assert.equal(ui?.env.CHROMIUM, chromium, "the settings window tests run too");
    assert.match(r.stderr, /tray app tests \(Xvfb\): skipped on macOS/);
    assert.ok(!has(L, /^cargo build -p hark-app$/), "the Xvfb suite's build is skipped");
    noLinuxTools(L);
    assert.match(r.stderr, /all test suites passed/);
  } finally { sb.cleanup(); }
});

test("test.sh on Linux: every suite, the cross-target check, the Xvfb suite", () => {
  const sb = sandbox({ os: "Linux" });
  // find-chrome.sh looks for Debian's chromium in /usr/bin: point it elsewhere.
  const chromium = path.join(sb.dir, "chromium");
  fs.writeFileSync(chromium, "#!/bin/sh\n", { mode: 0o755 });
  try {
    const r = sb.run("scripts/test.sh", [], { CHROMIUM: chromium });
    assert.equal(r.status, 0, r.stderr);
    const L = r.lines;
    assert.ok(has(L, /^cargo clippy -Zbuild-std=std,panic_abort --target aarch64-apple-darwin --locked --keep-going --workspace --all-targets -- -D warnings$/), L.join("\n"));
    assert.ok(has(L, /^node --test tests\/app\/gui\.test\.mjs tests\/app\/hotkeys\.test\.mjs$/), L.join("\n"));
    assert.ok(has(L, /^node --test tests\/app\/first-press\.test\.mjs$/), L.join("\n"));
    assert.ok(has(L, /^python3 scripts\/check-layers\.py$/), L.join("\n"));
    assert.ok(!has(L, /^brew|^xcode-select/), L.join("\n"));
  } finally { sb.cleanup(); }
});

test("test.sh reports a failed suite and still runs the others", () => {
  const sb = sandbox();
  try {
    // No browser at all on this Mac: the two browser suites fail, the rest runs.
    const r = sb.run("scripts/test.sh", [], { STUB_PW_EXE: path.join(sb.dir, "never-installed"), STUB_NPX_FAIL: "1" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /FAILED suite: extension tests/);
    assert.match(r.stderr, /FAILED suite: settings window tests/);
    assert.ok(has(r.lines, /^cargo clippy/), r.lines.join("\n"));
  } finally { sb.cleanup(); }
});

test("find-chrome.sh on a Mac: Chromium first, then Playwright's build (installed once), then Chrome with a warning", () => {
  const sb = sandbox();
  const pw = path.join(sb.home, "Library/Caches/ms-playwright/chromium-1/chrome-mac-arm64/Chromium");
  try {
    // Nothing installed: Playwright's Chromium is installed and used.
    let r = sb.run("scripts/find-chrome.sh", [], { STUB_PW_EXE: pw });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), pw);
    assert.ok(has(r.lines, /^npx --no-install playwright-core install chromium$/), r.lines.join("\n"));
    // Installed already: not again.
    r = sb.run("scripts/find-chrome.sh", [], { STUB_PW_EXE: pw });
    assert.equal(r.stdout.trim(), pw);
    assert.ok(!has(r.lines, /^npx/), r.lines.join("\n"));
    // Only Google Chrome: used, with the warning about --load-extension.
    const chrome = path.join(sb.home, "Applications/Google Chrome.app/Contents/MacOS/Google Chrome");
    fs.mkdirSync(path.dirname(chrome), { recursive: true });
    fs.writeFileSync(chrome, "#!/bin/sh\n", { mode: 0o755 });
    r = sb.run("scripts/find-chrome.sh", [], { STUB_PW_EXE: path.join(sb.dir, "none"), STUB_NPX_FAIL: "1" });
    assert.equal(r.stdout.trim(), chrome);
    assert.match(r.stderr, /ignores --load-extension/);
    // Chromium.app wins over both.
    const chromium = path.join(sb.home, "Applications/Chromium.app/Contents/MacOS/Chromium");
    fs.mkdirSync(path.dirname(chromium), { recursive: true });
    fs.writeFileSync(chromium, "#!/bin/sh\n", { mode: 0o755 });
    r = sb.run("scripts/find-chrome.sh", [], { STUB_PW_EXE: pw });
    assert.equal(r.stdout.trim(), chromium);
    // CHROMIUM overrides, and must exist.
    r = sb.run("scripts/find-chrome.sh", [], { CHROMIUM: path.join(sb.dir, "missing") });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not an executable/);
  } finally { sb.cleanup(); }
});

test("check-macos.sh on Linux: installs the toolchain (waiting out a held lock), checks with a stand-in C compiler", () => {
  const sb = sandbox({ os: "Linux" });
  try {
    fs.writeFileSync(path.join(sb.dir, "apt-fails"), "2"); // the dpkg lock is held twice
    const r = sb.run("scripts/check-macos.sh", ["-p", "hark-app"], { STUB_DPKG_MISSING: "rust-web-src rust-web-clippy" });
    assert.equal(r.status, 0, r.stderr);
    const apt = r.lines.filter((l) => /^apt-get/.test(l));
    assert.ok(apt.some((l) => /install -y -qq --no-install-recommends rust-web-src rust-web-clippy$/.test(l)), apt.join("\n"));
    assert.equal(r.lines.filter((l) => /^sleep/.test(l)).length, 2, "retried after the lock");
    const check = r.calls.find((c) => c.cmd === "cargo");
    // A named package replaces --workspace.
    assert.equal(check.args, "clippy -Zbuild-std=std,panic_abort --target aarch64-apple-darwin --locked --keep-going --all-targets -p hark-app -- -D warnings");
    assert.equal(check.env.RUSTC_BOOTSTRAP, "1");
    assert.equal(check.env.TARGET_DIR, path.join(sb.target, "macos-check"));
    assert.equal(check.env.RUSTC, path.join(sb.dir, "bin", "rustc"));
    // The stand-in compiler: answers cc-rs's probes as clang, writes empty objects.
    const cc = check.env.CC;
    assert.equal(cc, path.join(sb.target, "macos-check", "tools", "cc"));
    const run = (args) => spawnSync(cc, args, { encoding: "utf8" });
    assert.equal(run(["-E", "probe.c"]).stdout.trim(), '"clang"');
    assert.notEqual(run(["-?"]).status, 0);
    const obj = path.join(sb.dir, "x.o");
    assert.equal(run(["-c", "x.m", "-o", obj]).status, 0);
    assert.equal(fs.statSync(obj).size, 0);
    const obj2 = path.join(sb.dir, "y.o");
    assert.equal(run(["-c", "y.c", `-o${obj2}`]).status, 0);
    assert.ok(fs.existsSync(obj2));
    // Already installed: no apt.
    const again = sb.run("scripts/check-macos.sh");
    assert.ok(!has(again.lines, /^apt-get/), again.lines.join("\n"));
    assert.ok(has(again.lines, /^cargo clippy .* --workspace --all-targets -- -D warnings$/), again.lines.join("\n"));
  } finally { sb.cleanup(); }
});

test("check-macos.sh on a Mac: a native clippy, no apt, no build-std", () => {
  const sb = sandbox();
  try {
    const r = sb.run("scripts/check-macos.sh");
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.lines.filter((l) => !/^uname/.test(l)), ["cargo clippy --workspace --all-targets --locked -- -D warnings"]);
  } finally { sb.cleanup(); }
});
