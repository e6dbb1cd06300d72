#!/usr/bin/env bash
# Set up and run hark: system packages (scripts/deps.sh), a release build, the model assets, then
#   - on macOS, or on Linux with a display: the tray app (Hark), which speaks the selection on its hotkey;
#   - on Linux without one:                 the headless daemon (`hark serve`: warm engine + localhost bridge).
#   scripts/run.sh "Text to speak"   speaks that text once instead (HARK_OUT=file.wav writes a WAV).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# macOS: the bridge's Opus encoder links Homebrew's libopus (installed by deps.sh).
if [ "$(uname -s)" = Darwin ] && command -v brew >/dev/null; then
  OPUS_LIB_DIR="$(brew --prefix opus)/lib"
  export OPUS_LIB_DIR
fi
bin="${CARGO_TARGET_DIR:-$PWD/target}/release"
if [ $# -gt 0 ]; then
  cargo build --release -p hark-cli
  "$bin/hark" fetch
  if [ -n "${HARK_OUT:-}" ]; then
    exec "$bin/hark" say --out "$HARK_OUT" "$*"
  fi
  exec "$bin/hark" say "$*"
fi
cargo build --release -p hark-cli -p hark-app
"$bin/hark" fetch
if [ "$(uname -s)" = Darwin ]; then
  # The bare binary, not an .app bundle: it still keeps out of the Dock (Accessory policy). macOS
  # asks for the Accessibility permission on behalf of the terminal that started it.
  echo "run: starting the menu-bar app; quit it from its menu" >&2
  exec "$bin/hark-app"
fi
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$bin/hark-app"
fi
echo "run: no display; starting the headless daemon (hark serve)" >&2
exec "$bin/hark" serve
