#!/usr/bin/env python3
"""What a fleet of vigie hosts costs one Prometheus: series per host, head
series and memory, and the evaluation time of each vigie rule group at 50,
200 and 500 hosts, with the shipped thresholds and with 500 overrides.

A few vigie processes serve a typical fixture host (2 SATA disks and 1 NVMe
disk through the fake smartctl, 6 filesystems, 2 resolvers answered by
dnsmasq). Prometheus (Debian's package) fans them out to N targets by
relabelling: static targets host-001.example.org:7361 ... each keep their
name as `instance`, and a hashmod of it picks the vigie process that
actually answers. Every configuration starts a fresh Prometheus, waits until
every target is up and the rules have run, then records each group's
prometheus_rule_group_last_duration_seconds at every evaluation.

    benches/fleet.py [--hosts 50,200,500] [--evals 8] [--interval 15]

The vigie binary is target/release/vigie (built if missing), or $VIGIE.
The machine is usually shared: repeat, and read the min/median/max.
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


def fixture_host(work):
    """The typical host's /proc, /sys and root, and its disks' smartctl answers."""
    host = os.path.join(work, "host")
    shutil.copytree(os.path.join(ROOT, "tests/fixtures/host"), host, symlinks=True)
    with open(os.path.join(host, "proc/self/mountinfo"), "w") as f:
        f.write(MOUNTINFO)
    for mp in MOUNTPOINTS:
        os.makedirs(os.path.join(host, "root", mp.lstrip("/")), exist_ok=True)
    disks = os.path.join(work, "disks")
    os.makedirs(disks)
    src = os.path.join(ROOT, "tests/fixtures/smartctl")
    sata = open(os.path.join(src, "sda.json")).read()
    open(os.path.join(disks, "sda.json"), "w").write(sata)
    open(os.path.join(disks, "sdb.json"), "w").write(sata.replace("VT4000A1", "VT4000A2"))
    shutil.copy(os.path.join(src, "nvme0.json"), os.path.join(disks, "nvme0.json"))
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


def run_prometheus(work, hosts, ports, rules, interval, evals):
    d = tempfile.mkdtemp(dir=work)
    config = os.path.join(d, "prometheus.yml")
    prometheus_config(config, hosts, ports, rules, interval)
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
        wait("Prometheus ready", lambda: http_get(base + "/-/ready"), 60)

        def up():
            r = json.loads(http_get(base + "/api/v1/query?query=count(up%3D%3D1)"))["data"]["result"]
            return r and int(float(r[0]["value"][1])) == hosts

        wait(f"{hosts} targets up", up, 4 * interval + 60)
        t0 = time.time()
        cpu0 = next(v for n, _, v in metrics(base + "/metrics") if n == "process_cpu_seconds_total")
        durations = {}  # group -> [seconds]
        last = {}  # group -> timestamp of the evaluation already counted
        groups = set()
        first = True
        while first or not groups or any(len(durations.get(g, [])) < evals for g in groups):
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
                elif stamps.get(group) != last.get(group):
                    last[group] = stamps.get(group)
                    durations.setdefault(group, []).append(v)
            first = False
            time.sleep(1)
        m = metrics(base + "/metrics")
        head = next(v for n, _, v in m if n == "prometheus_tsdb_head_series")
        rss = next(v for n, _, v in m if n == "process_resident_memory_bytes")
        cpu = next(v for n, _, v in m if n == "process_cpu_seconds_total")
        cpu_share = (cpu - cpu0) / (time.time() - t0)
        return durations, head, rss, cpu_share, samples_per_group(base)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def samples_per_group(base):
    """Samples each group's rules read in one evaluation, from the query
    API's statistics (stats=all): the cost that does not depend on how
    busy the machine is."""
    rules = json.loads(http_get(base + "/api/v1/rules"))["data"]["groups"]
    out = {}
    for g in rules:
        total = 0
        for r in g["rules"]:
            q = urllib.parse.quote(r["query"])
            body = json.loads(http_get(f"{base}/api/v1/query?stats=all&query={q}", timeout=300))
            total += body["data"]["stats"]["samples"]["totalQueryableSamples"]
        out[g["name"]] = total
    return out


def fmt_ms(xs):
    xs = sorted(xs)
    return f"{1000 * xs[0]:.1f} / {1000 * statistics.median(xs):.1f} / {1000 * xs[-1]:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hosts", default="50,200,500")
    ap.add_argument("--evals", type=int, default=8, help="evaluations recorded per configuration")
    ap.add_argument("--interval", type=int, default=15, help="scrape and evaluation interval, seconds")
    args = ap.parse_args()
    hosts = [int(h) for h in args.hosts.split(",")]

    vigie = os.environ.get("VIGIE") or os.path.join(ROOT, "target/release/vigie")
    if not os.environ.get("VIGIE") and not os.path.exists(vigie):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"

    work = tempfile.mkdtemp(prefix="vigie-fleet-")
    procs = []
    try:
        host, disks = fixture_host(work)
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
        ports = [free_port() for _ in range(VIGIE_PROCESSES)]
        for p in ports:
            procs.append(
                subprocess.Popen(
                    [vigie, f"--web.listen-address=127.0.0.1:{p}", "--log.level=error",
                     f"--path.procfs={host}/proc", f"--path.sysfs={host}/sys", f"--path.rootfs={host}/root",
                     "--collector.dns.resolver-from-resolv-conf=false",
                     f"--collector.dns.resolver=127.0.0.1:{dns_port}",
                     f"--collector.dns.resolver=127.0.0.2:{dns_port}",
                     "--collector.dns.query=vigie.test:MX",
                     f"--collector.smart.smartctl-path={ROOT}/tests/fake-smartctl"],
                    env={**os.environ, "FAKE_SMARTCTL_DIR": disks},
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
            )

        def ready():
            body = http_get(f"http://127.0.0.1:{ports[0]}/metrics")
            return (body.count("vigie_smart_device_info{") == 3
                    and "vigie_dns_probe_success{" in body
                    and not re.search(r"^vigie_collector_success\{.*\} 0$", body, re.M))

        wait("vigie ready", ready, 60)
        per_collector = series_per_collector(ports[0])

        default_rules = gen_rules(vigie, os.path.join(ROOT, "rules/thresholds.yaml"), os.path.join(work, "r0"))
        o500 = os.path.join(work, "o500.yaml")
        thresholds_with_overrides(o500, 500)
        override_rules = gen_rules(vigie, o500, os.path.join(work, "r500"))

        rows = []
        for n in hosts:
            for label, rules in (("shipped", default_rules), ("500 overrides", override_rules)):
                t0 = time.time()
                durations, head, rss, cpu, samples = run_prometheus(
                    work, n, ports, rules, args.interval, args.evals)
                # Groups run concurrently; their sum is the rules' time per interval.
                total = [sum(v[i] for v in durations.values()) for i in range(args.evals)]
                rows.append((n, label, durations, total, head, rss, cpu, samples))
                print(f"fleet.py: {n} hosts, {label}: {time.time() - t0:.0f} s", file=sys.stderr)
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
    out.append("Series per host (typical host: 2 SATA disks, 1 NVMe, 6 filesystems, 2 resolvers):\n")
    out.append("| collector | series |")
    out.append("|---|---|")
    for c, k in sorted(per_collector.items(), key=lambda x: -x[1]):
        out.append(f"| {c} | {k} |")
    out.append(f"| **total** | **{sum(per_collector.values())}** |")
    out.append("")
    out.append(f"Prometheus with every target up: head series, RSS, CPU (share of one core while "
               f"measuring), and all vigie groups' evaluation time per interval (ms, min / median / max of "
               f"{args.evals} evaluations, interval {args.interval} s) with the samples their queries read:\n")
    out.append("| hosts | thresholds | head series | RSS MiB | Prometheus CPU | rules, ms per interval | samples read |")
    out.append("|---|---|---|---|---|---|---|")
    for n, label, durations, total, head, rss, cpu, samples in rows:
        out.append(f"| {n} | {label} | {int(head)} | {rss / 2**20:.0f} | {100 * cpu:.0f}% | {fmt_ms(total)} "
                   f"| {sum(samples.values())} |")
    out.append("")
    out.append("Each group, ms per evaluation (min / median / max) and samples read:\n")
    out.append("| hosts | thresholds | " + " | ".join(groups) + " |")
    out.append("|---" * (len(groups) + 2) + "|")
    for n, label, durations, total, head, rss, cpu, samples in rows:
        cells = [f"{fmt_ms(durations[g])}; {samples.get(g, 0)}" if g in durations else "-" for g in groups]
        out.append(f"| {n} | {label} | " + " | ".join(cells) + " |")
    text = "\n".join(out) + "\n"
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench-results/fleet.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
