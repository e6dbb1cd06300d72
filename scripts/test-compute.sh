#!/usr/bin/env bash
# The model's parity and stream tests (and its kernel unit tests) on every matrix-product backend and
# every CPU level this machine can run, lower levels forced on a CPU that has higher ones, so that no
# code path ships untested to a machine that would take it. The default pairing (auto backend, best
# level) runs in the workspace's own `cargo test`; this runs the others:
#   Linux x86-64: the built-in `gemm` kernels at avx512 (if the CPU has it), avx2 and scalar;
#                 OpenBLAS with its AVX2 (Haswell) kernels and our avx2 loops.
#   macOS:        the built-in kernels at neon and scalar (Accelerate is the default there).
# Tolerances are the tests' own: nothing is loosened per backend.
set -euo pipefail
cd "$(dirname "$0")/.."
export HARK_ASSETS="${HARK_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/hark/assets}"

runs=()   # "HARK_GEMM HARK_CPU OPENBLAS_CORETYPE"
if [ "$(uname -s)" = Darwin ]; then
  runs+=("gemm neon -" "gemm scalar -")
else
  flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
  has() { [[ " $flags " == *" $1 "* ]]; }
  if has avx512f && has avx2 && has fma; then runs+=("gemm avx512 -"); fi
  if has avx2 && has fma; then
    runs+=("gemm avx2 -")
    runs+=("openblas avx2 Haswell")
  fi
  runs+=("gemm scalar -")
fi

failed=()
for r in "${runs[@]}"; do
  read -r gemm cpu core <<<"$r"
  env_args=(HARK_GEMM="$gemm" HARK_CPU="$cpu")
  if [ "$core" != - ]; then env_args+=(OPENBLAS_CORETYPE="$core"); fi
  echo "== model tests with ${env_args[*]}" >&2
  if ! env "${env_args[@]}" cargo test -q -p hark-kokoro --lib --test kokoro_parity --test stream --test tiny \
      -- --test-threads 1; then
    failed+=("$gemm/$cpu")
  fi
done
if ((${#failed[@]})); then
  echo "model tests FAILED on: ${failed[*]}" >&2
  exit 1
fi
echo "model tests passed on: ${runs[*]}" >&2
