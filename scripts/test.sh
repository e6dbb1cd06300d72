#!/usr/bin/env bash
# Set up and run every test: system packages, real model assets (cached), the workspace's Rust tests,
# the Mac build's type-check and lint, the extension's browser tests and the tray app's GUI tests. Every suite runs; the exit status is
# non-zero if any failed.
# Model assets are cached in $HARK_ASSETS (default: ~/.cache/hark/assets) so later runs skip the download.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export HARK_ASSETS="${HARK_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/hark/assets}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Tests that need real assets fail (instead of skipping) when they are missing.
export HARK_REQUIRE_ASSETS=1
export HARK_LEXICON_DIR="$HARK_ASSETS/lexicons"

echo "== fetch model assets into $HARK_ASSETS" >&2
cargo run -q -p hark-cli -- fetch
cargo run -q -p hark-cli -- fetch --verify

failed=()
suite() {
  local name="$1"; shift
  echo "== $name" >&2
  if ! "$@"; then
    failed+=("$name")
  fi
}
suite "rust tests (cargo test --workspace)" cargo test --workspace --no-fail-fast -- --test-threads 2
suite "macOS build: type-check and clippy for aarch64-apple-darwin (scripts/check-macos.sh)" bash scripts/check-macos.sh
suite "extension tests (headless Chromium against the real bridge)" bash tests/extension/run.sh
suite "tray app tests (Xvfb, headless Chromium)" bash tests/app/run.sh

if ((${#failed[@]})); then
  printf 'FAILED suite: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "all test suites passed" >&2
