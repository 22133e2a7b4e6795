#!/usr/bin/env bash
# Time and output size of `vigie gen-rules` (rules, tests and dashboards) for
# 0 (the shipped thresholds file), 500, 10,000 and 100,000 overrides (each on
# instance + mountpoint, setting a warning and a critical level), and one table
# with the min / median / max wall time of several runs and the median CPU
# time (user + system). The runs are interleaved (one of each size per round),
# so a burst of load from other processes falls on every size alike; the load
# average before and after is printed under the table.
#   benches/gen_rules.sh            # 0, 500, 10000 and 100000 overrides
#   benches/gen_rules.sh 0 500      # only those
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(0 500 10000 100000)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
overrides() {
  echo "overrides:"
  for ((i = 0; i < $1; i++)); do
    printf "  - match: {instance: 'host%d.example.org:7361', mountpoint: /srv/data}\n    reason: host %d\n    filesystems: {free_percent: {warning: 3, critical: 1}}\n" "$i" "$i"
  done
}
file_of() { if [ "$1" = 0 ]; then echo rules/thresholds.yaml; else echo "$work/$1.yaml"; fi; }
runs_of() { if [ "$1" -ge 100000 ]; then echo 3; else echo 10; fi; }
declare -A wall cpu
for n in "${sizes[@]}"; do
  [ "$n" = 0 ] || overrides "$n" > "$work/$n.yaml"
  target/release/vigie gen-rules --thresholds "$(file_of "$n")" --out "$work/out$n" 2>/dev/null # warm-up
  wall[$n]=""; cpu[$n]=""
done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
TIMEFORMAT='%3R %3U %3S'
for ((r = 0; r < 10; r++)); do
  for n in "${sizes[@]}"; do
    [ "$r" -lt "$(runs_of "$n")" ] || continue
    rm -rf "$work/out$n"
    t=$( { time target/release/vigie gen-rules --thresholds "$(file_of "$n")" --out "$work/out$n" >/dev/null 2>&1; } 2>&1 )
    read -r real user sys <<< "$t"
    wall[$n]+="$(awk -v s="$real" 'BEGIN { printf "%d", s * 1000 + 0.5 }') "
    cpu[$n]+="$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%d", (u + s) * 1000 + 0.5 }') "
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p bench-results
{
  echo "| overrides | runs | min | median | max | CPU (median) | rules file | recording rules |"
  echo "|---|---|---|---|---|---|---|---|"
  for n in "${sizes[@]}"; do
    runs=$(runs_of "$n")
    w=($(printf '%s\n' ${wall[$n]} | sort -n)); c=($(printf '%s\n' ${cpu[$n]} | sort -n))
    rules="$work/out$n/vigie-rules.yaml"
    printf '| %s | %s | %s ms | %s ms | %s ms | %s ms | %s bytes | %s |\n' "$n" "$runs" "${w[0]}" \
      "${w[$((runs / 2))]}" "${w[$((runs - 1))]}" "${c[$((runs / 2))]}" "$(wc -c < "$rules")" \
      "$(grep -c -- '- record:' "$rules" || true)"
  done
  echo
  echo "Load average (1, 5, 15 min): $load_before before, $load_after after; $(nproc) CPUs."
} | tee bench-results/gen_rules.md
