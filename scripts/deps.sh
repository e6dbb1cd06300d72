#!/usr/bin/env bash
# Installs or checks what hark needs to build and test (idempotent).
#   Debian/Ubuntu: system packages with apt (needs root or sudo).
#   macOS: the Xcode Command Line Tools (required: `xcode-select --install`), and from
#          Homebrew libopus (required) and espeak-ng (optional for English; it reads es, fr-fr, it,
#          pt-br and hi).
# Both: a Rust toolchain (cargo), pip and npm (model assets from the package registries), the
# `openai` Python package (the bridge's OpenAI-compatibility test drives the real client).
set -euo pipefail

if [ "$(uname -s)" = Darwin ]; then
  if ! xcode-select -p >/dev/null 2>&1; then
    echo "deps: the Xcode Command Line Tools are required (compiler, linker, macOS SDK): run \`xcode-select --install\`" >&2
    exit 1
  fi
  # libopus (the bridge's Opus encoder links it) is required: from Homebrew.
  if ! { command -v brew >/dev/null && brew list opus >/dev/null 2>&1; }; then
    if command -v brew >/dev/null; then
      echo "deps: installing opus (libopus, required) with Homebrew" >&2
      brew install opus >&2
    else
      echo "deps: libopus is required to build hark: install Homebrew (https://brew.sh), then \`brew install opus\`" >&2
      exit 1
    fi
  fi
  # espeak-ng: the fallback for English words the lexicons don't have, and the reader of es, fr-fr,
  # it, pt-br and hi (without it those languages give a clear error).
  if command -v espeak-ng >/dev/null; then
    :
  elif command -v brew >/dev/null; then
    echo "deps: installing espeak-ng (optional) with Homebrew" >&2
    brew install espeak-ng >&2 || echo "deps: espeak-ng could not be installed; hark works without it" >&2
  else
    echo "deps: no Homebrew, so no espeak-ng (optional: without it, words missing from the lexicons are pronounced by a simpler built-in rule set)" >&2
  fi
else
  pkgs=(
    # build: audio, the tray app (Tauri v2 / WebKitGTK), TLS
    pkg-config libasound2-dev libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev
    libsoup-3.0-dev libxdo-dev libssl-dev
    # build: the bridge's Opus encoder links libopus; its MP3 encoder builds LAME's bundled C with make
    libopus-dev make
    # the matrix-product engine hark loads at run time when present (macOS uses Accelerate)
    libopenblas-dev
    # run: the espeak-ng program (reads es, fr-fr, it, pt-br, hi; fallback for unknown English words;
    # the goldens were made with it)
    espeak-ng
    # tests: virtual X display, keys and clicks, selections, tray, screenshots, browser,
    # an independent decoder for the bridge's audio formats
    xvfb xauth xdotool xclip trayer dbus-x11 x11-utils imagemagick chromium alsa-utils ffmpeg
  )
  bash "$(dirname "$0")/apt-install.sh" "${pkgs[@]}"
fi
command -v cargo >/dev/null || { echo "deps: cargo (Rust toolchain) is required" >&2; exit 1; }
command -v pip >/dev/null || command -v pip3 >/dev/null || { echo "deps: pip is required to fetch model assets from the package registries" >&2; exit 1; }
# The bridge's OpenAI-compatibility test drives the unmodified `openai` Python client.
if ! python3 -c "import openai" 2>/dev/null; then
  echo "deps: installing the openai Python package" >&2
  if [ "$(uname -s)" = Darwin ]; then
    # Per user: the Command Line Tools' Python is not ours to change, Homebrew's refuses global installs.
    python3 -m pip install -q --disable-pip-version-check --user openai >&2 \
      || python3 -m pip install -q --disable-pip-version-check --user --break-system-packages openai >&2
  else
    python3 -m pip install -q --disable-pip-version-check openai >&2
  fi
fi
command -v npm >/dev/null || { echo "deps: npm is required to fetch the voice packs from the package registry" >&2; exit 1; }
