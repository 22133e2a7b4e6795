#!/usr/bin/env bash
# Time and output size of `vigie gen-rules` (rules, tests and dashboards) for the shipped thresholds file
# and for one with 500 overrides (each on instance + mountpoint).
#   benches/gen_rules.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
cargo build --release --quiet
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
{
  echo "overrides:"
  for i in $(seq 0 499); do
    printf "  - match: {instance: 'host%d.example.org:7361', mountpoint: /srv/data}\n    reason: host %d\n    filesystems: {free_percent: {warning: 3, critical: 1}}\n" "$i" "$i"
  done
} > "$work/500.yaml"
hyperfine --warmup 3 --runs 20 --export-markdown "$work/times.md" \
  -n default "target/release/vigie gen-rules --thresholds rules/thresholds.yaml --out $work/default" \
  -n "500 overrides" "target/release/vigie gen-rules --thresholds $work/500.yaml --out $work/500" >/dev/null
mkdir -p bench-results
{
  cat "$work/times.md"
  echo
  for d in default 500; do
    printf "%s: rules %s bytes (%s alerting rules, %s recording rules), tests %s bytes\n" "$d" \
      "$(wc -c < "$work/$d/vigie-rules.yaml")" "$(grep -c -- '- alert:' "$work/$d/vigie-rules.yaml")" \
      "$(grep -c -- '- record:' "$work/$d/vigie-rules.yaml" || true)" "$(wc -c < "$work/$d/vigie-rules.test.yaml")"
    printf "%s: dashboards fleet %s bytes, host %s bytes\n" "$d" \
      "$(wc -c < "$work/$d/dashboards/vigie-fleet.json")" "$(wc -c < "$work/$d/dashboards/vigie-host.json")"
  done
} | tee bench-results/gen_rules.md
