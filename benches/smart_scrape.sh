#!/usr/bin/env bash
# Scrape latency with 24 fake disks of which 3 hang (smartctl never returns
# within the test window), next to the same vigie with no disk at all.
# The fake smartctl (tests/fake-smartctl) replays tests/fixtures/smartctl/sda.json.
#
#   benches/smart_scrape.sh [SECONDS]     (default 10; wrk duration per vigie)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet
mkdir -p bench-results
disks=$(mktemp -d); empty=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$disks" "$empty"; }
trap cleanup EXIT

list=()
i=0
for n in a b c d e f g h i j k l m n o p q r s t u v w x; do
  i=$((i + 1))
  if [ $i -gt 21 ]; then : > "$disks/sd$n.hang"; else cp tests/fixtures/smartctl/sda.json "$disks/sd$n.json"; fi
  list+=("{\"name\":\"/dev/sd$n\",\"type\":\"sat\"}")
done
(IFS=,; echo "{\"smartctl\":{\"exit_status\":0},\"devices\":[${list[*]}]}") > "$disks/scan.json"
echo '{"smartctl":{"exit_status":0},"devices":[]}' > "$empty/scan.json"

common=(--log.level=error --collector.dns.resolver-from-resolv-conf=false --collector.dns.resolver=127.0.0.1:1
        --collector.smart.smartctl-path="$PWD/tests/fake-smartctl" --collector.smart.timeout=120s)
FAKE_SMARTCTL_DIR=$disks target/release/vigie --web.listen-address=127.0.0.1:17381 "${common[@]}" & pids+=($!)
FAKE_SMARTCTL_DIR=$empty target/release/vigie --web.listen-address=127.0.0.1:17382 "${common[@]}" & pids+=($!)
# Let the 21 healthy disks be read; the 3 others keep hanging meanwhile.
for _ in $(seq 100); do
  n=$(curl -s http://127.0.0.1:17381/metrics | grep -c '^vigie_smart_device_info{' || true)
  [ "$n" -ge 21 ] && break; sleep 0.1
done
hung=$(pgrep -f "sleep 3600" | wc -l)

row() {
  local out; out=$(wrk -t1 -c1 -d"${secs}s" --latency "http://127.0.0.1:$2/metrics")
  printf "| %s | %s | %s | %s | %s |\n" "$1" "$(echo "$out" | awk '$1=="50%"{print $2}')" \
    "$(echo "$out" | awk '$1=="99%"{print $2}')" "$(echo "$out" | awk '/requests in/{print $1}')" \
    "$(curl -s "http://127.0.0.1:$2/metrics" | wc -c)"
}
{
  echo "| vigie | median scrape | p99 scrape | scrapes in ${secs}s | body bytes |"
  echo "|---|---|---|---|---|"
  row "24 disks, 3 of them hung ($hung smartctl processes hanging during the run)" 17381
  row "no disk" 17382
} | tee bench-results/smart.md
