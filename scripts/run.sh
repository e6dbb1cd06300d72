#!/usr/bin/env bash
# Set up and run hark headless: system packages, a release build, the model assets, then speak.
#   scripts/run.sh "Text to speak"        # plays on the default audio device
#   HARK_OUT=hello.wav scripts/run.sh "…"  # writes a WAV file instead
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release -p hark-cli
./target/release/hark fetch
text="${*:-Hello! This is hark, reading locally with the Kokoro voice model.}"
if [ -n "${HARK_OUT:-}" ]; then
  ./target/release/hark say --out "$HARK_OUT" "$text"
else
  ./target/release/hark say "$text"
fi
