#!/usr/bin/env bash
# What the DNS collector costs: vigie with 5 resolvers x 3 queries at a 30 s
# interval (one resolver dead: it never answers), next to vigie without the
# DNS collector, over the same window. Loopback only: 4 dnsmasq instances
# and one silent UDP socket.
#
#   benches/dns_overhead.sh [SECONDS]      (default 300)
#
# Reports CPU time used (from /proc/PID/schedstat), RSS, and scrape
# latency (wrk, one connection) for both. Results: bench-results/dns.md.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-300}
command -v wrk >/dev/null && { [ -x /usr/sbin/dnsmasq ] || command -v dnsmasq >/dev/null; } || {
  echo "needs wrk and dnsmasq (apt-get install wrk dnsmasq-base)" >&2; exit 1; }
dnsmasq_bin=$( [ -x /usr/sbin/dnsmasq ] && echo /usr/sbin/dnsmasq || command -v dnsmasq)
cargo build --release --quiet
mkdir -p bench-results
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

resolver_args=()
for port in 25301 25302 25303 25304; do
  user=(); [ "$(id -u)" -eq 0 ] && user=(--user=nobody --group=nogroup)
  "$dnsmasq_bin" --keep-in-foreground --conf-file=/dev/null --port=$port --listen-address=127.0.0.1 \
    --bind-interfaces --no-resolv --no-hosts --pid-file= --local=/vigie.test/ \
    --address=/www.vigie.test/192.0.2.10 --host-record=mail.vigie.test,192.0.2.25 --mx-host=vigie.test,mail.vigie.test,10 "${user[@]}" 2>/dev/null &
  pids+=($!)
  resolver_args+=(--collector.dns.resolver=127.0.0.1:$port)
done
# The dead resolver: a UDP socket nobody reads.
python3 -c 'import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",25305)); time.sleep(10**6)' &
pids+=($!)
resolver_args+=(--collector.dns.resolver=127.0.0.1:25305)

target/release/vigie --web.listen-address=127.0.0.1:17371 --log.level=error \
  --collector.dns.resolver-from-resolv-conf=false "${resolver_args[@]}" \
  --collector.dns.query=www.vigie.test:A --collector.dns.query=vigie.test:MX --collector.dns.query=mail.vigie.test:A &
with=$!; pids+=($with)
target/release/vigie --web.listen-address=127.0.0.1:17372 --log.level=error --no-collector.dns &
without=$!; pids+=($without)
sleep 2

# CPU time in nanoseconds, summed over the process' threads (first field of
# schedstat: time spent running). The probes run on Tokio's worker threads,
# which live as long as the process.
ticks() { cat /proc/"$1"/task/*/schedstat | awk '{s+=$1} END{print s}'; }
w0=$(ticks $with); n0=$(ticks $without)
echo "measuring CPU over ${secs}s..."
sleep "$secs"
w1=$(ticks $with); n1=$(ticks $without)

lat() { wrk -t1 -c1 -d10s --latency "http://127.0.0.1:$1/metrics" | awk '$1=="50%"{m=$2} $1=="99%"{p=$2} END{print m, p}'; }
read -r wm wp < <(lat 17371)
read -r nm np < <(lat 17372)
rss() { awk '/VmRSS/{r=$2} /VmHWM/{h=$2} END{printf "%.1f MiB (peak %.1f MiB)", r/1024, h/1024}' "/proc/$1/status"; }
probes=$(curl -s http://127.0.0.1:17371/metrics | awk '/^vigie_dns_probes_total/{s+=$NF} END{print s}')
failing=$(curl -s http://127.0.0.1:17371/metrics | awk '/^vigie_dns_resolvers_failing /{print $2}')

{
  echo "| vigie | CPU over ${secs}s | RSS after | median scrape | p99 scrape |"
  echo "|---|---|---|---|---|"
  echo "| 5 resolvers x 3 queries, 1 dead | $(awk -v a=$w0 -v b=$w1 'BEGIN{printf "%.1f ms", (b-a)/1e6}') | $(rss $with) | $wm | $wp |"
  echo "| without the DNS collector | $(awk -v a=$n0 -v b=$n1 'BEGIN{printf "%.1f ms", (b-a)/1e6}') | $(rss $without) | $nm | $np |"
  echo
  echo "probes sent: $probes; resolvers failing at the end: $failing (the dead one)"
} | tee bench-results/dns.md
