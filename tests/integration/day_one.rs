//! Day one: the shipped default rules (`rules/vigie-rules.yaml`), evaluated
//! by real Prometheus against `vigie serve` with its default collectors on
//! this machine's real /proc, /sys and mounts, fire nothing but the
//! Watchdog and what this machine really deserves, firing or pending.
//!
//! What is deserved is computed from facts read beside vigie (statvfs and
//! `/proc/self/mountinfo`, `/proc/stat`, `/proc/meminfo`, `/proc/vmstat`,
//! `/run/reboot-required`, and a DNS query of our own to each resolver vigie
//! probes), and printed with its reason. Nothing is allowed wholesale: an
//! alert outside that list is a false alert on a fresh install, and fails
//! the test with its labels. Mounts that other tests of this suite make
//! meanwhile (registered in `common`) are their fixtures and not judged.

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};

use crate::common::Vigie;
use crate::prometheus::Prometheus;

/// How long Prometheus evaluates the rules: long enough for the `for: 1m`
/// and `for: 2m` alerts to reach firing, short enough for a test run.
const OBSERVE: Duration = Duration::from_secs(160);

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const DAY: f64 = 86400.0;

/// An alert this machine deserves: its name, the labels that pick it out,
/// and why.
#[derive(Debug)]
struct Deserved {
    alert: &'static str,
    labels: Vec<(&'static str, String)>,
    reason: String,
}

impl Deserved {
    fn new(alert: &'static str, labels: &[(&'static str, &str)], reason: String) -> Deserved {
        Deserved {
            alert,
            labels: labels.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            reason,
        }
    }

    fn covers(&self, alert: &serde_json::Value) -> bool {
        alert["alertname"] == self.alert
            && self
                .labels
                .iter()
                .all(|(k, v)| alert[*k].as_str() == Some(v.as_str()))
    }
}

/// One line of `/proc/self/mountinfo`: mount point (unescaped), whether
/// the mount itself is read-only, whether the superblock is.
struct Mount {
    mountpoint: String,
    mount_ro: bool,
    super_ro: bool,
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && let Some(Ok(n)) = s.get(i + 1..i + 4).map(|o| u8::from_str_radix(o, 8))
        {
            out.push(n);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn mounts() -> Vec<Mount> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let f: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            let ro = |opts: &str| opts.split(',').any(|o| o == "ro");
            Some(Mount {
                mountpoint: unescape(f.get(4)?),
                mount_ro: ro(f.get(5)?),
                super_ro: ro(r.get(2)?),
            })
        })
        .collect()
}

fn proc_field(file: &str, key: &str) -> Option<f64> {
    std::fs::read_to_string(file).ok()?.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        (it.next()?.trim_end_matches(':') == key).then(|| it.next()?.parse().ok())?
    })
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Our own query to `resolver` for `name`/`rtype`, as vigie's probe asks
/// it: `Ok(seconds)` when it answers NOERROR with at least one record,
/// otherwise what went wrong.
fn probe(resolver: SocketAddr, name: &str, rtype: &str) -> Result<f64, String> {
    let rtype: RecordType = rtype.parse().map_err(|e| format!("type {rtype}: {e}"))?;
    let mut msg = Message::new();
    msg.set_id(0x7e57)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(
            Name::from_ascii(name).map_err(|e| e.to_string())?,
            rtype,
        ));
    let bind: SocketAddr = if resolver.is_ipv4() {
        "0.0.0.0:0".parse().unwrap()
    } else {
        "[::]:0".parse().unwrap()
    };
    let sock = UdpSocket::bind(bind).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let start = Instant::now();
    sock.send_to(&msg.to_vec().map_err(|e| e.to_string())?, resolver)
        .map_err(|e| format!("no answer: {e}"))?;
    let mut buf = [0u8; 4096];
    let (n, _) = sock
        .recv_from(&mut buf)
        .map_err(|e| format!("no answer within 3 s: {e}"))?;
    let took = start.elapsed().as_secs_f64();
    let answer = Message::from_vec(&buf[..n]).map_err(|e| format!("garbled answer: {e}"))?;
    match answer.response_code() {
        ResponseCode::NoError if answer.answer_count() > 0 => Ok(took),
        ResponseCode::NoError => Err("answers NOERROR with no record".into()),
        rc => Err(format!("answers {rc}")),
    }
}

/// Everything this machine deserves, from facts. `dns_probes` are the
/// (resolver, query, type) vigie probes; `swap_in_rate` the bytes per
/// second read back from swap during the run.
fn deserved(dns_probes: &[(String, String, String)], swap_in_rate: f64) -> Vec<Deserved> {
    let mut out = vec![Deserved::new(
        "VigieWatchdog",
        &[],
        "always firing: the dead-man's switch".into(),
    )];
    // Filesystems, with the shipped levels of rules/thresholds.yaml.
    for m in mounts() {
        let mp = m.mountpoint.as_str();
        let Ok(st) = nix::sys::statvfs::statvfs(Path::new(mp)) else {
            continue;
        };
        let frsize = st.fragment_size() as f64;
        let size = st.blocks() as f64 * frsize;
        let avail = st.blocks_available() as f64 * frsize;
        if size > 0.0 {
            let free = 100.0 * avail / size;
            for (sev, pct, floor) in [("warning", 15.0, 20.0 * GIB), ("critical", 5.0, 5.0 * GIB)] {
                if free < pct && avail < floor {
                    out.push(Deserved::new(
                        "VigieFilesystemAlmostFull",
                        &[("mountpoint", mp), ("severity", sev)],
                        format!(
                            "{free:.1}% free (< {pct}%) and {:.1} GiB (< {:.0} GiB)",
                            avail / GIB,
                            floor / GIB
                        ),
                    ));
                }
            }
            if avail == 0.0 {
                out.push(Deserved::new(
                    "VigieFilesystemFillingUp",
                    &[("mountpoint", mp)],
                    "0 bytes available: full now".into(),
                ));
            }
        }
        let files = st.files() as f64;
        if files > 0.0 {
            let free = 100.0 * st.files_available() as f64 / files;
            for (sev, pct) in [("warning", 10.0), ("critical", 3.0)] {
                if free < pct {
                    out.push(Deserved::new(
                        "VigieFilesystemInodesRunningOut",
                        &[("mountpoint", mp), ("severity", sev)],
                        format!("{free:.1}% inodes free (< {pct}%)"),
                    ));
                }
            }
        }
        // Read-only against its own mount options: the kernel (or someone)
        // turned the filesystem read-only while it was mounted writable. A
        // mount that says `ro` was mounted read-only by its owner.
        if m.super_ro && !m.mount_ro {
            out.push(Deserved::new(
                "VigieFilesystemReadOnly",
                &[("mountpoint", mp)],
                "superblock read-only under a read-write mount".into(),
            ));
        }
    }
    // Reboot.
    let btime = proc_field("/proc/stat", "btime").unwrap();
    let up_days = (now() - btime) / DAY;
    for (sev, days) in [("warning", 90.0), ("critical", 180.0)] {
        if up_days >= days {
            out.push(Deserved::new(
                "VigieRebootOverdue",
                &[("severity", sev)],
                format!("up {up_days:.0} days (>= {days})"),
            ));
        }
    }
    if let Ok(meta) = std::fs::metadata("/run/reboot-required") {
        let since = meta.modified().unwrap().duration_since(UNIX_EPOCH).unwrap();
        let days = (now() - since.as_secs_f64()) / DAY;
        for (sev, level) in [("warning", 7.0), ("critical", 30.0)] {
            if days >= level {
                out.push(Deserved::new(
                    "VigieRebootRequired",
                    &[("severity", sev)],
                    format!("/run/reboot-required is {days:.0} days old (>= {level})"),
                ));
            }
        }
    }
    // Swap.
    let total = proc_field("/proc/meminfo", "SwapTotal").unwrap_or(0.0);
    let free = proc_field("/proc/meminfo", "SwapFree").unwrap_or(0.0);
    if total > 0.0 {
        let used = 100.0 * (total - free) / total;
        for (sev, level) in [("warning", 80.0), ("critical", 95.0)] {
            if used >= level {
                out.push(Deserved::new(
                    "VigieSwapAlmostFull",
                    &[("severity", sev)],
                    format!("swap {used:.0}% used (>= {level}%)"),
                ));
            }
        }
    }
    for (sev, level) in [("warning", 1048576.0), ("critical", 10485760.0)] {
        if swap_in_rate >= level {
            out.push(Deserved::new(
                "VigieSwapping",
                &[("severity", sev)],
                format!("{swap_in_rate:.0} B/s swapped in during the run"),
            ));
        }
    }
    // DNS: our own query to each resolver vigie probes.
    let mut failing = 0;
    for (resolver, query, rtype) in dns_probes {
        let addr: SocketAddr = resolver.parse().unwrap();
        match probe(addr, query, rtype) {
            Ok(secs) if secs >= 0.5 => out.push(Deserved::new(
                "VigieDnsSlow",
                &[("resolver", resolver), ("severity", "warning")],
                format!("{query} {rtype} took {secs:.2} s from here"),
            )),
            Ok(_) => {}
            Err(why) => {
                failing += 1;
                out.push(Deserved::new(
                    "VigieDnsResolverFailing",
                    &[("resolver", resolver)],
                    format!("our own query {query} {rtype}: {why}"),
                ));
            }
        }
    }
    if failing > 0 && failing == dns_probes.len() {
        out.push(Deserved::new(
            "VigieDnsAllResolversFailing",
            &[],
            format!("none of the {failing} resolvers answers {dns_probes:?} from here"),
        ));
    }
    out
}

fn swap_in_bytes() -> f64 {
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096) as f64;
    proc_field("/proc/vmstat", "pswpin").unwrap_or(0.0) * page
}

/// A short description of an alert's labels, without the constant ones.
fn describe(labels: &serde_json::Value) -> String {
    labels
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !["__name__", "job", "instance"].contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn shipped_rules_fire_only_what_this_machine_deserves() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/vigie-rules.yaml");
    let v = Vigie::start(&[]);
    let swap_start = (swap_in_bytes(), Instant::now());
    let prom = Prometheus::start(&[v.addr], &[&rules]);
    prom.wait_for("up{job=\"vigie\"}", |r| r.len() == 1 && r[0].1 == 1.0);
    // The facts at the start too (a mount that is gone by the end still
    // counted while it was there).
    let at_start = deserved(&[], 0.0);

    // Every ALERTS series seen during the run, by its labels: the states
    // it was seen in.
    let mut seen: BTreeMap<String, (serde_json::Value, Vec<String>)> = BTreeMap::new();
    // When each series was last seen, in seconds from the start.
    let mut last_seen: BTreeMap<String, u64> = BTreeMap::new();
    let start = Instant::now();
    while start.elapsed() < OBSERVE {
        for (labels, _) in prom.query("ALERTS") {
            let state = labels["alertstate"].as_str().unwrap().to_string();
            let mut key = labels.clone();
            key.as_object_mut().unwrap().remove("alertstate");
            let entry = seen
                .entry(key.to_string())
                .or_insert_with(|| (key.clone(), Vec::new()));
            if !entry.1.iter().any(|s| s.starts_with(&state)) {
                entry
                    .1
                    .push(format!("{state} after {} s", start.elapsed().as_secs()));
            }
            last_seen.insert(key.to_string(), start.elapsed().as_secs());
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    let swap_in_rate =
        (swap_in_bytes() - swap_start.0) / swap_start.1.elapsed().as_secs_f64().max(1.0);

    // The DNS probes vigie made, as Prometheus has them.
    let dns_probes: Vec<(String, String, String)> = prom
        .query("vigie_dns_probe_success")
        .iter()
        .map(|(l, _)| {
            let s = |k: &str| l[k].as_str().unwrap_or_default().to_string();
            (s("resolver"), s("query"), s("type"))
        })
        .collect();
    let mut deserved = deserved(&dns_probes, swap_in_rate);
    for d in at_start {
        if !deserved
            .iter()
            .any(|e| e.alert == d.alert && e.labels == d.labels)
        {
            deserved.push(d);
        }
    }
    eprintln!("Deserved on this machine (computed from facts):");
    for d in &deserved {
        eprintln!("  {} {:?}: {}", d.alert, d.labels, d.reason);
    }

    let mut false_alerts = Vec::new();
    eprintln!("Seen in ALERTS during {} s:", OBSERVE.as_secs());
    for (key, (labels, states)) in &seen {
        // Prometheus evaluates its rules once before its first scrape of
        // vigie: `absent(up)` is then true for one evaluation. Deserved by
        // that fact only while it stays pending and is gone within 10 s.
        let at_start = labels["alertname"] == "VigieAbsent"
            && states.iter().all(|s| s.starts_with("pending"))
            && last_seen[key] <= 10;
        let at_start = at_start.then(|| {
            Deserved::new(
                "VigieAbsent",
                &[],
                format!(
                    "pending until {} s only: Prometheus evaluated the rules before its first scrape of vigie",
                    last_seen[key]
                ),
            )
        });
        // A mount another test of this suite made (a tmpfs it fills or
        // turns read-only) is that test's fixture, not this machine's
        // filesystem: its alerts are what that test checks.
        if let Some(mp) = labels["mountpoint"].as_str()
            && crate::common::is_fixture_mount(mp)
        {
            eprintln!(
                "  fixture:  {} on {mp}: another test's mount, not judged here",
                labels["alertname"].as_str().unwrap()
            );
            continue;
        }
        let why = deserved
            .iter()
            .find(|d| d.covers(labels))
            .or(at_start.as_ref());
        let line = format!(
            "{} ({}), {}",
            labels["alertname"].as_str().unwrap(),
            describe(labels),
            states.join(", ")
        );
        match why {
            Some(d) => eprintln!("  deserved: {line}: {}", d.reason),
            None => {
                eprintln!("  FALSE:    {line}");
                false_alerts.push(line);
            }
        }
    }
    // The pipeline works: the Watchdog fires.
    assert!(
        seen.values()
            .any(|(l, s)| l["alertname"] == "VigieWatchdog"
                && s.iter().any(|s| s.starts_with("firing"))),
        "the Watchdog never fired: {seen:?}"
    );
    assert!(
        false_alerts.is_empty(),
        "alerts this machine does not deserve on day one:\n  {}",
        false_alerts.join("\n  ")
    );
}
