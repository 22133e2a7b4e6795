#!/usr/bin/env python3
"""What a fleet of vigie hosts costs one Prometheus: series per host, head
series and memory, and the evaluation time of each vigie rule group at 50,
200 and 500 hosts, with the shipped thresholds and with 500 overrides.

A few vigie processes serve a typical fixture host (2 SATA disks and 1 NVMe
disk through the fake smartctl, 6 filesystems, 2 resolvers answered by
dnsmasq): quiet by default (healthy disks, no reboot pending, swap 10%
used, booted 20 days ago: only Watchdog fires), or the test fixture host
as it is (`--host fixture`: about twenty alerts per host). Prometheus (Debian's
package) fans them out to N targets by relabelling: static targets
host-001.example.org:7361 ... each keep their name as `instance`, and a
hashmod of it picks the vigie process that actually answers. Every
configuration starts a fresh Prometheus, waits until every target is up and
the rules have run, then records each group's
prometheus_rule_group_last_duration_seconds at every evaluation; a group
with its own longer interval (the summaries) is timed through the query API
instead (3 runs of its queries, their evalTotalTime) and counted for its
share of an interval.

With `--history`, each N first gets the days of history its rules read
(benches/fleet_history.py: backfilled TSDB blocks, hard-linked into each
Prometheus' data directory): the steady state of a fleet that has run for
a week, where the long windows cost the most. `--gen LABEL=VIGIE` (repeat)
generates the rules with another vigie binary, to compare rule versions on
the same fleet, interleaved. `--slow-interval 1m` also times both
thresholds files with `slow_signals_interval: 1m` (the filesystems', disks'
and reboots' groups evaluated every minute).

    benches/fleet.py [--hosts 50,200,500] [--evals 8] [--interval 15]
                     [--host quiet|fixture] [--history] [--gen LABEL=VIGIE ...]
                     [--baseline] [--slow-interval 1m] [--slowest-rules N]

The vigie binary is target/release/vigie (built if missing), or $VIGIE.
The machine is usually shared: repeat, and read the min/median/max, the
samples read (which do not depend on the load) and the load average.
Writes bench-results/fleet.md and prints it.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VIGIE_PROCESSES = 4
# The longest slow_signals_interval vigie accepts: groups evaluated at most
# this far apart are timed in Prometheus like the others.
SLOW_GROUP_SECS = 60

# The typical host: six filesystems on three disks (and the pseudo
# filesystems vigie leaves out).
MOUNTINFO = """\
21 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
22 21 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
23 21 0:23 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw
24 21 8:2 / /boot rw,relatime shared:2 - ext4 /dev/sda2 rw
25 21 8:3 / /var rw,relatime shared:3 - ext4 /dev/sda3 rw
26 21 8:4 / /home rw,relatime shared:4 - ext4 /dev/sda4 rw
27 21 8:17 / /srv/data rw,relatime shared:5 - xfs /dev/sdb1 rw,attr2,inode64,noquota
28 21 259:1 / /srv/backup rw,relatime shared:6 - ext4 /dev/nvme0n1p1 rw
"""
MOUNTPOINTS = ["/", "/boot", "/var", "/home", "/srv/data", "/srv/backup"]

COLLECTOR_OF = [
    ("vigie_dns_", "dns"),
    ("vigie_filesystem_", "filesystem"),
    ("vigie_path_", "filesystem"),
    ("vigie_smart_", "smart"),
    ("vigie_swap_", "swap"),
    ("vigie_boot_", "reboot"),
    ("vigie_reboot_", "reboot"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait(what, cond, timeout):
    deadline = time.time() + timeout
    while True:
        try:
            v = cond()
            if v:
                return v
        except OSError:
            pass
        if time.time() > deadline:
            sys.exit(f"fleet.py: {what} not reached in {timeout} s")
        time.sleep(0.5)


def quiet(sata, nvme):
    """The fixture disks made healthy: no bad sector, an empty error log, a
    passed self-test, an NVMe disk without warning or media error."""
    d = json.loads(sata)
    for a in d["ata_smart_attributes"]["table"]:
        if a["id"] in (5, 187, 197, 198, 199):
            a["raw"] = {"value": 0, "string": "0"}
    d["ata_smart_error_log"]["summary"]["count"] = 0
    for t in d["ata_smart_self_test_log"]["standard"]["table"]:
        t["status"] = {"value": 0, "string": "Completed without error", "passed": True}
    d["ata_smart_self_test_log"]["standard"]["error_count_total"] = 0
    n = json.loads(nvme)
    n["smartctl"]["exit_status"] = 0
    n["smart_status"] = {"passed": True, "nvme": {"value": 0}}
    log = n["nvme_smart_health_information_log"]
    log.update(critical_warning=0, available_spare=100, percentage_used=3, media_errors=0,
               num_err_log_entries=0)
    return json.dumps(d), json.dumps(n)


def fixture_host(work, healthy):
    """The typical host's /proc, /sys and root, and its disks' smartctl
    answers: the fixture host as is (it fires about twenty alerts), or made
    quiet (`healthy`: healthy disks, no reboot pending, swap 10% used)."""
    host = os.path.join(work, "host")
    shutil.copytree(os.path.join(ROOT, "tests/fixtures/host"), host, symlinks=True)
    if healthy:
        for f in ("reboot-required", "reboot-required.pkgs"):
            os.remove(os.path.join(host, "root/run", f))
        # Booted 20 days ago (the fixture's boot is months old).
        stat = os.path.join(host, "proc/stat")
        text = re.sub(r"^btime \d+$", f"btime {int(time.time()) - 20 * 86400}", open(stat).read(), flags=re.M)
        open(stat, "w").write(text)
        # A tenth of the swap used (the fixture's is 99.5% full: 500 pending
        # swap alerts, and their templates, would be timed as well).
        meminfo = os.path.join(host, "proc/meminfo")
        text = re.sub(r"^SwapFree:\s+\d+ kB$", "SwapFree:        1887433 kB", open(meminfo).read(), flags=re.M)
        open(meminfo, "w").write(text)
    with open(os.path.join(host, "proc/self/mountinfo"), "w") as f:
        f.write(MOUNTINFO)
    for mp in MOUNTPOINTS:
        os.makedirs(os.path.join(host, "root", mp.lstrip("/")), exist_ok=True)
    disks = os.path.join(work, "disks")
    os.makedirs(disks)
    src = os.path.join(ROOT, "tests/fixtures/smartctl")
    sata = open(os.path.join(src, "sda.json")).read()
    nvme = open(os.path.join(src, "nvme0.json")).read()
    if healthy:
        sata, nvme = quiet(sata, nvme)
    open(os.path.join(disks, "sda.json"), "w").write(sata)
    open(os.path.join(disks, "sdb.json"), "w").write(sata.replace("VT4000A1", "VT4000A2"))
    open(os.path.join(disks, "nvme0.json"), "w").write(nvme)
    devices = [
        {"name": "/dev/sda", "type": "sat"},
        {"name": "/dev/sdb", "type": "sat"},
        {"name": "/dev/nvme0", "type": "nvme"},
    ]
    with open(os.path.join(disks, "scan.json"), "w") as f:
        json.dump({"smartctl": {"exit_status": 0}, "devices": devices}, f)
    return host, disks


def thresholds_with_overrides(path, n):
    """The shipped defaults plus n overrides, one per host's /srv/data."""
    with open(path, "w") as f:
        f.write("overrides:\n")
        for i in range(n):
            f.write(
                f"  - match: {{instance: 'host-{i + 1:03d}.example.org:7361', mountpoint: /srv/data}}\n"
                f"    reason: host {i + 1} keeps its data volume full\n"
                "    filesystems: {free_percent: {warning: 3, critical: 1}}\n"
            )


def gen_rules(vigie, thresholds, out):
    subprocess.run(
        [vigie, "gen-rules", "--thresholds", thresholds, "--out", out],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return os.path.join(out, "vigie-rules.yaml")


def prometheus_config(path, hosts, ports, rules, interval):
    lines = [
        f"global: {{scrape_interval: {interval}s, evaluation_interval: {interval}s}}",
        f"rule_files: ['{rules}']",
        "scrape_configs:",
        "  - job_name: vigie",
        "    static_configs:",
        "      - targets:",
    ]
    lines += [f"          - host-{i + 1:03d}.example.org:7361" for i in range(hosts)]
    lines += [
        "    relabel_configs:",
        "      - {source_labels: [__address__], target_label: instance}",
        f"      - {{source_labels: [__address__], modulus: {len(ports)}, target_label: __tmp_shard, action: hashmod}}",
    ]
    for i, p in enumerate(ports):
        lines.append(
            f"      - {{source_labels: [__tmp_shard], regex: '{i}', target_label: __address__, replacement: '127.0.0.1:{p}'}}"
        )
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def metrics(url):
    """Sample lines of a text exposition: (name, labels text, value)."""
    out = []
    for line in http_get(url).splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)", line)
        if m:
            out.append((m.group(1), m.group(2) or "", float(m.group(3))))
    return out


def series_per_collector(port):
    counts = {}
    for name, _, _ in metrics(f"http://127.0.0.1:{port}/metrics"):
        c = next((c for p, c in COLLECTOR_OF if name.startswith(p)), "vigie itself")
        counts[c] = counts.get(c, 0) + 1
    counts["Prometheus' own per target (up, scrape_*)"] = 5
    return counts


def run_prometheus(work, hosts, ports, rules, interval, evals, history=None):
    d = tempfile.mkdtemp(dir=work)
    config = os.path.join(d, "prometheus.yml")
    prometheus_config(config, hosts, ports, rules, interval)
    if history:
        # Hard links: Prometheus never writes into a block, it replaces them.
        subprocess.run(["cp", "-al", history, f"{d}/data"], check=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={d}/data",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait("Prometheus ready", lambda: http_get(base + "/-/ready"), 600)

        def up():
            r = json.loads(http_get(base + "/api/v1/query?query=count(up%3D%3D1)"))["data"]["result"]
            return r and int(float(r[0]["value"][1])) == hosts

        wait(f"{hosts} targets up", up, 4 * interval + 60)
        # Groups with their own, longer interval (the recording of the
        # day's lows and highs) would take an hour to evaluate 8 times:
        # their cost per evaluation is timed through the query API instead.
        info = json.loads(http_get(base + "/api/v1/rules"))["data"]["groups"]
        # Groups evaluated every minute (slow_signals_interval) are timed
        # in Prometheus like the others, over as many evaluations.
        slow = {g["name"] for g in info if g["interval"] > max(interval, SLOW_GROUP_SECS)}
        t0 = time.time()
        cpu0 = next(v for n, _, v in metrics(base + "/metrics") if n == "process_cpu_seconds_total")
        durations = {}  # group -> [seconds]
        last = {}  # group -> timestamp of the evaluation already counted
        groups = set()
        first = True
        if not info:
            # No rules (the baseline): Prometheus' CPU for scraping alone.
            time.sleep(evals * interval)
        while info and (first or not groups or any(len(durations.get(g, [])) < evals for g in groups - slow)):
            m = metrics(base + "/metrics")
            stamps = {re.search(r';([^"]+)"', l).group(1): v for n, l, v in m
                      if n == "prometheus_rule_group_last_evaluation_timestamp_seconds"}
            groups = set(stamps)
            for n, l, v in m:
                if n != "prometheus_rule_group_last_duration_seconds":
                    continue
                group = re.search(r';([^"]+)"', l).group(1)
                # Each group's evaluations once each, from the first one that
                # starts after every target is up.
                if first:
                    last[group] = stamps.get(group)
                elif stamps.get(group) != last.get(group) and stamps.get(group):
                    last[group] = stamps.get(group)
                    durations.setdefault(group, []).append(v)
            first = False
            time.sleep(1)
        m = metrics(base + "/metrics")
        head = next(v for n, _, v in m if n == "prometheus_tsdb_head_series")
        rss = next(v for n, _, v in m if n == "process_resident_memory_bytes")
        cpu = next(v for n, _, v in m if n == "process_cpu_seconds_total")
        cpu_share = (cpu - cpu0) / (time.time() - t0)
        firing = json.loads(http_get(base + "/api/v1/query?query=" + urllib.parse.quote(
            'count by(alertname) (ALERTS{alertstate="firing"})')))["data"]["result"]
        firing = {r["metric"]["alertname"]: int(float(r["value"][1])) for r in firing}
        # Each rule's own last evaluation time, the slowest first: where the
        # time goes (read before the query API adds its load).
        per_rule = sorted(
            ((r["evaluationTime"], g["name"], r["name"]) for g in info_now(base) for r in g["rules"]),
            reverse=True)
        samples, timed = samples_per_group(base)
        for g in slow:
            durations.setdefault(g, []).extend(timed[g])
        return (durations, head, rss, cpu_share, samples, firing, {g["name"]: g["interval"] for g in info},
                per_rule, timed)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def info_now(base):
    return json.loads(http_get(base + "/api/v1/rules"))["data"]["groups"]


def samples_per_group(base):
    """Samples each group's rules read in one evaluation, from the query
    API's statistics (stats=all): the cost that does not depend on how
    busy the machine is. Each group is also evaluated 3 times through the
    API, one query at a time, each time summing its queries' evalTotalTime
    (seconds): its evaluation time without the other groups running
    beside it (a group with a longer interval is timed only this way)."""
    rules = json.loads(http_get(base + "/api/v1/rules"))["data"]["groups"]
    out = {}
    timed = {}
    for g in rules:
        rounds = 3
        for k in range(rounds):
            total = 0
            seconds = 0.0
            for r in g["rules"]:
                q = urllib.parse.quote(r["query"])
                body = json.loads(http_get(f"{base}/api/v1/query?stats=all&query={q}", timeout=600))
                total += body["data"]["stats"]["samples"]["totalQueryableSamples"]
                seconds += body["data"]["stats"]["timings"]["evalTotalTime"]
            out[g["name"]] = total
            timed.setdefault(g["name"], []).append(seconds)
    return out, timed


def fmt_ms(xs):
    xs = sorted(xs)
    return f"{1000 * xs[0]:.1f} / {1000 * statistics.median(xs):.1f} / {1000 * xs[-1]:.1f}"


def loadavg():
    return open("/proc/loadavg").read().split()[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hosts", default="50,200,500")
    ap.add_argument("--evals", type=int, default=8, help="evaluations recorded per configuration")
    ap.add_argument("--interval", type=int, default=15, help="scrape and evaluation interval, seconds")
    ap.add_argument("--host", choices=["quiet", "fixture"], default="quiet",
                    help="quiet: healthy disks, no reboot pending; fixture: the test fixture host (about 20 alerts)")
    ap.add_argument("--history", action="store_true",
                    help="backfill the days of history the rules read (the steady state) before starting Prometheus")
    ap.add_argument("--history-dir", metavar="DIR",
                    help="with --history and one host count: use the blocks already in DIR (from an earlier run "
                         "for as many hosts and the same rules) instead of building them; DIR is kept")
    ap.add_argument("--gen", action="append", default=[], metavar="LABEL=VIGIE",
                    help="generate the rules with this vigie binary, shown as LABEL (repeat to compare; "
                         "configurations are interleaved)")
    ap.add_argument("--baseline", action="store_true",
                    help="also run each host count without any rule: Prometheus' CPU for scraping alone, "
                         "so the rules' own CPU per interval is the difference")
    ap.add_argument("--slow-interval", metavar="DURATION",
                    help="also generate each thresholds file with slow_signals_interval set to this (e.g. 1m)")
    ap.add_argument("--slowest-rules", type=int, default=12, metavar="N",
                    help="print the N rules slowest at their last evaluation, per configuration")
    args = ap.parse_args()
    hosts = [int(h) for h in args.hosts.split(",")]
    # A SIGTERM cleans up like Ctrl-C (processes, temporary files).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    vigie = os.environ.get("VIGIE") or os.path.join(ROOT, "target/release/vigie")
    if not os.environ.get("VIGIE") and not os.path.exists(vigie):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    gens = [g.split("=", 1) for g in args.gen] or [["current", vigie]]
    dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"

    work = tempfile.mkdtemp(prefix="vigie-fleet-")
    procs = []
    try:
        host, disks = fixture_host(work, args.host == "quiet")
        dns_port = free_port()
        procs.append(
            subprocess.Popen(
                [dnsmasq, "--keep-in-foreground", "--conf-file=/dev/null", f"--port={dns_port}",
                 "--no-resolv", "--no-hosts", "--pid-file=", "--local=/vigie.test/",
                 "--mx-host=vigie.test,mail.vigie.test,10"]
                + (["--user=nobody", "--group=nogroup"] if os.geteuid() == 0 else []),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )

        def start_vigie(port, extra=()):
            procs.append(
                subprocess.Popen(
                    [vigie, f"--web.listen-address=127.0.0.1:{port}", "--log.level=error",
                     f"--path.procfs={host}/proc", f"--path.sysfs={host}/sys", f"--path.rootfs={host}/root",
                     "--collector.dns.resolver-from-resolv-conf=false",
                     f"--collector.dns.resolver=127.0.0.1:{dns_port}",
                     f"--collector.dns.resolver=127.0.0.2:{dns_port}",
                     "--collector.dns.query=vigie.test:MX",
                     f"--collector.smart.smartctl-path={ROOT}/tests/fake-smartctl", *extra],
                    env={**os.environ, "FAKE_SMARTCTL_DIR": disks},
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
            )

        ports = [free_port() for _ in range(VIGIE_PROCESSES)]
        for p in ports:
            start_vigie(p)
        named_port = free_port()
        start_vigie(named_port, ["--collector.smart.attributes=named"])

        def ready(port):
            body = http_get(f"http://127.0.0.1:{port}/metrics")
            return (body.count("vigie_smart_device_info{") == 3
                    and "vigie_dns_probe_success{" in body
                    and not re.search(r"^vigie_collector_success\{.*\} 0$", body, re.M))

        wait("vigie ready", lambda: ready(ports[0]) and ready(named_port), 60)
        per_collector = series_per_collector(ports[0])
        per_collector_named = series_per_collector(named_port)
        exposition = metrics(f"http://127.0.0.1:{ports[0]}/metrics")
        # The named process is only counted.
        procs[-1].terminate()

        o500 = os.path.join(work, "o500.yaml")
        thresholds_with_overrides(o500, 500)
        variants = []
        for label, binary in gens:
            d0 = os.path.join(work, f"{label}-r0")
            d5 = os.path.join(work, f"{label}-r500")
            variants.append((f"{label}, shipped", gen_rules(binary, os.path.join(ROOT, "rules/thresholds.yaml"), d0)))
            variants.append((f"{label}, 500 overrides", gen_rules(binary, o500, d5)))
            if args.slow_interval:
                for name, src in (("shipped", os.path.join(ROOT, "rules/thresholds.yaml")), ("500 overrides", o500)):
                    t = os.path.join(work, f"{label}-{name}-slow.yaml")
                    with open(t, "w") as f:
                        f.write(open(src).read() + f"\nslow_signals_interval: {args.slow_interval}\n")
                    d = os.path.join(work, f"{label}-{name}-slow")
                    variants.append((f"{label}, {name}, slow {args.slow_interval}", gen_rules(binary, t, d)))

        if args.baseline:
            none = os.path.join(work, "no-rules.yaml")
            with open(none, "w") as f:
                f.write("groups: []\n")
            variants.insert(0, ("no rules", none))
        rows = []
        for n in hosts:
            history = None
            if args.history and args.history_dir:
                history = args.history_dir
            elif args.history:
                import fleet_history
                t0 = time.time()
                history, count, names = fleet_history.build(
                    work, exposition, n, [r for l, r in variants if l != "no rules"], int(time.time()),
                    args.interval)
                print(f"fleet.py: {n} hosts: {count} samples of history ({', '.join(sorted(names))}) "
                      f"in {time.time() - t0:.0f} s", file=sys.stderr)
            for label, rules in variants:
                t0 = time.time()
                load0 = loadavg()
                durations, head, rss, cpu, samples, firing, intervals, per_rule, serial = run_prometheus(
                    work, n, ports, rules, args.interval, args.evals, history)
                # Groups run concurrently; their sum is the rules' time per
                # interval, a group with a longer interval counting for its
                # share of one.
                fast = {g: v for g, v in durations.items() if intervals[g] <= args.interval}
                slow = sum(statistics.median(v) * args.interval / intervals[g]
                           for g, v in durations.items() if g not in fast)
                total = [slow + sum(v[i] for v in fast.values()) for i in range(args.evals)]
                # Every group's median evaluation, summed whatever its
                # interval (the summaries' left out): the time if all ran at
                # once, one after the other.
                burst = sum(statistics.median(v) for g, v in durations.items()
                            if intervals[g] <= SLOW_GROUP_SECS)
                # The same, each group timed alone through the query API.
                alone = [sum(v[i] * min(1, args.interval / intervals[g]) for g, v in serial.items())
                         for i in range(3)] if serial else [0.0]
                rows.append((n, label, durations, total, head, rss, cpu, samples, firing, f"{load0} / {loadavg()}",
                             alone, burst))
                slowest = per_rule[:args.slowest_rules]
                print(f"fleet.py: {n} hosts, {label}: slowest rules at their last evaluation (ms): "
                      + "; ".join(f"{g}/{r} {1000 * t:.0f}" for t, g, r in slowest)
                      + f"; all {len(per_rule)} rules {1000 * sum(t for t, _, _ in per_rule):.0f}",
                      file=sys.stderr, flush=True)
                # Each configuration as it ends, for a run cut short.
                print(f"fleet.py: {n} hosts, {label}: {time.time() - t0:.0f} s; rules per interval "
                      f"{fmt_ms(total)} ms (alone {fmt_ms(alone)} ms; every group once {1000 * burst:.0f} ms); cpu {100 * cpu:.0f}%; samples {sum(samples.values())}; load {rows[-1][9]}; groups "
                      + "; ".join(f"{g} {fmt_ms(v)} ({samples.get(g, 0)})" for g, v in sorted(durations.items())),
                      file=sys.stderr, flush=True)
            if history and not args.history_dir:
                shutil.rmtree(history, ignore_errors=True)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)

    groups = sorted({g for r in rows for g in r[2]})
    out = []
    out.append(f"Series per host ({args.host} typical host: 2 SATA disks, 1 NVMe, 6 filesystems, 2 resolvers), "
               "`--collector.smart.attributes` all (the default) and named:\n")
    out.append("| collector | series (all) | series (named) |")
    out.append("|---|---|---|")
    for c, k in sorted(per_collector.items(), key=lambda x: -x[1]):
        out.append(f"| {c} | {k} | {per_collector_named.get(c, 0)} |")
    out.append(f"| **total** | **{sum(per_collector.values())}** | **{sum(per_collector_named.values())}** |")
    out.append("")
    hist = "with days of backfilled history (steady state)" if args.history else "with minutes of history"
    out.append(f"Prometheus {hist}, every target up: head series, RSS, CPU (share of one core while "
               f"measuring), and all vigie groups' evaluation time per interval (ms, min / median / max of "
               f"{args.evals} evaluations, interval {args.interval} s) with the samples their queries read, "
               f"the alerts firing and the load average (1 min) before / after:\n")
    out.append("The groups' own durations overlap one another and the scrapes of every target on the same "
               "cores; \"alone\" is the same groups' queries run one at a time through the query API "
               "(3 rounds), and the baseline without rules (`--baseline`) gives the rules' share of "
               "Prometheus' CPU.\n")
    out.append("A group evaluated less often than every interval (the summaries, every 10 minutes; the slow "
               "signals' groups with `slow_signals_interval`) counts for its share of an interval; \"every "
               "group once\" sums each group's median evaluation whatever its interval (the summaries left "
               "out).\n")
    out.append("| hosts | rules | head series | RSS MiB | Prometheus CPU | rules, ms per interval "
               "| alone, ms per interval | every group once, ms | samples read | alerts firing | load |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for n, label, durations, total, head, rss, cpu, samples, firing, load, alone, burst in rows:
        alerts = ", ".join(f"{a} {c}" for a, c in sorted(firing.items()))
        out.append(f"| {n} | {label} | {int(head)} | {rss / 2**20:.0f} | {100 * cpu:.0f}% | {fmt_ms(total)} "
                   f"| {fmt_ms(alone)} | {1000 * burst:.0f} | {sum(samples.values())} | {alerts} | {load} |")
    out.append("")
    out.append("Each group, ms per evaluation (min / median / max) and samples read:\n")
    out.append("| hosts | rules | " + " | ".join(groups) + " |")
    out.append("|---" * (len(groups) + 2) + "|")
    for n, label, durations, total, head, rss, cpu, samples, firing, load, _, _ in rows:
        cells = [f"{fmt_ms(durations[g])}; {samples.get(g, 0)}" if g in durations else "-" for g in groups]
        out.append(f"| {n} | {label} | " + " | ".join(cells) + " |")
    text = "\n".join(out) + "\n"
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench-results/fleet.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
