#!/usr/bin/env bash
# Installs those of the named Debian packages that are not installed yet (apt-get; root or sudo).
# Waits (up to 15 minutes) while another install holds the dpkg/apt lock.
#   scripts/apt-install.sh PACKAGE...
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "apt-install: installing ${missing[*]}" >&2
apt_get() {
  local i
  for i in $(seq 1 90); do
    if $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=10 "$@" >&2; then return 0; fi
    sleep 10
  done
  echo "apt-install: apt-get $* kept failing" >&2
  return 1
}
apt_get -qq update
apt_get install -y -qq --no-install-recommends "${missing[@]}"
