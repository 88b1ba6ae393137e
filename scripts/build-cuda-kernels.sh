#!/usr/bin/env bash
# Compiles native/src/main/cuda/*.cu into one fatbin per source (SASS for every supported GPU generation plus
# PTX for the newest, which newer GPUs JIT), and records a hash of the sources and flags next to them.
# The fatbins are committed: builds without nvcc still ship kernels; CudaKernelsFreshnessTest fails when they
# are stale. Usage: scripts/build-cuda-kernels.sh [OUT_DIR]   (default: the resource folder)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
src="$root/native/src/main/cuda"
out="${1:-$root/native/src/main/resources/dev/trestle/nativ/cuda/kernels}"
NVCC="${NVCC:-nvcc}"
command -v "$NVCC" >/dev/null 2>&1 || { echo "build-cuda-kernels: nvcc not found (set NVCC or install the CUDA toolkit)" >&2; exit 1; }
# sm_75 (Turing) is the oldest architecture CUDA 13 targets; PTX for sm_120 lets later GPUs JIT.
GENCODE=(
  -gencode arch=compute_75,code=sm_75
  -gencode arch=compute_80,code=sm_80
  -gencode arch=compute_86,code=sm_86
  -gencode arch=compute_89,code=sm_89
  -gencode arch=compute_90,code=sm_90
  -gencode arch=compute_100,code=sm_100
  -gencode arch=compute_120,code=[sm_120,compute_120]
)
FLAGS=(-O3 -std=c++17 --fatbin)
mkdir -p "$out"
jobs="${TRESTLE_NVCC_JOBS:-2}"
ls "$src"/*.cu | xargs -P "$jobs" -I{} sh -c 'f="$1"; shift; n=$(basename "$f" .cu); "$@" -o "'"$out"'/$n.fatbin" "$f"' _ {} "$NVCC" "${FLAGS[@]}" "${GENCODE[@]}"
# The manifest: one line per source with its SHA-256, then the flags; the freshness test recomputes it.
{
  echo "# trestle CUDA kernels: sources and flags this folder's fatbins were built from (scripts/build-cuda-kernels.sh)"
  echo "flags ${FLAGS[*]} ${GENCODE[*]}"
  (cd "$src" && for f in $(ls *.cu *.cuh | LC_ALL=C sort); do echo "source $(sha256sum "$f" | cut -d' ' -f1) $f"; done)
} > "$out/kernels.manifest"
echo "build-cuda-kernels: $(ls "$out"/*.fatbin | wc -l) fatbins in $out"
