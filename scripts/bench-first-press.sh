#!/usr/bin/env bash
# First-press benchmark of the tray app: builds the release app and runs tests/app/first-press.mjs
# with the real model under Xvfb (hotkey → first non-silent sample at a stand-in sound card).
# Prints one JSON object on stdout; progress goes to stderr. Linux/X11 only.
#   bash scripts/bench-first-press.sh                      # 3 launches × 10 presses
#   bash scripts/bench-first-press.sh --launches 5 --presses 10 --gap-ms 5000
# Env: CARGO_TARGET_DIR (where the app is built), HARK_ASSETS (the model; default as scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(uname -s)" != Linux ]; then
  echo "bench-first-press: Linux only (it drives an X11 session with Xvfb and an ALSA stand-in card)" >&2
  exit 1
fi
for c in Xvfb trayer xclip dbus-launch python3 node; do
  command -v "$c" >/dev/null || { echo "bench-first-press: $c is missing: run scripts/deps.sh" >&2; exit 1; }
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export HARK_ASSETS="${HARK_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/hark/assets}"
if [ ! -f "$HARK_ASSETS/config.json" ]; then
  echo "== no model in $HARK_ASSETS: fetching it" >&2
  cargo run -q --release -p hark-cli -- fetch
fi
echo "== build hark-app (release)" >&2
cargo build --release -p hark-app --features test-hooks >&2
exec node tests/app/first-press.mjs --app "$CARGO_TARGET_DIR/release/hark-app" "$@"
