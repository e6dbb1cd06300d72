#!/usr/bin/env bash
# Set up and run every test: system packages, real model assets (cached), the workspace's Rust tests,
# the Mac build's type-check and lint, the extension's browser tests and the tray app's tests. Every
# suite runs; the exit status is non-zero if any failed.
# On macOS the browser tests use Chrome or Chromium (scripts/find-chrome.sh) and the tray app's
# Xvfb suite is skipped (it drives an X11 tray); everything else runs as on Linux.
# Model assets are cached in $HARK_ASSETS (default: ~/.cache/hark/assets) so later runs skip the download.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# macOS: the bridge's Opus encoder links Homebrew's libopus (installed by deps.sh).
if [ "$(uname -s)" = Darwin ] && command -v brew >/dev/null; then
  OPUS_LIB_DIR="$(brew --prefix opus)/lib"
  export OPUS_LIB_DIR
fi
export HARK_ASSETS="${HARK_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/hark/assets}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Tests that need real assets fail (instead of skipping) when they are missing.
export HARK_REQUIRE_ASSETS=1
export HARK_LEXICON_DIR="$HARK_ASSETS/lexicons"

echo "== fetch model assets into $HARK_ASSETS" >&2
cargo run -q -p hark-cli -- fetch --japanese
cargo run -q -p hark-cli -- fetch --verify

failed=()
suite() {
  local name="$1"; shift
  echo "== $name" >&2
  if ! "$@"; then
    failed+=("$name")
  fi
}
with_browser() {  # runs "$@" with CHROMIUM set to a browser the tests can drive
  local browser
  browser="$(bash scripts/find-chrome.sh)" || return 1
  CHROMIUM="$browser" "$@"
}
# OpenBLAS is installed by deps.sh on Linux: its backend must load there, or it would go untested.
[ "$(uname -s)" = Linux ] && export HARK_REQUIRE_OPENBLAS=1
suite "rust tests (cargo test --workspace)" cargo test --workspace --no-fail-fast -- --test-threads 2
suite "hark-kokoro layering: no import circles, no upward imports (scripts/check-layers.py)" python3 scripts/check-layers.py
suite "model tests on every GEMM backend and CPU level (scripts/test-compute.sh)" bash scripts/test-compute.sh
suite "script tests (the scripts' Linux and macOS branches, with stand-in commands)" node --test tests/scripts/scripts.test.mjs
suite "macOS build: type-check and clippy for aarch64-apple-darwin (scripts/check-macos.sh)" bash scripts/check-macos.sh
suite "extension tests (headless Chrome/Chromium against the real bridge)" with_browser bash tests/extension/run.sh
if [ "$(uname -s)" = Darwin ]; then
  suite "settings window tests (headless Chrome/Chromium; the Xvfb tray suite is Linux-only)" with_browser bash tests/app/run.sh
else
  suite "tray app tests (Xvfb, headless Chromium)" with_browser bash tests/app/run.sh
fi

if ((${#failed[@]})); then
  printf 'FAILED suite: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "all test suites passed" >&2
