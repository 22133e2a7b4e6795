#!/usr/bin/env bash
# Time and output size of `vigie gen-rules` (rules, tests and dashboards) for
# 0 (the shipped thresholds file), 500, 10,000 and 100,000 overrides (each on
# instance + mountpoint, setting a warning and a critical level), and one table
# with the min / median / max wall time of several runs.
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
mkdir -p bench-results
{
  echo "| overrides | runs | min | median | max | rules file | recording rules |"
  echo "|---|---|---|---|---|---|---|"
  for n in "${sizes[@]}"; do
    if [ "$n" = 0 ]; then file=rules/thresholds.yaml; else file="$work/$n.yaml"; overrides "$n" > "$file"; fi
    runs=10; [ "$n" -ge 100000 ] && runs=3
    out="$work/out$n"
    target/release/vigie gen-rules --thresholds "$file" --out "$out" 2>/dev/null # warm-up
    times=()
    for ((r = 0; r < runs; r++)); do
      rm -rf "$out"
      start=$(date +%s%N)
      target/release/vigie gen-rules --thresholds "$file" --out "$out" 2>/dev/null
      times+=($(( ($(date +%s%N) - start) / 1000000 )))
    done
    sorted=($(printf '%s\n' "${times[@]}" | sort -n))
    rules="$out/vigie-rules.yaml"
    printf '| %s | %s | %s ms | %s ms | %s ms | %s bytes | %s |\n' "$n" "$runs" "${sorted[0]}" \
      "${sorted[$((runs / 2))]}" "${sorted[$((runs - 1))]}" "$(wc -c < "$rules")" \
      "$(grep -c -- '- record:' "$rules" || true)"
  done
} | tee bench-results/gen_rules.md
