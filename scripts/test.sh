#!/usr/bin/env bash
# Set up and run every test: system packages, real model assets (cached), the whole workspace's tests.
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
echo "== cargo test --workspace" >&2
cargo test --workspace --no-fail-fast -- --test-threads 2
echo "== extension tests (headless Chromium against the real bridge)" >&2
bash tests/extension/run.sh
