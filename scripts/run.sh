#!/usr/bin/env bash
# Set up and run hark: system packages, a release build, the model assets, then
#   - with a display: the tray app (Hark), which speaks the selection on its hotkey;
#   - without one:    the headless daemon (`hark serve`: warm engine + localhost bridge).
#   scripts/run.sh "Text to speak"   speaks that text once instead (HARK_OUT=file.wav writes a WAV).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
if [ $# -gt 0 ]; then
  cargo build --release -p hark-cli
  ./target/release/hark fetch
  if [ -n "${HARK_OUT:-}" ]; then
    exec ./target/release/hark say --out "$HARK_OUT" "$*"
  fi
  exec ./target/release/hark say "$*"
fi
cargo build --release -p hark-cli -p hark-app
./target/release/hark fetch
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec ./target/release/hark-app
fi
echo "run: no display; starting the headless daemon (hark serve)" >&2
exec ./target/release/hark serve
