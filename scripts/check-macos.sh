#!/usr/bin/env bash
# Checks the Mac build: type-checks and lints the whole workspace for Apple Silicon macOS
# (aarch64-apple-darwin), every crate and every target (libs, binaries, tests, examples,
# benches), with the features a Mac build has by default. Clippy runs the compiler's full
# check plus its lints, so one pass does both. Fails on any error, and on any warning in our
# crates (`-D warnings` reaches only workspace crates; cargo caps the lints of dependencies).
#
# On Linux nothing is linked or run, only Rust is checked:
#   - Debian's rustc-web, cargo-web and rust-web-clippy (one version), with that version's std
#     sources (rust-web-src), build std for the Apple target (-Zbuild-std, allowed on a stable
#     compiler by RUSTC_BOOTSTRAP=1); installed with apt when missing (waits for the dpkg lock);
#   - C and Objective-C that build scripts compile goes to a stand-in compiler that writes
#     empty objects: nothing is linked, so frameworks and symbols are not checked.
# On a Mac: a native `cargo clippy` with the same flags.
#
# Usage: scripts/check-macos.sh [extra cargo args, e.g. -p hark-app]
# Env: HARK_MACOS_TARGET_DIR, the build cache (default: ${CARGO_TARGET_DIR:-target}/macos-check;
#      kept apart because std is rebuilt for the target there with another compiler);
#      HARK_RUST_WEB_BIN, where the rustc-web tools are (default: /usr/bin).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
TARGET=aarch64-apple-darwin
scope=--workspace   # all of it, unless packages are named (a plain word: macOS's bash 3.2 and set -u)
for a in "$@"; do
  case "$a" in -p|-p*|--package|--package=*) scope= ;; esac
done

if [ "$(uname -s)" = Darwin ]; then
  echo "== check-macos: cargo clippy (native)" >&2
  exec cargo clippy $scope --all-targets --locked "$@" -- -D warnings
fi

# --- the toolchain: Debian packages of one Rust version, with its std sources ---------------
bash scripts/apt-install.sh rustc-web cargo-web rust-web-src rust-web-clippy binutils
v_rustc="$(dpkg-query -W -f='${Version}' rustc-web)"
v_src="$(dpkg-query -W -f='${Version}' rust-web-src)"
[ "$v_rustc" = "$v_src" ] || { echo "check-macos: rustc-web $v_rustc and rust-web-src $v_src differ" >&2; exit 1; }

export CARGO_TARGET_DIR="${HARK_MACOS_TARGET_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/macos-check}"
mkdir -p "$CARGO_TARGET_DIR/tools"

# --- the stand-in C compiler (a fixed path, so cached build-script runs stay valid) ----------
cc="$CARGO_TARGET_DIR/tools/cc"
cat > "$cc.new" <<'CC'
#!/bin/sh
# Answers cc-rs's probes like clang and writes an empty file wherever an object is asked for.
out=""; prev=""; preprocess=""
for arg in "$@"; do
  [ "$prev" = "-o" ] && out="$arg"
  case "$arg" in
    -o?*) out="${arg#-o}" ;;
    -E) preprocess=1 ;;
    "-?") exit 1 ;;            # a clang-cl probe: not us
  esac
  prev="$arg"
done
if [ -n "$preprocess" ]; then echo '"clang"'; exit 0; fi   # compiler-family probe
[ -z "$out" ] || : > "$out"
CC
chmod +x "$cc.new"
cmp -s "$cc.new" "$cc" 2>/dev/null && rm "$cc.new" || mv "$cc.new" "$cc"

# --- the check -------------------------------------------------------------------------------
# Debian's tools first (rustup's proxies would pick another compiler), nothing inherited that
# would change how crates are compiled.
bin="${HARK_RUST_WEB_BIN:-/usr/bin}"
export PATH="$bin:/usr/bin:/bin:/usr/sbin:/sbin:$PATH"
export RUSTC="$bin/rustc" RUSTDOC="$bin/rustdoc"
unset RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER RUSTUP_TOOLCHAIN CARGO RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_TARGET
export RUSTC_BOOTSTRAP=1
export CC_aarch64_apple_darwin="$cc" CXX_aarch64_apple_darwin="$cc" AR_aarch64_apple_darwin=ar
export MACOSX_DEPLOYMENT_TARGET=11.0
# mp3lame-encoder's build script runs LAME's ./configure, which the stand-in compiler cannot pass;
# it skips its C build under docs.rs, and nothing is linked here anyway.
export DOCS_RS=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== check-macos: $("$bin/cargo-clippy" --version) on $("$RUSTC" --version | cut -d' ' -f1-2), $TARGET, cache $CARGO_TARGET_DIR" >&2
start=$(date +%s)
status=0
"$bin/cargo" clippy -Zbuild-std=std,panic_abort --target "$TARGET" --locked --keep-going \
  $scope --all-targets "$@" -- -D warnings || status=$?
echo "== check-macos: $([ $status -eq 0 ] && echo clean || echo FAILED) in $(( $(date +%s) - start )) s" >&2
exit $status
