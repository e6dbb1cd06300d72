#!/usr/bin/env bash
# Browser tests of the hark extension: headless Chromium (Debian's package) driven by
# playwright-core, against the real bridge (`hark serve`, tiny model) built from this workspace,
# paired through Chrome native messaging (the host manifest goes into the test profile).
# Installs what it needs: chromium (apt) if missing, node modules (npm ci).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
bash "$REPO/scripts/deps.sh"   # Debian packages, chromium among them
command -v node >/dev/null || { echo "node (>= 20) is required" >&2; exit 1; }
cd "$HERE"
npm ci --no-audit --no-fund --loglevel=error
echo "== building hark (the bridge runs as \`hark serve --tiny\`)" >&2
(cd "$REPO" && cargo build -q -p hark-cli)
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
export HARK_BIN="$TARGET/debug/hark"
# The tiny model still needs the real lexicons (same asset cache as scripts/test.sh).
export HARK_ASSETS="${HARK_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/hark/assets}"
echo "== extension tests (node --test)" >&2
node --test --test-concurrency=1 "$HERE"/*.test.mjs
