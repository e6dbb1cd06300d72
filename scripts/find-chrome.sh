#!/usr/bin/env bash
# Prints the path of a Chrome-family browser for the browser tests (playwright-core drives it;
# the extension tests load the unpacked extension from the command line).
#   $CHROMIUM if set;
#   Linux: Debian's chromium (scripts/deps.sh installs it);
#   macOS: Chromium, then Chrome for Testing (in /Applications or ~/Applications), then
#          Playwright's own Chromium build (installed by playwright-core into
#          ~/Library/Caches/ms-playwright on first use), and last Google Chrome, with a warning:
#          since version 137 branded Chrome ignores --load-extension.
set -euo pipefail
cd "$(dirname "$0")/.."
found() { printf '%s\n' "$1"; exit 0; }

if [ -n "${CHROMIUM:-}" ]; then
  [ -x "$CHROMIUM" ] && found "$CHROMIUM"
  echo "find-chrome: CHROMIUM=$CHROMIUM is not an executable" >&2
  exit 1
fi
if [ "$(uname -s)" != Darwin ]; then
  for c in /usr/bin/chromium /usr/bin/chromium-browser; do
    [ -x "$c" ] && found "$c"
  done
  echo "find-chrome: no chromium: install it (apt install chromium, or scripts/deps.sh) or set CHROMIUM" >&2
  exit 1
fi

for app in "Chromium.app/Contents/MacOS/Chromium" \
           "Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing"; do
  for dir in /Applications "$HOME/Applications"; do
    [ -x "$dir/$app" ] && found "$dir/$app"
  done
done
pw=tests/extension   # has playwright-core as its one dependency
if (cd "$pw" && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error >&2; }); then
  exe="$(cd "$pw" && node -e 'process.stdout.write(require("playwright-core").chromium.executablePath())')"
  if [ ! -x "$exe" ]; then
    echo "find-chrome: installing Playwright's Chromium build" >&2
    (cd "$pw" && npx --no-install playwright-core install chromium >&2) || true
  fi
  [ -x "$exe" ] && found "$exe"
fi
for dir in /Applications "$HOME/Applications"; do
  c="$dir/Google Chrome.app/Contents/MacOS/Google Chrome"
  if [ -x "$c" ]; then
    echo "find-chrome: falling back to Google Chrome, which ignores --load-extension since version 137:" \
         "the extension tests need Chromium (brew install --cask chromium) or Chrome for Testing" >&2
    found "$c"
  fi
done
echo "find-chrome: no Chrome or Chromium found: install Chromium (brew install --cask chromium) or set CHROMIUM" >&2
exit 1
