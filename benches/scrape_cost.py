#!/usr/bin/env python3
"""Scrape cost of vigie against Debian's node_exporter, side by side in one run.

    benches/scrape_cost.py [--rounds 3] [--scrapes 500] [--rate-seconds 60] [--vigie PATH]

Everything runs on loopback, started and ended by this script:
  - node_exporter with its default collectors;
  - vigie with its default collectors;
  - vigie with 0, 1, 8, 24 (3 of them hung) and 96 fake disks (the fake
    smartctl of the tests replays a real capture), and 5 DNS resolvers of
    which 1 is dead (4 served by one dnsmasq on 127.0.0.2-5).

Each round scrapes every exporter in turn (interleaved, so that the shared
machine's noise spreads over all of them), over one keep-alive connection,
with the headers Prometheus sends (OpenMetrics accepted, gzip). Per exporter:
median and p99 latency, CPU per scrape (utime+stime of the process over the
round / scrapes, from every thread's schedstat), body bytes plain and gzip, RSS after 8 concurrent scrapes.
Min/median/max over the rounds are printed. Then 1,000 scrapes/s for
--rate-seconds against vigie (defaults, and 24 disks): 503s, errors and RSS
before/after. The table goes to stdout and bench-results/scrape_cost.md.
"""

import argparse
import gzip
import http.client
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VIGIE = os.path.join(ROOT, "target/release/vigie")
CAPTURE = os.path.join(ROOT, "tests/fixtures/smartctl/sda.json")
PROM_HEADERS = {
    "Accept": "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    "Accept-Encoding": "gzip",
    "X-Prometheus-Scrape-Timeout-Seconds": "10",
}
procs = []


def start(cmd, env=None):
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    procs.append(p)
    return p


def stop_all():
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def cpu_seconds(pid):
    """CPU time of every thread of the process, in seconds, to the
    nanosecond (schedstat), not to the clock tick."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that ended meanwhile
    return total / 1e9


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fetch(port, headers):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/metrics", headers=headers)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheader("Content-Encoding"), body


def wait_until(port, pred, what, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            status, enc, body = fetch(port, {})
            if status == 200 and pred(body.decode()):
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"port {port}: {what} not reached in {timeout}s")


def disk_dir(n, hung):
    d = tempfile.mkdtemp(prefix=f"vigie-bench-{n}-disks-")
    names = [f"sd{i:03d}" for i in range(n)]
    for i, name in enumerate(names):
        if i >= n - hung:
            open(os.path.join(d, name + ".hang"), "w").close()
        else:
            shutil.copy(CAPTURE, os.path.join(d, name + ".json"))
    devs = ",".join(f'{{"name":"/dev/{x}","type":"sat"}}' for x in names)
    with open(os.path.join(d, "scan.json"), "w") as f:
        f.write(f'{{"smartctl":{{"exit_status":0}},"devices":[{devs}]}}')
    return d


def round_for(port, pid, scrapes):
    """One interleaved round on one exporter: latencies, CPU per scrape."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    lat = []
    cpu0 = cpu_seconds(pid)
    for _ in range(scrapes):
        t = time.perf_counter()
        c.request("GET", "/metrics", headers=PROM_HEADERS)
        r = c.getresponse()
        r.read()
        lat.append(time.perf_counter() - t)
        if r.status != 200:
            sys.exit(f"port {port}: status {r.status}")
    cpu = (cpu_seconds(pid) - cpu0) / scrapes
    c.close()
    lat.sort()
    return statistics.median(lat), lat[int(len(lat) * 0.99) - 1], cpu


def smaps_breakdown(pid):
    """Resident memory per mapping of /proc/PID/smaps, grouped: each file
    mapping by name and permissions, anonymous memory as malloc heap
    ([heap], and the 64 MiB-aligned heaps of glibc's other arenas), thread
    stacks (after a guard page), the main stack, the rest. kB, largest
    first."""
    maps, cur = [], None
    for line in open(f"/proc/{pid}/smaps"):
        head = line.split()
        if "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
            lo, hi = (int(x, 16) for x in head[0].split("-"))
            cur = {"lo": lo, "hi": hi, "perm": head[1], "path": head[5] if len(head) > 5 else "", "Rss": 0}
            maps.append(cur)
        elif head[0] == "Rss:":
            cur["Rss"] = int(head[1])
    groups = {}
    for i, m in enumerate(maps):
        path = m["path"]
        if path and not path.startswith("["):
            key = f"{os.path.basename(path)} {m['perm']}"
        elif path:
            key = path
        elif m["perm"] == "rw-p" and m["lo"] % (64 << 20) == 0:
            key = "[malloc arena]"
        elif m["perm"] == "rw-p" and i > 0 and maps[i - 1]["perm"] == "---p" and not maps[i - 1]["path"] \
                and m["hi"] - m["lo"] >= (1 << 20):
            key = "[thread stacks]"
        else:
            key = "[other anonymous]"
        g = groups.setdefault(key, [0, 0])
        g[0] += m["Rss"]
        g[1] += 1
    return sorted(((rss, n, key) for key, (rss, n) in groups.items() if rss), reverse=True)


def concurrent_rss(port, pid, n=8):
    threads = [threading.Thread(target=fetch, args=(port, PROM_HEADERS)) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return rss_kib(pid)


def rate_run(port, pid, rate, seconds, workers=8):
    """Open loop: `rate` scrapes/s for `seconds`, spread over keep-alive
    connections; counts statuses and errors; RSS before and after."""
    rss0 = rss_kib(pid)
    counts = {}
    lock = threading.Lock()
    start_at = time.perf_counter() + 0.2
    per = rate / workers
    late = [0]

    def worker(k):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i = 0
        while True:
            due = start_at + (i + k / workers) / per
            if due > start_at + seconds:
                break
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            elif now - due > 1.0:
                with lock:
                    late[0] += 1
            try:
                c.request("GET", "/metrics", headers=PROM_HEADERS)
                r = c.getresponse()
                r.read()
                key = str(r.status)
                if r.getheader("Connection", "").lower() == "close":
                    c.close()
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            except (OSError, http.client.HTTPException) as e:
                key = type(e).__name__
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            with lock:
                counts[key] = counts.get(key, 0) + 1
            i += 1
        c.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(workers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    return counts, took, rss0, rss_kib(pid), late[0]


def mmm(values, fmt):
    v = sorted(values)
    return f"{fmt(v[0])} / {fmt(statistics.median(v))} / {fmt(v[-1])}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scrapes", type=int, default=500)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--rate-seconds", type=int, default=60)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--smaps", action="store_true", help="also print where each vigie's RSS is "
                    "(per mapping of /proc/PID/smaps) after its 8 concurrent scrapes")
    ap.add_argument("--vigie", help="the vigie binary to measure (default: target/release/vigie, built "
                    "unless --no-build); e.g. an older build, for a before/after comparison")
    a = ap.parse_args()
    global VIGIE
    if a.vigie:
        VIGIE = os.path.abspath(a.vigie)
        a.no_build = True
    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    load_before = open('/proc/loadavg').read().split()[0]
    ne = shutil.which("prometheus-node-exporter")
    dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not ne:
        sys.exit("needs Debian's prometheus-node-exporter (apt-get install prometheus-node-exporter)")

    # 4 live resolvers (one dnsmasq on 127.0.0.2-5), 1 dead.
    dns_port = 15353
    start([dnsmasq, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
           "--listen-address=127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5", f"--port={dns_port}",
           "--address=/example.org/192.0.2.1", "--address=/#/192.0.2.2", "--user=root", "--pid-file="])
    resolvers = [f"--collector.dns.resolver=127.0.0.{i}:{dns_port}" for i in (2, 3, 4, 5)]
    resolvers.append("--collector.dns.resolver=127.0.0.1:9")  # nothing listens: dead
    common = ["--log.level=error", "--collector.dns.resolver-from-resolv-conf=false",
              f"--collector.smart.smartctl-path={ROOT}/tests/fake-smartctl",
              "--collector.smart.timeout=600s", "--collector.smart.interval=900s"]

    targets = []  # (label, port, proc, disks expected to be read)
    port = 17400
    p = start([ne, f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"])
    targets.append(("node_exporter 1.x, default collectors", port, p, None))
    port += 1
    d0 = disk_dir(0, 0)
    env = dict(os.environ, FAKE_SMARTCTL_DIR=d0)
    p = start([VIGIE, f"--web.listen-address=127.0.0.1:{port}", *common,
               "--collector.dns.resolver=127.0.0.1:9"], env)
    targets.append(("vigie, default collectors (0 disks, 1 resolver)", port, p, 0))
    for n, hung in [(0, 0), (1, 0), (8, 0), (24, 3), (96, 0)]:
        port += 1
        d = disk_dir(n, hung)
        env = dict(os.environ, FAKE_SMARTCTL_DIR=d)
        p = start([VIGIE, f"--web.listen-address=127.0.0.1:{port}", *common, *resolvers], env)
        label = f"vigie, {n} disks" + (f" ({hung} hung)" if hung else "") + ", 5 resolvers (1 dead)"
        targets.append((label, port, p, n - hung))
    for label, port, p, disks in targets:
        if disks is None:
            wait_until(port, lambda b: "node_" in b, "first scrape")
        else:
            wait_until(port, lambda b, k=disks: b.count("vigie_smart_device_info{") >= k
                       and "vigie_dns_probe_success{" in b or k == 0 and "vigie_build_info" in b,
                       f"{disks} disks read")
    time.sleep(2)

    results = {label: {"p50": [], "p99": [], "cpu": []} for label, *_ in targets}
    for r in range(a.rounds):
        for label, port, p, _ in targets:
            p50, p99, cpu = round_for(port, p.pid, a.scrapes)
            results[label]["p50"].append(p50)
            results[label]["p99"].append(p99)
            results[label]["cpu"].append(cpu)
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)

    ms = lambda v: f"{v * 1000:.2f}"
    lines = []
    lines.append(f"{a.rounds} interleaved rounds of {a.scrapes} scrapes each, one keep-alive connection, "
                 "Prometheus' headers (OpenMetrics, gzip); min / median / max over the rounds.")
    lines.append("")
    lines.append("| exporter | median scrape (ms) | p99 scrape (ms) | CPU per scrape (ms) | body plain | body gzip | RSS after 8 concurrent scrapes |")
    lines.append("|---|---|---|---|---|---|---|")
    base = {}
    breakdowns = []
    for label, port, p, disks in targets:
        _, _, plain = fetch(port, {"Accept": PROM_HEADERS["Accept"]})
        _, enc, gz = fetch(port, PROM_HEADERS)
        if enc == "gzip":
            assert len(gzip.decompress(gz)) > 0
        rss = concurrent_rss(port, p.pid)
        if a.smaps and disks is not None:
            breakdowns.append((label, rss, smaps_breakdown(p.pid)))
        res = results[label]
        base[label] = (statistics.median(res["p50"]), statistics.median(res["cpu"]), len(gz))
        lines.append(f"| {label} | {mmm(res['p50'], ms)} | {mmm(res['p99'], ms)} | {mmm(res['cpu'], ms)} "
                     f"| {len(plain) / 1000:.1f} kB | {len(gz) / 1000:.1f} kB{'' if enc == 'gzip' else ' (not compressed)'} "
                     f"| {rss / 1024:.1f} MiB |")
    ne_label = targets[0][0]
    lines.append("")
    for label, *_ in targets[1:]:
        lines.append(f"- {label}: median scrape {base[ne_label][0] / base[label][0]:.1f}x faster than node_exporter, "
                     f"CPU per scrape {base[ne_label][1] / base[label][1]:.0f}x less, "
                     f"gzip body {base[label][2] / base[ne_label][2]:.2f}x node_exporter's")
    zero = next(l for l, *_ in targets if l.startswith("vigie, 0 disks"))
    for label, *_ in targets[3:]:
        lines.append(f"- {label}: median scrape {base[label][0] / base[zero][0]:.2f}x the 0-disk configuration")

    for label, rss, groups in breakdowns:
        lines.append("")
        lines.append(f"{label}: RSS {rss} kB, per mapping (kB, mappings):")
        lines.append("")
        lines.extend(f"    {kb:7d} {n:3d}  {key}" for kb, n, key in groups)
    if a.rate_seconds > 0:
        lines.append("")
        lines.append(f"{a.rate} scrapes/s for {a.rate_seconds} s (open loop, 8 keep-alive connections):")
        lines.append("")
        lines.append("| vigie | answers | took | RSS before | RSS after | requests sent > 1 s late |")
        lines.append("|---|---|---|---|---|---|")
        for label, port, p, _ in [targets[1], targets[5]]:
            counts, took, r0, r1, late = rate_run(port, p.pid, a.rate, a.rate_seconds)
            answers = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
            lines.append(f"| {label} | {answers} | {took:.1f} s | {r0 / 1024:.1f} MiB | {r1 / 1024:.1f} MiB | {late} |")

    lines.append("")
    ver = subprocess.run([ne, "--version"], capture_output=True, text=True).stderr.splitlines()[0:1]
    lines.append(f"machine: {os.cpu_count()} cores, load average before the run {load_before}; "
                 f"{ver[0] if ver else 'node_exporter'}; vigie binary {VIGIE}")
    out = "\n".join(lines) + "\n"
    print(out)
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench-results/scrape_cost.md"), "w") as f:
        f.write(out)


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_all()
