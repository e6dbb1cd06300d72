#!/usr/bin/env bash
# Tray app tests: installs what they need (Debian packages, playwright-core), builds the app,
# runs the GUI tests under Xvfb, a small run of the first-press benchmark (it works; no timing
# asserted) and the settings-window tests in headless Chromium.
# On macOS only the settings-window tests run: the GUI suite drives an X11 tray (Xvfb, trayer,
# xdotool, xclip), which a Mac doesn't have.
#   bash tests/app/run.sh            # everything
# Env: CHROMIUM (the browser; default: scripts/find-chrome.sh), CARGO_TARGET_DIR (where the app is built),
# HARK_ASSETS (asset dir; the tiny model uses its lexicons; default and fetch as in scripts/test.sh),
# KEEP_TMP=1 (keep the GUI test's temp dir), HARK_SHOT=<png> (copy of the screenshot).
set -euo pipefail
cd "$(dirname "$0")/../.."

bash scripts/deps.sh   # Debian packages for the build, Xvfb, xdotool, trayer, chromium, …
command -v node >/dev/null || { echo "app tests: node is required" >&2; exit 1; }
CHROMIUM="${CHROMIUM:-$(bash scripts/find-chrome.sh)}"
export CHROMIUM
settings_window_tests() {
  echo "== settings window tests (headless $(basename "$CHROMIUM"))" >&2
  (cd tests/app/ui && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund; } && node --test)
}
if [ "$(uname -s)" = Darwin ]; then
  settings_window_tests
  echo "== tray app tests (Xvfb): skipped on macOS, they drive an X11 tray with Xvfb, trayer and xdotool." \
       "The app's macOS code is type-checked by scripts/check-macos.sh; try the app with scripts/run.sh." >&2
  exit 0
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# The tiny test model still needs the real lexicons (same asset cache as scripts/test.sh).
export HARK_ASSETS="${HARK_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/hark/assets}"
if [ ! -f "$HARK_ASSETS/lexicons/us_gold.json" ]; then
  echo "== no lexicons in $HARK_ASSETS: fetching the model assets" >&2
  cargo run -q -p hark-cli -- fetch
fi
echo "== build hark-app" >&2
cargo build -p hark-app --features test-hooks
export HARK_APP_BIN="$CARGO_TARGET_DIR/debug/hark-app"

settings_window_tests

echo "== tray app tests (Xvfb)" >&2
node --test tests/app/gui.test.mjs tests/app/hotkeys.test.mjs
echo "== first-press benchmark, small run (Xvfb, tiny model, stand-in sound card)" >&2
node --test tests/app/first-press.test.mjs
