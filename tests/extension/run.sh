#!/usr/bin/env bash
# Browser tests of the hark extension: headless Chromium (Debian's package) driven by
# playwright-core, against the real bridge (tiny model) built from this workspace.
# Installs what it needs: chromium (apt) if missing, node modules (npm ci).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
bash "$REPO/scripts/deps.sh"   # Debian packages, chromium among them
command -v node >/dev/null || { echo "node (>= 20) is required" >&2; exit 1; }
cd "$HERE"
npm ci --no-audit --no-fund --loglevel=error
echo "== building the bridge test server" >&2
(cd "$REPO" && cargo build -q -p hark-bridge --example bridge-test-server)
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
export HARK_BRIDGE_TEST_SERVER="$TARGET/debug/examples/bridge-test-server"
echo "== extension tests (node --test)" >&2
node --test --test-concurrency=1 "$HERE"/*.test.mjs
