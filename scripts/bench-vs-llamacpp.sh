#!/usr/bin/env bash
# Times the same synthetic GGUF files with llama.cpp's llama-bench and with `trestle bench`, on this machine,
# with the same thread count, and prints one table: t/s of both and the ratio trestle / llama.cpp.
#
#   scripts/bench-vs-llamacpp.sh LLAMA_BENCH_BINARY [-t THREADS] [-r REPS] [-p N_PROMPT] [-n N_GEN]
#                                [-s "SPEC SPEC ..."] [--rounds N] [--cache-dir DIR] [--out DIR]
#
# SPECs are `trestle bench --synthetic` specs (default: llama:1B in Q4_0, Q8_0 and Q4_K_M, and a 16-layer,
# 32-expert qwen3moe 30B-A3B in Q4_K_M). Trestle writes each file once (cached in --cache-dir); llama-bench then
# reads the very same file. This script never builds llama.cpp: pass the path of a llama-bench you have.
# --rounds N runs the pair (trestle, then llama-bench) N times per file, alternating, and reports the median of
# each runtime's per-round t/s and the range of the per-round ratios: on a shared host the memory bandwidth, and
# with it decode speed, drifts by 10% within minutes, so one back-to-back pair can mislead.
# It needs python3 to join the two JSON outputs.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 LLAMA_BENCH_BINARY [-t THREADS] [-r REPS] [-p N_PROMPT] [-n N_GEN] [-s \"SPECS\"] [--rounds N] [--cache-dir DIR] [--out DIR]" >&2
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
rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    -t) threads=$2; shift 2 ;;
    -r) reps=$2; shift 2 ;;
    -p) n_prompt=$2; shift 2 ;;
    -n) n_gen=$2; shift 2 ;;
    -s) specs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
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
  for round in $(seq 1 "$rounds"); do
    echo "[$spec] round $round: trestle bench ..." >&2
    "$root/scripts/trestle" bench --synthetic "$spec" --cache-dir "$cache_dir" -t "$threads" -r "$reps" \
        -p "$n_prompt" -n "$n_gen" -o json > "$work/trestle-$i-$round.json"
    file=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["model_filename"])' "$work/trestle-$i-$round.json")
    echo "[$spec] round $round: llama-bench on $file ..." >&2
    "$llama_bench" -m "$file" -t "$threads" -r "$reps" -p "$n_prompt" -n "$n_gen" -o json > "$work/llama-$i-$round.json" \
        2> "$work/llama-$i.err" || { cat "$work/llama-$i.err" >&2; exit 1; }
  done
  echo "$spec" > "$work/spec-$i.txt"
done

python3 - "$work" "$i" "$rounds" <<'PY'
import json, statistics, sys
work, count, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if rounds == 1:
    print("| model | size | test | llama.cpp t/s | trestle t/s | ratio |")
    print("|---|---:|---|---:|---:|---:|")
else:
    print(f"| model | size | test | llama.cpp t/s (median of {rounds}) | trestle t/s (median of {rounds}) "
          "| ratio of medians | per-round ratios |")
    print("|---|---:|---|---:|---:|---:|---|")
def load(path):
    return {(r["n_prompt"], r["n_gen"]): r for r in json.load(open(path))}
for i in range(1, count + 1):
    spec = open(f"{work}/spec-{i}.txt").read().strip()
    trs = [load(f"{work}/trestle-{i}-{k}.json") for k in range(1, rounds + 1)]
    lls = [load(f"{work}/llama-{i}-{k}.json") for k in range(1, rounds + 1)]
    for key in sorted(trs[0], key=lambda k: (k[1], k[0])):
        if key not in lls[0]:
            continue
        test = f"pp{key[0]}" if key[1] == 0 else f"tg{key[1]}" if key[0] == 0 else f"pp{key[0]}+tg{key[1]}"
        size = f'{trs[0][key]["model_size"] / 2**30:.2f} GiB'
        if rounds == 1:
            t, l = trs[0][key], lls[0][key]
            print(f'| {spec} | {size} | {test} | {l["avg_ts"]:.2f} ± {l["stddev_ts"]:.2f} | '
                  f'{t["avg_ts"]:.2f} ± {t["stddev_ts"]:.2f} | {t["avg_ts"] / l["avg_ts"]:.3f} |')
        else:
            ts = [r[key]["avg_ts"] for r in trs]
            ls = [r[key]["avg_ts"] for r in lls]
            per = ", ".join(f"{t / l:.2f}" for t, l in zip(ts, ls))
            tm, lm = statistics.median(ts), statistics.median(ls)
            print(f"| {spec} | {size} | {test} | {lm:.2f} | {tm:.2f} | {tm / lm:.3f} | {per} |")
PY
echo "raw JSON: $work" >&2
