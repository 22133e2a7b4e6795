#!/usr/bin/env bash
# Whole-process comparison of vigie with Debian's prometheus-node-exporter,
# side by side in one run on this machine (loopback only, bounded in time).
#
#   benches/compare.sh [SECONDS_PER_RUN]     (default 15)
#
# For each exporter: scrape latency (median and p99) with wrk, one connection,
# one thread (what a Prometheus server does), then peak and current RSS from
# /proc/PID/status. node_exporter runs twice: with its default collectors,
# and restricted to the ones that read what vigie reads (filesystem,
# meminfo, vmstat, stat), for a like-for-like figure. Results go to stdout
# and bench-results/compare.md.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

cargo build --release --quiet
mkdir -p bench-results
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start() { # name port cmd...
  local name=$1 port=$2; shift 2
  "$@" >"bench-results/$name.log" 2>&1 &
  pids+=($!)
  echo $! >"bench-results/$name.pid"
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && return 0
    sleep 0.1
  done
  echo "$name did not start; see bench-results/$name.log" >&2
  exit 1
}

# The DNS collector probes a loopback resolver only: no traffic leaves the machine.
start vigie 17361 target/release/vigie --web.listen-address=127.0.0.1:17361 --log.level=warn \
  --collector.dns.resolver-from-resolv-conf=false --collector.dns.resolver=127.0.0.1:1
start node_exporter 19100 prometheus-node-exporter --web.listen-address=127.0.0.1:19100 --log.level=warn
start node_exporter_same 19101 prometheus-node-exporter --web.listen-address=127.0.0.1:19101 --log.level=warn \
  --collector.disable-defaults --collector.filesystem --collector.meminfo --collector.vmstat --collector.stat
sleep 1

# wrk's "50%" / "99%" lines, in microseconds.
to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); print v} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000} else if (v ~ /s$/) {sub(/s/,"",v); print v*1000000}}'; }

row() { # name port
  local name=$1 port=$2 out p50 p99 reqs bytes rss hwm pid
  for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/metrics" >/dev/null; done
  out=$(wrk -t1 -c1 -d"${secs}s" --latency "http://127.0.0.1:$port/metrics")
  p50=$(echo "$out" | awk '$1=="50%"{print $2}' | to_us)
  p99=$(echo "$out" | awk '$1=="99%"{print $2}' | to_us)
  reqs=$(echo "$out" | awk '/requests in/{print $1}')
  bytes=$(curl -s "http://127.0.0.1:$port/metrics" | wc -c)
  pid=$(cat "bench-results/$name.pid")
  rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
  hwm=$(awk '/VmHWM/{print $2}' "/proc/$pid/status")
  echo "$name $p50 $p99 $reqs $bytes $rss $hwm"
}

{
  row vigie 17361
  row node_exporter 19100
  row node_exporter_same 19101
} >bench-results/raw.txt

awk -v secs="$secs" '
  { name[NR]=$1; p50[NR]=$2; p99[NR]=$3; reqs[NR]=$4; bytes[NR]=$5; rss[NR]=$6; hwm[NR]=$7 }
  END {
    printf "| exporter | median scrape | p99 scrape | scrapes in %ss | body bytes | RSS now | RSS peak |\n", secs
    print  "|---|---|---|---|---|---|---|"
    for (i=1;i<=NR;i++) printf "| %s | %.0f us | %.0f us | %d | %d | %.1f MiB | %.1f MiB |\n", name[i], p50[i], p99[i], reqs[i], bytes[i], rss[i]/1024, hwm[i]/1024
    print ""
    for (i=2;i<=NR;i++) printf "- %s / vigie: median %.1fx, p99 %.1fx, peak RSS %.1fx\n", name[i], p50[i]/p50[1], p99[i]/p99[1], hwm[i]/hwm[1]
  }' bench-results/raw.txt | tee bench-results/compare.md
echo
echo "machine: $(nproc) cores, $(uname -r); node_exporter: $(prometheus-node-exporter --version 2>&1 | head -n 1)" | tee -a bench-results/compare.md
