#!/usr/bin/env bash
# GPU check for the CUDA backend, run on a machine with an NVIDIA GPU and driver r580+ (CI has none):
#   1. builds Trestle (Maven, tests skipped) and lists the devices (CUDA must be available);
#   2. runs the CUDA op tests (every kernel vs the CPU backend; cuBLAS or wmma GEMM as GemmPath picks; peer
#      links on every route; staged uploads) and the llama.cpp parity suite on CUDA (-ngl 99, -ngl 2,
#      --tensor-split 60,40 and -sm row -ts 60,40 over the same GPU opened twice, GPU-to-GPU copies forced
#      through pinned host memory, CUDA graphs off, F16 and quantized models, MoE models with experts on the
#      CPU and with them streamed to the GPU for prefill); the parity lines go to $OUT/parity.txt;
#   3. drives the CLI: greedy runs with -ngl 99, -ngl 2 and --n-cpu-moe 1 compared with the CPU (-ngl 0);
#   4. trestle bench on a larger synthetic model (when this build has the bench command), then the same with
#      CUDA graphs off and with cuBLAS off, to see what each is worth.
# Writes gpu-check-summary.md and the logs to $OUT when set (else to ./gpu-check-out). Exit status: 0 when
# every required step passed. Budget: under 8 minutes on an H200 (each step has its own timeout).
set -uo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
out="${OUT:-$root/gpu-check-out}"
mkdir -p "$out"
summary="$out/gpu-check-summary.md"
. "$root/scripts/lib/jdk.sh"
trestle_find_jdk
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
shared="${TRESTLE_SHARED:-$root/../shared}"
mvn_shared=()
[ -n "${TRESTLE_SHARED:-}" ] && mvn_shared=("-Dtrestle.shared=$TRESTLE_SHARED")
failed=0
start_all=$(date +%s)

{
  echo "# Trestle GPU check"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if command -v nvidia-smi >/dev/null 2>&1; then
    echo "- GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | paste -sd ';')"
  else
    echo "- GPU: nvidia-smi not found"
  fi
  echo
  echo "| step | result | seconds | detail |"
  echo "|---|---|---|---|"
} > "$summary"

# step NAME REQUIRED(1|0) TIMEOUT_S COMMAND...: runs one step with its log in $out/NAME.log
step() {
  local name=$1 required=$2 limit=$3
  shift 3
  local t0 rc result detail
  t0=$(date +%s)
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then result=PASS; elif [ $rc -eq 124 ]; then result="TIMEOUT (${limit}s)"; else result="FAIL (rc $rc)"; fi
  detail=$(grep -E "PARITY|Tests run:|MATCH|DIFFER|t/s|unavailable" "$out/$name.log" | tail -n 3 | tr '|\n' '/ ' | cut -c1-300)
  echo "| $name | $result | $(( $(date +%s) - t0 )) | $detail |" >> "$summary"
  echo "gpu-check: $name: $result"
  if [ $rc -ne 0 ] && [ "$required" = 1 ]; then
    failed=1
  fi
  return $rc
}

step build 1 300 mvn -B -q -DskipTests package -pl server -am || { cat "$summary"; exit 1; }
trestle=(env TRESTLE_NO_BUILD=1 "$root/scripts/trestle")

check_devices() {
  "${trestle[@]}" devices
  "${trestle[@]}" devices | grep -qE '^CUDA0 '
}
step devices 1 60 check_devices || { cat "$summary"; exit 1; }

# The op tests must run, not skip: surefire's report for CudaOpsTest has to show no skipped test.
cuda_tests() {
  mvn -B -pl native,backends,scheduler,engine verify "${mvn_shared[@]}" -Dsurefire.failIfNoSpecifiedTests=false \
      -Dtest='CudaDriverTest,KernelArgsTest,CudaKernelsTest,CudaProbeTest,LaunchConfigTest,CudaKernelNamesTest,CudaOpsTest,CudaParityTest' || return 1
  for r in backends/target/surefire-reports/dev.trestle.backends.cuda.CudaOpsTest.txt \
           engine/target/surefire-reports/dev.trestle.engine.cuda.CudaParityTest.txt; do
    grep -q "Skipped: 0" "$r" || { echo "$r: tests were skipped (no GPU visible to the JVM?)"; return 1; }
  done
}
step cuda-tests 1 330 cuda_tests

# One line per parity case (model, placement, worst logit difference) and the GEMM path each weight type took.
parity_lines() {
  grep -hE "CUDA PARITY|GEMM PATH" "$out/cuda-tests.log" | sed 's/^\[[A-Z]*\] //' > "$out/parity.txt"
  cat "$out/parity.txt"
  local n rows
  n=$(grep -c "CUDA PARITY" "$out/parity.txt")
  rows=$(grep -c -- "-sm row" "$out/parity.txt")
  echo "PARITY $n cases printed, $rows with -sm row"
  [ "$n" -gt 0 ] && [ "$rows" -gt 0 ]
}
step parity-lines 0 10 parity_lines

# Greedy CLI runs on the GPU vs the CPU: exit status required; token agreement reported (ties may flip).
greedy() {
  local model=$1
  shift
  "${trestle[@]}" run -m "$model" --prompt-ids 1,5,9,17,33 -n 24 --temp 0 --json "$@" \
      | grep -o '"generated_ids" *: *\[[^]]*\]' || { echo "no generated_ids in the output"; return 1; }
}
compare_cli() {
  local model=$1
  shift
  local cpu gpu
  cpu=$(greedy "$model" -ngl 0) || return 1
  gpu=$(greedy "$model" "$@") || return 1
  echo "cpu: $cpu"
  echo "gpu ($*): $gpu"
  if [ "$cpu" = "$gpu" ]; then echo "MATCH $*"; else echo "DIFFER $* (see log; the parity suite is the authority)"; fi
}
step cli-ngl99 1 90 compare_cli "$shared/models/quant/llama-dense-rescaled-q4_k_m.gguf" -ngl 99
step cli-ngl2 1 90 compare_cli "$shared/models/archs/qwen3-dense-rescaled-f16.gguf" -ngl 2
step cli-n-cpu-moe 1 90 compare_cli "$shared/models/archs/qwen3moe-moe-rescaled-f16.gguf" -ngl 99 --n-cpu-moe 1

bench() {
  if ! "${trestle[@]}" bench --help >/dev/null 2>&1; then
    echo "SKIPPED: this build has no 'trestle bench' command (merge the bench branch)"
    return 0
  fi
  "${trestle[@]}" bench --synthetic "${TRESTLE_BENCH_MODEL:-llama:1B:Q4_K_M}" -ngl 99 -p 512 -n 128 -r 2 -o md
}
step bench 0 150 bench

# What CUDA graphs (decode) and cuBLAS (prefill) are worth: the same bench without each, one repetition.
bench_without() {
  if ! "${trestle[@]}" bench --help >/dev/null 2>&1; then
    echo "SKIPPED: no 'trestle bench' command"
    return 0
  fi
  echo "## without CUDA graphs (t/s)"
  TRESTLE_CUDA_DISABLE_GRAPHS=1 "${trestle[@]}" bench --synthetic "${TRESTLE_BENCH_MODEL:-llama:1B:Q4_K_M}" -ngl 99 \
      -p 512 -n 64 -r 1 -o md || return 1
  echo "## without cuBLAS (t/s)"
  TRESTLE_CUDA_NO_CUBLAS=1 "${trestle[@]}" bench --synthetic "${TRESTLE_BENCH_MODEL:-llama:1B:Q4_K_M}" -ngl 99 \
      -p 512 -n 64 -r 1 -o md
}
step bench-without 0 100 bench_without

echo >> "$summary"
echo "total: $(( $(date +%s) - start_all )) s; result: $([ $failed = 0 ] && echo PASS || echo FAIL)" >> "$summary"
cat "$summary"
exit $failed
