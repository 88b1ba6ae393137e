#!/usr/bin/env bash
# Times the same synthetic GGUF files with llama.cpp's llama-bench and with `trestle bench`, on this machine,
# with the same thread count, and prints one table: t/s of both and the ratio trestle / llama.cpp.
#
#   scripts/bench-vs-llamacpp.sh LLAMA_BENCH_BINARY [-t THREADS] [-r REPS] [-p N_PROMPT] [-n N_GEN]
#                                [-s "SPEC SPEC ..."] [--cache-dir DIR] [--out DIR]
#
# SPECs are `trestle bench --synthetic` specs (default: llama:1B in Q4_0, Q8_0 and Q4_K_M, and a 16-layer,
# 32-expert qwen3moe 30B-A3B in Q4_K_M). Trestle writes each file once (cached in --cache-dir); llama-bench then
# reads the very same file. This script never builds llama.cpp: pass the path of a llama-bench you have.
# It needs python3 to join the two JSON outputs.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 LLAMA_BENCH_BINARY [-t THREADS] [-r REPS] [-p N_PROMPT] [-n N_GEN] [-s \"SPECS\"] [--cache-dir DIR] [--out DIR]" >&2
  echo "fix: pass the path of an executable llama-bench (llama.cpp's build/bin/llama-bench)" >&2
  exit 2
fi
llama_bench=$(readlink -f "$1"); shift
threads=$(nproc)
reps=3
n_prompt=512
n_gen=128
specs="llama:1B:Q4_0 llama:1B:Q8_0 llama:1B:Q4_K_M qwen3moe:30B-A3B:Q4_K_M:16L:32E"
cache_dir="${TMPDIR:-/tmp}/trestle-synthetic"
out_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    -t) threads=$2; shift 2 ;;
    -r) reps=$2; shift 2 ;;
    -p) n_prompt=$2; shift 2 ;;
    -n) n_gen=$2; shift 2 ;;
    -s) specs=$2; shift 2 ;;
    --cache-dir) cache_dir=$2; shift 2 ;;
    --out) out_dir=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
command -v python3 >/dev/null || { echo "fix: install python3 (used to join the JSON results)" >&2; exit 2; }
work=${out_dir:-$(mktemp -d)}
mkdir -p "$work"

echo "machine: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs; threads $threads, -r $reps" >&2
i=0
for spec in $specs; do
  i=$((i + 1))
  echo "[$spec] trestle bench ..." >&2
  "$root/scripts/trestle" bench --synthetic "$spec" --cache-dir "$cache_dir" -t "$threads" -r "$reps" \
      -p "$n_prompt" -n "$n_gen" -o json > "$work/trestle-$i.json"
  file=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["model_filename"])' "$work/trestle-$i.json")
  echo "[$spec] llama-bench on $file ..." >&2
  "$llama_bench" -m "$file" -t "$threads" -r "$reps" -p "$n_prompt" -n "$n_gen" -o json > "$work/llama-$i.json" 2> "$work/llama-$i.err" \
      || { cat "$work/llama-$i.err" >&2; exit 1; }
  echo "$spec" > "$work/spec-$i.txt"
done

python3 - "$work" "$i" <<'PY'
import json, sys
work, count = sys.argv[1], int(sys.argv[2])
print("| model | size | test | llama.cpp t/s | trestle t/s | ratio |")
print("|---|---:|---|---:|---:|---:|")
for i in range(1, count + 1):
    spec = open(f"{work}/spec-{i}.txt").read().strip()
    tr = {(r["n_prompt"], r["n_gen"]): r for r in json.load(open(f"{work}/trestle-{i}.json"))}
    ll = {(r["n_prompt"], r["n_gen"]): r for r in json.load(open(f"{work}/llama-{i}.json"))}
    for key in sorted(tr, key=lambda k: (k[1], k[0])):
        if key not in ll:
            continue
        t, l = tr[key], ll[key]
        test = f"pp{key[0]}" if key[1] == 0 else f"tg{key[1]}" if key[0] == 0 else f"pp{key[0]}+tg{key[1]}"
        size = f'{t["model_size"] / 2**30:.2f} GiB'
        print(f'| {spec} | {size} | {test} | {l["avg_ts"]:.2f} ± {l["stddev_ts"]:.2f} | '
              f'{t["avg_ts"]:.2f} ± {t["stddev_ts"]:.2f} | {t["avg_ts"] / l["avg_ts"]:.3f} |')
PY
echo "raw JSON: $work" >&2
