"""Days of history for benches/fleet.py: the series the rules read over a
range (and the series their recording groups would have written), for
every simulated host, written as OpenMetrics one UTC day per file and
turned into TSDB blocks by `promtool tsdb create-blocks-from openmetrics`.
Records of records (the long extremes the summary group records from its
own 15-minute summaries) are written like the records of the scraped
metric at the end of the chain.

Only the series a rule reads over a range need history (an instant
selector reads the last 5 minutes, which the live scrapes give): how far
back each one is needed is read from the rule file itself (the longest
`[range] offset` of each metric). The values are the live host's, with a
small deterministic jitter on gauges (a filesystem's free bytes moving by
a few MB, no trend) and constant counters: a quiet fleet.
"""

import os
import re
import subprocess

import yaml

DAY = 86400
UNITS = {"s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY}
RANGE = re.compile(
    r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{[^}]*\})?\s*\[(\d+[smhdw])\](?:\s*offset\s+(\d+[smhdw]))?"
)
JITTER = 4_000_000  # bytes a gauge moves around its value


def secs(d):
    return int(d[:-1]) * UNITS[d[-1]]


def parse_duration(text):
    """`1d2h` or `90s` to seconds."""
    return sum(int(n) * UNITS[u] for n, u in re.findall(r"(\d+)([smhdw])", text))


def needs(rules_files):
    """metric -> seconds of history the rules read; recorded metric ->
    (source metric, function, step) for the recording rules of groups with
    their own (longer) interval; over all of `rules_files`."""
    back = {}
    recorded = {}
    groups = [g for f in rules_files for g in yaml.safe_load(open(f))["groups"]]
    for g in groups:
        for r in g["rules"]:
            for name, rng, off in RANGE.findall(r["expr"]):
                need = secs(rng) + (secs(off) if off else 0)
                back[name] = max(back.get(name, 0), need)
            if "record" in r and g.get("interval"):
                # The first range function names what it records from.
                m = re.search(r"\b(min|max)_over_time\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)", r["expr"])
                if m:
                    recorded[r["record"]] = (m.group(2), m.group(1), parse_duration(g["interval"]))
    # A record of a record (a long extreme read from the summaries) stands
    # for the scraped metric at the end of the chain.
    for rec, (src, fn, step) in list(recorded.items()):
        seen = {rec}
        while src in recorded and src not in seen:
            seen.add(src)
            src = recorded[src][0]
        recorded[rec] = (src, fn, step)
    return back, recorded


def fmt_labels(labels):
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def parse_labels(text):
    return dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', text or ""))


def build(work, exposition, hosts, rules_files, end, interval, margin=3600):
    """Blocks of history for `hosts` fixture hosts ending at `end` (unix
    seconds), into a new directory whose path is returned, with the number
    of samples and the metrics written. `exposition` is one host's scrape:
    [(name, labels text, value)]; every metric the rules read over a range
    gets the history they read, and `margin` seconds more."""
    back, recorded = needs(rules_files)
    series = []  # (name, labels dict, value, start, step, kind)
    instances = [f"host-{i + 1:03d}.example.org:7361" for i in range(hosts)]
    for inst in instances:
        own = {"job": "vigie", "instance": inst}
        if "up" in back:
            series.append(("up", own, 1.0, end - back["up"] - margin, interval, "const"))
        for name, labels, value in exposition:
            if name not in back:
                continue
            lab = {**parse_labels(labels), **own}
            kind = "gauge" if name.endswith("_bytes") else "const"
            series.append((name, lab, value, end - back[name] - margin, interval, kind))
        for rec, (src, fn, step) in recorded.items():
            scraped = [("up", "", 1.0)] if src == "up" else exposition
            for name, labels, value in scraped:
                if name != src:
                    continue
                lab = {**parse_labels(labels), **own}
                kind = "gauge" if name.endswith("_bytes") else "const"
                v = value
                if kind == "gauge":
                    v = value - JITTER if fn == "min" else value + JITTER
                need = back.get(rec, 0)
                series.append((rec, lab, v, end - need - margin, step, "const"))
    out = os.path.join(work, "history")
    os.makedirs(out, exist_ok=True)
    start = min(s[3] for s in series)
    day0 = start - start % DAY
    total = 0
    for d in range(day0, end, DAY):
        path = os.path.join(work, "history.om")
        n = write_day(path, series, max(d, start), min(d + DAY, end))
        total += n
        subprocess.run(
            ["promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h",
             "--quiet", path, out],
            check=True,
        )
        os.remove(path)
    return out, total, {s[0] for s in series}


def write_day(path, series, lo, hi):
    """The samples of every series in [lo, hi), grouped by metric."""
    n = 0
    by_name = {}
    for s in series:
        by_name.setdefault(s[0], []).append(s)
    with open(path, "w") as f:
        for name, ss in sorted(by_name.items()):
            f.write(f"# TYPE {name} gauge\n")
            for _, labels, value, start, step, kind in ss:
                t0 = max(lo, start)
                t0 += (-t0) % step
                if t0 >= hi:
                    continue
                prefix = name + fmt_labels(labels) + " "
                if kind == "const":
                    v = repr(float(value))
                    lines = [f"{prefix}{v} {t}\n" for t in range(t0, hi, step)]
                else:
                    base = int(value) - JITTER
                    lines = [
                        f"{prefix}{base + (t // step * 2654435761) % (2 * JITTER)} {t}\n"
                        for t in range(t0, hi, step)
                    ]
                n += len(lines)
                f.write("".join(lines))
        f.write("# EOF\n")
    return n
